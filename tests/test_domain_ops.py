"""Custom domains (issue 16) in the tools: the stack outputs as the operator CLI reads them, `ops client-config`,
`ops status`, the offline plan's DNS section and its picture."""
from __future__ import annotations

import json

import pytest
import yaml

from ops.cloud.status import domain_lines
from ops.plan import mockrun
from ops.plan import report as offline_plan
from ops.stack import amplify_config
from ops.stack.outputs import parse
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")

ZONE_ID = "Z0123456789EXAMPLE"


@pytest.fixture(autouse=True)
def no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    write_dockerfile_app(root, "web")
    write_dockerfile_app(root, "graph")
    return root


def _apis(apps) -> dict:
    return {
        "web": {"source": str(apps / "web"), "auth": True, "domain": {"name": "api.example.com"}},
        "graph": {"source": str(apps / "graph"), "type": "graphql", "auth": False, "disableDefaultEndpoint": True,
                  "domain": {"name": "graph.example.org", "hostedZoneId": ZONE_ID}},
        "plain": {"source": str(apps / "web"), "auth": False},
    }


@pytest.fixture(scope="module")
def result(apps):
    return mockrun.run(program.main, config={"apis": _apis(apps)})


def test_outputs_parse_with_the_custom_url_and_the_records(result):
    outputs = parse("dev", json.loads(json.dumps(result.outputs)))
    web, graph, plain = outputs.api("web"), outputs.api("graph"), outputs.api("plain")
    assert web.url == "https://api.example.com" and web.domain_name == "api.example.com"
    assert ".execute-api." in web.default_url
    assert [(r.type, r.name) for r in web.dns_records][1] == ("CNAME", "api.example.com")
    assert web.dns_records[0].purpose == "certificate validation" and web.dns_records[0].name.startswith("_")
    assert graph.url == "https://graph.example.org/graphql" and graph.default_url == "" and graph.dns_records == ()
    assert plain.domain_name == "" and ".execute-api." in plain.url


def test_client_config_uses_the_custom_url(result):
    outputs = parse("dev", json.loads(json.dumps(result.outputs)))
    apis = {a.name: a for a in amplify_config.client_apis(outputs, {"web": True, "graph": False, "plain": False})}
    assert apis["web"].endpoint == "https://api.example.com"
    assert apis["graph"].endpoint == "https://graph.example.org/graphql"
    exports, _notes = amplify_config.aws_exports(outputs, list(apis.values()))
    text = json.dumps(exports) + json.dumps(amplify_config.amplify_configuration(outputs, list(apis.values())))
    assert "https://api.example.com" in text and "https://graph.example.org/graphql" in text
    assert ".execute-api." in text        # only the API without a domain keeps its execute-api URL
    assert text.count(".execute-api.") == text.count(apis["plain"].endpoint)


def test_status_prints_the_records_to_add(result):
    outputs = parse("dev", json.loads(json.dumps(result.outputs)))
    web = domain_lines(outputs.api("web"))
    record = outputs.api("web").dns_records[0]
    assert web[0].startswith("custom domain api.example.com; execute-api address: https://")
    assert "DNS records to add at your DNS provider" in web[1]
    assert f"CNAME {record.name}  ->  {record.value}   (certificate validation)" in web[2]
    assert "CNAME api.example.com  ->  d-" in web[3]
    assert domain_lines(outputs.api("graph")) == [
        "custom domain graph.example.org; execute-api address: turned off"]
    assert domain_lines(outputs.api("plain")) == []


def test_plan_shows_the_dns_records_and_the_picture_the_domain(apps, tmp_path):
    (tmp_path / "stacks").mkdir()
    document = {"config": {"aws:region": "eu-west-1",
                           **{f"serverless-containers:{k}": v for k, v in {"apis": _apis(apps)}.items()}}}
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    plan = offline_plan.make_plan("dev", project_dir=tmp_path, out_dir=tmp_path / "picture")
    text = "\n".join(offline_plan.report_lines(plan))
    assert "Custom domains (DNS):" in text
    assert "API web: https://api.example.com" in text and "execute-api address kept" in text
    assert "CNAME _<ACM token>.api.example.com.  ->  _<ACM token>.acm-validations.aws.   (certificate validation)" \
        in text
    assert "CNAME api.example.com  ->  d-<id>.execute-api.eu-west-1.amazonaws.com   (custom domain -> API Gateway)" \
        in text
    assert f"API graph: https://graph.example.org/graphql" in text and f"zone {ZONE_ID} in this account" in text
    assert "execute-api address turned off" in text and "API plain" not in text.split("Custom domains")[1]
    assert plan.as_json()["domains"]["web"]["name"] == "api.example.com"
    dot = (tmp_path / "picture" / "architecture-dev.dot").read_text()
    assert "client -> domain_web" in dot and "domain_web -> api_web" in dot and "https://api.example.com" in dot
    assert "client -> api_plain" in dot and "execute-api address off" in dot


def test_after_a_deploy_the_cli_prints_the_records_to_add(result):
    from ops.cli_args import endpoint_lines

    outputs = parse("dev", json.loads(json.dumps(result.outputs)))
    lines = endpoint_lines(outputs)
    web = outputs.api("web")
    assert "API web (rest): https://api.example.com" in lines
    assert f"  add at your DNS provider: CNAME {web.dns_records[1].name} -> {web.dns_records[1].value}" in lines
    assert not any("graph.example.org ->" in line for line in lines)


def test_cors_and_the_jwt_authorizer_are_unchanged_by_a_domain(result, apps):
    plain = mockrun.run(program.main, config={"apis": {"web": {"source": str(apps / "web"), "auth": True}}})
    for run in (result, plain):
        api = next(r for r in run.of_type("aws:apigatewayv2/api:Api") if r.inputs["tags"]["api"] == "web")
        assert api.inputs["corsConfiguration"]["allowOrigins"] == ["*"]
        authorizer = next(r for r in run.of_type("aws:apigatewayv2/authorizer:Authorizer")
                          if r.inputs["apiId"] == api.id)
        assert authorizer.inputs["authorizerType"] == "JWT"
        routes = {r.inputs["routeKey"]: r.inputs["authorizationType"] for r in run.of_type("aws:apigatewayv2/route:Route")
                  if r.inputs["apiId"] == api.id}
        assert routes and set(routes.values()) == {"JWT"} and "$default" not in routes   # issue 14: no open route
