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


API_PLACEHOLDER = "apis.<api>."
"""How the compose loader, which does not know the API's name, writes a stack key in a hint (``apis.<api>.port``);
whoever loads the app for a named API puts the name in with ``naming_api``."""


def naming_api(found, api: str, stack: str | None = None):
    """``found`` (a ``ConfigError`` or ``LoadWarning``) with ``apis.<api>.`` and ``--api <api>`` (and, given the
    stack, ``--stack <stack>``) in its texts naming them."""
    def named(text):
        if not isinstance(text, str):
            return text
        text = text.replace(API_PLACEHOLDER, f"apis.{api}.").replace("--api <api>", f"--api {api}")
        return text.replace("--stack <stack>", f"--stack {stack}") if stack else text

    if isinstance(found, ConfigError):
        return ConfigError(named(found.problem), file=found.file, service=found.service, key=named(found.key),
                           fix=named(found.fix))
    return LoadWarning(named(found.message), file=found.file, service=found.service, key=named(found.key))
