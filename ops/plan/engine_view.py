"""What the mock runtime shows that plain inputs do not: the resource options of a register request, and
AWS-shaped zone ids for the mocked availability-zone invokes. Used by ops/plan/mockrun.py."""
from __future__ import annotations

import re

_DIRECTIONS = {"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "north": "n",
               "south": "s", "east": "e", "west": "w", "central": "c"}


def zone_id_prefix(region: str) -> str:
    """AWS's zone-id prefix of a region: us-east-1 -> use1, ap-southeast-2 -> apse2, eu-central-1 -> euc1."""
    match = re.match(r"^([a-z]+)-([a-z]+)-(\d+)$", region)
    if not match:
        return "use1"
    area, direction, number = match.groups()
    return f"{area}{_DIRECTIONS.get(direction, direction[:1])}{number}"


def register_options(request) -> dict:
    """The resource options the engine would act on, as the register request carries them (only those set)."""
    options: dict = {}
    if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = bool(request.deleteBeforeReplace)
    for key in ("protect", "retainOnDelete"):
        if _has_presence(request, key) or getattr(request, key):
            options[key] = bool(getattr(request, key))
    for key in ("replaceOnChanges", "ignoreChanges"):
        if list(getattr(request, key)):
            options[key] = sorted(getattr(request, key))
    if request.HasField("customTimeouts"):
        timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")
                    if getattr(request.customTimeouts, k)}
        if timeouts:
            options["customTimeouts"] = timeouts
    return options


def _has_presence(message, field_name: str) -> bool:
    try:
        return message.HasField(field_name)
    except ValueError:          # a plain field (older SDKs) has no presence: only a true value is "set"
        return False
