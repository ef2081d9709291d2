"""`storage`: the stack's DynamoDB tables, validated, and the names and variables derived from them.

Pure Python (no Pulumi import); components/storage.py creates the tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.settings.checks import Checker

KEY_TYPES = ("S", "N", "B")
TABLE_KEYS = ("partitionKey", "sortKey", "pointInTimeRecovery", "deletionProtection", "replaceOnKeyChange")
KEY_ATTRIBUTE_KEYS = ("name", "type")


@dataclass(frozen=True)
class KeyAttribute:
    """A DynamoDB key attribute."""

    name: str
    type: str            # "S" | "N" | "B"


@dataclass(frozen=True)
class TableSettings:
    """One DynamoDB table from `storage`."""

    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    point_in_time_recovery: bool = False
    deletion_protection: bool = False   # AWS deletion protection and Pulumi `protect`: no delete, no replacement
    replace_on_key_change: bool = False  # opt-in: a changed key replaces the table (delete first: data lost)


def table_physical_name(stack: str, table: str) -> str:
    return f"serverless-containers-{stack}-{table}"


def env_name(table: str) -> str:
    """`my-posts` -> `MY_POSTS`, as in STORAGE_MY_POSTS_NAME."""
    return re.sub(r"[^A-Z0-9]", "_", table.upper())


def storage_environment(tables: dict[str, tuple[str, str | None]], region: str | None) -> dict[str, str | None]:
    """The variables a container with access gets: table -> (physical name, ARN); None where only the deploy knows it."""
    environment = {"REGION": region} if tables else {}
    for table, (name, arn) in tables.items():
        environment[f"STORAGE_{env_name(table)}_NAME"] = name
        environment[f"STORAGE_{env_name(table)}_ARN"] = arn
    return environment


def parse_storage(check: Checker, value: Any) -> dict[str, TableSettings]:
    if value is None:
        return {}
    tables = {}
    for name, spec in check.mapping("storage", value).items():
        path = f"storage.{name}"
        check.name(path, name, "table")
        spec = check.mapping(path, spec, TABLE_KEYS)
        if "partitionKey" not in spec:
            raise check.error(f"{path}.partitionKey", "a table needs a partition key.",
                              "set partitionKey: {name: id, type: S}.")
        partition = _key_attribute(check, f"{path}.partitionKey", spec["partitionKey"])
        sort = _key_attribute(check, f"{path}.sortKey", spec["sortKey"]) if spec.get("sortKey") is not None else None
        if sort and sort.name == partition.name:
            raise check.error(f"{path}.sortKey", "the sort key has the partition key's name.",
                              "give the sort key a different attribute name.")
        flags = {key: check.boolean(f"{path}.{key}", spec[key]) if spec.get(key) is not None else False
                 for key in ("pointInTimeRecovery", "deletionProtection", "replaceOnKeyChange")}
        if flags["deletionProtection"] and flags["replaceOnKeyChange"]:
            raise check.error(f"{path}.replaceOnKeyChange", "the table is protected against deletion, and replacing "
                              "it on a key change deletes it.", "set deletionProtection: false first (one `pulumi up`), "
                              "or drop replaceOnKeyChange.")
        tables[name] = TableSettings(
            name=name, partition_key=partition, sort_key=sort, point_in_time_recovery=flags["pointInTimeRecovery"],
            deletion_protection=flags["deletionProtection"], replace_on_key_change=flags["replaceOnKeyChange"])
    return tables


def _key_attribute(check: Checker, path: str, value: Any) -> KeyAttribute:
    spec = check.mapping(path, value, KEY_ATTRIBUTE_KEYS)
    if "name" not in spec:
        raise check.error(f"{path}.name", "the key has no attribute name.", "set name, e.g. {name: id, type: S}.")
    name = check.string(f"{path}.name", spec["name"], what="an attribute name")
    if len(name) > 255:
        raise check.error(f"{path}.name", "the attribute name is longer than 255 characters.", "shorten it.")
    key_type = check.choice(f"{path}.type", spec.get("type", "S"), KEY_TYPES)
    return KeyAttribute(name=name, type=key_type)
