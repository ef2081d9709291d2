"""Amplify's container APIs (`service: ElasticContainer` under `api`) as the stack's API entries.

Every fact comes from what amplify-category-api wrote (docs/design.md, "Moving from Amplify Gen1"): the API's
definition in backend-config.json / amplify-meta.json, and its `src/` folder with a `docker-compose.yaml`,
`docker-compose.yml` or a lone `Dockerfile` (compose wins). Quirks of Amplify's own compose reading that this
stack does not copy become warnings.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.errors import ConfigError
from ops.amplify_import.project import AmplifyProject, read_json
from ops.amplify_import.report import ImportReport
from ops.amplify_import.secrets import Lookup, SecretRoute, describe, route
from ops.amplify_import.storage import ImportedTable

SERVICE = "ElasticContainer"
COMPOSE_FILES = ("docker-compose.yaml", "docker-compose.yml")     # the names Amplify looked for, in its order
BUILD_MODES = {"FULLY_MANAGED": "managed", "INDENPENDENTLY_MANAGED": "github", "SELF_MANAGED": "manual"}
# `amplify update api` writes these only to amplify-meta.json (updateamplifyMetaAfterResourceUpdate copies just
# dependsOn, service and frontendAuthConfig to backend-config.json), so the meta's copy is the fresher one.
UPDATED_IN_META_ONLY = ("restrictAccess", "authName", "environmentMap", "mutableParametersState", "categoryPolicies",
                        "gitHubInfo", "exposedContainer", "dependsOn")
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
GITHUB_URL = re.compile(r"^https://github\.com/([^/]+)/([^/]+?)(?:\.git)?(?:/tree/([^/]+)(?:/(.*))?)?/?$")


@dataclass
class ImportedApi:
    amplify_name: str
    name: str
    entry: dict
    secret_arns: dict[str, str] = field(default_factory=dict)
    auth_name: str | None = None


def fresher_attribute(project: AmplifyProject, name: str, attribute: str) -> Any:
    """An API attribute from amplify-meta.json when it holds one (the fresher copy), else from backend-config."""
    meta = project.meta_resource("api", name)
    if attribute in UPDATED_IN_META_ONLY and attribute in meta:
        return meta[attribute]
    return project.resources("api").get(name, {}).get(attribute)


def container_apis(project: AmplifyProject) -> list[str]:
    apis = project.resources("api")
    found = [name for name, spec in apis.items() if spec.get("service") == SERVICE]
    if not found:
        others = ", ".join(f"{name} ({spec.get('service', '?')})" for name, spec in apis.items()) or "no api entries"
        raise ConfigError(f"the project has no container API (no api entry with service {SERVICE}; found: {others}).",
                          file="amplify/backend/backend-config.json", key="api",
                          fix="import a project made with `amplify add api` -> REST or GraphQL -> container "
                              "(`amplify configure project` -> container-based deployments).")
    return found


def import_api(project: AmplifyProject, amplify_name: str, tables: dict[str, ImportedTable], stack_dir: Path,
               stack_file: str, report: ImportReport, lookup: Lookup, taken: set[str]) -> ImportedApi:
    name = amplify_name if STACK_NAME.match(amplify_name) else f"api-{amplify_name}"
    if name != amplify_name:
        report.warnings.append(f"API {amplify_name} is `{name}` in the stack (stack names start with a letter).")
    if name in taken:
        raise ConfigError(f"two APIs would both be named {name!r} in the stack.", file="amplify/backend/backend-config.json",
                          key=f"api.{amplify_name}", fix="rename one in Amplify first.")
    src = project.path("api", amplify_name, "src")
    shown_src = project.shown(src)
    compose = next((src / f for f in COMPOSE_FILES if (src / f).is_file()), None)
    dockerfile = src / "Dockerfile"
    mode = fresher_attribute(project, amplify_name, "deploymentMechanism") or "FULLY_MANAGED"
    build = BUILD_MODES.get(mode)
    if build is None:
        raise ConfigError(f"deploymentMechanism {mode!r} is not one Amplify writes.", file="amplify/backend/backend-config.json",
                          key=f"api.{amplify_name}.deploymentMechanism", fix=f"use one of {', '.join(BUILD_MODES)}.")
    if compose is None and not dockerfile.is_file() and build != "github":
        raise ConfigError(f"API {amplify_name} has no docker-compose.yml, docker-compose.yaml or Dockerfile in "
                          f"{shown_src}.", file=shown_src, fix="restore the API's src/ folder from Git.")
    if all((src / f).is_file() for f in COMPOSE_FILES):
        raise ConfigError("both docker-compose.yaml and docker-compose.yml exist; Amplify refused that too.",
                          file=shown_src, fix="keep one of them.")
    api_type = str(fresher_attribute(project, amplify_name, "apiType") or "REST").lower()
    entry: dict[str, Any] = {"type": "graphql" if api_type == "graphql" else "rest",
                             "source": _relative(src, stack_dir)}
    if compose is not None:
        entry["composeFiles"] = [compose.name]
    services = _compose_services(compose, project) if compose is not None else {}
    exposed = fresher_attribute(project, amplify_name, "exposedContainer") or {}
    entrypoint = _entrypoint(services, exposed)
    if entrypoint and len(_containers(services)) > 1:
        entry["entrypoint"] = entrypoint
    elif sum(1 for spec in _containers(services).values() if spec.get("ports")) > 1:
        report.warnings.append(f"API {amplify_name}: several containers publish ports, and amplify-meta.json (which "
                               "Amplify keeps out of Git) does not say which one it exposed: set "
                               f"apis.{name}.entrypoint to that service.")
    restricted = fresher_attribute(project, amplify_name, "restrictAccess") in (True, "true")
    auth_name = fresher_attribute(project, amplify_name, "authName") or _auth_dependency(project, amplify_name)
    entry["auth"] = restricted
    access, granted = _access(project, amplify_name, tables, report)
    if access:
        entry["access"] = {"storage": access}
    entry["build"] = build
    if build == "github":
        entry["github"] = _github(project, amplify_name, report)
        if compose is None and not dockerfile.is_file():
            report.warnings.append(f"API {amplify_name}: {shown_src} is empty (Amplify read the compose file from GitHub "
                                   f"at each push); clone the repository and set apis.{name}.source to the folder "
                                   "holding it, since the plan loads it locally.")
    if build == "manual":
        report.warnings.append(f"API {amplify_name}: build: manual (Amplify's self-managed mode). Push images to the "
                               f"new ECR repositories (`pulumi up` prints the commands) and list them under apis.{name}."
                               "images; Amplify's repositories are not reused.")
    imported = ImportedApi(amplify_name=amplify_name, name=name, entry=entry, auth_name=auth_name if restricted else None)
    _secrets(project, imported, services, compose, src, stack_file, report, lookup)
    _environment_warnings(project, imported, granted, tables, report)
    _quirks(project, imported, compose, services, dockerfile, report)
    _custom_policies(project, imported, report)
    how = compose.name if compose is not None else ("Dockerfile" if dockerfile.is_file() else "GitHub")
    report.found.append(f"API {amplify_name} ({entry['type'].upper()}, {how}, "
                        f"{'sign-in required' if restricted else 'open'}, build {build}"
                        f"{', tables ' + ', '.join(sorted(access)) if access else ''}): source {shown_src}")
    return imported


def _relative(folder: Path, stack_dir: Path) -> str:
    """The API folder as the stack file names it: relative to the project when inside it, else absolute."""
    try:
        return str(folder.resolve().relative_to(stack_dir.resolve()))
    except ValueError:
        return str(folder.resolve())


def _compose_services(compose: Path, project: AmplifyProject) -> dict[str, dict]:
    import yaml

    shown = project.shown(compose)
    try:
        document = yaml.safe_load(compose.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"the compose file cannot be read as YAML: {error}", file=shown,
                          fix="fix the file (Amplify could not have read it either).") from None
    if not isinstance(document, dict):
        raise ConfigError("the compose file is not a YAML map.", file=shown, fix="fix the file.")
    services = document.get("services") if "services" in document else document   # version 1 files have no services:
    services = {str(k): v for k, v in (services or {}).items() if isinstance(v, dict)}
    services["__secrets__"] = document.get("secrets") if isinstance(document.get("secrets"), dict) else {}
    return services


def _containers(services: dict) -> dict[str, dict]:
    return {k: v for k, v in services.items() if k != "__secrets__"}


def _entrypoint(services: dict, exposed: dict) -> str | None:
    """Amplify's `exposedContainer` (a container name: `container_name` or the service key), else the only
    container with ports; as the compose service key, which is what this stack names containers by."""
    containers = _containers(services)
    wanted = exposed.get("name") if isinstance(exposed, dict) else None
    for key, spec in containers.items():
        if wanted and wanted in (key, spec.get("container_name")):
            return key
    with_ports = [key for key, spec in containers.items() if spec.get("ports")]
    return with_ports[0] if len(with_ports) == 1 else None


def _auth_dependency(project: AmplifyProject, name: str) -> str | None:
    for dependency in fresher_attribute(project, name, "dependsOn") or []:
        if isinstance(dependency, dict) and dependency.get("category") == "auth":
            return dependency.get("resourceName")
    return None


def _access(project: AmplifyProject, name: str, tables: dict[str, ImportedTable],
            report: ImportReport) -> tuple[dict[str, list[str]], list[str]]:
    state = fresher_attribute(project, name, "mutableParametersState") or {}
    permissions = (state.get("permissions") if isinstance(state, dict) else None) or {}
    access: dict[str, list[str]] = {}
    granted: list[str] = []
    for category, resources in permissions.items():
        for resource, operations in (resources or {}).items():
            ops = [op for op in ("create", "read", "update", "delete") if op in (operations or [])]
            if category == "storage" and resource in tables:
                access[tables[resource].key] = ops
                granted.append(resource)
            else:
                report.cannot.append(f"API {name}: its access to {category} {resource} ({', '.join(operations or [])}); "
                                     "this stack grants DynamoDB tables of its own storage only.")
    return access, granted


def _github(project: AmplifyProject, name: str, report: ImportReport) -> dict:
    info = fresher_attribute(project, name, "gitHubInfo") or {}
    match = GITHUB_URL.match(str(info.get("path", "")))
    if not match:
        raise ConfigError(f"gitHubInfo.path {info.get('path')!r} is not a https://github.com/OWNER/REPO/tree/BRANCH/PATH "
                          "address.", file="amplify/backend/amplify-meta.json", key=f"api.{name}.gitHubInfo.path",
                          fix="run `amplify update api` to set the repository path, then import again.")
    owner, repo, branch, path = match.groups()
    if not branch:
        report.warnings.append(f"API {name}: the GitHub path names no branch (Amplify read the default branch); the "
                               "stack builds main: set github.branch if yours differs.")
    report.warnings.append(f"API {name}: build: github needs a CodeStar connection (github.connectionArn, recommended) or "
                           "`pulumi config set --secret githubToken <token>`; Amplify's token secret is not reused.")
    github = {"owner": owner, "repo": repo, "branch": branch or "main"}
    if path:
        github["path"] = path.strip("/")
    return github


def _secrets(project: AmplifyProject, api: ImportedApi, services: dict, compose: Path | None, src: Path,
             stack_file: str, report: ImportReport, lookup: Lookup) -> None:
    for key, spec in (services.get("__secrets__") or {}).items():
        if not isinstance(spec, dict) or not spec.get("file"):
            continue
        file = Path(os.path.normpath(src / str(spec["file"])))
        amplify_secret = spec.get("name") or key
        root = project.env.root_stack
        found: SecretRoute = route(str(key), file, f"{root}-{api.amplify_name}-{amplify_secret}" if root else None,
                                   project.env.region, lookup)
        if found.arn:
            api.secret_arns[str(key)] = found.arn
        line = describe(api.name, found, project.shown(file), stack_file)
        (report.secrets if found.file is not None or found.arn else report.warnings).append(line)


def _environment_warnings(project: AmplifyProject, api: ImportedApi, granted: list[str],
                          tables: dict[str, ImportedTable], report: ImportReport) -> None:
    """Variables Amplify set (its `environmentMap`, else NAME/ARN/STREAMARN per granted table) that this stack
    does not: it sets REGION and STORAGE_<TABLE>_NAME/_ARN for each granted table."""
    amplify_vars = set((fresher_attribute(project, api.amplify_name, "environmentMap") or {}).keys())
    if not amplify_vars:
        amplify_vars = {f"STORAGE_{t.upper()}_{attr}" for t in granted for attr in ("NAME", "ARN", "STREAMARN")}
    ours = {"REGION"} | {f"STORAGE_{tables[t].key.upper().replace('-', '_')}_{a}" for t in granted for a in ("NAME", "ARN")}
    for variable in sorted(amplify_vars - ours):
        report.warnings.append(f"API {api.name}: Amplify set {variable}; this stack does not (it sets REGION and "
                               "STORAGE_<TABLE>_NAME/_ARN). Set it in the compose environment if the code reads it.")


def _quirks(project: AmplifyProject, api: ImportedApi, compose: Path | None, services: dict, dockerfile: Path,
            report: ImportReport) -> None:
    where = f"API {api.name}"
    for key, spec in _containers(services).items():
        for entry in spec.get("ports") or []:
            parts = str(entry).split(":")
            if isinstance(entry, str) and len(parts) == 2 and parts[0] != parts[1].split("/")[0]:
                report.warnings.append(f"{where}, service {key}: Amplify read ports \"{entry}\" as container port "
                                       f"{parts[0]}; this stack reads it as Docker does (container port "
                                       f"{parts[1].split('/')[0]}). If the app listens on {parts[0]}, set "
                                       f"apis.{api.name}.port: {parts[0]}.")
        build = spec.get("build")
        if isinstance(build, dict) and (build.get("dockerfile") or build.get("args")):
            ignored = " and ".join(k for k in ("dockerfile", "args") if build.get(k))
            report.warnings.append(f"{where}, service {key}: Amplify ignored build.{ignored} (it ran `docker build "
                                   "<context>`); this stack builds with them.")
        if spec.get("container_name") and spec["container_name"] != key:
            report.warnings.append(f"{where}, service {key}: Amplify named the container {spec['container_name']}; this "
                                   f"stack names it {key} (log groups and repositories follow).")
    if compose is None and dockerfile.is_file():
        report.warnings.append(f"{where}: Amplify named the Dockerfile's container `api`; this stack names it after "
                               "the folder (`src`): only log group and repository names change.")


def _custom_policies(project: AmplifyProject, api: ImportedApi, report: ImportReport) -> None:
    path = project.path("api", api.amplify_name, "custom-policies.json")
    if not path.is_file():
        return
    statements = read_json(path, project.shown(path), fix="restore it from Git.")
    used = [s for s in statements if isinstance(s, dict) and s.get("Action")] if isinstance(statements, list) else []
    for statement in used:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        report.cannot.append(f"API {api.name}: custom IAM statement ({', '.join(map(str, actions))}) from "
                             f"{project.shown(path)}; this stack's task role grants its tables only.")
