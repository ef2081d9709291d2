"""`python -m ops plan`: the offline plan of the sample stacks, a stack that breaks a cost ceiling, and bad input.

Each test runs the program under Pulumi's mock runtime, so there are few of them.
"""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from components import wake_time
from ops.plan import report as offline_plan
from ops.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


def test_dev_plan_prints_everything_writes_json_and_the_picture(tmp_path, capsys):
    report_file, out = tmp_path / "plan.json", tmp_path / "picture"
    assert main(["plan", "--stack", "dev", "--json", str(report_file), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "OFFLINE PLAN of stack 'dev'" in printed and "NOT a Pulumi preview: no cloud was contacted" in printed
    # The default view: one screen, per-API summary, warnings, policies folded, the cost table.
    assert len(printed.splitlines()) <= 45, printed
    assert "posts-service" not in printed and "[serverless-containers:service:Service]" not in printed
    assert "APIs (2):" in printed
    assert "  posts  REST  https://<api-id>.execute-api.us-east-1.amazonaws.com  sign-in required (Cognito JWT)" \
        in printed
    assert "1 task x 0.25 vCPU / 0.5 GB, X86_64 Spot: posts (entrypoint :8080)" in printed
    assert "build: managed; tables: posts (create, read, update, delete)" in printed
    assert "X86_64 Spot: express (entrypoint :8080), python" in printed
    assert "build: managed; tables: none; secrets: API_TOKEN" in printed
    assert "secrets API_TOKEN reach the container as environment variables" in printed      # a compose warning
    assert "API multi: apps/multi/docker-compose.yml, service 'express'" in printed          # relative path
    # 14 cost + 16 security + 1 volume rule + the live-credential rule; the dev stack deploys the sample secret
    assert "Policies (policies/config/dev.json): 31 of 32 pass:" in printed
    assert "advisory no-sample-secrets: multi-secrets-API_TOKEN: holds the value of the committed sample" in printed
    assert "fargate-spot                 mandatory pass" not in printed
    assert "TOTAL" in printed and "$    1.45 a month" in printed       # both APIs sleep when idle (issue 15)
    assert "awake (every API at its desired count, 730 h): $14.58 a month" in printed
    # issue 22: the computed wake time (components/wake_time.py), not the alarm path's minutes
    assert (f"count: sleeps after 30 idle min; the first request wakes it in about {wake_time.wake_seconds()[1]} s "
            "(503s until then: clients retry)") in printed
    assert "Lambda wakers (sleeping APIs)" in printed and "2 function" in printed
    assert "not included: 9 usage-priced items" in printed and "CloudWatch Logs ingestion" not in printed
    assert "plan ok" in printed

    report = json.loads(report_file.read_text())
    assert report["offline"] is True
    resources = {(r["type"], r["name"]): r for r in report["resources"]}
    assert resources[("aws:ecs/service:Service", "multi-service")]["parent"] == "multi"
    assert resources[("serverless-containers:network:Network", "network")]["parent"] == ""
    assert not any(r["type"] == "aws:ec2/natGateway:NatGateway" for r in report["resources"])
    assert any("API_TOKEN" in w for w in report["warnings"])
    assert [p["name"] for p in report["policies"]] == ["no-sample-secrets"]     # the committed sample secret
    assert report["cost"]["monthlyUsd"] == 1.45 and report["costAwake"]["monthlyUsd"] == 14.58
    assert all("monthlyUsd" in i and "unitUsd" in i for i in report["cost"]["items"])
    assert not [key for key in _keys(report) if "_" in key], "the JSON plan uses camelCase keys only"
    posts = next(api for api in report["apis"] if api["name"] == "posts")
    scaling = posts.pop("scaling")
    assert (scaling["managedBy"], scaling["min"], scaling["sleepAfterIdleMinutes"]) == ("sleep", 0, 30)
    assert posts == {"name": "posts", "type": "rest", "urlShape": "https://<api-id>.execute-api.us-east-1.amazonaws.com",
                     "auth": True, "build": "managed", "tasks": 1, "cpuUnits": 256, "memoryMib": 512,
                     "architecture": "X86_64", "spot": True, "containers": ["posts"], "entrypoint": "posts",
                     "port": 8080, "secrets": [], "tables": {"posts": ["create", "read", "update", "delete"]}}
    assert {i["name"] for i in report["costAwake"]["items"]} >= {"Fargate vCPU (X86_64 Spot)", "Public IPv4 addresses",
                                                                 "Route 53 hosted zones", "Secrets Manager secrets"}
    assert {i["name"] for i in report["cost"]["items"]} == {  # asleep: what a sleeping stack still pays for
        "CloudWatch alarms", "Route 53 hosted zones", "Secrets Manager secrets", "ECR image storage",
        "CodePipeline V2 pipelines", "DynamoDB on-demand tables", "API Gateway HTTP APIs and VPC links",
        "Lambda wakers (sleeping APIs)"}       # issue 22: listed at $0, billed per request

    dot = (out / "architecture-dev.dot").read_text()
    assert "client -> api_posts" in dot and "api_posts -> link_posts" in dot and "link_posts -> map_posts" in dot
    assert "map_multi -> c_multi_express" in dot and "entrypoint :8080" in dot
    assert "Fargate task x 1 (ECS service posts, X86_64 Spot)" in dot
    assert "container python" in dot and "c_multi_python" not in dot.split("map_multi ->")[1].split("\n")[0]
    assert "source_posts -> build_posts" in dot and "build_multi -> ecr_multi_images_python" in dot
    assert "DynamoDB table" in dot and "c_posts_posts -> table_serverless_containers_dev_posts" in dot
    assert "secret_multi_secrets_API_TOKEN -> c_multi_express" in dot
    if shutil.which("dot"):
        assert (out / "architecture-dev.svg").read_text().lstrip().startswith("<?xml")
        assert (out / "architecture-dev.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        crossings = edges_across_titles((out / "architecture-dev.svg").read_text(), "verifies tokens", "API ")
        assert crossings == [], f"the sign-in edges cross API titles: {crossings}"


SVG = "{http://www.w3.org/2000/svg}"


def _bezier_points(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """Points along an SVG path of Graphviz's shape ``M x,y C x1,y1 x2,y2 x3,y3 ...`` (cubic Beziers)."""
    import re

    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    points = list(zip(numbers[0::2], numbers[1::2]))
    found = [points[0]]
    for i in range(1, len(points) - 2, 3):
        p0, p1, p2, p3 = points[i - 1], points[i], points[i + 1], points[i + 2]
        for step in range(1, steps + 1):
            t = step / steps
            found.append(tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * e
                               for a, b, c, e in zip(p0, p1, p2, p3)))
    return found


def edges_across_titles(svg: str, edge_label: str, title_prefix: str) -> list[str]:
    """Edges labelled ``edge_label`` whose line passes through a cluster title starting with ``title_prefix``."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(svg)
    titles = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "cluster":
            continue
        for text in group.iter(f"{SVG}text"):
            if (text.text or "").startswith(title_prefix):
                size, x, y = float(text.get("font-size")), float(text.get("x")), float(text.get("y"))
                half = len(text.text) * size * 0.3          # Helvetica averages about 0.6 em a character
                titles.append((text.text, x - half, x + half, y - size, y + 0.3 * size))
    assert titles, "no cluster title found: has the SVG layout changed?"
    found = []
    for group in root.iter(f"{SVG}g"):
        labels = [t.text for t in group.iter(f"{SVG}text")]
        if group.get("class") != "edge" or edge_label not in labels:
            continue
        points = [p for path in group.iter(f"{SVG}path") for p in _bezier_points(path.get("d"))]
        assert points
        for title, left, right, top, bottom in titles:
            if any(left <= px <= right and top <= py <= bottom for px, py in points):
                found.append(f"{group.findtext(f'{SVG}title')} crosses {title!r}")
    return found


def test_the_crossing_check_sees_a_crossing():
    """The check above can fail: an edge drawn straight through a title is caught."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g class="cluster"><title>cluster_a</title>'
           '<text x="100" y="-50" font-size="14">API posts</text></g>'
           '<g class="edge"><title>a-&gt;b</title><path d="M0,-55C50,-55 150,-55 200,-55"/>'
           '<text>verifies tokens</text></g></svg>')
    assert edges_across_titles(svg, "verifies tokens", "API ") == ["a->b crosses 'API posts'"]
    assert edges_across_titles(svg.replace("-55", "-200"), "verifies tokens", "API ") == []


def _keys(value) -> list[str]:
    """Every key of a JSON document, except those of free-form maps named by the user (API, table, policy)."""
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in [k, *(_keys(v) if k not in ("policyConfig", "tables") else [])]]
    if isinstance(value, list):
        return [k for item in value for k in _keys(item)]
    return []


def test_prod_plan_passes_its_own_policy_file_and_verbose_lists_everything(tmp_path, capsys):
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path), "--verbose"]) == 0
    printed = capsys.readouterr().out
    assert "policies/config/prod.json" in printed
    assert "api-auth                     mandatory pass" in printed                  # the full policy table
    assert "Fargate vCPU (ARM64 on-demand)" in printed and "Spot)" not in printed
    assert "  posts  [serverless-containers:service:Service]" in printed             # the resource list
    assert "    - aws:ecs/service:Service  posts-service" in printed
    assert "not included (usage-priced):" in printed and "CloudWatch Logs ingestion" in printed
    assert "ARM64 on-demand: posts (entrypoint :8080)" in printed


def write_project(root: Path, compose: str) -> Path:
    """A project folder of its own: a stack file whose one API points (absolutely) at a compose app."""
    app = root / "app"
    app.mkdir(parents=True)
    (app / "docker-compose.yml").write_text(textwrap.dedent(compose))
    (app / "Dockerfile").write_text("FROM scratch\nCOPY server /server\nCMD [\"/server\"]\n")
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text(textwrap.dedent(f"""\
        config:
          aws:region: us-east-1
          serverless-containers:fargateSpot: true
          serverless-containers:apis:
            big:
              source: {app}
        """))
    return root


def test_fifty_replicas_fail_the_plan_naming_the_policy_and_the_resource(tmp_path, capsys):
    project = write_project(tmp_path / "project", """\
        services:
          web:
            build: .
            ports: ["8080:8080"]
            deploy:
              replicas: 50
        """)
    report_file = tmp_path / "plan.json"
    code = main(["plan", "--stack", "dev", "--project-dir", str(project), "--json", str(report_file),
                 "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "plan failed" in captured.err
    assert "max-replicas: big-service: runs up to 50 tasks (desiredCount); the limit is 4" in captured.err
    assert "Traceback" not in captured.err + captured.out
    findings = json.loads(report_file.read_text())["policies"]
    assert {"name": "max-replicas", "level": "mandatory", "resource": "big-service"} == \
        {k: v for k, v in findings[0].items() if k != "message"}
    # 50 Spot tasks are over the dev budget too, and the cost report says so.
    assert any(f["name"] == "monthly-idle-budget" for f in findings)


def test_a_compose_error_is_one_line_and_exit_2(tmp_path, capsys):
    project = write_project(tmp_path / "project", """\
        services:
          web:
            build: .
            ports: ["8080:8080"]
            deploy:
              replicas: 0
        """)
    code = main(["plan", "--stack", "dev", "--project-dir", str(project), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("error: ") and "key 'deploy.replicas'" in captured.err and "Fix:" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "out").exists()


def test_the_plan_survives_a_partial_program_and_counts_nat_gateways(tmp_path, monkeypatch, capsys):
    import pulumi_aws as aws

    def partial_program():   # a program halfway written: a network with a NAT gateway and nothing else
        aws.ec2.NatGateway("network-nat", subnet_id="subnet-1", allocation_id="eipalloc-1")

    monkeypatch.setattr(offline_plan, "_program", lambda: partial_program)
    code = main(["plan", "--stack", "dev", "--out", str(tmp_path), "--json", str(tmp_path / "plan.json")])
    captured = capsys.readouterr()
    assert code == 1
    assert "max-nat-gateways: network-nat: the stack has 1 NAT gateway; the limit is 0" in captured.err
    items = {i["name"]: i for i in json.loads((tmp_path / "plan.json").read_text())["cost"]["items"]}
    assert items["NAT gateways"]["monthlyUsd"] == pytest.approx(730 * 0.045, abs=0.01)


def test_a_program_crash_is_reported_without_a_traceback(tmp_path, monkeypatch, capsys):
    def broken_program():
        raise KeyError("apis")

    monkeypatch.setattr(offline_plan, "_program", lambda: broken_program)
    assert main(["plan", "--stack", "dev", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "the program failed under the mock runtime: KeyError" in err and "Traceback" not in err


def test_prod_picture_draws_the_pipeline_in_its_real_order(tmp_path):
    """Build project (not the Promote one) -> ECR -> manual approval -> ECS deploy -> Promote, per API."""
    plan = offline_plan.make_plan("prod", out_dir=tmp_path)
    dot = next(path for path in plan.pictures if path.suffix == ".dot").read_text()
    for api in ("posts", "multi"):
        assert f'build_{api} [label="CodeBuild\nserverless-containers-prod-{api}"]' in dot
        assert f"serverless-containers-prod-{api}-promote" in dot.split(f"promote_{api} [label=", 1)[1].split("]", 1)[0]
        assert f"approval_{api} -> deploy_{api}" in dot
        assert f"deploy_{api} -> promote_{api}" in dot
