"""Refuse, at preview, an update that removes a named volume on EFS, unless the stack config names it in
``allowVolumeRemoval``.

A persistent named volume is a directory of the stack's EFS file system behind an access point. Removing the
volume (from the compose file, by marking it ephemeral, or with its API) deletes the access point: the directory
stays, but no task reaches it any more, and when the last volume goes the file system is deleted with everything on
it. EFS meters size per file system, not per directory, so every deployed volume is presumed to hold data.

``VolumeGuard`` is one resource per stack, always registered (also with no volume at all, or the removal of the last
volume would delete the guard instead of asking it). It keeps the deployed volumes (``API/VOLUME``) in the stack's
state; its ``diff`` runs at `pulumi preview` and at the start of `pulumi up`, before any delete, and raises when a
recorded volume is missing from the new list and not named in ``allowVolumeRemoval``. Its ``delete`` (at
`pulumi destroy`) refuses nothing: a destroy is explicit, and prod protects the file system itself.

The provider calls no AWS API. Its module path and class names never change (they are in deployed state).
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:VolumeGuard"
STACK_KEY = "serverless-containers:allowVolumeRemoval"


class VolumeRemovalRefused(Exception):
    """A volume would lose its data (or its file system) without the opt-in; the message says how to go ahead."""


def allowed(volume: str, allowances: list[str]) -> bool:
    """``API/VOLUME`` is allowed by itself or by ``API/*``."""
    api = volume.split("/", 1)[0]
    return volume in allowances or f"{api}/*" in allowances


def removal_problem(olds: dict[str, Any], news: dict[str, Any]) -> str | None:
    """None when no recorded volume disappears, or each one that does is allowed; else the message that stops the
    update."""
    kept = set(news.get("volumes") or [])
    gone = sorted(v for v in olds.get("volumes") or [] if v not in kept)
    refused = [v for v in gone if not allowed(v, list(news.get("allowVolumeRemoval") or []))]
    if not refused:
        return None
    last = not kept
    where = news.get("fileSystemId") or olds.get("fileSystemId") or "the stack's EFS file system"
    consequence = (f"it is the stack's last volume, so Pulumi would delete the file system {where} with all its data"
                   if last else f"its access point would be deleted, and its directory on {where} would stay behind, "
                                "unreachable by any task, until the file system is deleted")
    listed = ", ".join(refused)
    return (f"this update removes the named volume(s) {listed} (the compose file no longer mounts it, it was marked "
            f"ephemeral, or its API was removed): {consequence}. Nothing was changed. To keep the data, put the volume "
            f"back; to copy it out first, restore the file system's latest AWS Backup recovery point or mount it from "
            f"a task. To go ahead and give it up, add {STACK_KEY}: [{', '.join(repr(v) for v in refused)}] to the stack "
            f"config (or API/* for every volume of an API), run the update, then remove the key again.")


class VolumeGuardProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props.get('stack', 'stack')}-volumes", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        problem = removal_problem(olds, news)
        if problem:
            raise VolumeRemovalRefused(problem)
        keys = set(news) | set(olds)
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys if not k.startswith("__")))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)


class VolumeGuard(Resource, module="serverless-containers", name="VolumeGuard"):
    """The stack's deployed named volumes, kept in its state to compare the next update's volumes with."""

    def __init__(self, name: str, *, stack: str, volumes: list[str], allow_volume_removal: list[str],
                 file_system_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__(VolumeGuardProvider(), name, {
            "stack": stack, "volumes": sorted(volumes), "allowVolumeRemoval": sorted(allow_volume_removal),
            "fileSystemId": file_system_id or ""}, opts)
