"""Fargate task sizes and the idle budget at their edges (the gaps mutation testing found, issue 17).

The size table is pinned to AWS's published table, written out here as AWS prints it, so a row that goes
missing from components/compose/model.py (and silently makes tasks bigger and dearer) fails a test:

  "Task CPU and memory", Amazon ECS Developer Guide,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
  and the same table in "Troubleshoot Amazon ECS task definition invalid CPU or memory errors",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html (both read 2026-11-29):

  CPU value          Memory value
  256 (.25 vCPU)     512 MiB, 1 GB, 2 GB
  512 (.5 vCPU)      1 GB, 2 GB, 3 GB, 4 GB
  1024 (1 vCPU)      2 GB, 3 GB, 4 GB, 5 GB, 6 GB, 7 GB, 8 GB
  2048 (2 vCPU)      Between 4 GB and 16 GB in 1-GB increments
  4096 (4 vCPU)      Between 8 GB and 30 GB in 1-GB increments
  8192 (8 vCPU)      Between 16 GB and 60 GB in 4-GB increments (Linux platform 1.4.0 or later)
  16384 (16 vCPU)    Between 32 GB and 120 GB in 8-GB increments (Linux platform 1.4.0 or later)
"""
from __future__ import annotations

import pytest

from catalog import cost
from components.compose.model import FARGATE_SIZES, fargate_task_size
from policies import rules, settings
from tests.compose_helpers import load

GB = 1024
PUBLISHED_TABLE = {
    256: [512, 1 * GB, 2 * GB],
    512: [1 * GB, 2 * GB, 3 * GB, 4 * GB],
    1024: [2 * GB, 3 * GB, 4 * GB, 5 * GB, 6 * GB, 7 * GB, 8 * GB],
    2048: [gb * GB for gb in range(4, 16 + 1, 1)],
    4096: [gb * GB for gb in range(8, 30 + 1, 1)],
    8192: [gb * GB for gb in range(16, 60 + 1, 4)],
    16384: [gb * GB for gb in range(32, 120 + 1, 8)],
}
EVERY_SIZE = [(cpu, memory) for cpu, memories in PUBLISHED_TABLE.items() for memory in memories]


def test_the_size_table_is_aws_published_table():
    assert {cpu: list(memories) for cpu, memories in FARGATE_SIZES.items()} == PUBLISHED_TABLE
    assert list(FARGATE_SIZES) == sorted(FARGATE_SIZES), "the search takes the first fit, so CPU must ascend"
    assert all(list(m) == sorted(m) for m in FARGATE_SIZES.values()), "memory must ascend within a CPU row"
    assert (512, 4096) in EVERY_SIZE and len(EVERY_SIZE) == 3 + 4 + 7 + 13 + 23 + 12 + 12


@pytest.mark.parametrize("cpu,memory", EVERY_SIZE)
def test_a_request_of_exactly_a_valid_size_gets_that_size(cpu, memory):
    assert fargate_task_size(cpu, memory) == (cpu, memory)


@pytest.mark.parametrize("asked,expected", [
    ((None, None), (256, 512)),             # nothing asked: the smallest task
    ((1, 1), (256, 512)),
    ((257, 512), (512, 1024)),              # one unit over a CPU row: the next row's smallest memory
    ((256, 513), (256, 1024)),              # one MiB over: the next memory step of the same row
    ((256, 2049), (512, 3072)),             # over the row's largest memory: the next row that holds it
    ((512, 4097), (1024, 5120)),
    ((4096, 30721), (8192, 32768)),
    ((16384, 122880), (16384, 122880)),     # the largest task there is
])
def test_requests_round_up_to_the_next_valid_size(asked, expected):
    assert fargate_task_size(*asked) == expected


def test_nothing_larger_than_the_largest_task():
    with pytest.raises(ValueError, match="16384 CPU units"):
        fargate_task_size(16384, 122881)
    with pytest.raises(ValueError):
        fargate_task_size(16385, 512)


@pytest.mark.parametrize("limits,expected", [
    ('{cpus: "0.25", memory: 512M}', (256, 512)),
    ('{cpus: "0.5", memory: 4G}', (512, 4096)),
    ('{cpus: "1", memory: 2G}', (1024, 2048)),
    ('{cpus: "2", memory: 16G}', (2048, 16384)),
])
def test_compose_limits_of_exactly_a_valid_size_give_that_task_size(tmp_path, limits, expected):
    app = load(tmp_path, f"""
        services:
          web:
            image: nginx:1.27
            ports: ["80:80"]
            deploy:
              resources:
                limits: {limits}
        """)
    assert (app.cpu, app.memory) == expected


def test_two_containers_adding_up_to_exactly_a_valid_size_get_that_size(tmp_path):
    app = load(tmp_path, """
        services:
          web: {image: nginx:1.27, ports: ["80:80"], cpus: 0.25, mem_limit: 1g}
          side: {image: busybox, cpus: 0.25, mem_limit: 1g}
        """)
    assert (app.cpu, app.memory) == (512, 2048)


# ------------------------------------------------------------------------------------- the budget at its boundary


def _service_and_task() -> list[rules.Resource]:
    service = rules.Resource(type=rules.ECS_SERVICE, name="web-service", urn="urn:pulumi:dev::p::svc::web-service",
                             parent_urn="urn:web", props={
                                 "name": "web", "cluster": "c", "desiredCount": 2.0,
                                 "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/fam-web:1",
                                 "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1.0}],
                                 "networkConfiguration": {"assignPublicIp": True}})
    task = rules.Resource(type=rules.TASK_DEFINITION, name="web-task", urn="urn:pulumi:dev::p::td::web-task",
                          parent_urn="urn:web", props={"family": "fam-web", "cpu": "512", "memory": "1024",
                                                       "runtimePlatform": {"cpuArchitecture": "X86_64"}})
    return [service, task]


def _budget(resources, budget: float):
    defaults = next(p for p in settings.POLICIES if p.name == "monthly-idle-budget").defaults()
    return rules.STACK_RULES["monthly-idle-budget"](resources, {**defaults, "monthlyIdleBudgetUsd": budget})


def test_an_idle_cost_exactly_equal_to_the_budget_passes_and_a_cent_less_fails():
    resources = _service_and_task()
    idle = cost.estimate(resources).monthly_usd
    assert idle > 0
    assert _budget(resources, idle) == []
    assert _budget(resources, idle + 0.01) == []
    [(_, message)] = _budget(resources, round(idle - 0.01, 2))
    assert f"${idle:.2f} a month" in message and f"over the budget of ${idle - 0.01:.2f}" in message


def test_the_budget_failure_names_the_stack_settings_file():
    resources = _service_and_task()
    [(_, message)] = _budget(resources, 1)
    assert "monthlyIdleBudgetUsd in policies/config/dev.json" in message
    anonymous = [rules.Resource(type=r.type, name=r.name, props=r.props, urn="", parent_urn="") for r in resources]
    [(_, message)] = _budget(anonymous, 1)
    assert "policies/config/<stack>.json" in message
