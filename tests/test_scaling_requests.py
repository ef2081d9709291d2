"""Issue 22: `scaling: {requestsPerTask: N}` (target tracking on the API's requests per running task, metric math)
and the awake count a sleeping API's pipeline waiter holds it at during a deploy.

Config checks, the resource graph under the mock runtime, the plan's count line, and the policy payload against
botocore's model (tests/fidelity), including broken variants the checks must catch."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from catalog import cost
from catalog.resources import Resource
from components.settings import load_settings
from components.errors import ConfigError
from ops.plan import mockrun
from ops.plan.summary import count_line
from tests.fidelity import aws_requests, cases, validate
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")
POLICY = "aws:appautoscaling/policy:Policy"
TARGET = "aws:appautoscaling/target:Target"
CLUSTER = "aws:ecs/cluster:Cluster"
RUN = "pulumi-python:dynamic/serverless-containers:PipelineRun"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def scaling_of(source: Path, **scaling):
    settings = load_settings({"apis": {"web": {"source": str(source), "scaling": {"max": 4, **scaling}}}},
                             source.parent, "dev")
    return settings.apis["web"].scaling


def run(source: Path, **api):
    return mockrun.run(program.main, config={"apis": {"web": {"source": str(source), "auth": False, **api}}},
                       stack="dev")


# --- config ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -5, "fast", True, 2_000_000, [600]])
def test_a_bad_request_rate_is_a_config_error_naming_the_key(source, value):
    with pytest.raises(ConfigError) as error:
        scaling_of(source, requestsPerTask=value)
    text = str(error.value)
    assert "apis.web.scaling.requestsPerTask" in text and "requests a minute one task should serve" in text


def test_the_request_rate_replaces_the_default_cpu_target_unless_both_are_given(source):
    alone = scaling_of(source, requestsPerTask=600)
    assert (alone.requests_per_task, alone.cpu_percent) == (600.0, None)
    both = scaling_of(source, requestsPerTask=90.5, cpuPercent=70)
    assert (both.requests_per_task, both.cpu_percent) == (90.5, 70.0)
    assert scaling_of(source).cpu_percent == 60 and scaling_of(source).requests_per_task is None


# --- the resource graph ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def per_request(source):
    return run(source, scaling={"min": 1, "max": 4, "requestsPerTask": 600})


def test_request_rate_target_tracking_divides_api_requests_by_running_tasks(per_request):
    [policy] = per_request.of_type(POLICY)
    target = per_request.one(TARGET)
    assert policy.name == "web-scaling-requests"
    assert policy.inputs["name"] == "web-requests-600-per-task"
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert policy.inputs["resourceId"] == target.inputs["resourceId"] == "service/serverless-containers-dev/web"
    assert per_request.depends_on(policy, target)
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 600 and "predefinedMetricSpecification" not in tracking
    assert (tracking["scaleInCooldown"], tracking["scaleOutCooldown"]) == (300, 60)
    queries = {q["id"]: q for q in tracking["customizedMetricSpecification"]["metrics"]}
    assert set(queries) == {"requests", "tasks", "per_task"}
    api_id = per_request.one("aws:apigatewayv2/api:Api").id
    requests = queries["requests"]
    assert requests["returnData"] is False and requests["metricStat"]["stat"] == "Sum"
    assert requests["metricStat"]["metric"] == {"namespace": "AWS/ApiGateway", "metricName": "Count",
                                                "dimensions": [{"name": "ApiId", "value": api_id}]}
    tasks = queries["tasks"]
    assert tasks["returnData"] is False and tasks["metricStat"]["stat"] == "Average"
    assert tasks["metricStat"]["metric"] == {
        "namespace": "ECS/ContainerInsights", "metricName": "RunningTaskCount",
        "dimensions": [{"name": "ClusterName", "value": "serverless-containers-dev"},
                       {"name": "ServiceName", "value": "web"}]}
    per_task = queries["per_task"]
    assert per_task["returnData"] is True and "metricStat" not in per_task
    assert per_task["expression"] == "FILL(requests, 0) / IF(FILL(tasks, 0) > 0, FILL(tasks, 0), 1)"


def test_the_request_rate_turns_container_insights_on_and_is_in_the_outputs_and_plan(per_request, source):
    settings = per_request.one(CLUSTER).inputs["settings"]
    assert settings == [{"name": "containerInsights", "value": "enabled"}]
    scaling = per_request.outputs["apis"]["web"]["scaling"]
    assert scaling["requestsPerTask"] == 600 and "cpuPercent" not in scaling
    line = count_line(scaling)
    assert "autoscaling 1..4 tasks at 600 requests/min per task" in line and "Container Insights on" in line
    cpu_only = run(source, scaling={"min": 1, "max": 4})
    assert cpu_only.one(CLUSTER).inputs["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert [p.name for p in cpu_only.of_type(POLICY)] == ["web-scaling-cpu"]
    # the cost report says Container Insights is billed on top, only when it is on
    def notes(result):
        resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn) for r in result.resources]
        return " ".join(cost.estimate(resources, "us-east-1").notes)
    assert "Container Insights is on" in notes(per_request) and "not in this estimate" in notes(per_request)
    assert "Container Insights" not in notes(cpu_only)


def test_cpu_and_request_rate_together_make_two_policies(source):
    result = run(source, scaling={"min": 1, "max": 4, "cpuPercent": 70, "requestsPerTask": 120})
    names = {p.name: p.inputs for p in result.of_type(POLICY)}
    assert set(names) == {"web-scaling-cpu", "web-scaling-requests"}
    assert names["web-scaling-cpu"]["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 70
    assert "autoscaling 1..4 tasks at 70 % CPU, 120 requests/min per task" in count_line(
        result.outputs["apis"]["web"]["scaling"])


def test_the_waiter_of_a_sleeping_api_knows_its_awake_count(source):
    sleeper = run(source, replicas=2, sleep={"afterIdleMinutes": 20})
    assert sleeper.one(RUN).inputs["awakeCount"] == 2
    awake = run(source, replicas=2)
    assert awake.one(RUN).inputs["awakeCount"] == 0


# --- the payload against botocore ------------------------------------------------------------------

@pytest.fixture(scope="module")
def request_policy():
    result = cases.run_case(next(c for c in cases.STACK_CASES if c.id == "scaling-sleep-alerts"))
    translation = aws_requests.translate(result.resources)
    return next(r for r in translation.requests if r.operation == "PutScalingPolicy"
                and "CustomizedMetricSpecification" in r.params.get("TargetTrackingScalingPolicyConfiguration", {}))


def test_the_metric_math_policy_is_a_valid_put_scaling_policy(request_policy):
    assert validate.problems(request_policy) == []
    custom = request_policy.params["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert [m["Id"] for m in custom["Metrics"]] == ["requests", "tasks", "per_task"]
    assert custom["Metrics"][1]["MetricStat"]["Metric"]["Dimensions"][1] == {"Name": "ServiceName", "Value": "multi"}


@pytest.mark.parametrize("change, expected", [
    (lambda m: m[2].update(Expression="FILL(requests, 0) / running"), "'running'"),
    (lambda m: m[0].update(ReturnData=True), "2 metric queries return data"),
    (lambda m: m[1].update(Id="Tasks"), "lowercase letter"),
    (lambda m: m[2].update(MetricStat=m[0]["MetricStat"]), "exactly one of Expression and MetricStat"),
    (lambda m: m[0]["MetricStat"].pop("Stat"), "Stat"),
    (lambda m: m[1]["MetricStat"]["Metric"].update(Dimensions=[{"Name": "ServiceName"}]), "Value"),
])
def test_broken_metric_math_is_caught(request_policy, change, expected):
    broken = copy.deepcopy(request_policy)
    change(broken.params["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]["Metrics"])
    found = validate.problems(broken)
    assert found and any(expected in f for f in found), found


def test_the_smoke_script_reads_the_wake_time_a_sleeping_api_states(source):
    """scripts/deploy_and_promote.py waits at least the wake time the stack outputs (and the plan) state: the output it
    reads must be there, in the shape it reads (issue 24 item 6)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_and_promote",
                                                  Path(__file__).resolve().parent.parent / "scripts" /
                                                  "deploy_and_promote.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    api = run(source, replicas=1, sleep={"afterIdleMinutes": 20}).outputs["apis"]["web"]
    stated = api["scaling"]["wakeSeconds"]
    assert script.stated_wake_seconds(api) == max(stated) > 0
    assert script.smoke_patience(api) >= max(stated)
    assert script.stated_wake_seconds(run(source, replicas=1).outputs["apis"]["web"]) == 0
