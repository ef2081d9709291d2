"""The deploy check's CodeBuild project and role: what runs the wake and verify steps of an API that may sleep.

The steps are Python in this repository (components/pipeline/deploy_check.py and the pure modules it reuses,
components/providers/deploy_wake.py and service_rollout.py). ``check_bundle`` packs exactly those files into a zip
Python runs (a zipapp, built byte-for-byte the same each time, so an unchanged check is no change for `pulumi up`),
and the buildspec carries it base64-encoded: no bucket object, no download, and the code that runs is the code
this update shipped. The build image is CodeBuild's standard image, which has Python 3 and boto3; no Docker and no
privileged mode. Why CodeBuild and not another action type: docs/design.md, "The pipeline's own deploy check".

The project runs with a role of its own, not the build role (which runs the app's Dockerfile): it may write its log,
read its input artifact, read and set this one ECS service's count, read the service's tasks and their container
logs, and (``allow_scalable_target``, once the target exists) raise and restore this one scalable target's minimum.
"""
from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import yaml

from components.pipeline.access import (assume_role_policy, codebuild_project_arn, deploy_check_role_policy,
                                        deploy_check_target_policy, ecs_service_arn)
from components.pipeline.stages import CHECK_STEP_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
# What the zip holds, relative to the repository: the step and the pure modules it imports (and their packages).
BUNDLED_FILES = ("components/__init__.py", "components/pipeline/__init__.py", "components/providers/__init__.py",
                 "components/providers/deploy_wake.py", "components/providers/service_rollout.py",
                 "components/pipeline/deploy_check.py")
ENTRY_POINT = "import sys\nfrom components.pipeline.deploy_check import main\nsys.exit(main())\n"
CHECK_IMAGE = ("LINUX_CONTAINER", "aws/codebuild/standard:7.0")   # Python 3.11 with boto3, x86_64
CHECK_COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
VERIFY_TIMEOUT_MINUTES = 10
# CodeBuild queueing and start-up for the two steps, on top of the deploy's and the verify step's timeouts.
HOLD_MARGIN_MINUTES = 10
PROJECT_SUFFIX = "-deploy-check"
BUNDLE_PATH = '"${TMPDIR:-/tmp}/deploy-check.pyz"'


def check_bundle(root: Path = ROOT) -> bytes:
    """The zipapp: fixed timestamps and order, so the same sources always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for name, text in [*((f, (root / f).read_bytes()) for f in BUNDLED_FILES),
                           ("__main__.py", ENTRY_POINT.encode())]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            bundle.writestr(info, text)
    return buffer.getvalue()


def check_buildspec(bundle: bytes | None = None) -> dict:
    """Version 0.2: unpack the zip and run the step CodePipeline asked for (``CHECK_STEP``)."""
    encoded = base64.b64encode(bundle if bundle is not None else check_bundle()).decode()
    return {"version": 0.2, "env": {"shell": "bash"}, "phases": {
        # boto3 is in the standard image; installing it is the fallback should an image ever lack it
        "install": {"commands": ["python3 -c 'import boto3' 2> /dev/null || pip3 install --quiet boto3"]},
        "build": {"on-failure": "ABORT", "commands": [
            f"echo '{encoded}' | base64 -d > {BUNDLE_PATH}",
            f'python3 {BUNDLE_PATH} "${CHECK_STEP_VARIABLE}"']}}}


def check_buildspec_yaml(bundle: bytes | None = None) -> str:
    return yaml.safe_dump(check_buildspec(bundle), sort_keys=False, width=100000)


def hold_seconds(deploy_timeout_minutes: int) -> int:
    """How long the pipeline's hold lasts at most when its verify step never runs (a failed ECS deploy)."""
    return (deploy_timeout_minutes + VERIFY_TIMEOUT_MINUTES + HOLD_MARGIN_MINUTES) * 60


def check_project_name(pipeline: str) -> str:
    return f"{pipeline}{PROJECT_SUFFIX}"


@dataclass
class DeployCheckArgs:
    stack: str
    api: str
    pipeline: str
    """The pipeline's name: the project is named after it, and reads its input under the pipeline's artifact prefix."""
    region: str
    account_id: str
    partition: str
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The ECS service it may read and scale: its ARN is the only one in the role's ECS statement."""
    cluster_arn: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    """The pipeline's CodeBuild log group; the check writes its own stream there."""
    awake_count: int
    """The API's awake count (CountPlan.replicas): what the wake step raises the minimum and desired count to."""
    deploy_timeout_minutes: int
    """The ECS deploy action's DeploymentTimeout: the pipeline's hold outlasts it (``hold_seconds``)."""
    tags: dict[str, str] = field(default_factory=dict)


class DeployCheck(pulumi.ComponentResource):
    """The check's role and CodeBuild project. ``project_name`` goes into the Deploy stage's wake and verify actions."""

    project_name: pulumi.Output[str]
    project_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeployCheckArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:pipeline:DeployCheck", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        physical = check_project_name(args.pipeline)
        # logical names without a suffix: IAM role names stop at 64 characters, and Pulumi adds 8 to this one
        self.role = aws.iam.Role(
            name, description=f"checks deploys of {args.api} (stack {args.stack}) on awake tasks",
            assume_role_policy=assume_role_policy("codebuild.amazonaws.com", args.account_id, [
                codebuild_project_arn(args.partition, args.region, args.account_id, physical)]),
            tags=args.tags, opts=child)
        service_arn = pulumi.Output.all(args.cluster_name, args.service_name).apply(
            lambda p: ecs_service_arn(args.partition, args.region, args.account_id, p[0], p[1]))
        container_logs = (f"arn:{args.partition}:logs:{args.region}:{args.account_id}:log-group:"
                          f"/serverless-containers/{args.stack}/{args.api}/*")
        policy = aws.iam.RolePolicy(
            name, role=self.role.id,
            policy=pulumi.Output.all(args.log_group_arn, args.bucket_arn, args.cluster_arn, service_arn).apply(
                lambda p: json.dumps(deploy_check_role_policy(
                    log_group_arn=p[0], bucket_arn=p[1], pipeline=args.pipeline, cluster_arn=p[2],
                    service_arn=p[3], app_log_groups_arn=container_logs))),
            opts=child)
        variables = {"CLUSTER": args.cluster_name, "SERVICE": args.service_name,
                     "AWAKE_COUNT": str(args.awake_count),
                     "HOLD_SECONDS": str(hold_seconds(args.deploy_timeout_minutes)),
                     "VERIFY_TIMEOUT_SECONDS": str(VERIFY_TIMEOUT_MINUTES * 60)}
        environment_type, image = CHECK_IMAGE
        project = aws.codebuild.Project(
            name, name=physical,
            description=f"wakes {args.api} (stack {args.stack}) for its deploy and verifies its tasks run healthy",
            service_role=self.role.arn, build_timeout=VERIFY_TIMEOUT_MINUTES + 5,
            environment={"type": environment_type, "image": image, "compute_type": CHECK_COMPUTE_TYPE,
                         "privileged_mode": False, "image_pull_credentials_type": "CODEBUILD",
                         "environment_variables": [{"name": k, "value": v, "type": "PLAINTEXT"}
                                                   for k, v in variables.items()]},
            source={"type": "CODEPIPELINE", "buildspec": check_buildspec_yaml()},
            artifacts={"type": "CODEPIPELINE"},
            logs_config={"cloudwatch_logs": {"status": "ENABLED", "group_name": args.log_group_name,
                                             "stream_name": "deploy-check"},
                         "s3_logs": {"status": "DISABLED"}},
            tags=args.tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        self.project_name, self.project_arn = project.name, project.arn
        self.register_outputs({"projectName": project.name})

    def allow_scalable_target(self, target_arn: pulumi.Input[str]) -> aws.iam.RolePolicy:
        """Let the check hold this scalable target (called once the target exists: components/program.py)."""
        return aws.iam.RolePolicy(
            f"{self._name}-target", role=self.role.id,
            policy=pulumi.Output.from_input(target_arn).apply(
                lambda arn: json.dumps(deploy_check_target_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self))
