"""Refuse a DynamoDB key change at preview, unless the stack config opts in to losing the table's data.

DynamoDB cannot change a table's partition or sort key: the provider replaces the table. With the fixed table
name the stack uses (docs/design.md, "Physical names"), Pulumi's default create-before-delete would fail halfway
("Table already exists"); the table is therefore replaced delete-first, which deletes every item. So a key
change must be explicit. ``TableKeys`` records each table's keys in the stack's state; its ``diff`` runs at
`pulumi preview` and at the start of `pulumi up`, before the table's own step, and raises when the keys differ
from the recorded ones and ``storage.<table>.replaceOnKeyChange`` is not true. The table depends on it, so
nothing has been touched when the update stops. A table with ``deletionProtection`` is also Pulumi-protected:
the engine refuses to replace it whatever this says.

The provider calls no AWS API. Its module path and class names never change (they are in deployed state).
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:TableKeys"
KEY_FIELDS = ("partitionKey", "sortKey")


class KeyChangeRefused(Exception):
    """A key change without the opt-in; the message says what would be lost and how to go ahead."""


def describe_key(key: dict | None) -> str:
    return f"{key['name']} ({key['type']})" if key else "none"


def key_change_problem(olds: dict[str, Any], news: dict[str, Any]) -> str | None:
    """None when the keys are the same or the change is opted in; else the message that stops the update."""
    changed = [field for field in KEY_FIELDS if (olds.get(field) or None) != (news.get(field) or None)]
    if not changed or news.get("replaceOnKeyChange"):
        return None
    table, stack_key = news.get("physicalName", "?"), f"serverless-containers:storage.{news.get('table', '?')}"
    what = "; ".join(f"{field} {describe_key(olds.get(field))} -> {describe_key(news.get(field))}" for field in changed)
    return (f"DynamoDB table {table}: {what}. DynamoDB cannot change a table's keys, so Pulumi would delete the table "
            f"with all its items and create an empty one. Nothing was changed. To go ahead and lose the data, export "
            f"it first (e.g. `aws dynamodb export-table-to-point-in-time` or a scan), then set {stack_key}."
            f"replaceOnKeyChange: true (and deletionProtection: false) in the stack config; or keep the old keys, or "
            f"add a new table under another name.")


class TableKeysProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props.get("physicalName")), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        problem = key_change_problem(olds, news)
        if problem:
            raise KeyChangeRefused(problem)
        keys = set(news) | set(olds)
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys if not k.startswith("__")))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)


class TableKeys(Resource, module="serverless-containers", name="TableKeys"):
    """The keys a table was created with, kept in the stack's state to compare the next update's keys with."""

    def __init__(self, name: str, *, table: str, physical_name: str, partition_key: dict, sort_key: dict | None,
                 replace_on_key_change: bool, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TableKeysProvider(), name, {
            "table": table, "physicalName": physical_name, "partitionKey": partition_key, "sortKey": sort_key,
            "replaceOnKeyChange": replace_on_key_change}, opts)
