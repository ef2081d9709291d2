"""How many tasks a service runs in each cost scenario, from its Application Auto Scaling resources.

* ``awake``: its desired count (the count a deploy sets; what runs while anybody uses it), around the clock;
* ``idle``: nobody calls it. Target tracking scales in to the target's minimum; a minimum of 0 means the API
  sleeps (components/scaling.py), except during its awake hours (the scheduled actions), when it stays at the
  minimum those set;
* ``full``: the autoscaling maximum, around the clock (the most it can cost).

Pure Python over ``catalog.resources.Resource`` values; imports nothing of the project.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from catalog.resources import SCALING_TARGET, block, known, number

SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
SCENARIOS = ("idle", "awake", "full")
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
HOURS_PER_WEEK = 7 * 24
_CRON = re.compile(r"^cron\((\d+) (\d+) \? \* ([A-Z,-]+) \*\)$")


def scaling_target(resources: Sequence[Any], cluster: Any, service: str) -> Any | None:
    """The ECS scalable target of ``service`` (resource id service/<cluster>/<service>)."""
    cluster_name = str(cluster).rsplit("/", 1)[-1] if known(cluster) else ""
    for target in resources:
        if target.type != SCALING_TARGET or target.props.get("serviceNamespace") != "ecs":
            continue
        resource_id = target.props.get("resourceId")
        if known(resource_id) and (str(resource_id) == f"service/{cluster_name}/{service}"
                                   or (not cluster_name and str(resource_id).endswith(f"/{service}"))):
            return target
    return None


def _days(field: str) -> int:
    found: set[int] = set()
    for part in field.split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            return 0
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        found.update(range(start, end + 1) if end >= start else [*range(start, 7), *range(0, end + 1)])
    return len(found)


def awake_hours(resources: Sequence[Any], target: Any) -> tuple[float, float]:
    """(hours a week the schedule keeps the API up, the count it keeps) from a wake-up and a bedtime action."""
    actions = [a for a in resources if a.type == SCHEDULED_ACTION
               and a.props.get("resourceId") == target.props.get("resourceId")]
    ups = [(a, number(block(a.props.get("scalableTargetAction")).get("minCapacity")) or 0) for a in actions]
    up = next(((a, count) for a, count in ups if count > 0), None)
    down = next((a for a, count in ups if count == 0), None)
    if up is None or down is None:
        return 0.0, 0.0
    start, end = _CRON.match(str(up[0].props.get("schedule"))), _CRON.match(str(down.props.get("schedule")))
    if not start or not end or start.group(3) != end.group(3):
        return 0.0, 0.0
    hours = (int(end.group(2)) * 60 + int(end.group(1)) - int(start.group(2)) * 60 - int(start.group(1))) / 60
    return max(hours, 0.0) * _days(start.group(3)), up[1]


def scenario_tasks(resources: Sequence[Any], cluster: Any, service: str, awake_count: float,
                   scenario: str = "idle") -> tuple[float, str]:
    """(average tasks over a month, how that was worked out) for one service."""
    target = scaling_target(resources, cluster, service)
    if scenario == "awake" or target is None:
        return awake_count, ""
    low, high = number(target.props.get("minCapacity")), number(target.props.get("maxCapacity"))
    if scenario == "full":
        return (high if high is not None else awake_count), "autoscaling maximum"
    if low is None:
        return awake_count, ""
    if low > 0:
        return min(low, awake_count) if awake_count else low, "autoscaling minimum"
    hours, count = awake_hours(resources, target)
    if hours:
        return count * hours / HOURS_PER_WEEK, f"asleep when idle; awake {hours:g} h a week"
    return 0.0, "asleep when idle"


def alarm_metrics(props: Any) -> int:
    """CloudWatch bills an alarm per metric it reads: 1, or the metrics of its math queries."""
    queries = props.get("metricQueries")
    if known(queries) and queries:
        return max(1, sum(1 for q in queries if isinstance(q, dict) and q.get("metric")))
    return 1
