"""Keep a sleeping API awake while a pipeline run deploys to it, so the deploy is checked on running tasks.

At 0 tasks the pipeline's ECS deploy action has nothing to roll out: it reports success at once, Promote moves
``deployed`` to the new build, and a broken build only shows when the API wakes (and then crash-loops behind
503s, because scaling up is not a deployment and the circuit breaker does not act). So before the run can reach
its Deploy stage, the ``PipelineRun`` waiter (components/providers/pipeline_run.py) calls ``hold_awake``:

1. the scalable target's minimum goes up to the awake count, so neither the idle alarm (which repeats its
   "0 tasks" action every minute while in ALARM) nor target tracking can take the service down mid-deploy;
2. the desired count goes up to the awake count, so ECS starts tasks of the build that is deployed now;
3. a one-time scheduled action puts the minimum back at a deadline: if `pulumi up` is killed, the API still
   falls asleep again afterwards.

The Deploy stage then rolls the new build out onto running tasks: ECS waits for them, its circuit breaker rolls a
crash-looping build back, the action fails, and Promote never runs. After the run the waiter waits until the
tasks are healthy and calls ``release``: the minimum goes back to what it was and the deadline action is
deleted. The desired count is left to the alarms: a quiet API sleeps again within a minute (the idle alarm is
still in ALARM), one that got requests meanwhile stays up.

A paused API (``ops pause`` suspends its scaling) is left alone: the operator chose 0 tasks. So is an API
without a scalable target (the stack sets its count; a first deploy scales up in ``run_pipeline`` itself).
Pure functions over injected boto3 clients (ECS, Application Auto Scaling), tested with moto
(tests/test_sleeping_deploy.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
DEADLINE_ACTION_SUFFIX = "-deploy-check-end"
# Each key ``ops pause`` sets (ops/cloud/scaling.py); any of them set means someone suspended scaling on purpose.
SUSPENSION_KEYS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


@dataclass(frozen=True)
class Hold:
    """A sleeping API held at its awake count for one pipeline run."""

    cluster: str
    service: str
    awake_count: int
    previous_min: int
    woke: bool
    """True when the service was below the awake count (asleep) and the hold raised it."""


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def deadline_action_name(service: str) -> str:
    return f"{service}{DEADLINE_ACTION_SUFFIX}"


def _target(autoscaling, cluster: str, service: str) -> dict | None:
    found = autoscaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[resource_id(cluster, service)],
                                                  ScalableDimension=DIMENSION).get("ScalableTargets") or []
    return found[0] if found else None


def _deadline_action(autoscaling, cluster: str, service: str) -> dict | None:
    found = autoscaling.describe_scheduled_actions(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id(cluster, service), ScalableDimension=DIMENSION,
        ScheduledActionNames=[deadline_action_name(service)]).get("ScheduledActions") or []
    return found[0] if found else None


def _at(moment: datetime) -> str:
    """An Application Auto Scaling one-time schedule, in UTC (no Timezone is set)."""
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def hold_awake(ecs, autoscaling, cluster: str, service: str, awake_count: int, *, deadline: datetime,
               report: Callable[[str], None] = lambda _m: None) -> Hold | None:
    """Hold an API that may sleep at ``awake_count`` tasks until ``release`` (or, at the latest, ``deadline``, a UTC
    time). None when there is nothing to hold: no scalable target, a paused API, or a minimum that already keeps
    the API awake."""
    target = _target(autoscaling, cluster, service)
    if target is None:
        return None
    state = target.get("SuspendedState") or {}
    if any(state.get(key) for key in SUSPENSION_KEYS):
        report(f"service {service} is paused (its scaling is suspended): the new build is deployed at the count it "
               "has and is checked only when it runs; `python -m ops resume` starts it")
        return None
    earlier = _deadline_action(autoscaling, cluster, service)
    # An earlier run's hold that nobody released still holds the minimum up: its deadline action knows the real one.
    previous = int((earlier or {}).get("ScalableTargetAction", {}).get("MinCapacity", target.get("MinCapacity", 0)))
    if previous >= awake_count:
        return None
    autoscaling.put_scheduled_action(
        ServiceNamespace=NAMESPACE, ScheduledActionName=deadline_action_name(service),
        ResourceId=resource_id(cluster, service), ScalableDimension=DIMENSION, Schedule=_at(deadline),
        ScalableTargetAction={"MinCapacity": previous})
    autoscaling.register_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=resource_id(cluster, service),
                                         ScalableDimension=DIMENSION, MinCapacity=awake_count)
    current = ecs.describe_services(cluster=cluster, services=[service]).get("services") or [{}]
    desired = int(current[0].get("desiredCount", 0))
    woke = desired < awake_count
    if woke:
        ecs.update_service(cluster=cluster, service=service, desiredCount=awake_count)
    report(f"service {service} may sleep, so it is held at {awake_count} task(s) while the pipeline deploys "
           f"(it had {desired}): the new build is rolled out onto running tasks and checked before Promote")
    return Hold(cluster=cluster, service=service, awake_count=awake_count, previous_min=previous, woke=woke)


def release(autoscaling, hold: Hold, report: Callable[[str], None] = lambda _m: None) -> None:
    """Put the minimum back and drop the deadline action; the alarms then decide when the API sleeps again. A
    minimum someone else changed meanwhile (the awake schedule, `ops`) is left as it is."""
    target = _target(autoscaling, hold.cluster, hold.service)
    if target is not None and int(target.get("MinCapacity", -1)) == hold.awake_count:
        autoscaling.register_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id(hold.cluster, hold.service),
            ScalableDimension=DIMENSION, MinCapacity=hold.previous_min)
    try:
        autoscaling.delete_scheduled_action(
            ServiceNamespace=NAMESPACE, ScheduledActionName=deadline_action_name(hold.service),
            ResourceId=resource_id(hold.cluster, hold.service), ScalableDimension=DIMENSION)
    except autoscaling.exceptions.ObjectNotFoundException:
        pass
    report(f"service {hold.service}: minimum back to {hold.previous_min} task(s); it sleeps again after its idle time")
