"""Validation against the official compose-spec JSON schema (``components/compose/spec/compose-spec.json``).

jsonschema is the reference Python implementation of JSON Schema, and the compose-spec schema is
what Docker Compose itself validates with, so a file that Compose rejects for its shape is
rejected here with the same reason, before any Fargate-specific check runs. Documents are
validated after YAML parsing and before interpolation, as Compose does, which is why the schema
accepts strings such as ``${PORT}`` for numeric fields.
"""
from __future__ import annotations

import difflib
import re
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from components.errors import ConfigError

SCHEMA_PATH = Path(__file__).parent / "spec" / "compose-spec.json"


@lru_cache(maxsize=1)
def compose_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(compose_schema())


def service_properties() -> set[str]:
    return set(compose_schema()["definitions"]["service"]["properties"])


def _short(value: Any, limit: int = 80) -> str:
    if value is None:
        return "empty (null)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _location(path: list) -> tuple[str | None, str | None]:
    parts = [str(part) if not isinstance(part, int) else f"[{part}]" for part in path]
    if len(parts) >= 2 and parts[0] == "services":
        rest = parts[2:]
    else:
        rest = parts
    key = ""
    for part in rest:
        key += part if part.startswith("[") or not key else f".{part}"
    service = parts[1] if len(parts) >= 2 and parts[0] == "services" else None
    return service, key or None


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For oneOf/anyOf failures, the branch that got furthest explains the mistake best."""
    best = error
    while best.context:
        # A branch that failed on something other than the value's type is the form the user meant.
        best = max(best.context, key=lambda e: (e.validator != "type", len(e.absolute_path)))
        if best.validator not in ("oneOf", "anyOf"):
            break
    return best


def _message(error: jsonschema.ValidationError) -> tuple[str, str | None]:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed and not str(key).startswith("x-")]
        unknown = ", ".join(repr(str(key)) for key in extra) or "an unknown key"
        close = difflib.get_close_matches(str(extra[0]), allowed, n=1) if extra else []
        fix = f"did you mean {close[0]!r}?" if close else (
            f"use one of: {', '.join(allowed)}" if len(allowed) <= 40 else "check the Compose specification for the key names.")
        return f"{unknown} is not a valid key here.", fix
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"{_short(error.instance)} should be of type {wanted}.", None
    if error.validator == "required":
        return error.message + ".", None
    if error.validator in ("oneOf", "anyOf"):
        return f"{_short(error.instance)} matches none of the forms this key allows.", "see the Compose specification for this key."
    if error.validator == "enum":
        return f"{_short(error.instance)} is not one of {error.validator_value}.", None
    if error.validator == "uniqueItems":
        return "the list holds the same entry twice.", "remove the duplicate."
    if error.validator == "patternProperties" or error.validator == "propertyNames":
        return f"{_short(error.instance)} has a name that is not allowed.", None
    return error.message if len(error.message) < 200 else error.message[:197] + "...", None


def validate_document(document: Any, file: str) -> None:
    """Raise ``ConfigError`` for the first schema violation, naming the service and key."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if not errors:
        return
    error = _deepest(errors[0])
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Name the unknown key itself, so the message says which key to fix.
        allowed = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in allowed and not str(k).startswith("x-")]
        path += [name if re.fullmatch(r"[\w.-]+", name := str(extra[0])) else repr(name)] if extra else []
    service, key = _location(path)
    if key is None:     # the whole service (or document) is wrong: name where it sits
        key = f"services.{service}" if service else "(top level)"
    problem, fix = _message(error)
    if len(errors) > 1:
        problem += f" ({len(errors) - 1} more schema problem{'s' if len(errors) > 2 else ''} after this one.)"
    raise ConfigError(f"does not follow the Compose specification: {problem}", file=file, service=service,
                      key=key, fix=fix)
