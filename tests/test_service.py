"""The task definition builder (pure) and components/service.py under the mock runtime."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.errors import ConfigError
from components.compose.model import Container, Dependency, HealthCheck, PortMapping, VolumeMount
from components.service import (Cluster, ClusterArgs, Service, ServiceArgs, TableGrant, execution_role_policy,
                                 log_group_name)
from components.task_plan import (HEALTH_LIMITS, container_definitions, ecs_health_check, port_mapping_name,
                                        task_volumes)
from ops.plan import mockrun
from tests.infra_helpers import botocore_errors, policy, two_container_app, web_app

IMAGES = {"express": "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:abc",
          "python": "public.ecr.aws/docker/library/python:3.12-slim"}
REPO_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/serverless-containers-dev-multi-express"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:serverless-containers/dev/multi/API_TOKEN-AbCdEf"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/serverless-containers-dev-posts"


def build(app, **overrides):
    kwargs = dict(images=IMAGES, log_groups={c.name: f"/g/{c.name}" for c in app.containers}, region="us-east-1",
                  secret_arns={"API_TOKEN": SECRET_ARN})
    kwargs.update(overrides)
    return container_definitions(app, **kwargs)


# ---- pure: container definitions -------------------------------------------------------------

def test_two_container_definitions():
    result = build(two_container_app(), extra_environment={"REGION": "us-east-1", "STORAGE_POSTS_NAME": "t"})
    express, python = result.definitions
    assert result.warnings == []
    assert express["name"] == "express" and express["image"] == IMAGES["express"] and express["essential"] is True
    assert express["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp",
                                        "name": "express-8080-tcp"}]
    assert express["environment"] == [{"name": n, "value": v} for n, v in sorted(
        {"PORT": "8080", "PYTHON_URL": "http://localhost:5000", "REGION": "us-east-1",
         "STORAGE_POSTS_NAME": "t"}.items())]
    assert express["secrets"] == [{"name": "API_TOKEN", "valueFrom": SECRET_ARN}]
    assert express["dependsOn"] == [{"containerName": "python", "condition": "HEALTHY"}]
    assert express["healthCheck"] == {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
                                      "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 5}
    assert (express["user"], express["workingDirectory"], express["command"]) == ("node", "/app", ["node", "server.js"])
    assert express["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": "/g/express", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
    assert python["entryPoint"] == ["python3"] and python["command"] == ["server.py"]
    assert python["secrets"] == [] and "dependsOn" not in python and "user" not in python
    assert python["healthCheck"]["command"] == ["CMD", "python3", "-c", "print(1)"]


def test_named_volumes_are_task_scoped_and_shared():
    app = two_container_app()
    app.containers[0].mounts = [VolumeMount("cache.v1", "/cache"), VolumeMount("data", "/data", read_only=True)]
    app.containers[1].mounts = [VolumeMount("data", "/srv/data")]
    assert task_volumes(app) == ["cache-v1", "data"]
    express, python = build(app).definitions
    assert express["mountPoints"] == [
        {"sourceVolume": "cache-v1", "containerPath": "/cache", "readOnly": False},
        {"sourceVolume": "data", "containerPath": "/data", "readOnly": True}]
    assert python["mountPoints"] == [{"sourceVolume": "data", "containerPath": "/srv/data", "readOnly": False}]
    assert task_volumes(two_container_app()) == []


def test_definitions_are_a_valid_register_task_definition_request():
    app = two_container_app()
    app.containers[1].mounts = [VolumeMount("data", "/data")]
    definitions = build(app, extra_environment={"REGION": "us-east-1"}).definitions
    request = {"family": "serverless-containers-dev-multi", "containerDefinitions": definitions,
               "cpu": str(app.cpu), "memory": str(app.memory), "networkMode": "awsvpc",
               "requiresCompatibilities": ["FARGATE"],
               "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
               "executionRoleArn": "arn:aws:iam::123456789012:role/x", "taskRoleArn": "arn:aws:iam::123456789012:role/y",
               "volumes": [{"name": v} for v in task_volumes(app)]}
    assert botocore_errors("ecs", "RegisterTaskDefinition", request) == ""


@pytest.mark.parametrize("field, value, expected", [
    ("interval", 1, 5), ("interval", 900, 300), ("timeout", 1.5, 2), ("timeout", 90, 60),
    ("retries", 0, 1), ("retries", 20, 10), ("start_period", 600, 300), ("interval", 7.2, 8),
])
def test_health_check_timings_are_fitted_to_ecs_with_a_warning(field, value, expected):
    app = web_app(healthcheck=HealthCheck(("CMD", "true"), **{field: value}))
    check, warnings = ecs_health_check(app, app.containers[0])
    ecs_key = {"start_period": "startPeriod"}.get(field, field)
    assert check[ecs_key] == expected
    assert all(low <= check[k] <= high for k, (low, high) in HEALTH_LIMITS.items())
    low, high = HEALTH_LIMITS[ecs_key]
    if not low <= value <= high:       # rounding a fraction up is silent; clamping is not
        assert len(warnings) == 1 and warnings[0].key == f"healthcheck.{field}" and warnings[0].service == "web"
        assert str(expected) in warnings[0].message
    else:
        assert warnings == []


def test_health_check_within_limits_has_no_warning_and_none_disables():
    app = web_app(healthcheck=HealthCheck(("CMD-SHELL", "true"), interval=30, timeout=30, retries=3))
    assert ecs_health_check(app, app.containers[0])[1] == []
    app = web_app(healthcheck=HealthCheck(("NONE",)))
    assert ecs_health_check(app, app.containers[0]) == (None, [])
    with pytest.raises(ConfigError) as caught:
        app = web_app(healthcheck=HealthCheck(("/bin/true",)))
        ecs_health_check(app, app.containers[0])
    assert caught.value.key == "healthcheck.test"


def test_waiting_for_health_without_healthcheck_is_an_error():
    app = two_container_app()
    app.containers[1].healthcheck = None
    with pytest.raises(ConfigError) as caught:
        build(app)
    error = caught.value
    assert error.service == "express" and error.key == "depends_on.python.condition"
    assert "add a healthcheck" in error.fix and error.file.endswith("docker-compose.yml")


def test_completed_dependency_makes_the_job_non_essential():
    app = two_container_app()
    app.containers.append(Container(name="migrate", image="busybox"))
    app.containers[0].depends_on.append(Dependency("migrate", "service_completed_successfully"))
    definitions = {d["name"]: d for d in build(app, images={**IMAGES, "migrate": "busybox"}).definitions}
    assert definitions["migrate"]["essential"] is False
    assert {"containerName": "migrate", "condition": "SUCCESS"} in definitions["express"]["dependsOn"]
    assert definitions["express"]["essential"] is True


def test_entrypoint_cannot_be_a_one_shot_job():
    app = two_container_app()
    app.containers[1].depends_on.append(Dependency("express", "service_completed_successfully"))
    with pytest.raises(ConfigError) as caught:
        build(app)
    assert caught.value.service == "express"


def test_unknown_dependency_and_bad_names():
    app = two_container_app()
    app.containers[0].depends_on = [Dependency("db")]
    with pytest.raises(ConfigError, match="'db'"):
        build(app)
    app = web_app()
    app.containers[0] = replace(app.containers[0], name="web.v2")
    app.entrypoint = "web.v2"
    with pytest.raises(ConfigError) as caught:
        build(app, images={"web.v2": "x"})
    assert caught.value.service == "web.v2"


def test_environment_conflicts_warn():
    app = two_container_app()
    app.containers[0].environment["REGION"] = "eu-west-1"
    app.containers[0].environment["API_TOKEN"] = "plain"
    result = build(app, extra_environment={"REGION": "us-east-1"})
    express = result.definitions[0]
    names = [e["name"] for e in express["environment"]]
    assert "API_TOKEN" not in names and {"name": "REGION", "value": "us-east-1"} in express["environment"]
    assert {w.key for w in result.warnings} == {"environment.REGION", "environment.API_TOKEN"}


def test_undefined_secret_is_an_error():
    with pytest.raises(ConfigError) as caught:
        build(two_container_app(), secret_arns={})
    assert caught.value.key == "secrets" and caught.value.service == "express"


def test_port_mapping_names_fit_ecs_rules():
    assert port_mapping_name("Web_App", 80, "tcp") == "web_app-80-tcp"
    long_name = port_mapping_name("x" * 200, 65535, "udp")
    assert len(long_name) == 64 and long_name.endswith("-65535-udp")
    assert not port_mapping_name("-dash", 1, "tcp").startswith("-")


def test_execution_role_policy_is_scoped():
    document = execution_role_policy([REPO_ARN], ["arn:aws:logs:us-east-1:1:log-group:/g"], [SECRET_ARN])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["EcrLogin"]["Resource"] == "*" and by_sid["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert by_sid["PullOwnImages"]["Resource"] == [REPO_ARN]
    assert by_sid["WriteOwnLogs"]["Resource"] == ["arn:aws:logs:us-east-1:1:log-group:/g:log-stream:*"]
    assert by_sid["ReadOwnSecrets"]["Resource"] == [SECRET_ARN]
    minimal = execution_role_policy([], ["arn:aws:logs:us-east-1:1:log-group:/g"], [])
    assert {s["Sid"] for s in minimal["Statement"]} == {"EcrLogin", "WriteOwnLogs"}


# ---- mock runtime: cluster and service --------------------------------------------------------

def run_service(app, *, fargate_spot=False, storage=True, desired_count=2, architecture="ARM64"):
    def program():
        cluster = Cluster("cluster", ClusterArgs(stack="dev", vpc_id="vpc-1", fargate_spot=fargate_spot))
        grants = [TableGrant("posts", "serverless-containers-dev-posts", TABLE_ARN, ("read", "delete"))] \
            if storage else []
        Service("multi", ServiceArgs(
            stack="dev", api="multi", app=app, region="us-east-1", account_id="123456789012",
            cluster_name=cluster.cluster_name, namespace_id=cluster.namespace_id, subnet_ids=["subnet-1"],
            security_group_id="sg-task", images=IMAGES if app.entrypoint == "express" else {"web": "img"},
            desired_count=desired_count, repository_arns=[REPO_ARN],
            secret_arns={"API_TOKEN": SECRET_ARN} if app.secrets else {}, storage=grants,
            cpu_architecture=architecture, fargate_spot=fargate_spot, log_retention_days=14))
    return mockrun.run(program)


@pytest.fixture(scope="module")
def multi_run():
    return run_service(two_container_app())


def test_cluster_without_insights_and_namespace(multi_run):
    cluster = multi_run.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["name"] == "serverless-containers-dev"
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    providers = multi_run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert set(providers.inputs["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert providers.inputs["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE"
    namespace = multi_run.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert namespace.inputs["vpc"] == "vpc-1" and namespace.inputs["name"] == "dev.serverless-containers.internal"


def test_task_definition(multi_run):
    task = multi_run.one("aws:ecs/taskDefinition:TaskDefinition")
    inputs = task.inputs
    assert inputs["family"] == "serverless-containers-dev-multi"
    assert (inputs["cpu"], inputs["memory"], inputs["networkMode"]) == ("512", "1024", "awsvpc")
    assert inputs["requiresCompatibilities"] == ["FARGATE"]
    assert inputs["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    roles = {r.name: r for r in multi_run.of_type("aws:iam/role:Role")}
    assert inputs["executionRoleArn"] == roles["multi-execution"].outputs["arn"]
    assert inputs["taskRoleArn"] == roles["multi-task"].outputs["arn"]
    definitions = json.loads(inputs["containerDefinitions"])
    assert [d["name"] for d in definitions] == ["express", "python"]
    express = definitions[0]
    assert express["image"] == IMAGES["express"]
    env = {e["name"]: e["value"] for e in express["environment"]}
    assert env["STORAGE_POSTS_NAME"] == "serverless-containers-dev-posts"
    assert env["STORAGE_POSTS_ARN"] == TABLE_ARN and env["REGION"] == "us-east-1"
    assert express["secrets"] == [{"name": "API_TOKEN", "valueFrom": SECRET_ARN}]
    assert express["logConfiguration"]["options"]["awslogs-group"] == "/serverless-containers/dev/multi/express"
    groups = {g.inputs["name"]: g for g in multi_run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {log_group_name("dev", "multi", c) for c in ("express", "python")}
    assert all(g.inputs["retentionInDays"] == 14 for g in groups.values())
    service = multi_run.one("serverless-containers:service:Service")
    assert all(r.parent_urn == service.urn for r in [task, *groups.values(), *roles.values()])


def test_ecs_service(multi_run):
    service = multi_run.one("aws:ecs/service:Service").inputs
    discovery = multi_run.one("aws:servicediscovery/service:Service")
    assert service["name"] == "multi" and service["cluster"] == "serverless-containers-dev"
    # always a strategy, never launch_type (which forces a new service); the provider wants a forced deployment
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert "launchType" not in service and service["forceNewDeployment"] is True
    assert service["desiredCount"] == 2
    assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["networkConfiguration"] == {"subnets": ["subnet-1"], "securityGroups": ["sg-task"],
                                               "assignPublicIp": True}
    assert service["serviceRegistries"] == {"registryArn": discovery.outputs["arn"], "containerName": "express",
                                            "containerPort": 8080}
    assert service["enableExecuteCommand"] is False and service["propagateTags"] == "SERVICE"
    assert service["waitForSteadyState"] is True
    task = multi_run.one("aws:ecs/taskDefinition:TaskDefinition")
    assert service["taskDefinition"] == task.outputs["arn"]
    dns = discovery.inputs["dnsConfig"]
    namespace = multi_run.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert dns["namespaceId"] == namespace.id and dns["dnsRecords"] == [{"type": "SRV", "ttl": 10}]
    assert dns["routingPolicy"] == "MULTIVALUE" and discovery.inputs["healthCheckCustomConfig"] == {"failureThreshold": 1}
    assert discovery.inputs["name"] == "multi"


def test_roles_hold_only_their_grants(multi_run):
    roles = {r.name: r for r in multi_run.of_type("aws:iam/role:Role")}
    for role in roles.values():
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                      "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}
        assert not role.inputs.get("managedPolicyArns")
    assert not multi_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    policies = {p.name: p for p in multi_run.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert set(policies) == {"multi-execution", "multi-storage"}
    assert policies["multi-execution"].inputs["role"] == roles["multi-execution"].id
    execution = {s["Sid"]: s for s in policy(policies["multi-execution"])["Statement"]}
    assert execution["PullOwnImages"]["Resource"] == [REPO_ARN]
    assert execution["ReadOwnSecrets"]["Resource"] == [SECRET_ARN]
    assert sorted(execution["WriteOwnLogs"]["Resource"]) == sorted(
        f"{g.outputs['arn']}:log-stream:*" for g in multi_run.of_type("aws:cloudwatch/logGroup:LogGroup"))
    storage = policies["multi-storage"]
    assert storage.inputs["role"] == roles["multi-task"].id
    statement, = policy(storage)["Statement"]
    assert statement["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/*"]
    assert statement["Action"] == sorted(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                                          "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
                                          "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"])
    assert "dynamodb:PutItem" not in statement["Action"]


def test_fargate_spot_and_no_healthcheck():
    result = run_service(web_app(), fargate_spot=True, storage=False, desired_count=0, architecture="X86_64")
    service = result.one("aws:ecs/service:Service").inputs
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert "launchType" not in service and "healthCheckGracePeriodSeconds" not in service
    assert service["desiredCount"] == 0
    providers = result.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
    # no storage: the task role exists but may do nothing
    assert [p.name for p in result.of_type("aws:iam/rolePolicy:RolePolicy")] == ["multi-execution"]
    definition, = json.loads(result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert definition["environment"] == [] and "healthCheck" not in definition


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

seconds = st.floats(min_value=0, max_value=10_000, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(interval=seconds, timeout=seconds, retries=st.integers(0, 100), start_period=seconds)
def test_any_compose_health_check_fits_ecs(interval, timeout, retries, start_period):
    app = web_app(healthcheck=HealthCheck(("CMD", "true"), interval=interval, timeout=timeout, retries=retries,
                                          start_period=start_period))
    check, warnings = ecs_health_check(app, app.containers[0])
    for key, (low, high) in HEALTH_LIMITS.items():
        assert isinstance(check[key], int) and low <= check[key] <= high
    requested = {"interval": interval, "timeout": timeout, "retries": retries, "startPeriod": start_period}
    out_of_range = {k for k, (low, high) in HEALTH_LIMITS.items() if not low <= requested[k] <= high}
    assert len(warnings) == len(out_of_range)
