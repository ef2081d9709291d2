"""Every physical name the stack gives AWS, and AWS's limit for each. Pure Python (no Pulumi).

One table (``NAME_LIMITS``) so a long stack or API name is refused before anything is created, naming
the resource that would not fit, instead of failing halfway through ``pulumi up``. The names are built
by the same functions the components use; ``physical_names`` lists them for one stack and API.

Limits (AWS API references, as botocore's models encode them where they do; checked 2026-11):

* CodePipeline pipeline name: 1-100 characters (CreatePipeline ``PipelineName``).
* CodeBuild project name: 2-150 (CreateProject ``name``).
* IAM role name: 1-64 (CreateRole ``RoleName``). Pulumi auto-names roles: the logical name plus ``-`` and
  7 random characters, so the logical name may be at most 56.
* ECR repository name: 2-256 (CreateRepository ``RepositoryName``).
* CloudWatch log group name: 1-512 (CreateLogGroup ``LogGroupName``).
* Cloud Map service name: one DNS label of at most 63 for a DNS namespace (CreateService ``Name`` pattern).
* Cloud Map private DNS namespace: a DNS name of at most 253, labels of at most 63.
* API Gateway HTTP API and VPC link names: 1-128 (CreateApi/CreateVpcLink ``Name``; API Gateway quotas).
* Cognito user pool name: 1-128 (CreateUserPool ``PoolName``).
* DynamoDB table name: 3-255 (CreateTable ``TableName``).
* Secrets Manager secret name: 1-512 (CreateSecret ``Name``).
* ECS cluster, service and task family: 1-255 (CreateCluster/CreateService/RegisterTaskDefinition).
* EventBridge rule name: 1-64 (PutRule ``Name``); the alert rules are auto-named like roles, the pipeline's source
  rule is named after the stack and API (``source_rule_name``) so its role's trust can name that one rule.
* CloudWatch alarm name: 1-255 (PutMetricAlarm ``AlarmName``); SNS topic name: 1-256 (CreateTopic ``Name``);
  Application Auto Scaling policy and scheduled action names: 1-256 (PutScalingPolicy, PutScheduledAction).
* S3 bucket prefix: the bucket name is 3-63 and Pulumi adds 26 characters to a ``bucket_prefix``, so the
  prefix is cut to 37 characters (deterministic: the same stack and API always give the same prefix).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from components.errors import ConfigError

PROJECT = "serverless-containers"
AUTONAME_SUFFIX = 8            # Pulumi's auto-naming adds "-" and 7 random characters
BUCKET_PREFIX_MAX = 37         # bucket names are at most 63; Pulumi adds 26 characters to a bucket_prefix


@dataclass(frozen=True)
class NameLimit:
    what: str                  # "CodePipeline pipeline"
    maximum: int
    source: str                # where the limit comes from


NAME_LIMITS: dict[str, NameLimit] = {
    "pipeline": NameLimit("CodePipeline pipeline name", 100, "CodePipeline CreatePipeline: name, 1-100"),
    "codebuild": NameLimit("CodeBuild project name", 150, "CodeBuild CreateProject: name, 2-150"),
    "iam-role": NameLimit("IAM role name (auto-named: logical name + 8)", 64, "IAM CreateRole: RoleName, 1-64"),
    "ecr": NameLimit("ECR repository name", 256, "ECR CreateRepository: repositoryName, 2-256"),
    "log-group": NameLimit("CloudWatch log group name", 512, "CloudWatch Logs CreateLogGroup: logGroupName, 1-512"),
    "cloud-map-service": NameLimit("Cloud Map service name (one DNS label)", 63,
                                   "Cloud Map CreateService: Name, DNS labels of 1-63"),
    "cloud-map-namespace": NameLimit("Cloud Map namespace (DNS name)", 253,
                                     "Cloud Map CreatePrivateDnsNamespace: Name, 1-253"),
    "http-api": NameLimit("API Gateway HTTP API and VPC link name", 128, "API Gateway quotas: API name, 128"),
    "user-pool": NameLimit("Cognito user pool name", 128, "Cognito CreateUserPool: PoolName, 1-128"),
    "table": NameLimit("DynamoDB table name", 255, "DynamoDB naming rules: table names 3-255"),
    "secret": NameLimit("Secrets Manager secret name", 512, "Secrets Manager CreateSecret: Name, 1-512"),
    "ecs": NameLimit("ECS cluster, service or task family name", 255, "ECS: names of 1-255"),
    "event-rule": NameLimit("EventBridge rule name (auto-named: logical name + 8)", 64,
                            "EventBridge PutRule: Name, 1-64"),
    "alarm": NameLimit("CloudWatch alarm name", 255, "CloudWatch PutMetricAlarm: AlarmName, 1-255"),
    "sns-topic": NameLimit("SNS topic name", 256, "SNS CreateTopic: Name, 1-256"),
    "scaling": NameLimit("Application Auto Scaling policy or scheduled action name", 256,
                         "Application Auto Scaling PutScalingPolicy/PutScheduledAction: 1-256"),
    "bucket-prefix": NameLimit("S3 bucket prefix (cut to 37)", BUCKET_PREFIX_MAX,
                               "S3 bucket names 3-63, Pulumi's suffix 26"),
}

# Logical names Pulumi auto-names from (components/service.py, components/pipeline/pipeline.py).
ROLE_SUFFIXES = ("execution", "task", "pipeline-build", "pipeline-pipeline", "pipeline-start")
EVENT_RULE_MAX = 64
SOURCE_RULE_SUFFIX = "-source"
ALERT_RULES = ("deploy", "task", "build")                 # components/alerts.py: alerts-<api>-<what>
ALARMS = ("idle", "wake", "5xx-rate")                     # components/scaling.py, alerts.py
SCALING_NAMES = ("cpu-100pct", "memory-100pct", "sleep", "wake", "wake-up", "bedtime")
PROMOTE_SUFFIX = "-promote"


def source_rule_name(stack: str, api: str) -> str:
    """The EventBridge rule that starts an API's pipeline on a new source zip: ``<stack>-<api>-source``, unique per
    stack and API so the role EventBridge assumes trusts this rule alone (dev's rule cannot start prod's pipeline).
    A pair too long for EventBridge's 64 characters is cut and keeps 8 hex digits of its full name's SHA-256."""
    name = f"{stack}-{api}{SOURCE_RULE_SUFFIX}"
    if len(name) <= EVENT_RULE_MAX:
        return name
    digest = hashlib.sha256(f"{stack}/{api}".encode()).hexdigest()[:8]
    keep = EVENT_RULE_MAX - len(SOURCE_RULE_SUFFIX) - len(digest) - 1
    return f"{f'{stack}-{api}'[:keep].rstrip('-')}-{digest}{SOURCE_RULE_SUFFIX}"


def _auto(logical: str) -> str:
    return logical + "-" + "x" * (AUTONAME_SUFFIX - 1)


def physical_names(stack: str, api: str | None = None, *, containers: tuple[str, ...] = (),
                   tables: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(limit key, name) for every name the stack (and ``api``, its containers and secrets) gives AWS.
    Auto-named resources appear with their 7 random characters as ``x``."""
    names = [("ecs", f"{PROJECT}-{stack}"), ("cloud-map-namespace", f"{stack}.{PROJECT}.internal"),
             ("user-pool", f"{PROJECT}-{stack}"), ("sns-topic", f"{PROJECT}-{stack}-alerts")]
    names += [("table", f"{PROJECT}-{stack}-{table}") for table in tables]
    if api is None:
        return names
    base = f"{PROJECT}-{stack}-{api}"
    names += [("ecs", api), ("ecs", base), ("pipeline", base), ("codebuild", base),
              ("codebuild", base + PROMOTE_SUFFIX), ("log-group", f"/aws/codebuild/{base}"),
              ("http-api", base), ("cloud-map-service", api)]
    names += [("iam-role", _auto(f"{api}-{suffix}")) for suffix in ROLE_SUFFIXES]
    names += [("event-rule", source_rule_name(stack, api))]
    names += [("event-rule", _auto(f"alerts-{api}-{what}")) for what in ALERT_RULES]
    names += [("alarm", f"{base}-{what}") for what in ALARMS]
    names += [("scaling", f"{api}-{what}") for what in SCALING_NAMES]
    for container in containers:
        names += [("ecr", f"{base}-{container}".lower()), ("log-group", f"/{PROJECT}/{stack}/{api}/{container}")]
    names += [("secret", f"{PROJECT}/{stack}/{api}/{secret}") for secret in secrets]
    return names


@dataclass(frozen=True)
class TooLong:
    limit: NameLimit
    name: str

    @property
    def excess(self) -> int:
        return len(self.name) - self.limit.maximum

    def describe(self) -> str:
        return (f"the {self.limit.what} would be {self.name!r} ({len(self.name)} characters); AWS allows "
                f"{self.limit.maximum} ({self.limit.source})")


def too_long(stack: str, api: str | None = None, **parts) -> list[TooLong]:
    """The names that would not fit, longest excess first (empty: all fit)."""
    found = [TooLong(NAME_LIMITS[key], name) for key, name in physical_names(stack, api, **parts)
             if len(name) > NAME_LIMITS[key].maximum]
    return sorted(found, key=lambda item: -item.excess)


def bucket_prefix(stack: str, api: str) -> str:
    """The artifact bucket's prefix: ``<stack>-<api>-`` cut to fit (same input, same prefix)."""
    return f"{stack}-{api}"[:BUCKET_PREFIX_MAX - 1].rstrip("-") + "-"


def check_name_lengths(file: str, stack: str, apis: list[str], tables: list[str], *,
                       containers: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> None:
    """Every physical name the stack, its tables and these APIs give AWS fits AWS's limit (this module),
    or a ConfigError names the first that does not and what to shorten."""
    shared = too_long(stack, tables=tuple(tables))
    if shared:
        worst = shared[0]
        table = worst.limit.what.startswith("DynamoDB")
        raise ConfigError(f"stack '{stack}': {worst.describe()}.", file=file,
                          key=f"{PROJECT}:storage" if table else None,
                          fix=f"shorten the {'table name or the ' if table else ''}stack name by {worst.excess} "
                              "character(s).")
    stack_names = {item.name for item in too_long(stack, tables=tuple(tables))}
    for api in apis:
        long = [item for item in too_long(stack, api, containers=containers, secrets=secrets)
                if item.name not in stack_names]
        if long:
            worst = long[0]
            raise ConfigError(f"stack '{stack}' and API '{api}': {worst.describe()}.", file=file,
                              key=f"{PROJECT}:apis.{api}",
                              fix=f"shorten the API name (or the stack name) by {worst.excess} character(s).")
