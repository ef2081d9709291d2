"""What a stack costs a month while nobody uses it, item by item, from its resources and catalog/pricing.json.

Takes resources the way the policy rules see them (``type``, ``name``, ``props`` in camelCase wire names,
``parent_urn``; catalog.resources.Resource) so the offline plan and the policy pack's budget check give the
same figure. Idle means: every service runs its desired tasks around the clock (730 hours) and nothing is
requested; usage-priced items are listed in ``excluded`` with their rates instead.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from catalog.resources import (
    CLUSTER_CAPACITY, DYNAMODB_TABLE, ECS_CLUSTER, ECR_REPOSITORY, ECS_SERVICE, EFS_ACCESS_POINT, EFS_FILE_SYSTEM, EIP, FLOW_LOG,
    HOSTED_ZONES, HTTP_API, KMS_KEY, LAMBDA_FUNCTION, LOG_SUBSCRIPTION, LOAD_BALANCERS, NAT_GATEWAY, PIPELINE,
    PIPELINE_RUN_SUFFIX, SECRET,
    TASK_DEFINITION, UNKNOWN, VPC_ENDPOINT, as_list, block, known, number, of_type, spot_share, task_cpu_units,
    task_memory_mib)
from catalog.task_counts import SCENARIOS, alarm_metrics, scenario_tasks

PRICING_FILE = Path(__file__).resolve().parent / "pricing.json"
DEFAULT_REGION = "us-east-1"
FARGATE_FREE_EPHEMERAL_GB = 20
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"


@dataclass(frozen=True)
class CostItem:
    name: str
    detail: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float


@dataclass
class CostReport:
    region: str
    priced_as: str
    items: list[CostItem]
    excluded: list[str]
    notes: list[str] = field(default_factory=list)
    source: str = ""
    scenario: str = "idle"     # idle | awake | full (catalog/task_counts.py)

    @property
    def monthly_usd(self) -> float:
        return round(sum(item.monthly_usd for item in self.items), 2)

    def as_json(self) -> dict[str, Any]:
        # camelCase, like every other key of the JSON plan and the stack outputs.
        return {"region": self.region, "pricedAs": self.priced_as, "monthlyUsd": self.monthly_usd,
                "items": [{"name": i.name, "detail": i.detail, "quantity": round(i.quantity, 4), "unit": i.unit,
                           "unitUsd": i.unit_usd, "monthlyUsd": round(i.monthly_usd, 2)} for i in self.items],
                "excluded": self.excluded, "notes": self.notes, "source": self.source, "scenario": self.scenario}


def load_prices(path: Path = PRICING_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def _g(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class RunningTasks:
    """One ECS service's idle footprint."""

    service: str
    tasks: float
    vcpu: float
    memory_gb: float
    architecture: str
    spot_fraction: float
    public_ip: bool
    registered: bool
    ephemeral_gb: float
    how: str = ""           # how the count was worked out (asleep when idle, autoscaling minimum, ...)


def _family(task_definition_arn: Any) -> str:
    text = str(task_definition_arn) if known(task_definition_arn) else ""
    return text.rsplit("/", 1)[-1].split(":")[0]


def running_tasks(resources: list[Any], scenario: str = "idle") -> list[RunningTasks]:
    tasks_definitions = [r for r in resources if r.type == TASK_DEFINITION]
    runs = [r for r in resources if r.type.endswith(PIPELINE_RUN_SUFFIX)]
    cluster_defaults = {str(r.props.get("clusterName", "")).rsplit("/", 1)[-1]:
                        as_list(r.props.get("defaultCapacityProviderStrategies"))
                        for r in resources if r.type == CLUSTER_CAPACITY}
    found = []
    for service in (r for r in resources if r.type == ECS_SERVICE):
        props = service.props
        family = _family(props.get("taskDefinition"))
        task = next((t for t in tasks_definitions if family and t.props.get("family") == family), None) or \
            next((t for t in tasks_definitions if t.parent_urn and t.parent_urn == service.parent_urn), None)
        if task is None:
            continue
        # A first deploy starts at 0 tasks; the pipeline waiter then scales to the replicas (scaleTo).
        name = props.get("name") if known(props.get("name")) else service.name
        scale_to = max([number(r.props.get("scaleTo")) or 0 for r in runs if r.props.get("service") == name] or [0])
        tasks = max(number(props.get("desiredCount")) or 0, scale_to)
        tasks, how = scenario_tasks(resources, props.get("cluster"), str(name), tasks, scenario)
        strategy = as_list(props.get("capacityProviderStrategies"))
        if not strategy and known(props.get("launchType")):
            strategy = [{"capacityProvider": props["launchType"], "weight": 1}]
        if not strategy:
            strategy = cluster_defaults.get(str(props.get("cluster", "")).rsplit("/", 1)[-1], [])
        weights = {s.get("capacityProvider"): number(s.get("weight")) or 0 for s in strategy}
        total = sum(weights.values())
        spot_fraction = (weights.get("FARGATE_SPOT", 0) / total) if total else (1.0 if spot_share(strategy)[1] else 0.0)
        architecture = block(task.props.get("runtimePlatform")).get("cpuArchitecture") or "X86_64"
        network = block(props.get("networkConfiguration"))
        storage = number(block(task.props.get("ephemeralStorage")).get("sizeInGib")) or FARGATE_FREE_EPHEMERAL_GB
        found.append(RunningTasks(
            service=str(name), tasks=tasks, vcpu=(task_cpu_units(task.props.get("cpu")) or 0) / 1024,
            memory_gb=(task_memory_mib(task.props.get("memory")) or 0) / 1024,
            architecture=architecture if architecture in ("X86_64", "ARM64") else "X86_64",
            spot_fraction=spot_fraction, public_ip=network.get("assignPublicIp") is True,
            registered=bool(as_list(props.get("serviceRegistries"))),
            ephemeral_gb=max(0.0, storage - FARGATE_FREE_EPHEMERAL_GB), how=how))
    return found


def region_note(note: str, *, spot: bool) -> str:
    """The region's price note; its sentences about Spot prices only when some task runs on Spot."""
    if spot:
        return note
    clauses = re.split(r"(?<=[.;])\s+(?=[A-Z])", note.strip())      # "N. Virginia." splits harmlessly
    kept = " ".join(clause for clause in clauses if "Spot" not in clause)
    return re.sub(r";$", ".", kept)


def estimate(resources: Iterable[Any], region: str = DEFAULT_REGION, prices: Mapping[str, Any] | None = None,
             scenario: str = "idle") -> CostReport:
    """``scenario``: idle (nobody calls the APIs), awake (each at its desired count around the clock) or full
    (each at its autoscaling maximum around the clock); catalog/task_counts.py."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}")
    resources = list(resources)
    prices = prices or load_prices()
    hours = prices["hoursPerMonth"]
    notes = []
    priced_as = region if region in prices["regions"] else DEFAULT_REGION
    if priced_as != region:
        notes.append(f"catalog/pricing.json has no prices for {region}; priced as {DEFAULT_REGION}.")
    table = prices["regions"][priced_as]
    items: list[CostItem] = []

    def add(name: str, detail: str, quantity: float, unit: str, unit_usd: float, per_hour: bool = False):
        monthly = quantity * unit_usd * (hours if per_hour else 1)
        items.append(CostItem(name, detail, quantity * (hours if per_hour else 1),
                              f"{unit}-hours" if per_hour else unit, unit_usd, round(monthly, 4)))

    # Fargate: vCPU-hours and GB-hours per architecture and capacity type.
    services = running_tasks(resources, scenario)
    usage: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"vcpu": 0.0, "gb": 0.0, "who": []})
    for s in services:
        for capacity, share in (("spot", s.spot_fraction), ("onDemand", 1 - s.spot_fraction)):
            tasks = s.tasks * share
            if tasks <= 0:
                continue
            if capacity == "spot" and table["fargate"][s.architecture]["spot"] is None:
                notes.append(f"{s.service}: catalog/pricing.json has no {s.architecture} Spot price; "
                             "priced as on-demand (an upper bound).")
                capacity = "onDemand"
            bucket = usage[(s.architecture, capacity)]
            bucket["vcpu"] += s.vcpu * tasks
            bucket["gb"] += s.memory_gb * tasks
            bucket["who"].append(f"{s.service} {_g(s.vcpu)} vCPU/{_g(s.memory_gb)} GB x {_g(round(tasks, 3))} task(s)"
                                 + (f" ({s.how})" if s.how else ""))
    for (architecture, capacity), bucket in sorted(usage.items()):
        label = f"{architecture} {'Spot' if capacity == 'spot' else 'on-demand'}"
        rate = table["fargate"][architecture][capacity]
        who = "; ".join(bucket["who"])
        add(f"Fargate vCPU ({label})", who, bucket["vcpu"], "vCPU", rate["vcpuHour"], per_hour=True)
        add(f"Fargate memory ({label})", who, bucket["gb"], "GB", rate["gbHour"], per_hour=True)
    extra_storage = sum(s.ephemeral_gb * s.tasks for s in services)
    if extra_storage:
        add("Fargate ephemeral storage over 20 GB", "", extra_storage, "GB", table["fargateEphemeralStorageGbHour"],
            per_hour=True)

    task_ips = sum(s.tasks for s in services if s.public_ip)
    eips = len(of_type(resources, EIP))
    if task_ips or eips:
        detail = ", ".join(part for part in (f"{_g(task_ips)} running task(s)" if task_ips else "",
                                             f"{eips} Elastic IP(s)" if eips else "") if part)
        add("Public IPv4 addresses", detail, task_ips + eips, "IP", table["publicIpv4Hour"], per_hour=True)

    nats = of_type(resources, NAT_GATEWAY)
    if nats:
        add("NAT gateways", ", ".join(r.name for r in nats) + " (plus $/GB processed)", len(nats), "gateway",
            table["natGatewayHour"], per_hour=True)
    endpoints = [r for r in of_type(resources, VPC_ENDPOINT) if r.props.get("vpcEndpointType") == "Interface"]
    endpoint_azs = sum(max(1, len(as_list(r.props.get("subnetIds")))) for r in endpoints)
    if endpoint_azs:
        add("VPC interface endpoints", f"{len(endpoints)} endpoint(s) in {endpoint_azs} subnet(s)", endpoint_azs,
            "endpoint-AZ", table["vpcInterfaceEndpointHour"], per_hour=True)
    flow_logs = of_type(resources, FLOW_LOG)
    if flow_logs:
        gigabytes = prices["assumptions"]["flowLogGbPerMonthIdle"]
        add("VPC flow logs (vpcFlowLogs)", f"{_g(gigabytes)} GB a month assumed while idle; billed per GB ingested, "
            f"so it grows with traffic", len(flow_logs) * gigabytes, "GB ingested",
            prices["assumptions"]["vendedLogsIngestionGb"])
    for balancer in of_type(resources, *LOAD_BALANCERS):
        kind = balancer.props.get("loadBalancerType") if known(balancer.props.get("loadBalancerType")) else "application"
        kind = kind if kind in table["loadBalancerHour"] else "application"
        add(f"Load balancer ({kind})", f"{balancer.name} (plus capacity units)", 1, "load balancer",
            table["loadBalancerHour"][kind], per_hour=True)

    insights = [c for c in of_type(resources, ECS_CLUSTER) if any(
        setting.get("name") == "containerInsights" and setting.get("value") in ("enabled", "enhanced")
        for setting in as_list(c.props.get("settings")) if isinstance(setting, Mapping))]
    if insights:
        # scaling.requestsPerTask divides by Container Insights' RunningTaskCount (components/scaling.py)
        notes.append("Container Insights is on for the cluster (scaling.requestsPerTask reads its running-task count): "
                     "CloudWatch bills its metrics as custom metrics and its performance logs per GB; not in this "
                     "estimate.")
    alarms = of_type(resources, METRIC_ALARM)
    if alarms:
        metrics = sum(alarm_metrics(a.props) for a in alarms)
        add("CloudWatch alarms", f"{len(alarms)} alarm(s) reading {metrics} metric(s) (sleep/wake, 5xx rate)", metrics,
            "alarm-metric-month", table["cloudWatchAlarmMetricMonth"])
    topics, rules = of_type(resources, SNS_TOPIC), of_type(resources, EVENT_RULE)
    if topics:
        add("SNS alert topic and EventBridge rules", "no charge while idle (the first 1,000 e-mails a month are free; "
            "AWS service events are free)", len(topics) + len(rules), "item", 0.0)

    zones = of_type(resources, *HOSTED_ZONES)
    if zones:
        add("Route 53 hosted zones", ", ".join(f"{z.name} ({z.type.split(':')[-1]})" for z in zones), len(zones),
            "zone-month", table["route53HostedZoneMonth"])
    instances = sum(s.tasks for s in services if s.registered)
    if instances:
        add("Cloud Map registered instances", "one per running task", instances, "instance-month",
            table["cloudMapInstanceMonth"])

    pipelines = of_type(resources, PIPELINE)
    v2 = [p for p in pipelines if p.props.get("pipelineType") == "V2"]
    v1 = [p for p in pipelines if p not in v2]
    if v2:
        add("CodePipeline V2 pipelines", "no charge while idle (billed per action-execution minute)", len(v2),
            "pipeline-month", table["codePipelineV2Month"])
    if v1:
        add("CodePipeline V1 pipelines", ", ".join(p.name for p in v1), len(v1), "pipeline-month",
            table["codePipelineV1Month"])

    secrets = of_type(resources, SECRET)
    if secrets:
        add("Secrets Manager secrets", ", ".join(s.name for s in secrets), len(secrets), "secret-month",
            table["secretsManagerSecretMonth"])
    keys = of_type(resources, KMS_KEY)
    if keys:
        add("KMS customer managed keys", ", ".join(k.name for k in keys), len(keys), "key-month", table["kmsKeyMonth"])

    tables = of_type(resources, DYNAMODB_TABLE)
    on_demand = [t for t in tables if t.props.get("billingMode") == "PAY_PER_REQUEST"]
    if on_demand:
        add("DynamoDB on-demand tables", "no charge while idle (billed per request and GB stored)", len(on_demand),
            "table", 0.0)
    for provisioned in (t for t in tables if t not in on_demand):
        rcu, wcu = number(provisioned.props.get("readCapacity")) or 0, number(provisioned.props.get("writeCapacity")) or 0
        rates = table["dynamodbProvisioned"]
        add("DynamoDB provisioned capacity", f"{provisioned.name}: {_g(rcu)} RCU, {_g(wcu)} WCU",
            1, "table", hours * (rcu * rates["rcuHour"] + wcu * rates["wcuHour"]))
    functions = of_type(resources, LAMBDA_FUNCTION)
    if functions:
        subscriptions = len(of_type(resources, LOG_SUBSCRIPTION))
        add("Lambda wakers (sleeping APIs)",
            f"no charge while idle: billed per request and GB-second when a 503 wakes an API"
            f"{f'; {subscriptions} log subscription filter(s), free' if subscriptions else ''}",
            len(functions), "function", 0.0)
    apis = of_type(resources, HTTP_API)
    if apis:
        add("API Gateway HTTP APIs and VPC links", "no charge while idle (billed per request)", len(apis), "API", 0.0)

    file_systems = of_type(resources, EFS_FILE_SYSTEM)
    if file_systems:
        points = len(of_type(resources, EFS_ACCESS_POINT))
        add("EFS file system (persistent volumes)",
            f"{len(file_systems)} file system(s), {points} volume(s): $0 while empty; "
            f"${_g(table['efsStandardGbMonth'])} per GB-month stored, ${_g(table['efsInfrequentAccessGbMonth'])} "
            "once unread for 30 days", 0, "GB-month", table["efsStandardGbMonth"])
    repositories = of_type(resources, ECR_REPOSITORY)
    if repositories:
        size = prices["assumptions"]["ecrStorageGbPerRepository"]
        add("ECR image storage", f"{len(repositories)} repositor{'y' if len(repositories) == 1 else 'ies'} x {_g(size)} GB "
            f"assumed (7-day lifecycle)",
            len(repositories) * size, "GB-month", table["ecrStorageGbMonth"])

    return CostReport(region=region, priced_as=priced_as, items=items, excluded=list(prices["excluded"]),
                      notes=notes + [region_note(table.get("note", ""), spot=any(s.spot_fraction > 0
                                                                                  for s in services))],
                      source=f"catalog/pricing.json, checked {prices.get('checkedOn', prices['recordedOn'])} against "
                             f"the AWS pricing pages: {check_summary(prices, priced_as)}",
                      scenario=scenario)


STATUSES = ("corroborated", "unverified", "estimate")


def price_paths(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every price of one region's table as a dotted path (``fargate.X86_64.onDemand.vcpuHour``)."""
    paths = []
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            paths += price_paths(value, f"{path}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            paths.append(path)
    return paths


def check_of(prices: Mapping[str, Any], region: str, path: str) -> Mapping[str, Any] | None:
    """The entry of ``checks`` that records where ``path`` of ``region`` was checked (region first, then "*")."""
    checks = [c for c in prices.get("checks", []) if path in c.get("prices", [])]
    return next((c for c in checks if region in c.get("regions", [])), None) or \
        next((c for c in checks if "*" in c.get("regions", [])), None)


def check_summary(prices: Mapping[str, Any], region: str) -> str:
    """"14 of 20 us-east-1 prices corroborated, 6 unverified": how far the region's figures were checked."""
    statuses = [str((check_of(prices, region, path) or {}).get("status", "unverified"))
                for path in price_paths(prices["regions"][region])]
    counts = {status: statuses.count(status) for status in STATUSES if statuses.count(status)}
    words = {"unverified": "unverified", "estimate": "estimated"}
    rest = ", ".join(f"{count} {words[status]}" for status, count in counts.items() if status != "corroborated")
    return (f"{counts.get('corroborated', 0)} of {len(statuses)} {region} prices corroborated"
            + (f", {rest}" if rest else "") + " (page, date and evidence per price under checks)")


__all__ = ["CostItem", "CostReport", "DEFAULT_REGION", "UNKNOWN", "estimate", "load_prices", "running_tasks"]
