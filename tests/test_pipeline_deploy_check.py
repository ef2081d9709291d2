"""The pipeline's own deploy check under the mock runtime, through the real program: for an API that may sleep the
Deploy stage wakes it, deploys, verifies, and only then Promote runs; the check's project and role are its own and
name exactly this API's service, cluster and scalable target. An API that never sleeps keeps the plain Deploy."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.pipeline.deploy_check_project import check_buildspec_yaml, hold_seconds
from components.program import main
from ops.plan import mockrun
from tests.fidelity.checks import findings, new_findings
from tests.fidelity.document_checks import buildspec_problems
from tests.infra_helpers import policy, write_dockerfile_app

PROJECT = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
TARGET = "aws:appautoscaling/target:Target"
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/serverless-containers-dev/web"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/serverless-containers-dev"
SLEEPS = {"sleep": {"afterIdleMinutes": 30}}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def run(source: Path, **api):
    return mockrun.run(main, config={"apis": {"web": {"source": str(source), "auth": False, **api}}})


@pytest.fixture(scope="module")
def sleeping(source):
    return run(source, replicas=2, **SLEEPS)


@pytest.fixture(scope="module")
def awake(source):
    return run(source)


def stage(result, name: str) -> list[dict]:
    pipeline = result.one(PIPELINE)
    return next(s for s in pipeline.inputs["stages"] if s["name"] == name)["actions"]


def test_the_deploy_stage_of_a_sleeping_api_wakes_deploys_verifies_then_promote_runs(sleeping):
    pipeline = sleeping.one(PIPELINE)
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "Build", "Deploy", "Promote"]
    wake, deploy, verify = stage(sleeping, "Deploy")
    assert [(a["name"], a["provider"], a["runOrder"]) for a in (wake, deploy, verify)] == [
        ("WakeForDeploy", "CodeBuild", 1), ("Deploy", "ECS", 2), ("VerifyDeploy", "CodeBuild", 3)]
    project = sleeping.one(PROJECT, "web-pipeline-check").outputs["name"]
    assert project == "serverless-containers-dev-web-deploy-check"
    for step, check in (("wake", wake), ("verify", verify)):
        assert check["inputArtifacts"] == ["imagedefinitions"]
        assert check["configuration"]["ProjectName"] == project
        assert json.loads(check["configuration"]["EnvironmentVariables"]) == [
            {"name": "CHECK_STEP", "value": step, "type": "PLAINTEXT"}]
    assert deploy["configuration"]["ServiceName"] == "web"
    # Promote is its own stage after Deploy: a failed verify (the stage fails) means it never runs
    assert [a["name"] for a in stage(sleeping, "Promote")] == ["TagDeployed"]
    assert sleeping.depends_on(pipeline, sleeping.one(PROJECT, "web-pipeline-check"))


def test_with_approval_the_check_still_sits_inside_deploy(source):
    result = run(source, approval=True, **SLEEPS)
    assert [s["name"] for s in result.one(PIPELINE).inputs["stages"]] == ["Source", "Build", "Approve", "Deploy",
                                                                          "Promote"]
    assert [a["name"] for a in stage(result, "Deploy")] == ["WakeForDeploy", "Deploy", "VerifyDeploy"]


def test_an_api_that_never_sleeps_keeps_the_plain_deploy(awake):
    assert [a["name"] for a in stage(awake, "Deploy")] == ["Deploy"]
    assert "runOrder" not in stage(awake, "Deploy")[0]
    assert not [r for r in awake.of_type(PROJECT) if r.name.endswith("-check")]
    assert not [r for r in awake.of_type(ROLE) if r.name.endswith("-check")]


def test_the_check_project_runs_the_bundled_script_without_docker(sleeping):
    project = sleeping.one(PROJECT, "web-pipeline-check")
    inputs = project.inputs
    assert inputs["source"] == {"type": "CODEPIPELINE", "buildspec": check_buildspec_yaml()}
    assert buildspec_problems(inputs["source"]["buildspec"]) == []
    environment = inputs["environment"]
    assert (environment["image"], environment["privilegedMode"], environment["computeType"]) == (
        "aws/codebuild/standard:7.0", False, "BUILD_GENERAL1_SMALL")
    assert {v["name"]: v["value"] for v in environment["environmentVariables"]} == {
        "CLUSTER": "serverless-containers-dev", "SERVICE": "web", "AWAKE_COUNT": "2",
        "HOLD_SECONDS": str(hold_seconds(30)), "VERIFY_TIMEOUT_SECONDS": "600"}
    assert inputs["buildTimeout"] == 15
    assert inputs["logsConfig"]["cloudwatchLogs"] == {"status": "ENABLED", "groupName": "/aws/codebuild/"
                                                      "serverless-containers-dev-web", "streamName": "deploy-check"}
    role = sleeping.one(ROLE, "web-pipeline-check")
    assert inputs["serviceRole"] == role.outputs["arn"]
    assert sleeping.depends_on(project, sleeping.one(ROLE_POLICY, "web-pipeline-check"))


def test_the_check_role_is_its_own_and_names_exactly_this_api(sleeping):
    trust = json.loads(sleeping.one(ROLE, "web-pipeline-check").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == [
        "arn:aws:codebuild:us-east-1:123456789012:project/serverless-containers-dev-web-deploy-check"]
    statements = {s["Sid"]: s for s in policy(sleeping.one(ROLE_POLICY, "web-pipeline-check"))["Statement"]}
    assert statements["ThisServiceCount"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert statements["ThisServiceCount"]["Resource"] == [SERVICE_ARN]
    assert statements["ThisClusterTasks"]["Condition"] == {"ArnEquals": {"ecs:cluster": CLUSTER_ARN}}
    assert statements["ContainerLogs"]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/serverless-containers/dev/web/*"]
    bucket = sleeping.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert statements["InputArtifact"]["Resource"] == [f"{bucket}/serverless-container/*"]   # CodePipeline: 20 chars
    assert statements["InputArtifact"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]   # reads, never writes
    # only reads and this one service's count: no autoscaling write, no wildcard write anywhere in the base policy
    for statement in statements.values():
        if statement["Resource"] == ["*"]:
            assert all(a.split(":")[1].startswith(("Describe", "List")) for a in statement["Action"]), statement
    # the scalable target: exactly its ARN, granted once it exists
    target = sleeping.one(TARGET)
    grant = sleeping.one(ROLE_POLICY, "web-pipeline-check-target")
    assert policy(grant)["Statement"] == [{
        "Sid": "HoldThisTarget", "Effect": "Allow",
        "Action": ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScheduledAction",
                   "application-autoscaling:DeleteScheduledAction"], "Resource": [target.outputs["arn"]]}]
    assert grant.inputs["role"] == sleeping.one(ROLE, "web-pipeline-check").outputs["id"]
    assert sleeping.depends_on(grant, target)


def test_the_pipeline_role_may_start_the_check_and_nothing_more(sleeping, awake):
    def build_statement(result):
        return next(s for s in policy(next(r for r in result.of_type(ROLE_POLICY) if r.name.endswith(
            "-pipeline-pipeline")))["Statement"] if s["Sid"] == "Build")
    check = sleeping.one(PROJECT, "web-pipeline-check").outputs["arn"]
    assert build_statement(sleeping)["Resource"] == [
        sleeping.one(PROJECT, name).outputs["arn"] for name in ("web-pipeline-build", "web-pipeline-promote")] + [check]
    assert build_statement(sleeping)["Action"] == ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
    assert len(build_statement(awake)["Resource"]) == 2


def test_the_build_role_gains_nothing_from_the_check(sleeping, awake):
    def build_actions(result):
        return sorted(a for s in policy(result.one(ROLE_POLICY, "web-pipeline-build"))["Statement"]
                      for a in s["Action"])
    assert build_actions(sleeping) == build_actions(awake)
    assert not [a for a in build_actions(sleeping) if a.startswith(("ecs:", "application-autoscaling:"))]


def test_every_request_of_the_check_is_valid_against_botocore(sleeping):
    found, translation = findings(sleeping)
    assert new_findings(found) == []
    made = {(r.service, r.operation, r.name) for r in translation.requests}
    assert {("codebuild", "CreateProject", "web-pipeline-check"), ("iam", "CreateRole", "web-pipeline-check"),
            ("iam", "PutRolePolicy", "web-pipeline-check"), ("iam", "PutRolePolicy", "web-pipeline-check-target"),
            ("codepipeline", "CreatePipeline", "web-pipeline-pipeline")} <= made
