"""Who sets an API's task count: Application Auto Scaling on its ECS service.

* ``scaling``: target tracking on the service's average CPU (and memory) between min and max tasks, and/or on the
  API's requests per running task (``requestsPerTask``: metric math over ``AWS/ApiGateway`` ``Count`` by ``ApiId``
  and Container Insights' ``RunningTaskCount`` of the service).
* ``sleep``: two CloudWatch alarms on the API's own request metric (``AWS/ApiGateway`` ``Count`` by ``ApiId``)
  drive step-scaling policies: no request for ``afterIdleMinutes`` -> exactly 0 tasks (missing data counts as
  idle); a request while asleep -> the awake count. CloudWatch repeats Auto Scaling actions every minute
  while an alarm stays in ALARM, and Application Auto Scaling keeps every result within the target's min..max.
  The first request normally wakes the API through the waker (components/waker.py) within seconds; the wake alarm
  is the fallback, and it never lowers a count (``wake_step``).
* ``awake``: two scheduled actions (with a time zone) raise the minimum to the awake count when the hours begin
  and lower it to 0 when they end.

When this component exists, the ECS service ignores changes to its desired count (components/service.py):
otherwise every `pulumi up` would undo what scaling did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import wake_time
from components.providers.deploy_wake import resource_id
from components.settings.scaling import CountPlan

SCALABLE_DIMENSION = "ecs:service:DesiredCount"
# API Gateway publishes its metrics every minute; 60 s is the shortest period they have.
METRIC_PERIOD_SECONDS = 60
# What a caller sees while the API sleeps or wakes: API Gateway finds no instance in Cloud Map.
ASLEEP_RESPONSE = '503 Service Unavailable, body {"message":"Service Unavailable"}'


def alarm_name(stack: str, api: str, what: str) -> str:
    return f"serverless-containers-{stack}-{api}-{what}"


def requests_per_task_expression() -> str:
    """Requests a minute per running task. A quiet minute has no Count data point (0 requests); a service with no
    running task divides by 1, so the first requests still count in full."""
    return "FILL(requests, 0) / IF(FILL(tasks, 0) > 0, FILL(tasks, 0), 1)"


def requests_per_task_metrics(http_api_id: pulumi.Input[str], cluster_name: pulumi.Input[str],
                              service_name: pulumi.Input[str]) -> list[dict]:
    """The customized metric of the request-rate policy (Application Auto Scaling metric math)."""
    return [
        {"id": "requests", "label": "API requests a minute", "return_data": False, "metric_stat": {
            "stat": "Sum", "metric": {"namespace": "AWS/ApiGateway", "metric_name": "Count",
                                      "dimensions": [{"name": "ApiId", "value": http_api_id}]}}},
        {"id": "tasks", "label": "running tasks", "return_data": False, "metric_stat": {
            "stat": "Average", "metric": {"namespace": "ECS/ContainerInsights", "metric_name": "RunningTaskCount",
                                          "dimensions": [{"name": "ClusterName", "value": cluster_name},
                                                         {"name": "ServiceName", "value": service_name}]}}},
        {"id": "per_task", "label": "requests a minute per running task", "return_data": True,
         "expression": requests_per_task_expression()},
    ]


def wake_expression() -> str:
    """1 when requests came in and no task reported CPU (the service is asleep), else 0. A minute whose CPU
    metric is merely late also reads 0 here, so the alarm needs it in 2 of 2 minutes (WAKE_POINTS)."""
    return "IF(requests > 0 AND FILL(tasks, 0) == 0, 1, 0)"


# A busy service's CPU metric can land after the request count of the same minute; the minute before it has
# landed. Two breaching minutes in a row therefore mean no task is running, not a late data point.
WAKE_POINTS = 2


def wake_step(plan: CountPlan) -> dict:
    """The wake policy's step: it only ever raises the count. Without autoscaling above the awake count the target's
    max is the awake count, so setting exactly that count cannot lower anything; with it, the step adds the awake
    count (from 0 that is the awake count; a service whose tasks all vanished gets more, within max) and its
    cooldown keeps the repeated alarm action from adding again while the tasks start."""
    if plan.scales_above_minimum:
        return {"adjustment_type": "ChangeInCapacity", "cooldown": WAKE_COOLDOWN_SECONDS,
                "metric_aggregation_type": "Maximum",
                "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": plan.replicas}]}
    return {"adjustment_type": "ExactCapacity", "cooldown": METRIC_PERIOD_SECONDS, "metric_aggregation_type": "Maximum",
            "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": plan.replicas}]}


# Longer than a task takes to start and report CPU (docs/design.md, "Wake time"), so one wake adds once.
WAKE_COOLDOWN_SECONDS = 300


def wake_seconds(plan: CountPlan) -> tuple[int, int]:
    """(fastest, typical) seconds from the first request to the first 200 through the waker, for a small image
    (components/wake_time.py adds up the parts; docs/design.md cites each)."""
    return wake_time.wake_seconds()


def describe(plan: CountPlan) -> dict:
    """The `scaling` stack output of one API (ops status/pause/resume read it)."""
    out: dict = {"managedBy": plan.managed_by, "min": plan.min, "max": plan.max, "awakeCount": plan.replicas}
    if plan.scaling:
        if plan.scaling.cpu_percent is not None:
            out["cpuPercent"] = plan.scaling.cpu_percent
        if plan.scaling.memory_percent is not None:
            out["memoryPercent"] = plan.scaling.memory_percent
        if plan.scaling.requests_per_task is not None:
            out["requestsPerTask"] = plan.scaling.requests_per_task
    if plan.sleep:
        fastest, typical = wake_seconds(plan)
        out["sleepAfterIdleMinutes"] = plan.sleep.after_idle_minutes
        out["wakeSeconds"] = [fastest, typical]
        out["whileAsleep"] = (f"API Gateway answers {ASLEEP_RESPONSE} until a task is running; the first request "
                              f"wakes the API in about {typical} s ({fastest} s at best). Clients should retry 503s "
                              f"with backoff for up to {typical} s.")
    if plan.awake:
        out["awake"] = {"days": plan.awake.days, "hours": f"{plan.awake.start[0]:02d}:{plan.awake.start[1]:02d}-"
                        f"{plan.awake.end[0]:02d}:{plan.awake.end[1]:02d}", "timezone": plan.awake.timezone}
    return out


@dataclass
class ApiScalingArgs:
    stack: str
    api: str
    plan: CountPlan
    """The counts and settings (components.settings.scaling.count_plan)."""
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The ECS service; passing its name output makes the target wait for the service."""
    http_api_id: pulumi.Input[str] | None = None
    """The HTTP API whose `Count` metric tells whether the API is idle; needed when the plan sleeps."""
    scale_in_cooldown_seconds: int = 300
    """Target tracking waits this long after a scale-in before the next one (avoids flapping)."""
    scale_out_cooldown_seconds: int = 60
    after: list[pulumi.Resource] = field(default_factory=list)
    """Resources the scalable target (and so everything here) waits for: the first deploy's PipelineRun, whose wait
    for the scaled-up service must not race the idle alarm (a new alarm counts the quiet minutes before it existed as
    idle and fires at once)."""
    tags: dict[str, str] = field(default_factory=dict)


class ApiScaling(pulumi.ComponentResource):
    """The scalable target of one API's ECS service and whatever moves its count."""

    target_resource_id: pulumi.Output[str]
    target_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ApiScalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:scaling:ApiScaling", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        ids = pulumi.Output.all(args.cluster_name, args.service_name).apply(lambda p: resource_id(p[0], p[1]))
        target = aws.appautoscaling.Target(
            f"{name}-target", service_namespace="ecs", scalable_dimension=SCALABLE_DIMENSION, resource_id=ids,
            min_capacity=plan.min, max_capacity=plan.max, tags=args.tags,
            # The awake schedule moves the minimum; a later `pulumi up` must not put it back mid-day.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["minCapacity"] if plan.awake else None,
                                        depends_on=list(args.after)))
        on_target = {"service_namespace": target.service_namespace, "scalable_dimension": target.scalable_dimension,
                     "resource_id": target.resource_id}

        if plan.scaling:
            metrics = []
            if plan.scaling.cpu_percent is not None:
                metrics.append(("cpu", "ECSServiceAverageCPUUtilization", plan.scaling.cpu_percent))
            if plan.scaling.memory_percent is not None:
                metrics.append(("memory", "ECSServiceAverageMemoryUtilization", plan.scaling.memory_percent))
            for short, metric, percent in metrics:
                aws.appautoscaling.Policy(
                    f"{name}-{short}", name=f"{args.api}-{short}-{percent:g}pct", policy_type="TargetTrackingScaling",
                    target_tracking_scaling_policy_configuration={
                        "target_value": percent,
                        "predefined_metric_specification": {"predefined_metric_type": metric},
                        "scale_in_cooldown": args.scale_in_cooldown_seconds,
                        "scale_out_cooldown": args.scale_out_cooldown_seconds},
                    **on_target, opts=child)
            if plan.scaling.requests_per_task is not None:
                self._requests_per_task(name, args, on_target, child)

        if plan.sleep:
            if args.http_api_id is None:
                raise ValueError("sleep needs the HTTP API id (its Count metric)")
            self._sleep_and_wake(name, args, on_target, child)

        if plan.awake:
            awake = plan.awake
            for short, at, minimum in (("wake-up", awake.start, plan.replicas), ("bedtime", awake.end, 0)):
                aws.appautoscaling.ScheduledAction(
                    f"{name}-{short}", name=f"{args.api}-{short}", schedule=awake.cron(at), timezone=awake.timezone,
                    scalable_target_action={"min_capacity": minimum, "max_capacity": plan.max}, **on_target,
                    opts=child)

        self.target_resource_id = target.resource_id
        self.target_arn = target.arn
        self.register_outputs({"targetResourceId": target.resource_id})

    def _requests_per_task(self, name: str, args: ApiScalingArgs, on_target: dict, child: pulumi.ResourceOptions):
        if args.http_api_id is None:
            raise ValueError("requestsPerTask needs the HTTP API id (its Count metric)")
        per_task = args.plan.scaling.requests_per_task
        aws.appautoscaling.Policy(
            f"{name}-requests", name=f"{args.api}-requests-{per_task:g}-per-task", policy_type="TargetTrackingScaling",
            target_tracking_scaling_policy_configuration={
                "target_value": per_task,
                "customized_metric_specification": {"metrics": requests_per_task_metrics(
                    args.http_api_id, args.cluster_name, args.service_name)},
                "scale_in_cooldown": args.scale_in_cooldown_seconds,
                "scale_out_cooldown": args.scale_out_cooldown_seconds},
            **on_target, opts=child)

    def _sleep_and_wake(self, name: str, args: ApiScalingArgs, on_target: dict, child: pulumi.ResourceOptions):
        plan = args.plan
        assert plan.sleep is not None
        requests = {"namespace": "AWS/ApiGateway", "metric_name": "Count", "dimensions": {"ApiId": args.http_api_id}}
        sleep_policy = aws.appautoscaling.Policy(
            f"{name}-sleep", name=f"{args.api}-sleep", policy_type="StepScaling",
            step_scaling_policy_configuration={
                "adjustment_type": "ExactCapacity", "cooldown": METRIC_PERIOD_SECONDS,
                "metric_aggregation_type": "Maximum",
                # The alarm fires below its threshold, so the breach lies below 0.
                "step_adjustments": [{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}]},
            **on_target, opts=child)
        wake_policy = aws.appautoscaling.Policy(
            f"{name}-wake", name=f"{args.api}-wake", policy_type="StepScaling",
            step_scaling_policy_configuration=wake_step(plan), **on_target, opts=child)
        minutes = plan.sleep.after_idle_minutes
        aws.cloudwatch.MetricAlarm(
            f"{name}-idle", name=alarm_name(args.stack, args.api, "idle"),
            alarm_description=f"Stack {args.stack}, API {args.api}: no request for {minutes} minutes, so the API "
                              f"sleeps (0 tasks). Missing data counts as idle.",
            statistic="Sum", period=METRIC_PERIOD_SECONDS, evaluation_periods=minutes, datapoints_to_alarm=minutes,
            threshold=1, comparison_operator="LessThanThreshold", treat_missing_data="breaching",
            alarm_actions=[sleep_policy.arn], tags=args.tags, **requests, opts=child)
        wake = {"name": alarm_name(args.stack, args.api, "wake"),
                "alarm_description": f"Stack {args.stack}, API {args.api}: a request came in while asleep, so the API "
                                     f"wakes ({plan.replicas} task(s)).",
                "evaluation_periods": 1, "datapoints_to_alarm": 1, "threshold": 1,
                "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
                "alarm_actions": [wake_policy.arn], "tags": args.tags}
        if plan.scales_above_minimum:
            # Autoscaling may run more tasks than the awake count: wake only when no task has reported for 2 minutes
            # in a row (a late CPU data point is not 0 tasks).
            wake.update(evaluation_periods=WAKE_POINTS, datapoints_to_alarm=WAKE_POINTS)
            aws.cloudwatch.MetricAlarm(f"{name}-wake", metric_queries=[
                {"id": "requests", "return_data": False, "metric": {
                    **{k: v for k, v in requests.items()}, "period": METRIC_PERIOD_SECONDS, "stat": "Sum"}},
                {"id": "tasks", "return_data": False, "metric": {
                    "namespace": "AWS/ECS", "metric_name": "CPUUtilization", "period": METRIC_PERIOD_SECONDS,
                    "stat": "SampleCount",
                    "dimensions": {"ClusterName": args.cluster_name, "ServiceName": args.service_name}}},
                {"id": "asleep", "expression": wake_expression(), "label": "requests while no task runs",
                 "return_data": True}], **wake, opts=child)
        else:
            aws.cloudwatch.MetricAlarm(f"{name}-wake", statistic="Sum", period=METRIC_PERIOD_SECONDS, **requests,
                                       **wake, opts=child)
