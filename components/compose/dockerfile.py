"""Dockerfile-only sources: the ports a Dockerfile EXPOSEs and the HEALTHCHECK it declares.

A source folder with a ``Dockerfile`` and no compose file is one container. Its ports come from
the EXPOSE instructions of the stage that is built last (a stage built ``FROM`` an earlier stage
inherits that stage's EXPOSE, ENV and HEALTHCHECK, as Docker does). ``$VAR``/``${VAR}`` in EXPOSE
are expanded from the stage's ARG defaults and ENV values; a port that stays unknown is skipped
with a warning. No EXPOSE at all means port 80, with a warning (the Amplify behaviour).

ECS never runs an image's HEALTHCHECK, so the Dockerfile's HEALTHCHECK is copied into the model
and becomes the ECS health check.

A small parser that follows the Dockerfile reference: parser directives, line continuations with the
escape character, comments, heredocs, JSON and shell forms. BuildKit's own parser (PyPI ``dockerfile``)
has no Linux aarch64 wheel and does not expand variables, so it is the tests' oracle instead of a
dependency (docs/design.md, "The Dockerfile reader"; tests/test_dockerfile_buildkit.py).
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from components.compose.documents import is_file, read_text
from components.compose.interpolate import InterpolationError, interpolate_string
from components.compose.model import App, BuildSpec, Container, HealthCheck, PortMapping
from components.compose.values import parse_duration
from components.errors import ConfigError, LoadWarning

DEFAULT_PORT = 80
DOCKERFILE_NAMES = ("Dockerfile", "dockerfile")
# BuildKit's heredoc marker: `<<NAME`, `<<"NAME"`, `<<'NAME'`, and `<<-` (tabs before the end word are dropped).
# `<< NAME`, with a space, is no heredoc.
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class Stage:
    name: str | None
    exposes: list[tuple[str, int]] = field(default_factory=list)   # (text after variables, line)
    ports: list[PortMapping] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    healthcheck: HealthCheck | None = None
    healthcheck_set: bool = False


@dataclass
class DockerfileFacts:
    ports: list[PortMapping]
    healthcheck: HealthCheck | None
    warnings: list[LoadWarning]


def find_dockerfile(folder: Path) -> Path | None:
    for name in DOCKERFILE_NAMES:
        candidate = folder / name
        if is_file(candidate):
            return candidate
    return None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text) with continuations joined and comments dropped."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:                               # parser directives come first
        match = re.match(r"^\s*#\s*(\w+)\s*=\s*(\S+)\s*$", line)
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
    result: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    heredoc_end: list[tuple[str, bool]] = []      # (end word, leading tabs dropped), in order
    for number, line in enumerate(lines, start=1):
        if heredoc_end:
            word, strip_tabs = heredoc_end[0]
            # As BuildKit: the end word alone on its line, exactly (after the tabs, for `<<-`).
            if (line.lstrip("\t") if strip_tabs else line) == word:
                heredoc_end.pop(0)
            continue
        stripped = line.strip()
        # Blank and comment lines end nothing: BuildKit skips them inside a continued instruction too.
        if not stripped or stripped.startswith("#"):
            continue
        if not current:
            start = number
        if stripped.endswith(escape):
            current.append(stripped[:-1])
            continue
        current.append(stripped)
        instruction = " ".join(part for part in current if part)
        current = []
        result.append((start, instruction))
        heredoc_end = [(match.group(3), match.group(1) == "-") for match in _HEREDOC.finditer(instruction)] \
            if re.match(r"^(RUN|COPY|ADD)\s", instruction, re.IGNORECASE) else []
    if current:
        result.append((start, " ".join(current)))
    return result


def _assignments(rest: str, *, legacy_allowed: bool) -> dict[str, str]:
    """``A=1 B="two words"`` or the legacy ``A value with spaces`` (ENV only)."""
    try:
        words = shlex.split(rest, posix=True)
    except ValueError:
        words = rest.split()
    if words and "=" not in words[0] and legacy_allowed:
        return {words[0]: rest.split(None, 1)[1].strip() if len(rest.split(None, 1)) > 1 else ""}
    values = {}
    for word in words:
        name, found, value = word.partition("=")
        values[name] = value if found else None
    return values


def _expand(text: str, variables: dict[str, str]) -> str | None:
    unset: list[str] = []
    try:
        value = interpolate_string(text, variables, unset.append)
    except InterpolationError:
        return None
    return None if unset else value


def _healthcheck(rest: str, line: int, file: str) -> HealthCheck | None:
    words = rest.split()
    if words and words[0].upper() == "NONE":
        return None
    options: dict[str, str] = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        options[name] = value
    if not words or words[0].upper() != "CMD":
        raise ConfigError(f"line {line}: HEALTHCHECK needs CMD or NONE.", file=file, key="HEALTHCHECK",
                          fix="write HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE.")
    command_text = rest[rest.upper().index("CMD") + 3:].strip()
    test: tuple[str, ...]
    if command_text.startswith("["):
        try:
            parts = json.loads(command_text)
            if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts) or not parts:
                raise ValueError
            test = ("CMD", *parts)
        except ValueError:
            test = ("CMD-SHELL", command_text)
    else:
        test = ("CMD-SHELL", command_text)
    values: dict = {}
    for option, key in (("interval", "interval"), ("timeout", "timeout"), ("start-period", "start_period")):
        if option in options:
            try:
                values[key] = parse_duration(options[option])
            except ValueError as error:
                raise ConfigError(f"line {line}: HEALTHCHECK --{option}: {error}.", file=file,
                                  key="HEALTHCHECK") from None
    if "retries" in options:
        if not options["retries"].isdigit():
            raise ConfigError(f"line {line}: HEALTHCHECK --retries must be a whole number.", file=file,
                              key="HEALTHCHECK")
        values["retries"] = int(options["retries"])
    return HealthCheck(test=test, **values)


def _expose_ports(text: str, line: int, file: str, warnings: list[LoadWarning]) -> list[PortMapping]:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/(\w+))?", text)
    if not match:
        raise ConfigError(f"line {line}: EXPOSE {text!r} is not a port like 8080, 8080/udp or 8000-8010.",
                          file=file, key="EXPOSE", fix="write EXPOSE PORT[/PROTOCOL].")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    protocol = (match.group(3) or "tcp").lower()
    if protocol not in ("tcp", "udp"):
        raise ConfigError(f"line {line}: EXPOSE {text!r}: protocol {protocol!r} is not supported on Fargate.",
                          file=file, key="EXPOSE", fix="use tcp or udp.")
    if not (1 <= low <= high <= 65535):
        raise ConfigError(f"line {line}: EXPOSE {text!r} is not a port between 1 and 65535.",
                          file=file, key="EXPOSE")
    if high > low:
        warnings.append(LoadWarning(f"EXPOSE {text} (line {line}) is a range: each of its {high - low + 1} ports "
                                    "becomes a container port.", file=file, key="EXPOSE"))
    return [PortMapping(port, protocol) for port in range(low, high + 1)]


def read_dockerfile(path: Path, build_args: dict[str, str] | None = None, *, target: str | None = None,
                    text: str | None = None, with_ports: bool = True) -> DockerfileFacts:
    """The built stage's ports (in EXPOSE order, without duplicates) and health check.

    The built stage is ``target`` (compose ``build.target``) or the last one. ``text`` replaces
    the file's content (compose ``dockerfile_inline``); ``path`` then only names it in messages.
    ``with_ports=False`` skips EXPOSE (compose services take their ports from ``ports:``).
    """
    file = str(path)
    text = read_text(path, what="Dockerfile") if text is None else text
    warnings: list[LoadWarning] = []
    build_args = build_args or {}
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: Stage | None = None
    for line, instruction in _logical_lines(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            words = [word for word in words if not word.startswith("--")]
            base = words[0].lower() if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            parent = next((stage for stage in stages if stage.name == base), None)
            if parent is None and base.isdigit() and int(base) < len(stages):
                parent = stages[int(base)]
            current = Stage(name)
            if parent is not None:
                current.ports = list(parent.ports)
                current.env = dict(parent.env)
                current.healthcheck, current.healthcheck_set = parent.healthcheck, parent.healthcheck_set
            stages.append(current)
        elif keyword == "ARG":
            for name, default in _assignments(rest, legacy_allowed=False).items():
                scope = global_args if current is None else current.args
                if default is None and current is not None:
                    default = global_args.get(name)
                scope[name] = build_args.get(name, default)
        elif current is None:
            continue
        elif keyword == "ENV":
            variables = _variables(current)
            for name, value in _assignments(rest, legacy_allowed=True).items():
                current.env[name] = _expand(value or "", variables) or ""
        elif keyword == "EXPOSE" and with_ports:
            variables = _variables(current)
            for word in rest.split():
                expanded = _expand(word, variables)
                if expanded is None or not expanded.strip():
                    warnings.append(LoadWarning(
                        f"EXPOSE {word} (line {line}) uses a variable with no default value, so its port is "
                        "unknown at deploy time; it is skipped.", file=file, key="EXPOSE"))
                    continue
                for expanded_word in expanded.split():
                    current.ports.extend(_expose_ports(expanded_word, line, file, warnings))
        elif keyword == "HEALTHCHECK":
            current.healthcheck = _healthcheck(rest, line, file)
            current.healthcheck_set = True
    if not stages:
        raise ConfigError("the Dockerfile has no FROM instruction.", file=file, key="FROM",
                          fix="start the Dockerfile with FROM <base image>.")
    final = stages[-1]
    if target is not None:
        final = next((stage for stage in stages if stage.name == target.lower()), None)
        if final is None:
            raise ConfigError(f"the build target {target!r} is not a stage of the Dockerfile.", file=file,
                              key="build.target", fix=f"name a stage with FROM <image> AS {target}, or fix target:.")
    unique: list[PortMapping] = []
    for port in final.ports:
        if all((p.container_port, p.protocol) != (port.container_port, port.protocol) for p in unique):
            unique.append(port)
    return DockerfileFacts(unique, final.healthcheck, warnings)


def _variables(stage: Stage) -> dict[str, str]:
    return {**{k: v for k, v in stage.args.items() if v is not None}, **stage.env}


def container_name_for(folder: Path) -> str:
    """Compose's project-name rule: lowercase, only letters, digits, '_' and '-'."""
    name = re.sub(r"[^a-z0-9_-]", "", folder.name.lower()).lstrip("_-")
    return name or "app"


def load_dockerfile_app(source_dir: Path, dockerfile: Path, port: int | None = None) -> App:
    """port: the stack's routed port (``apis.NAME.port``); None: the first TCP EXPOSE, else 80 with a warning."""
    facts = read_dockerfile(dockerfile)
    warnings = list(facts.warnings)
    ports = list(facts.ports)
    if port is not None:
        if not any(p.container_port == port and p.protocol == "tcp" for p in ports):
            ports.append(PortMapping(port))
        routed = PortMapping(port)
    else:
        if not ports:
            ports = [PortMapping(DEFAULT_PORT)]
            warnings.append(LoadWarning(
                f"the Dockerfile has no EXPOSE, so API Gateway routes to port {DEFAULT_PORT}; add EXPOSE <port> "
                "(or set apis.<api>.port in the stack config) if the app listens elsewhere.", file=str(dockerfile),
                key="EXPOSE"))
        routed = next((p for p in ports if p.protocol == "tcp"), None)
        if routed is None:
            raise ConfigError("the Dockerfile exposes only UDP ports; API Gateway needs a TCP port to route to.",
                              file=str(dockerfile), key="EXPOSE", fix="add EXPOSE <tcp port>, or set apis.<api>.port.")
    name = container_name_for(source_dir)
    container = Container(
        name=name,
        build=BuildSpec(context=str(source_dir), dockerfile=dockerfile.name),
        ports=ports,
        healthcheck=facts.healthcheck,
    )
    return App(source_dir=source_dir, compose_files=[], containers=[container], entrypoint=name,
               routed_port=routed.container_port, warnings=warnings)
