"""For `status`: whether an API is asleep, waking, awake or paused, and when it last woke.

* paused: `ops pause` suspended its scalable target (or, when the stack sets the count, the desired count is 0);
* asleep: it sleeps (`sleep`), the desired count is 0 and nothing is suspended: the first request wakes it;
* waking: a count above 0 is asked for but no task runs yet (503s until one does);
* awake: at least one task runs.

The last wake comes from two places, whichever is later: the waker function's log (its `"outcome": "woke"` lines,
components/functions/waker.py) and Application Auto Scaling's activities of the `<api>-wake` policy (the alarm
fallback). Both are kept for a while only (the log for `logRetentionDays`, activities for six weeks), so "no wake
found" means none in that window.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from ops.stack.outputs import ApiOutputs

DIMENSION = "ecs:service:DesiredCount"
WOKE_PATTERN = '{ $.outcome = "woke" }'


def state(api: ApiOutputs, desired: int, running: int, suspended: bool) -> str:
    if suspended or (desired == 0 and "sleepAfterIdleMinutes" not in api.scaling):
        return "paused"
    if desired == 0:
        return "asleep"
    return "awake" if running > 0 else "waking"


def _waker_wakes(logs, group: str) -> datetime | None:
    latest = None
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern=WOKE_PATTERN)
    try:
        for page in pages:
            for event in page.get("events", []):
                try:
                    line = json.loads(event.get("message", ""))
                except ValueError:
                    continue
                if isinstance(line, dict) and line.get("outcome") == "woke":
                    latest = max(latest or 0, int(event.get("timestamp", 0)))
    except logs.exceptions.ResourceNotFoundException:
        return None      # the function has not run yet, so Lambda has written nothing
    return datetime.fromtimestamp(latest / 1000, tz=timezone.utc) if latest else None


def _alarm_wakes(autoscaling, api: ApiOutputs) -> datetime | None:
    policy = f"{api.name}-wake"
    pages = autoscaling.get_paginator("describe_scaling_activities").paginate(
        ServiceNamespace="ecs", ResourceId=f"service/{api.cluster}/{api.service}", ScalableDimension=DIMENSION)
    try:
        found = [activity["StartTime"] for page in pages for activity in page.get("ScalingActivities", [])
                 if policy in str(activity.get("Cause", "")) and activity.get("StatusCode") == "Successful"]
    except (ClientError, NotImplementedError):
        return None      # a role without the read permission (or an emulator without it): the waker's log still says
    return max(found) if found else None


def last_woke(logs, autoscaling, api: ApiOutputs) -> tuple[datetime | None, str]:
    """(when, by what) of the latest wake, or (None, "") when none is on record."""
    group = str((api.scaling.get("waker") or {}).get("logGroup") or "")
    candidates: list[tuple[datetime, str]] = []
    if logs is not None and group:
        when = _waker_wakes(logs, group)
        if when:
            candidates.append((when, "the waker, on a request"))
    if autoscaling is not None:
        when = _alarm_wakes(autoscaling, api)
        if when:
            candidates.append((when if when.tzinfo else when.replace(tzinfo=timezone.utc), "the wake alarm"))
    return max(candidates) if candidates else (None, "")


def state_lines(api: ApiOutputs, service: dict[str, Any], suspended: bool, logs=None, autoscaling=None) -> list[str]:
    desired, running = int(service.get("desiredCount", 0)), int(service.get("runningCount", 0))
    current = state(api, desired, running, suspended)
    line = f"state: {current}"
    if "sleepAfterIdleMinutes" in api.scaling:
        when, how = last_woke(logs, autoscaling, api)
        line += (f"; last woke {when.strftime('%Y-%m-%d %H:%M:%S UTC')} by {how}" if when else
                 "; no wake on record (the waker's log and scaling activities of the last weeks)")
    if current == "waking":
        wake = api.scaling.get("wakeSeconds") or []
        line += f" (a task starts in about {wake[-1]} s; callers get 503 until then)" if wake else ""
    return [line]
