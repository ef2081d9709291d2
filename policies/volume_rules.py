"""The data guardrail of issue 21: where an environment requires it, the EFS file system that holds the named
volumes is Pulumi-protected (the program sets ``protect`` with ``forceDestroy: false``) and backed up by AWS Backup
(its BackupPolicy ENABLED). A stack rule, registered in policies/rules.py, over resources that carry their
``protect`` option (catalog.resources.Resource); a value unknown at preview is never a violation.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from catalog.resources import EFS_BACKUP_POLICY, EFS_FILE_SYSTEM, Resource, block, known, of_type

StackFindings = list[tuple[Resource | None, str]]


def volume_protection(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    if not settings.get("required"):
        return []
    found: StackFindings = []
    policies = of_type(resources, EFS_BACKUP_POLICY)
    for file_system in of_type(resources, EFS_FILE_SYSTEM):
        if not file_system.protect:
            found.append((file_system, "can be deleted with every named volume's data by `pulumi destroy`, by removing "
                                       "the last volume, or by a replacement. Set forceDestroy: false in the stack "
                                       "config (the program then protects the file system)."))
        fs_id = file_system.props.get("id")
        mine = [p for p in policies if not known(fs_id) or p.props.get("fileSystemId") in (fs_id, None)
                or not known(p.props.get("fileSystemId"))]
        statuses = [block(p.props.get("backupPolicy")).get("status") for p in mine]
        if not any(s == "ENABLED" or not known(s) for s in statuses):
            found.append((file_system, "is not backed up (its EFS BackupPolicy is not ENABLED). Remove volumeBackups: "
                                       "false from the stack config."))
    return found
