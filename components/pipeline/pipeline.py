"""The build pipeline of one API: source/artifact bucket, CodeBuild, CodePipeline V2, and the awaited run.

Source -> Build -> Deploy -> Promote:

* **Source**. ``build: managed``: the program zips the API folder (components/pipeline/source_bundle.py) and
  uploads it to the versioned bucket; a new object version starts the pipeline through an EventBridge
  rule on the object (S3's own EventBridge notifications, no CloudTrail). ``build: github``: a CodeStar
  (CodeConnections) connection when ``github.connectionArn`` is set (recommended: a GitHub App with
  access you choose per repository, no long-lived token in the stack, change detection by webhook, and
  V2 triggers that build a monorepo's ``path`` only when files under it change), else the GitHub
  version 1 action with the ``githubToken`` secret (AWS marks that action deprecated; it polls GitHub).
* **Build**. CodeBuild, privileged Docker, the image matching the task's CPU architecture, the
  buildspec from components/pipeline/buildspec.py (signed in to Docker Hub with ``dockerHubCredentials`` when set),
  logs in CloudWatch with the stack's retention.
* **Deploy**. ECS's standard deploy action with ``imagedefinitions.json`` (hash-tagged images). It waits for
  the ECS rollout and fails when the rollout fails or exceeds ``DeploymentTimeout``. For an API that may sleep,
  the deploy check wakes it before and verifies its tasks after (components/pipeline/deploy_check.py).
* **Promote**. A small CodeBuild project (no Docker, the build's role) moves the ``deployed`` tag to the build
  just deployed. Only a successful Deploy gets here (docs/design.md, "Who moves which tag").

Execution mode SUPERSEDED: when sources arrive faster than builds, only the newest is built and
deployed; nothing waits in a queue to roll out a version that is already stale. The waiter follows a
newer run when its own is superseded (components/providers/pipeline_run.py).

The source upload carries the ECS service's ARN (an object tag), so it happens after this update's service
update, and `pulumi up` then waits for the run of that upload (``PipelineRun``): the program's task
definition (``<repo>:deployed``) is registered before the pipeline deploys the new build, never after it.
Artifacts and old source versions expire after 7 days.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.pipeline.access import (  # noqa: F401 - re-exported: the role documents live in access.py
    ARTIFACT_PREFIX_LENGTH, ECR_PUSH_ACTIONS, approval_stage, artifact_prefix, assume_role_policy, bucket_policy,
    build_role_policy, codebuild_project_arn, ecs_service_arn, event_rule_arn, pipeline_role_policy, repository_policy)
from components.pipeline.buildspec import buildspec_yaml, image_builds, promote_buildspec_yaml, repository_env_var
from components.pipeline.deploy_check_project import DeployCheck, DeployCheckArgs
from components.pipeline.stages import ECS_DEPLOY_TIMEOUT_MINUTES, pipeline_stages  # noqa: F401 - re-exported
from components.settings.apis import GithubSource
from components.settings.names import source_rule_name
from components.compose.model import App
from components.providers.pipeline_run import DEFAULT_TIMEOUT_SECONDS, PipelineRun, pipeline_console_url
from components.pipeline.sensitive_files import left_out_notes
from components.pipeline.source_bundle import SourceBundle, write_bundle

PROJECT = "serverless-containers"
ARTIFACT_RETENTION_DAYS = 7
SOURCE_PREFIX = "source/"
BUILD_IMAGES = {
    # architecture -> (CodeBuild environment type, curated image with Docker)
    "X86_64": ("LINUX_CONTAINER", "aws/codebuild/standard:7.0"),
    "ARM64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0"),
}
BUILD_COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
PROMOTE_SUFFIX = "-promote"


def pipeline_name(stack: str, api: str) -> str:
    return f"{PROJECT}-{stack}-{api}"


def build_log_group_name(stack: str, api: str) -> str:
    """CodeBuild's own naming scheme; cannot clash with a container's log group."""
    return f"/aws/codebuild/{pipeline_name(stack, api)}"


def source_key(api: str) -> str:
    return f"{SOURCE_PREFIX}{api}.zip"


def artifact_lifecycle_rules(pipeline: str, days: int = ARTIFACT_RETENTION_DAYS) -> list[dict]:
    """Pipeline artifacts expire ``days`` after they were written; replaced (noncurrent) versions of
    anything, the source zip included, ``days`` after they were replaced. The current source zip stays:
    a retried run needs it."""
    return [
        {"id": "expire-pipeline-artifacts", "status": "Enabled",
         "filter": {"prefix": pipeline[:ARTIFACT_PREFIX_LENGTH]},
         "expiration": {"days": days}},
        {"id": "expire-replaced-versions", "status": "Enabled",
         "filter": {"prefix": ""},
         "noncurrent_version_expiration": {"noncurrent_days": days},
         "abort_incomplete_multipart_upload": {"days_after_initiation": 1}},
        {"id": "remove-expired-delete-markers", "status": "Enabled",
         "filter": {"prefix": ""},
         "expiration": {"expired_object_delete_marker": True}},
    ]


def build_environment(architecture: str, variables: dict[str, Any]) -> dict:
    environment_type, image = BUILD_IMAGES[architecture]
    return {
        "type": environment_type, "image": image, "compute_type": BUILD_COMPUTE_TYPE,
        # docker build needs the Docker daemon inside the build container
        "privileged_mode": True,
        "image_pull_credentials_type": "CODEBUILD",
        "environment_variables": [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()],
    }


def start_rule_policy(pipeline_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["codepipeline:StartPipelineExecution"], "Resource": [pipeline_arn]}]}


def source_object_event_pattern(bucket: str, key: str) -> dict:
    return {"source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket]}, "object": {"key": [key]}}}


def source_action(mode: str, *, bucket: Any = None, key: str = "", github: GithubSource | None = None,
                  token: Any = None) -> dict:
    """The Source stage's one action; its output artifact is ``source``."""
    common = {"name": "Source", "category": "Source", "version": "1", "output_artifacts": ["source"]}
    if mode == "managed":
        return {**common, "owner": "AWS", "provider": "S3",
                # the EventBridge rule starts runs; polling would add a delay and a cost
                "configuration": {"S3Bucket": bucket, "S3ObjectKey": key, "PollForSourceChanges": "false"}}
    if github is None:
        raise ValueError("build: github needs the github settings")
    if github.connection_arn:
        return {**common, "owner": "AWS", "provider": "CodeStarSourceConnection",
                "configuration": {"ConnectionArn": github.connection_arn,
                                  "FullRepositoryId": f"{github.owner}/{github.repo}",
                                  "BranchName": github.branch, "OutputArtifactFormat": "CODE_ZIP",
                                  "DetectChanges": "true"}}
    return {**common, "owner": "ThirdParty", "provider": "GitHub",
            "configuration": {"Owner": github.owner, "Repo": github.repo, "Branch": github.branch,
                              "OAuthToken": token, "PollForSourceChanges": "true"}}


def upload_mismatch(api: str, bundle: SourceBundle, s3_checksum: str | None) -> str:
    """"" when S3's SHA-256 of the uploaded source is the one of the zip the program wrote; else what went wrong.
    (No checksum at all: an object uploaded before checksums were asked for, which this update did not replace.)"""
    if not s3_checksum or s3_checksum in bundle.checksums:
        return ""
    return (f"API {api}: the source zip S3 received (SHA-256 {s3_checksum}) is not the one this update wrote to "
            f"{bundle.path} ({', '.join(sorted(bundle.checksums))}): the file changed between writing and upload. "
            f"Its pipeline run is stopped and nothing from it is deployed. Check who else can write on this machine, "
            f"then run `pulumi up` again.")


def _fail_on(problem: str) -> None:
    if problem:
        raise RuntimeError(problem)


def promote_project_name(stack: str, api: str) -> str:
    return f"{pipeline_name(stack, api)}{PROMOTE_SUFFIX}"


def github_triggers(github: GithubSource) -> list[dict]:
    """V2 trigger for a connection source: pushes to the branch, and for a monorepo only under ``path``."""
    push: dict[str, Any] = {"branches": {"includes": [github.branch]}}
    if github.path.strip("/"):
        push["file_paths"] = {"includes": [f"{github.path.strip('/')}/**"]}
    return [{"provider_type": "CodeStarSourceConnection",
             "git_configuration": {"source_action_name": "Source", "pushes": [push]}}]


@dataclass
class BuildPipelineArgs:
    stack: str
    api: str
    app: App
    build_mode: str
    """managed | github | manual; manual registers nothing and leaves the outputs empty."""
    repository_urls: dict[str, pulumi.Input[str]]
    """Built container -> ECR repository URL (ImageRepositories.repository_urls)."""
    repository_arns: dict[str, pulumi.Input[str]]
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The ECS service the Deploy stage updates; passing the Service's output makes the awaited run follow
    the service update of the same `pulumi up`."""
    region: str
    account_id: str
    task_role_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """The task's execution and task roles: the Deploy stage passes them to ECS with the new revision."""
    architecture: str = "X86_64"
    """X86_64 | ARM64: the CodeBuild image builds for the task's CPU architecture."""
    log_retention_days: int = 7
    replicas: int = 1
    """Tasks to run after the first successful build (the service starts with 0 on the first deploy)."""
    images_ready: pulumi.Input[bool] = True
    """ImageRepositories.ready: False on the first deploy, when the waiter scales the service up."""
    awake_count: int = 0
    """An API that may sleep (`sleep`): its awake count. The Deploy stage wakes it to this count and verifies the new
    build on running tasks before Promote (components/pipeline/deploy_check.py), and the waiter holds it there while
    a run it waits for deploys (components/providers/deploy_wake.py). 0: the API never sleeps."""
    github: GithubSource | None = None
    github_token: pulumi.Input[str] | None = None
    """Secret; used only for build: github without a connection ARN."""
    docker_hub_credentials_arn: str | None = None
    """Secrets Manager secret {"username", "password"}: each build logs in to Docker Hub with it first.
    None: base images are pulled from Docker Hub anonymously (and may be throttled)."""
    source_dir: Path | None = None
    """Default: app.source_dir."""
    bundle_path: Path | None = None
    """Where the managed source zip is written; default: a fresh private folder, removed when the program ends."""
    wait: bool = True
    """`pulumi up` waits for the run of its upload and fails when it fails."""
    wait_timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    deploy_timeout_minutes: int = ECS_DEPLOY_TIMEOUT_MINUTES
    """The stack's deployTimeoutMinutes: the ECS deploy action's DeploymentTimeout and, on the first deploy, how
    long the waiter waits for the scaled-up service to become stable."""
    repository_names: list[str] = field(default_factory=list)
    """The built containers' ECR repositories: a failed first deploy takes `deployed` off them again."""
    profile: str | None = None
    """AWS profile for the waiter (it runs out of process); default: the stack's `aws:profile`."""
    build_secret_ids: dict[str, str] = field(default_factory=dict)
    """Compose secret -> Secrets Manager name or ARN, for builds with compose ``build.secrets`` (BuildKit)."""
    build_secret_arns: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Compose secret -> its ARN: the build role may read exactly the ones its builds use."""
    include_sensitive_files: tuple[str, ...] = ()
    """Credential-looking files the managed source zip keeps anyway (`includeSensitiveFiles`)."""
    approval: bool = False
    """True (`approval: true`): a manual approval stage before Deploy. `pulumi up` then waits (up to
    ``wait_timeout_seconds``) until someone approves or rejects in the console; a rejection fails the update."""
    deployer_arn: pulumi.Input[str] | None = None
    """The IAM principal that runs `pulumi up` (a role's ARN, not its session's). Set: the bucket policy lets
    only it write source zips, and only it and the pipeline's roles write anything; each repository's policy lets
    only it and the build role push or delete images. None: neither policy."""
    force_destroy: bool = True
    """True: `pulumi destroy` empties and deletes the artifact bucket. False (`forceDestroy: false`): the
    destroy stops at a non-empty bucket."""
    tags: dict[str, str] = field(default_factory=dict)


class BuildPipeline(pulumi.ComponentResource):
    pipeline_name: pulumi.Output[str]
    pipeline_url: pulumi.Output[str]
    bucket_name: pulumi.Output[str] | None
    run: PipelineRun | None
    deploy_check: DeployCheck | None

    def __init__(self, name: str, args: BuildPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:pipeline:BuildPipeline", name, None, opts)
        self.run, self.bucket_name, self.deploy_check = None, None, None
        if args.build_mode == "manual" or not any(c.is_built for c in args.app.containers):
            # nothing to build: images come from config or compose `image:` as written
            self.pipeline_name = pulumi.Output.from_input("")
            self.pipeline_url = pulumi.Output.from_input("")
            self.register_outputs({"pipelineName": "", "pipelineUrl": ""})
            return
        if args.build_mode not in ("managed", "github"):
            raise ValueError(f"unknown build mode {args.build_mode!r}")
        child = pulumi.ResourceOptions(parent=self)
        physical = pipeline_name(args.stack, args.api)
        subdirectory = (args.github.path if args.build_mode == "github" and args.github else "").strip("/")
        builds = image_builds(args.app)     # ConfigError for a context outside the source folder
        spec = buildspec_yaml(builds, subdirectory=subdirectory,
                              docker_hub_credentials=args.docker_hub_credentials_arn,
                              build_secret_ids=dict(args.build_secret_ids))
        build_secrets = sorted({s for build in builds for s in build.secrets})

        # --- the bucket: pipeline artifacts, and the source zip for build: managed ---
        bucket = aws.s3.Bucket(f"{name}-artifacts", bucket_prefix=f"{args.stack}-{args.api}"[:36].rstrip("-") + "-",
                               force_destroy=args.force_destroy, tags=args.tags, opts=child)
        versioning = aws.s3.BucketVersioning(
            f"{name}-artifacts", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-artifacts", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(
            f"{name}-artifacts", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts", bucket=bucket.id, rules=artifact_lifecycle_rules(physical),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        self.bucket_name = bucket.bucket

        partition = aws.get_partition().partition

        # --- CodeBuild ---
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-build", name=build_log_group_name(args.stack, args.api),
            retention_in_days=args.log_retention_days, tags=args.tags, opts=child)
        build_role = aws.iam.Role(
            f"{name}-build", description=f"CodeBuild builds the images of {args.api} (stack {args.stack})",
            # the build and the promote project run with this role
            assume_role_policy=assume_role_policy("codebuild.amazonaws.com", args.account_id, [
                codebuild_project_arn(partition, args.region, args.account_id, project_name)
                for project_name in (physical, promote_project_name(args.stack, args.api))]), tags=args.tags,
            opts=child)
        build_policy = aws.iam.RolePolicy(
            f"{name}-build", role=build_role.id,
            policy=pulumi.Output.all(log_group.arn, bucket.arn, list(args.repository_arns.values()),
                                     [args.build_secret_arns[s] for s in build_secrets]).apply(
                lambda parts: json.dumps(build_role_policy(parts[0], parts[1], parts[2],
                                                           args.docker_hub_credentials_arn, pipeline=physical,
                                                           build_secret_arns=parts[3]))),
            opts=child)
        variables: dict[str, Any] = {"AWS_ACCOUNT_ID": args.account_id, "AWS_REGION": args.region}
        for build in builds:
            variables[repository_env_var(build.container)] = args.repository_urls[build.container]
        project = aws.codebuild.Project(
            f"{name}-build", name=physical,
            description=f"builds the containers of {args.api} (stack {args.stack}) and pushes them to ECR",
            service_role=build_role.arn, build_timeout=60,
            environment=build_environment(args.architecture, variables),
            source={"type": "CODEPIPELINE", "buildspec": spec},
            artifacts={"type": "CODEPIPELINE"},
            logs_config={"cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name},
                         "s3_logs": {"status": "DISABLED"}},
            tags=args.tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[build_policy]))
        # Promote: re-tags the deployed build `deployed` (ECR API calls only). Same role and log group as the
        # build: the role may already read and put images in exactly these repositories.
        promote_environment = {**build_environment(args.architecture, {"AWS_REGION": args.region}),
                               "privileged_mode": False}
        promote = aws.codebuild.Project(
            f"{name}-promote", name=promote_project_name(args.stack, args.api),
            description=f"tags the build ECS deployed for {args.api} (stack {args.stack}) as deployed",
            service_role=build_role.arn, build_timeout=5, environment=promote_environment,
            source={"type": "CODEPIPELINE", "buildspec": promote_buildspec_yaml()},
            artifacts={"type": "CODEPIPELINE"},
            logs_config={"cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name,
                                             "stream_name": "promote"},
                         "s3_logs": {"status": "DISABLED"}},
            tags=args.tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[build_policy]))

        # From the Service's outputs, so everything that takes it waits for the service update.
        service_arn = pulumi.Output.all(args.cluster_name, args.service_name).apply(
            lambda parts: ecs_service_arn(partition, args.region, args.account_id, parts[0], parts[1]))

        pipeline_role = aws.iam.Role(
            f"{name}-pipeline", description=f"CodePipeline builds and deploys {args.api} (stack {args.stack})",
            assume_role_policy=assume_role_policy("codepipeline.amazonaws.com", args.account_id), tags=args.tags,
            opts=child)
        source_guards = [versioning]
        repository_guards = []
        if args.deployer_arn is not None:
            source_guards.append(aws.s3.BucketPolicy(
                f"{name}-artifacts", bucket=bucket.id,
                policy=pulumi.Output.all(bucket.arn, args.deployer_arn, pipeline_role.arn, build_role.arn).apply(
                    lambda parts: json.dumps(bucket_policy(parts[0], deployer_arn=parts[1], pipeline_role_arn=parts[2],
                                                           build_role_arn=parts[3]))),
                opts=child))
            # Only the build role and the deployer push to or delete from the repositories: `deployed` is what the
            # next ECS deployment runs, so nobody else may move it (docs/design.md, "Who may push").
            writers = pulumi.Output.all(args.deployer_arn, build_role.arn).apply(
                lambda parts: json.dumps(repository_policy(deployer_arn=parts[0], build_role_arn=parts[1])))
            for container, repository_arn in sorted(args.repository_arns.items()):
                repository_guards.append(aws.ecr.RepositoryPolicy(
                    f"{name}-{container}-writers",
                    # the name from the repository's ARN, so the policy waits for the repository
                    repository=pulumi.Output.from_input(repository_arn).apply(lambda arn: arn.split("/", 1)[1]),
                    policy=writers, opts=child))

        # --- the source ---
        source_object, upload_problem = None, pulumi.Output.from_input("")
        if args.build_mode == "managed":
            source_dir = Path(args.source_dir or args.app.source_dir)
            bundle = write_bundle(source_dir, args.bundle_path, builds, args.include_sensitive_files)
            warnings, notes = left_out_notes(args.app, builds, bundle.left_out, source_dir).messages(args.api)
            for warning in warnings:
                pulumi.log.warn(warning)
            for note in notes:
                pulumi.log.info(note)
            source_object = aws.s3.BucketObjectv2(
                f"{name}-source", bucket=bucket.id, key=source_key(args.api),
                source=pulumi.FileAsset(str(bundle.path)), source_hash=bundle.sha256,
                # S3 computes the SHA-256 of what it received; the program compares it with the bytes it wrote
                checksum_algorithm="SHA256",
                # The service's ARN as a tag makes the upload wait for this update's ECS service update: a build
                # started earlier could finish first and then be rolled back to the old image by that update.
                content_type="application/zip", tags={**args.tags, "deploys-service": service_arn},
                # the S3 source action needs a version id: versioning must be on before the first upload;
                # the bucket policy that guards the source prefix is in place before it too
                opts=pulumi.ResourceOptions(parent=self, depends_on=source_guards))
            upload_problem = source_object.checksum_sha256.apply(
                lambda checksum, bundle=bundle: upload_mismatch(args.api, bundle, checksum))
            if not args.wait:      # no waiter to stop the run: at least fail the update
                upload_problem.apply(_fail_on)
            source = source_action("managed", bucket=bucket.bucket, key=source_key(args.api))
        else:
            source = source_action("github", github=args.github, token=args.github_token)

        # --- CodePipeline ---
        # An API that may sleep: every run, awaited or not, wakes it before the ECS deploy and verifies after it.
        self.deploy_check = DeployCheck(f"{name}-check", DeployCheckArgs(
            stack=args.stack, api=args.api, pipeline=physical, region=args.region, account_id=args.account_id,
            partition=partition, cluster_name=args.cluster_name, service_name=args.service_name,
            cluster_arn=pulumi.Output.from_input(args.cluster_name).apply(
                lambda c: f"arn:{partition}:ecs:{args.region}:{args.account_id}:cluster/{c}"),
            bucket_arn=bucket.arn, log_group_name=log_group.name, log_group_arn=log_group.arn,
            awake_count=args.awake_count, deploy_timeout_minutes=args.deploy_timeout_minutes, tags=args.tags),
            opts=child) if args.awake_count > 0 else None
        connection = args.github.connection_arn if args.build_mode == "github" and args.github else None
        pipeline_policy = aws.iam.RolePolicy(
            f"{name}-pipeline", role=pipeline_role.id,
            policy=pulumi.Output.all(bucket.arn, project.arn, service_arn, list(args.task_role_arns),
                                     promote.arn, self.deploy_check.project_arn if self.deploy_check else None).apply(
                lambda parts: json.dumps(pipeline_role_policy(
                    bucket_arn=parts[0], project_arn=parts[1], service_arn=parts[2], passed_role_arns=parts[3],
                    promote_project_arn=parts[4], check_project_arn=parts[5],
                    connection_arn=connection, pipeline=physical,
                    source_key=source_key(args.api) if source_object is not None else None))),
            opts=child)
        triggers = github_triggers(args.github) if connection else None
        depends = [pipeline_policy, *repository_guards] + ([source_object] if source_object is not None else [])
        pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline", name=physical, pipeline_type="V2", execution_mode="SUPERSEDED",
            role_arn=pipeline_role.arn,
            artifact_stores=[{"location": bucket.bucket, "type": "S3"}],
            stages=pipeline_stages(source, project_name=project.name, promote_project_name=promote.name,
                                   cluster_name=args.cluster_name, deploy_timeout_minutes=args.deploy_timeout_minutes,
                                   service_name=args.service_name,
                                   approval=approval_stage(args.api, args.stack) if args.approval else None,
                                   deploy_check_project=self.deploy_check.project_name if self.deploy_check else None),
            triggers=triggers, tags=args.tags,
            # the run CodePipeline starts on creation must find the source zip and its permissions, and push into
            # repositories that are already closed to other writers
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends))

        if source_object is not None:
            aws.s3.BucketNotification(f"{name}-source-events", bucket=bucket.id, eventbridge=True, opts=child)
            rule_name = source_rule_name(args.stack, args.api)
            rule = aws.cloudwatch.EventRule(
                f"{name}-source", name=rule_name, description=f"a new source zip of {args.api} starts its pipeline",
                event_pattern=bucket.bucket.apply(
                    lambda b: json.dumps(source_object_event_pattern(b, source_key(args.api)))),
                tags=args.tags, opts=child)
            events_role = aws.iam.Role(
                f"{name}-start", description=f"EventBridge starts the pipeline of {args.api} (stack {args.stack})",
                assume_role_policy=assume_role_policy("events.amazonaws.com", args.account_id, event_rule_arn(
                    partition, args.region, args.account_id, rule_name)), tags=args.tags,
                opts=child)
            events_policy = aws.iam.RolePolicy(
                f"{name}-start", role=events_role.id,
                policy=pipeline.arn.apply(lambda arn: json.dumps(start_rule_policy(arn))), opts=child)
            aws.cloudwatch.EventTarget(
                f"{name}-source", rule=rule.name, arn=pipeline.arn, role_arn=events_role.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[events_policy]))

        self.pipeline_name = pipeline.name
        self.pipeline_url = pipeline.name.apply(lambda n: pipeline_console_url(args.region, n))
        pulumi.Output.all(pipeline.name, self.pipeline_url).apply(lambda parts: pulumi.log.info(
            f"API {args.api}: pipeline {parts[0]} builds and deploys it; `pulumi up` waits for the run of a new "
            f"source" + (" (and its manual approval before Deploy: approve or reject there)" if args.approval else "")
            + f". Follow it at {parts[1]}"))

        if args.wait:
            aws_config = pulumi.Config("aws")
            profile = args.profile if args.profile is not None else (aws_config.get("profile") or "")
            scale_to = pulumi.Output.from_input(args.images_ready).apply(
                lambda ready, replicas=args.replicas: 0 if ready else replicas)
            self.run = PipelineRun(
                f"{name}-run", pipeline_name=pipeline.name, region=args.region, profile=profile,
                # managed: the uploaded object version; github: "" (follow the newest run)
                source_revision=source_object.version_id if source_object is not None else "",
                # not "": S3 holds other bytes than the zip this update wrote; the run of that upload is stopped
                source_mismatch=upload_problem,
                cluster=args.cluster_name, service=args.service_name, scale_to=scale_to,
                timeout_seconds=args.wait_timeout_seconds,
                rollout_timeout_seconds=args.deploy_timeout_minutes * 60, repositories=list(args.repository_names),
                awake_count=args.awake_count, opts=pulumi.ResourceOptions(parent=self, depends_on=[pipeline, project]))
        self.register_outputs({"pipelineName": self.pipeline_name, "pipelineUrl": self.pipeline_url,
                               "bucket": bucket.bucket})
