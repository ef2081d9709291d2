"""Realistic bugs that passed every test before (issue 24, item 10): each test here fails if the bug comes back."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ops.plan import mockrun

program = pytest.importorskip("components.program")


def run(config: dict):
    return mockrun.run(program.main, config={"fargateSpot": True, **config}, stack="dev")


def write_compose(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "compose.yaml").write_text(textwrap.dedent(text))
    return root


# ---------------------------------------------------------------- an access point's owner: uid AND gid

def test_an_access_point_takes_the_owner_gid_from_the_gid_not_the_uid(tmp_path):
    app = write_compose(tmp_path / "app", """\
        services:
          web:
            image: nginx:1.27
            user: "1000:1001"
            ports: ["8080:80"]
            volumes: [uploads:/srv/uploads]
        volumes:
          uploads: {}
        """)
    result = run({"apis": {"app": {"source": str(app), "auth": False}}})
    (point,) = [p.inputs for p in result.of_type("aws:efs/accessPoint:AccessPoint")]
    assert point["posixUser"] == {"uid": 1000, "gid": 1001}
    assert point["rootDirectory"]["creationInfo"] == {"ownerUid": 1000, "ownerGid": 1001, "permissions": "0755"}


# ---------------------------------------------------------------- count_plan caps compose's replicas at scaling.max

def test_count_plan_keeps_compose_replicas_within_scaling(tmp_path):
    from components.settings.scaling import ScalingSettings, count_plan

    assert count_plan(None, ScalingSettings(min=1, max=3), None, None, compose_replicas=10).replicas == 3
    assert count_plan(None, ScalingSettings(min=2, max=3), None, None, compose_replicas=1).replicas == 2
    assert count_plan(4, ScalingSettings(min=1, max=3), None, None, compose_replicas=1).replicas == 3


def test_compose_deploy_replicas_above_scaling_max_deploy_at_the_max(tmp_path):
    app = write_compose(tmp_path / "app", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8080:80"]
            deploy:
              replicas: 10
        """)
    result = run({"apis": {"app": {"source": str(app), "auth": False, "scaling": {"min": 1, "max": 3}}}})
    (service,) = [s.inputs for s in result.of_type("aws:ecs/service:Service")]
    (target,) = [t.inputs for t in result.of_type("aws:appautoscaling/target:Target")]
    assert service["desiredCount"] == 3
    assert (target["minCapacity"], target["maxCapacity"]) == (1, 3)


# ---------------------------------------------------------------- disableDefaultEndpoint: false needs no domain

def test_disable_default_endpoint_false_without_a_domain_is_accepted(tmp_path):
    app = write_compose(tmp_path / "app", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8080:80"]
        """)
    result = run({"apis": {"app": {"source": str(app), "auth": False, "disableDefaultEndpoint": False}}})
    (api,) = [a.inputs for a in result.of_type("aws:apigatewayv2/api:Api")]
    assert api.get("disableExecuteApiEndpoint") in (None, False)
    from components.errors import ConfigError
    with pytest.raises(ConfigError, match="without a custom domain the API would be unreachable"):
        run({"apis": {"app": {"source": str(app), "auth": False, "disableDefaultEndpoint": True}}})


# ---------------------------------------------------------------- https-only egress means 443 exactly

@pytest.mark.parametrize("low, high", [(443, 8443), (1, 443), (80, 443), (442, 444)])
def test_the_https_only_egress_rule_refuses_a_range_that_merely_includes_443(low, high):
    from catalog.resources import SECURITY_GROUP_EGRESS, Resource
    from policies.security_rules import task_egress

    rule = Resource(SECURITY_GROUP_EGRESS, "tasks-egress",
                    {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": low, "toPort": high})
    (finding,) = task_egress([rule], {"allowedEgress": "https"})
    assert finding[0] is rule and f"ports {low}-{high}" in finding[1] and "HTTPS (TCP 443) only" in finding[1]
    exact = Resource(SECURITY_GROUP_EGRESS, "tasks-egress",
                     {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443})
    assert task_egress([exact], {"allowedEgress": "https"}) == []


# ---------------------------------------------------------------- names that point at a secret are no secret

POINTERS = {
    "DB_PASSWORD_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db/password-AbCdEf",
    "API_TOKEN_PATH": "/run/secrets/api-token",
    "SECRET_NAME": "prod/db/password",
    "SIGNING_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


def task_definition(environment: dict[str, str]):
    from catalog.resources import Resource

    containers = [{"name": "web", "environment": [{"name": k, "value": v} for k, v in environment.items()]}]
    return Resource("aws:ecs/taskDefinition:TaskDefinition", "app-task",
                    {"containerDefinitions": json.dumps(containers)})


def test_arn_path_and_name_variables_are_not_judged_secrets():
    from policies.rules import no_secrets_in_environment
    from policies.settings import SECRET_WORDS

    settings = {"secretWords": SECRET_WORDS, "allowedNames": []}
    definition = task_definition(POINTERS)
    assert no_secrets_in_environment(definition.type, definition.props, settings) == []
    # ... while the secrets they point at would be: the rule still bites.
    leaked = task_definition({"DB_PASSWORD": "hunter2-hunter2", "API_TOKEN": "t0ken-value-123"})
    found = no_secrets_in_environment(leaked.type, leaked.props, settings)
    assert len(found) == 2 and all("its name looks like a secret's" in f for f in found)
