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
Three holders may hold the same API: this waiter, the pipeline's own wake step (components/pipeline/
deploy_check.py, for runs `pulumi up` does not wait for: a GitHub push, "Release change"), and `ops rollback`
(ops/cloud/rollback.py, which rolls an earlier build out with UpdateService itself). Each registers its own
deadline action (``<service>-deploy-check-end``, ``<service>-pipeline-check-end``,
``<service>-rollback-check-end``), and each records the minimum the
API had before anyone held it. A holder that lets go deletes its own action and puts the minimum back only when no
other hold is still live (its deadline not yet reached): the last one out lets the API sleep.

Pure functions over injected boto3 clients (ECS, Application Auto Scaling), tested with moto
(tests/test_sleeping_deploy.py, tests/test_deploy_check.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
DEADLINE_ACTION_SUFFIX = "-deploy-check-end"
WAITER = DEADLINE_ACTION_SUFFIX                       # the PipelineRun waiter of `pulumi up`
PIPELINE = "-pipeline-check-end"                      # the pipeline's own wake and verify steps
ROLLBACK = "-rollback-check-end"                      # `ops rollback` (ops/cloud/rollback.py)
HOLDERS = (WAITER, PIPELINE, ROLLBACK)
# How a report names each holder, and what the hold is for.
HOLDER_NAMES = {WAITER: "`pulumi up`", PIPELINE: "the pipeline's deploy check", ROLLBACK: "`ops rollback`"}
HOLD_PURPOSES = {
    WAITER: "while the pipeline deploys (it had {desired}): the new build is rolled out onto running tasks and "
            "checked before Promote",
    PIPELINE: "while the pipeline deploys (it had {desired}): the new build is rolled out onto running tasks and "
              "checked before Promote",
    ROLLBACK: "while `ops rollback` rolls the earlier build out (it had {desired}): it is checked on running tasks "
              "before `deployed` moves",
}
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
    holder: str = WAITER
    """Who holds it: WAITER or PIPELINE (the suffix of its deadline action's name)."""


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def deadline_action_name(service: str, holder: str = WAITER) -> str:
    return f"{service}{holder}"


def _target(autoscaling, cluster: str, service: str) -> dict | None:
    found = autoscaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[resource_id(cluster, service)],
                                                  ScalableDimension=DIMENSION).get("ScalableTargets") or []
    return found[0] if found else None


def deadline_actions(autoscaling, cluster: str, service: str) -> dict[str, dict]:
    """Each holder's deadline action that exists, by holder."""
    names = {deadline_action_name(service, holder): holder for holder in HOLDERS}
    found = autoscaling.describe_scheduled_actions(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id(cluster, service), ScalableDimension=DIMENSION,
        ScheduledActionNames=sorted(names)).get("ScheduledActions") or []
    return {names[action["ScheduledActionName"]]: action for action in found
            if action.get("ScheduledActionName") in names}


def _at(moment: datetime) -> str:
    """An Application Auto Scaling one-time schedule, in UTC (no Timezone is set)."""
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def _deadline(action: dict) -> datetime | None:
    schedule = str(action.get("Schedule") or "")
    if not (schedule.startswith("at(") and schedule.endswith(")")):
        return None
    try:
        return datetime.strptime(schedule[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def live_holders(actions: dict[str, dict], now: datetime) -> list[str]:
    """Holders whose deadline is still ahead: their hold counts. (A passed deadline has fired, or its holder is
    gone: it holds nothing any more.)"""
    return sorted(holder for holder, action in actions.items() if (_deadline(action) or now) > now)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def hold_awake(ecs, autoscaling, cluster: str, service: str, awake_count: int, *, deadline: datetime,
               report: Callable[[str], None] = lambda _m: None, holder: str = WAITER,
               now: datetime | None = None) -> Hold | None:
    """Hold an API that may sleep at ``awake_count`` tasks until ``release`` (or, at the latest, ``deadline``, a UTC
    time). None when there is nothing to hold: no scalable target, a paused API, or a minimum that already keeps
    the API awake. ``holder``: WAITER or PIPELINE; ``now``: the current UTC time (to tell live holds from old ones)."""
    target = _target(autoscaling, cluster, service)
    if target is None:
        return None
    state = target.get("SuspendedState") or {}
    if any(state.get(key) for key in SUSPENSION_KEYS):
        report(f"service {service} is paused (its scaling is suspended): the new build is deployed at the count it "
               "has and is checked only when it runs; `python -m ops resume` starts it")
        return None
    actions = deadline_actions(autoscaling, cluster, service)
    others = [h for h in live_holders(actions, now or _utc_now()) if h != holder]
    # An earlier run's hold that nobody released, or the other holder's live one, holds the minimum up: its deadline
    # action knows the real one.
    earlier = actions.get(holder) or (actions[others[0]] if others else None)
    previous = int((earlier or {}).get("ScalableTargetAction", {}).get("MinCapacity", target.get("MinCapacity", 0)))
    if previous >= awake_count:
        return None
    autoscaling.put_scheduled_action(
        ServiceNamespace=NAMESPACE, ScheduledActionName=deadline_action_name(service, holder),
        ResourceId=resource_id(cluster, service), ScalableDimension=DIMENSION, Schedule=_at(deadline),
        ScalableTargetAction={"MinCapacity": previous})
    autoscaling.register_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=resource_id(cluster, service),
                                         ScalableDimension=DIMENSION, MinCapacity=awake_count)
    current = ecs.describe_services(cluster=cluster, services=[service]).get("services") or [{}]
    desired = int(current[0].get("desiredCount", 0))
    woke = desired < awake_count
    if woke:
        ecs.update_service(cluster=cluster, service=service, desiredCount=awake_count)
    report(f"service {service} may sleep, so it is held at {awake_count} task(s) "
           + HOLD_PURPOSES[holder].format(desired=desired))
    return Hold(cluster=cluster, service=service, awake_count=awake_count, previous_min=previous, woke=woke,
                holder=holder)


def release(autoscaling, hold: Hold, report: Callable[[str], None] = lambda _m: None, *,
            now: datetime | None = None) -> None:
    """Unless another hold is still live, put the minimum back; then drop this holder's deadline action (in that
    order: a release cut short still has its deadline as a way back). The alarms then decide when the API sleeps
    again. A minimum someone else changed meanwhile (the awake schedule, `ops`) is left as it is."""
    actions = deadline_actions(autoscaling, hold.cluster, hold.service)
    others = [h for h in live_holders(actions, now or _utc_now()) if h != hold.holder]
    target = _target(autoscaling, hold.cluster, hold.service)
    if not others and target is not None and int(target.get("MinCapacity", -1)) == hold.awake_count:
        autoscaling.register_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id(hold.cluster, hold.service),
            ScalableDimension=DIMENSION, MinCapacity=hold.previous_min)
    try:
        autoscaling.delete_scheduled_action(
            ServiceNamespace=NAMESPACE, ScheduledActionName=deadline_action_name(hold.service, hold.holder),
            ResourceId=resource_id(hold.cluster, hold.service), ScalableDimension=DIMENSION)
    except autoscaling.exceptions.ObjectNotFoundException:
        pass
    if others:
        who = " and ".join(HOLDER_NAMES[h] for h in others)
        report(f"service {hold.service}: still held awake by {who}, which lets it sleep when it is done")
        return
    report(f"service {hold.service}: minimum back to {hold.previous_min} task(s); it sleeps again after its idle time")
