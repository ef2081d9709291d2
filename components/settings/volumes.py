"""The stack keys about the data on EFS volumes (issue 21): backups, and the opt-in to give a volume up.

Pure Python, like components/settings/security.py: ``parse_volume_settings`` takes the stack config's validator
(anything with ``error``, ``boolean`` and ``string_list``) and the raw values. docs/design.md, "Persistent volumes".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# key -> (what it is, default), merged into the top-level keys for messages.
STACK_KEYS = {
    "volumeBackups": "bool, default true: AWS Backup's daily default plan backs the EFS volumes up",
    "allowVolumeRemoval": "list of API/VOLUME (or API/*), default none: named volumes an update may remove",
}
VOLUME_REF = re.compile(r"^[a-z][a-z0-9-]*/([A-Za-z0-9][A-Za-z0-9_.-]*|\*)$")


@dataclass(frozen=True)
class VolumeSettings:
    backups: bool = True
    """True: the file system's BackupPolicy is ENABLED (AWS Backup's default plan: daily, kept 35 days)."""
    allow_removal: tuple[str, ...] = ()
    """API/VOLUME (or API/*) an update may remove although the volume's data would no longer be reachable
    (components/providers/volume_guard.py); empty: every removal of a deployed volume is refused at preview."""


def parse_volume_settings(check: Any, raw: dict[str, Any]) -> VolumeSettings:
    values: dict[str, Any] = {}
    if raw.get("volumeBackups") is not None:
        values["backups"] = check.boolean("volumeBackups", raw["volumeBackups"])
    if raw.get("allowVolumeRemoval") is not None:
        entries = check.string_list("allowVolumeRemoval", raw["allowVolumeRemoval"],
                                    what="API/VOLUME names like posts/pgdata")
        for index, entry in enumerate(entries):
            if not VOLUME_REF.match(entry):
                raise check.error(f"allowVolumeRemoval[{index}]", f"{entry!r} is not API/VOLUME.",
                                  "name the API and the compose volume, e.g. posts/pgdata, or posts/* for all of "
                                  "one API's volumes.")
        values["allow_removal"] = tuple(entries)
    return VolumeSettings(**values)
