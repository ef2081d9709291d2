"""The project's one error type and its structured warnings.

Every mistake a user can make in a compose file, a Dockerfile or a stack
config ends up as a ``ConfigError``: the message names the file, the service
(when there is one) and the key, and says how to fix it. Callers print
``str(error)`` and exit; nobody should ever see a traceback for bad input.
"""
from __future__ import annotations

from dataclasses import dataclass


def _location(file: str | None, service: str | None, key: str | None) -> str:
    parts = []
    if file:
        parts.append(str(file))
    if service:
        parts.append(f"service '{service}'")
    if key:
        parts.append(f"key '{key}'")
    return ", ".join(parts)


class ConfigError(Exception):
    """Bad user input, found before anything is deployed."""

    def __init__(self, problem: str, *, file: str | None = None, service: str | None = None,
                 key: str | None = None, fix: str | None = None):
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.service = service
        self.key = key
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = _location(self.file, self.service, self.key)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


@dataclass(frozen=True)
class LoadWarning:
    """Something that will behave differently on Fargate than under `docker compose up`."""

    message: str
    file: str | None = None
    service: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = _location(self.file, self.service, self.key)
        return f"{where}: {self.message}" if where else self.message


def group_warnings(warnings) -> list[str]:
    """The warnings as lines to print, one per distinct (file, key, message): a warning repeated for several
    services becomes one line naming them all. Order: first appearance."""
    groups: dict[tuple, list[str]] = {}
    for warning in warnings:
        groups.setdefault((warning.file, warning.key, warning.message), [])
        if warning.service and warning.service not in groups[(warning.file, warning.key, warning.message)]:
            groups[(warning.file, warning.key, warning.message)].append(warning.service)
    lines = []
    for (file, key, message), services in groups.items():
        if len(services) <= 1:
            lines.append(str(LoadWarning(message, file=file, service=services[0] if services else None, key=key)))
            continue
        where = [str(file)] if file else []
        where.append("services " + ", ".join(f"'{s}'" for s in services))
        if key:
            where.append(f"key '{key}'")
        lines.append(f"{', '.join(where)}: {message}")
    return lines
