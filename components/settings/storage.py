"""`storage`: the stack's DynamoDB tables, validated, and the names and variables derived from them.

Pure Python (no Pulumi import); components/storage.py creates the tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.settings.checks import Checker

KEY_TYPES = ("S", "N", "B")
TABLE_KEYS = ("partitionKey", "sortKey", "pointInTimeRecovery", "deletionProtection", "replaceOnKeyChange",
              "existingTable", "replaces")
# `existingTable`: CreateTable's TableName shape (botocore's dynamodb model), or a table ARN.
TABLE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
TABLE_ARN_PATTERN = re.compile(r"^arn:(aws[a-z-]*):dynamodb:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):table/([a-zA-Z0-9_.-]{3,255})$")
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
    partition_key: KeyAttribute | None     # None only for an existing table (the stack does not define its keys)
    sort_key: KeyAttribute | None = None
    point_in_time_recovery: bool = False
    deletion_protection: bool = False   # AWS deletion protection and Pulumi `protect`: no delete, no replacement
    replace_on_key_change: bool = False  # opt-in: a changed key replaces the table (delete first: data lost)
    existing_table: str | None = None    # `existingTable`: a table name or ARN the stack uses but never creates,
    # changes or deletes
    replaces: str | None = None          # `replaces`: the table (name or ARN) this new one takes over from; it changes
    # no resource, only makes the plan and the deploy warn that the new table starts empty

    def physical_name(self, stack: str) -> str:
        """The DynamoDB table's name: the existing one's, else the one the stack creates."""
        if self.existing_table:
            match = TABLE_ARN_PATTERN.match(self.existing_table)
            return match.group(4) if match else self.existing_table
        return table_physical_name(stack, self.name)

    def arn(self, stack: str, region: str, account_id: str, partition: str = "aws") -> str:
        """The table's ARN: an existing table's as given, else built from the deploy's region and account."""
        if self.existing_table and TABLE_ARN_PATTERN.match(self.existing_table):
            return self.existing_table
        return f"arn:{partition}:dynamodb:{region}:{account_id}:table/{self.physical_name(stack)}"

    @property
    def existing_region(self) -> str | None:
        """The region an existing table's ARN names (None for a name: the stack's region)."""
        match = TABLE_ARN_PATTERN.match(self.existing_table or "")
        return match.group(2) if match else None


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
        if spec.get("existingTable") is not None:
            tables[name] = _existing_table(check, path, name, spec)
            continue
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
            deletion_protection=flags["deletionProtection"], replace_on_key_change=flags["replaceOnKeyChange"],
            replaces=_replaced_table(check, path, spec.get("replaces"), table_physical_name(check.stack, name)))
    return tables


def _existing_table(check: Checker, path: str, name: str, spec: dict) -> TableSettings:
    if spec.get("replaces") is not None:
        raise check.error(f"{path}.replaces", "replaces marks a NEW table that starts empty, but existingTable uses "
                          "the old table itself, items and all.", "remove replaces (existingTable keeps the data), "
                          "or remove existingTable to create a new, empty table.")
    others = sorted(key for key in spec if key != "existingTable")
    if others:
        raise check.error(f"{path}.{others[0]}", f"{', '.join(others)} configure a table the stack creates, but the "
                          "stack never changes an existing table.", "remove them (the table keeps its own keys and "
                          "settings), or remove existingTable to create a new table.")
    table = _table_reference(check, f"{path}.existingTable", spec["existingTable"])
    return TableSettings(name=name, partition_key=None, existing_table=table)


def _table_reference(check: Checker, key: str, value: Any) -> str:
    """A table name or table ARN (`existingTable`, `replaces`)."""
    table = check.string(key, value, what="the table's name (3-255 letters, digits, _ . -) or its ARN").strip()
    if not (TABLE_NAME_PATTERN.match(table) or TABLE_ARN_PATTERN.match(table)):
        raise check.error(key, f"{table!r} is not a DynamoDB table name or table ARN.",
                          "use the table's name (3-255 letters, digits, _ . -), or its ARN "
                          "(arn:aws:dynamodb:<region>:<account>:table/<name>).")
    return table


def _replaced_table(check: Checker, path: str, value: Any, own_name: str) -> str | None:
    """`replaces`: the old table whose items the new one does not have. Naming the new table itself is a mistake
    (the table would be said to replace itself), so it is refused."""
    if value is None:
        return None
    table = _table_reference(check, f"{path}.replaces", value)
    match = TABLE_ARN_PATTERN.match(table)
    if (match.group(4) if match else table) == own_name:
        raise check.error(f"{path}.replaces", f"{table!r} is the table this stack creates for {path}, not an old one.",
                          "name the old table (e.g. Amplify's <tableName>-<env>) whose items the new table does not "
                          "have, or remove replaces.")
    return table


def _key_attribute(check: Checker, path: str, value: Any) -> KeyAttribute:
    spec = check.mapping(path, value, KEY_ATTRIBUTE_KEYS)
    if "name" not in spec:
        raise check.error(f"{path}.name", "the key has no attribute name.", "set name, e.g. {name: id, type: S}.")
    name = check.string(f"{path}.name", spec["name"], what="an attribute name")
    if len(name) > 255:
        raise check.error(f"{path}.name", "the attribute name is longer than 255 characters.", "shorten it.")
    written = spec.get("type", "S")
    # The Pulumi CLI reads stack files as YAML 1.1 (gopkg.in/yaml.v2), where an unquoted N is the boolean false, and
    # hands the program that false: it can only be the N written there (no other key type reads as a boolean).
    key_type = check.choice(f"{path}.type", "N" if written is False else written, KEY_TYPES)
    return KeyAttribute(name=name, type=key_type)
