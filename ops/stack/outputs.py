"""The stack's outputs (docs/design.md, "Stack outputs"), typed, from the workspace or from a JSON file.

``pulumi stack output --json --stack dev > outputs.json`` gives a file the CLI reads offline with
``--outputs-json``; the Automation API's ``{name: {value, secret}}`` shape is accepted too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ops.errors import OpsError


@dataclass(frozen=True)
class DnsRecord:
    """A DNS record the user adds at their DNS provider (a custom domain whose zone is not in the account)."""

    type: str
    name: str
    value: str
    purpose: str = ""


@dataclass(frozen=True)
class ApiOutputs:
    name: str
    url: str = ""
    type: str = "rest"
    cluster: str = ""
    service: str = ""
    containers: tuple[str, ...] = ()
    entrypoint: str = ""
    replicas: int | None = None
    log_groups: Mapping[str, str] = field(default_factory=dict)     # container -> log group name
    repositories: Mapping[str, str] = field(default_factory=dict)   # built container -> ECR repository URL
    pipeline_name: str = ""
    pipeline_url: str = ""
    build: str = ""
    auth: bool | None = None          # not in the output contract yet; None means "ask the stack config"
    scaling: Mapping[str, Any] = field(default_factory=dict)        # who sets the count (components/scaling.py)
    domain_name: str = ""             # custom domain (then `url` is on it); "" when there is none
    default_url: str = ""             # the execute-api address; "" when there is none or it is turned off
    dns_records: tuple[DnsRecord, ...] = ()   # records still to add at the DNS provider (zone elsewhere)

    def repository_name(self, container: str) -> str:
        """`123.dkr.ecr.us-east-1.amazonaws.com/serverless-containers-dev-posts-web` -> the part after the host."""
        return self.repositories[container].split("/", 1)[-1]


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    region: str = ""
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    apis: Mapping[str, ApiOutputs] = field(default_factory=dict)

    def api(self, name: str) -> ApiOutputs:
        if name not in self.apis:
            known = ", ".join(sorted(self.apis)) or "(none: is the stack deployed?)"
            raise OpsError(f"stack '{self.stack}' has no API named '{name}'. Its APIs: {known}.", exit_code=2)
        return self.apis[name]

    def select(self, names: list[str] | None) -> list[ApiOutputs]:
        """The named APIs, or every API when no name is given."""
        if names:
            return [self.api(n) for n in names]
        if not self.apis:
            raise OpsError(f"stack '{self.stack}' has no APIs in its outputs. Deploy it first: "
                           f"python -m ops up --stack {self.stack}")
        return [self.apis[n] for n in sorted(self.apis)]


def _plain(value: Any) -> Any:
    """Unwrap the Automation API's OutputValue objects or ``{value, secret}`` dicts."""
    if hasattr(value, "value") and hasattr(value, "secret"):
        return value.value
    if isinstance(value, dict) and set(value) <= {"value", "secret"} and "value" in value:
        return value["value"]
    return value


def _api_from(name: str, raw: Any, source: str) -> ApiOutputs:
    if not isinstance(raw, dict):
        raise OpsError(f"{source}: output apis.{name} should be a map (docs/design.md, 'Stack outputs'); "
                       f"got {type(raw).__name__}.")
    replicas = raw.get("replicas")
    try:
        replicas = int(replicas) if replicas not in (None, "") else None
    except (TypeError, ValueError):
        raise OpsError(f"{source}: output apis.{name}.replicas should be a number; got {replicas!r}.") from None
    return ApiOutputs(
        name=name,
        url=str(raw.get("url") or ""),
        type=str(raw.get("type") or "rest"),
        cluster=str(raw.get("cluster") or ""),
        service=str(raw.get("service") or name),
        containers=tuple(raw.get("containers") or ()),
        entrypoint=str(raw.get("entrypoint") or ""),
        replicas=replicas,
        log_groups=dict(raw.get("logGroups") or {}),
        repositories=dict(raw.get("repositories") or {}),
        pipeline_name=str(raw.get("pipelineName") or ""),
        pipeline_url=str(raw.get("pipelineUrl") or ""),
        build=str(raw.get("build") or ""),
        auth=raw.get("auth") if isinstance(raw.get("auth"), bool) else None,
        scaling=dict(raw.get("scaling")) if isinstance(raw.get("scaling"), dict) else {},
        **_domain_from(raw.get("domain")),
    )


def _domain_from(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    records = tuple(DnsRecord(type=str(r.get("type") or "CNAME"), name=str(r.get("name") or ""),
                              value=str(r.get("value") or ""), purpose=str(r.get("purpose") or ""))
                    for r in raw.get("dnsRecords") or [] if isinstance(r, dict))
    return {"domain_name": str(raw.get("name") or ""), "default_url": str(raw.get("defaultUrl") or ""),
            "dns_records": records}


def parse(stack: str, mapping: Mapping[str, Any], source: str = "stack outputs") -> StackOutputs:
    """Typed outputs from a name -> value map (values may still be wrapped)."""
    plain = {key: _plain(value) for key, value in (mapping or {}).items()}
    apis = plain.get("apis") or {}
    if not isinstance(apis, dict):
        raise OpsError(f"{source}: output 'apis' should be a map of API name to its details; got {type(apis).__name__}.")
    return StackOutputs(
        stack=stack,
        region=str(plain.get("region") or ""),
        user_pool_id=str(plain.get("userPoolId") or ""),
        user_pool_client_id=str(plain.get("userPoolClientId") or ""),
        apis={name: _api_from(name, raw, source) for name, raw in apis.items()},
    )


def load_json(stack: str, path: str | Path) -> StackOutputs:
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise OpsError(f"{path}: no such file. Write it with "
                       f"`pulumi stack output --json --stack {stack} > {path}`.") from None
    except json.JSONDecodeError as error:
        raise OpsError(f"{path}: not valid JSON ({error}). It should be what "
                       "`pulumi stack output --json` prints.") from None
    if not isinstance(document, dict):
        raise OpsError(f"{path}: expected a JSON object of stack outputs, got {type(document).__name__}.")
    return parse(stack, document, source=str(path))


def console_pipeline_url(region: str, pipeline: str, execution_id: str | None = None) -> str:
    """The CodePipeline console page of a pipeline, or of one execution of it."""
    base = f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}"
    if execution_id:
        return f"{base}/executions/{execution_id}/timeline?region={region}"
    return f"{base}/view?region={region}"
