"""The cost guardrails as pure functions, shared by the policy pack (policies/__main__.py) and the offline plan.

A resource rule takes a type token, the resource's properties (camelCase wire names, as Pulumi's policy
SDK and ops/plan/mockrun.py show them) and the policy's settings, and returns violation messages. A stack rule
takes every resource of the stack and returns (resource or None, message) pairs. Values Pulumi cannot know
during a preview arrive as ``UNKNOWN`` (catalog/resources.py; see policies/adapter.py); a rule never reports a violation it
cannot prove.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from catalog import cost
from catalog.resources import (
    AUTHORIZER, CLUSTER_CAPACITY, ECR_LIFECYCLE, ECR_REPOSITORY, ECS_SERVICE, HTTP_ROUTE, LOG_GROUP, LOG_KIND_TAG,
    NAT_GATEWAY, PIPELINE_RUN_SUFFIX, PUBLIC_ACCESS_SETTINGS, S3_BUCKETS, S3_LIFECYCLES, S3_PUBLIC_ACCESS_BLOCK,
    S3_VERSIONINGS, SCALING_TARGET, SECURITY_LOGS, TASK_DEFINITION, UNKNOWN, Resource, as_list, block, json_document,
    known, number, of_type, spot_share, task_cpu_units, task_memory_mib)
from policies import credential_rules, security_rules, source_secrets, volume_rules
from policies.secret_values import judge, looks_secret, name_reason, secret_kinds  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Finding:
    """One violation of one policy: on a resource (its logical name) or on the whole stack (resource "")."""

    policy: str
    level: str
    resource: str
    message: str
    urn: str = ""
    type: str = ""


def _plural(count: float, word: str) -> str:
    count = int(count) if float(count).is_integer() else count
    return f"{count} {word}" + ("" if count == 1 else "s")


# ---------------------------------------------------------------------------------------------- resource rules


def max_replicas(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    limit = settings["maxReplicas"]
    counts: list[tuple[str, float | None]] = []
    if resource_type == ECS_SERVICE:
        counts.append(("desiredCount", number(props.get("desiredCount"))))
    elif resource_type.endswith(PIPELINE_RUN_SUFFIX):
        counts.append(("scaleTo (the count the first pipeline run scales to)", number(props.get("scaleTo"))))
    elif resource_type == SCALING_TARGET and props.get("serviceNamespace") == "ecs":
        counts.append(("maxCapacity (autoscaling)", number(props.get("maxCapacity"))))
    api = (props.get("tags") or {}).get("api") if isinstance(props.get("tags"), Mapping) else None
    api = api if isinstance(api, str) else "NAME"
    key_to_lower = (f"apis.{api}.scaling.max in the stack config" if resource_type == SCALING_TARGET else
                    f"apis.{api}.replicas in the stack config (or deploy.replicas in the compose file)")
    return [f"runs up to {_plural(count, 'task')} ({key}); the limit is {limit} (maxReplicas). Lower "
            f"{key_to_lower}, or raise maxReplicas in policies/config/<stack>.json."
            for key, count in counts if count is not None and count > limit]


def max_task_size(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != TASK_DEFINITION:
        return []
    found = []
    cpu, memory = task_cpu_units(props.get("cpu")), task_memory_mib(props.get("memory"))
    if cpu is not None and cpu > settings["maxTaskCpu"]:
        found.append(f"asks for {cpu:g} CPU units; the limit is {settings['maxTaskCpu']} (maxTaskCpu). Lower the "
                     f"services' deploy.resources.limits.cpus.")
    if memory is not None and memory > settings["maxTaskMemory"]:
        found.append(f"asks for {memory:g} MiB of memory; the limit is {settings['maxTaskMemory']} (maxTaskMemory). "
                     f"Lower the services' deploy.resources.limits.memory.")
    return found


def max_log_retention(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """The cost cap on every log group; the access and flow logs (tagged as security logs) have their own, so
    they can be kept the year Security Hub's CloudWatch.16 asks for while application logs stay short."""
    if resource_type != LOG_GROUP:
        return []
    tags = props.get("tags")
    security = isinstance(tags, Mapping) and tags.get(LOG_KIND_TAG) == SECURITY_LOGS
    key = "maxSecurityLogRetentionDays" if security else "maxLogRetentionDays"
    limit = settings.get(key, settings["maxLogRetentionDays"])
    days = props.get("retentionInDays")
    if days is UNKNOWN:
        return []
    days = number(days)
    if not days:
        return [f"keeps its log events forever (no retentionInDays); set a retention of at most {limit} days."]
    if days > limit:
        fix = "securityLogRetentionDays" if security else "logRetentionDays"
        return [f"keeps log events {days:g} days; the limit is {limit} ({key}). Lower {fix} in the stack config, "
                f"or raise {key} in policies/config/<stack>.json."]
    return []


def deployment_circuit_breaker(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != ECS_SERVICE:
        return []
    controller = block(props.get("deploymentController")).get("type", "ECS")
    if known(controller) and controller != "ECS":
        return []   # CodeDeploy and external controllers roll back by their own means
    breaker = props.get("deploymentCircuitBreaker")
    if breaker is UNKNOWN:
        return []
    breaker = block(breaker)
    if breaker.get("enable") is not True:
        return ["has no deployment circuit breaker: a rollout whose tasks never get healthy keeps replacing them "
                "(and billing for them). Set deploymentCircuitBreaker {enable: true, rollback: true}."]
    if breaker.get("rollback") is not True:
        return ["stops a failing rollout but does not roll back to the last working deployment. "
                "Set deploymentCircuitBreaker.rollback: true."]
    return []


def no_secrets_in_environment(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Literal environment values whose name sounds secret (policies/secret_values.py). A value shaped like a
    live credential is `no-credentials-in-values`' (mandatory everywhere), so it is not reported twice."""
    if resource_type != TASK_DEFINITION:
        return []
    containers = json_document(props.get("containerDefinitions"))
    if not isinstance(containers, list):
        return []
    allowed = set(settings.get("allowedNames") or [])
    found = []
    for container in containers:
        if not isinstance(container, Mapping):
            continue
        for variable in container.get("environment") or []:
            name, value = variable.get("name", ""), variable.get("value")
            if name in allowed or not isinstance(value, str) or secret_kinds(value):
                continue
            reason = name_reason(name, value, settings["secretWords"])
            if reason:
                found.append(f"container {container.get('name')!r}: environment variable {name} holds a literal "
                             f"value and {reason}: it is stored in plaintext in the task definition and the Pulumi "
                             f"state. Move it to the service's compose `secrets:` (Secrets Manager, `valueFrom`), "
                             f"or list {name} in allowedNames.")
    return found


def ecr_scan_on_push(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != ECR_REPOSITORY:
        return []
    scanning = props.get("imageScanningConfiguration")
    if scanning is UNKNOWN or block(scanning).get("scanOnPush") is UNKNOWN:
        return []
    if block(scanning).get("scanOnPush") is not True:
        return ["does not scan images on push; set imageScanningConfiguration.scanOnPush: true."]
    return []


# ------------------------------------------------------------------------------------------------- stack rules

StackFindings = list[tuple[Resource | None, str]]


def _attached(target: Resource, candidates: Sequence[Resource], key: str, target_keys: Sequence[str]) -> list[Resource]:
    """The resources whose ``key`` names ``target`` (by physical name or id); when that value is not known yet,
    the one the program registered under the same parent with the same logical name."""
    names = {str(target.props.get(k)) for k in target_keys if known(target.props.get(k))}
    matched = []
    for candidate in candidates:
        value = candidate.props.get(key)
        if known(value):
            if str(value) in names or str(value).rsplit("/", 1)[-1] in names:
                matched.append(candidate)
        elif candidate.parent_urn == target.parent_urn and candidate.name == target.name:
            matched.append(candidate)
    return matched


def _ecr_age_rules(policy: Any) -> list[tuple[str, float]]:
    rules = policy.get("rules") if isinstance(policy, Mapping) else None
    ages = []
    for rule in rules or []:
        selection = rule.get("selection") or {}
        if selection.get("countType") == "sinceImagePushed" and number(selection.get("countNumber")) is not None:
            ages.append((str(selection.get("tagStatus", "any")), number(selection.get("countNumber"))))
    return ages


def ecr_lifecycle(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    limit = settings["maxImageAgeDays"]
    policies = of_type(resources, ECR_LIFECYCLE)
    found: StackFindings = []
    for repository in of_type(resources, ECR_REPOSITORY):
        attached = _attached(repository, policies, "repository", ("name", "id"))
        if not attached:
            found.append((repository, f"has no lifecycle policy, so every image is kept (and billed) forever. "
                                      f"Expire images within {limit} days of their push."))
            continue
        documents = [json_document(p.props.get("policy")) for p in attached]
        if any(d is UNKNOWN for d in documents):
            continue
        ages = [age for document in documents for age in _ecr_age_rules(document)]
        for status, days in ages:
            if days > limit:
                found.append((repository, f"has a lifecycle rule that expires {status} images only {days:g} days "
                                          f"after push; the limit is {limit} (maxImageAgeDays)."))
        if not any(status == "any" and days <= limit for status, days in ages):
            found.append((repository, f"has no lifecycle rule that expires every image (tagStatus any) within "
                                      f"{limit} days of its push; old images are kept (and billed)."))
    return found


def _s3_rule_ages(rule: Mapping[str, Any]) -> tuple[bool, list[tuple[str, float]]]:
    """(enabled, [(what expires, after days)]) for a lifecycle-configuration rule or an inline bucket rule."""
    enabled = rule.get("status") == "Enabled" if "status" in rule else rule.get("enabled") is True
    ages = []
    days = number(block(rule.get("expiration")).get("days"))
    if days:
        ages.append(("objects", days))
    noncurrent = block(rule.get("noncurrentVersionExpiration"))
    days = number(noncurrent.get("noncurrentDays", noncurrent.get("days")))
    if days:
        ages.append(("replaced versions", days))
    return enabled, ages


def _versioned(bucket: Resource, versionings: Sequence[Resource]) -> bool:
    if block(bucket.props.get("versioning")).get("enabled") is True:
        return True
    return any(block(v.props.get("versioningConfiguration")).get("status") == "Enabled"
               for v in _attached(bucket, versionings, "bucket", ("bucket", "id")))


def s3_lifecycle(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    limit = settings["maxObjectAgeDays"]
    configurations = of_type(resources, *S3_LIFECYCLES)
    versionings = of_type(resources, *S3_VERSIONINGS)
    found: StackFindings = []
    for bucket in of_type(resources, *S3_BUCKETS):
        attached = _attached(bucket, configurations, "bucket", ("bucket", "id"))
        rules = [r for c in attached for r in as_list(c.props.get("rules"))] + as_list(bucket.props.get("lifecycleRules"))
        if any(c.props.get("rules") is UNKNOWN for c in attached):
            continue
        if not rules:
            found.append((bucket, f"has no lifecycle rule, so every object is kept (and billed) forever. Expire "
                                  f"objects within {limit} days."))
            continue
        expiring = set()
        for rule in rules:
            enabled, ages = _s3_rule_ages(rule)
            if not enabled:
                continue
            for what, days in ages:
                if days > limit:
                    found.append((bucket, f"lifecycle rule {rule.get('id', '')!r} expires {what} only after "
                                          f"{days:g} days; the limit is {limit} (maxObjectAgeDays)."))
                else:
                    expiring.add(what)
        if not expiring:
            found.append((bucket, f"has no enabled lifecycle rule that expires objects within {limit} days."))
        elif _versioned(bucket, versionings) and "replaced versions" not in expiring:
            found.append((bucket, f"is versioned but no rule expires replaced versions within {limit} days "
                                  f"(noncurrentVersionExpiration); they are kept (and billed) forever."))
    return found


def s3_public_access_block(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    blocks = of_type(resources, S3_PUBLIC_ACCESS_BLOCK)
    found: StackFindings = []
    for bucket in of_type(resources, *S3_BUCKETS):
        attached = _attached(bucket, blocks, "bucket", ("bucket", "id"))
        if not attached:
            found.append((bucket, "has no public access block; add one with all four settings true."))
            continue
        for access_block in attached:
            off = [s for s in PUBLIC_ACCESS_SETTINGS if access_block.props.get(s) is not True
                   and access_block.props.get(s) is not UNKNOWN]
            if off:
                found.append((bucket, f"public access block leaves {', '.join(off)} off; set all four to true."))
    return found


def max_nat_gateways(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    limit = settings["maxNatGateways"]
    gateways = of_type(resources, NAT_GATEWAY)
    if len(gateways) <= limit:
        return []
    return [(gateway, f"the stack has {_plural(len(gateways), 'NAT gateway')}; the limit is {limit} "
                      f"(maxNatGateways). A NAT gateway is billed every hour, idle or not; tasks in public subnets "
                      f"with public IPs need none.") for gateway in gateways]


def _capacity_strategy(service: Resource, resources: Sequence[Resource]) -> list[Mapping[str, Any]] | None:
    """The capacity providers a service's tasks use: its own strategy, its launch type, else its cluster's default."""
    strategy = service.props.get("capacityProviderStrategies")
    if strategy is UNKNOWN:
        return None
    if as_list(strategy):
        return as_list(strategy)
    launch_type = service.props.get("launchType")
    if known(launch_type):
        return [{"capacityProvider": launch_type, "weight": 1}]
    cluster = str(service.props.get("cluster", "")).rsplit("/", 1)[-1]
    for providers in of_type(resources, CLUSTER_CAPACITY):
        if str(providers.props.get("clusterName", "")).rsplit("/", 1)[-1] == cluster:
            return as_list(providers.props.get("defaultCapacityProviderStrategies"))
    return []


def _one_writer(service: Resource) -> bool:
    """A service that deploys stop-before-start (maximumPercent 100): its task holds a database volume, and Spot
    would give it two writers (components/one_writer.py), so it runs on-demand by design."""
    maximum = number(service.props.get("deploymentMaximumPercent"))
    return maximum is not None and maximum <= 100


def _api_of(route: Resource) -> Any:
    api = route.props.get("apiId")
    return api if known(api) else ("parent", route.parent_urn)


def api_auth(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    """Routes without an authorizer: every one where the environment requires sign-in (CORS preflights aside), and
    in every environment an OPTIONS route on an API that has an authorizer: API Gateway answers preflights itself
    (docs/design.md, "No unauthenticated OPTIONS routes"), so such a route only lets requests reach the app
    unauthenticated. Routes and authorizers are matched by ``apiId`` (by parent while the id is unknown)."""
    public = set(settings.get("publicRoutes") or [])
    signed_in = {_api_of(a) for a in of_type(resources, AUTHORIZER)}
    found: StackFindings = []
    for route in of_type(resources, HTTP_ROUTE):
        route_key, authorization = route.props.get("routeKey"), route.props.get("authorizationType", "NONE")
        if not known(route_key) or authorization is UNKNOWN or route_key in public:
            continue
        if authorization not in (None, "", "NONE"):
            continue
        if str(route_key).startswith("OPTIONS "):
            if _api_of(route) in signed_in:
                found.append((route, f"route {route_key!r} forwards OPTIONS requests to the app without sign-in on "
                                     f"an API that has an authorizer; API Gateway answers CORS preflights without "
                                     f"any route. Remove the route, or list it in publicRoutes."))
        elif settings.get("requireAuth"):
            found.append((route, f"route {route_key!r} has no authorizer, and this environment requires sign-in on "
                                 f"every API. Set auth: true on the API in the stack config, or list the route in "
                                 f"publicRoutes."))
    return found


def fargate_spot(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    mode = settings["fargateSpot"]
    if mode == "allowed":
        return []
    found: StackFindings = []
    for service in of_type(resources, ECS_SERVICE):
        strategy = _capacity_strategy(service, resources)
        if strategy is None:
            continue
        some, every = spot_share(strategy)
        if mode == "required" and not every and not _one_writer(service):
            found.append((service, "runs tasks on on-demand Fargate, but this environment requires Fargate Spot. "
                                   "Set fargateSpot: true (with cpuArchitecture: X86_64) in the stack config."))
        if mode == "forbidden" and some:
            found.append((service, "runs tasks on Fargate Spot, which this environment forbids (AWS may stop them "
                                   "at two minutes' notice). Set fargateSpot: false in the stack config."))
    return found


def monthly_idle_budget(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    region = settings.get("region") or next((r.region for r in resources if r.region), "") or cost.DEFAULT_REGION
    report = cost.estimate(resources, region)
    budget = settings["monthlyIdleBudgetUsd"]
    if report.monthly_usd <= budget:
        return []
    top = sorted(report.items, key=lambda i: i.monthly_usd, reverse=True)[:3]
    biggest = "; ".join(f"{i.name} ${i.monthly_usd:.2f}" for i in top)
    stack = stack_of(resources)
    where = f"policies/config/{stack}.json" if stack else "policies/config/<stack>.json"
    return [(None, f"the estimated idle cost is ${report.monthly_usd:.2f} a month in {region}, over the budget of "
                   f"${budget:.2f} (monthlyIdleBudgetUsd in {where}). Biggest items: {biggest}. Raise the budget "
                   f"there, or lower the cost (fewer replicas, Fargate Spot, smaller tasks).")]


def monthly_full_scale_budget(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    """Advisory: what the stack costs if every API runs its autoscaling maximum around the clock."""
    region = settings.get("region") or next((r.region for r in resources if r.region), "") or cost.DEFAULT_REGION
    report = cost.estimate(resources, region, scenario="full")
    budget = settings["monthlyFullScaleBudgetUsd"]
    if report.monthly_usd <= budget:
        return []
    stack = stack_of(resources)
    where = f"policies/config/{stack}.json" if stack else "policies/config/<stack>.json"
    return [(None, f"at full scale (every API at its autoscaling maximum, 730 h) the stack would cost "
                   f"${report.monthly_usd:.2f} a month in {region}, over ${budget:.2f} (monthlyFullScaleBudgetUsd in "
                   f"{where}). Lower apis.NAME.scaling.max in the stack config, or raise the budget there.")]


def stack_of(resources: Sequence[Resource]) -> str:
    """The stack name from the resources' URNs (``urn:pulumi:<stack>::<project>::...``), or ""."""
    for resource in resources:
        urn = str(resource.urn or "")
        if urn.startswith("urn:pulumi:") and "::" in urn:
            return urn[len("urn:pulumi:"):].split("::", 1)[0]
    return ""


ResourceRule = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]
StackRule = Callable[[Sequence[Resource], Mapping[str, Any]], StackFindings]

RESOURCE_RULES: dict[str, ResourceRule] = {
    "max-replicas": max_replicas,
    "max-task-size": max_task_size,
    "max-log-retention": max_log_retention,
    "deployment-circuit-breaker": deployment_circuit_breaker,
    "no-secrets-in-environment": no_secrets_in_environment,
    "ecr-scan-on-push": ecr_scan_on_push,
    "no-credentials-in-values": credential_rules.no_credentials_in_values,
}
STACK_RULES: dict[str, StackRule] = {
    "ecr-lifecycle": ecr_lifecycle,
    "s3-lifecycle": s3_lifecycle,
    "s3-public-access-block": s3_public_access_block,
    "max-nat-gateways": max_nat_gateways,
    "fargate-spot": fargate_spot,
    "monthly-idle-budget": monthly_idle_budget,
    "monthly-full-scale-budget": monthly_full_scale_budget,
    "api-auth": api_auth,
}


# The security guardrails (issue 14) live in policies/security_rules.py, registered here with the rest.
RESOURCE_RULES.update({
    "user-pool-sign-up": security_rules.user_pool_sign_up,
    "deletion-protection": security_rules.deletion_protection,
    "point-in-time-recovery": security_rules.point_in_time_recovery,
    "no-force-destroy": security_rules.no_force_destroy,
    "secret-recovery-window": security_rules.secret_recovery_window,
    "no-sample-secrets": security_rules.no_sample_secrets,
    "pipeline-approval": security_rules.pipeline_approval,
    "cors-origins": security_rules.cors_origins,
    "api-access-logs": security_rules.api_access_logs,
    "ecr-tag-immutability": security_rules.ecr_tag_immutability,
    "no-secrets-in-build-args": security_rules.no_secrets_in_build_args,
    "no-secrets-in-source": source_secrets.no_secrets_in_source,
})
STACK_RULES.update({
    "s3-tls-only": security_rules.s3_tls_only,
    "default-security-group": security_rules.default_security_group,
    "vpc-flow-logs": security_rules.vpc_flow_logs,
    "task-egress": security_rules.task_egress,
    "volume-protection": volume_rules.volume_protection,
})


def evaluate(resources: Sequence[Resource], policies: Mapping[str, Any]) -> list[Finding]:
    """Every violation of every enabled policy. ``policies``: name -> settings.EffectivePolicy."""
    findings: list[Finding] = []
    for name, policy in policies.items():
        if policy.level == "disabled":
            continue
        if name in RESOURCE_RULES:
            for resource in resources:
                for message in RESOURCE_RULES[name](resource.type, resource.props, policy.settings):
                    findings.append(Finding(name, policy.level, resource.name, message, resource.urn, resource.type))
        elif name in STACK_RULES:
            for resource, message in STACK_RULES[name](resources, policy.settings):
                findings.append(Finding(name, policy.level, resource.name if resource else "", message,
                                        resource.urn if resource else "", resource.type if resource else ""))
    return findings
