"""Canonical forms and the Compose merge rules (override files, ``extends``, multi-document files).

Every service is first normalized to one canonical shape (``environment`` as a mapping,
``depends_on`` as a mapping, ``build`` as a mapping, relative paths made absolute against the
folder they are relative to), so merging is mostly "mappings merge, scalars replace" plus the
specification's special cases for lists:

* ``command``, ``entrypoint``, ``healthcheck.test``: the later value replaces the earlier one;
* ``volumes`` merge by container path, ``secrets``/``configs`` by source, ``env_file`` by path;
* other lists are appended without duplicates;
* ``!reset`` removes a value, ``!override`` replaces it without merging.
"""
from __future__ import annotations

import copy
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from components.compose.documents import Override, Reset
from components.errors import ConfigError

REMOTE_CONTEXT = re.compile(r"^(?:https?://|git://|git@|ssh://|github\.com/)", re.IGNORECASE)
REMOTE_FILE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?![\\/])")   # "remote:x", "oci://x", "https://x"; not "C:\x"

_REPLACED_LISTS = {("command",), ("entrypoint",), ("healthcheck", "test"), ("profiles",)}


def is_remote_context(context: str) -> bool:
    return bool(REMOTE_CONTEXT.match(context))


def resolve_path(base_dir: Path, text: str) -> Path:
    path = Path(text)
    if text.startswith("~"):
        try:
            path = path.expanduser()
        except RuntimeError:          # "~someone" with no such user: keep the text, it fails later clearly
            pass
    return Path(os.path.normpath(path if path.is_absolute() else base_dir / path))


def _inside(value: Any, transform):
    """Apply ``transform`` to a value, looking through an ``!override`` wrapper."""
    if isinstance(value, Override):
        return Override(transform(value.value))
    if isinstance(value, Reset):
        return value
    return transform(value)


def _list_to_mapping(value: Any, *, separator: str = "=") -> Any:
    if not isinstance(value, list):
        return value
    mapping: dict[str, Any] = {}
    for item in value:
        text = str(item) if not isinstance(item, str) else item
        name, found, rest = text.partition(separator)
        mapping[name] = rest if found else None
    return mapping


def drop_repeated_entries(document: dict) -> tuple[dict, list[tuple[str, str, str]]]:
    """Repeated ``environment`` and ``ports`` list entries, as Docker Compose 2.40 takes them (it accepts them;
    only 2.24.1 refused them): an entry written twice counts once, a variable set twice keeps its last value.
    Returns the document and (service, key, note) for each repetition, so the caller can warn."""
    services = document.get("services")
    if not isinstance(services, dict):
        return document, []
    notes: list[tuple[str, str, str]] = []
    changed = {}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        fixed = dict(service)
        for key in ("environment", "ports"):
            entries = service.get(key)
            if not isinstance(entries, list):
                continue
            seen: dict[str, int] = {}
            kept = []
            for entry in entries:
                text = repr(entry) if not isinstance(entry, str) else entry
                if text in seen:
                    notes.append((str(name), key, f"{key} lists {text!r} twice; it counts once, as Docker Compose "
                                                  "takes it."))
                    continue
                seen[text] = len(kept)
                kept.append(entry)
            if key == "environment":
                names: dict[str, str] = {}
                for entry in kept:
                    if isinstance(entry, str):
                        variable = entry.partition("=")[0]
                        if variable in names and names[variable] != entry:
                            notes.append((str(name), f"{key}.{variable}", f"environment sets {variable} twice; the "
                                                                         f"last value ({entry!r}) wins, as in Docker "
                                                                         "Compose."))
                        names[variable] = entry
            if len(kept) != len(entries):
                fixed[key] = kept
        changed[name] = fixed
    return {**document, "services": {**services, **changed}}, notes


DEFAULT_CONTEXT = "x-default-context"   # the folder "." means for a build without context (merge-internal)


def _normalize_build(value: Any, base_dir: Path) -> Any:
    if isinstance(value, str):
        value = {"context": value}
    if not isinstance(value, dict):
        return value
    build = dict(value)
    context = build.get("context")
    if context is None or context == "":
        # No context here: an override's build (e.g. only args) keeps the base file's context when merged, so
        # only remember where "." would be for a build that never gets one.
        build.pop("context", None)
        build[DEFAULT_CONTEXT] = str(resolve_path(base_dir, "."))
    elif isinstance(context, str) and not is_remote_context(context):
        build["context"] = str(resolve_path(base_dir, context))
    if "args" in build:
        build["args"] = _list_to_mapping(build["args"])
    return build


def _normalize_env_files(value: Any, base_dir: Path) -> Any:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    files = []
    for item in items:
        if isinstance(item, str):
            files.append({"path": str(resolve_path(base_dir, item)), "required": True})
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            files.append({**item, "path": str(resolve_path(base_dir, item["path"]))})
        else:
            files.append(item)
    return files


_WINDOWS_SHORT_VOLUME = re.compile(r"^([a-zA-Z]:[\\/][^:]*|[^:]*):([^:]+)(?::([^:]*))?$")


def _is_path_source(source: str) -> bool:
    return source.startswith((".", "/", "~")) or "/" in source or "\\" in source or bool(re.match(r"^[a-zA-Z]:", source))


def clean_path(path: str) -> str:
    """A container path as Compose cleans it (Go's path.Clean): ``/data/`` -> ``/data``, ``/a/./b/../c`` -> ``/a/c``;
    so an override's volume replaces the base file's one with the same target."""
    if not path:
        return path
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def normalize_volume(item: Any, base_dir: Path) -> Any:
    """A ``volumes:`` entry as ``{type, source, target, read_only}`` with bind sources made absolute."""
    if isinstance(item, str):
        if ":" not in item:
            return {"type": "volume", "source": None, "target": clean_path(item), "read_only": False}
        match = _WINDOWS_SHORT_VOLUME.match(item)
        if not match:
            return {"type": "invalid", "source": item, "target": None, "read_only": False, "text": item}
        source, target, mode = match.group(1), match.group(2), match.group(3) or ""
        kind = "bind" if _is_path_source(source) else "volume"
        if kind == "bind" and not re.match(r"^[a-zA-Z]:", source):
            source = str(resolve_path(base_dir, source))
        return {"type": kind, "source": source or None, "target": clean_path(target),
                "read_only": "ro" in mode.split(","), "text": item}
    if isinstance(item, dict):
        volume = dict(item)
        if isinstance(volume.get("target"), str):
            volume["target"] = clean_path(volume["target"])
        if volume.get("type") == "bind" and isinstance(volume.get("source"), str) \
                and not re.match(r"^[a-zA-Z]:", volume["source"]):
            volume["source"] = str(resolve_path(base_dir, volume["source"]))
        return volume
    return item


def _normalize_depends_on(value: Any) -> Any:
    if isinstance(value, list):
        return {str(name): {"condition": "service_started", "required": True} for name in value}
    return value


def _normalize_extends(value: Any, base_dir: Path) -> Any:
    if isinstance(value, str):
        return {"service": value}
    if isinstance(value, dict) and isinstance(value.get("file"), str):
        text = value["file"]
        if REMOTE_FILE.match(text):
            return {**value, "remote": text}
        return {**value, "file": str(resolve_path(base_dir, text))}
    return value


def normalize_service(service: Any, base_dir: Path) -> Any:
    if not isinstance(service, dict):
        return service
    result = dict(service)
    rules = {
        "build": lambda v: _normalize_build(v, base_dir),
        "env_file": lambda v: _normalize_env_files(v, base_dir),
        "environment": _list_to_mapping,
        "labels": _list_to_mapping,
        "annotations": _list_to_mapping,
        "depends_on": _normalize_depends_on,
        "networks": lambda v: {str(n): None for n in v} if isinstance(v, list) else v,
        "volumes": lambda v: [normalize_volume(i, base_dir) for i in v] if isinstance(v, list) else v,
        "extends": lambda v: _normalize_extends(v, base_dir),
    }
    for key, transform in rules.items():
        if key in result:
            result[key] = _inside(result[key], transform)
    return result


def normalize_document(document: dict, base_dir: Path) -> dict:
    """Canonical forms for one parsed, validated and interpolated compose document."""
    result = dict(document)
    services = result.get("services")
    if isinstance(services, dict):
        result["services"] = {name: normalize_service(service, base_dir) for name, service in services.items()}
    for section in ("secrets", "configs"):
        entries = result.get(section)
        if isinstance(entries, dict):
            normalized = {}
            for name, entry in entries.items():
                if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                    entry = {**entry, "file": str(resolve_path(base_dir, entry["file"]))}
                normalized[name] = entry
            result[section] = normalized
    return result


# ---- merging -----------------------------------------------------------------------------------

def strip_markers(value: Any) -> Any:
    """Apply markers left after the last merge: ``!reset`` keys vanish, ``!override`` unwraps."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        return {key: strip_markers(item) for key, item in value.items() if not isinstance(item, Reset)}
    if isinstance(value, list):
        return [strip_markers(item) for item in value if not isinstance(item, Reset)]
    return value


def _identity(path: tuple, item: Any) -> Any:
    if path == ("volumes",) and isinstance(item, dict) and item.get("target"):
        return ("target", item["target"])
    if path in (("secrets",), ("configs",)):
        if isinstance(item, dict) and "source" in item:
            return ("source", item["source"])
        return ("source", item)
    if path == ("env_file",) and isinstance(item, dict) and "path" in item:
        return ("path", item["path"])
    return ("value", repr(item))


def _merge_lists(base: list, override: list, path: tuple) -> list:
    if path in _REPLACED_LISTS:
        return list(override)
    merged: dict[Any, Any] = {}
    for item in base + override:
        key = _identity(path, item)
        if key in merged and key[0] == "value":
            continue
        merged.pop(key, None)
        merged[key] = item
    return list(merged.values())


def merge_values(base: Any, override: Any, path: tuple = ()) -> Any:
    if isinstance(override, Reset):
        return Reset()
    if isinstance(override, Override):
        return strip_markers(override.value)
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            if isinstance(value, Reset):
                result.pop(key, None)
            elif key in result:
                result[key] = merge_values(result[key], value, path + (key,))
            else:
                result[key] = value
        return result
    if isinstance(base, list) and isinstance(override, list):
        return _merge_lists(base, override, path)
    return override


def merge_service(base: Any, override: Any) -> dict:
    base = base if isinstance(base, dict) else {}
    override = override if isinstance(override, dict) else {}
    return merge_values(copy.deepcopy(base), override)


def merge_projects(base: dict, override: dict) -> dict:
    """Merge a later compose file (or document) into the earlier ones, section by section."""
    result = dict(base)
    for key, value in override.items():
        if key == "services" and isinstance(value, dict):
            services = dict(result.get("services") or {})
            for name, service in value.items():
                if isinstance(service, Reset):
                    services.pop(name, None)
                elif name in services:
                    services[name] = merge_service(services[name], service)
                else:
                    services[name] = service
            result["services"] = services
        elif key in ("networks", "volumes", "secrets", "configs", "models") and isinstance(value, dict) \
                and isinstance(result.get(key), dict):
            result[key] = merge_values(result[key], value, (key,))
        elif key == "include":
            result[key] = list(result.get(key) or []) + list(value or [])
        else:
            result[key] = value
    return result


def extends_cycle_error(chain: list[tuple[str, str]], file: str) -> ConfigError:
    text = " -> ".join(f"{service} ({Path(path).name})" for path, service in chain)
    return ConfigError(f"extends cycle detected: {text}.", file=file, key="extends",
                       fix="break the cycle: a service cannot extend itself, directly or through others.")
