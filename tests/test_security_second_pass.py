"""Issue 23's low items on the policy rules and the recorded programs: CORS origins in prod (8), flow logs with an
existing VPC (9), and the prod policy file that the README describes (12)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.resources import UNKNOWN, Resource
from ops.plan import mockrun
from policies import rules, security_rules, settings
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")

ROOT = Path(__file__).resolve().parent.parent
PROD = settings.read_config_file(ROOT / "policies" / "config" / "prod.json")
PROD_POLICIES = settings.effective(PROD)
API = "aws:apigatewayv2/api:Api"


def _resources(result) -> list[Resource]:
    return [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]


def _findings(result, document, policy):
    return [f for f in rules.evaluate(_resources(result), settings.effective(document)) if f.policy == policy]


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Path:
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


# --- 8: cors-origins ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["*", "http://app.example.com", "http://localhost:3000", "https://localhost",
                                    "https://127.0.0.1:8443", "https://dev.localhost", "http://[::1]:8080"])
def test_prod_refuses_wildcard_plain_http_and_local_origins(origin):
    props = {"corsConfiguration": {"allowOrigins": ["https://app.example.com", origin]}}
    [message] = security_rules.cors_origins(API, props, PROD_POLICIES["cors-origins"].settings)
    assert origin in message or "any origin" in message
    assert "corsOrigins" in message
    assert security_rules.cors_origins(API, props, settings.effective({})["cors-origins"].settings) == []   # dev


def test_prod_accepts_named_https_origins():
    props = {"corsConfiguration": {"allowOrigins": ["https://app.example.com", "https://admin.example.com:8443"]}}
    assert security_rules.cors_origins(API, props, PROD_POLICIES["cors-origins"].settings) == []
    assert security_rules.cors_origins(API, {"corsConfiguration": {"allowOrigins": UNKNOWN}},
                                       PROD_POLICIES["cors-origins"].settings) == []


def test_a_localhost_origin_in_the_stack_config_fails_the_prod_plan(web):
    result = mockrun.run(program.main, stack="prod", config={
        "corsOrigins": ["https://app.example.com", "http://localhost:3000"],
        "apis": {"web": {"source": str(web), "auth": False}}})
    [finding] = _findings(result, PROD, "cors-origins")
    assert finding.level == settings.MANDATORY and "http://localhost:3000" in finding.message


# --- 9: vpc-flow-logs judges the VPC the stack uses, created or not -------------------------------------------------

EXISTING = {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a", "subnet-0b"]}


@pytest.mark.parametrize("flow_logs", [False, True])
def test_flow_logs_rule_sees_an_existing_vpc(web, flow_logs):
    result = mockrun.run(program.main, config={"existingVpc": EXISTING, "vpcFlowLogs": flow_logs,
                                                "apis": {"web": {"source": str(web), "auth": False}}})
    assert result.of_type("aws:ec2/vpc:Vpc") == []
    found = _findings(result, {"vpc-flow-logs": {"enforcementLevel": "mandatory", "required": True}}, "vpc-flow-logs")
    if flow_logs:
        assert found == []
        assert result.one("aws:ec2/flowLog:FlowLog").inputs["vpcId"] == "vpc-0abc"
    else:
        [finding] = found
        assert "vpc-0abc has no flow log" in finding.message and "vpcFlowLogs: true" in finding.message


@pytest.mark.parametrize("flow_logs", [False, True])
def test_flow_logs_rule_on_a_created_vpc(web, flow_logs):
    result = mockrun.run(program.main, config={"vpcFlowLogs": flow_logs,
                                                "apis": {"web": {"source": str(web), "auth": False}}})
    found = _findings(result, {"vpc-flow-logs": {"required": True}}, "vpc-flow-logs")
    assert bool(found) is not flow_logs


def test_a_flow_log_of_another_vpc_does_not_count():
    group = Resource("aws:ec2/securityGroup:SecurityGroup", "task", {"vpcId": "vpc-0abc"})
    other = Resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": "vpc-0def"})
    [(_, message)] = security_rules.vpc_flow_logs([group, other], {"required": True})
    assert message.startswith("vpc-0abc has no flow log")
    mine = Resource("aws:ec2/flowLog:FlowLog", "log", {"vpcId": "vpc-0abc"})
    assert security_rules.vpc_flow_logs([group, other, mine], {"required": True}) == []
    assert security_rules.vpc_flow_logs([group], {"required": False}) == []


# --- 13: the EventBridge role's trust names the stack --------------------------------------------------------------

def test_the_source_rule_is_named_after_stack_and_api_and_fits_eventbridge():
    from components.settings.names import physical_names, source_rule_name

    assert source_rule_name("dev", "posts") == "dev-posts-source" != source_rule_name("prod", "posts")
    long = source_rule_name("s" * 40, "a" * 38)
    assert len(long) == 64 and long.endswith("-source") and long == source_rule_name("s" * 40, "a" * 38)
    assert long != source_rule_name("s" * 40, "a" * 37 + "b")          # the digest keeps cut names apart
    assert ("event-rule", "dev-posts-source") in physical_names("dev", "posts")


def test_prod_and_dev_roles_trust_only_their_own_rule(web):
    arns = {}
    for stack in ("dev", "prod"):
        result = mockrun.run(program.main, stack=stack, config={"apis": {"web": {"source": str(web), "auth": False}}})
        [role] = [r for r in result.of_type("aws:iam/role:Role") if r.name.endswith("web-pipeline-start")]
        condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
        arns[stack] = condition["ArnLike"]["aws:SourceArn"]
        [rule] = result.of_type("aws:cloudwatch/eventRule:EventRule")
        assert arns[stack].endswith(f":rule/{rule.inputs['name']}") and "*" not in arns[stack]
    assert arns["dev"].endswith("rule/dev-web-source") and arns["prod"].endswith("rule/prod-web-source")


# --- 11: the committed sample secret fails wherever no-sample-secrets is mandatory -------------------------------

def _multi_config(**extra) -> dict:
    return {"apis": {"multi": {"source": str(ROOT / "apps" / "multi"), "composeFiles": ["docker-compose.yml"],
                               "entrypoint": "express", "auth": False}}, **extra}


def test_the_committed_sample_secret_is_tagged_and_fails_prod_but_warns_in_dev():
    from catalog.resources import SAMPLE_VALUE_TAG
    from components.secrets import SAMPLE_VALUE_TAG as PROGRAM_TAG

    assert PROGRAM_TAG == SAMPLE_VALUE_TAG
    result = mockrun.run(program.main, stack="prod", config=_multi_config())
    [secret] = result.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["tags"][SAMPLE_VALUE_TAG] == "apps/secrets/.secret-api-token"
    [prod] = _findings(result, PROD, "no-sample-secrets")
    assert prod.level == settings.MANDATORY and "apps/secrets/.secret-api-token" in prod.message
    [dev] = _findings(result, {}, "no-sample-secrets")
    assert dev.level == settings.ADVISORY


def test_a_secret_from_the_stack_config_is_not_the_sample():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-token-Ab12Cd"
    result = mockrun.run(program.main, stack="prod", config=_multi_config(secretArns={"multi": {"API_TOKEN": arn}}))
    assert result.of_type("aws:secretsmanager/secret:Secret") == []
    assert _findings(result, PROD, "no-sample-secrets") == []


# --- 12: the README's "Security defaults" and policies/config/prod.json agree -------------------------------------

# Each stack key of the README's prod table -> the policies that judge it.
JUDGED_BY = {"userPool": {"user-pool-sign-up", "deletion-protection"}, "deletionProtection": {"deletion-protection"},
             "forceDestroy": {"no-force-destroy"}, "secretRecoveryWindowDays": {"secret-recovery-window"},
             "approval": {"pipeline-approval"}, "corsOrigins": {"cors-origins"}, "taskEgress": {"task-egress"},
             "vpcFlowLogs": {"vpc-flow-logs"}, "securityLogRetentionDays": {"max-log-retention"},
             "secretArns": {"no-sample-secrets"}, "pointInTimeRecovery": {"point-in-time-recovery"}}


def _readme_prod_table() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Security defaults"):]
    section = section[:section.index("\n## ", 5)]
    assert "`policies/config/prod.json` makes each one, and\nevery other security rule, mandatory" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| setting")]
    assert len(rows) >= 9, rows
    return rows


def test_every_prod_setting_the_readme_lists_is_judged_by_a_mandatory_prod_policy():
    import re
    import yaml

    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    apis = stack["serverless-containers:apis"]
    for row in _readme_prod_table():
        keys = set(re.findall(r"`(\w+)", row.split("|")[1]))
        judged = set().union(*(JUDGED_BY.get(k, set()) for k in keys))
        assert judged, f"README prod row {row!r} names no setting a policy judges"
        for policy in judged:
            assert PROD_POLICIES[policy].level == settings.MANDATORY, (policy, row)
        for key in keys & set(JUDGED_BY):
            in_stack = f"serverless-containers:{key}" in stack or any(key in a for a in apis.values()) or \
                any(key in t for t in stack.get("serverless-containers:storage", {}).values()) or \
                key in stack.get("serverless-containers:userPool", {})
            assert in_stack, f"the README says the sample prod stack sets {key}; stacks/Pulumi.prod.yaml does not"


def test_prod_makes_every_security_rule_mandatory_as_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    assert "prod makes every security rule mandatory" in readme
    security = [p.name for p in settings.SECURITY_POLICIES + settings.CREDENTIAL_POLICIES] + [
        "no-secrets-in-environment", "ecr-scan-on-push", "s3-public-access-block", "api-auth",
        "deployment-circuit-breaker"]
    advisory = [name for name in security if PROD_POLICIES[name].level != settings.MANDATORY]
    assert advisory == [], f"advisory in prod.json, though the README calls them mandatory there: {advisory}"


def test_security_logs_have_their_own_cap_so_cloudwatch_16_can_pass_in_prod():
    def group(days, security):
        tags = {"serverless-containers:logs": "security"} if security else {}
        return rules.max_log_retention(rules.LOG_GROUP, {"retentionInDays": days, "tags": tags},
                                       PROD_POLICIES["max-log-retention"].settings)
    assert group(365, security=True) == []                       # CloudWatch.16's year
    assert "maxLogRetentionDays" in group(365, security=False)[0]  # application logs keep the cost cap of 30
    assert "maxSecurityLogRetentionDays" in group(400, security=True)[0]
    from components.settings.security import SECURITY_LOG_TAGS
    from catalog.resources import LOG_KIND_TAG, SECURITY_LOGS

    assert SECURITY_LOG_TAGS == {LOG_KIND_TAG: SECURITY_LOGS}


def test_the_prod_stack_keeps_access_and_flow_logs_a_year_and_app_logs_30_days():
    result = mockrun.run(program.main, stack="prod", config=_multi_config(
        securityLogRetentionDays=365, logRetentionDays=30, vpcFlowLogs=True,
        secretArns={"multi": {"API_TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:t-Ab12Cd"}}))
    days = {g.inputs["name"]: g.inputs["retentionInDays"] for g in result.of_type(rules.LOG_GROUP)}
    assert days["/serverless-containers/prod/vpc-flow-logs"] == 365
    assert days["/aws/apigateway/serverless-containers-prod-multi"] == 365
    assert days["/serverless-containers/prod/multi/express"] == 30
    assert _findings(result, PROD, "max-log-retention") == []


# --- 15: Cognito threat protection, offered per stack -------------------------------------------------------------

@pytest.mark.parametrize("mode, tier, add_on", [("off", None, None), ("audit", "PLUS", "AUDIT"),
                                               ("enforced", "PLUS", "ENFORCED")])
def test_threat_protection_sets_the_plus_plan_and_the_add_on(web, mode, tier, add_on):
    result = mockrun.run(program.main, config={"userPool": {"threatProtection": mode},
                                                "apis": {"web": {"source": str(web), "auth": True}}})
    pool = result.one("aws:cognito/userPool:UserPool").inputs
    assert pool.get("userPoolTier") == tier
    assert (pool.get("userPoolAddOns") or {}).get("advancedSecurityMode") == add_on
    found = _findings(result, {"user-pool-sign-up": {"minimumThreatProtection": "enforced"}}, "user-pool-sign-up")
    assert bool(found) is (mode != "enforced")
    assert all("userPool.threatProtection: enforced" in f.message for f in found)


def test_threat_protection_refuses_an_unknown_mode(tmp_path):
    from components.settings import load_settings
    from components.errors import ConfigError

    folder = write_dockerfile_app(tmp_path, "web")
    with pytest.raises(ConfigError) as error:
        load_settings({"userPool": {"threatProtection": "full"}, "apis": {"web": {"source": str(folder)}}},
                      tmp_path, "dev")
    assert error.value.key == "serverless-containers:userPool.threatProtection"
    assert "enforced" in error.value.fix
    off = load_settings({"userPool": {"threatProtection": False}, "apis": {"web": {"source": str(folder)}}},
                        tmp_path, "dev")                                     # YAML 1.1 reads a bare off as false
    assert off.security.user_pool.threat_protection == "off"
