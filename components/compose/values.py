"""Compose value syntaxes: ports, durations, byte sizes, CPUs, commands, health checks.

After interpolation every scalar may be a string (``replicas: ${N}`` becomes ``"3"``), so each
parser takes the YAML type or its string form, as Docker Compose does, and raises ``ValueError``
with a readable reason; ``components/compose/loader.py`` adds the file/service/key to it.
"""
from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from typing import Any

from components.compose.model import HealthCheck, PortMapping

MAX_PORT = 65535


def short(value: Any, limit: int = 60) -> str:
    """A value for an error message: its repr, cut short (junk can be long); null is "empty (null)", never None."""
    if value is None:
        return "empty (null)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class FieldError(ValueError):
    """A ValueError about one sub-key (``field``) of the value being parsed."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


_TRUE = ("true", "yes", "y", "on", "1")
_FALSE = ("false", "no", "n", "off", "0")


def as_bool(value: Any) -> bool:
    """Compose's boolean cast for interpolated values (``privileged: ${PRIV}``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{short(value)} is not true or false")


def as_int(value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{short(value)} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        number = int(value)
    else:
        raise ValueError(f"{short(value)} is not a whole number")
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} is less than {minimum}")
    return number


def as_text(value: Any) -> str:
    """A scalar as the string a container would see (Compose's rules for env values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")     # Go's formatting
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"{short(value)} is not a plain value (a string or number)")


# ---- durations (Go's time.ParseDuration, which Compose uses) ---------------------------------

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: Any) -> float:
    """``1m30s`` -> 90.0, ``500ms`` -> 0.5; seconds as a float."""
    if isinstance(value, bool):
        raise ValueError(f"{short(value)} is not a duration")
    if isinstance(value, (int, float)):
        if value == 0:
            return 0.0
        raise ValueError(f"{short(value)} has no unit; write e.g. {value}s")
    if not isinstance(value, str):
        raise ValueError(f"{short(value)} is not a duration")
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if text == "0":
        return 0.0
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        raise ValueError(f"{short(value)} has no unit; write e.g. {text}s")
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if not match:
            raise ValueError(f"{short(value)} is not a duration like 30s, 1m30s or 500ms")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text:
        raise ValueError(f"{short(value)} is not a duration like 30s, 1m30s or 500ms")
    if sign < 0:
        raise ValueError(f"{short(value)} is negative")
    return total


# ---- sizes and CPUs ---------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_bytes(value: Any) -> int:
    """Docker's RAMInBytes: a plain number is bytes; k, m, g (and kb, mib...) are powers of 1024."""
    if isinstance(value, bool):
        raise ValueError(f"{short(value)} is not a size")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{short(value)} is negative")
        if value != value or value == float("inf"):     # YAML's 1e309 and .inf are floats too
            raise ValueError(f"{short(value)} is not a finite size")
        return int(value)
    if not isinstance(value, str):
        raise ValueError(f"{short(value)} is not a size")
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"{short(value)} is not a size like 512m or 2g")
    return int(float(match.group(1)) * 1024 ** _SIZE_POWERS[match.group(2).lower()])


def memory_mib(value: Any) -> int:
    """A compose memory size as whole MiB (rounded up, as ECS takes MiB)."""
    size = parse_bytes(value)
    return max(1, math.ceil(size / (1024 * 1024))) if size else 0


def cpu_units(value: Any) -> int:
    """Compose ``cpus`` (``0.5``, ``"1.5"``) as ECS CPU units (1 vCPU = 1024), rounded up."""
    if isinstance(value, bool):
        raise ValueError(f"{short(value)} is not a number of CPUs")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{short(value)} is not a number of CPUs like 0.5 or 2") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{short(value)} is not a number of CPUs like 0.5 or 2")
    return math.ceil(number * 1024) if number else 0


# ---- ports ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedPorts:
    mappings: list[PortMapping]
    text: str            # the entry as written, for messages
    is_range: bool
    published: str | None


def _port_number(text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"{what} {short(text)} is not a port number")
    number = int(text)
    if not 1 <= number <= MAX_PORT:
        raise ValueError(f"{what} {number} is outside 1-{MAX_PORT}")
    return number


def _port_range(text: str, what: str) -> list[int]:
    text = text.strip()
    if "-" in text:
        low_text, _, high_text = text.partition("-")
        low, high = _port_number(low_text, what), _port_number(high_text, what)
        if high < low:
            raise ValueError(f"{what} range {short(text)} runs backwards")
        return list(range(low, high + 1))
    return [_port_number(text, what)]


def _protocol(text: str) -> str:
    protocol = (text or "tcp").strip().lower()
    if protocol == "sctp":
        raise ValueError("SCTP ports are not supported on Fargate (tcp and udp only)")
    if protocol not in ("tcp", "udp"):
        raise ValueError(f"protocol {short(text)} is not tcp or udp")
    return protocol


def parse_port(entry: Any) -> ParsedPorts:
    """One ``ports:`` entry in short or long syntax; the container side is what Fargate uses."""
    if isinstance(entry, bool):
        raise ValueError(f"{short(entry)} is not a port")
    if isinstance(entry, int):
        return ParsedPorts([PortMapping(_port_number(str(entry), "port"))], str(entry), False, None)
    if isinstance(entry, float):
        raise ValueError(f"{short(entry)} is not a port (did YAML read 'a:b' as a number? quote it)")
    if isinstance(entry, dict):
        return _parse_long_port(entry)
    if not isinstance(entry, str):
        raise ValueError(f"{short(entry)} is not a port")
    text = entry.strip()
    spec, _, protocol_text = text.rpartition("/") if "/" in text else (text, "", "tcp")
    protocol = _protocol(protocol_text)
    if spec.startswith("["):            # [ipv6]:published:target
        closing = spec.find("]")
        if closing < 0 or spec[closing + 1:closing + 2] != ":":
            raise ValueError(f"{short(entry)} is not [IP]:HOST:CONTAINER")
        rest = spec[closing + 2:]
        published, _, target = rest.rpartition(":")
    else:
        parts = spec.rsplit(":", 2)
        target = parts[-1]
        published = parts[-2] if len(parts) >= 2 else ""
    if not target:
        raise ValueError(f"{short(entry)} names no container port")
    targets = _port_range(target, "container port")
    if published:
        published_ports = _port_range(published, "published port")
        if len(published_ports) > 1 and len(targets) > 1 and len(published_ports) != len(targets):
            raise ValueError(f"{short(entry)} maps {len(published_ports)} published ports to {len(targets)} container ports")
    else:
        published_ports = []
    mappings = [PortMapping(port, protocol, published_ports[i] if len(published_ports) == len(targets) else
                            (published_ports[0] if len(published_ports) == 1 and len(targets) == 1 else None))
                for i, port in enumerate(targets)]
    return ParsedPorts(mappings, text, len(targets) > 1, published or None)


def _parse_long_port(entry: dict) -> ParsedPorts:
    if "target" not in entry:
        raise ValueError("a long-syntax port needs target: (the container port)")
    targets = _port_range(as_text(entry["target"]), "container port")
    if len(targets) != 1:
        raise ValueError("target: must be a single port in the long syntax")
    protocol = _protocol(as_text(entry.get("protocol") or "tcp"))
    published = entry.get("published")
    published_text = as_text(published) if published not in (None, "") else None
    host_port = None
    if published_text:
        published_ports = _port_range(published_text, "published port")
        host_port = published_ports[0]
    return ParsedPorts([PortMapping(targets[0], protocol, host_port)], f"target {targets[0]}", False, published_text)


def parse_expose(entry: Any) -> list[int]:
    text = as_text(entry)
    spec = text.split("/", 1)[0]
    return _port_range(spec, "exposed port")


# ---- commands ---------------------------------------------------------------------------------

def parse_command(value: Any) -> list[str]:
    """A command as a list: strings are split like a shell would (Compose uses shellwords)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            raise ValueError(f"{short(value)} cannot be split into words ({error}); check the quotes") from None
    if isinstance(value, list):
        return [as_text(item) for item in value]
    raise ValueError(f"{short(value)} is not a string or a list of strings")


# ---- health checks ----------------------------------------------------------------------------

def parse_healthcheck(spec: Any) -> tuple[HealthCheck | None, list[str]]:
    """A compose healthcheck as the model's (test, interval, timeout, retries, start_period).

    Returns (None, notes) for ``disable: true`` and ``test: NONE``. ``notes`` are sub-keys that
    ECS cannot apply (for warnings).
    """
    if spec is None:
        return None, []
    if not isinstance(spec, dict):
        raise ValueError(f"{short(spec)} is not a mapping")
    notes = []
    try:
        disabled = "disable" in spec and as_bool(spec["disable"])
    except ValueError as error:
        raise FieldError("disable", f"disable: {error}") from None
    if disabled:
        return None, notes
    test = spec.get("test")
    if test is None:                 # compose would keep the image's HEALTHCHECK; ECS never runs it
        return None, ["test"]
    if isinstance(test, str):
        command: tuple[str, ...] = ("CMD-SHELL", test) if test.strip() != "NONE" else ("NONE",)
    elif isinstance(test, list) and test:
        command = tuple(as_text(item) for item in test)
    else:
        raise FieldError("test", f"test {short(test)} is not a command string or a list starting with CMD, CMD-SHELL or NONE")
    if command[0] == "NONE":
        return None, notes + (["none-string"] if isinstance(test, str) else [])
    if command[0] not in ("CMD", "CMD-SHELL"):
        raise FieldError("test", f"test {short(list(command))} must start with CMD, CMD-SHELL or NONE")
    if len(command) < 2:
        raise FieldError("test", f"test {short(list(command))} names no command")
    if command[0] == "CMD-SHELL" and len(command) > 2:
        command = ("CMD-SHELL", " ".join(command[1:]))
    values: dict[str, Any] = {}
    for key in ("interval", "timeout", "start_period"):
        if spec.get(key) is not None:
            try:
                values[key] = parse_duration(spec[key])
            except ValueError as error:
                raise FieldError(key, f"{key}: {error}") from None
    if spec.get("retries") is not None:
        try:
            values["retries"] = as_int(spec["retries"], minimum=0)
        except ValueError as error:
            raise FieldError("retries", f"retries: {error}") from None
    if spec.get("start_interval") is not None:
        notes.append("start_interval")
    return HealthCheck(test=command, **values), notes
