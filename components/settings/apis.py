"""`apis.NAME`: one container API's keys, validated into ``ApiSettings``.

Pure Python (no Pulumi import). The count keys, the compose keys, the domain and the security keys of an API are
read by their own modules (scaling.py, compose_keys.py, domain.py, security.py); this one reads the rest and
puts them together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.settings.checks import Checker, describe
from components.settings.compose_keys import parse_compose_keys
from components.settings.domain import DomainSettings, parse_api_domain
from components.settings.scaling import AwakeSettings, ScalingSettings, SleepSettings, parse_count
from components.settings.security import API_KEYS as SECURITY_API_KEYS, parse_api as parse_security_keys
from components.settings.storage import TableSettings

API_TYPES = ("rest", "graphql")
BUILD_MODES = ("managed", "github", "manual")
STORAGE_OPERATIONS = ("create", "read", "update", "delete")
GITHUB_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")

API_KEYS = ("type", "source", "composeFiles", "entrypoint", "auth", "access", "build", "github", "images",
            "replicas", "scaling", "sleep", "awake", "domain", "disableDefaultEndpoint", "volumes", "port",
            *SECURITY_API_KEYS)
GITHUB_KEYS = ("owner", "repo", "branch", "path", "connectionArn")


@dataclass(frozen=True)
class GithubSource:
    """Where `build: github` takes the source from."""

    owner: str
    repo: str
    branch: str = "main"
    path: str = ""                   # folder of the app inside the repository; "" is the root
    connection_arn: str | None = None  # a CodeStar connection; without it `githubToken` is used


@dataclass(frozen=True)
class ApiSettings:
    """One entry of `apis`."""

    name: str
    source_dir: Path                 # absolute
    type: str = "rest"
    compose_files: tuple[Path, ...] = ()   # absolute, merged in order; empty: the loader's default
    entrypoint: str | None = None
    auth: bool = True
    storage_access: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> operations
    build: str = "managed"
    github: GithubSource | None = None
    images: dict[str, str] = field(default_factory=dict)   # container -> image (build: manual)
    # Task count (components/settings/scaling.py): None/absent means the compose deploy.replicas, else 1.
    replicas: int | None = None
    scaling: ScalingSettings | None = None
    sleep: SleepSettings | None = None
    awake: AwakeSettings | None = None
    domain: DomainSettings | None = None     # custom domain (components/settings/domain.py)
    disable_default_endpoint: bool = False   # turn off the execute-api address (needs a domain)
    volumes: dict[str, str] = field(default_factory=dict)  # compose volume -> "ephemeral" (default: on EFS)
    port: int | None = None          # the routed port; None: from the compose file or Dockerfile
    approval: bool = False           # a manual approval stage before the pipeline's Deploy
    include_sensitive_files: tuple[str, ...] = ()   # credential-looking files the source zip keeps anyway

    @property
    def ephemeral_volumes(self) -> tuple[str, ...]:
        return tuple(sorted(v for v, mode in self.volumes.items() if mode == "ephemeral"))


def parse_api_entry(check: Checker, name: str, value: Any, project_dir: Path,
         storage: dict[str, TableSettings]) -> ApiSettings:
    path = f"apis.{name}"
    spec = check.mapping(path, value, API_KEYS)
    if spec.get("source") is None:
        raise check.error(f"{path}.source", "the API has no source folder.",
                          "set source to the folder with its Dockerfile or docker-compose.yml, e.g. apps/posts.")
    source = check.string(f"{path}.source", spec["source"], what="a folder path")
    source_dir = Path(source).expanduser()
    if not source_dir.is_absolute():
        source_dir = project_dir / source_dir
    source_dir = source_dir.resolve()
    if not source_dir.is_dir():
        raise check.error(f"{path}.source", f"the source folder {source_dir} does not exist.",
                          "point source at the folder holding the Dockerfile or docker-compose.yml "
                          "(relative to the project root, or absolute).")
    values: dict[str, Any] = {}
    if spec.get("type") is not None:
        values["type"] = check.choice(f"{path}.type", spec["type"], API_TYPES)
    if spec.get("composeFiles") is not None:
        files = check.string_list(f"{path}.composeFiles", spec["composeFiles"], what="compose file names")
        resolved = []
        for i, file in enumerate(files):
            file_path = (source_dir / file).resolve()
            if not file_path.is_file():
                raise check.error(f"{path}.composeFiles[{i}]", f"the compose file {file_path} does not exist.",
                                  f"list files relative to {source_dir}.")
            resolved.append(file_path)
        values["compose_files"] = tuple(resolved)
    if spec.get("entrypoint") is not None:
        values["entrypoint"] = check.string(f"{path}.entrypoint", spec["entrypoint"], what="a container name")
    if spec.get("auth") is not None:
        values["auth"] = check.boolean(f"{path}.auth", spec["auth"])
    if spec.get("access") is not None:
        values["storage_access"] = _access(check, f"{path}.access", spec["access"], storage)
    build = check.choice(f"{path}.build", spec.get("build", "managed"), BUILD_MODES)
    values["build"] = build
    if spec.get("github") is not None:
        if build != "github":
            raise check.error(f"{path}.github", f"github is only used with build: github (this API has build: {build}).",
                              "set build: github, or remove the github block.")
        values["github"] = _github(check, f"{path}.github", spec["github"])
    elif build == "github":
        raise check.error(f"{path}.github", "build: github needs the repository.",
                          "set github: {owner: ..., repo: ..., branch: main}.")
    if spec.get("images") is not None:
        if build != "manual":
            raise check.error(f"{path}.images", f"images are only used with build: manual (this API has build: {build}).",
                              "set build: manual, or remove images.")
        images = check.mapping(f"{path}.images", spec["images"])
        values["images"] = {str(container): check.string(f"{path}.images.{container}", image,
                                                         what="an image reference or a tag")
                            for container, image in images.items()}
    values.update(parse_compose_keys(check.error, path, spec))
    replicas, scaling, sleep, awake = parse_count(check.error, path, spec)
    values.update(parse_api_domain(check, path, spec))
    values.update(parse_security_keys(check, path, spec, source_dir, values.get("build", "managed")))
    return ApiSettings(name=name, source_dir=source_dir, replicas=replicas, scaling=scaling, sleep=sleep, awake=awake,
                       **values)


def _access(check: Checker, path: str, value: Any, storage: dict[str, TableSettings]) -> dict[str, tuple[str, ...]]:
    spec = check.mapping(path, value, ("storage",))
    tables = check.mapping(f"{path}.storage", spec.get("storage") or {})
    grants = {}
    for table, operations in tables.items():
        if table not in storage:
            raise check.error(f"{path}.storage.{table}", f"there is no table {table!r}.",
                              f"use one of the tables under storage: {', '.join(sorted(storage)) or '(none defined)'}.")
        ops = check.string_list(f"{path}.storage.{table}", operations, what=", ".join(STORAGE_OPERATIONS))
        for i, op in enumerate(ops):
            check.choice(f"{path}.storage.{table}[{i}]", op, STORAGE_OPERATIONS)
        grants[table] = tuple(op for op in STORAGE_OPERATIONS if op in ops)
    return grants


def _github(check: Checker, path: str, value: Any) -> GithubSource:
    spec = check.mapping(path, value, GITHUB_KEYS)
    for required in ("owner", "repo"):
        if spec.get(required) is None:
            raise check.error(f"{path}.{required}", f"the GitHub {required} is missing.",
                              "set github: {owner: ..., repo: ..., branch: main}.")
    owner = check.string(f"{path}.owner", spec["owner"], pattern=GITHUB_NAME_PATTERN, what="a GitHub user or organisation")
    repo = check.string(f"{path}.repo", spec["repo"], pattern=GITHUB_NAME_PATTERN, what="a repository name")
    branch = check.string(f"{path}.branch", spec.get("branch", "main"), what="a branch name")
    sub_path = spec.get("path", "")
    if not isinstance(sub_path, str) or sub_path.startswith("/") or ".." in Path(sub_path).parts:
        raise check.error(f"{path}.path", f"{describe(sub_path)} is not a folder inside the repository.",
                          "use a relative folder like apps/posts, or \"\" for the root.")
    connection = spec.get("connectionArn")
    if connection is not None:
        connection = check.string(f"{path}.connectionArn", connection,
                                  pattern=re.compile(r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):"),
                                  what="a CodeStar/CodeConnections connection ARN")
    return GithubSource(owner=owner, repo=repo, branch=branch, path=sub_path.strip("/"), connection_arn=connection)
