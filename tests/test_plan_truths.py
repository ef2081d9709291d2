"""Small truths of the offline plan's output (issue 24, item 9): whole numbers in the JSON, the header with
--verbose, the Spot price note only with Spot, and a missing aws:region said out loud."""
from __future__ import annotations

import json
import textwrap
import pytest

from catalog.cost import region_note
from ops.__main__ import main


def floats_that_are_whole(value, path="$") -> list[str]:
    if isinstance(value, float) and value.is_integer():
        return [f"{path} = {value!r}"]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in floats_that_are_whole(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in floats_that_are_whole(item, f"{path}[{i}]")]
    return []


@pytest.fixture(scope="module")
def dev_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan-json")
    assert main(["plan", "--stack", "dev", "--verbose", "--json", str(folder / "plan.json"),
                 "--out", str(folder / "out")]) == 0
    return json.loads((folder / "plan.json").read_text())


def test_json_writes_whole_numbers_as_integers(dev_report):
    posts = next(api for api in dev_report["apis"] if api["name"] == "posts")
    assert posts["port"] == 8080 and isinstance(posts["port"], int)
    assert isinstance(posts["tasks"], int)
    assert floats_that_are_whole(dev_report) == []


def test_the_verbose_header_does_not_point_at_verbose(capsys, tmp_path):
    assert main(["plan", "--stack", "dev", "--verbose", "--out", str(tmp_path)]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Stack 'dev'"))
    assert "--verbose" not in header and "listed under Resources below" in header
    assert main(["plan", "--stack", "dev", "--out", str(tmp_path)]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Stack 'dev'"))
    assert header.endswith("(--verbose lists them).")


def test_the_spot_price_note_shows_only_on_a_stack_with_spot(capsys, tmp_path):
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path)]) == 0       # prod: fargateSpot false
    prod_notes = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("note:")]
    assert prod_notes and not [line for line in prod_notes if "Spot" in line]
    assert main(["plan", "--stack", "dev", "--out", str(tmp_path)]) == 0        # dev: Spot
    assert [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("note:") and "Spot" in line]


def test_region_note_drops_only_the_spot_clauses():
    assert region_note("Ohio: same prices as us-east-1; Spot estimated (on-demand less 70 %).", spot=False) == \
        "Ohio: same prices as us-east-1."
    assert region_note("N. Virginia. The X86_64 Spot figures are old (Spot prices move).", spot=False) == "N. Virginia."
    assert region_note("Ohio: x; Spot estimated.", spot=True) == "Ohio: x; Spot estimated."


def test_a_stack_without_aws_region_is_planned_saying_which_region_it_assumed(tmp_path, capsys):
    app = tmp_path / "project" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\nCOPY server /server\nCMD [\"/server\"]\n")
    (tmp_path / "project" / "stacks").mkdir()
    (tmp_path / "project" / "stacks" / "Pulumi.dev.yaml").write_text(textwrap.dedent(f"""\
        config:
          serverless-containers:fargateSpot: true
          serverless-containers:apis:
            web:
              source: {app}
        """))
    report = tmp_path / "plan.json"
    assert main(["plan", "--stack", "dev", "--project-dir", str(tmp_path / "project"), "--json", str(report),
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Stack 'dev' in us-east-1, assumed: the stack sets no aws:region" in out
    assert "Pulumi.dev.yaml sets no aws:region, so this plan assumed us-east-1" in out
    assert "AWS_REGION" in out and "pulumi config set aws:region us-east-1 --stack dev" in out
    assert json.loads(report.read_text())["regionAssumed"] is True


def test_a_stack_with_aws_region_gets_no_such_warning(dev_report):
    assert dev_report["regionAssumed"] is False
    assert not [w for w in dev_report["warnings"] if "aws:region" in w]
