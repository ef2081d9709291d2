"""Pausing an API (desired count 0, the seed's way to stop a crash loop and to save money) and resuming it."""
from __future__ import annotations

from typing import Callable

from ops.cloud import ecs as ecs_view
from ops.errors import OpsError
from ops.stack.outputs import ApiOutputs


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


def pause(ecs, api: ApiOutputs, report: Callable[[str], None]) -> int:
    return set_desired(ecs, api, 0, report)


def resume(ecs, api: ApiOutputs, report: Callable[[str], None], replicas: int | None = None) -> int:
    count = replicas if replicas is not None else api.replicas
    if count is None:
        raise OpsError(f"the stack outputs do not say how many replicas API '{api.name}' runs. "
                       "Pass --replicas N.")
    if count < 1:
        raise OpsError(f"resuming {api.name} with {count} replicas would leave it paused; give --replicas 1 or more.")
    return set_desired(ecs, api, count, report)
