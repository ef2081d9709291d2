"""The fast path out of sleep: the API's first request wakes it within seconds instead of minutes.

While an API sleeps (0 tasks), API Gateway answers every request with 503 and writes it to the stage's JSON access
log. A CloudWatch Logs subscription filter on that log group matches those 503 lines and invokes a small Lambda
function (components/functions/waker.py, in this repository) that raises the ECS service's desired count to the
awake count, unless the service is awake, already waking or paused (`ops pause`). The sleep alarm still puts the API
to sleep, and the wake alarm (components/scaling.py) stays as the fallback should log delivery stall.

Nothing here costs anything while idle: the subscription filter is free, and the function is billed per request and
GB-second (reserved concurrency is free). docs/design.md, "Sleep and wake", has the wake-time arithmetic.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.pipeline.access import ecs_service_arn
from components.settings.regions import partition_of

FUNCTION_SOURCE = Path(__file__).resolve().parent / "functions" / "waker.py"
HANDLER = "waker.handler"
RUNTIME = "python3.12"
# One invocation at a time: a burst of 503s must not become a burst of UpdateService calls. CloudWatch Logs
# retries a throttled delivery (docs/design.md), and the first invocation has woken the API by then anyway.
RESERVED_CONCURRENCY = 1
TIMEOUT_SECONDS = 30
MEMORY_MB = 128
# The access log's `status` is written as a JSON string (components/api.py, ACCESS_LOG_FORMAT), so the pattern
# compares strings. 503 is what API Gateway answers while Cloud Map has no instance (docs/design.md, "Sleep and
# wake"): AWS documents no integration error text for that case, so the pattern keys on the status alone; an
# app's own 503 invokes the function too, which then finds the service awake and does nothing.
ASLEEP_FILTER_PATTERN = '{ $.status = "503" }'


def waker_log_group_name(stack: str, api: str) -> str:
    return f"/aws/lambda/serverless-containers-{stack}-{api}-waker"


def function_policy(service_arn: str, log_group_arn: str) -> dict:
    """What the function may do: read and set this one service's count, read scalable targets, write its log."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ThisServiceCount", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": service_arn},
        # DescribeScalableTargets supports no resource-level permission (Service Authorization Reference, Application
        # Auto Scaling: no resource type for the action), so the statement names every resource; the function asks
        # for this service's target only, and it is read-only.
        {"Sid": "PausedOrNot", "Effect": "Allow", "Action": "application-autoscaling:DescribeScalableTargets",
         "Resource": "*"},
        {"Sid": "OwnLog", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"}]}


def trust_policy(account_id: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}]}


@dataclass
class ApiWakerArgs:
    stack: str
    api: str
    region: str
    account_id: str
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The ECS service the function may read and scale: its ARN is the only one in the role's ECS statement."""
    access_log_group_name: pulumi.Input[str]
    access_log_group_arn: pulumi.Input[str]
    """The stage's JSON access log (components/api.py); the subscription filter sits on it."""
    awake_count: int
    """Tasks the function starts (CountPlan.replicas); kept within the scalable target's min..max."""
    log_retention_days: int = 7
    after: list[pulumi.Resource] = field(default_factory=list)
    """Ordering only: what the subscription (the first invocation) waits for, e.g. the scalable target."""
    tags: dict[str, str] = field(default_factory=dict)


class ApiWaker(pulumi.ComponentResource):
    """The function, its role, its log group and the subscription filter that feeds it."""

    function_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: ApiWakerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:waker:ApiWaker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Created before the function so its retention applies from the first line (Lambda would otherwise create
        # the group itself, kept forever).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-log", name=waker_log_group_name(args.stack, args.api),
            retention_in_days=args.log_retention_days, tags=args.tags, opts=child)
        role = aws.iam.Role(
            f"{name}-role", description=f"the waker of {args.api} (stack {args.stack}) starts its sleeping service",
            assume_role_policy=json.dumps(trust_policy(args.account_id)), tags=args.tags, opts=child)
        service_arn = pulumi.Output.all(args.cluster_name, args.service_name).apply(
            lambda parts: ecs_service_arn(partition_of(args.region), args.region, args.account_id, parts[0],
                                          parts[1]))
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=role.id,
            policy=pulumi.Output.all(service_arn, log_group.arn).apply(
                lambda parts: json.dumps(function_policy(parts[0], parts[1]))),
            opts=child)
        function = aws.lambda_.Function(
            f"{name}-function", description=f"wakes API {args.api} of stack {args.stack} on its first request",
            runtime=RUNTIME, handler=HANDLER, role=role.arn, architectures=["arm64"],
            code=pulumi.AssetArchive({"waker.py": pulumi.FileAsset(str(FUNCTION_SOURCE))}),
            memory_size=MEMORY_MB, timeout=TIMEOUT_SECONDS, reserved_concurrent_executions=RESERVED_CONCURRENCY,
            environment={"variables": {"CLUSTER": args.cluster_name, "SERVICE": args.service_name,
                                       "AWAKE_COUNT": str(args.awake_count)}},
            logging_config={"log_format": "Text", "log_group": log_group.name}, tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        permission = aws.lambda_.Permission(
            f"{name}-invoke", action="lambda:InvokeFunction", function=function.name,
            principal="logs.amazonaws.com", source_account=args.account_id,
            source_arn=pulumi.Output.from_input(args.access_log_group_arn).apply(
                lambda arn: arn if arn.endswith(":*") else f"{arn}:*"),
            opts=child)
        aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-asleep", name=f"{args.api}-wake-on-503", log_group=args.access_log_group_name,
            filter_pattern=ASLEEP_FILTER_PATTERN, destination_arn=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, *args.after]))
        self.function_name = function.name
        self.log_group_name = log_group.name
        self.register_outputs({"functionName": function.name, "logGroupName": log_group.name})
