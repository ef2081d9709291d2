"""Issue 23, item 5: in prod every DynamoDB table has point-in-time recovery (policy `point-in-time-recovery`,
mandatory in policies/config/prod.json), and the sample prod stack passes it."""
from __future__ import annotations

from pathlib import Path

import pytest

from catalog.resources import DYNAMODB_TABLE, UNKNOWN, Resource
from ops.plan import mockrun
from policies import rules, security_rules, settings
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")

ROOT = Path(__file__).resolve().parent.parent
PROD = settings.read_config_file(ROOT / "policies" / "config" / "prod.json")
RULE = "point-in-time-recovery"


@pytest.mark.parametrize("props, required, violated", [
    ({"pointInTimeRecovery": {"enabled": False}}, True, True),
    ({}, True, True),                                    # the provider's default: off
    ({"pointInTimeRecovery": {"enabled": True}}, True, False),
    ({"pointInTimeRecovery": UNKNOWN}, True, False),      # unknown during a preview: never a violation
    ({"pointInTimeRecovery": {"enabled": UNKNOWN}}, True, False),
    ({"pointInTimeRecovery": {"enabled": False}}, False, False),   # dev: not required
])
def test_the_rule_judges_the_table_setting(props, required, violated):
    found = security_rules.point_in_time_recovery(DYNAMODB_TABLE, props, {"required": required})
    assert bool(found) is violated
    if violated:
        assert "storage.<table>.pointInTimeRecovery: true" in found[0]
    assert security_rules.point_in_time_recovery("aws:s3/bucket:Bucket", props, {"required": True}) == []


def test_prod_makes_it_mandatory_and_dev_leaves_it_off():
    assert settings.effective(PROD)[RULE].level == settings.MANDATORY
    assert settings.effective(PROD)[RULE].settings["required"] is True
    assert settings.effective({})[RULE].settings["required"] is False


def _findings(result, document):
    resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]
    return [f for f in rules.evaluate(resources, settings.effective(document)) if f.policy == RULE]


def test_a_prod_table_without_recovery_fails_mandatory(tmp_path):
    app = write_dockerfile_app(tmp_path, "web")
    result = mockrun.run(program.main, stack="prod", config={
        "storage": {"notes": {"partitionKey": {"name": "id", "type": "S"}, "deletionProtection": True},
                    "kept": {"partitionKey": {"name": "id", "type": "S"}, "pointInTimeRecovery": True}},
        "apis": {"web": {"source": str(app), "auth": False}}})
    failed = _findings(result, PROD)
    assert [(f.level, f.resource) for f in failed] == [(settings.MANDATORY, "storage-notes")]
    assert _findings(result, {}) == []


def test_the_sample_prod_stack_passes():
    result = mockrun.run_stack("prod")
    assert result.of_type(DYNAMODB_TABLE)
    assert _findings(result, PROD) == []
