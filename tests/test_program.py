"""components/program.py end to end under the mock runtime: stack config + app folders -> resource
graph and stack outputs (docs/design.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from components.errors import ConfigError
from ops.plan import mockrun
from ops.project import PROJECT_DIR
from tests.infra_helpers import SECRET_VALUE, all_strings, policy, write_compose_app, write_dockerfile_app

program = pytest.importorskip("components.program", reason="needs components/compose/loader.py and components/registry.py")
main = program.main

TABLES = {"posts": {"partitionKey": {"name": "id", "type": "N"}}}


def run(config: dict, stack: str = "dev", **kwargs):
    return mockrun.run(main, config=config, stack=stack, **kwargs)


def containers_of(result, family_suffix: str) -> dict[str, dict]:
    task = next(t for t in result.of_type("aws:ecs/taskDefinition:TaskDefinition")
                if t.inputs["family"].endswith(family_suffix))
    return {d["name"]: d for d in json.loads(task.inputs["containerDefinitions"])}


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apps")
    write_dockerfile_app(root, "web")
    write_compose_app(root, "multi")
    return root


@pytest.fixture(scope="module")
def web_only(apps):
    return run({"apis": {"web": {"source": str(apps / "web"), "auth": False}}})


@pytest.fixture(scope="module")
def multi(apps):
    return run({"storage": TABLES, "apis": {"multi": {
        "source": str(apps / "multi"), "entrypoint": "express", "auth": True,
        "access": {"storage": {"posts": ["create", "read", "update", "delete"]}}}}})


def test_dockerfile_only_app(web_only):
    definitions = containers_of(web_only, "-web")
    assert list(definitions) == ["web"]
    web = definitions["web"]
    assert web["portMappings"][0]["containerPort"] == 8080 and web["essential"] is True
    assert web["environment"] == [] and web["secrets"] == []
    repositories = web_only.outputs["apis"]["web"]["repositories"]
    assert set(repositories) == {"web"} and repositories["web"].endswith("/serverless-containers-dev-web-web")
    assert web["image"].startswith(repositories["web"])
    # auth off everywhere: no user pool at all, empty ids in the outputs
    assert web_only.of_type("aws:cognito/userPool:UserPool") == []
    assert web_only.of_type("aws:apigatewayv2/authorizer:Authorizer") == []
    route, = web_only.of_type("aws:apigatewayv2/route:Route")
    assert route.inputs["authorizationType"] == "NONE"
    assert (web_only.outputs["userPoolId"], web_only.outputs["userPoolClientId"]) == ("", "")
    assert web_only.of_type("aws:secretsmanager/secret:Secret") == []
    assert web_only.of_type("aws:dynamodb/table:Table") == []


def test_first_deploy_runs_no_task_until_an_image_exists(apps):
    config = {"apis": {"multi": {"source": str(apps / "multi"), "auth": False}}}
    first = run(config, latest_image_tag="")
    assert first.one("aws:ecs/service:Service").inputs["desiredCount"] == 0
    steady = run(config, latest_image_tag="f00d123")
    assert steady.one("aws:ecs/service:Service").inputs["desiredCount"] == 1
    images = {name: d["image"] for name, d in containers_of(steady, "-multi").items()}
    repositories = steady.outputs["apis"]["multi"]["repositories"]
    # every built container runs the build ECS last deployed: the moving tag `deployed` (docs/design.md)
    assert images == {name: f"{repositories[name]}:deployed" for name in ("express", "python")}
    # a pipeline release moves `deployed` to another build: the task definition stays the same (no restart)
    released = run(config, latest_image_tag="ba5eba1")
    assert containers_of(released, "-multi") == containers_of(steady, "-multi")


def test_image_containers_run_their_image(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "docker-compose.yml").write_text(
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    ports: [\"8080:8080\"]\n"
        "  cache:\n"
        "    image: public.ecr.aws/docker/library/redis:7\n")
    result = run({"apis": {"mixed": {"source": str(folder), "auth": False}}})
    definitions = containers_of(result, "-mixed")
    assert definitions["cache"]["image"] == "public.ecr.aws/docker/library/redis:7"
    assert set(result.outputs["apis"]["mixed"]["repositories"]) == {"web"}
    execution = next(policy(p) for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "mixed-execution")
    pull = next(s for s in execution["Statement"] if s["Sid"] == "PullOwnImages")
    assert pull["Resource"] == [result.one("aws:ecr/repository:Repository").outputs["arn"]]


def test_stack_outputs_follow_the_contract(web_only):
    outputs = web_only.outputs
    assert set(outputs) == {"apis", "userPoolId", "userPoolClientId", "region"}
    assert outputs["region"] == "us-east-1"
    web = outputs["apis"]["web"]
    assert set(web) == {"url", "type", "auth", "cluster", "service", "containers", "entrypoint", "replicas", "logGroups",
                        "repositories", "pipelineName", "pipelineUrl", "build", "scaling"}
    api = web_only.one("aws:apigatewayv2/api:Api")
    assert web["url"] == api.outputs["apiEndpoint"] and web["type"] == "rest" and web["auth"] is False
    assert (web["cluster"], web["service"]) == ("serverless-containers-dev", "web")
    assert web["containers"] == ["web"] and web["entrypoint"] == "web" and web["replicas"] == 1
    assert web["logGroups"] == {"web": "/serverless-containers/dev/web/web"}
    assert web["build"] == "managed"


def test_two_container_app_with_secret_storage_and_auth(multi):
    definitions = containers_of(multi, "-multi")
    assert set(definitions) == {"express", "python"}
    express, python = definitions["express"], definitions["python"]
    table = multi.one("aws:dynamodb/table:Table")
    for definition in (express, python):
        env = {e["name"]: e["value"] for e in definition["environment"]}
        assert env["STORAGE_POSTS_NAME"] == "serverless-containers-dev-posts"
        assert env["STORAGE_POSTS_ARN"] == table.outputs["arn"] and env["REGION"] == "us-east-1"
    secret = multi.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["name"] == "serverless-containers/dev/multi/API_TOKEN"
    assert express["secrets"] == [{"name": "API_TOKEN", "valueFrom": secret.outputs["arn"]}]
    assert python["secrets"] == []
    assert express["dependsOn"] == [{"containerName": "python", "condition": "HEALTHY"}]
    assert express["healthCheck"]["interval"] == 10 and python["healthCheck"]["timeout"] == 5

    roles = {r.name: r for r in multi.of_type("aws:iam/role:Role") if r.parent_name == "multi"}
    policies = {p.name: policy(p) for p in multi.of_type("aws:iam/rolePolicy:RolePolicy") if p.parent_name == "multi"}
    storage_statement, = policies["multi-storage"]["Statement"]
    assert storage_statement["Resource"] == [table.outputs["arn"], f"{table.outputs['arn']}/index/*"]
    assert all(action.startswith("dynamodb:") and "*" not in action for action in storage_statement["Action"])
    execution = {s["Sid"]: s for s in policies["multi-execution"]["Statement"]}
    assert execution["ReadOwnSecrets"]["Resource"] == [secret.outputs["arn"]]
    own_repositories = {r.outputs["arn"] for r in multi.of_type("aws:ecr/repository:Repository")}
    assert set(execution.get("PullOwnImages", {}).get("Resource", [])) <= own_repositories
    assert len(roles) == 2

    service = multi.one("aws:ecs/service:Service").inputs
    assert service["serviceRegistries"]["containerName"] == "express"
    assert service["serviceRegistries"]["containerPort"] == 8080
    discovery = multi.one("aws:servicediscovery/service:Service")
    assert discovery.inputs["dnsConfig"]["dnsRecords"] == [{"type": "SRV", "ttl": 10}]
    ingress, = multi.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (8080, 8080)
    task_group = multi.one("aws:ec2/securityGroup:SecurityGroup", "multi-firewall-task")
    assert service["networkConfiguration"]["securityGroups"] == [task_group.id]

    authorizer = multi.one("aws:apigatewayv2/authorizer:Authorizer").inputs
    pool = multi.one("aws:cognito/userPool:UserPool")
    assert authorizer["jwtConfiguration"]["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool.id}"
    assert multi.outputs["userPoolId"] == pool.id
    assert multi.outputs["userPoolClientId"] == multi.one("aws:cognito/userPoolClient:UserPoolClient").id


def test_secret_value_is_in_no_plaintext_input(multi):
    leaks = []
    for resource in multi.resources:
        for path, value in _paths(resource.inputs, ""):
            if any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in resource.secret_paths):
                continue
            if any(SECRET_VALUE in text for text in all_strings(value)):
                leaks.append(f"{resource.type} {resource.name} {path}")
    assert leaks == []
    assert not any(SECRET_VALUE in message for _, message in multi.logs)
    assert SECRET_VALUE not in json.dumps(multi.outputs)
    version = multi.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert "secretString" in version.secret_paths


def _paths(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.mark.parametrize("high_availability, zones", [(False, 1), (True, 3)])
def test_high_availability(apps, high_availability, zones):
    result = run({"highAvailability": high_availability, "apis": {"web": {"source": str(apps / "web")}}})
    subnets = result.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == zones and len({s.inputs["availabilityZone"] for s in subnets}) == zones
    assert result.of_type("aws:ec2/natGateway:NatGateway") == []
    service = result.one("aws:ecs/service:Service").inputs
    assert sorted(service["networkConfiguration"]["subnets"]) == sorted(s.id for s in subnets)
    link = result.one("aws:apigatewayv2/vpcLink:VpcLink").inputs
    assert sorted(link["subnetIds"]) == sorted(s.id for s in subnets)


def test_graphql_outputs(apps):
    result = run({"apis": {"web": {"source": str(apps / "web"), "type": "graphql", "auth": False}}})
    web = result.outputs["apis"]["web"]
    assert web["type"] == "graphql" and web["auth"] is False
    assert web["url"] == result.one("aws:apigatewayv2/api:Api").outputs["apiEndpoint"] + "/graphql"


def test_existing_vpc(apps):
    result = run({"existingVpc": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a", "subnet-0b"]},
                  "apis": {"web": {"source": str(apps / "web")}}})
    for token in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
                  "aws:ec2/natGateway:NatGateway"):
        assert result.of_type(token) == []
    assert result.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace").inputs["vpc"] == "vpc-0abc"
    assert result.one("aws:ecs/service:Service").inputs["networkConfiguration"]["subnets"] == ["subnet-0a", "subnet-0b"]
    assert all(g.inputs["vpcId"] == "vpc-0abc" for g in result.of_type("aws:ec2/securityGroup:SecurityGroup"))


def test_spot_architecture_and_retention_reach_the_resources(apps):
    result = run({"fargateSpot": "true", "cpuArchitecture": "X86_64", "logRetentionDays": "30",
                  "apis": {"web": {"source": str(apps / "web")}}})   # simple values arrive as text from Pulumi
    service = result.one("aws:ecs/service:Service").inputs
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    task = result.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    assert result.one("aws:cloudwatch/logGroup:LogGroup", "web-web").inputs["retentionInDays"] == 30


def test_load_and_translation_warnings_are_logged(tmp_path):
    folder = tmp_path / "warn"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "docker-compose.yml").write_text(
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    ports: [\"8080:8080\"]\n"
        "    volumes: [\"./data:/data\"]\n"
        "    healthcheck: {test: [CMD, /health], interval: 1s}\n")
    result = run({"apis": {"warn": {"source": str(folder), "auth": False}}})
    warnings = [w for w in result.warnings if w.startswith("API warn:")]
    assert any("volumes" in w for w in warnings), result.warnings
    assert any("healthcheck.interval" in w and "5 s" in w for w in warnings), result.warnings
    health = containers_of(result, "-warn")["web"]["healthCheck"]
    assert health["interval"] == 5


def test_every_resource_is_tagged_with_stack_and_api(multi):
    mine = {"Network", "ApiSecurityGroups", "Cluster", "Service", "Api", "Auth", "Storage", "Secrets"}
    checked = []
    for resource in multi.resources:
        tags = resource.inputs.get("tags")
        if tags is None or resource.parent_type.rsplit(":", 1)[-1] not in mine:
            continue
        checked.append(resource.type)
        assert tags.get("project") == "serverless-containers" and tags.get("stack") == "dev", resource.name
    assert {"aws:ec2/vpc:Vpc", "aws:ecs/service:Service", "aws:dynamodb/table:Table",
            "aws:apigatewayv2/api:Api", "aws:secretsmanager/secret:Secret"} <= set(checked)
    assert multi.one("aws:ecs/service:Service").inputs["tags"]["api"] == "multi"


def _config_error(config, stack="dev") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        run(config, stack=stack)
    assert isinstance(caught.value, pulumi.RunError)   # Pulumi prints it without a traceback
    return caught.value


def test_missing_source_folder(tmp_path):
    error = _config_error({"apis": {"web": {"source": str(tmp_path / "missing")}}})
    assert error.file == "stacks/Pulumi.dev.yaml" and error.key == "serverless-containers:apis.web.source"
    assert str(tmp_path / "missing") in str(error) and error.fix


def test_unknown_config_key(apps):
    error = _config_error({"highAvailabilty": True, "apis": {"web": {"source": str(apps / "web")}}})
    assert "serverless-containers:highAvailabilty" in str(error)
    assert "highAvailability" in error.fix


def test_several_published_ports_need_an_entrypoint(tmp_path):
    folder = write_compose_app(tmp_path, "both", entrypoint_ports=True)
    error = _config_error({"apis": {"both": {"source": str(folder)}}})
    text = str(error)
    assert error.file == "stacks/Pulumi.dev.yaml" and error.key == "serverless-containers:apis.both.entrypoint"
    assert str(folder / "docker-compose.yml") in text
    assert "express" in error.fix and "python" in error.fix
    error = _config_error({"apis": {"both": {"source": str(folder), "entrypoint": "nope"}}})
    assert error.key == "serverless-containers:apis.both.entrypoint" and "'nope'" in error.problem
    result = run({"apis": {"both": {"source": str(folder), "entrypoint": "python", "auth": False}}})
    assert result.one("aws:ecs/service:Service").inputs["serviceRegistries"]["containerName"] == "python"
    assert result.one("aws:ecs/service:Service").inputs["serviceRegistries"]["containerPort"] == 5000


def test_nothing_is_registered_before_a_config_error(apps):
    recorded = []
    try:
        mockrun.run(main, config={"apis": {"web": {"source": str(apps / "web")},
                                           "bad": {"source": str(apps / "web"), "images": {"x": "y"}}}})
    except ConfigError as error:
        recorded.append(error)
    assert recorded and recorded[0].key == "serverless-containers:apis.bad.images"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks(stack):
    if not all((PROJECT_DIR / "apps" / name).is_dir() for name in ("posts", "multi")):
        pytest.skip("sample apps missing")
    result = mockrun.run_stack(stack)
    apis = result.outputs["apis"]
    assert set(apis) == {"posts", "multi"}
    assert len(result.of_type("aws:ec2/subnet:Subnet")) == (3 if stack == "prod" else 1)
    assert result.of_type("aws:ec2/natGateway:NatGateway") == []
    assert apis["multi"]["entrypoint"] == "express" and set(apis["multi"]["containers"]) == {"express", "python"}
    posts_env = {e["name"] for d in containers_of(result, "-posts").values() for e in d["environment"]}
    assert {"STORAGE_POSTS_NAME", "STORAGE_POSTS_ARN", "REGION"} <= posts_env
    multi_env = {e["name"] for d in containers_of(result, "-multi").values() for e in d["environment"]}
    assert "STORAGE_POSTS_NAME" not in multi_env    # multi has no storage access
    assert len(result.of_type("aws:apigatewayv2/authorizer:Authorizer")) == 2
    secret_file = PROJECT_DIR / "apps" / "secrets" / ".secret-api-token"
    value = secret_file.read_text().strip()
    assert all(value not in text for r in result.resources for text in all_strings(
        {k: v for k, v in r.inputs.items() if k not in r.secret_paths}))


def test_udp_entrypoint_is_refused(tmp_path, monkeypatch):
    # The loader never routes to UDP today; the program still refuses an App that would.
    from components.compose.model import App, Container, PortMapping
    udp_app = App(source_dir=tmp_path, compose_files=[tmp_path / "docker-compose.yml"], entrypoint="dns",
                  routed_port=5353, containers=[Container(name="dns", image="x", ports=[PortMapping(5353, "udp")])])
    from components import prepare
    monkeypatch.setattr(prepare, "load_app", lambda *args, **kwargs: udp_app)
    error = _config_error({"apis": {"udp": {"source": str(tmp_path)}}})
    assert error.service == "dns" and error.key == "ports" and "TCP" in error.problem


def test_pipeline_outputs_empty_only_for_manual_builds(apps, web_only):
    managed = web_only.outputs["apis"]["web"]
    assert managed["pipelineName"] == "serverless-containers-dev-web" and managed["pipelineUrl"].startswith("https://")
    manual = run({"apis": {"web": {"source": str(apps / "web"), "build": "manual", "auth": False}}})
    web = manual.outputs["apis"]["web"]
    assert (web["pipelineName"], web["pipelineUrl"], web["build"]) == ("", "", "manual")
