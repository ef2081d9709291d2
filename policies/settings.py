"""The policy pack's settings: each policy's config schema, its documented defaults, and per-stack overrides.

One file per environment, ``policies/config/<stack>.json``, written in the format of Pulumi's
``--policy-pack-config`` file, so the same file serves both tools:

    pulumi preview --stack dev --policy-pack policies --policy-pack-config policies/config/dev.json
    python -m ops plan --stack dev          # reads policies/config/dev.json by itself

The file maps a policy name to an enforcement level (``"advisory"``, ``"mandatory"``, ``"disabled"``) or to an
object of settings that may hold ``enforcementLevel``; the key ``all`` sets every policy's level. Anything
the file leaves out keeps the default written here. Pure Python: no Pulumi import.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from components.errors import ConfigError

MANDATORY, ADVISORY, DISABLED = "mandatory", "advisory", "disabled"
LEVELS = (ADVISORY, MANDATORY, DISABLED)
CONFIG_DIR = Path(__file__).resolve().parent / "config"

# The seed deletes build artifacts and old images after 7 days; a longer rule keeps paying for storage.
SEED_RETENTION_DAYS = 7
# Not PRIVATE (PRIVATE_SUBNET): too many harmless names carry it. PWD counts except the shell's own PWD/OLDPWD
# (policies/secret_values.py), and a name ending in _FILE/_PATH/_ARN/_NAME points at a secret without holding one.
SECRET_WORDS = ["PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "KEY", "APIKEY", "AUTH", "SALT", "SIGNING",
                "CREDENTIAL", "CREDENTIALS"]
# CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_VALUES = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                        2922, 3288, 3653]


@dataclass(frozen=True)
class PolicySpec:
    """One policy: what it checks, whether it is a cost ceiling, and its settings (a JSON schema with defaults)."""

    name: str
    description: str
    default_level: str
    properties: dict[str, dict[str, Any]]
    cost_ceiling: bool = False

    def defaults(self) -> dict[str, Any]:
        return {key: schema["default"] for key, schema in self.properties.items() if "default" in schema}


def _int(default: int, minimum: int, text: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "default": default, "description": text}


# Cost ceilings are mandatory: a deploy that breaks one is stopped. The rest advise unless a stack's file says so.
POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec("max-replicas", "An ECS service runs at most maxReplicas tasks (each task is billed every hour "
               "it runs).", MANDATORY,
               {"maxReplicas": _int(4, 0, "the most tasks one service may run (desired count, the count a first "
                                          "deploy scales to, and an autoscaling maximum)")}, cost_ceiling=True),
    PolicySpec("max-task-size", "A Fargate task asks for at most maxTaskCpu CPU units and maxTaskMemory MiB.",
               MANDATORY,
               {"maxTaskCpu": _int(1024, 256, "CPU units per task (1024 = 1 vCPU)"),
                "maxTaskMemory": _int(2048, 512, "memory per task, in MiB")}, cost_ceiling=True),
    PolicySpec("ecr-lifecycle", "Every ECR repository has a lifecycle policy that expires images within "
               "maxImageAgeDays of their push, and no rule that keeps them longer.", MANDATORY,
               {"maxImageAgeDays": _int(SEED_RETENTION_DAYS, 1, "the oldest an image other than the ones kept "
                                                                "by count (e.g. latest) may get")},
               cost_ceiling=True),
    PolicySpec("s3-lifecycle", "Every S3 bucket has a lifecycle rule that deletes objects (or replaced versions) "
               "within maxObjectAgeDays, and no rule that keeps them longer.", MANDATORY,
               {"maxObjectAgeDays": _int(SEED_RETENTION_DAYS, 1, "the oldest a build artifact or a replaced "
                                                                 "object version may get")}, cost_ceiling=True),
    PolicySpec("max-log-retention", "Every CloudWatch log group expires its events within maxLogRetentionDays "
               "(never-expire is a violation); the access and flow logs within maxSecurityLogRetentionDays.",
               MANDATORY,
               {"maxLogRetentionDays": {"type": "integer", "enum": LOG_RETENTION_VALUES, "default": 30,
                                        "description": "the longest retention a log group may have, in days"},
                "maxSecurityLogRetentionDays": {
                    "type": "integer", "enum": LOG_RETENTION_VALUES, "default": 365,
                    "description": "the longest retention of the API access logs and VPC flow logs (365: what "
                                   "Security Hub's CloudWatch.16 asks for)"}},
               cost_ceiling=True),
    PolicySpec("max-nat-gateways", "The stack has at most maxNatGateways NAT gateways (each is billed every hour, "
               "idle or not).", MANDATORY,
               {"maxNatGateways": _int(0, 0, "NAT gateways allowed in the stack")}, cost_ceiling=True),
    PolicySpec("monthly-idle-budget", "The stack's estimated idle monthly cost (catalog/cost.py, prices in "
               "catalog/pricing.json; a sleeping API counts at 0 tasks outside its awake hours, an autoscaled one at "
               "its minimum) stays within monthlyIdleBudgetUsd.", MANDATORY,
               {"monthlyIdleBudgetUsd": {"type": "number", "minimum": 0, "default": 50,
                                         "description": "US dollars a month the stack may cost with no traffic"},
                "region": {"type": "string", "default": "",
                           "description": "price the stack in this region; empty: the AWS provider's region"}},
               cost_ceiling=True),
    PolicySpec("monthly-full-scale-budget", "The stack's estimated monthly cost with every API at its autoscaling "
               "maximum around the clock stays within monthlyFullScaleBudgetUsd (what a traffic peak that never ends "
               "would cost).", ADVISORY,
               {"monthlyFullScaleBudgetUsd": {"type": "number", "minimum": 0, "default": 150,
                                              "description": "US dollars a month the stack may cost at full scale"},
                "region": {"type": "string", "default": "",
                           "description": "price the stack in this region; empty: the AWS provider's region"}}),
    PolicySpec("fargate-spot", "Services run on Fargate Spot when the environment requires it, and never when it "
               "forbids it.", ADVISORY,
               {"fargateSpot": {"type": "string", "enum": ["required", "allowed", "forbidden"], "default": "allowed",
                                "description": "required: every service puts weight on FARGATE_SPOT; forbidden: "
                                               "none does; allowed: no check"}}),
    PolicySpec("deployment-circuit-breaker", "Every ECS service stops a failing rollout and rolls back to the "
               "last working deployment.", ADVISORY, {}),
    PolicySpec("no-secrets-in-environment", "Container environment variables whose name sounds secret hold no "
               "literal (policies/secret_values.py); secrets belong in compose `secrets:` (Secrets Manager). A value "
               "shaped like a live credential is no-credentials-in-values'.", ADVISORY,
               {"secretWords": {"type": "array", "items": {"type": "string"}, "default": SECRET_WORDS,
                                "description": "a variable whose name has one of these words (split at _ and -) "
                                               "looks like a secret"},
                "allowedNames": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "variables that only look like secrets (e.g. PUBLIC_KEY_URL)"}}),
    PolicySpec("ecr-scan-on-push", "Every ECR repository scans images for vulnerabilities on push.", ADVISORY, {}),
    PolicySpec("s3-public-access-block", "Every S3 bucket has a public access block with all four settings on.",
               ADVISORY, {}),
    PolicySpec("api-auth", "When the environment requires it, every API Gateway route but CORS preflights "
               "(OPTIONS) has an authorizer; and everywhere, no OPTIONS route bypasses the authorizer of its API "
               "(API Gateway answers preflights itself).", ADVISORY,
               {"requireAuth": {"type": "boolean", "default": False,
                                "description": "routes without authorization are violations"},
                "publicRoutes": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "route keys allowed without authorization, e.g. \"GET /health\""}}),
)

def _flag(default: bool, text: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": text}


# Security (issue 14; rules in policies/security_rules.py). Defaults judge only what is wrong everywhere; what
# costs money or breaks common apps is off by default and switched on per stack (policies/config/prod.json).
SECURITY_POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec("user-pool-sign-up", "The Cognito user pool lets only administrators create users (unless "
               "allowSelfSignUp), with at least minimumMfa and minimumThreatProtection.", ADVISORY,
               {"allowSelfSignUp": _flag(False, "self sign-up (userPool.selfSignUp: true) is acceptable here"),
                "minimumMfa": {"type": "string", "enum": ["off", "optional", "required"], "default": "off",
                               "description": "the weakest userPool.mfa accepted"},
                "minimumThreatProtection": {"type": "string", "enum": ["off", "audit", "enforced"], "default": "off",
                                            "description": "the weakest userPool.threatProtection accepted "
                                                           "(enforced: Security Hub Cognito.1)"}}),
    PolicySpec("deletion-protection", "DynamoDB tables and the user pool have deletion protection, when required.",
               ADVISORY, {"required": _flag(False, "tables and the user pool must be protected")}),
    PolicySpec("point-in-time-recovery", "DynamoDB tables have point-in-time recovery, when required.", ADVISORY,
               {"required": _flag(False, "every table must have pointInTimeRecovery: true")}),
    PolicySpec("no-force-destroy", "`pulumi destroy` does not empty the artifact buckets or the ECR repositories, "
               "when forbidden.", ADVISORY,
               {"forbidForceDestroy": _flag(False, "forceDestroy: true is a violation")}),
    PolicySpec("secret-recovery-window", "Deleted Secrets Manager secrets stay restorable for at least "
               "minRecoveryWindowDays.", ADVISORY,
               {"minRecoveryWindowDays": _int(0, 0, "0: no minimum; else 7-30 (secretRecoveryWindowDays)")}),
    PolicySpec("no-sample-secrets", "No Secrets Manager secret holds the value of a committed sample secret "
               "(apps/secrets/.secret-*), which anyone with the repository knows.", ADVISORY, {}),
    PolicySpec("pipeline-approval", "A manual approval stands before every pipeline stage that deploys, when "
               "required.", ADVISORY, {"requireApproval": _flag(False, "every pipeline needs approval: true")}),
    PolicySpec("cors-origins", "HTTP APIs name their CORS origins instead of \"*\", when required.", ADVISORY,
               {"forbidWildcard": _flag(False, "corsOrigins [\"*\"] is a violation")}),
    PolicySpec("api-access-logs", "Every HTTP API stage writes an access log.", ADVISORY, {}),
    PolicySpec("ecr-tag-immutability", "ECR tags are immutable except the moving tags.", ADVISORY,
               {"mutableTags": {"type": "array", "items": {"type": "string"}, "default": ["deployed", "latest"],
                                "description": "tags that may move (docs/design.md, \"Who moves which tag\")"}}),
    PolicySpec("no-secrets-in-build-args", "Docker build args in the pipeline whose name sounds secret carry no "
               "literal; build-time credentials are BuildKit secrets. A value shaped like a live credential is "
               "no-credentials-in-values'.", ADVISORY,
               {"secretWords": {"type": "array", "items": {"type": "string"}, "default": SECRET_WORDS,
                                "description": "a build arg whose name has one of these words looks like a secret"},
                "allowedNames": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "build args that only look like secrets"}}),
    PolicySpec("no-secrets-in-source", "The managed source zip holds no live credential (each hit named by file "
               "and line).", ADVISORY,
               {"allowedFiles": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "files of the source folder (relative paths) not judged"}}),
    PolicySpec("s3-tls-only", "Every S3 bucket denies requests not made over TLS.", ADVISORY, {}),
    PolicySpec("default-security-group", "Every VPC the stack creates has its default security group managed with "
               "no rules.", ADVISORY, {}),
    PolicySpec("vpc-flow-logs", "The stack's VPC has flow logs, when required.", ADVISORY,
               {"required": _flag(False, "vpcFlowLogs: true is required")}),
    PolicySpec("task-egress", "Tasks call out only as allowedEgress says.", ADVISORY,
               {"allowedEgress": {"type": "string", "enum": ["all", "https"], "default": "all",
                                  "description": "https: egress to the internet only on TCP 443 (taskEgress)"}}),
    # issue 21 (policies/volume_rules.py): the named volumes' data
    PolicySpec("volume-protection", "The EFS file system of the named volumes is Pulumi-protected and backed up, "
               "when required.", ADVISORY,
               {"required": _flag(False, "forceDestroy: false (protect) and volumeBackups on are required")}),
)
# A literal shaped like a live credential is leaked in any stack: mandatory by default (policies/credential_rules.py).
CREDENTIAL_POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec("no-credentials-in-values", "No literal in a task definition (environment, command, entry point, "
               "docker labels, health check) or a build (build args, inline Dockerfiles, buildspec commands, plain "
               "build variables) has the shape of a live credential: a token format, a URL with a password, a "
               "password= setting, a MySQL DSN (policies/secret_values.py).", MANDATORY,
               {"allowedNames": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "environment variables, docker labels or build args whose values "
                                                "only look like credentials"}}),
)
POLICIES = POLICIES + SECURITY_POLICIES + CREDENTIAL_POLICIES
POLICY_NAMES = tuple(spec.name for spec in POLICIES)


def spec(name: str) -> PolicySpec:
    return next(p for p in POLICIES if p.name == name)


@dataclass(frozen=True)
class EffectivePolicy:
    """A policy's level and settings after the defaults and a stack's file are combined."""

    name: str
    level: str
    settings: dict[str, Any]


def config_file(stack: str, config_dir: Path = CONFIG_DIR) -> Path:
    return config_dir / f"{stack}.json"


def read_config_file(path: Path) -> dict[str, Any]:
    """A ``--policy-pack-config`` file, checked against the schemas (so a typo is an error, not ignored)."""
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise ConfigError(f"not valid JSON ({error}).", file=str(path),
                          fix="write a JSON object mapping policy names to a level or to settings.") from None
    if not isinstance(document, dict):
        raise ConfigError("the policy config must be a JSON object.", file=str(path),
                          fix='e.g. {"max-replicas": {"maxReplicas": 2}}.')
    validate(document, str(path))
    return document


def validate(document: Mapping[str, Any], file: str) -> None:
    import jsonschema  # already required: the compose loader validates with it

    for name, value in document.items():
        if name != "all" and name not in POLICY_NAMES:
            raise ConfigError(f"there is no policy {name!r}.", file=file, key=name,
                              fix=f"use one of: all, {', '.join(POLICY_NAMES)}.")
        if isinstance(value, str):
            if value not in LEVELS:
                raise ConfigError(f"{value!r} is not an enforcement level.", file=file, key=name,
                                  fix=f"use one of: {', '.join(LEVELS)}.")
            continue
        if not isinstance(value, dict):
            raise ConfigError("expected an enforcement level or an object of settings.", file=file, key=name,
                              fix='e.g. "advisory" or {"enforcementLevel": "mandatory"}.')
        level = value.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise ConfigError(f"{level!r} is not an enforcement level.", file=file, key=f"{name}.enforcementLevel",
                              fix=f"use one of: {', '.join(LEVELS)}.")
        if name == "all":
            continue
        properties = spec(name).properties
        settings = {k: v for k, v in value.items() if k != "enforcementLevel"}
        for key in settings:
            if key not in properties:
                raise ConfigError(f"policy {name} has no setting {key!r}.", file=file, key=f"{name}.{key}",
                                  fix=f"use one of: enforcementLevel{''.join(', ' + k for k in properties)}.")
        schema = {"type": "object", "properties": properties}
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(settings))
        if error is not None:
            path = ".".join(str(p) for p in error.absolute_path)
            raise ConfigError(error.message, file=file, key=f"{name}.{path}" if path else name,
                              fix=f"see the schema of {name} in policies/settings.py.")


def effective(document: Mapping[str, Any] | None = None) -> dict[str, EffectivePolicy]:
    """Every policy's level and settings: the defaults, then ``all``, then the policy's own entry."""
    document = document or {}
    everything = document.get("all")
    all_level = everything if isinstance(everything, str) else (everything or {}).get("enforcementLevel")
    result = {}
    for policy in POLICIES:
        entry = document.get(policy.name)
        level = all_level or policy.default_level
        settings = policy.defaults()
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel") or level
            settings.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        result[policy.name] = EffectivePolicy(policy.name, level, settings)
    return result


def for_stack(stack: str, path: Path | None = None) -> tuple[dict[str, EffectivePolicy], Path | None]:
    """The effective policies of ``stack``: ``path``, else ``policies/config/<stack>.json`` when it exists."""
    chosen = path if path is not None else config_file(stack)
    if path is None and not chosen.is_file():
        return effective({}), None
    if not chosen.is_file():
        raise ConfigError("the policy config file does not exist.", file=str(chosen),
                          fix=f"create it, or drop the option to use {config_file(stack)} or the defaults.")
    return effective(read_config_file(chosen)), chosen
