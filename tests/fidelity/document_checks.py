"""The JSON and YAML documents inside requests (ECR lifecycle policies, buildspecs, container definitions, security
group rules, alarms, scaling and event patterns) and the table that says which request field holds which."""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

import yaml


from tests.fidelity.iam_checks import policy_problems

# --- ECR lifecycle policies -------------------------------------------------------------------------

def lifecycle_policy_problems(text: Any) -> list[str]:
    """The documented shape of an ECR lifecycle policy (Amazon ECR user guide, lifecycle policy properties)."""
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError as error:
        return [f"lifecycle policy is not JSON: {error}"]
    if not isinstance(document, dict) or set(document) != {"rules"} or not isinstance(document["rules"], list) \
            or not document["rules"]:
        return ["lifecycle policy must be {\"rules\": [...]} with at least one rule"]
    found, priorities = [], []
    for index, rule in enumerate(document["rules"]):
        where = f"rules[{index}]"
        if not isinstance(rule, dict):
            found.append(f"{where} is not an object")
            continue
        unknown = set(rule) - {"rulePriority", "description", "selection", "action"}
        if unknown:
            found.append(f"{where} has unknown keys {sorted(unknown)}")
        priority = rule.get("rulePriority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
            found.append(f"{where}: rulePriority {priority!r} is not a positive integer")
        priorities.append(priority)
        selection = rule.get("selection")
        if not isinstance(selection, dict):
            found.append(f"{where}: no selection")
            continue
        unknown = set(selection) - {"tagStatus", "tagPrefixList", "tagPatternList", "countType", "countUnit",
                                    "countNumber", "storageClass"}
        if unknown:
            found.append(f"{where}.selection has unknown keys {sorted(unknown)}")
        status = selection.get("tagStatus")
        if status not in ("tagged", "untagged", "any"):
            found.append(f"{where}: tagStatus {status!r} is not tagged|untagged|any")
        lists = [k for k in ("tagPrefixList", "tagPatternList") if k in selection]
        if lists and status != "tagged":
            found.append(f"{where}: {lists} only go with tagStatus tagged")
        if status == "tagged" and not lists:
            found.append(f"{where}: tagStatus tagged needs tagPrefixList or tagPatternList")
        if len(lists) > 1:
            found.append(f"{where}: tagPrefixList and tagPatternList cannot both be set")
        for key in lists:
            values = selection[key]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                found.append(f"{where}: {key} must be a non-empty list of strings")
            elif key == "tagPatternList" and any(v.count("*") > 4 for v in values):
                found.append(f"{where}: a tag pattern may hold at most 4 wildcards")
        count_type = selection.get("countType")
        if count_type not in ("imageCountMoreThan", "sinceImagePushed"):
            found.append(f"{where}: countType {count_type!r} is not imageCountMoreThan|sinceImagePushed")
        if count_type == "sinceImagePushed" and selection.get("countUnit") != "days":
            found.append(f"{where}: sinceImagePushed needs countUnit days")
        if count_type == "imageCountMoreThan" and "countUnit" in selection:
            found.append(f"{where}: countUnit is only for sinceImagePushed")
        number = selection.get("countNumber")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            found.append(f"{where}: countNumber {number!r} is not a positive integer")
        action = rule.get("action")
        if not isinstance(action, dict) or action.get("type") != "expire":
            found.append(f"{where}: action must be {{\"type\": \"expire\"}}")
    real = [p for p in priorities if isinstance(p, int)]
    if len(real) != len(set(real)):
        found.append(f"rulePriority values repeat: {priorities}")
    return found


# --- CodeBuild buildspecs ---------------------------------------------------------------------------

BUILDSPEC_KEYS = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache"}
PHASES = ("install", "pre_build", "build", "post_build")
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ARTIFACT_KEYS = {"files", "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks",
                 "s3-prefix", "secondary-artifacts"}
ENV_KEYS = {"shell", "variables", "parameter-store", "exported-variables", "secrets-manager", "git-credential-helper"}


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def buildspec_problems(text: Any) -> list[str]:
    """The buildspec reference: version 0.2, known phases with command lists, artifacts with files."""
    if not isinstance(text, str) or not text.strip():
        return ["buildspec is empty"]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"buildspec is not YAML: {error}"]
    if not isinstance(document, dict):
        return ["buildspec is not a YAML mapping"]
    found = []
    if str(document.get("version")) != "0.2":
        found.append(f"buildspec version {document.get('version')!r} is not 0.2")
    unknown = set(document) - BUILDSPEC_KEYS
    if unknown:
        found.append(f"buildspec has unknown top-level keys {sorted(unknown)}")
    phases = document.get("phases")
    if not isinstance(phases, dict) or not phases:
        found.append("buildspec has no phases")
        phases = {}
    for phase, body in phases.items():
        if phase not in PHASES:
            found.append(f"phases.{phase} is not one of {list(PHASES)}")
            continue
        if not isinstance(body, dict):
            found.append(f"phases.{phase} is not a mapping")
            continue
        unknown = set(body) - PHASE_KEYS
        if unknown:
            found.append(f"phases.{phase} has unknown keys {sorted(unknown)}")
        if "runtime-versions" in body and phase != "install":
            found.append(f"phases.{phase}: runtime-versions belongs to install")
        if not _string_list(body.get("commands")):
            found.append(f"phases.{phase}.commands must be a non-empty list of command strings")
        if "finally" in body and not _string_list(body["finally"]):
            found.append(f"phases.{phase}.finally must be a list of command strings")
        if body.get("on-failure") not in (None, "ABORT", "CONTINUE", "RETRY") and not str(
                body.get("on-failure")).startswith("RETRY-"):
            found.append(f"phases.{phase}.on-failure {body.get('on-failure')!r} is not ABORT|CONTINUE|RETRY...")
    env = document.get("env")
    if env is not None:
        if not isinstance(env, dict) or set(env) - ENV_KEYS:
            found.append(f"env has unknown keys {sorted(set(env or {}) - ENV_KEYS)}")
        else:
            for key in ("variables", "parameter-store", "secrets-manager"):
                values = env.get(key)
                if values is not None and not (isinstance(values, dict) and all(
                        isinstance(v, (str, int, float)) for v in values.values())):
                    found.append(f"env.{key} must map names to string values")
    artifacts = document.get("artifacts")
    if artifacts is not None:
        if not isinstance(artifacts, dict):
            found.append("artifacts is not a mapping")
        else:
            unknown = set(artifacts) - ARTIFACT_KEYS
            if unknown:
                found.append(f"artifacts has unknown keys {sorted(unknown)}")
            if not _string_list(artifacts.get("files")):
                found.append("artifacts.files must be a non-empty list of paths")
    cache = document.get("cache")
    if cache is not None and not (isinstance(cache, dict) and _string_list(cache.get("paths"))):
        found.append("cache.paths must be a non-empty list of paths")
    return found


# --- ECS container definitions ----------------------------------------------------------------------

# Fargate's task sizes: cpu units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, range | tuple] = {
    256: (512, 1024, 2048), 512: range(1024, 4097, 1024), 1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024), 4096: range(8192, 30721, 1024), 8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192)}
HEALTH_LIMITS = {"interval": (5, 300), "timeout": (2, 120), "retries": (1, 10), "startPeriod": (0, 300)}


def task_definition_problems(params: dict) -> list[str]:
    found = []
    containers = params.get("containerDefinitions") or []
    names = [c.get("name") for c in containers]
    if len(names) != len(set(names)):
        found.append(f"container names repeat: {names}")
    if containers and not any(c.get("essential", True) for c in containers):
        found.append("no container is essential; ECS needs at least one")
    fargate = "FARGATE" in (params.get("requiresCompatibilities") or [])
    awsvpc = params.get("networkMode") == "awsvpc"
    if fargate and not awsvpc:
        found.append(f"Fargate needs networkMode awsvpc, not {params.get('networkMode')!r}")
    if fargate:
        try:
            cpu, memory = int(params.get("cpu")), int(params.get("memory"))
        except (TypeError, ValueError):
            found.append(f"Fargate needs task cpu and memory, got {params.get('cpu')!r}/{params.get('memory')!r}")
        else:
            if cpu not in FARGATE_SIZES or memory not in FARGATE_SIZES[cpu]:
                found.append(f"cpu {cpu} with memory {memory} MiB is not a Fargate task size")
            used_memory = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers)
            if used_memory > memory:
                found.append(f"the containers reserve {used_memory} MiB, more than the task's {memory}")
            if sum(c.get("cpu") or 0 for c in containers) > cpu:
                found.append(f"the containers' cpu adds up to more than the task's {cpu}")
        platform = params.get("runtimePlatform") or {}
        if platform.get("cpuArchitecture") not in (None, "X86_64", "ARM64"):
            found.append(f"runtimePlatform.cpuArchitecture {platform.get('cpuArchitecture')!r}")
    volumes = {v.get("name") for v in params.get("volumes") or []}
    for container in containers:
        where = f"container {container.get('name')!r}"
        if not container.get("image"):
            found.append(f"{where} has no image")
        for dependency in container.get("dependsOn") or []:
            if dependency.get("containerName") not in names:
                found.append(f"{where} depends on unknown container {dependency.get('containerName')!r}")
            if dependency.get("containerName") == container.get("name"):
                found.append(f"{where} depends on itself")
        for mapping in container.get("portMappings") or []:
            port = mapping.get("containerPort")
            if not isinstance(port, int) or not 1 <= port <= 65535:
                found.append(f"{where}: containerPort {port!r} is out of range")
            if awsvpc and mapping.get("hostPort") not in (None, port):
                found.append(f"{where}: in awsvpc mode hostPort must equal containerPort ({mapping})")
        port_names = [m.get("name") for m in container.get("portMappings") or [] if m.get("name")]
        if len(port_names) != len(set(port_names)):
            found.append(f"{where}: port mapping names repeat: {port_names}")
        variables = [e.get("name") for e in container.get("environment") or []] + \
                    [s.get("name") for s in container.get("secrets") or []]
        if len(variables) != len(set(variables)):
            found.append(f"{where}: environment/secret names repeat: {sorted(variables)}")
        for mount in container.get("mountPoints") or []:
            if mount.get("sourceVolume") not in volumes:
                found.append(f"{where}: mount of unknown volume {mount.get('sourceVolume')!r}")
        check = container.get("healthCheck")
        if check:
            if not check.get("command") or check["command"][0] not in ("CMD", "CMD-SHELL", "NONE"):
                found.append(f"{where}: healthCheck.command must start with CMD or CMD-SHELL")
            for key, (low, high) in HEALTH_LIMITS.items():
                if key in check and not low <= check[key] <= high:
                    found.append(f"{where}: healthCheck.{key} {check[key]} is outside {low}..{high}")
        if fargate:
            for key in ("links", "hostname", "privileged", "dockerSecurityOptions", "extraHosts"):
                if container.get(key) and not (key == "privileged" and container[key] is False):
                    found.append(f"{where}: Fargate does not take {key}")
            logging = container.get("logConfiguration")
            if logging and logging.get("logDriver") == "awslogs":
                options = logging.get("options") or {}
                missing = {"awslogs-group", "awslogs-region", "awslogs-stream-prefix"} - set(options)
                if missing:
                    found.append(f"{where}: awslogs needs {sorted(missing)} on Fargate")
    return found


# --- the table of document checks ---------------------------------------------------------------------

DocumentCheck = Callable[[Any], list[str]]
DOCUMENT_CHECKS: dict[tuple[str, str], list[tuple[str, DocumentCheck]]] = {
    ("iam", "CreateRole"): [("AssumeRolePolicyDocument", functools.partial(policy_problems, kind="trust"))],
    ("iam", "PutRolePolicy"): [("PolicyDocument", policy_problems)],
    ("iam", "CreatePolicy"): [("PolicyDocument", policy_problems)],
    ("s3", "PutBucketPolicy"): [("Policy", functools.partial(policy_problems, kind="resource"))],
    ("ecr", "SetRepositoryPolicy"): [("policyText", functools.partial(policy_problems, kind="resource"))],
    ("secretsmanager", "PutResourcePolicy"): [("ResourcePolicy", functools.partial(policy_problems, kind="resource"))],
    ("ecr", "PutLifecyclePolicy"): [("lifecyclePolicyText", lifecycle_policy_problems)],
    ("codebuild", "CreateProject"): [("source.buildspec", buildspec_problems)],
    ("sns", "SetTopicAttributes"): [("AttributeValue", functools.partial(policy_problems, kind="resource"))],
    ("events", "PutRule"): [("EventPattern", lambda value: event_pattern_problems(value))],
}
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy documentation).
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653}


def ip_permission_problems(params: dict) -> list[str]:
    found = []
    for index, permission in enumerate(params.get("IpPermissions") or []):
        protocol = str(permission.get("IpProtocol"))
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if protocol in ("tcp", "udp", "6", "17"):
            if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 65535):
                found.append(f"IpPermissions[{index}]: ports {low}..{high} are not a range within 0..65535")
        elif protocol not in ("-1", "icmp", "icmpv6", "1", "58") and not protocol.isdigit():
            found.append(f"IpPermissions[{index}]: IpProtocol {protocol!r} is not tcp, udp, icmp, -1 or a number")
        if not any(permission.get(k) for k in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")):
            found.append(f"IpPermissions[{index}] names no source or destination")
    return found


# Checks that need the whole request.

# --- scaling, alarms, event patterns (issue 15) ---------------------------------------------------------

def alarm_problems(params: dict) -> list[str]:
    """What PutMetricAlarm refuses beyond the model: a metric and a math query at once, no (or several) returned
    series, a look-back over one day, more datapoints to alarm than evaluated periods."""
    found = []
    metrics = params.get("Metrics")
    if metrics and params.get("MetricName"):
        found.append("MetricName and Metrics are mutually exclusive")
    if not metrics and not params.get("MetricName"):
        found.append("neither MetricName nor Metrics")
    if metrics:
        found += metric_query_problems(metrics)
    periods = [params.get("Period")] if params.get("Period") else [
        m.get("MetricStat", {}).get("Period") for m in metrics or [] if m.get("MetricStat")]
    evaluation = params.get("EvaluationPeriods") or 0
    for period in (p for p in periods if p):
        if period * evaluation > 86400:
            found.append(f"EvaluationPeriods x Period = {period * evaluation} s; an alarm looks back at most 86400 s")
    if params.get("TreatMissingData") not in (None, "breaching", "notBreaching", "ignore", "missing"):
        found.append(f"TreatMissingData {params['TreatMissingData']!r} is not breaching, notBreaching, ignore or missing")
    if (params.get("DatapointsToAlarm") or 0) > evaluation:
        found.append("DatapointsToAlarm exceeds EvaluationPeriods")
    return found


def metric_query_problems(metrics: list[dict]) -> list[str]:
    """Metric math queries (alarms and target tracking alike): exactly one returns data, each is a metric or an
    expression, Ids start with a lowercase letter, and an expression names only Ids that exist."""
    found = []
    returned = [m for m in metrics if m.get("ReturnData", True)]
    if len(returned) != 1:
        found.append(f"{len(returned)} metric queries return data; exactly one must")
    ids = [m.get("Id", "") for m in metrics]
    for query in metrics:
        if bool(query.get("Expression")) == bool(query.get("MetricStat")):
            found.append(f"query {query.get('Id')!r} needs exactly one of Expression and MetricStat")
        if not re.fullmatch(r"[a-z][A-Za-z0-9_]*", query.get("Id", "")):
            found.append(f"query Id {query.get('Id')!r} must start with a lowercase letter (letters, digits, _)")
    for expression in (m.get("Expression") for m in metrics if m.get("Expression")):
        for name in set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", expression)) - {"m"}:
            if name not in ids and not name.isupper() and name not in ("and", "or"):
                found.append(f"expression {expression!r} names {name!r}, which no query has as Id")
    return found


def scalable_target_problems(params: dict) -> list[str]:
    low, high = params.get("MinCapacity"), params.get("MaxCapacity")
    if low is not None and high is not None and not 0 <= low <= high:
        return [f"MinCapacity {low} / MaxCapacity {high}: need 0 <= min <= max"]
    return []


def scheduled_action_problems(params: dict) -> list[str]:
    import zoneinfo

    found = []
    schedule = params.get("Schedule", "")
    match = re.fullmatch(r"cron\((.*)\)", schedule)
    if match and len(match.group(1).split()) != 6:
        found.append(f"Schedule {schedule!r}: a cron expression has 6 fields")
    elif not match and not re.fullmatch(r"(at|rate)\(.+\)", schedule):
        found.append(f"Schedule {schedule!r} is no at(), rate() or cron() expression")
    zone = params.get("Timezone")
    if zone:
        try:
            zoneinfo.ZoneInfo(zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            found.append(f"Timezone {zone!r} is not an IANA time zone")
    action = params.get("ScalableTargetAction") or {}
    found += scalable_target_problems(action) if {"MinCapacity", "MaxCapacity"} <= set(action) else []
    return found


def scaling_policy_problems(params: dict) -> list[str]:
    """Step adjustments need a bound; a target tracking policy names one metric: predefined, a single customized
    metric, or metric math (requestsPerTask), never two of them."""
    step = params.get("StepScalingPolicyConfiguration") or {}
    found = [f"step adjustment {a} has neither bound" for a in step.get("StepAdjustments", [])
             if "MetricIntervalLowerBound" not in a and "MetricIntervalUpperBound" not in a]
    tracking = params.get("TargetTrackingScalingPolicyConfiguration") or {}
    custom = tracking.get("CustomizedMetricSpecification")
    if tracking and bool(custom) == bool(tracking.get("PredefinedMetricSpecification")):
        found.append("target tracking needs exactly one of PredefinedMetricSpecification and "
                     "CustomizedMetricSpecification")
    if custom:
        if custom.get("Metrics") and custom.get("MetricName"):
            found.append("CustomizedMetricSpecification: MetricName and Metrics are mutually exclusive")
        if custom.get("Metrics"):
            found += metric_query_problems(custom["Metrics"])
        elif not (custom.get("MetricName") and custom.get("Namespace") and custom.get("Statistic")):
            found.append("CustomizedMetricSpecification names neither Metrics nor MetricName, Namespace, Statistic")
    return found


def event_pattern_problems(value: Any) -> list[str]:
    """An EventBridge pattern: a JSON object whose leaves are lists (of values or matchers)."""
    try:
        pattern = json.loads(value) if isinstance(value, str) else value
    except ValueError as error:
        return [f"not JSON: {error}"]
    if not isinstance(pattern, dict) or not pattern:
        return ["the pattern must be a non-empty JSON object"]

    def leaves(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [p for key, item in node.items() for p in leaves(item, f"{where}.{key}")]
        if isinstance(node, list) and node:
            return []
        return [f"{where}: {node!r} is not a non-empty list"]
    return leaves(pattern, "")

REQUEST_CHECKS: dict[tuple[str, str], Callable[[dict], list[str]]] = {
    ("ecs", "RegisterTaskDefinition"): task_definition_problems,
    ("ec2", "AuthorizeSecurityGroupIngress"): ip_permission_problems,
    ("ec2", "AuthorizeSecurityGroupEgress"): ip_permission_problems,
    ("logs", "PutRetentionPolicy"): lambda p: [] if p.get("retentionInDays") in LOG_RETENTION_DAYS else [
        f"retentionInDays {p.get('retentionInDays')} is not a CloudWatch Logs retention period"],
    ("secretsmanager", "DeleteSecret"): lambda p: [] if p.get("ForceDeleteWithoutRecovery") or 7 <= p.get(
        "RecoveryWindowInDays", 7) <= 30 else [f"RecoveryWindowInDays {p['RecoveryWindowInDays']} is not 0 or 7..30"],
    ("cloudwatch", "PutMetricAlarm"): alarm_problems,
    ("application-autoscaling", "RegisterScalableTarget"): scalable_target_problems,
    ("application-autoscaling", "PutScheduledAction"): scheduled_action_problems,
    ("application-autoscaling", "PutScalingPolicy"): scaling_policy_problems,
}
