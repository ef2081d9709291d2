"""Issue 15: `alerts: {email}`: one SNS topic, an e-mail subscription, EventBridge rules for failed deploys,
tasks that cannot start and failed pipeline runs, and a 5xx-rate alarm per API (components/alerts.py)."""
from __future__ import annotations

import json

import pytest

from components.alerts import deployment_failed_pattern, pipeline_failed_pattern, task_failed_pattern
from ops.plan import mockrun
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")


@pytest.fixture(scope="module")
def alerted(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    web, hub = write_dockerfile_app(root, "web"), write_dockerfile_app(root, "hub")
    config = {"alerts": {"email": "ops@example.com"}, "apis": {
        "web": {"source": str(web), "auth": False, "sleep": {"afterIdleMinutes": 10}},
        "hub": {"source": str(hub), "auth": False, "build": "manual", "images": {"hub": "nginx:1.27"}}}}
    return mockrun.run(program.main, config=config, stack="prod")


def test_one_topic_with_an_email_subscription_and_a_policy_for_eventbridge(alerted):
    topic = alerted.one("aws:sns/topic:Topic")
    assert topic.inputs["name"] == "serverless-containers-prod-alerts"
    subscription = alerted.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs == {"topic": topic.outputs["arn"], "protocol": "email", "endpoint": "ops@example.com"}
    policy = json.loads(alerted.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert [st["Principal"] for st in policy["Statement"]] == [{"Service": "events.amazonaws.com"},
                                                              {"Service": "cloudwatch.amazonaws.com"}]
    for statement in policy["Statement"]:
        assert statement["Action"] == "sns:Publish" and statement["Resource"] == topic.outputs["arn"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": mockrun.ACCOUNT_ID}}


def test_rules_per_api_send_a_message_naming_stack_api_and_console(alerted):
    topic_arn = alerted.one("aws:sns/topic:Topic").outputs["arn"]
    rules = {r.name: r for r in alerted.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("alerts-")}
    # build: manual has no pipeline, so no build-failed rule
    assert set(rules) == {"alerts-web-deploy", "alerts-web-task", "alerts-web-build",
                          "alerts-hub-deploy", "alerts-hub-task"}
    services = {s.inputs["name"]: s.outputs["arn"] for s in alerted.of_type("aws:ecs/service:Service")}
    assert json.loads(rules["alerts-web-deploy"].inputs["eventPattern"]) == deployment_failed_pattern(
        services["web"])
    cluster_arn = alerted.one("aws:ecs/cluster:Cluster").outputs["arn"]
    assert json.loads(rules["alerts-hub-task"].inputs["eventPattern"]) == task_failed_pattern(cluster_arn, "hub")
    pipeline = alerted.one("aws:codepipeline/pipeline:Pipeline").inputs["name"]
    assert json.loads(rules["alerts-web-build"].inputs["eventPattern"]) == pipeline_failed_pattern(pipeline)
    targets = {t.name: t.inputs for t in alerted.of_type("aws:cloudwatch/eventTarget:EventTarget")
               if t.name.startswith("alerts-")}
    assert set(targets) == set(rules)
    for name, target in targets.items():
        assert target["arn"] == topic_arn
        message = json.loads(target["inputTransformer"]["inputTemplate"])
        api = name.split("-")[1]
        assert message.startswith(f"Stack prod, API {api}: ") and "Console: https://us-east-1.console.aws.amazon.com/" in message
    assert "/ecs/v2/clusters/serverless-containers-prod/services/web/" in json.loads(
        targets["alerts-web-deploy"]["inputTransformer"]["inputTemplate"])
    assert f"/codepipeline/pipelines/{pipeline}/" in targets["alerts-web-build"]["inputTransformer"]["inputTemplate"]


def test_a_5xx_rate_alarm_per_api_that_waits_out_a_wake(alerted):
    topic_arn = alerted.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = {a.inputs["name"]: a.inputs for a in alerted.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.name.endswith("-5xx")}
    assert set(alarms) == {"serverless-containers-prod-web-5xx-rate", "serverless-containers-prod-hub-5xx-rate"}
    web, hub = alarms["serverless-containers-prod-web-5xx-rate"], alarms["serverless-containers-prod-hub-5xx-rate"]
    api_ids = {a.inputs["name"].rsplit("-", 1)[-1]: a.id for a in alerted.of_type("aws:apigatewayv2/api:Api")}
    for api, alarm in (("web", web), ("hub", hub)):
        queries = {q["id"]: q for q in alarm["metricQueries"]}
        for query_id, metric_name in (("errors", "5xx"), ("requests", "Count")):
            metric = queries[query_id]["metric"]
            assert (metric["namespace"], metric["metricName"], metric["stat"]) == ("AWS/ApiGateway", metric_name, "Sum")
            assert metric["dimensions"] == {"ApiId": api_ids[api]}
        assert queries["rate"]["expression"] == "FILL(errors, 0) / requests" and queries["rate"]["returnData"] is True
        assert alarm["alarmActions"] == [topic_arn] and alarm["threshold"] == 0.05
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmDescription"].startswith("Stack prod, API ") and "Console: https://" in alarm["alarmDescription"]
    assert web["evaluationPeriods"] > hub["evaluationPeriods"]       # web sleeps: its wake answers 503s for minutes


def test_no_alerts_key_no_topic(tmp_path):
    web = write_dockerfile_app(tmp_path, "web")
    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(web), "auth": False}}}, stack="dev")
    assert result.of_type("aws:sns/topic:Topic") == []
    assert not [r for r in result.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("alerts-")]


def test_rule_names_fit_eventbridge_with_the_longest_api_name(tmp_path):
    from components.settings.checks import MAX_NAME_LENGTH
    longest = "a" * MAX_NAME_LENGTH
    web = write_dockerfile_app(tmp_path, longest)
    result = mockrun.run(program.main, config={"alerts": {"email": "ops@example.com"},
                                               "apis": {longest: {"source": str(web), "auth": False}}}, stack="dev")
    rules = [r.name for r in result.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("alerts-")]
    assert len(rules) == 3 and all(len(name) + 8 <= 64 for name in rules)     # Pulumi adds "-" and 7 characters
