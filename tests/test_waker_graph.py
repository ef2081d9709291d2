"""Issue 22: the waker's resource graph (components/waker.py), the wake alarm that never counts a late metric as 0
tasks and never lowers a count (components/scaling.py), and the stack taking the count back when `sleep` or
`scaling` is removed (components/providers/stack_count.py). Mock runtime."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components import wake_time
from components.api import ACCESS_LOG_FORMAT, access_log_group_name
from components.waker import ASLEEP_FILTER_PATTERN, FUNCTION_SOURCE, RESERVED_CONCURRENCY, waker_log_group_name
from ops.plan import mockrun
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
STACK_COUNT = "pulumi-python:dynamic:Resource"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def run(source: Path, **api):
    return mockrun.run(program.main, config={"apis": {"web": {"source": str(source), "auth": False, **api}}},
                       stack="dev")


@pytest.fixture(scope="module")
def sleeper(source):
    return run(source, replicas=2, sleep={"afterIdleMinutes": 20})


def _children(result, suffix: str):
    return [r for r in result.resources if r.name.startswith("web-waker") and r.name.endswith(suffix)]


def test_the_waker_function_is_python_from_the_repository_with_one_concurrent_run(sleeper):
    function = sleeper.one(FUNCTION)
    inputs = function.inputs
    assert (inputs["runtime"], inputs["handler"]) == ("python3.12", "waker.handler")
    assert inputs["reservedConcurrentExecutions"] == RESERVED_CONCURRENCY == 1
    assert inputs["environment"]["variables"] == {"CLUSTER": "serverless-containers-dev", "SERVICE": "web",
                                                  "AWAKE_COUNT": "2"}
    assert inputs["loggingConfig"]["logGroup"] == waker_log_group_name("dev", "web")
    assets = inputs["code"].assets                      # the zip holds the one file of this repository
    assert list(assets) == ["waker.py"] and assets["waker.py"].path == str(FUNCTION_SOURCE)
    assert FUNCTION_SOURCE.is_file() and "def handler(" in FUNCTION_SOURCE.read_text()
    assert function.parent_type == "serverless-containers:waker:ApiWaker"
    log = next(g for g in sleeper.of_type(LOG_GROUP) if g.inputs["name"] == waker_log_group_name("dev", "web"))
    assert log.inputs["retentionInDays"] == 7 and sleeper.depends_on(function, log)


def test_the_role_may_scale_only_this_service_and_write_only_its_own_log(sleeper):
    function = sleeper.one(FUNCTION)
    role = next(r for r in sleeper.of_type(ROLE) if r.outputs["arn"] == function.inputs["role"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]
    policy = next(p for p in sleeper.of_type(ROLE_POLICY) if p.inputs["role"] == role.id)
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["ThisServiceCount"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert statements["ThisServiceCount"]["Resource"] == (
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/serverless-containers-dev/web")
    assert statements["PausedOrNot"] == {"Sid": "PausedOrNot", "Effect": "Allow", "Resource": "*",
                                         "Action": "application-autoscaling:DescribeScalableTargets"}
    log = next(g for g in sleeper.of_type(LOG_GROUP) if g.inputs["name"] == waker_log_group_name("dev", "web"))
    assert statements["OwnLog"]["Resource"] == f"{log.outputs['arn']}:*"
    assert statements["OwnLog"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert set(statements) == {"ThisServiceCount", "PausedOrNot", "OwnLog"}       # nothing else
    assert policy.urn in function.dependencies                                     # no run before its permissions


def test_the_access_log_feeds_the_function_through_a_subscription_on_503(sleeper):
    function, permission, subscription = sleeper.one(FUNCTION), sleeper.one(PERMISSION), sleeper.one(SUBSCRIPTION)
    access = next(g for g in sleeper.of_type(LOG_GROUP) if g.inputs["name"] == access_log_group_name("dev", "web"))
    assert subscription.inputs["logGroup"] == access.inputs["name"]
    assert subscription.inputs["filterPattern"] == ASLEEP_FILTER_PATTERN == '{ $.status = "503" }'
    assert subscription.inputs["destinationArn"] == function.outputs["arn"]
    assert permission.urn in subscription.dependencies                 # CloudWatch Logs may invoke it first
    assert (permission.inputs["principal"], permission.inputs["action"]) == ("logs.amazonaws.com",
                                                                               "lambda:InvokeFunction")
    assert permission.inputs["sourceArn"] == f"{access.outputs['arn']}:*"
    assert permission.inputs["sourceAccount"] == ACCOUNT
    run_ = next(r for r in sleeper.resources if r.type.endswith(":PipelineRun"))
    assert sleeper.depends_on(subscription, run_)              # no wake before the first image exists
    waker = sleeper.outputs["apis"]["web"]["scaling"]["waker"]
    assert waker["logGroup"] == waker_log_group_name("dev", "web") and waker["functionName"]


def test_the_pattern_matches_the_asleep_line_of_the_access_log_and_nothing_else():
    field, value = re.fullmatch(r'\{ \$\.(\w+) = "(\d+)" \}', ASLEEP_FILTER_PATTERN).groups()
    assert ACCESS_LOG_FORMAT[field] == "$context.status"

    def line(status: int) -> dict:
        # API Gateway substitutes each $context variable inside the format's JSON strings: status stays a string.
        text = json.dumps(ACCESS_LOG_FORMAT).replace("$context.status", str(status))
        return json.loads(re.sub(r"\$context\.[\w.]+", "-", text))

    assert line(503)[field] == value
    assert all(line(status)[field] != value for status in (200, 401, 404, 500, 502, 504))


def test_an_api_that_never_sleeps_gets_no_waker(source):
    for api in ({"replicas": 2}, {"scaling": {"min": 1, "max": 3}}):
        result = run(source, **api)
        assert result.of_type(FUNCTION) == [] and result.of_type(SUBSCRIPTION) == []
        assert "waker" not in result.outputs["apis"]["web"]["scaling"]


# --- the wake alarm: a late metric is not 0 tasks, and the step never lowers a count -----------------------

def test_with_autoscaling_the_wake_alarm_needs_two_minutes_without_tasks_and_only_adds(source):
    result = run(source, scaling={"min": 0, "max": 4}, sleep={})
    wake = next(a.inputs for a in result.of_type(ALARM) if a.name == "web-scaling-wake")
    assert (wake["evaluationPeriods"], wake["datapointsToAlarm"]) == (2, 2)
    expression = next(q["expression"] for q in wake["metricQueries"] if q["id"] == "asleep")
    assert expression == "IF(requests > 0 AND FILL(tasks, 0) == 0, 1, 0)"
    step = next(p for p in result.of_type(POLICY) if p.name == "web-scaling-wake").inputs[
        "stepScalingPolicyConfiguration"]
    assert step["adjustmentType"] == "ChangeInCapacity"          # from 3 tasks it could only go up
    assert step["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    assert step["cooldown"] == 300       # longer than a task start: the repeated alarm action adds once


def test_without_autoscaling_the_exact_wake_count_is_the_maximum_so_it_cannot_lower(sleeper):
    step = next(p for p in sleeper.of_type(POLICY) if p.name == "web-scaling-wake").inputs[
        "stepScalingPolicyConfiguration"]
    target = sleeper.one(TARGET).inputs
    assert step["adjustmentType"] == "ExactCapacity"
    assert step["stepAdjustments"][0]["scalingAdjustment"] == target["maxCapacity"] == 2
    wake = next(a.inputs for a in sleeper.of_type(ALARM) if a.name == "web-scaling-wake")
    assert (wake["evaluationPeriods"], wake["datapointsToAlarm"]) == (1, 1)   # no task metric to be late


# --- the stack takes the count back -------------------------------------------------------------------

def _stack_counts(result):
    return [r for r in result.resources if r.type.endswith("StackCount") or
            (r.type == STACK_COUNT and r.name.endswith("-count"))]


def test_a_stack_owned_count_is_set_by_a_stack_count_the_preview_shows(source, sleeper):
    owned = run(source, replicas=2)
    counts = _stack_counts(owned)
    assert [c.name for c in counts] == ["web-count"]
    service = owned.one("aws:ecs/service:Service")
    inputs = counts[0].inputs
    assert (inputs["cluster"], inputs["service"], inputs["count"]) == ("serverless-containers-dev", "web", 2)
    assert service.urn in counts[0].dependencies
    assert _stack_counts(sleeper) == []              # while autoscaling owns the count, nothing else sets it


def test_the_wake_time_is_the_sum_of_its_cited_parts_and_within_90_seconds(sleeper):
    parts = wake_time.parts()
    assert len(parts) == 6 and all(p.source for p in parts)
    fastest, typical = wake_time.wake_seconds()
    assert typical == -(-sum(p.typical for p in parts) // 1) and typical <= 90
    assert sleeper.outputs["apis"]["web"]["scaling"]["wakeSeconds"] == [fastest, typical]
    assert wake_time.wake_seconds(image_mb=400)[1] > typical         # a bigger image pulls longer


def test_the_readme_and_its_client_example_state_the_computed_wake_time():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    fastest, typical = wake_time.wake_seconds()
    assert f"takes about **{typical} s**" in readme and f"({fastest} s at best)" in readme
    assert f"wakeSeconds = {typical})" in readme and "response.status !== 503" in readme    # retries for that long
    assert "2-4 min" not in readme


def _picture(result) -> str:
    from catalog.resources import Resource
    from ops.plan import diagram
    resources = [Resource(type=r.type, name=r.name, props=r.outputs, urn=r.urn, parent_urn=r.parent_urn)
                 for r in result.resources]
    return diagram.build_graph(resources, "dev").source


def test_the_plan_picture_draws_the_waker_between_the_api_and_the_task(sleeper, source):
    picture = _picture(sleeper)
    assert "waker (Lambda)" in picture and "503 while asleep" in picture and "starts" in picture
    assert "waker" not in _picture(run(source, replicas=1))


def test_the_design_doc_prints_the_same_parts_and_sum():
    design = (Path(__file__).resolve().parent.parent / "docs" / "design.md").read_text()
    fastest, typical = wake_time.wake_seconds()
    assert f"| **sum** | **{fastest}** | **{typical}** | target: at most 90 s |" in design
    for part in wake_time.parts():
        assert f"| {part.name} | {part.fastest:g} | {part.typical:g} |" in design, part.name
