"""Shared helpers for the operator CLI tests (tests/test_ops_*.py): a throwaway project folder,
fake AWS credentials, a recorded fake Automation API stack, and the outputs a deployed stack has."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pulumi.automation import OutputValue
from pulumi.automation._stack import DestroyResult, PreviewResult, RefreshResult, UpResult
from pulumi.automation.events import (DiagnosticEvent, EngineEvent, OpType, ResOutputsEvent, ResourcePreEvent,
                                      StepEventMetadata)

REGION = "eu-west-1"
ACCOUNT = "123456789012"

STACK_YAML = """\
# dev: the team's shared development environment
config:
  aws:region: eu-west-1
  serverless-containers:storage:
    posts:
      partitionKey: {name: id, type: N}   # numeric ids, like the seed's sample
  serverless-containers:apis:
    posts:
      source: apps/posts
      access:
        storage:
          posts: [create, read, update, delete]
"""


@pytest.fixture
def fake_credentials(monkeypatch, tmp_path):
    """Credentials that only moto accepts; never a real account, never the metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_PROFILE", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder with Pulumi.yaml, stacks/Pulumi.dev.yaml and a one-Dockerfile app."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: serverless-containers\nruntime: python\nstackConfigDir: stacks\n")
    (root / "stacks" / "Pulumi.dev.yaml").write_text(STACK_YAML)
    app = root / "apps" / "posts"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\n")
    return root


def api_outputs(name: str = "posts", stack: str = "dev", containers=("web",), built=None, replicas: int = 2,
                type_: str = "rest", build: str = "managed", region: str = REGION) -> dict:
    """The `apis.<name>` output exactly as docs/design.md describes it."""
    built = containers if built is None else built
    pipeline = f"serverless-containers-{stack}-{name}" if build != "manual" else ""
    return {
        "url": f"https://{name}123.execute-api.{region}.amazonaws.com",
        "type": type_,
        "cluster": f"serverless-containers-{stack}",
        "service": name,
        "containers": list(containers),
        "entrypoint": containers[0],
        "replicas": replicas,
        "logGroups": {c: f"/serverless-containers/{stack}/{name}/{c}" for c in containers},
        "repositories": {c: f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/serverless-containers-{stack}-{name}-{c}"
                         for c in built},
        "pipelineName": pipeline,
        "pipelineUrl": (f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}"
                        f"/view?region={region}") if pipeline else "",
        "build": build,
    }


def stack_outputs(apis: dict[str, dict] | None = None, user_pool: bool = True, region: str = REGION) -> dict:
    return {
        "apis": apis if apis is not None else {"posts": api_outputs()},
        "userPoolId": f"{region}_AbCdEfGhI" if user_pool else "",
        "userPoolClientId": "4lq1abcdefghijklmnopqrstuv" if user_pool else "",
        "region": region,
    }


def write_outputs_json(path: Path, outputs: dict) -> Path:
    path.write_text(json.dumps(outputs))
    return path


def _meta(op: OpType, type_: str, name: str) -> StepEventMetadata:
    urn = f"urn:pulumi:dev::serverless-containers::{type_}::{name}"
    return StepEventMetadata(op=op, urn=urn, type=type_, provider="")


def engine_events(failing: bool = False) -> list[EngineEvent]:
    """What the engine reports for a small update: two resources created (or one failing)."""
    events = [
        EngineEvent(1, 0, resource_pre_event=ResourcePreEvent(_meta(OpType.CREATE, "aws:ecs/cluster:Cluster", "cluster"))),
        EngineEvent(2, 0, res_outputs_event=ResOutputsEvent(_meta(OpType.CREATE, "aws:ecs/cluster:Cluster", "cluster"))),
        EngineEvent(3, 0, resource_pre_event=ResourcePreEvent(_meta(OpType.SAME, "pulumi:providers:aws", "default"))),
        EngineEvent(4, 0, res_outputs_event=ResOutputsEvent(_meta(OpType.SAME, "pulumi:providers:aws", "default"))),
        EngineEvent(5, 0, resource_pre_event=ResourcePreEvent(_meta(OpType.CREATE, "aws:ecs/service:Service", "posts"))),
    ]
    if failing:
        events.append(EngineEvent(6, 0, diagnostic_event=DiagnosticEvent(
            message="creating ECS Service (posts): AccessDeniedException: not allowed", color="never",
            severity="error")))
    else:
        events.append(EngineEvent(6, 0, res_outputs_event=ResOutputsEvent(
            _meta(OpType.CREATE, "aws:ecs/service:Service", "posts"))))
    return events


ENGINE_LINES = ["Updating (dev)", "     Type                 Name   Status", " +   aws:ecs:Cluster  cluster  created",
                "Resources:", "    + 2 created"]


@dataclass
class FakeStack:
    """Stands in for pulumi.automation.Stack: records each call and plays back the engine's output."""

    name: str
    outputs_value: dict[str, Any] = field(default_factory=stack_outputs)
    fail_with: Exception | None = None
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def _play(self, operation: str, kwargs: dict) -> None:
        self.calls.append((operation, {k: v for k, v in kwargs.items() if k not in ("on_output", "on_event")}))
        for line in ENGINE_LINES:
            kwargs["on_output"](line)
        for event in engine_events(failing=self.fail_with is not None):
            kwargs["on_event"](event)
        if self.fail_with is not None:
            raise self.fail_with

    def _wrapped_outputs(self):
        return {key: OutputValue(value, secret=False) for key, value in self.outputs_value.items()}

    def up(self, **kwargs):
        self._play("up", kwargs)
        return UpResult(stdout="", stderr="", summary=None, outputs=self._wrapped_outputs())

    def preview(self, **kwargs):
        self._play("preview", kwargs)
        return PreviewResult(stdout="", stderr="", change_summary={OpType.CREATE: 2, OpType.SAME: 1})

    def refresh(self, **kwargs):
        self._play("refresh", kwargs)
        return RefreshResult(stdout="", stderr="", summary=None)

    def destroy(self, **kwargs):
        self._play("destroy", kwargs)
        return DestroyResult(stdout="", stderr="", summary=None)

    def outputs(self):
        self.calls.append(("outputs", {}))
        return self._wrapped_outputs()


@dataclass
class FakeWorkspace:
    """A stack factory for ops.stack.workspace.stack_factory that remembers how each stack was opened."""

    stacks: dict[str, FakeStack] = field(default_factory=dict)
    opened: list[tuple[str, Path, bool]] = field(default_factory=list)

    def __call__(self, stack: str, project_dir: Path, create: bool) -> FakeStack:
        self.opened.append((stack, project_dir, create))
        return self.stacks.setdefault(stack, FakeStack(stack))
