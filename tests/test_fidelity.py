"""Cloud fidelity (issue 8): every payload the program generates is a request AWS's own models accept.

The program runs under mockrun for the sample stacks and their variants; every resource becomes the API
request(s) the Terraform AWS provider sends (tests/fidelity/aws_requests.py), validated by botocore's
ParamValidator plus enums, maximums, patterns and the documents inside strings (tests/fidelity/validate.py).
Deliberately broken payloads show the checks can fail.
"""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.errors import ConfigError
from ops.plan import mockrun
from tests.fidelity import aws_requests, cases, moto_smoke, validate
from tests.fidelity.checks import findings, new_findings, open_bug, operations
from tests.fidelity.sample_programs import pipeline_program

CASE_IDS = [c.id for c in cases.STACK_CASES]
CASES = {c.id: c for c in cases.STACK_CASES}

# Requests every full stack must produce (so a run that silently made nothing cannot pass).
CORE_OPERATIONS = {
    ("ec2", "CreateSecurityGroup"), ("ec2", "AuthorizeSecurityGroupIngress"), ("ecs", "CreateCluster"),
    ("ecs", "RegisterTaskDefinition"), ("ecs", "CreateService"), ("iam", "CreateRole"), ("iam", "PutRolePolicy"),
    ("logs", "CreateLogGroup"), ("servicediscovery", "CreatePrivateDnsNamespace"),
    ("servicediscovery", "CreateService"), ("apigatewayv2", "CreateApi"), ("apigatewayv2", "CreateVpcLink"),
    ("apigatewayv2", "CreateIntegration"), ("apigatewayv2", "CreateRoute"), ("apigatewayv2", "CreateStage"),
    ("dynamodb", "CreateTable"),
}
PIPELINE_OPERATIONS = {("ecr", "CreateRepository"), ("ecr", "PutLifecyclePolicy"), ("codebuild", "CreateProject"),
                       ("codepipeline", "CreatePipeline"), ("s3", "CreateBucket"),
                       ("s3", "PutBucketLifecycleConfiguration")}


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_stack_payloads_are_valid(case_id):
    case = CASES[case_id]
    result = cases.run_case(case)
    found, translation = findings(result)
    found = new_findings(found)
    assert not found, f"{case.id}: {len(found)} problem(s):\n" + "\n".join(found)
    made = operations(translation)
    assert CORE_OPERATIONS <= made, sorted(CORE_OPERATIONS - made)
    if case_id != "manual":
        assert PIPELINE_OPERATIONS <= made, sorted(PIPELINE_OPERATIONS - made)
    if case_id != "existing-vpc":
        assert {("ec2", "CreateVpc"), ("ec2", "CreateSubnet")} <= made
    if case_id == "no-auth":
        assert not {op for op in made if op[0] == "cognito-idp"}
        assert ("apigatewayv2", "CreateAuthorizer") not in made
    elif case_id != "manual":
        assert {("cognito-idp", "CreateUserPool"), ("cognito-idp", "CreateUserPoolClient"),
                ("apigatewayv2", "CreateAuthorizer")} <= made


def test_security_group_rule_descriptions_use_allowed_characters():
    """EC2 accepts only a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$* in rule descriptions: an apostrophe fails
    AuthorizeSecurityGroupIngress/Egress with InvalidParameterValue (components/network.py)."""
    found, _ = findings(cases.run_case(CASES["dev"]))
    bad = open_bug("security-group-rule-apostrophe", found)
    assert not bad, "\n".join(bad)


def test_longest_api_name_fits_iam_role_names():
    """API names may have 40 characters (components/settings/checks.py MAX_NAME_LENGTH). Pulumi auto-names a role
    '<logical name>-<7 random>' and refuses one longer than IAM's 64: '<api>-pipeline-pipeline' plus 8 is 66."""
    apis = cases.stack_apis("dev")
    apis = {"a" * 38: apis["posts"]}
    result = cases.run_config("dev", {f"{cases.NS}:apis": apis})
    found, _ = findings(result)
    bad = open_bug("iam-role-autoname-too-long", found)
    assert not bad, "\n".join(bad)


def test_arm64_with_fargate_spot_is_accepted():
    """FARGATE_SPOT runs ARM64 Linux tasks on platform 1.4.0 (ECS API reference, CapacityProviderStrategyItem)."""
    result = cases.run_config("dev", {f"{cases.NS}:cpuArchitecture": "ARM64", f"{cases.NS}:fargateSpot": True})
    services = result.of_type("aws:ecs/service:Service")
    assert services and all(s.inputs["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
                            for s in services)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_stack_smoke_deploys_to_moto(case_id):
    case = CASES[case_id]
    result = cases.run_case(case)
    translation = aws_requests.translate(result.resources)
    config = {**mockrun.load_stack_config(case.stack)[0], **case.overrides}
    given = [arn for api in (config.get(f"{cases.NS}:secretArns") or {}).values() for arn in api.values()]
    report = moto_smoke.smoke_deploy(result, translation, existing_arns=given,
                                     existing_vpc=case.overrides.get(f"{cases.NS}:existingVpc"))
    assert not report.failures, "\n".join(report.failures)
    created = {where.split(": ")[-1] for where in report.sent}
    assert {"ecs.RegisterTaskDefinition", "ecs.CreateService", "apigatewayv2.CreateRoute",
            "servicediscovery.CreateService", "iam.PutRolePolicy"} <= created
    # Every id moto handed out replaced its mock twin, so nothing later pointed at a mock id.
    assert report.real_ids
    assert set(report.skipped) <= {"secretsmanager.DeleteSecret"} | {
        f"{s}.{o}" for s, o in operations(translation) if s not in moto_smoke.MOTO_SERVICES}


def _task_definitions(translation):
    return [r for r in translation.requests if r.operation == "RegisterTaskDefinition"]


def test_variants_change_what_they_should():
    """The variants are not the same graph: each sets what it names."""
    def platforms(case_id):
        _, translation = findings(cases.run_case(CASES[case_id]))
        return {r.params["runtimePlatform"]["cpuArchitecture"] for r in _task_definitions(translation)}, \
            {s["capacityProvider"] for r in translation.requests if r.operation == "CreateService"
             and r.service == "ecs" for s in r.params.get("capacityProviderStrategy") or []}, translation
    arm, arm_providers, _ = platforms("arm64")
    assert arm == {"ARM64"} and "FARGATE_SPOT" not in arm_providers
    spot, spot_providers, _ = platforms("spot-prod")
    assert spot == {"X86_64"} and spot_providers == {"FARGATE_SPOT"}
    _, _, ha = platforms("ha")
    assert len([r for r in ha.requests if r.operation == "CreateSubnet"]) == 3
    _, _, graphql = platforms("graphql")
    assert len([r for r in graphql.requests if r.operation == "CreateApi"]) == 3
    _, _, github = platforms("github-connection")
    providers = {a["actionTypeId"]["provider"] for r in github.requests if r.operation == "CreatePipeline"
                 for s in r.params["pipeline"]["stages"] for a in s["actions"]}
    assert "CodeStarSourceConnection" in providers


def test_every_resource_type_is_validated_or_listed():
    """A new resource type in the program fails here until it is mapped or listed with a reason."""
    types = set()
    for case in cases.STACK_CASES:
        types |= {r.type for r in cases.run_case(case).resources if r.custom}
    unaccounted = sorted(t for t in types if t not in aws_requests.MAPPERS and not aws_requests.not_checkable_reason(t))
    assert not unaccounted, f"resource types neither mapped nor listed as not checkable: {unaccounted}"
    for prefix, reason in aws_requests.NOT_CHECKABLE.items():
        assert len(reason) > 30, f"{prefix}: say why it cannot be checked"
    # And the translation itself reports an unmapped type, rather than skipping it.
    fake = mockrun.RecordedResource(urn="urn", type="aws:newservice/thing:Thing", name="thing", parent_urn="",
                                    custom=True, id="x", inputs={}, outputs={})
    assert "no mapping" in aws_requests.translate([fake]).problems[0]


def test_an_unmapped_input_is_reported():
    result = cases.run_case(CASES["dev"])
    table = next(r for r in result.resources if r.type == "aws:dynamodb/table:Table")
    changed = replace(table, inputs={**table.inputs, "restoreSourceName": "other-table"})
    problems = aws_requests.translate([changed]).problems
    assert problems and "restoreSourceName" in problems[0]


# The requests issue 8 names; across the cases each must be produced (and so validated).
ISSUE_OPERATIONS = {
    ("ecs", "RegisterTaskDefinition"), ("ecs", "CreateService"), ("ecr", "PutLifecyclePolicy"),
    ("iam", "CreateRole"), ("iam", "PutRolePolicy"), ("codebuild", "CreateProject"),
    ("codepipeline", "CreatePipeline"), ("apigatewayv2", "CreateApi"), ("apigatewayv2", "CreateVpcLink"),
    ("apigatewayv2", "CreateIntegration"), ("apigatewayv2", "CreateRoute"), ("apigatewayv2", "CreateAuthorizer"),
    ("servicediscovery", "CreatePrivateDnsNamespace"), ("servicediscovery", "CreateService"),
    ("cognito-idp", "CreateUserPool"), ("cognito-idp", "CreateUserPoolClient"), ("dynamodb", "CreateTable"),
    ("secretsmanager", "CreateSecret"), ("s3", "PutBucketLifecycleConfiguration"), ("ec2", "CreateVpc"),
    ("ec2", "CreateSubnet"), ("ec2", "CreateSecurityGroup"), ("ec2", "AuthorizeSecurityGroupIngress"),
}


def test_every_request_the_issue_names_is_validated():
    made = set()
    for case in cases.STACK_CASES:
        made |= operations(aws_requests.translate(cases.run_case(case).resources))
    assert ISSUE_OPERATIONS <= made, sorted(ISSUE_OPERATIONS - made)


def test_mapper_operations_exist_in_botocore():
    """Every operation a mapper can emit is an operation of botocore's model (checked on the sample runs)."""
    seen = set()
    for case in cases.STACK_CASES:
        _, translation = findings(cases.run_case(case))
        seen |= operations(translation)
    for service, operation in seen:
        assert operation in validate.operation_names(service), (service, operation)


# --- the framework on our own programs (independent of components/) --------------------------------------

@pytest.mark.parametrize("github", [False, True], ids=["s3-source", "connection-source"])
def test_sample_pipeline_program_is_valid(github):
    result = mockrun.run(lambda: pipeline_program(github_connection=github))
    found, translation = findings(result)
    # The sample deploys to a cluster it does not create; everything else must be clean.
    assert [f for f in found if "which the program does not create" not in f] == []
    assert ("codestar-connections", "CreateConnection") in operations(translation) or not github


def test_sample_program_with_made_up_action_is_caught():
    result = mockrun.run(lambda: pipeline_program(extra_build_action="codebuild:StartBuilds"))
    found, _ = findings(result)
    assert any("codebuild:StartBuilds" in f and "not an operation" in f for f in found), found


# --- deliberately broken payloads ---------------------------------------------------------------------------

def _smoke(result):
    return moto_smoke.smoke_deploy(result, aws_requests.translate(result.resources)).failures

def _mutate(result, type_token: str, change, name: str | None = None):
    """A copy of the run with one resource's inputs changed by ``change(inputs) -> inputs``."""
    resources = []
    done = False
    for resource in result.resources:
        if not done and resource.type == type_token and (name is None or resource.name == name):
            resource = replace(resource, inputs=change(json.loads(json.dumps(resource.inputs))))
            done = True
        resources.append(resource)
    assert done, f"no {type_token} to break"
    return replace(result, resources=resources)


def _containers(change):
    def apply(inputs):
        definitions = json.loads(inputs["containerDefinitions"])
        change(definitions)
        return {**inputs, "containerDefinitions": json.dumps(definitions)}
    return apply


def _policy(change):
    def apply(inputs):
        document = json.loads(inputs["policy"])
        change(document)
        return {**inputs, "policy": json.dumps(document)}
    return apply


def _lifecycle(change):
    return _policy(change)


def _buildspec(old: str, new: str):
    def apply(inputs):
        spec = inputs["source"]["buildspec"]
        assert old in spec
        return {**inputs, "source": {**inputs["source"], "buildspec": spec.replace(old, new, 1)}}
    return apply


TASK = "aws:ecs/taskDefinition:TaskDefinition"
# The build project, not the Promote one: which of the two registers first varies from run to run.
BUILD_PROJECT = ("aws:codebuild/project:Project", "posts-pipeline-build")
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BROKEN = {
    "invalid networkMode": (TASK, lambda i: {**i, "networkMode": "bridged"}, "'bridged' is not one of"),
    "made-up IAM action": (ROLE_POLICY, _policy(lambda d: d["Statement"][0]["Action"].append("dynamodb:GetItems")
                                                if isinstance(d["Statement"][0]["Action"], list)
                                                else d["Statement"][0].update(Action=["dynamodb:GetItems"])),
                           "dynamodb:GetItems"),
    "wildcard action matching nothing": (ROLE_POLICY, _policy(lambda d: d["Statement"][0].update(
        Action="logs:Fetch*")), "matches no operation"),
    "policy resource that is not an ARN": (ROLE_POLICY, _policy(lambda d: d["Statement"][0].update(
        Resource="table/serverless-containers-dev-posts")), "is not an ARN"),
    "IAM ARN with a region": (ROLE_POLICY, _policy(lambda d: d["Statement"][0].update(
        Resource="arn:aws:iam:us-east-1:123456789012:role/x")), "ARNs have no region"),
    "unknown container definition field": (TASK, _containers(lambda d: d[0].update(memoryReservationMiB=256)),
                                           'Unknown parameter in containerDefinitions[0]: "memoryReservationMiB"'),
    "container port out of range": (TASK, _containers(lambda d: d[0]["portMappings"][0].update(containerPort=70000)),
                                    "out of range"),
    "hostPort differs in awsvpc": (TASK, _containers(lambda d: d[0]["portMappings"][0].update(hostPort=80)),
                                   "hostPort must equal containerPort"),
    "dependency on a missing container": (TASK, _containers(lambda d: d[0].update(
        dependsOn=[{"containerName": "ghost", "condition": "START"}])), "unknown container 'ghost'"),
    "not a Fargate size": (TASK, lambda i: {**i, "cpu": "256", "memory": "4096"}, "is not a Fargate task size"),
    "task role of the wrong kind": (TASK, lambda i: {**i, "taskRoleArn": "arn:aws:iam::123456789012:policy/p"},
                                    "is not a iam role ARN"),
    "health check interval too short": (TASK, _containers(lambda d: d[0].update(healthCheck={
        "command": ["CMD-SHELL", "true"], "interval": 1})), "healthCheck.interval 1"),
    "ECR countUnit with an image count": ("aws:ecr/lifecyclePolicy:LifecyclePolicy", _lifecycle(
        lambda d: d["rules"][0]["selection"].update(countUnit="days")), "countUnit is only for sinceImagePushed"),
    "ECR rule priorities repeat": ("aws:ecr/lifecyclePolicy:LifecyclePolicy", _lifecycle(
        lambda d: d["rules"][1].update(rulePriority=d["rules"][0]["rulePriority"])), "rulePriority values repeat"),
    "ECR tag list on untagged": ("aws:ecr/lifecyclePolicy:LifecyclePolicy", _lifecycle(
        lambda d: d["rules"][0]["selection"].update(tagStatus="untagged")), "only go with tagStatus tagged"),
    "buildspec version": (BUILD_PROJECT, _buildspec("version: 0.2", "version: 0.3"),
                          "is not 0.2"),
    "buildspec unknown phase": (BUILD_PROJECT, _buildspec("post_build:", "deploy:"),
                                "phases.deploy is not one of"),
    "compute type": (BUILD_PROJECT, lambda i: {**i, "environment": {
        **i["environment"], "computeType": "BUILD_GENERAL1_HUGE"}}, "'BUILD_GENERAL1_HUGE' is not one of"),
    "API name too long": ("aws:apigatewayv2/api:Api", lambda i: {**i, "name": "x" * 200}, "at most 128"),
    "log retention not a number": ("aws:cloudwatch/logGroup:LogGroup", lambda i: {**i, "retentionInDays": "7"},
                                   "Invalid type for parameter retentionInDays"),
    "DynamoDB key type": ("aws:dynamodb/table:Table", lambda i: {**i, "attributes": [{"name": "id", "type": "L"}]},
                          "'L' is not one of"),
    "port out of range": ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", lambda i: {
        **i, "fromPort": 8080, "toPort": 70000}, "not a range within 0..65535"),
    "log retention not allowed": ("aws:cloudwatch/logGroup:LogGroup", lambda i: {**i, "retentionInDays": 8},
                                  "not a CloudWatch Logs retention period"),
    "role name too long": ("aws:iam/role:Role", lambda i: {**i, "name": "r" * 65}, "at most 64"),
    "bucket name with capitals": ("aws:s3/bucket:Bucket", lambda i: {
        k: v for k, v in {**i, "bucket": "Serverless_Artifacts"}.items() if k != "bucketPrefix"},
                                  "bucket naming rules"),
    "route to a missing integration": ("aws:apigatewayv2/route:Route", lambda i: {
        **i, "target": "integrations/nothing"}, "is not an integration of API"),
    "pipeline artifact never produced": ("aws:codepipeline/pipeline:Pipeline", lambda i: {**i, "stages": [
        i["stages"][0], {**i["stages"][1], "actions": [{**i["stages"][1]["actions"][0], "inputArtifacts": ["src"]}]},
        *i["stages"][2:]]}, "input artifact 'src' is not produced"),
    "trust policy with a Resource": ("aws:iam/role:Role", lambda i: {**i, "assumeRolePolicy": json.dumps({
        **json.loads(i["assumeRolePolicy"]), "Statement": [{**json.loads(i["assumeRolePolicy"])["Statement"][0],
                                                            "Resource": "*"}]})}, "a trust policy takes no Resource"),
}


@pytest.fixture(scope="module")
def dev_run():
    return cases.run_case(CASES["dev"])


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_broken_payload_is_caught(dev_run, what):
    target, change, expected = BROKEN[what]
    type_token, name = target if isinstance(target, tuple) else (target, None)
    clean, _ = findings(dev_run)
    assert not new_findings(clean)
    found, _ = findings(_mutate(dev_run, type_token, change, name))
    assert any(expected in f for f in found), f"{what}: expected {expected!r} in:\n" + "\n".join(found)


@pytest.mark.parametrize("what, type_token, change, expected", [
    ("service in a cluster that does not exist", "aws:ecs/service:Service", lambda i: {**i, "cluster": "other"},
     "ClusterNotFoundException"),
    ("key attribute not defined", "aws:dynamodb/table:Table", lambda i: {**i, "hashKey": "pk"},
     "not defined in AttributeDefinitions"),
    ("repository name ECR refuses", "aws:ecr/repository:Repository", lambda i: {**i, "name": "Bad_Name"},
     "repositoryName"),
])
def test_moto_refuses_broken_references(dev_run, what, type_token, change, expected):
    failures = _smoke(_mutate(dev_run, type_token, change))
    assert any(expected in f for f in failures), f"{what}:\n" + "\n".join(failures)


def test_moto_smoke_reports_a_reference_to_a_resource_never_created(dev_run):
    without_table = replace(dev_run, resources=[r for r in dev_run.resources
                                                if r.type != "aws:dynamodb/table:Table"])
    failures = _smoke(without_table)
    # The task definition's STORAGE_POSTS_ARN and the task role's policy name a table nothing creates.
    assert any("RegisterTaskDefinition" in f and "table/serverless-containers-dev-posts" in f
               and "nothing created before it" in f for f in failures), failures
    assert any("PutRolePolicy" in f and "table/serverless-containers-dev-posts" in f
               and "never creates" in f for f in failures), failures


def test_arm64_on_fargate_spot_is_caught(dev_run):
    """The config refuses this combination; if a change ever let it through, the graph check would say so."""
    broken = _mutate(dev_run, TASK, lambda i: {**i, "runtimePlatform": {**i["runtimePlatform"],
                                                                         "cpuArchitecture": "ARM64"}})
    found, _ = findings(broken)
    assert any("Fargate Spot does not run ARM64" in f for f in found), found


# --- the checks themselves ---------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["ecr:GetAuthorizationToken", "iam:PassRole", "s3:GetObjectVersion",
                                    "codestar-connections:UseConnection", "dynamodb:ConditionCheckItem",
                                    "dynamodb:Get*", "logs:PutLogEvents", "ecs:RegisterTaskDefinition", "*",
                                    "kms:GenerateDataKey*", "secretsmanager:GetSecretValue", "sts:AssumeRole"])
def test_real_actions_pass(action):
    assert validate.action_problems(action) == []


@pytest.mark.parametrize("action", ["ecr:GetAuthToken", "logs:PutLogEvent", "s3:GetObjects", "dynamodb:Fetch*",
                                    "madeup:DoThing", "ecs", "iam:PassRoles"])
def test_made_up_actions_fail(action):
    assert validate.action_problems(action)


def test_iam_only_actions_are_not_api_operations():
    """The allow-list holds only actions botocore cannot confirm, so it cannot hide a typo of a real call."""
    for action, reason in validate.IAM_ONLY_ACTIONS.items():
        prefix, name = action.split(":")
        assert reason
        for service in validate.IAM_PREFIX_SERVICES.get(prefix, ()):
            assert name not in validate.operation_names(service), f"{action} is a real operation: drop it"


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:role/posts-task", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "arn:aws:s3:::bucket/key", "arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*",
    "arn:aws:ecr:eu-west-1:123456789012:repository/x", "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/t",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:serverless-containers/dev/x-AbCdEf"])
def test_well_formed_arns(arn):
    assert validate.arn_problems(arn) == []


@pytest.mark.parametrize("arn, problem", [
    ("arn:aws:iam:us-east-1:123456789012:role/x", "no region"),
    ("arn:aws:s3:::", "no resource"),
    ("arn:aws:s3:us-east-1:123456789012:bucket", "no region"),
    ("arn:aws:ecr:us-east-1:12345:repository/x", "12-digit"),
    ("arn:aws:ecr:useast1:123456789012:repository/x", "not a region"),
    ("arn:aws:dynamodb:us-east-1:123456789012:tables/t", "no resource type"),
    ("arn:amazon:ecs:us-east-1:123456789012:cluster/c", "partition"),
    ("arn:aws:ecs:us-east-1:123456789012", "not an ARN")])
def test_malformed_arns(arn, problem):
    assert any(problem in p for p in validate.arn_problems(arn)), validate.arn_problems(arn)


def test_buildspec_checks():
    good = "version: 0.2\nphases:\n  build:\n    commands:\n      - make\nartifacts:\n  files:\n    - out.json\n"
    assert validate.buildspec_problems(good) == []
    assert validate.buildspec_problems("version: 0.2\nphases:\n  build:\n    commands: make\n")
    assert validate.buildspec_problems("version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts: {}\n")
    assert validate.buildspec_problems("version: 0.2\nphases: {build: {commands: [a]}}\nartefacts: {files: [x]}\n")
    assert validate.buildspec_problems("version: 0.2\nphases:\n  build: [\n")


def test_lifecycle_policy_checks():
    rule = {"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days",
                                             "countNumber": 7}, "action": {"type": "expire"}}
    assert validate.lifecycle_policy_problems(json.dumps({"rules": [rule]})) == []
    for broken in ({"countUnit": "hours"}, {"countType": "imageCountLessThan"}, {"countNumber": 0},
                   {"tagStatus": "tagged"}):
        changed = {**rule, "selection": {**rule["selection"], **broken}}
        assert validate.lifecycle_policy_problems({"rules": [changed]}), broken
    assert validate.lifecycle_policy_problems({"rules": [{**rule, "action": {"type": "delete"}}]})
    assert validate.lifecycle_policy_problems({"rules": []})


# --- custom domains (issue 16) -------------------------------------------------------------------------

DOMAIN_OPERATIONS = {
    "domain-zone-here": {("acm", "RequestCertificate"), ("acm", "DescribeCertificate"),
                         ("route53", "ChangeResourceRecordSets"), ("apigatewayv2", "CreateDomainName"),
                         ("apigatewayv2", "CreateApiMapping")},
    "domain-elsewhere": {("acm", "RequestCertificate"), ("apigatewayv2", "CreateDomainName"),
                         ("apigatewayv2", "CreateApiMapping")},
    "domain-own-certificate": {("route53", "ChangeResourceRecordSets"), ("apigatewayv2", "CreateDomainName"),
                               ("apigatewayv2", "CreateApiMapping")},
}


@pytest.mark.parametrize("case_id", sorted(DOMAIN_OPERATIONS))
def test_custom_domain_requests_are_made_and_valid(case_id):
    result = cases.run_case(CASES[case_id])
    found, translation = findings(result)
    assert not new_findings(found)
    made = operations(translation)
    assert DOMAIN_OPERATIONS[case_id] <= made, sorted(DOMAIN_OPERATIONS[case_id] - made)
    if case_id == "domain-elsewhere":
        assert ("route53", "ChangeResourceRecordSets") not in made
    if case_id == "domain-own-certificate":
        assert ("acm", "RequestCertificate") not in made
        create_api = next(r for r in translation.requests if r.operation == "CreateApi" and "posts" in r.params["Name"])
        assert create_api.params["DisableExecuteApiEndpoint"] is True
    records = [r.params for r in translation.requests if r.operation == "ChangeResourceRecordSets"]
    if case_id == "domain-zone-here":
        kinds = sorted(c["ResourceRecordSet"]["Type"] for p in records for c in p["ChangeBatch"]["Changes"])
        assert kinds == ["A", "A", "AAAA", "AAAA", "CNAME", "CNAME"]       # two APIs
        assert {p["HostedZoneId"] for p in records} == {cases.ZONE_ID}


@pytest.fixture(scope="module")
def domain_run():
    return cases.run_case(CASES["domain-zone-here"])


@pytest.mark.parametrize("what, type_token, change, expected", [
    ("TLS policy API Gateway does not offer", "aws:apigatewayv2/domainName:DomainName",
     lambda i: {**i, "domainNameConfiguration": {**i["domainNameConfiguration"], "securityPolicy": "TLS_1_1"}},
     "'TLS_1_1' is not one of"),
    ("endpoint type of REST APIs' edge domains", "aws:apigatewayv2/domainName:DomainName",
     lambda i: {**i, "domainNameConfiguration": {**i["domainNameConfiguration"], "endpointType": "EDGE_OPTIMIZED"}},
     "is not one of"),
    ("record type Route 53 does not have", "aws:route53/record:Record", lambda i: {**i, "type": "ALIAS"},
     "'ALIAS' is not one of"),
    ("validation method ACM does not have", "aws:acm/certificate:Certificate",
     lambda i: {**i, "validationMethod": "SMS"}, "'SMS' is not one of"),
    ("API mapping without a stage", "aws:apigatewayv2/apiMapping:ApiMapping",
     lambda i: {k: v for k, v in i.items() if k != "stage"}, "Stage"),
])
def test_broken_domain_payload_is_caught(domain_run, what, type_token, change, expected):
    found, _ = findings(_mutate(domain_run, type_token, change))
    assert any(expected in f for f in found), f"{what}: expected {expected!r} in:\n" + "\n".join(found)
