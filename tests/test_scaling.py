"""Issue 15: replicas, autoscaling, sleep when idle (wake on the first request), awake hours.

Config validation (components/settings/scaling.py via components/settings/apis.py) and the resource graph the
program registers (components/scaling.py, the ECS service's ignore_changes) under the mock runtime."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.settings.stack import load_settings
from components.errors import ConfigError
from components.settings.scaling import AwakeSettings, count_plan, expand_days
from ops.plan import mockrun
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE = "aws:ecs/service:Service"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apps")
    return write_dockerfile_app(root, "web")


def settings(source: Path, **api):
    return load_settings({"apis": {"web": {"source": str(source), **api}}}, source.parent, "dev")


def run(source: Path, *, stack_keys: dict | None = None, **api):
    config = {"apis": {"web": {"source": str(source), "auth": False, **api}}, **(stack_keys or {})}
    return mockrun.run(program.main, config=config, stack="dev")


# --- config ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("api, key, words", [
    ({"replicas": 0}, "apis.web.replicas", "out of range"),
    ({"replicas": True}, "apis.web.replicas", "whole number"),
    ({"scaling": {"min": 1}}, "apis.web.scaling.max", "most tasks"),
    ({"scaling": {"min": 3, "max": 2}}, "apis.web.scaling.min", "above max"),
    ({"scaling": {"min": -1, "max": 2}}, "apis.web.scaling.min", "out of range"),
    ({"scaling": {"min": 0, "max": 2}}, "apis.web.scaling.min", "nothing to start one"),
    ({"scaling": {"max": 2, "cpuPercent": 0}}, "apis.web.scaling.cpuPercent", "percentage"),
    ({"scaling": {"max": 2, "memoryPercent": 150}}, "apis.web.scaling.memoryPercent", "percentage"),
    ({"scaling": {"max": 2, "target": 3}}, "apis.web.scaling", "unknown key"),
    ({"scaling": {"min": 2, "max": 4}, "replicas": 5}, "apis.web.replicas", "outside scaling"),
    ({"sleep": {"afterIdleMinutes": 2}}, "apis.web.sleep.afterIdleMinutes", "out of range"),
    ({"sleep": {"afterIdleMinutes": 1441}}, "apis.web.sleep.afterIdleMinutes", "out of range"),
    ({"sleep": "yes"}, "apis.web.sleep", "expected a map"),
    ({"awake": {"days": "MON-FRI", "hours": "08:00-20:00", "timezone": "UTC"}}, "apis.web.awake", "never sleeps"),
    ({"sleep": {}, "awake": {"days": "MONDAY", "hours": "08:00-20:00", "timezone": "UTC"}}, "apis.web.awake.days",
     "list of days"),
    ({"sleep": {}, "awake": {"days": "MON", "hours": "20:00-08:00", "timezone": "UTC"}}, "apis.web.awake.hours",
     "end after"),
    ({"sleep": {}, "awake": {"days": "MON", "hours": "8-20", "timezone": "UTC"}}, "apis.web.awake.hours", "span"),
    ({"sleep": {}, "awake": {"days": "MON", "hours": "08:00-20:00", "timezone": "Mars/Olympus"}},
     "apis.web.awake.timezone", "IANA"),
    ({"sleep": {}, "awake": {"days": "MON", "hours": "08:00-20:00"}}, "apis.web.awake.timezone", "needs timezone"),
])
def test_bad_counts_are_config_errors_naming_the_key(source, api, key, words):
    with pytest.raises(ConfigError) as caught:
        settings(source, **api)
    assert caught.value.key == f"serverless-containers:{key}"
    assert words in str(caught.value) and caught.value.file == "stacks/Pulumi.dev.yaml"


def test_alerts_need_an_email_address(source):
    with pytest.raises(ConfigError) as caught:
        load_settings({"apis": {"web": {"source": str(source)}}, "alerts": {"email": "ops"}}, source.parent, "dev")
    assert caught.value.key == "serverless-containers:alerts.email"
    ok = load_settings({"apis": {"web": {"source": str(source)}}, "alerts": {"email": "ops@example.com"}},
                       source.parent, "dev")
    assert ok.alerts.email == "ops@example.com"


def test_count_plan_defaults_and_clamping():
    assert count_plan(None, None, None, None, compose_replicas=3).replicas == 3          # compose deploy.replicas
    assert count_plan(2, None, None, None, compose_replicas=3).replicas == 2             # the stack overrides it
    plain = count_plan(None, None, None, None)
    assert (plain.replicas, plain.min, plain.max, plain.managed, plain.managed_by) == (1, 1, 1, False, "stack")


def test_days_and_hours_of_the_awake_schedule():
    assert expand_days("MON-FRI") == ["MON", "TUE", "WED", "THU", "FRI"]
    assert expand_days("SAT-MON,WED") == ["SAT", "SUN", "MON", "WED"]
    awake = AwakeSettings(days="MON-FRI", start=(8, 0), end=(20, 30), timezone="Europe/Berlin")
    assert awake.cron(awake.start) == "cron(0 8 ? * MON-FRI *)" and awake.hours_per_day == 12.5


# --- resource graph -------------------------------------------------------------------------------

def test_replicas_override_compose_and_leave_the_count_to_pulumi(source):
    result = run(source, replicas=3)
    service = result.one(SERVICE)
    assert service.inputs["desiredCount"] == 3 and service.ignore_changes == []
    assert result.of_type(TARGET) == [] and result.of_type(ALARM) == []
    assert result.outputs["apis"]["web"]["replicas"] == 3
    assert result.outputs["apis"]["web"]["scaling"]["managedBy"] == "stack"


def test_high_availability_with_one_task_warns(source):
    result = run(source, stack_keys={"highAvailability": True})
    assert any("highAvailability" in w and "apis.web.replicas" in w for w in result.warnings)
    assert not any("highAvailability" in w for w in run(source, stack_keys={"highAvailability": True},
                                                            replicas=2).warnings)


@pytest.fixture(scope="module")
def autoscaled(source):
    return run(source, scaling={"min": 2, "max": 6, "cpuPercent": 55, "memoryPercent": 70})


def test_autoscaling_registers_a_target_and_cpu_and_memory_tracking(autoscaled):
    service = autoscaled.one(SERVICE)
    assert service.ignore_changes == ["desiredCount"] and service.inputs["desiredCount"] == 2
    target = autoscaled.one(TARGET)
    assert target.inputs["serviceNamespace"] == "ecs" and target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert target.inputs["resourceId"] == "service/serverless-containers-dev/web"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6)
    policies = {p.name: p.inputs for p in autoscaled.of_type(POLICY)}
    assert set(policies) == {"web-scaling-cpu", "web-scaling-memory"}
    cpu = policies["web-scaling-cpu"]["targetTrackingScalingPolicyConfiguration"]
    assert cpu["targetValue"] == 55
    assert cpu["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    memory = policies["web-scaling-memory"]["targetTrackingScalingPolicyConfiguration"]
    assert memory["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageMemoryUtilization"
    assert all(p["resourceId"] == target.inputs["resourceId"] for p in policies.values())
    assert autoscaled.of_type(ALARM) == []           # target tracking makes its own alarms
    scaling = autoscaled.outputs["apis"]["web"]["scaling"]
    assert scaling["managedBy"] == "autoscaling" and (scaling["min"], scaling["max"]) == (2, 6)


@pytest.fixture(scope="module")
def sleeper(source):
    return run(source, replicas=2, sleep={"afterIdleMinutes": 20})


def test_sleep_scales_to_zero_when_idle_and_wakes_on_a_request(sleeper):
    assert sleeper.one(SERVICE).ignore_changes == ["desiredCount"]
    assert sleeper.one(SERVICE).inputs["desiredCount"] == 2       # awake after a deploy; sleeps when idle
    target = sleeper.one(TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (0, 2)
    policies = {p.name: p for p in sleeper.of_type(POLICY)}
    sleep, wake = policies["web-scaling-sleep"], policies["web-scaling-wake"]
    for policy, bound, count in ((sleep, "metricIntervalUpperBound", 0), (wake, "metricIntervalLowerBound", 2)):
        step = policy.inputs["stepScalingPolicyConfiguration"]
        assert policy.inputs["policyType"] == "StepScaling" and step["adjustmentType"] == "ExactCapacity"
        assert step["stepAdjustments"] == [{bound: "0", "scalingAdjustment": count}]
    alarms = {a.name: a.inputs for a in sleeper.of_type(ALARM)}
    api_id = sleeper.one("aws:apigatewayv2/api:Api").id
    idle, woken = alarms["web-scaling-idle"], alarms["web-scaling-wake"]
    for alarm in (idle, woken):
        assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == ("AWS/ApiGateway", "Count", "Sum")
        assert alarm["dimensions"] == {"ApiId": api_id} and alarm["period"] == 60
    # a quiet API is idle: missing data breaches the sleep alarm
    assert (idle["comparisonOperator"], idle["threshold"], idle["treatMissingData"]) == ("LessThanThreshold", 1, "breaching")
    assert idle["evaluationPeriods"] == idle["datapointsToAlarm"] == 20
    assert idle["alarmActions"] == [sleep.outputs["arn"]]
    assert (woken["comparisonOperator"], woken["evaluationPeriods"], woken["treatMissingData"]) == (
        "GreaterThanOrEqualToThreshold", 1, "notBreaching")
    assert woken["alarmActions"] == [wake.outputs["arn"]]
    output = sleeper.outputs["apis"]["web"]["scaling"]
    assert output["managedBy"] == "sleep" and output["sleepAfterIdleMinutes"] == 20
    assert "503" in output["whileAsleep"] and "retry" in output["whileAsleep"]


def test_sleep_with_autoscaling_wakes_only_when_no_task_runs(source):
    result = run(source, scaling={"min": 0, "max": 4}, sleep={})
    target = result.one(TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (0, 4)
    wake = next(a.inputs for a in result.of_type(ALARM) if a.name == "web-scaling-wake")
    queries = {q["id"]: q for q in wake["metricQueries"]}
    assert queries["requests"]["metric"]["metricName"] == "Count"
    tasks = queries["tasks"]["metric"]
    assert (tasks["namespace"], tasks["metricName"], tasks["stat"]) == ("AWS/ECS", "CPUUtilization", "SampleCount")
    assert tasks["dimensions"] == {"ClusterName": "serverless-containers-dev", "ServiceName": "web"}
    assert "FILL(tasks, 0) == 0" in queries["asleep"]["expression"] and queries["asleep"]["returnData"] is True
    assert "metricName" not in wake
    step = next(p for p in result.of_type(POLICY) if p.name == "web-scaling-wake").inputs
    assert step["stepScalingPolicyConfiguration"]["stepAdjustments"][0]["scalingAdjustment"] == 1


def test_awake_hours_become_scheduled_actions_with_a_time_zone(source):
    result = run(source, sleep={"afterIdleMinutes": 30},
                 awake={"days": "MON-FRI", "hours": "08:00-20:00", "timezone": "Europe/Berlin"})
    actions = {a.name: a.inputs for a in result.of_type(SCHEDULED)}
    up, down = actions["web-scaling-wake-up"], actions["web-scaling-bedtime"]
    assert up["schedule"] == "cron(0 8 ? * MON-FRI *)" and down["schedule"] == "cron(0 20 ? * MON-FRI *)"
    assert up["timezone"] == down["timezone"] == "Europe/Berlin"
    assert up["scalableTargetAction"] == {"minCapacity": 1, "maxCapacity": 1}
    assert down["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 1}
    target = result.one(TARGET)
    assert target.ignore_changes == ["minCapacity"]
    assert all(a["resourceId"] == target.inputs["resourceId"] for a in actions.values())
    assert result.outputs["apis"]["web"]["scaling"]["managedBy"] == "sleep+schedule"


def test_scaling_is_registered_after_the_first_pipeline_run(sleeper):
    run_ = next(r for r in sleeper.resources if r.type.endswith(":PipelineRun"))
    target = sleeper.one(TARGET)
    assert run_.urn in target.dependencies
    for resource in sleeper.of_type(POLICY) + sleeper.of_type(ALARM):
        assert sleeper.depends_on(resource, run_), resource.name
