"""Compose keys that ECS honours on Fargate, into ``Container`` fields (components/task_plan.py renders them):

| compose | ECS container definition |
|---|---|
| `restart` (else `deploy.restart_policy.condition`) | `restartPolicy`: `always`/`unless-stopped` restart on any exit, `on-failure` ignores exit code 0; ECS waits at least 60 s of running between restarts and has no retry limit |
| `labels` | `dockerLabels` |
| `read_only` | `readonlyRootFilesystem` |
| `init` | `linuxParameters.initProcessEnabled` |
| `stop_grace_period` | `stopTimeout`, at most 120 s on Fargate |
| `ulimits.nofile` | `ulimits` (`nofile` is the one limit Fargate lets a task set, up to 1048576) |
| `cap_drop`, `cap_add` | `linuxParameters.capabilities` (Fargate adds only `SYS_PTRACE`; `cap_drop: [ALL]` with default capabilities added back becomes the matching drop list) |

A mixin of the loader: needs ``self._warn`` and ``self._error``.
"""
from __future__ import annotations

import math
from typing import Any

from components.compose.model import Container
from components.compose.values import as_bool, as_int, parse_duration, short

FARGATE_MAX_STOP_TIMEOUT = 120
FARGATE_MAX_NOFILE = 1048576
RESTART_ATTEMPT_PERIOD = 60        # ECS's minimum: the closest to Compose's immediate restart
# Docker's default capabilities: what a container has unless it drops them.
DEFAULT_CAPABILITIES = ("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
FARGATE_ADDABLE = ("SYS_PTRACE",)
RESTART_POLICIES = {"no": None, "always": "always", "unless-stopped": "always", "on-failure": "on-failure"}
DEPLOY_CONDITIONS = {"none": None, "any": "always", "on-failure": "on-failure"}


def capability(name: Any) -> str:
    return str(name).strip().upper().removeprefix("CAP_")


def capability_changes(cap_add: list, cap_drop: list) -> tuple[list[str], list[str], list[str]]:
    """(add, drop, refused): what ECS gets, and the added capabilities Fargate cannot add. ``cap_drop: [ALL]``
    with default capabilities added back becomes the defaults that stay dropped; adding a default capability
    without dropping it is a no-op."""
    added = [capability(c) for c in cap_add or []]
    dropped = [capability(c) for c in cap_drop or []]
    refused = [c for c in added if c not in FARGATE_ADDABLE and c not in DEFAULT_CAPABILITIES]
    add = [c for c in added if c in FARGATE_ADDABLE]
    if "ALL" in dropped:
        kept = {c for c in added if c in DEFAULT_CAPABILITIES}
        drop = ["ALL"] if not kept else [c for c in DEFAULT_CAPABILITIES if c not in kept]
    else:
        drop = [c for c in dict.fromkeys(dropped) if c not in added]
    return add, drop, refused


class RuntimeKeys:
    """restart, labels, read_only, init, stop_grace_period, ulimits, cap_add and cap_drop of one service."""

    def _runtime(self, name: str, service: dict, file: str, container: Container) -> None:
        container.restart = self._restart(name, service, file)
        container.read_only = self._flag(name, service, "read_only", file)
        container.init = self._flag(name, service, "init", file)
        container.stop_timeout = self._stop_timeout(name, service, file)
        container.nofile = self._ulimits(name, service.get("ulimits") or {}, file)
        add, drop, refused = capability_changes(service.get("cap_add") or [], service.get("cap_drop") or [])
        if refused:
            raise self._error(f"Fargate cannot add the capabilities {', '.join(refused)}; it only allows SYS_PTRACE "
                              "beyond Docker's defaults.", file, name, "cap_add",
                              "remove them from cap_add (keep only SYS_PTRACE if you need a debugger).")
        container.cap_add, container.cap_drop = add, drop

    def _flag(self, name: str, service: dict, key: str, file: str) -> bool:
        try:
            return as_bool(service[key]) if service.get(key) not in (None, "") else False
        except ValueError as error:
            raise self._error(f"{key}: {error}.", file, name, key, "write true or false.") from None

    def _restart(self, name: str, service: dict, file: str) -> str | None:
        value = service.get("restart")
        if value not in (None, ""):
            text = str(value).strip().lower()
            policy, _, retries = text.partition(":")
            if policy not in RESTART_POLICIES:
                raise self._error(f"restart {short(value)} is not a restart policy.", file, name, "restart",
                                  "use no, always, on-failure[:max-retries] or unless-stopped.")
            if retries:
                self._warn(f"restart {text}: ECS restarts the container without a retry limit (it waits at least "
                           f"{RESTART_ATTEMPT_PERIOD} s of running between restarts); the limit {retries} is not "
                           "applied.", file=file, service=name, key="restart")
            return RESTART_POLICIES[policy]
        deploy = service.get("deploy") if isinstance(service.get("deploy"), dict) else {}
        policy = deploy.get("restart_policy") if isinstance(deploy.get("restart_policy"), dict) else {}
        condition = str(policy.get("condition") or "").strip().lower()
        return DEPLOY_CONDITIONS.get(condition) if condition else None

    def _stop_timeout(self, name: str, service: dict, file: str) -> int | None:
        value = service.get("stop_grace_period")
        if value in (None, ""):
            return None
        try:
            seconds = math.ceil(parse_duration(value))
        except ValueError as error:
            raise self._error(f"stop_grace_period: {error}.", file, name, "stop_grace_period",
                              "write a duration like 30s or 1m30s.") from None
        if seconds > FARGATE_MAX_STOP_TIMEOUT:
            self._warn(f"stop_grace_period {value} is longer than Fargate's maximum of {FARGATE_MAX_STOP_TIMEOUT} s; "
                       f"ECS sends SIGKILL {FARGATE_MAX_STOP_TIMEOUT} s after SIGTERM.", file=file, service=name,
                       key="stop_grace_period")
            return FARGATE_MAX_STOP_TIMEOUT
        return max(seconds, 0)

    def _ulimits(self, name: str, ulimits: Any, file: str) -> tuple[int, int] | None:
        if not isinstance(ulimits, dict):
            return None
        nofile = None
        for limit, value in ulimits.items():
            key = f"ulimits.{limit}"
            if str(limit) != "nofile":
                self._warn(f"ulimit {limit} is not applied: Fargate lets a task set only nofile (the others keep the "
                           "operating system's defaults).", file=file, service=name, key=key)
                continue
            try:
                if isinstance(value, dict):
                    soft, hard = as_int(value.get("soft")), as_int(value.get("hard"))
                else:
                    soft = hard = as_int(value)
            except ValueError as error:
                raise self._error(f"ulimit nofile: {error}.", file, name, key,
                                  "write nofile: 65535 or nofile: {soft: 20000, hard: 40000}.") from None
            if soft > hard:
                raise self._error(f"ulimit nofile: the soft limit {soft} is above the hard limit {hard}.", file, name,
                                  key, "make soft at most hard.")
            if hard > FARGATE_MAX_NOFILE:
                self._warn(f"ulimit nofile {hard} is above Fargate's maximum of {FARGATE_MAX_NOFILE}; "
                           f"{FARGATE_MAX_NOFILE} is used.", file=file, service=name, key=key)
                soft, hard = min(soft, FARGATE_MAX_NOFILE), FARGATE_MAX_NOFILE
            nofile = (soft, hard)
        return nofile
