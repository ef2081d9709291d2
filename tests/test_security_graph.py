"""Issue 14 (security hardening) on the resource graph: what the program registers for each security setting,
with the dev defaults and with every control on (the sample prod settings). docs/design.md, "Security"."""
from __future__ import annotations

import json

import pytest

from components.settings.stack import load_settings
from components.errors import ConfigError
from components.pipeline.access import bucket_policy
from ops.plan import mockrun
from tests.infra_helpers import botocore_errors, policy, write_compose_app, write_dockerfile_app

program = pytest.importorskip("components.program")

TABLES = {"posts": {"partitionKey": {"name": "id", "type": "N"}}}
HARDENED = {
    "userPool": {"selfSignUp": False, "mfa": "required", "deletionProtection": True},
    "taskEgress": "https", "vpcFlowLogs": True, "secretRecoveryWindowDays": 7, "forceDestroy": False,
    "storage": {"posts": {"partitionKey": {"name": "id", "type": "N"}, "deletionProtection": True}},
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    write_dockerfile_app(root, "web")
    write_compose_app(root, "multi")
    return root


def apis(apps, **extra):
    return {"multi": {"source": str(apps / "multi"), "entrypoint": "express", "auth": True,
                      "access": {"storage": {"posts": ["create", "read", "update", "delete"]}}, **extra}}


@pytest.fixture(scope="module")
def dev(apps):
    return mockrun.run(program.main, config={"storage": TABLES, "apis": apis(apps)})


@pytest.fixture(scope="module")
def hardened(apps):
    return mockrun.run(program.main, config={**HARDENED, "apis": apis(apps, approval=True)}, stack="prod")


def one_named(result, type_token, suffix):
    found = [r for r in result.of_type(type_token) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in result.of_type(type_token)]
    return found[0]


# --- 1. who may sign up --------------------------------------------------------------------------------------

def test_user_pool_is_admin_only_by_default_without_mfa(dev):
    pool = dev.one("aws:cognito/userPool:UserPool").inputs
    assert pool["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
    assert pool["mfaConfiguration"] == "OFF" and "softwareTokenMfaConfiguration" not in pool
    assert pool["deletionProtection"] == "INACTIVE"
    assert not any("selfSignUp" in message for message in dev.warnings)


def test_user_pool_with_required_totp_and_deletion_protection(hardened):
    pool = hardened.one("aws:cognito/userPool:UserPool").inputs
    assert pool["mfaConfiguration"] == "ON"
    assert pool["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert pool["deletionProtection"] == "ACTIVE"


def test_self_sign_up_with_write_access_warns(apps):
    result = mockrun.run(program.main, config={"storage": TABLES, "userPool": {"selfSignUp": True, "mfa": "optional"},
                                               "apis": apis(apps)})
    pool = result.one("aws:cognito/userPool:UserPool").inputs
    assert pool["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": False}
    assert pool["mfaConfiguration"] == "OPTIONAL"
    warning, = [m for m in result.warnings if "selfSignUp" in m]
    assert "multi" in warning and "posts" in warning and "userPool.selfSignUp: false" in warning


def test_self_sign_up_with_read_only_access_does_not_warn(apps):
    read_only = {"multi": {**apis(apps)["multi"], "access": {"storage": {"posts": ["read"]}}}}
    result = mockrun.run(program.main, config={"storage": TABLES, "userPool": {"selfSignUp": True}, "apis": read_only})
    assert not any("selfSignUp" in m for m in result.warnings)


@pytest.mark.parametrize("raw, key", [
    ({"userPool": {"selfSignUp": "yes"}}, "userPool.selfSignUp"),
    ({"userPool": {"mfa": "sms"}}, "userPool.mfa"),
    ({"userPool": {"signUp": True}}, "userPool"),
    ({"taskEgress": "none"}, "taskEgress"),
    ({"secretRecoveryWindowDays": 3}, "secretRecoveryWindowDays"),
    ({"vpcFlowLogs": "on"}, "vpcFlowLogs"),
    ({"forceDestroy": 1}, "forceDestroy"),
])
def test_bad_security_settings_are_config_errors(tmp_path, raw, key):
    (tmp_path / "web").mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings({**raw, "apis": {"web": {"source": "web"}}}, tmp_path, "dev")
    assert error.value.key == f"serverless-containers:{key}"
    assert error.value.file == "stacks/Pulumi.dev.yaml" and error.value.fix


def test_yaml_off_reads_as_mfa_off(tmp_path):
    (tmp_path / "web").mkdir()
    settings = load_settings({"userPool": {"mfa": False}, "apis": {"web": {"source": "web"}}}, tmp_path, "dev")
    assert settings.security.user_pool.mfa == "off"


def test_approval_must_be_a_bool(tmp_path):
    (tmp_path / "web").mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings({"apis": {"web": {"source": "web", "approval": "yes"}}}, tmp_path, "dev")
    assert error.value.key == "serverless-containers:apis.web.approval"


# --- 3. the artifact bucket ------------------------------------------------------------------------------------

def test_bucket_policy_denies_plain_http_and_foreign_writers(dev):
    document = policy(one_named(dev, "aws:s3/bucketPolicy:BucketPolicy", "multi-pipeline-artifacts"))
    statements = {s["Sid"]: s for s in document["Statement"]}
    bucket = dev.one("aws:s3/bucket:Bucket").outputs["arn"]
    roles = {r.name: r.outputs["arn"] for r in dev.of_type("aws:iam/role:Role")}
    deployer = f"arn:aws:iam::{mockrun.ACCOUNT_ID}:user/mock"
    tls = statements["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == ("Deny", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})
    assert tls["Resource"] == [bucket, f"{bucket}/*"]
    source = statements["OnlyTheDeployerWritesSources"]
    assert source["Resource"] == [f"{bucket}/source/*"]
    assert source["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [deployer]}}
    writers = statements["OnlyTheDeployerAndThePipelineWrite"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert writers == sorted([deployer, roles["multi-pipeline-pipeline"], roles["multi-pipeline-build"]])
    # the upload waits for the policy
    upload = dev.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert upload.custom and dev.one("aws:s3/bucketPolicy:BucketPolicy")


def _allowed(document: dict, principal: str, key: str, secure: bool = True) -> bool:
    """IAM's semantics for this policy's Deny statements (ArnNotEquals on aws:PrincipalArn, Bool on TLS)."""
    for statement in document["Statement"]:
        resources = statement["Resource"]
        if not any(key.startswith(r.split(":::", 1)[1].rstrip("*")) or r.endswith(":::" + key) for r in resources):
            continue
        condition = statement["Condition"]
        if "Bool" in condition and not secure:
            return False
        if "ArnNotEquals" in condition and principal not in condition["ArnNotEquals"]["aws:PrincipalArn"]:
            return False
    return True


def test_bucket_policy_semantics():
    document = bucket_policy("arn:aws:s3:::b", deployer_arn="arn:aws:iam::1:role/deployer",
                             pipeline_role_arn="arn:aws:iam::1:role/pipeline", build_role_arn="arn:aws:iam::1:role/build")
    assert _allowed(document, "arn:aws:iam::1:role/deployer", "b/source/api.zip")
    assert not _allowed(document, "arn:aws:iam::1:role/deployer", "b/source/api.zip", secure=False)
    assert not _allowed(document, "arn:aws:iam::1:role/pipeline", "b/source/api.zip")
    assert not _allowed(document, "arn:aws:iam::1:user/admin", "b/source/api.zip")
    assert _allowed(document, "arn:aws:iam::1:role/build", "b/serverless-container/imagedefini/x.zip")
    assert not _allowed(document, "arn:aws:iam::1:user/admin", "b/serverless-container/imagedefini/x.zip")
    assert botocore_errors("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": json.dumps(document)}) == ""


def test_roles_reach_only_their_prefixes(dev):
    statements = {s["Sid"]: s for s in policy(one_named(dev, "aws:iam/rolePolicy:RolePolicy", "multi-pipeline-pipeline"))
                  ["Statement"]}
    bucket = dev.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert statements["Artifacts"]["Resource"] == [f"{bucket}/serverless-container/*"]
    assert statements["ReadSource"] == {"Sid": "ReadSource", "Effect": "Allow",
                                        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                                        "Resource": [f"{bucket}/source/multi.zip"]}
    every_action = [a for s in statements.values() for a in s["Action"]]
    assert "s3:PutObjectAcl" not in every_action
    tag = statements["TagNewTaskDefinitions"]
    assert tag["Action"] == ["ecs:TagResource"]
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": ["RegisterTaskDefinition"]}}
    assert "ecs:TagResource" not in statements["DeployTaskDefinition"]["Action"]


def test_no_approval_stage_by_default(dev):
    stages = [s["name"] for s in dev.one("aws:codepipeline/pipeline:Pipeline").inputs["stages"]]
    assert stages == ["Source", "Build", "Deploy", "Promote"]


def test_approval_stage_before_deploy(hardened):
    stages = hardened.one("aws:codepipeline/pipeline:Pipeline").inputs["stages"]
    assert [s["name"] for s in stages] == ["Source", "Build", "Approve", "Deploy", "Promote"]
    approve, = stages[2]["actions"]
    assert (approve["category"], approve["owner"], approve["provider"], approve["version"]) == \
        ("Approval", "AWS", "Manual", "1")
    assert any("manual approval" in message for level, message in hardened.logs if level == "info")


# --- 5. network ----------------------------------------------------------------------------------------------

def test_default_security_group_denies_everything_and_gateway_endpoints(dev):
    default = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default.get("ingress", []) == [] and default.get("egress", []) == []
    vpc_id = dev.one("aws:ec2/vpc:Vpc").outputs["id"]
    assert default["vpcId"] == vpc_id
    table = dev.one("aws:ec2/routeTable:RouteTable").outputs["id"]
    endpoints = {e.inputs["serviceName"]: e.inputs for e in dev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert set(endpoints) == {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb"}
    for endpoint in endpoints.values():
        assert (endpoint["vpcEndpointType"], endpoint["routeTableIds"], endpoint["vpcId"]) == ("Gateway", [table], vpc_id)
    assert dev.of_type("aws:ec2/flowLog:FlowLog") == []


def test_task_egress(dev, hardened):
    open_rule = one_named(dev, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "-task-egress").inputs
    assert open_rule["ipProtocol"] == "-1" and open_rule["cidrIpv4"] == "0.0.0.0/0"
    https = one_named(hardened, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "-task-egress").inputs
    assert (https["ipProtocol"], https["fromPort"], https["toPort"]) == ("tcp", 443, 443)


def test_flow_logs_to_cloudwatch_with_a_scoped_role(hardened):
    flow = hardened.one("aws:ec2/flowLog:FlowLog").inputs
    group = one_named(hardened, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert group.inputs["name"] == "/serverless-containers/prod/vpc-flow-logs"
    assert (flow["vpcId"], flow["logDestination"], flow["trafficType"]) == \
        (hardened.one("aws:ec2/vpc:Vpc").outputs["id"], group.outputs["arn"], "ALL")
    role = one_named(hardened, "aws:iam/role:Role", "network-flow-logs")
    assert flow["iamRoleArn"] == role.outputs["arn"]
    condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert condition["ArnLike"] == {"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}
    grant = policy(one_named(hardened, "aws:iam/rolePolicy:RolePolicy", "network-flow-logs"))["Statement"][0]
    assert grant["Resource"] == [group.outputs["arn"], f"{group.outputs['arn']}:*"]


# --- 6. API edge ---------------------------------------------------------------------------------------------

def test_signed_in_api_has_no_unauthenticated_route(dev):
    routes = dev.of_type("aws:apigatewayv2/route:Route")
    assert routes and all(r.inputs["authorizationType"] == "JWT" for r in routes)
    keys = sorted(r.inputs["routeKey"] for r in routes)
    assert not any(k.startswith("OPTIONS") or k == "$default" for k in keys)
    assert {"GET /", "GET /{proxy+}", "POST /{proxy+}", "DELETE /{proxy+}"} <= set(keys)
    cors = dev.one("aws:apigatewayv2/api:Api").inputs["corsConfiguration"]
    assert "authorization" in cors["allowHeaders"]      # API Gateway answers the preflight from this


def test_stage_writes_json_access_logs(dev):
    stage = dev.one("aws:apigatewayv2/stage:Stage").inputs
    group = one_named(dev, "aws:cloudwatch/logGroup:LogGroup", "multi-api-access")
    assert group.inputs["name"] == "/aws/apigateway/serverless-containers-dev-multi"
    assert group.inputs["retentionInDays"] == 7
    settings = stage["accessLogSettings"]
    assert settings["destinationArn"] == group.outputs["arn"]
    line = json.loads(settings["format"])
    assert line["sourceIp"] == "$context.identity.sourceIp" and line["routeKey"] == "$context.routeKey"
    assert line["status"] == "$context.status" and line["sub"] == "$context.authorizer.claims.sub"


# --- 7. secrets and data -------------------------------------------------------------------------------------

def test_recovery_window_deletion_protection_and_destroy(dev, hardened):
    assert {s.inputs["recoveryWindowInDays"] for s in dev.of_type("aws:secretsmanager/secret:Secret")} == {0}
    assert {s.inputs["recoveryWindowInDays"] for s in hardened.of_type("aws:secretsmanager/secret:Secret")} == {7}
    assert dev.one("aws:dynamodb/table:Table").inputs["deletionProtectionEnabled"] is False
    assert hardened.one("aws:dynamodb/table:Table").inputs["deletionProtectionEnabled"] is True
    assert dev.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True
    assert hardened.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is False
    assert {r.inputs["forceDelete"] for r in dev.of_type("aws:ecr/repository:Repository")} == {True}
    assert {r.inputs["forceDelete"] for r in hardened.of_type("aws:ecr/repository:Repository")} == {False}


# --- 8. IAM trust ----------------------------------------------------------------------------------------------

def test_trust_policies_name_their_source(dev):
    def trust(suffix):
        return json.loads(one_named(dev, "aws:iam/role:Role", suffix).inputs["assumeRolePolicy"])["Statement"][0]

    build = trust("multi-pipeline-build")
    assert build["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": [
            "arn:aws:codebuild:us-east-1:123456789012:project/serverless-containers-dev-multi",
            "arn:aws:codebuild:us-east-1:123456789012:project/serverless-containers-dev-multi-promote"]}}
    # exactly the two projects that run with the role (the build and the promote step)
    assert sorted(p.outputs["arn"] for p in dev.of_type("aws:codebuild/project:Project")) == \
        build["Condition"]["ArnLike"]["aws:SourceArn"]
    start = trust("multi-pipeline-start")
    # the one rule of this stack and API, not a pattern another stack's rule matches (issue 23 item 13)
    rule = one_named(dev, "aws:cloudwatch/eventRule:EventRule", "multi-pipeline-source")
    assert rule.inputs["name"] == "dev-multi-source"
    assert start["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/"
                                                              "dev-multi-source"}
    target = one_named(dev, "aws:cloudwatch/eventTarget:EventTarget", "multi-pipeline-source")
    assert target.inputs["rule"] == rule.outputs["name"] == "dev-multi-source"
    # CodePipeline documents no aws:SourceArn for its service role: the account condition only, checked when sent
    assert trust("multi-pipeline-pipeline")["Condition"] == {
        "StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}
    for role in ("multi-execution", "multi-task"):
        assert trust(role)["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}


# --- 2. secrets in the managed source zip ---------------------------------------------------------------------------

def test_credential_files_stay_out_of_the_zip_with_a_warning(tmp_path):
    from components.pipeline.source_bundle import listing

    folder = write_dockerfile_app(tmp_path, "web")
    for name in (".env", "prod.env", ".npmrc", "keys/server.pem", ".env.example", "src/app.js", ".aws/credentials"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("TOKEN=value\n")
    kept, left_out = listing(folder)
    assert left_out == [".aws/credentials", ".env", ".npmrc", "keys/server.pem", "prod.env"]
    assert ".env.example" in kept and "src/app.js" in kept
    kept_with, left_out_with = listing(folder, include_sensitive=[".npmrc"])
    assert ".npmrc" in kept_with and ".npmrc" not in left_out_with

    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(folder), "auth": False}}})
    # the build copies only `server`: none of them is read, so one line names them all (issue 24)
    warning, = [m for m in result.warnings if "credential-looking file" in m]
    assert warning.startswith("API web: the source zip leaves out 5 credential-looking file(s) that no build reads: "
                              + ", ".join(left_out)) and "apis.web.includeSensitiveFiles" in warning
    opted = mockrun.run(program.main, config={"apis": {"web": {"source": str(folder), "auth": False,
                                                               "includeSensitiveFiles": [".npmrc"]}}})
    assert not any(".npmrc" in m for m in opted.warnings if "credential-looking" in m)


@pytest.mark.parametrize("spec, key", [
    ({"includeSensitiveFiles": ["missing.env"]}, "apis.web.includeSensitiveFiles[0]"),
    ({"includeSensitiveFiles": ["../x"]}, "apis.web.includeSensitiveFiles[0]"),
    ({"build": "manual", "includeSensitiveFiles": [".env"]}, "apis.web.includeSensitiveFiles"),
])
def test_include_sensitive_files_is_checked(tmp_path, spec, key):
    folder = write_dockerfile_app(tmp_path, "web")
    (folder / ".env").write_text("A=1\n")
    with pytest.raises(ConfigError) as error:
        load_settings({"apis": {"web": {"source": str(folder), **spec}}}, tmp_path, "dev")
    assert error.value.key == f"serverless-containers:{key}"


# --- 7. the sample secret --------------------------------------------------------------------------------------------

def _sample_findings(result):
    from policies import rules, settings
    from catalog.resources import Resource

    resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn) for r in result.resources]
    return [f for f in rules.evaluate(resources, settings.effective({})) if f.policy == "no-sample-secrets"]


def test_the_sample_secret_value_is_warned_about():
    result = mockrun.run_stack("dev")
    finding, = _sample_findings(result)
    assert finding.resource == "multi-secrets-API_TOKEN" and "apps/secrets/.secret-api-token" in finding.message
    assert finding.level == "advisory"
    assert not any("committed sample" in m for m in result.warnings)      # said once, by the policy


def test_an_own_secret_value_is_not_warned_about(apps):
    result = mockrun.run(program.main, config={"apis": {"multi": {"source": str(apps / "multi"),
                                                                  "entrypoint": "express"}}})
    assert _sample_findings(result) == []
    [secret] = result.of_type("aws:secretsmanager/secret:Secret")
    assert "serverless-containers:sample-value" not in secret.inputs["tags"]


# --- 2. build-time credentials through BuildKit secrets ---------------------------------------------------------------

def _app_with_a_build_secret(root):
    folder = root / "npm"
    folder.mkdir()
    (folder / "Dockerfile").write_text("# syntax=docker/dockerfile:1\nFROM scratch\n"
                                       "RUN --mount=type=secret,id=NPM_TOKEN true\nEXPOSE 8080\n")
    (root / ".secret-npm-token").write_text("npm_" + "x" * 36)
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: .\n      secrets: [NPM_TOKEN]\n    ports: [\"8080:8080\"]\n"
        "secrets:\n  NPM_TOKEN:\n    file: ../.secret-npm-token\n")
    return folder


def test_compose_build_secrets_reach_buildkit_never_a_build_arg(tmp_path):
    import yaml

    folder = _app_with_a_build_secret(tmp_path)
    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(folder), "auth": False}}})
    project = one_named(result, "aws:codebuild/project:Project", "web-pipeline-build").inputs
    spec = yaml.safe_load(project["source"]["buildspec"])
    assert spec["env"]["secrets-manager"] == {"BUILD_SECRET_NPM_TOKEN": "serverless-containers/dev/web/NPM_TOKEN"}
    build, = [c for c in spec["phases"]["build"]["commands"] if c.startswith("docker build")]
    assert "--secret id=NPM_TOKEN,env=BUILD_SECRET_NPM_TOKEN" in build and "--build-arg NPM" not in build
    assert "npm_" not in project["source"]["buildspec"]
    statements = {s["Sid"]: s for s in policy(one_named(result, "aws:iam/rolePolicy:RolePolicy",
                                                        "web-pipeline-build"))["Statement"]}
    secret_arn = result.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    assert statements["ReadBuildSecrets"] == {"Sid": "ReadBuildSecrets", "Effect": "Allow",
                                              "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret_arn]}
    # the task itself neither gets the build's secret as a variable nor may read it
    containers = json.loads(result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert containers[0]["secrets"] == []
    execution = policy(one_named(result, "aws:iam/rolePolicy:RolePolicy", "web-execution"))
    assert secret_arn not in json.dumps(execution)


def test_a_build_secret_must_be_defined(tmp_path):
    folder = _app_with_a_build_secret(tmp_path)
    (folder / "compose.yaml").write_text("services:\n  web:\n    build:\n      context: .\n      secrets: [NOPE]\n"
                                         "    ports: [\"8080:8080\"]\n")
    from components.compose import load_app

    with pytest.raises(ConfigError) as error:
        load_app(folder, [], None)
    assert error.value.key == "build.secrets[0]" and "NOPE" in error.value.problem


def test_ops_local_builds_with_the_secret_file(tmp_path):
    from components.compose import load_app
    from ops.local.runner import LocalOptions, build_step

    folder = _app_with_a_build_secret(tmp_path)
    step = build_step(load_app(folder, [], None), "web", LocalOptions(stack="dev", api="web"))
    at = step.argv.index("--secret")
    assert step.argv[at + 1] == f"id=NPM_TOKEN,src={tmp_path / '.secret-npm-token'}"
    assert not any("npm_" in word for word in step.argv)


def test_flow_logs_are_priced_in_the_plan(dev, hardened):
    from catalog import cost
    from catalog.resources import Resource

    def items(result):
        resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]
        return {i.name: i for i in cost.estimate(resources, "us-east-1").items}

    assert "VPC flow logs (vpcFlowLogs)" not in items(dev)
    flow = items(hardened)["VPC flow logs (vpcFlowLogs)"]
    assert (flow.quantity, flow.unit_usd, flow.monthly_usd) == (1, 0.5, 0.5) and "per GB" in flow.detail
