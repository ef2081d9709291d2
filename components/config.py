"""The stack config, validated: raw `serverless-containers:*` values in, typed ``StackSettings`` out.

Pure Python (no Pulumi import) so it can be tested and reused by the offline tools. Every problem is
a ``ConfigError`` that names the stack file (``stacks/Pulumi.<stack>.yaml``), the full key path
(``serverless-containers:apis.posts.build``) and the valid choices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.compose_config import parse_compose_keys
# Secret ARNs and the compose-secret routes live there; the ARN patterns stay importable from here.
from components.config_secrets import (SECRET_ARN_PATTERN, SECRET_ARN_SUFFIX, StackSecret,  # noqa: F401
                                       secret_arn, stack_secrets)
from components.domain_config import DomainSettings, check_unique, parse_api_domain
from components.errors import ConfigError
from components.names import check_name_lengths
from components.scaling_config import (AlertSettings, AwakeSettings, ScalingSettings, SleepSettings, parse_alerts,
                                       parse_count)
from components.security_settings import STACK_KEYS as SECURITY_KEYS, SecuritySettings, parse_api, parse_stack
from components.security_settings import API_KEYS as SECURITY_API_KEYS

NAMESPACE = "serverless-containers"

CPU_ARCHITECTURES = ("X86_64", "ARM64")
API_TYPES = ("rest", "graphql")
BUILD_MODES = ("managed", "github", "manual")
KEY_TYPES = ("S", "N", "B")
STORAGE_OPERATIONS = ("create", "read", "update", "delete")
# CloudWatch Logs accepts only these retention periods (days). 0 ("never expire") is left out on
# purpose: logs that are never deleted cost money forever.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
# Longest API/table name that keeps every derived physical name (ECR repository, task family,
# Cloud Map service, IAM policy names) within AWS limits.
MAX_NAME_LENGTH = 38
STACK_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
ORIGIN_PATTERN = re.compile(r"^https?://[^/\s?#]+$")
VPC_ID_PATTERN = re.compile(r"^vpc-[0-9a-f]+$")
SUBNET_ID_PATTERN = re.compile(r"^subnet-[0-9a-f]+$")
GITHUB_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class KeyAttribute:
    """A DynamoDB key attribute."""

    name: str
    type: str            # "S" | "N" | "B"


@dataclass(frozen=True)
class TableSettings:
    """One DynamoDB table from `storage`."""

    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    point_in_time_recovery: bool = False
    deletion_protection: bool = False   # AWS deletion protection and Pulumi `protect`: no delete, no replacement
    replace_on_key_change: bool = False  # opt-in: a changed key replaces the table (delete first: data lost)


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
    # Task count (components/scaling_config.py): None/absent means the compose deploy.replicas, else 1.
    replicas: int | None = None
    scaling: ScalingSettings | None = None
    sleep: SleepSettings | None = None
    awake: AwakeSettings | None = None
    domain: DomainSettings | None = None     # custom domain (components/domain_config.py)
    disable_default_endpoint: bool = False   # turn off the execute-api address (needs a domain)
    volumes: dict[str, str] = field(default_factory=dict)  # compose volume -> "ephemeral" (default: on EFS)
    port: int | None = None          # the routed port; None: from the compose file or Dockerfile
    approval: bool = False           # a manual approval stage before the pipeline's Deploy
    include_sensitive_files: tuple[str, ...] = ()   # credential-looking files the source zip keeps anyway

    @property
    def ephemeral_volumes(self) -> tuple[str, ...]:
        return tuple(sorted(v for v, mode in self.volumes.items() if mode == "ephemeral"))


@dataclass(frozen=True)
class ExistingVpc:
    vpc_id: str
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class StackSettings:
    """Everything the program needs from the stack config, validated."""

    stack: str
    project_dir: Path
    config_file: str                 # "stacks/Pulumi.<stack>.yaml", for messages
    apis: dict[str, ApiSettings]
    high_availability: bool = False
    cpu_architecture: str = "X86_64"
    fargate_spot: bool = False
    log_retention_days: int = 7
    deploy_timeout_minutes: int = 30    # how long `pulumi up` waits for a rollout (service update, first scale-up)
    cors_origins: tuple[str, ...] = ("*",)
    existing_vpc: ExistingVpc | None = None
    storage: dict[str, TableSettings] = field(default_factory=dict)
    github_token: Any = None         # opaque (a Pulumi secret Output when run by Pulumi); never printed
    docker_hub_credentials: str | None = None  # secret ARN; Docker Hub images are pulled signed in with it
    alerts: AlertSettings | None = None  # SNS e-mail alerts (components/alerts.py)
    # API -> compose secret -> its value from the stack config or an existing secret's ARN (config_secrets.py)
    stack_secrets: dict[str, dict[str, StackSecret]] = field(default_factory=dict)
    security: SecuritySettings = SecuritySettings()   # components/security_settings.py

    @property
    def uses_auth(self) -> bool:
        return any(api.auth for api in self.apis.values())


# key -> (what it is, default shown in messages)
TOP_LEVEL_KEYS = {
    "highAvailability": "bool, default false",
    "cpuArchitecture": "X86_64 | ARM64, default X86_64",
    "fargateSpot": "bool, default false",
    "logRetentionDays": "days, default 7",
    "deployTimeoutMinutes": "minutes, 5-60, default 30: how long a rollout may take before `pulumi up` fails",
    "corsOrigins": "list of origins, default [\"*\"]",
    "existingVpc": "{vpcId, subnetIds}",
    "storage": "map of tables",
    "apis": "map of APIs (required)",
    "githubToken": "secret string",
    "dockerHubCredentials": "ARN of a Secrets Manager secret with {username, password}",
    "alerts": "{email}: failed deploys, tasks that cannot start, failed builds, 5xx rate",
    "secretValues": "secret map {API: {SECRET: value}}: compose secrets without their .secret- file",
    "secretArns": "map {API: {SECRET: ARN}}: compose secrets from existing Secrets Manager secrets",
    **SECURITY_KEYS,
}
API_KEYS = ("type", "source", "composeFiles", "entrypoint", "auth", "access", "build", "github", "images",
            "replicas", "scaling", "sleep", "awake", "domain", "disableDefaultEndpoint", "volumes", "port",
            *SECURITY_API_KEYS)
TABLE_KEYS = ("partitionKey", "sortKey", "pointInTimeRecovery", "deletionProtection", "replaceOnKeyChange")
KEY_ATTRIBUTE_KEYS = ("name", "type")
GITHUB_KEYS = ("owner", "repo", "branch", "path", "connectionArn")
EXISTING_VPC_KEYS = ("vpcId", "subnetIds")


class _Validator:
    """Carries the file name for messages and checks one value at a time."""

    def __init__(self, stack: str):
        self.file = f"stacks/Pulumi.{stack}.yaml"

    def error(self, path: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(problem, file=self.file, key=f"{NAMESPACE}:{path}", fix=fix)

    def mapping(self, path: str, value: Any, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a map, got {_describe(value)}.",
                             f"write it as a YAML map{_keys_hint(allowed)}.")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise self.error(path, f"unknown key(s) {', '.join(unknown)}.",
                                 f"use only: {', '.join(allowed)}.")
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"expected true or false, got {_describe(value)}.", "use true or false.")
        return value

    def choice(self, path: str, value: Any, choices: tuple) -> Any:
        if value not in choices or isinstance(value, bool):
            raise self.error(path, f"{_describe(value)} is not a valid choice.",
                             f"use one of: {', '.join(str(c) for c in choices)}.")
        return value

    def string(self, path: str, value: Any, *, pattern: re.Pattern | None = None, what: str = "") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"expected a non-empty string, got {_describe(value)}.",
                             f"set it to {what or 'a string'}.")
        if pattern is not None and not pattern.match(value):
            raise self.error(path, f"{value!r} is not valid.", f"use {what}.")
        return value

    def string_list(self, path: str, value: Any, *, pattern: re.Pattern | None = None, what: str = "") -> list[str]:
        if not isinstance(value, list) or not value:
            raise self.error(path, f"expected a non-empty list, got {_describe(value)}.",
                             f"write a YAML list of {what or 'strings'}.")
        items = [self.string(f"{path}[{i}]", item, pattern=pattern, what=what) for i, item in enumerate(value)]
        duplicates = sorted({item for item in items if items.count(item) > 1})
        if duplicates:
            raise self.error(path, f"{', '.join(duplicates)} listed more than once.", "list each entry once.")
        return items

    def name(self, path: str, value: Any, what: str) -> str:
        if not isinstance(value, str) or not NAME_PATTERN.match(value) or len(value) > MAX_NAME_LENGTH:
            raise self.error(path, f"{what} name {_describe(value)} is not valid.",
                             f"use up to {MAX_NAME_LENGTH} lowercase letters, digits and hyphens, "
                             "starting with a letter.")
        return value


def _describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return repr(value)


def _keys_hint(allowed: tuple[str, ...] | None) -> str:
    return f" with the keys {', '.join(allowed)}" if allowed else ""


def load_settings(raw: dict[str, Any], project_dir: Path, stack: str) -> StackSettings:
    """Validate the stack config ``raw`` (short key -> parsed value) for ``stack``.

    Relative `source` paths are resolved against ``project_dir``. Raises ``ConfigError``.
    """
    check = _Validator(stack)
    if not STACK_PATTERN.match(stack):
        raise ConfigError(f"stack name {stack!r} cannot be used in AWS resource names.", file=check.file,
                          fix="name the stack with up to 40 lowercase letters, digits and hyphens, "
                              "starting with a letter (pulumi stack init dev).")
    unknown = sorted(k for k in raw if k not in TOP_LEVEL_KEYS)
    if unknown:
        raise check.error(unknown[0], f"unknown config key(s) {', '.join(f'{NAMESPACE}:{k}' for k in unknown)}.",
                          "valid keys are " + "; ".join(f"{k} ({d})" for k, d in TOP_LEVEL_KEYS.items()) + ".")
    values: dict[str, Any] = {}
    if raw.get("highAvailability") is not None:
        values["high_availability"] = check.boolean("highAvailability", raw["highAvailability"])
    if raw.get("cpuArchitecture") is not None:
        values["cpu_architecture"] = check.choice("cpuArchitecture", raw["cpuArchitecture"], CPU_ARCHITECTURES)
    if raw.get("fargateSpot") is not None:
        values["fargate_spot"] = check.boolean("fargateSpot", raw["fargateSpot"])
    if raw.get("deployTimeoutMinutes") is not None:
        values["deploy_timeout_minutes"] = _deploy_timeout(check, raw["deployTimeoutMinutes"])
    if raw.get("logRetentionDays") is not None:
        values["log_retention_days"] = check.choice("logRetentionDays", raw["logRetentionDays"], LOG_RETENTION_DAYS)
    if raw.get("corsOrigins") is not None:
        origins = check.string_list("corsOrigins", raw["corsOrigins"], what="origins like https://app.example.com")
        for i, origin in enumerate(origins):
            if origin != "*" and not ORIGIN_PATTERN.match(origin):
                raise check.error(f"corsOrigins[{i}]", f"{origin!r} is not an origin.",
                                  "use \"*\" or scheme://host[:port] with no path, e.g. https://app.example.com.")
        values["cors_origins"] = tuple(origins)
    if raw.get("existingVpc") is not None:
        values["existing_vpc"] = _existing_vpc(check, raw["existingVpc"])
    storage = _storage(check, raw.get("storage"))
    values["storage"] = storage
    if raw.get("apis") is None:
        raise check.error("apis", "no APIs are configured.",
                          "add at least one, e.g. apis: {posts: {source: apps/posts}}.")
    apis_raw = check.mapping("apis", raw["apis"])
    if not apis_raw:
        raise check.error("apis", "no APIs are configured.", "add at least one, e.g. apis: {posts: {source: apps/posts}}.")
    apis = {check.name(f"apis.{name}", name, "API"): _api(check, name, spec, project_dir, storage)
            for name, spec in apis_raw.items()}
    check_unique(check, {api.name: api.domain for api in apis.values() if api.domain})
    check_name_lengths(check.file, stack, list(apis), list(storage))
    token = raw.get("githubToken")
    for api in apis.values():
        if api.build == "github" and api.github and not api.github.connection_arn and token is None:
            raise check.error(f"apis.{api.name}.github", "build: github needs either a connectionArn or a token.",
                              "run `pulumi config set --secret githubToken <token>` or set github.connectionArn.")
    if raw.get("dockerHubCredentials") is not None:
        values["docker_hub_credentials"] = secret_arn(check, "dockerHubCredentials", raw["dockerHubCredentials"])
    if raw.get("alerts") is not None:
        values["alerts"] = parse_alerts(check.error, "alerts", raw["alerts"])
    values["stack_secrets"] = stack_secrets(check, raw, apis)
    values["security"] = parse_stack(check, raw)
    return StackSettings(stack=stack, project_dir=project_dir, config_file=check.file, apis=apis,
                         github_token=token, **values)


DEPLOY_TIMEOUT_MINUTES = (5, 60)    # CodePipeline's ECS deploy action accepts a DeploymentTimeout of 1-60 minutes


def _deploy_timeout(check: _Validator, value: Any) -> int:
    low, high = DEPLOY_TIMEOUT_MINUTES
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise check.error("deployTimeoutMinutes", f"{_describe(value)} is not a number of minutes from {low} to {high}.",
                          f"set a whole number of minutes from {low} to {high} (the pipeline's ECS deploy action "
                          f"allows at most {high}); the default is 30.")
    return value


def _existing_vpc(check: _Validator, value: Any) -> ExistingVpc:
    spec = check.mapping("existingVpc", value, EXISTING_VPC_KEYS)
    if "vpcId" not in spec or "subnetIds" not in spec:
        raise check.error("existingVpc", "needs both vpcId and subnetIds.",
                          "set existingVpc: {vpcId: vpc-..., subnetIds: [subnet-..., ...]}.")
    vpc_id = check.string("existingVpc.vpcId", spec["vpcId"], pattern=VPC_ID_PATTERN, what="a VPC id like vpc-0abc123")
    subnets = check.string_list("existingVpc.subnetIds", spec["subnetIds"], pattern=SUBNET_ID_PATTERN,
                                what="public subnet ids like subnet-0abc123")
    return ExistingVpc(vpc_id=vpc_id, subnet_ids=tuple(subnets))


def _storage(check: _Validator, value: Any) -> dict[str, TableSettings]:
    if value is None:
        return {}
    tables = {}
    for name, spec in check.mapping("storage", value).items():
        path = f"storage.{name}"
        check.name(path, name, "table")
        spec = check.mapping(path, spec, TABLE_KEYS)
        if "partitionKey" not in spec:
            raise check.error(f"{path}.partitionKey", "a table needs a partition key.",
                              "set partitionKey: {name: id, type: S}.")
        partition = _key_attribute(check, f"{path}.partitionKey", spec["partitionKey"])
        sort = _key_attribute(check, f"{path}.sortKey", spec["sortKey"]) if spec.get("sortKey") is not None else None
        if sort and sort.name == partition.name:
            raise check.error(f"{path}.sortKey", "the sort key has the partition key's name.",
                              "give the sort key a different attribute name.")
        flags = {key: check.boolean(f"{path}.{key}", spec[key]) if spec.get(key) is not None else False
                 for key in ("pointInTimeRecovery", "deletionProtection", "replaceOnKeyChange")}
        if flags["deletionProtection"] and flags["replaceOnKeyChange"]:
            raise check.error(f"{path}.replaceOnKeyChange", "the table is protected against deletion, and replacing "
                              "it on a key change deletes it.", "set deletionProtection: false first (one `pulumi up`), "
                              "or drop replaceOnKeyChange.")
        tables[name] = TableSettings(
            name=name, partition_key=partition, sort_key=sort, point_in_time_recovery=flags["pointInTimeRecovery"],
            deletion_protection=flags["deletionProtection"], replace_on_key_change=flags["replaceOnKeyChange"])
    return tables


def _key_attribute(check: _Validator, path: str, value: Any) -> KeyAttribute:
    spec = check.mapping(path, value, KEY_ATTRIBUTE_KEYS)
    if "name" not in spec:
        raise check.error(f"{path}.name", "the key has no attribute name.", "set name, e.g. {name: id, type: S}.")
    name = check.string(f"{path}.name", spec["name"], what="an attribute name")
    if len(name) > 255:
        raise check.error(f"{path}.name", "the attribute name is longer than 255 characters.", "shorten it.")
    key_type = check.choice(f"{path}.type", spec.get("type", "S"), KEY_TYPES)
    return KeyAttribute(name=name, type=key_type)


def _api(check: _Validator, name: str, value: Any, project_dir: Path,
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
    values.update(parse_api(check, path, spec, source_dir, values.get("build", "managed")))
    return ApiSettings(name=name, source_dir=source_dir, replicas=replicas, scaling=scaling, sleep=sleep, awake=awake,
                       **values)


def _access(check: _Validator, path: str, value: Any, storage: dict[str, TableSettings]) -> dict[str, tuple[str, ...]]:
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


def _github(check: _Validator, path: str, value: Any) -> GithubSource:
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
        raise check.error(f"{path}.path", f"{_describe(sub_path)} is not a folder inside the repository.",
                          "use a relative folder like apps/posts, or \"\" for the root.")
    connection = spec.get("connectionArn")
    if connection is not None:
        connection = check.string(f"{path}.connectionArn", connection,
                                  pattern=re.compile(r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):"),
                                  what="a CodeStar/CodeConnections connection ARN")
    return GithubSource(owner=owner, repo=repo, branch=branch, path=sub_path.strip("/"), connection_arn=connection)
