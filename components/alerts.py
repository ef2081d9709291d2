"""Alerts: one SNS topic per stack with an e-mail subscription, fed by EventBridge rules and CloudWatch alarms.

Per API: failed ECS deployments (the circuit breaker rolled back), tasks that cannot start or crash, failed
pipeline runs, and a 5xx-rate alarm. Every message names the stack, the API and the console page to open.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# Tasks stopped for these reasons did not get to serve (a sleeping or scaled-in service stops its tasks with
# ServiceSchedulerInitiated, which is not an alert).
FAILED_TASK_STOP_CODES = ("TaskFailedToStart", "EssentialContainerExited")
# 5xx share of requests (the `5xx` metric's Average) that counts as failing, and for how many minutes in a row.
ERROR_RATE = 0.05
ERROR_MINUTES = 3
# A sleeping API answers 503 while it wakes: about a minute through the waker, 3-4 minutes when the wake alarm
# (the fallback) wakes it (docs/design.md, "Wake time"). Its alarm waits the slower case out.
ERROR_MINUTES_WHEN_SLEEPING = 6


def error_rate_expression() -> str:
    """The share of requests answered 5xx in a period (0..1)."""
    return "FILL(errors, 0) / requests"


def topic_name(stack: str) -> str:
    return f"serverless-containers-{stack}-alerts"


def service_console_url(region: str, cluster: str, service: str) -> str:
    return (f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/"
            f"deployments?region={region}")


def pipeline_console_url(region: str, pipeline: str) -> str:
    return f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}/view?region={region}"


def api_console_url(region: str, api_id: str) -> str:
    return f"https://{region}.console.aws.amazon.com/apigateway/main/monitor/dashboard?api={api_id}&region={region}"


def deployment_failed_pattern(service_arn: str) -> dict:
    return {"source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"], "resources": [service_arn],
            "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}}


def task_failed_pattern(cluster_arn: str, service: str) -> dict:
    return {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
            "detail": {"clusterArn": [cluster_arn], "group": [f"service:{service}"], "lastStatus": ["STOPPED"],
                       "stopCode": list(FAILED_TASK_STOP_CODES)}}


def pipeline_failed_pattern(pipeline: str) -> dict:
    return {"source": ["aws.codepipeline"], "detail-type": ["CodePipeline Pipeline Execution State Change"],
            "detail": {"pipeline": [pipeline], "state": ["FAILED"]}}


def topic_policy(topic_arn: str, account_id: str) -> dict:
    """EventBridge rules and CloudWatch alarms of this account may publish. The policy replaces SNS's default one,
    which is why CloudWatch is named too; the account's own principals keep their IAM permissions."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"{sid}OfThisAccount", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sns:Publish",
         "Resource": topic_arn, "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}
        for sid, service in (("EventBridgeRules", "events.amazonaws.com"), ("CloudWatchAlarms", "cloudwatch.amazonaws.com"))]}


@dataclass
class AlertedApi:
    """One API the alerts watch: names and ids only."""

    api: str
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    service_name: pulumi.Input[str]
    service_arn: pulumi.Input[str]
    http_api_id: pulumi.Input[str]
    pipeline_name: pulumi.Input[str] | None = None
    """None for `build: manual` (no pipeline)."""
    sleeps: bool = False
    """True: 503s while waking are expected, so the 5xx alarm waits longer."""


@dataclass
class AlertsArgs:
    stack: str
    region: str
    account_id: str
    email: str
    """Gets a confirmation e-mail from AWS first; nothing is delivered until the link in it is followed."""
    apis: list[AlertedApi] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


class Alerts(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:alerts:Alerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(f"{name}-topic", name=topic_name(args.stack), tags=args.tags, opts=child)
        aws.sns.TopicPolicy(f"{name}-topic", arn=topic.arn,
                            policy=topic.arn.apply(lambda arn: json.dumps(topic_policy(arn, args.account_id))),
                            opts=child)
        aws.sns.TopicSubscription(f"{name}-email", topic=topic.arn, protocol="email", endpoint=args.email, opts=child)
        for watched in args.apis:
            self._api(name, args, watched, topic.arn, child)
        self.topic_arn = topic.arn
        self.register_outputs({"topicArn": topic.arn})

    def _rule(self, name: str, description: str, pattern: pulumi.Input[str], message: pulumi.Input[str],
              input_paths: dict[str, str], topic_arn: pulumi.Input[str], tags: dict, child) -> None:
        rule = aws.cloudwatch.EventRule(name, description=description, event_pattern=pattern, tags=tags, opts=child)
        aws.cloudwatch.EventTarget(name, rule=rule.name, arn=topic_arn, input_transformer={
            "input_paths": input_paths, "input_template": message}, opts=child)

    def _api(self, name: str, args: AlertsArgs, watched: AlertedApi, topic_arn, child) -> None:
        stack, api, region = args.stack, watched.api, args.region
        tags = {**args.tags, "api": api}
        service_url = pulumi.Output.all(watched.cluster_name, watched.service_name).apply(
            lambda p: service_console_url(region, p[0], p[1]))

        def text(what: str, url: pulumi.Input[str]) -> pulumi.Output[str]:
            # An input template that is a JSON string reaches SNS (and the e-mail) as plain text.
            return pulumi.Output.from_input(url).apply(lambda u: json.dumps(
                f"Stack {stack}, API {api}: {what} Console: {u}"))

        self._rule(f"{name}-{api}-deploy", f"stack {stack}, API {api}: ECS deployment failed (rolled back)",
                   pulumi.Output.from_input(watched.service_arn).apply(
                       lambda arn: json.dumps(deployment_failed_pattern(arn))),
                   text("a deployment failed and the circuit breaker rolled it back (<reason>).", service_url),
                   {"reason": "$.detail.reason"}, topic_arn, tags, child)
        self._rule(f"{name}-{api}-task", f"stack {stack}, API {api}: a task could not start or crashed",
                   pulumi.Output.all(watched.cluster_arn, watched.service_name).apply(
                       lambda p: json.dumps(task_failed_pattern(p[0], p[1]))),
                   text("a task stopped (<stopCode>: <reason>).", service_url),
                   {"stopCode": "$.detail.stopCode", "reason": "$.detail.stoppedReason"}, topic_arn, tags, child)
        if watched.pipeline_name is not None:
            self._rule(f"{name}-{api}-build", f"stack {stack}, API {api}: pipeline run failed",
                       pulumi.Output.from_input(watched.pipeline_name).apply(
                           lambda p: json.dumps(pipeline_failed_pattern(p))),
                       text("pipeline run <execution> failed.", pulumi.Output.from_input(watched.pipeline_name).apply(
                           lambda p: pipeline_console_url(region, p))),
                       {"execution": "$.detail.execution-id"}, topic_arn, tags, child)
        minutes = ERROR_MINUTES_WHEN_SLEEPING if watched.sleeps else ERROR_MINUTES
        description = pulumi.Output.from_input(watched.http_api_id).apply(lambda api_id: (
            f"Stack {stack}, API {api}: more than {ERROR_RATE:.0%} of requests failed with 5xx for {minutes} minutes in "
            f"a row. Console: {api_console_url(region, api_id)}"))
        # The rate as errors / requests: the HTTP API docs define both metrics as counts (Sum), so the rate does not
        # rest on how `5xx` is averaged. No request in a minute: no data point, which is not a breach.
        metric = lambda metric_name: {"namespace": "AWS/ApiGateway", "metric_name": metric_name, "period": 60,  # noqa: E731
                                      "stat": "Sum", "dimensions": {"ApiId": watched.http_api_id}}
        aws.cloudwatch.MetricAlarm(
            f"{name}-{api}-5xx", name=f"serverless-containers-{stack}-{api}-5xx-rate", alarm_description=description,
            metric_queries=[
                {"id": "errors", "return_data": False, "metric": metric("5xx")},
                {"id": "requests", "return_data": False, "metric": metric("Count")},
                {"id": "rate", "expression": error_rate_expression(), "label": "share of requests answered 5xx",
                 "return_data": True}],
            evaluation_periods=minutes, datapoints_to_alarm=minutes, threshold=ERROR_RATE,
            comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
            alarm_actions=[topic_arn], ok_actions=[topic_arn], tags=tags, opts=child)
