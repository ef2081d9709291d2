"""An API's container logs from CloudWatch Logs: a time window, optionally followed for a while."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from ops.errors import OpsError
from ops.stack.outputs import ApiOutputs

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """`30s`, `10m`, `1h`, `2d`, `1w` or combinations such as `1h30m` -> seconds."""
    cleaned = (text or "").strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise OpsError(f"'{text}' is not a duration. Use a number and a unit: 30s, 10m, 1h, 2d, 1w "
                       "(combinations like 1h30m work too).")
    return float(sum(int(number) * _SECONDS[unit] for number, unit in parts))


@dataclass(frozen=True)
class LogLine:
    timestamp: int            # ms since the epoch
    container: str
    stream: str
    message: str
    event_id: str

    def render(self) -> str:
        moment = datetime.fromtimestamp(self.timestamp / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return f"{moment} {self.container} | {self.message.rstrip()}"


def log_groups(api: ApiOutputs, container: str | None) -> dict[str, str]:
    """container -> log group; only ``container`` when one is named."""
    if not api.log_groups:
        raise OpsError(f"the stack outputs list no log groups for API '{api.name}'; deploy the stack first.")
    if container is None:
        return dict(api.log_groups)
    if container not in api.log_groups:
        raise OpsError(f"API '{api.name}' has no container '{container}'. Its containers: "
                       f"{', '.join(sorted(api.log_groups))}.")
    return {container: api.log_groups[container]}


def fetch(logs, groups: dict[str, str], start_ms: int, pattern: str | None = None,
          end_ms: int | None = None, limit_per_group: int = 10000) -> list[LogLine]:
    """Every event from ``start_ms`` on in each group, merged by time."""
    lines: list[LogLine] = []
    for container, group in groups.items():
        kwargs = {"logGroupName": group, "startTime": start_ms}
        if end_ms is not None:
            kwargs["endTime"] = end_ms
        if pattern:
            kwargs["filterPattern"] = pattern
        count = 0
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
                for event in page.get("events", []):
                    lines.append(LogLine(event["timestamp"], container, event.get("logStreamName", ""),
                                         event.get("message", ""), event.get("eventId", "")))
                    count += 1
                if count >= limit_per_group:
                    break
        except logs.exceptions.ResourceNotFoundException:
            raise OpsError(f"log group {group} (container {container}) does not exist yet: "
                           "the API has not run a task since it was deployed.") from None
    lines.sort(key=lambda line: (line.timestamp, line.container))
    return lines


def follow(logs, groups: dict[str, str], start_ms: int, *, emit: Callable[[LogLine], None],
           pattern: str | None = None, poll: float = 2.0, duration: float = 600.0,
           sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None) -> int:
    """Print new events as they arrive, for at most ``duration`` seconds. Returns how many were printed."""
    from ops.cloud import ecs as waiting  # one place decides how time passes (tests simulate it)

    sleep, clock = sleep or waiting.SLEEP, clock or waiting.CLOCK
    seen: dict[str, int] = {}        # event id -> timestamp, for the overlap window only
    printed = 0
    cursor = start_ms
    deadline = clock() + duration
    while True:
        for line in fetch(logs, groups, cursor, pattern):
            key = line.event_id or f"{line.stream}/{line.timestamp}/{line.message}"
            if key in seen:
                continue
            seen[key] = line.timestamp
            emit(line)
            printed += 1
            # Events can arrive a few seconds late; re-read a short overlap and drop what was printed.
            cursor = max(cursor, line.timestamp - 5000)
        seen = {key: stamp for key, stamp in seen.items() if stamp >= cursor}
        if clock() >= deadline:
            return printed
        sleep(poll)


def render_all(lines: Iterable[LogLine]) -> list[str]:
    return [line.render() for line in lines]
