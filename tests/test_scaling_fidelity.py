"""Issue 15 payloads against botocore's models (tests/fidelity): scalable targets, scaling policies, scheduled
actions, alarms, SNS and event patterns; and proof that the checks catch broken ones."""
from __future__ import annotations

import copy
import json

import pytest

from tests.fidelity import aws_requests, cases, checks, validate
from tests.ops_fixtures import fake_credentials  # noqa: F401

CASE = next(c for c in cases.STACK_CASES if c.id == "scaling-sleep-alerts")
NEW_OPERATIONS = {
    ("application-autoscaling", "RegisterScalableTarget"), ("application-autoscaling", "PutScalingPolicy"),
    ("application-autoscaling", "PutScheduledAction"), ("cloudwatch", "PutMetricAlarm"), ("sns", "CreateTopic"),
    ("sns", "Subscribe"), ("sns", "SetTopicAttributes"), ("events", "PutRule"), ("events", "PutTargets")}


@pytest.fixture(scope="module")
def translated():
    result = cases.run_case(CASE)
    return result, aws_requests.translate(result.resources)


def _requests(translation, operation):
    return [r for r in translation.requests if r.operation == operation]


def test_every_scaling_and_alert_payload_is_valid(translated):
    result, translation = translated
    found, _ = checks.findings(result)
    assert checks.new_findings(found) == []
    assert NEW_OPERATIONS <= checks.operations(translation)


def test_alarm_actions_name_the_policies_and_the_topic(translated):
    _, translation = translated
    alarms = {r.params["AlarmName"]: r.params for r in _requests(translation, "PutMetricAlarm")}
    assert set(alarms) == {f"serverless-containers-dev-{api}-{what}" for api in ("posts", "multi")
                           for what in ("idle", "wake", "5xx-rate")}
    for name, alarm in alarms.items():
        service = "sns" if name.endswith("5xx-rate") else "autoscaling"
        assert all(arn.split(":")[2] == service for arn in alarm["AlarmActions"]), name
    wake = alarms["serverless-containers-dev-multi-wake"]
    assert "MetricName" not in wake and [m["Id"] for m in wake["Metrics"]] == ["requests", "tasks", "asleep"]
    patterns = [json.loads(r.params["EventPattern"]) for r in _requests(translation, "PutRule")
                if "alerts" in r.name]
    assert {p["detail-type"][0] for p in patterns} == {
        "ECS Deployment State Change", "ECS Task State Change", "CodePipeline Pipeline Execution State Change"}


def _broken(translation, operation, change):
    request = copy.deepcopy(next(r for r in translation.requests if r.operation == operation))
    change(request.params)
    return validate.problems(request)


@pytest.mark.parametrize("operation, change, expected", [
    ("PutMetricAlarm", lambda p: p.update(EvaluationPeriods=1441, DatapointsToAlarm=1441), "86400"),
    ("PutMetricAlarm", lambda p: p.update(ComparisonOperator="LessThan"), "ComparisonOperator"),
    ("PutMetricAlarm", lambda p: p.update(TreatMissingData="idle"), "TreatMissingData"),
    ("PutMetricAlarm", lambda p: p.update(DatapointsToAlarm=99), "DatapointsToAlarm"),
    ("PutScheduledAction", lambda p: p.update(Schedule="cron(0 8 * * MON-FRI)"), "6 fields"),
    ("PutScheduledAction", lambda p: p.update(Timezone="Europe/Atlantis"), "IANA"),
    ("RegisterScalableTarget", lambda p: p.update(MinCapacity=5, MaxCapacity=2), "min <= max"),
    ("RegisterScalableTarget", lambda p: p.update(ScalableDimension="ecs:service:Count"), "ScalableDimension"),
    ("PutScalingPolicy", lambda p: p.update(PolicyType="StepScale"), "PolicyType"),
    ("PutRule", lambda p: p.update(EventPattern=json.dumps({"source": "aws.ecs"})), "not a non-empty list"),
    ("SetTopicAttributes", lambda p: p.update(AttributeValue=json.dumps({"Statement": [{"Effect": "Allow"}]})), ""),
])
def test_broken_payloads_are_caught(translated, operation, change, expected):
    _, translation = translated
    found = _broken(translation, operation, change)
    assert found and any(expected in f for f in found), found


def test_expression_naming_a_missing_query_is_caught(translated):
    _, translation = translated

    def math_only(params):
        for key in ("MetricName", "Statistic", "Namespace", "Period", "Dimensions"):
            params.pop(key, None)
        params["Metrics"] = [{"Id": "e", "Expression": "IF(requests > 0, 1, 0)", "ReturnData": True}]
    found = _broken(translation, "PutMetricAlarm", math_only)
    assert any("'requests'" in f for f in found), found


def test_moto_smoke_deploys_the_scaling_and_alert_requests(translated, fake_credentials):
    from tests.fidelity import moto_smoke
    result, translation = translated
    report = moto_smoke.smoke_deploy(result, translation)
    assert report.failures == []
    sent = {where.split(": ")[-1] for where in report.sent}
    assert {"application-autoscaling.RegisterScalableTarget", "application-autoscaling.PutScalingPolicy",
            "application-autoscaling.PutScheduledAction", "cloudwatch.PutMetricAlarm", "sns.CreateTopic",
            "sns.Subscribe", "sns.SetTopicAttributes"} <= sent


def test_moto_refuses_a_scalable_target_for_a_service_that_does_not_exist(translated, fake_credentials):
    from tests.fidelity import moto_smoke
    result, translation = translated
    broken = copy.deepcopy(translation)
    target = next(r for r in broken.requests if r.operation == "RegisterScalableTarget")
    target.params["ResourceId"] = "service/serverless-containers-dev/no-such-service"
    report = moto_smoke.smoke_deploy(result, broken)
    assert any("RegisterScalableTarget" in f and "moto refused" in f for f in report.failures), report.failures
