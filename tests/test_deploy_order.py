"""What the engine sees beyond inputs: dependencies and resource options, recorded by the mock monitor
(ops/plan/mockrun.py). These are the rules a real `pulumi up` relies on and no input check shows (issue 12):
ordering against IAM and route eventual consistency, the source upload after the service update, and a
Fargate Spot switch that updates the service in place instead of replacing it."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.program import main
from ops.plan import mockrun
from tests.force_new import ALL_INPUTS_FORCE_NEW_EXCEPT, FORCE_NEW
from tests.infra_helpers import write_compose_app

TABLES = {"posts": {"partitionKey": {"name": "id", "type": "S"}}}


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apps")
    write_compose_app(root, "multi")
    return root


def config(apps: Path, **overrides) -> dict:
    return {"storage": TABLES, "apis": {"multi": {
        "source": str(apps / "multi"), "auth": False, "access": {"storage": {"posts": ["read"]}}}}, **overrides}


@pytest.fixture(scope="module")
def graph(apps):
    return mockrun.run(main, config=config(apps))


def test_recorder_sees_dependencies_and_options(graph):
    service = graph.one("aws:ecs/service:Service")
    task = graph.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.urn in service.property_dependencies["taskDefinition"]
    assert graph.depends_on(service, task) and not graph.depends_on(task, service)
    assert service.options.get("customTimeouts") == {"create": "30m", "update": "30m"}


def test_task_definition_and_service_wait_for_the_inline_role_policies(graph):
    task = graph.one("aws:ecs/taskDefinition:TaskDefinition")
    service = graph.one("aws:ecs/service:Service")
    policies = {p.name: p for p in graph.of_type("aws:iam/rolePolicy:RolePolicy") if p.parent_name == "multi"}
    assert set(policies) == {"multi-execution", "multi-storage"}
    for policy in policies.values():
        assert policy.urn in task.dependencies, policy.name
        assert policy.urn in service.dependencies, policy.name


def test_service_waits_for_the_internet_route_and_the_route_table_associations(graph):
    service = graph.one("aws:ecs/service:Service")
    route = graph.one("aws:ec2/route:Route")
    associations = graph.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert associations
    for resource in [route, *associations]:
        assert resource.urn in service.dependencies, resource.name


def test_source_upload_waits_for_the_service_update(graph):
    upload = graph.one("aws:s3/bucketObjectv2:BucketObjectv2")
    service = graph.one("aws:ecs/service:Service")
    assert graph.depends_on(upload, service)
    assert upload.inputs["tags"]["deploys-service"] == service.outputs["arn"]
    run = graph.one("pulumi-python:dynamic/serverless-containers:PipelineRun")
    assert graph.depends_on(run, upload) and graph.depends_on(run, service)


def replacing_changes(before: mockrun.RunResult, after: mockrun.RunResult) -> dict[str, list[str]]:
    """URN -> the changed inputs that force a new resource (by the vendored provider table)."""
    olds = {r.urn: r for r in before.resources if r.custom}
    found = {}
    for new in after.resources:
        old = olds.get(new.urn)
        if old is None or not new.custom:
            continue
        changed = sorted(k for k in set(old.inputs) | set(new.inputs) if old.inputs.get(k) != new.inputs.get(k))
        if new.type in ALL_INPUTS_FORCE_NEW_EXCEPT:
            forcing = [k for k in changed if k not in ALL_INPUTS_FORCE_NEW_EXCEPT[new.type]]
        else:
            forcing = [k for k in changed if k in FORCE_NEW.get(new.type, ())]
        if forcing:
            found[new.urn] = forcing
    return found


def test_switching_fargate_spot_updates_the_service_in_place(apps, graph):
    spot = mockrun.run(main, config=config(apps, fargateSpot=True))
    assert replacing_changes(graph, spot) == {} and replacing_changes(spot, graph) == {}
    before, after = graph.one("aws:ecs/service:Service"), spot.one("aws:ecs/service:Service")
    assert before.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert after.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert after.inputs["forceNewDeployment"] is True
    assert "deleteBeforeReplace" not in after.options and "deleteBeforeReplace" not in before.options


def test_the_force_new_table_catches_a_replacement(apps, graph):
    """The comparison can fail: a changed partition key replaces the table."""
    changed = mockrun.run(main, config=config(apps, storage={"posts": {"partitionKey": {"name": "pk", "type": "S"}}}))
    table = graph.one("aws:dynamodb/table:Table")
    assert replacing_changes(graph, changed) == {table.urn: ["hashKey"]}


def test_deploy_timeout_bounds_every_wait(apps):
    result = mockrun.run(main, config=config(apps, deployTimeoutMinutes=45))
    service = result.one("aws:ecs/service:Service")
    assert service.options["customTimeouts"] == {"create": "45m", "update": "45m"}
    pipeline = result.one("aws:codepipeline/pipeline:Pipeline")
    deploy = next(s for s in pipeline.inputs["stages"] if s["name"] == "Deploy")["actions"][0]
    assert deploy["configuration"]["DeploymentTimeout"] == "45"
    run = result.one("pulumi-python:dynamic/serverless-containers:PipelineRun")
    assert run.inputs["rolloutTimeoutSeconds"] == 45 * 60
    assert sorted(run.inputs["repositories"]) == sorted(
        r.inputs["name"] for r in result.of_type("aws:ecr/repository:Repository"))


@pytest.mark.parametrize("value", [4, 61, "30", True, 12.5])
def test_deploy_timeout_outside_what_codepipeline_allows_is_a_config_error(tmp_path, value):
    from components.settings.stack import load_settings
    from components.errors import ConfigError

    (tmp_path / "app").mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings({"deployTimeoutMinutes": value, "apis": {"web": {"source": "app"}}}, tmp_path, "dev")
    assert error.value.key == "serverless-containers:deployTimeoutMinutes"
    assert "5 to 60" in str(error.value) and error.value.file == "stacks/Pulumi.dev.yaml"
