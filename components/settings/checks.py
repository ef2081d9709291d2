"""The checker every settings module uses: it names the stack file and the full key in each ConfigError.

Pure Python (no Pulumi import).
"""
from __future__ import annotations

import re
from typing import Any

from components.errors import ConfigError

NAMESPACE = "serverless-containers"

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
# Longest API/table name that keeps every derived physical name (ECR repository, task family,
# Cloud Map service, IAM policy names) within AWS limits (components/settings/names.py checks the rest).
MAX_NAME_LENGTH = 38


class Checker:
    """Carries the file name for messages and checks one value at a time."""

    def __init__(self, stack: str):
        self.stack = stack
        self.file = f"stacks/Pulumi.{stack}.yaml"

    def error(self, path: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(problem, file=self.file, key=f"{NAMESPACE}:{path}", fix=fix)

    def mapping(self, path: str, value: Any, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a map, got {describe(value)}.",
                             f"write it as a YAML map{keys_hint(allowed)}.")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise self.error(path, f"unknown key(s) {', '.join(unknown)}.",
                                 f"use only: {', '.join(allowed)}.")
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"expected true or false, got {describe(value)}.", "use true or false.")
        return value

    def choice(self, path: str, value: Any, choices: tuple) -> Any:
        if value not in choices or isinstance(value, bool):
            raise self.error(path, f"{describe(value)} is not a valid choice.",
                             f"use one of: {', '.join(str(c) for c in choices)}.")
        return value

    def string(self, path: str, value: Any, *, pattern: re.Pattern | None = None, what: str = "") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"expected a non-empty string, got {describe(value)}.",
                             f"set it to {what or 'a string'}.")
        if pattern is not None and not pattern.match(value):
            raise self.error(path, f"{value!r} is not valid.", f"use {what}.")
        return value

    def string_list(self, path: str, value: Any, *, pattern: re.Pattern | None = None, what: str = "") -> list[str]:
        if not isinstance(value, list) or not value:
            raise self.error(path, f"expected a non-empty list, got {describe(value)}.",
                             f"write a YAML list of {what or 'strings'}.")
        items = [self.string(f"{path}[{i}]", item, pattern=pattern, what=what) for i, item in enumerate(value)]
        duplicates = sorted({item for item in items if items.count(item) > 1})
        if duplicates:
            raise self.error(path, f"{', '.join(duplicates)} listed more than once.", "list each entry once.")
        return items

    def name(self, path: str, value: Any, what: str) -> str:
        if not isinstance(value, str) or not NAME_PATTERN.match(value) or len(value) > MAX_NAME_LENGTH:
            raise self.error(path, f"{what} name {describe(value)} is not valid.",
                             f"use up to {MAX_NAME_LENGTH} lowercase letters, digits and hyphens, "
                             "starting with a letter.")
        return value


def describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return repr(value)


def keys_hint(allowed: tuple[str, ...] | None) -> str:
    return f" with the keys {', '.join(allowed)}" if allowed else ""
