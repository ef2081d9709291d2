"""One short paragraph per API for the plan's default view: what a reader wants before the resource list.

Read from what the program registered (the ``api`` tag on every resource of one API, the task definition, the
ECS service, the authorizer) and from the stack outputs, so it shows what would be deployed; the table grants
come from the validated stack config, where the operations are named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from catalog.resources import (ECS_SERVICE, PIPELINE_RUN_SUFFIX, TASK_DEFINITION, as_list, block, json_document,
                               known, number, spot_share)

AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
HTTP_API = "aws:apigatewayv2/api:Api"


@dataclass
class ApiSummary:
    name: str
    type: str = "rest"
    url: str = ""
    auth: bool = False
    build: str = ""
    tasks: float = 0
    cpu_units: int = 0
    memory_mib: int = 0
    architecture: str = "X86_64"
    spot: bool = False
    containers: list[str] = field(default_factory=list)
    entrypoint: str = ""
    port: float | None = None
    secrets: list[str] = field(default_factory=list)
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scaling: dict[str, Any] = field(default_factory=dict)   # the `scaling` stack output (components/scaling.py)
    volumes: dict[str, Any] = field(default_factory=dict)   # the `volumes` stack output (components/program.py)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "urlShape": url_shape(self.url), "auth": self.auth,
                "build": self.build, "tasks": self.tasks, "cpuUnits": self.cpu_units, "memoryMib": self.memory_mib,
                "architecture": self.architecture, "spot": self.spot, "containers": list(self.containers),
                "entrypoint": self.entrypoint, "port": self.port, "secrets": list(self.secrets),
                "tables": {table: list(ops) for table, ops in self.tables.items()}, "scaling": dict(self.scaling),
                **({"volumes": dict(self.volumes)} if self.volumes else {})}


def _api_of(resource: Any) -> str:
    tags = resource.props.get("tags")
    return str(tags.get("api")) if isinstance(tags, dict) and known(tags.get("api")) else ""


def url_shape(url: str) -> str:
    """The mock's made-up API id replaced by a placeholder: the shape is real, the id is not."""
    return re.sub(r"^https://[^.]+\.execute-api\.", "https://<api-id>.execute-api.", url) if url else ""


def summarize(resources: Iterable[Any], outputs: Mapping[str, Any] | None,
              access: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> list[ApiSummary]:
    """Per API, in the order of the stack outputs (then any API only the resources know)."""
    resources = list(resources)
    exported = (outputs or {}).get("apis") if isinstance((outputs or {}).get("apis"), dict) else {}
    names = list(exported) + sorted({_api_of(r) for r in resources if r.type in (ECS_SERVICE, HTTP_API)}
                                    - set(exported) - {""})
    found = []
    for name in names:
        out = exported.get(name) or {}
        mine = [r for r in resources if _api_of(r) == name]
        summary = ApiSummary(name=name, type=str(out.get("type") or "rest"), url=str(out.get("url") or ""),
                             build=str(out.get("build") or ""), entrypoint=str(out.get("entrypoint") or ""),
                             containers=[str(c) for c in out.get("containers") or []],
                             tables=dict((access or {}).get(name) or {}),
                             scaling=dict(out.get("scaling") or {}) if isinstance(out.get("scaling"), dict) else {},
                             volumes=dict(out.get("volumes") or {}) if isinstance(out.get("volumes"), dict) else {})
        http_api = next((r for r in mine if r.type == HTTP_API), None)
        summary.auth = bool(out.get("auth")) if "auth" in out else any(
            r.type == AUTHORIZER and http_api is not None and r.props.get("apiId") == http_api.props.get("id")
            for r in resources)
        service = next((r for r in mine if r.type == ECS_SERVICE), None)
        task = next((r for r in mine if r.type == TASK_DEFINITION), None)
        if service is not None:
            runs = [r for r in mine if r.type.endswith(PIPELINE_RUN_SUFFIX)]
            scale_to = max([number(r.props.get("scaleTo")) or 0 for r in runs] or [0])
            summary.tasks = max(number(service.props.get("desiredCount")) or 0, scale_to,
                                number(out.get("replicas")) or 0)
            summary.spot = spot_share(as_list(service.props.get("capacityProviderStrategies")))[1]
            registry = block(service.props.get("serviceRegistries"))
            summary.entrypoint = summary.entrypoint or str(registry.get("containerName") or "")
            summary.port = number(registry.get("containerPort"))
        if task is not None:
            summary.cpu_units = int(number(task.props.get("cpu")) or 0)
            summary.memory_mib = int(number(task.props.get("memory")) or 0)
            summary.architecture = str(block(task.props.get("runtimePlatform")).get("cpuArchitecture") or "X86_64")
            definitions = json_document(task.props.get("containerDefinitions"))
            definitions = [c for c in definitions if isinstance(c, dict)] if isinstance(definitions, list) else []
            summary.containers = summary.containers or [str(c.get("name")) for c in definitions]
            summary.secrets = sorted({str(s.get("name")) for c in definitions for s in c.get("secrets") or []
                                      if s.get("name") != "REPOSITORY_CREDENTIALS"})
        found.append(summary)
    return found


def _size(units: int, mib: int) -> str:
    return f"{units / 1024:g} vCPU / {mib / 1024:g} GB"


def count_line(scaling: Mapping[str, Any]) -> str:
    """Who sets the task count, and what a caller sees while a sleeping API wakes."""
    parts = []
    targets = [f"{scaling[key]:g}{unit}" for key, unit in (
        ("cpuPercent", " % CPU"), ("memoryPercent", " % memory"),
        ("requestsPerTask", " requests/min per task (Container Insights on, billed per metric)")) if key in scaling]
    if targets:
        parts.append(f"autoscaling {scaling.get('min', 0):g}..{scaling.get('max', 0):g} tasks at {', '.join(targets)}")
    if "sleepAfterIdleMinutes" in scaling:
        wake = scaling.get("wakeSeconds") or [0, 0]
        parts.append(f"sleeps after {int(scaling['sleepAfterIdleMinutes'])} idle min; the first request wakes it "
                     f"in about {wake[-1]:g} s (503s until then: clients retry)")
    awake = scaling.get("awake")
    if isinstance(awake, dict):
        parts.append(f"awake {awake.get('days')} {awake.get('hours')} {awake.get('timezone')}")
    return "count: " + "; ".join(parts)


def volume_line(volumes: Mapping[str, Any]) -> str:
    """Each EFS volume with the uid:gid its access point enforces, and the one-writer deploy's outage."""
    on_efs = volumes.get("onEfs") if isinstance(volumes.get("onEfs"), dict) else {}
    owned = ", ".join(f"{name} {int(v.get('uid', 0))}:{int(v.get('gid', 0))}{' (database)' if v.get('database') else ''}"
                      for name, v in sorted(on_efs.items()))
    line = f"volumes on EFS: {owned}"
    writer = volumes.get("oneWriter")
    if isinstance(writer, dict):
        low, high = (list(writer.get("outageSeconds") or [0, 0]) + [0, 0])[:2]
        line += (f"; one writer: each deploy stops the task before starting the new one (~{low:g}-{high:g} s of "
                 f"503s), on-demand {writer.get('capacity', 'FARGATE')}")
    return line


def lines(summaries: list[ApiSummary]) -> list[str]:
    if not summaries:
        return ["APIs: none"]
    width = max(len(s.name) for s in summaries)
    out = [f"APIs ({len(summaries)}):"]
    for s in summaries:
        pad = " " * (width + 4)
        sign_in = "sign-in required (Cognito JWT)" if s.auth else "no sign-in (public)"
        out.append(f"  {s.name:<{width}}  {s.type.upper() if s.type == 'rest' else s.type}  "
                   f"{url_shape(s.url) or '(no URL)'}  {sign_in}")
        capacity = f"{s.architecture}{' Spot' if s.spot else ' on-demand'}"
        count = f"{s.tasks:g} task{'' if s.tasks == 1 else 's'}"
        containers = ", ".join(f"{c} (entrypoint{f' :{s.port:g}' if s.port is not None else ''})"
                               if c == s.entrypoint else c for c in s.containers) or "(none)"
        out.append(f"{pad}{count} x {_size(s.cpu_units, s.memory_mib)}, {capacity}: {containers}")
        tables = "; ".join(f"{t} ({', '.join(ops)})" for t, ops in s.tables.items()) or "none"
        secrets = f"; secrets: {', '.join(s.secrets)}" if s.secrets else ""
        out.append(f"{pad}build: {s.build or 'n/a'}; tables: {tables}{secrets}")
        if s.scaling.get("managedBy", "stack") != "stack":
            out.append(f"{pad}{count_line(s.scaling)}")
        if s.volumes.get("onEfs"):
            out.append(f"{pad}{volume_line(s.volumes)}")
    return out
