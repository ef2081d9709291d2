"""The stack config, validated: raw `serverless-containers:*` values in, typed ``StackSettings`` out.

Pure Python (no Pulumi import) so it can be tested and reused by the offline tools. This module reads the
top-level keys and calls the module of each other key (apis.py, storage.py, secrets.py, security.py,
alerts.py); every problem is a ``ConfigError`` that names the stack file (``stacks/Pulumi.<stack>.yaml``), the
full key path (``serverless-containers:apis.posts.build``) and the valid choices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.errors import ConfigError
from components.settings.alerts import AlertSettings, parse_alerts
from components.settings.apis import ApiSettings, parse_api_entry
from components.settings.checks import NAMESPACE, Checker, describe
from components.settings.domain import check_unique
from components.settings.names import check_name_lengths
from components.settings.secrets import StackSecret, secret_arn, stack_secrets
from components.settings.auth import STACK_KEYS as AUTH_KEYS, ExistingUserPool, parse_existing_user_pool
from components.settings.security import STACK_KEYS as SECURITY_KEYS, SecuritySettings, parse_stack
from components.settings.storage import TableSettings, parse_storage
from components.settings.volumes import STACK_KEYS as VOLUME_KEYS, VolumeSettings, parse_volume_settings

CPU_ARCHITECTURES = ("X86_64", "ARM64")
# CloudWatch Logs accepts only these retention periods (days). 0 ("never expire") is left out on
# purpose: logs that are never deleted cost money forever.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

STACK_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
ORIGIN_PATTERN = re.compile(r"^https?://[^/\s?#]+$")
VPC_ID_PATTERN = re.compile(r"^vpc-[0-9a-f]+$")
SUBNET_ID_PATTERN = re.compile(r"^subnet-[0-9a-f]+$")
EXISTING_VPC_KEYS = ("vpcId", "subnetIds")


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
    existing_user_pool: ExistingUserPool | None = None   # sign-in with a pool the stack does not own (auth.py)
    storage: dict[str, TableSettings] = field(default_factory=dict)
    github_token: Any = None         # opaque (a Pulumi secret Output when run by Pulumi); never printed
    docker_hub_credentials: str | None = None  # secret ARN; Docker Hub images are pulled signed in with it
    alerts: AlertSettings | None = None  # SNS e-mail alerts (components/alerts.py)
    # API -> compose secret -> its value from the stack config or an existing secret's ARN (secrets.py)
    stack_secrets: dict[str, dict[str, StackSecret]] = field(default_factory=dict)
    security: SecuritySettings = SecuritySettings()   # security.py
    volumes: VolumeSettings = VolumeSettings()         # volumes.py: EFS backups and volume removals

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
    **AUTH_KEYS,
    **SECURITY_KEYS,
    **VOLUME_KEYS,
}


def load_settings(raw: dict[str, Any], project_dir: Path, stack: str) -> StackSettings:
    """Validate the stack config ``raw`` (short key -> parsed value) for ``stack``.

    Relative `source` paths are resolved against ``project_dir``. Raises ``ConfigError``.
    """
    check = Checker(stack)
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
    storage = parse_storage(check, raw.get("storage"))
    values["storage"] = storage
    if raw.get("apis") is None:
        raise check.error("apis", "no APIs are configured.",
                          "add at least one, e.g. apis: {posts: {source: apps/posts}}.")
    apis_raw = check.mapping("apis", raw["apis"])
    if not apis_raw:
        raise check.error("apis", "no APIs are configured.", "add at least one, e.g. apis: {posts: {source: apps/posts}}.")
    apis = {check.name(f"apis.{name}", name, "API"): parse_api_entry(check, name, spec, project_dir, storage)
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
        values["alerts"] = parse_alerts(check, "alerts", raw["alerts"])
    values["stack_secrets"] = stack_secrets(check, raw, apis)
    values["security"] = parse_stack(check, raw, LOG_RETENTION_DAYS)
    values["volumes"] = parse_volume_settings(check, raw)
    values["existing_user_pool"] = parse_existing_user_pool(check, raw)
    if values["security"].user_pool.replaces and not any(api.auth for api in apis.values()):
        raise check.error("userPool.replaces", "no API has auth: true, so the stack creates no user pool to replace "
                          f"{values['security'].user_pool.replaces}.", "remove userPool.replaces, or set auth: true on "
                          "the APIs that need sign-in.")
    return StackSettings(stack=stack, project_dir=project_dir, config_file=check.file, apis=apis,
                         github_token=token, **values)


DEPLOY_TIMEOUT_MINUTES = (5, 60)    # CodePipeline's ECS deploy action accepts a DeploymentTimeout of 1-60 minutes


def _deploy_timeout(check: Checker, value: Any) -> int:
    low, high = DEPLOY_TIMEOUT_MINUTES
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise check.error("deployTimeoutMinutes", f"{describe(value)} is not a number of minutes from {low} to {high}.",
                          f"set a whole number of minutes from {low} to {high} (the pipeline's ECS deploy action "
                          f"allows at most {high}); the default is 30.")
    return value


def _existing_vpc(check: Checker, value: Any) -> ExistingVpc:
    spec = check.mapping("existingVpc", value, EXISTING_VPC_KEYS)
    if "vpcId" not in spec or "subnetIds" not in spec:
        raise check.error("existingVpc", "needs both vpcId and subnetIds.",
                          "set existingVpc: {vpcId: vpc-..., subnetIds: [subnet-..., ...]}.")
    vpc_id = check.string("existingVpc.vpcId", spec["vpcId"], pattern=VPC_ID_PATTERN, what="a VPC id like vpc-0abc123")
    subnets = check.string_list("existingVpc.subnetIds", spec["subnetIds"], pattern=SUBNET_ID_PATTERN,
                                what="public subnet ids like subnet-0abc123")
    return ExistingVpc(vpc_id=vpc_id, subnet_ids=tuple(subnets))
