"""Pausing an API (desired count 0, the seed's way to stop a crash loop and to save money), resuming it, and
saying who sets its task count.

When Application Auto Scaling manages the count (stack keys `scaling`, `sleep`, `awake`: components/scaling.py),
a bare desired count of 0 would not last: the wake alarm or the schedule would start tasks again. So `pause`
first suspends the scalable target's dynamic and scheduled scaling, and `resume` sets the awake count and lifts
the suspension.
"""
from __future__ import annotations

from typing import Any, Callable

from ops.cloud import ecs as ecs_view
from ops.errors import OpsError
from ops.stack.outputs import ApiOutputs

DIMENSION = "ecs:service:DesiredCount"
SUSPENDED = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": True}
RUNNING = {key: False for key in SUSPENDED}


def resource_id(api: ApiOutputs) -> str:
    return f"service/{api.cluster}/{api.service}"


def scalable_target(autoscaling, api: ApiOutputs) -> dict[str, Any] | None:
    """The service's scalable target, or None (the stack sets the count, or nothing is registered)."""
    if autoscaling is None:
        return None
    found = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id(api)],
                                                  ScalableDimension=DIMENSION)["ScalableTargets"]
    return found[0] if found else None


def is_suspended(target: dict[str, Any] | None) -> bool:
    state = (target or {}).get("SuspendedState") or {}
    return any(state.get(key) for key in SUSPENDED)


def _suspend(autoscaling, api: ApiOutputs, suspended: bool) -> None:
    autoscaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id(api),
                                         ScalableDimension=DIMENSION, SuspendedState=SUSPENDED if suspended else RUNNING)


def set_desired(ecs, api: ApiOutputs, desired: int, report: Callable[[str], None]) -> int:
    """Set the service's desired count; returns the count it had."""
    current = ecs_view.describe_service(ecs, api.cluster, api.service)
    before = int(current.get("desiredCount", 0))
    if before == desired:
        report(f"{api.name}: desired count already {desired}")
        return before
    ecs.update_service(cluster=api.cluster, service=api.service, desiredCount=desired)
    report(f"{api.name}: desired count {before} -> {desired}")
    return before


def pause(ecs, api: ApiOutputs, report: Callable[[str], None], autoscaling=None) -> int:
    target = scalable_target(autoscaling, api)
    if target is not None and not is_suspended(target):
        _suspend(autoscaling, api, True)
        report(f"{api.name}: Application Auto Scaling suspended ({managed_by_text(api)} will not start tasks "
               "until resume)")
    return set_desired(ecs, api, 0, report)


def resume(ecs, api: ApiOutputs, report: Callable[[str], None], replicas: int | None = None, autoscaling=None) -> int:
    count = replicas if replicas is not None else api.replicas
    if count is None:
        raise OpsError(f"the stack outputs do not say how many replicas API '{api.name}' runs. "
                       "Pass --replicas N.")
    if count < 1:
        raise OpsError(f"resuming {api.name} with {count} replicas would leave it paused; give --replicas 1 or more.")
    target = scalable_target(autoscaling, api)
    if target is not None and not target.get("MinCapacity", 0) <= count <= target.get("MaxCapacity", count):
        raise OpsError(f"{api.name}: autoscaling keeps {target.get('MinCapacity')}..{target.get('MaxCapacity')} tasks; "
                       f"--replicas {count} is outside that range.")
    before = set_desired(ecs, api, count, report)
    if target is not None and is_suspended(target):
        _suspend(autoscaling, api, False)
        report(f"{api.name}: Application Auto Scaling resumed ({managed_by_text(api)} set the count again)")
    return before


def managed_by_text(api: ApiOutputs) -> str:
    parts = {"autoscaling": "CPU/memory target tracking", "sleep": "the sleep and wake alarms",
             "schedule": "the awake-hours schedule"}
    managed = str(api.scaling.get("managedBy") or "stack")
    names = [parts[p] for p in managed.split("+") if p in parts]
    return ", ".join(names) if names else "the stack's replicas"


def count_lines(autoscaling, api: ApiOutputs, desired: int) -> list[str]:
    """For `status`: who sets the count, and whether a desired count of 0 means paused or asleep."""
    scaling = api.scaling
    managed = str(scaling.get("managedBy") or "stack")
    if managed == "stack":
        lines = [f"count: set by the stack (replicas {api.replicas if api.replicas is not None else '?'}); "
                 "`pulumi up` restores it"]
        if desired == 0:
            lines.append("  paused (desired count 0): no task runs. `python -m ops resume` starts it again.")
        return lines
    target = scalable_target(autoscaling, api)
    if target is None:
        return [f"count: the stack says {managed_by_text(api)} set it, but no scalable target is registered for "
                f"{resource_id(api)}: run `python -m ops up` to create it."]
    lines = [f"count: set by Application Auto Scaling ({managed_by_text(api)}), {target.get('MinCapacity')}.."
             f"{target.get('MaxCapacity')} tasks; `pulumi up` leaves the desired count alone"]
    if is_suspended(target):
        lines.append("  paused: scaling is suspended and no task runs until `python -m ops resume`."
                     if desired == 0 else "  scaling is suspended (by `python -m ops pause`?): the count stays as it is.")
    elif desired == 0 and "sleepAfterIdleMinutes" in scaling:
        lines.append(f"  asleep (no request for {scaling['sleepAfterIdleMinutes']} min): the first request wakes it; "
                     "API Gateway answers 503 until a task runs.")
    elif desired == 0:
        lines.append("  desired count 0: no task runs.")
    return lines
