"""The compose-facing keys of one API in the stack config (pure Python): ``port`` (the routed port) and
``volumes`` (``{VOLUME: ephemeral}``). Called by components/settings/apis.py with its error factory."""
from __future__ import annotations

from typing import Any, Callable

from components.errors import ConfigError

VOLUME_MODES = ("ephemeral",)
Error = Callable[[str, str, str], ConfigError]     # (key path, problem, fix) -> ConfigError


def parse_compose_keys(error: Error, path: str, spec: dict) -> dict[str, Any]:
    """ApiSettings values for `port` and `volumes` (absent keys give nothing)."""
    values: dict[str, Any] = {}
    port = spec.get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise error(f"{path}.port", f"{port!r} is not a TCP port.",
                        "set the port the entrypoint container listens on, a whole number from 1 to 65535.")
        values["port"] = port
    volumes = spec.get("volumes")
    if volumes is not None:
        if not isinstance(volumes, dict):
            raise error(f"{path}.volumes", "expected a map of volume -> ephemeral.",
                        "write volumes: {cache: ephemeral} (named volumes not listed stay on EFS).")
        for volume, mode in volumes.items():
            if mode not in VOLUME_MODES:
                raise error(f"{path}.volumes.{volume}", f"{mode!r} is not a valid choice.",
                            f"use one of: {', '.join(VOLUME_MODES)} (leave the volume out to keep it on EFS).")
        values["volumes"] = {str(volume): mode for volume, mode in volumes.items()}
    return values
