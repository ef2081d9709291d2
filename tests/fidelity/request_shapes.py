"""What every mapper of aws_requests.py shares: the request record, the inputs reader that remembers what was read,
and the case and tag helpers."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable

# What Pulumi appends to a logical name when it auto-names a resource ("-" and 7 random characters),
# and what Terraform appends to a name_prefix (a timestamp and a counter: 26 characters).
AUTONAME_SUFFIX = "-a1b2c3d"
PREFIX_SUFFIX = "20260101000000000000000001"


@dataclass(frozen=True)
class ApiRequest:
    service: str          # botocore service name
    operation: str        # botocore operation name (PascalCase)
    params: dict
    type: str = ""        # the Pulumi type token it came from
    name: str = ""        # the Pulumi logical name
    primary: bool = False  # the request that creates the resource (its response carries the real id)

    @property
    def where(self) -> str:
        return f"{self.type} {self.name!r}: {self.service}.{self.operation}"


class UnmappedInputs(Exception):
    """The resource sets inputs no mapper reads: extend the mapper (or mark them provider-only)."""


class Inputs:
    """A resource's inputs; remembers which keys were read."""

    def __init__(self, resource):
        self.resource = resource
        self.data: dict = dict(resource.inputs)
        self.read: set[str] = set()
        self.renames: dict[str, str] = {}     # the mocks' physical name -> the one AWS would get

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def provider_only(self, *keys: str) -> None:
        """Inputs that steer the provider (waits, force-deletes) and reach no create request."""
        self.read.update(keys)

    def unread(self) -> list[str]:
        return sorted(set(self.data) - self.read)

    def name(self, key: str = "name", prefix_key: str | None = "namePrefix") -> str:
        """The physical name: given, prefixed by Terraform, or auto-named by Pulumi from the logical name."""
        if self.get(key):
            return self.data[key]
        if prefix_key and self.get(prefix_key):
            name = self.data[prefix_key] + PREFIX_SUFFIX
        else:
            name = self.resource.name + AUTONAME_SUFFIX
        # The mocks echo the logical name as the physical one; other resources reference that.
        mock = self.resource.outputs.get(key)
        if isinstance(mock, str) and mock and mock != name:
            self.renames[mock] = name
        return name


def pascal(value: Any, renames: dict[str, str] | None = None) -> Any:
    """camelCase keys -> PascalCase, recursively; ``renames`` overrides single keys at any depth."""
    renames = renames or {}
    if isinstance(value, dict):
        return {renames.get(k, k[:1].upper() + k[1:]): pascal(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v, renames) for v in value]
    return value


def camel(value: Any, renames: dict[str, str] | None = None) -> Any:
    """Keys kept as they are (the API is camelCase too), except ``renames``."""
    renames = renames or {}
    if isinstance(value, dict):
        return {renames.get(k, k): camel(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v, renames) for v in value]
    return value


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    """Replace mock names/ids by real ones: whole strings, and whole segments of ARNs, URLs and JSON text."""
    if not mapping:
        return value
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if not isinstance(value, str):
        return value
    if value in mapping:
        return mapping[value]
    if ":" not in value and "/" not in value:
        return value
    pattern = _segment_pattern(tuple(sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda m: mapping[m.group(0)], value)


@functools.lru_cache(maxsize=64)
def _segment_pattern(keys: tuple[str, ...]):
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])")


def compact(params: dict) -> dict:
    """Drop absent values: the provider sends only what is set."""
    return {k: v for k, v in params.items() if v is not None}


def tag_list(tags: dict | None, key: str = "Key", value: str = "Value") -> list | None:
    return [{key: k, value: v} for k, v in tags.items()] if tags else None


def tag_specifications(tags: dict | None, resource_type: str) -> list | None:
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}] if tags else None


Request = tuple  # (service, operation, params) or (service, operation, params, primary)
Mapper = Callable[[Inputs], list]
