"""Issue 15 guardrails: max-replicas judges scaling.max, the budget judges the idle figure (a sleeping API at 0
tasks), and the advisory monthly-full-scale-budget judges the cost at the autoscaling maximum."""
from __future__ import annotations

import pytest

from catalog.resources import Resource
from ops.plan import mockrun
from policies import rules, settings
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")


def run(tmp_path, **api):
    web = write_dockerfile_app(tmp_path, "web")
    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(web), "auth": False, **api}}}, stack="dev")
    return [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]


def findings(resources, **overrides):
    policies = settings.effective(overrides)
    return rules.evaluate(resources, policies)


def test_max_replicas_names_the_scaling_max_key(tmp_path):
    resources = run(tmp_path, scaling={"min": 1, "max": 9})
    found = [f for f in findings(resources) if f.policy == "max-replicas"]
    assert len(found) == 1 and found[0].level == "mandatory"
    assert "maxCapacity (autoscaling)" in found[0].message and "apis.web.scaling.max" in found[0].message


def test_max_replicas_names_the_replicas_key(tmp_path):
    found = [f for f in findings(run(tmp_path, replicas=6)) if f.policy == "max-replicas"]
    assert found and all("apis.web.replicas" in f.message for f in found)


def test_idle_budget_counts_a_sleeping_api_at_zero_tasks(tmp_path):
    resources = run(tmp_path, replicas=4, sleep={})
    tight = {"monthly-idle-budget": {"monthlyIdleBudgetUsd": 2}}
    assert not [f for f in findings(resources, **tight) if f.policy == "monthly-idle-budget"]
    awake = run(tmp_path / "b", replicas=4)
    assert [f for f in findings(awake, **tight) if f.policy == "monthly-idle-budget"]


def test_full_scale_budget_is_advisory_and_uses_the_maximum(tmp_path):
    resources = run(tmp_path, scaling={"min": 1, "max": 4})
    assert settings.spec("monthly-full-scale-budget").default_level == "advisory"
    found = [f for f in findings(resources, **{"monthly-full-scale-budget": {"monthlyFullScaleBudgetUsd": 5}})
             if f.policy == "monthly-full-scale-budget"]
    assert len(found) == 1 and found[0].level == "advisory" and "autoscaling maximum" in found[0].message
    assert not [f for f in findings(resources) if f.policy == "monthly-full-scale-budget"]     # default $150
