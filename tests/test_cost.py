"""The idle monthly cost estimate (catalog/cost.py, prices in catalog/pricing.json).

The sample dev stack is priced by hand below, from its settings; the other tests build small resource
lists (the shapes Pulumi's wire and ops/plan/mockrun.py give) to reach the items the samples do not have.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from catalog import cost
from ops.plan import mockrun
from catalog.resources import Resource

ROOT = Path(__file__).resolve().parent.parent


def res(type_token: str, name: str, parent: str = "", /, **props) -> Resource:
    return Resource(type=type_token, name=name, props=props, urn=f"urn:{name}", parent_urn=parent)


def items_by_name(report: cost.CostReport) -> dict[str, cost.CostItem]:
    return {item.name: item for item in report.items}


@pytest.fixture(scope="module")
def dev_run():
    return mockrun.run_stack("dev")


def test_dev_stack_matches_the_hand_computation(dev_run):
    # The dev stack's settings the arithmetic rests on:
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    assert config["serverless-containers:fargateSpot"] is True
    assert config["serverless-containers:cpuArchitecture"] == "X86_64"
    assert config["aws:region"] == "us-east-1"
    assert sorted(config["serverless-containers:apis"]) == ["multi", "posts"]          # 2 services
    for task in dev_run.of_type("aws:ecs/taskDefinition:TaskDefinition"):              # the default task size
        assert (task.inputs["cpu"], task.inputs["memory"]) == ("256", "512")          # 0.25 vCPU, 0.5 GB
    for service in dev_run.of_type("aws:ecs/service:Service"):                          # no deploy.replicas: 1 task
        assert service.inputs["desiredCount"] == 1
        assert service.inputs["networkConfiguration"]["assignPublicIp"] is True       # public IP, no NAT
    assert len(dev_run.of_type("aws:secretsmanager/secret:Secret")) == 1               # multi's API_TOKEN
    assert len(dev_run.of_type("aws:ecr/repository:Repository")) == 3                  # posts; express, python

    resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn) for r in dev_run.resources]
    # Awake: both APIs at their desired count around the clock (both sleep when idle: see the next test).
    report = cost.estimate(resources, "us-east-1", scenario="awake")
    items = items_by_name(report)

    # Fargate Spot, X86_64: 2 services x 1 task x 0.25 vCPU x 730 h = 365 vCPU-hours at $0.01264791
    vcpu = 2 * 1 * 0.25 * 730 * 0.01264791                   # = 4.6164872
    # 2 services x 1 task x 0.5 GB x 730 h = 730 GB-hours at $0.00138883
    memory = 2 * 1 * 0.5 * 730 * 0.00138883                  # = 1.0138459
    public_ips = 2 * 730 * 0.005                             # one public IPv4 per running task = 7.30
    hosted_zone = 1 * 0.50                                   # the private DNS namespace's Route 53 zone
    cloud_map = 2 * 0.10                                     # one registered instance per task
    pipelines = 2 * 0.00                                     # CodePipeline V2: nothing while idle
    secrets = 1 * 0.40                                       # Secrets Manager, per secret-month
    ecr = 3 * 0.5 * 0.10                                     # 3 repositories x 0.5 GB assumed x $0.10
    alarms = 2 * 2 * 0.10                                    # per API a sleep and a wake alarm, 1 metric each
    total = vcpu + memory + public_ips + hosted_zone + cloud_map + pipelines + secrets + ecr + alarms

    assert items["Fargate vCPU (X86_64 Spot)"].quantity == pytest.approx(365)
    assert items["Fargate vCPU (X86_64 Spot)"].monthly_usd == pytest.approx(vcpu, abs=1e-4)
    assert items["Fargate memory (X86_64 Spot)"].quantity == pytest.approx(730)
    assert items["Fargate memory (X86_64 Spot)"].monthly_usd == pytest.approx(memory, abs=1e-4)
    assert items["Public IPv4 addresses"].monthly_usd == pytest.approx(public_ips)
    assert items["Route 53 hosted zones"].monthly_usd == pytest.approx(hosted_zone)
    assert items["Cloud Map registered instances"].monthly_usd == pytest.approx(cloud_map)
    assert items["CodePipeline V2 pipelines"].monthly_usd == 0 and items["CodePipeline V2 pipelines"].quantity == 2
    assert items["Secrets Manager secrets"].monthly_usd == pytest.approx(secrets)
    assert items["ECR image storage"].monthly_usd == pytest.approx(ecr)
    assert items["DynamoDB on-demand tables"].monthly_usd == 0
    assert items["API Gateway HTTP APIs and VPC links"].monthly_usd == 0
    assert not any(name.startswith(("NAT", "Load balancer", "KMS", "CodePipeline V1")) for name in items)
    assert items["CloudWatch alarms"].monthly_usd == pytest.approx(alarms)
    assert report.monthly_usd == pytest.approx(round(total, 2)) == pytest.approx(14.58)


def test_dev_stack_sleeps_for_at_most_a_dollar_a_month_per_api(dev_run):
    """Issue 15's target: both dev APIs sleep when idle, so idle pays no task, no IPv4, no Cloud Map instance."""
    resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn) for r in dev_run.resources]
    items = items_by_name(cost.estimate(resources, "us-east-1"))
    assert not any(name.startswith(("Fargate", "Public IPv4", "Cloud Map")) for name in items)
    zone_share = 0.50 / 2
    per_api = {"posts": 2 * 0.10 + 1 * 0.5 * 0.10 + zone_share,              # alarms, 1 repository
               "multi": 2 * 0.10 + 2 * 0.5 * 0.10 + 0.40 + zone_share}       # alarms, 2 repositories, 1 secret
    assert per_api == pytest.approx({"posts": 0.50, "multi": 0.95})
    assert max(per_api.values()) <= 1.00
    assert sum(i.monthly_usd for i in items.values()) == pytest.approx(sum(per_api.values())) == pytest.approx(1.45)


def test_scenarios_count_sleep_awake_hours_minimum_and_maximum():
    target = lambda low, high: res("aws:appautoscaling/target:Target", "web-target", "urn:web",
                                   serviceNamespace="ecs", resourceId="service/c/web", minCapacity=low,
                                   maxCapacity=high)
    action = lambda name, schedule, low: res("aws:appautoscaling/scheduledAction:ScheduledAction", name, "urn:web",
                                             resourceId="service/c/web", schedule=schedule,
                                             scalableTargetAction={"minCapacity": low, "maxCapacity": 3})
    base = [service(), task()]
    tasks = lambda resources, scenario: cost.running_tasks(resources, scenario)[0].tasks
    assert tasks(base + [target(1.0, 6.0)], "idle") == 1 and tasks(base + [target(1.0, 6.0)], "full") == 6
    assert tasks(base + [target(1.0, 6.0)], "awake") == 2                         # the desired count
    assert tasks(base + [target(0.0, 3.0)], "idle") == 0                          # asleep
    office = [action("up", "cron(0 8 ? * MON-FRI *)", 2), action("down", "cron(0 20 ? * MON-FRI *)", 0)]
    assert tasks(base + [target(0.0, 3.0)] + office, "idle") == pytest.approx(2 * 60 / 168)   # 60 h a week
    assert tasks(base + [target(0.0, 3.0)], "full") == 3
    with pytest.raises(ValueError):
        cost.estimate(base, scenario="peak")


def service(name="web", **props) -> Resource:
    base = {"name": name, "cluster": "c", "desiredCount": 2.0,
            "taskDefinition": f"arn:aws:ecs:us-east-1:1:task-definition/fam-{name}:3",
            "networkConfiguration": {"assignPublicIp": False},
            "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1.0}]}
    base.update(props)
    return res("aws:ecs/service:Service", f"{name}-service", f"urn:{name}", **base)


def task(name="web", arch="ARM64", cpu="1024", memory="2048", **props) -> Resource:
    return res("aws:ecs/taskDefinition:TaskDefinition", f"{name}-task", f"urn:{name}", family=f"fam-{name}", cpu=cpu,
               memory=memory, runtimePlatform={"cpuArchitecture": arch}, **props)


def test_arm_on_demand_tasks_without_public_ips():
    items = items_by_name(cost.estimate([service(), task()], "us-east-1"))
    assert items["Fargate vCPU (ARM64 on-demand)"].monthly_usd == pytest.approx(2 * 1 * 730 * 0.03238, abs=1e-4)
    assert items["Fargate memory (ARM64 on-demand)"].monthly_usd == pytest.approx(2 * 2 * 730 * 0.00356, abs=1e-4)
    assert "Public IPv4 addresses" not in items and "Cloud Map registered instances" not in items


def test_a_mixed_strategy_splits_tasks_between_spot_and_on_demand():
    mixed = service(desiredCount=4.0, capacityProviderStrategies=[{"capacityProvider": "FARGATE", "weight": 1.0},
                                                                  {"capacityProvider": "FARGATE_SPOT", "weight": 3.0}])
    items = items_by_name(cost.estimate([mixed, task(arch="X86_64", cpu="512", memory="1024")], "us-east-1"))
    assert items["Fargate vCPU (X86_64 Spot)"].quantity == pytest.approx(3 * 0.5 * 730)
    assert items["Fargate vCPU (X86_64 on-demand)"].quantity == pytest.approx(1 * 0.5 * 730)


def test_the_cluster_default_strategy_and_a_first_deploy_count():
    # desiredCount 0 until the first build; the pipeline waiter then scales to scaleTo.
    first = service(desiredCount=0.0, capacityProviderStrategies=[])
    run = res("pulumi-python:dynamic/serverless-containers:PipelineRun", "web-run", service="web", scaleTo=3.0)
    default = res("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "cap", clusterName="c",
                  defaultCapacityProviderStrategies=[{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}])
    items = items_by_name(cost.estimate([first, run, default, task(arch="X86_64")], "us-east-1"))
    assert items["Fargate vCPU (X86_64 Spot)"].quantity == pytest.approx(3 * 1 * 730)


def test_spot_on_arm_is_priced_on_demand_with_a_note():
    spot = service(capacityProviderStrategies=[{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}])
    report = cost.estimate([spot, task(arch="ARM64")], "us-east-1")
    assert "Fargate vCPU (ARM64 on-demand)" in items_by_name(report)
    assert any("no ARM64 Spot price" in note for note in report.notes)


def test_the_idle_charges_of_the_other_resource_types():
    resources = [
        res("aws:ec2/natGateway:NatGateway", "nat-a"), res("aws:ec2/eip:Eip", "nat-a-ip"),
        res("aws:lb/loadBalancer:LoadBalancer", "alb", loadBalancerType="application"),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr-api", vpcEndpointType="Interface", subnetIds=["a", "b"]),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway"),
        res("aws:codepipeline/pipeline:Pipeline", "old", pipelineType="V1"),
        res("aws:codepipeline/pipeline:Pipeline", "unset"),                       # AWS's default is V1
        res("aws:kms/key:Key", "key"),
        res("aws:dynamodb/table:Table", "t", billingMode="PROVISIONED", readCapacity=5.0, writeCapacity=5.0),
        res("aws:ecs/taskDefinition:TaskDefinition", "big-task", "urn:big", family="fam-big", cpu="256", memory="512",
            ephemeralStorage={"sizeInGib": 50.0}),
        res("aws:ecs/service:Service", "big", "urn:big", name="big", desiredCount=1.0,
            taskDefinition="arn:aws:ecs:us-east-1:1:task-definition/fam-big:1", launchType="FARGATE"),
    ]
    items = items_by_name(cost.estimate(resources, "us-east-1"))
    assert items["NAT gateways"].monthly_usd == pytest.approx(730 * 0.045)
    assert items["Public IPv4 addresses"].monthly_usd == pytest.approx(730 * 0.005)       # the NAT's Elastic IP
    assert items["Load balancer (application)"].monthly_usd == pytest.approx(730 * 0.0225)
    assert items["VPC interface endpoints"].monthly_usd == pytest.approx(2 * 730 * 0.01)
    assert items["CodePipeline V1 pipelines"].monthly_usd == pytest.approx(2 * 1.00)
    assert items["KMS customer managed keys"].monthly_usd == pytest.approx(1.00)
    assert items["DynamoDB provisioned capacity"].monthly_usd == pytest.approx(730 * (5 * 0.00013 + 5 * 0.00065))
    assert items["Fargate ephemeral storage over 20 GB"].monthly_usd == pytest.approx(30 * 730 * 0.000111, abs=1e-4)


def test_an_unpriced_region_is_priced_as_us_east_1_and_says_so():
    report = cost.estimate([service(), task()], "ap-south-2")
    assert report.priced_as == "us-east-1" and report.region == "ap-south-2"
    assert any("no prices for ap-south-2" in note for note in report.notes)
    frankfurt = cost.estimate([service(), task()], "eu-central-1")
    assert frankfurt.monthly_usd > cost.estimate([service(), task()], "us-east-1").monthly_usd


def test_the_price_file_names_its_sources_and_dates():
    prices = json.loads((ROOT / "catalog" / "pricing.json").read_text())
    assert prices["hoursPerMonth"] == 730 and prices["currency"] == "USD"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prices["recordedOn"]) and prices["pricesAsOf"]
    assert "NOT fetched" in prices["about"] and "checks" in prices["about"]
    assert "memory" not in (ROOT / "catalog" / "pricing.json").read_text().lower()   # checked against the pages
    assert all(url.startswith("https://aws.amazon.com/") for url in prices["sources"].values())
    reference = prices["regions"]["us-east-1"]
    for region, table in prices["regions"].items():
        assert set(table) == set(reference), region
        for arch in ("X86_64", "ARM64"):
            on_demand = table["fargate"][arch]["onDemand"]
            assert on_demand["vcpuHour"] > 0 and on_demand["gbHour"] > 0
            spot = table["fargate"][arch]["spot"]
            assert spot is None or spot["vcpuHour"] < on_demand["vcpuHour"]
    assert prices["excluded"]


def test_every_price_of_every_region_cites_its_page_date_and_evidence():
    """Issue 17: each figure says where it was checked, when, and how far that check got."""
    prices = json.loads((ROOT / "catalog" / "pricing.json").read_text())
    missing = []
    for region, table in prices["regions"].items():
        for path in cost.price_paths(table):
            check = cost.check_of(prices, region, path)
            if check is None:
                missing.append(f"{region} {path}")
                continue
            assert check["page"].startswith("https://aws.amazon.com/"), check
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", check["checked"]), check
            assert check["status"] in cost.STATUSES and len(check["evidence"]) > 30, check
    assert not missing, ("add an entry to checks in catalog/pricing.json (page, checked date, status, evidence) "
                         "for: " + ", ".join(missing))
    assert all(set(c) == {"prices", "regions", "page", "checked", "status", "evidence"} for c in prices["checks"])


def test_the_cost_report_says_how_far_its_prices_were_checked():
    report = cost.estimate([service(), task()], "us-east-1")
    assert "checked 2026-11-29" in report.source
    assert re.search(r"\d+ of \d+ us-east-1 prices corroborated, \d+ unverified", report.source), report.source
    assert "estimated" not in report.source                                          # us-east-1 has no estimates
    frankfurt = cost.estimate([service(), task()], "eu-central-1")
    assert re.search(r"\d+ estimated", frankfurt.source), frankfurt.source
