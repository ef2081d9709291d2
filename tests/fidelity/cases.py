"""The program runs the fidelity suite checks: sample stacks, their variants, compose corpus apps.

Each case is a stack name plus config overrides; ``run_case`` runs the real program under mockrun
(cached per process, so the model checks and the moto smoke deploy share one run).
"""
from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.plan import mockrun
from ops.stack import stack_config

NS = "serverless-containers"
CONNECTION_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@dataclass(frozen=True)
class StackCase:
    id: str
    stack: str = "dev"
    overrides: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    secrets: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # key -> value, set secret
    latest_image_tag: str = mockrun.STEADY_STATE_IMAGE_TAG
    why: str = ""
    hosted_zones: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # name -> id (mockrun)


def stack_apis(stack: str) -> dict:
    config, _ = stack_config.load_stack_config(stack)
    return copy.deepcopy(config[f"{NS}:apis"])


def _apis_with(stack: str, **changes) -> dict:
    apis = stack_apis(stack)
    for api in apis.values():
        api.update(copy.deepcopy(changes))
    return apis


def _graphql() -> dict:
    apis = stack_apis("dev")
    apis["graph"] = {"type": "graphql", "source": "apps/graphql", "auth": True, "build": "managed"}
    return apis


def _manual() -> dict:
    apis = stack_apis("dev")
    apis["posts"].update(build="manual", images={"posts": "v1.2.3"})     # a bare tag: that tag in ECR
    apis["multi"].update(build="manual", images={"express": "public.ecr.aws/docker/library/node:20-slim",
                                                 "python": "public.ecr.aws/docker/library/python:3.12-slim"})
    return apis


def _github(connection: bool) -> dict:
    apis = stack_apis("dev")
    for name, api in apis.items():
        github = {"owner": "octo-org", "repo": "serverless-containers-apps", "branch": "main",
                  "path": api["source"]}
        if connection:
            github["connectionArn"] = CONNECTION_ARN
        api.update(build="github", github=github)
    return apis


def _scaled() -> dict:
    """Every count mechanism at once (issues 15, 22): sleep with awake hours, autoscaling (CPU, memory and requests
    per task) that may sleep."""
    apis = stack_apis("dev")
    apis["posts"].update(sleep={"afterIdleMinutes": 30},
                         awake={"days": "MON-FRI", "hours": "08:00-20:00", "timezone": "Europe/Berlin"})
    apis["multi"].update(scaling={"min": 0, "max": 3, "cpuPercent": 60, "memoryPercent": 75, "requestsPerTask": 600},
                         sleep={"afterIdleMinutes": 15})
    for api in apis.values():
        api.pop("replicas", None)
    return apis


ZONE_ID = "Z0123456789EXAMPLEAB"
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _domains(**per_api) -> dict:
    """The dev APIs with custom domains (components/domain.py): per_api maps an API to its extra keys."""
    apis = stack_apis("dev")
    for name, extra in per_api.items():
        apis[name].update(copy.deepcopy(extra))
    return apis


STACK_CASES: list[StackCase] = [
    StackCase("dev"),
    StackCase("prod", stack="prod"),
    StackCase("dev-first-deploy", latest_image_tag="", why="nothing pushed yet: desired count 0"),
    StackCase("ha", overrides={f"{NS}:highAvailability": True}),
    StackCase("no-auth", overrides={f"{NS}:apis": _apis_with("dev", auth=False)}, why="no Cognito at all"),
    StackCase("graphql", overrides={f"{NS}:apis": _graphql()}),
    StackCase("spot-prod", stack="prod", overrides={f"{NS}:fargateSpot": True, f"{NS}:cpuArchitecture": "X86_64"}),
    StackCase("arm64", overrides={f"{NS}:cpuArchitecture": "ARM64", f"{NS}:fargateSpot": False}),
    StackCase("manual", overrides={f"{NS}:apis": _manual()}),
    StackCase("github-connection", overrides={f"{NS}:apis": _github(connection=True)}),
    StackCase("github-token", overrides={f"{NS}:apis": _github(connection=False)},
              secrets={f"{NS}:githubToken": "ghp_mockmockmockmockmockmockmockmock0000"}),
    StackCase("scaling-sleep-alerts", overrides={f"{NS}:apis": _scaled(), f"{NS}:alerts": {"email": "ops@example.com"}},
              why="autoscaling, sleep, awake hours and alerts together"),
    StackCase("domain-zone-here", overrides={f"{NS}:apis": _domains(
        posts={"domain": {"name": "posts.example.com"}}, multi={"domain": {"name": "api.multi.example.com"}})},
        hosted_zones={"example.com": ZONE_ID}, why="public zone found by name: validation and alias records"),
    StackCase("domain-elsewhere", overrides={f"{NS}:apis": _domains(
        posts={"domain": {"name": "posts.example.com", "validationTimeoutMinutes": 5}})},
        why="no zone in the account: certificate and custom domain, no record"),
    StackCase("domain-own-certificate", overrides={f"{NS}:apis": _domains(
        posts={"domain": {"name": "posts.example.com", "hostedZoneId": ZONE_ID, "certificateArn": CERTIFICATE_ARN},
               "disableDefaultEndpoint": True})}, why="the user's certificate, given zone, execute-api address off"),
    StackCase("existing-vpc", overrides={f"{NS}:existingVpc": {
        "vpcId": "vpc-0a1b2c3d4e5f67890", "subnetIds": ["subnet-0a1b2c3d4e5f67890", "subnet-0fedcba9876543210"]}}),
]

_RUNS: dict[str, mockrun.RunResult] = {}


def run_config(stack: str, overrides: dict, secrets: dict | None = None, **kwargs) -> mockrun.RunResult:
    from components.program import main

    config, secret_keys = stack_config.load_stack_config(stack)
    config.update(overrides)
    for key, value in (secrets or {}).items():
        config[key] = value
        secret_keys.append(key)
    return mockrun.run(main, stack=stack, config=config, secret_keys=secret_keys, **kwargs)


def run_case(case: StackCase) -> mockrun.RunResult:
    if case.id not in _RUNS:
        _RUNS[case.id] = run_config(case.stack, case.overrides, case.secrets, latest_image_tag=case.latest_image_tag,
                                    hosted_zones=case.hosted_zones)
    return _RUNS[case.id]


# --- the compose corpus ---------------------------------------------------------------------------

def corpus_cases() -> dict[str, Any]:
    """The corpus files the loader accepts, with their entrypoint and environment (tests/test_compose_corpus.py)."""
    from tests.test_compose_corpus import CASES
    return {relative: case for relative, case in CASES.items() if case.error is None}


def prepare_corpus_app(corpus: Path, copy_root: Path, relative: str, case) -> Path:
    """The corpus copied once into ``copy_root``; build contexts the file names but the corpus lacks get a stub
    Dockerfile (the corpus has compose files only). Returns the compose file in the copy."""
    from components.pipeline.buildspec import is_remote_context
    from components.compose import load_app
    from components.errors import ConfigError

    if not (copy_root / "README.md").exists():
        shutil.copytree(corpus, copy_root, dirs_exist_ok=True)
    path = copy_root / relative
    try:
        app = load_app(path.parent, [path.name], entrypoint=case.entrypoint, environ=case.environ)
    except ConfigError:
        return path
    for container in app.containers:
        build = container.build
        if build is None or is_remote_context(build.context) or build.dockerfile_inline:
            continue
        context = Path(build.context)
        if context.is_file():           # `build: ./Dockerfile` (an obsolete spelling): leave it to the program
            continue
        dockerfile = context / (build.dockerfile or "Dockerfile")
        if not dockerfile.exists() and copy_root in dockerfile.parents:
            dockerfile.parent.mkdir(parents=True, exist_ok=True)
            dockerfile.write_text("FROM scratch\nCOPY . /app\nCMD [\"/app/server\"]\n")
    return path


def corpus_overrides(compose: Path, case) -> dict:
    api = {"source": str(compose.parent), "composeFiles": [compose.name], "auth": True, "build": "managed"}
    if case.entrypoint:
        api["entrypoint"] = case.entrypoint
    return {f"{NS}:apis": {"app": api}}


class environment:
    """Temporarily set variables the compose file interpolates (the program reads os.environ)."""

    def __init__(self, values: dict[str, str]):
        self.values, self.saved = values, {}

    def __enter__(self):
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
