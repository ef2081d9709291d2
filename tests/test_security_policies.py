"""Issue 14's policy rules (policies/security_rules.py, policies/secret_values.py), called directly, and on the
programs the mock runtime records: dev defaults pass, every control off fails prod's file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.resources import UNKNOWN, Resource
from ops.plan import mockrun
from policies import credential_rules, rules, security_rules, settings
from policies.secret_values import judge, secret_kinds, url_password
from tests.infra_helpers import write_compose_app

program = pytest.importorskip("components.program")

ROOT = Path(__file__).resolve().parent.parent
PROD = settings.read_config_file(ROOT / "policies" / "config" / "prod.json")
CODEBUILD = "aws:codebuild/project:Project"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
DEFAULTS = {name: p.settings for name, p in settings.effective({}).items()}
PROD_SETTINGS = {name: p.settings for name, p in settings.effective(PROD).items()}


# --- the shared detection rule --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [
    (GITHUB_TOKEN, "GitHub Token"),
    ("AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
    ("postgres://app:s3cr3tPassw0rd@db.example.com:5432/app", "URL with a password"),
    ("redis://:hunter22@cache:6379/0", "URL with a password"),
    ("xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx", "Slack Token"),
])
def test_live_credentials_are_recognised_by_value(value, kind):
    assert kind in secret_kinds(value)
    assert "live credential" in judge("ANYTHING", value, settings.SECRET_WORDS)


@pytest.mark.parametrize("value", ["production", "https://api.example.com/v1", "http://localhost:5000", "8080",
                                   "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d", "redis://cache:6379",
                                   "postgres://app:${DB_PASSWORD}@db/app", "amqp://user:@mq"])
def test_ordinary_values_are_not_secrets(value):
    assert secret_kinds(value) == ()
    assert judge("SOME_URL", value, settings.SECRET_WORDS) == ""


def test_names_still_count_and_pointers_do_not():
    assert judge("DB_PASSWORD", "hunter2", settings.SECRET_WORDS) == "its name looks like a secret's"
    assert judge("DB_PASSWORD_FILE", "/run/secrets/db", settings.SECRET_WORDS) == ""
    assert not url_password("https://user@example.com/path")


def _task(environment: dict[str, str]) -> dict:
    return {"containerDefinitions": json.dumps([{"name": "web", "environment": [
        {"name": k, "value": v} for k, v in environment.items()]}])}


TASK = "aws:ecs/taskDefinition:TaskDefinition"


def test_environment_values_are_judged():
    task = _task({"DATABASE_URL": "postgres://app:s3cr3tPassw0rd@db/app", "NODE_ENV": "production",
                  "GH": GITHUB_TOKEN, "DB_PASS": "hunter2x"})
    # the shape of a live credential: no-credentials-in-values, mandatory in every stack
    found = credential_rules.no_credentials_in_values(TASK, task, DEFAULTS["no-credentials-in-values"])
    assert len(found) == 2
    assert "DATABASE_URL" in found[0] and "URL with a password" in found[0] and "`secrets:`" in found[0]
    assert "GH " in found[1] and "GitHub Token" in found[1]
    # a secret-sounding name: no-secrets-in-environment (advisory in dev), and never the same variable twice
    [by_name] = rules.no_secrets_in_environment(TASK, task, DEFAULTS["no-secrets-in-environment"])
    assert "DB_PASS " in by_name and "name looks like a secret's" in by_name
    allowed = {"allowedNames": ["DATABASE_URL", "GH"]}
    assert credential_rules.no_credentials_in_values(TASK, _task({
        "DATABASE_URL": "postgres://app:s3cr3tPassw0rd@db/app", "GH": GITHUB_TOKEN}), allowed) == []


def test_build_args_are_judged():
    spec = ("version: 0.2\nphases:\n  build:\n    commands:\n"
            f"    - docker build --build-arg NODE_ENV=production --build-arg NPM_TOKEN={GITHUB_TOKEN} "
            f"--build-arg DB_PASSWORD=hunter2x -t x .\n")
    props = {"source": {"buildspec": spec}}
    [by_value] = credential_rules.no_credentials_in_values(CODEBUILD, props, DEFAULTS["no-credentials-in-values"])
    assert "build arg NPM_TOKEN" in by_value and "GitHub Token" in by_value and "BuildKit secrets" in by_value
    [by_name] = security_rules.no_secrets_in_build_args(CODEBUILD, props, DEFAULTS["no-secrets-in-build-args"])
    assert "DB_PASSWORD" in by_name and "BuildKit secrets" in by_name
    assert security_rules.no_secrets_in_build_args(CODEBUILD, {"source": {"buildspec": UNKNOWN}},
                                                   DEFAULTS["no-secrets-in-build-args"]) == []
    assert credential_rules.no_credentials_in_values(CODEBUILD, {"source": {"buildspec": UNKNOWN}},
                                                     DEFAULTS["no-credentials-in-values"]) == []


# --- resource rules, one by one ---------------------------------------------------------------------------------

POOL = "aws:cognito/userPool:UserPool"


def test_user_pool_rule():
    open_pool = {"adminCreateUserConfig": {"allowAdminCreateUserOnly": False}, "mfaConfiguration": "OFF"}
    assert "self sign-up" in security_rules.user_pool_sign_up(POOL, open_pool, DEFAULTS["user-pool-sign-up"])[0]
    assert security_rules.user_pool_sign_up(POOL, open_pool, {"allowSelfSignUp": True, "minimumMfa": "off"}) == []
    closed = {"adminCreateUserConfig": {"allowAdminCreateUserOnly": True}, "mfaConfiguration": "OFF"}
    found = security_rules.user_pool_sign_up(POOL, closed, PROD_SETTINGS["user-pool-sign-up"])
    assert len(found) == 1 and "userPool.mfa: optional" in found[0]
    assert security_rules.user_pool_sign_up(POOL, {**closed, "mfaConfiguration": "ON"},
                                            PROD_SETTINGS["user-pool-sign-up"]) == []
    assert security_rules.user_pool_sign_up(POOL, {"adminCreateUserConfig": UNKNOWN}, DEFAULTS["user-pool-sign-up"]) == []


@pytest.mark.parametrize("rule, resource_type, props, prod_only", [
    ("deletion-protection", "aws:dynamodb/table:Table", {"deletionProtectionEnabled": False}, True),
    ("deletion-protection", POOL, {"deletionProtection": "INACTIVE"}, True),
    ("no-force-destroy", "aws:s3/bucket:Bucket", {"forceDestroy": True}, True),
    ("no-force-destroy", "aws:ecr/repository:Repository", {"forceDelete": True}, True),
    ("secret-recovery-window", "aws:secretsmanager/secret:Secret", {"recoveryWindowInDays": 0}, True),
    ("cors-origins", "aws:apigatewayv2/api:Api", {"corsConfiguration": {"allowOrigins": ["*"]}}, True),
    ("pipeline-approval", "aws:codepipeline/pipeline:Pipeline", {"stages": [
        {"name": "Source", "actions": [{"category": "Source"}]}, {"name": "Deploy", "actions": [{"category": "Deploy"}]}]},
     True),
    ("api-access-logs", "aws:apigatewayv2/stage:Stage", {"name": "$default"}, False),
    ("ecr-tag-immutability", "aws:ecr/repository:Repository", {"imageTagMutability": "MUTABLE"}, False),
    ("ecr-tag-immutability", "aws:ecr/repository:Repository", {
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filter": "*", "filterType": "WILDCARD"}]}, False),
])
def test_each_resource_rule_fires(rule, resource_type, props, prod_only):
    check = rules.RESOURCE_RULES[rule]
    assert check(resource_type, props, PROD_SETTINGS[rule]), f"{rule} should fail with prod's settings"
    assert bool(check(resource_type, props, DEFAULTS[rule])) is not prod_only


def test_approval_before_deploy_passes():
    stages = [{"name": "Build", "actions": [{"category": "Build"}]}, {"name": "Approve", "actions": [
        {"category": "Approval"}]}, {"name": "Deploy", "actions": [{"category": "Deploy"}]}]
    assert security_rules.pipeline_approval("aws:codepipeline/pipeline:Pipeline", {"stages": stages},
                                            PROD_SETTINGS["pipeline-approval"]) == []


# --- stack rules ---------------------------------------------------------------------------------------------------

def test_tls_default_sg_flow_logs_and_egress_stack_rules():
    bucket = Resource("aws:s3/bucket:Bucket", "b", {"bucket": "b-1", "id": "b-1"})
    vpc = Resource("aws:ec2/vpc:Vpc", "v", {"id": "vpc-1"})
    egress = Resource("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "e",
                      {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "-1"})
    stack = [bucket, vpc, egress]
    assert [m for _, m in security_rules.s3_tls_only(stack, {})][0].startswith("accepts requests over plain HTTP")
    assert "default security group" in security_rules.default_security_group(stack, {})[0][1]
    assert security_rules.vpc_flow_logs(stack, {"required": False}) == []
    assert "vpcFlowLogs: true" in security_rules.vpc_flow_logs(stack, {"required": True})[0][1]
    assert security_rules.task_egress(stack, {"allowedEgress": "all"}) == []
    assert "taskEgress: https" in security_rules.task_egress(stack, {"allowedEgress": "https"})[0][1]
    deny = {"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    fixed = stack + [Resource("aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "b-1", "policy": json.dumps(deny)}),
                     Resource("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", {"vpcId": "vpc-1"})]
    assert security_rules.s3_tls_only(fixed, {}) == [] and security_rules.default_security_group(fixed, {}) == []
    https = Resource(egress.type, "e", {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443})
    assert security_rules.task_egress([https], {"allowedEgress": "https"}) == []


# --- on the recorded programs --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    write_compose_app(root, "multi")
    return root


def _resources(result):
    return [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]


def _security_findings(result, document):
    names = {s.name for s in settings.SECURITY_POLICIES + settings.CREDENTIAL_POLICIES} | {"no-secrets-in-environment"}
    return [f for f in rules.evaluate(_resources(result), settings.effective(document)) if f.policy in names]


def test_dev_defaults_pass_and_fail_prod(apps):
    config = {"apis": {"multi": {"source": str(apps / "multi"), "entrypoint": "express"}}}
    result = mockrun.run(program.main, config=config)
    assert _security_findings(result, {}) == []
    failed = {f.policy for f in _security_findings(result, PROD) if f.level == settings.MANDATORY}
    assert failed == {"deletion-protection", "no-force-destroy", "secret-recovery-window", "pipeline-approval",
                      "cors-origins", "user-pool-sign-up", "task-egress", "vpc-flow-logs"}   # mandatory since issue 23


def test_a_password_in_a_url_fails_dev_and_prod(tmp_path):
    """A literal shaped like a credential blocks the deploy in every stack, not only in prod (issue 23)."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\n")
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    build: .\n    ports: [\"8080:8080\"]\n"
        "    environment: {DATABASE_URL: \"postgres://app:${DB_PASS:-s3cr3tPassw0rd}@db/app\"}\n")
    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(folder), "auth": False}}})
    for document in ({}, PROD):
        [finding] = [f for f in _security_findings(result, document) if "DATABASE_URL" in f.message]
        assert finding.policy == "no-credentials-in-values" and finding.level == settings.MANDATORY
        assert "URL with a password" in finding.message and "`secrets:`" in finding.message
