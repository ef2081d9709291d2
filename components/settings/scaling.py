"""The count keys of an API, validated: `apis.NAME.replicas|scaling|sleep|awake`, and the count plan they make.

Pure Python (no Pulumi import), called by ``components.settings.apis``. Every mistake is a ``ConfigError``
naming the stack file and the full key (``serverless-containers:apis.posts.scaling.max``).
"""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Any, Callable

from components.errors import ConfigError

SCALING_KEYS = ("min", "max", "cpuPercent", "memoryPercent", "requestsPerTask")
SLEEP_KEYS = ("afterIdleMinutes",)
AWAKE_KEYS = ("days", "hours", "timezone")
DEFAULT_CPU_PERCENT = 60
# requestsPerTask: requests a minute each running task should serve (API Gateway counts requests per minute). The
# ceiling only catches a unit mistake: 1,000,000 a minute is over 16,000 a second per task.
MAX_REQUESTS_PER_TASK = 1_000_000
DEFAULT_AFTER_IDLE_MINUTES = 30
# Waking takes a few minutes (docs/design.md, "Sleep and wake"): idling for less than that would thrash.
MIN_AFTER_IDLE_MINUTES = 5
# A CloudWatch alarm looks back at most one day (EvaluationPeriods x Period <= 86 400 s; periods are 60 s).
MAX_AFTER_IDLE_MINUTES = 1440
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
DAYS_PATTERN = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN)(-(MON|TUE|WED|THU|FRI|SAT|SUN))?"
                          r"(,(MON|TUE|WED|THU|FRI|SAT|SUN)(-(MON|TUE|WED|THU|FRI|SAT|SUN))?)*$")
HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


@dataclass(frozen=True)
class ScalingSettings:
    """`scaling`: Application Auto Scaling between min and max tasks, tracking average CPU (and memory), or the
    API's requests per running task (components/scaling.py)."""

    min: int = 1
    max: int = 1
    cpu_percent: float | None = DEFAULT_CPU_PERCENT
    """None only when `requestsPerTask` is set and `cpuPercent` is not: the request rate alone drives the count."""
    memory_percent: float | None = None
    requests_per_task: float | None = None
    """Requests a minute each running task should serve: target tracking on the API's request count divided by
    the service's running tasks."""


@dataclass(frozen=True)
class SleepSettings:
    """`sleep`: 0 tasks after this many minutes without a request; the next request wakes the API."""

    after_idle_minutes: int = DEFAULT_AFTER_IDLE_MINUTES


@dataclass(frozen=True)
class AwakeSettings:
    """`awake`: during these hours the API stays at its minimum; outside them it may sleep."""

    days: str                 # cron day-of-week field, e.g. MON-FRI
    start: tuple[int, int]    # (hour, minute)
    end: tuple[int, int]
    timezone: str             # IANA name, e.g. Europe/Berlin

    def cron(self, at: tuple[int, int]) -> str:
        """An Application Auto Scaling cron expression (minutes hours day-of-month month day-of-week year)."""
        hour, minute = at
        return f"cron({minute} {hour} ? * {self.days} *)"

    @property
    def days_per_week(self) -> int:
        return len(expand_days(self.days))

    @property
    def hours_per_day(self) -> float:
        return (self.end[0] * 60 + self.end[1] - self.start[0] * 60 - self.start[1]) / 60


@dataclass(frozen=True)
class CountPlan:
    """How many tasks an API runs and who changes that count (derived from the settings above)."""

    replicas: int                   # tasks at deploy time and while awake (the awake minimum)
    min: int                        # the scalable target's minimum (0 when the API may sleep)
    max: int
    scaling: ScalingSettings | None = None
    sleep: SleepSettings | None = None
    awake: AwakeSettings | None = None

    @property
    def managed(self) -> bool:
        """Application Auto Scaling changes the desired count (Pulumi must leave it alone)."""
        return self.scaling is not None or self.sleep is not None

    @property
    def managed_by(self) -> str:
        parts = []
        if self.scaling is not None:
            parts.append("autoscaling")
        if self.sleep is not None:
            parts.append("sleep")
        if self.awake is not None:
            parts.append("schedule")
        return "+".join(parts) or "stack"

    @property
    def scales_above_minimum(self) -> bool:
        return self.max > self.replicas


def expand_days(days: str) -> list[str]:
    found: list[str] = []
    for part in days.split(","):
        first, _, last = part.partition("-")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        span = range(start, end + 1) if end >= start else [*range(start, 7), *range(0, end + 1)]
        found += [DAY_NAMES[i] for i in span if DAY_NAMES[i] not in found]
    return found


Error = Callable[[str, str, str], ConfigError]   # (path, problem, fix) -> ConfigError


def _whole(error: Error, path: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(path, f"expected a whole number, got {value!r}.", f"use a whole number from {minimum}"
                    + (f" to {maximum}." if maximum is not None else " up."))
    if value < minimum or (maximum is not None and value > maximum):
        raise error(path, f"{value} is out of range.", f"use a whole number from {minimum}"
                    + (f" to {maximum}." if maximum is not None else " up."))
    return value


def _percent(error: Error, path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 100:
        raise error(path, f"{value!r} is not a percentage from 1 to 100.",
                    "use the average utilization to aim for, e.g. 60.")
    return float(value)


def _mapping(error: Error, path: str, value: Any, allowed: tuple[str, ...]) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise error(path, f"expected a map, got {type(value).__name__}.",
                    f"write it as a YAML map with the keys {', '.join(allowed)}.")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise error(path, f"unknown key(s) {', '.join(unknown)}.", f"use only: {', '.join(allowed)}.")
    return value


def parse_scaling(error: Error, path: str, value: Any) -> ScalingSettings:
    spec = _mapping(error, path, value, SCALING_KEYS)
    if spec.get("max") is None:
        raise error(f"{path}.max", "autoscaling needs the most tasks it may run.", "set max, e.g. scaling: "
                    "{min: 1, max: 4, cpuPercent: 60}.")
    minimum = _whole(error, f"{path}.min", spec.get("min", 1), 0)
    maximum = _whole(error, f"{path}.max", spec["max"], 1)
    if minimum > maximum:
        raise error(f"{path}.min", f"min ({minimum}) is above max ({maximum}).", "set min <= max.")
    memory = spec.get("memoryPercent")
    requests = _requests_per_task(error, f"{path}.requestsPerTask", spec.get("requestsPerTask"))
    cpu = spec.get("cpuPercent", DEFAULT_CPU_PERCENT if requests is None else None)
    return ScalingSettings(min=minimum, max=maximum,
                           cpu_percent=None if cpu is None else _percent(error, f"{path}.cpuPercent", cpu),
                           memory_percent=None if memory is None else _percent(error, f"{path}.memoryPercent", memory),
                           requests_per_task=requests)


def _requests_per_task(error: Error, path: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= MAX_REQUESTS_PER_TASK:
        raise error(path, f"{value!r} is not a number of requests from 1 to {MAX_REQUESTS_PER_TASK:,}.",
                    "give the requests a minute one task should serve, e.g. requestsPerTask: 600 (10 a second); "
                    "measure it with a load test of one task.")
    return float(value)


def parse_sleep(error: Error, path: str, value: Any) -> SleepSettings:
    spec = _mapping(error, path, value, SLEEP_KEYS)
    minutes = _whole(error, f"{path}.afterIdleMinutes", spec.get("afterIdleMinutes", DEFAULT_AFTER_IDLE_MINUTES),
                     MIN_AFTER_IDLE_MINUTES, MAX_AFTER_IDLE_MINUTES)
    return SleepSettings(after_idle_minutes=minutes)


def parse_awake(error: Error, path: str, value: Any) -> AwakeSettings:
    spec = _mapping(error, path, value, AWAKE_KEYS)
    for key in AWAKE_KEYS:
        if spec.get(key) is None:
            raise error(f"{path}.{key}", f"awake needs {key}.",
                        'set awake: {days: "MON-FRI", hours: "08:00-20:00", timezone: "Europe/Berlin"}.')
    days = str(spec["days"]).strip().upper() if isinstance(spec["days"], str) else None
    if not days or not DAYS_PATTERN.match(days):
        raise error(f"{path}.days", f"{spec['days']!r} is not a list of days.",
                    "use day names MON..SUN, ranges and commas, e.g. MON-FRI or MON,WED,FRI.")
    hours = spec["hours"] if isinstance(spec["hours"], str) else ""
    match = HOURS_PATTERN.match(hours.replace(" ", ""))
    if not match:
        raise error(f"{path}.hours", f"{spec['hours']!r} is not a span of hours.", 'use "HH:MM-HH:MM", e.g. "08:00-20:00".')
    start = (int(match.group(1)), int(match.group(2)))
    end = (int(match.group(3)), int(match.group(4)))
    if end <= start or (end[0] == 24 and end[1] != 0):
        raise error(f"{path}.hours", f"{hours!r} does not end after it starts on the same day.",
                    'use a span within one day, e.g. "08:00-20:00" (or "00:00-24:00" for all day).')
    zone = spec["timezone"]
    try:
        if not isinstance(zone, str) or "/" not in zone and zone != "UTC":
            raise ValueError
        zoneinfo.ZoneInfo(zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise error(f"{path}.timezone", f"{zone!r} is not an IANA time zone.",
                    "use a name like Europe/Berlin, America/New_York or UTC.") from None
    if end == (24, 0):
        end = (23, 59)
    return AwakeSettings(days=days, start=start, end=end, timezone=zone)


def parse_count(error: Error, path: str, spec: dict) -> tuple[int | None, ScalingSettings | None,
                                                          SleepSettings | None, AwakeSettings | None]:
    """`replicas`, `scaling`, `sleep` and `awake` of one API (``spec``: its raw map), checked together."""
    replicas = spec.get("replicas")
    if replicas is not None:
        replicas = _whole(error, f"{path}.replicas", replicas, 1)
    scaling = parse_scaling(error, f"{path}.scaling", spec["scaling"]) if spec.get("scaling") is not None else None
    sleep = parse_sleep(error, f"{path}.sleep", spec["sleep"]) if spec.get("sleep") is not None else None
    awake = parse_awake(error, f"{path}.awake", spec["awake"]) if spec.get("awake") is not None else None
    if scaling is not None and scaling.min == 0 and sleep is None:
        raise error(f"{path}.scaling.min", "min 0 leaves the API with no task and nothing to start one.",
                    "set min to 1 or more, or add sleep: {afterIdleMinutes: 30} so a request wakes it.")
    if awake is not None and sleep is None:
        raise error(f"{path}.awake", "awake hours say when the API may not sleep, but it never sleeps.",
                    "add sleep: {afterIdleMinutes: 30}, or remove awake.")
    if scaling is not None and replicas is not None and not max(scaling.min, 1) <= replicas <= scaling.max:
        raise error(f"{path}.replicas", f"replicas ({replicas}) lies outside scaling {max(scaling.min, 1)}.."
                    f"{scaling.max}.", "drop replicas (autoscaling sets the count) or set it between "
                    "scaling.min and scaling.max.")
    return replicas, scaling, sleep, awake


def count_plan(replicas: int | None, scaling: ScalingSettings | None, sleep: SleepSettings | None,
               awake: AwakeSettings | None, compose_replicas: int | None = None) -> CountPlan:
    """The task counts of one API: the stack's `replicas`, else the compose `deploy.replicas`, else 1; with
    `scaling` that count is kept within max(min, 1)..max; with `sleep` the minimum is 0."""
    count = replicas if replicas is not None else (compose_replicas if compose_replicas is not None else 1)
    if scaling is not None:
        count = min(max(count, scaling.min, 1), scaling.max)
        return CountPlan(replicas=count, min=0 if sleep else scaling.min, max=scaling.max, scaling=scaling,
                         sleep=sleep, awake=awake)
    if sleep is not None:
        count = max(count, 1)
    return CountPlan(replicas=count, min=0 if sleep else count, max=count, sleep=sleep, awake=awake)
