"""Small Pulumi programs of our own that create the pipeline's resource types with realistic inputs.

They let the fidelity framework be tested before (and independently of) components/pipeline/pipeline.py, and
they are where the deliberately broken payloads come from. Names follow docs/design.md.
"""
from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUILDSPEC = """\
version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"
  build:
    commands:
      - docker build -t "$IMAGE_REPO_WEB:latest" .
  post_build:
    commands:
      - docker push "$IMAGE_REPO_WEB:latest"
      - printf '[{"name":"web","imageUri":"%s"}]' "$IMAGE_REPO_WEB:latest" > imagedefinitions.json
artifacts:
  files:
    - imagedefinitions.json
"""


def _assume(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def pipeline_program(*, stack: str = "dev", api: str = "web", extra_build_action: str | None = None,
                     github_connection: bool = False) -> None:
    """A build pipeline shaped like the pipeline issue's: S3 (or GitHub) source -> CodeBuild -> ECS deploy."""
    prefix = f"serverless-containers-{stack}-{api}"
    tags = {"project": "serverless-containers", "stack": stack, "api": api}
    repository = aws.ecr.Repository(f"{api}-repo", name=f"{prefix}-web", force_delete=True,
                                    image_scanning_configuration={"scan_on_push": True}, tags=tags)
    aws.ecr.LifecyclePolicy(f"{api}-repo-lifecycle", repository=repository.name, policy=json.dumps({"rules": [
        {"rulePriority": 1, "description": "keep latest", "selection": {
            "tagStatus": "tagged", "tagPatternList": ["latest"], "countType": "imageCountMoreThan", "countNumber": 1},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "7 days", "selection": {
            "tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
         "action": {"type": "expire"}}]}))
    bucket = aws.s3.Bucket(f"{api}-artifacts", bucket_prefix=f"sc-{stack}-{api}-", force_destroy=True, tags=tags)
    aws.s3.BucketVersioning(f"{api}-artifacts-versioning", bucket=bucket.id,
                            versioning_configuration={"status": "Enabled"})
    aws.s3.BucketServerSideEncryptionConfiguration(f"{api}-artifacts-sse", bucket=bucket.id, rules=[
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}])
    aws.s3.BucketPublicAccessBlock(f"{api}-artifacts-private", bucket=bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
    aws.s3.BucketLifecycleConfiguration(f"{api}-artifacts-cleanup", bucket=bucket.id, rules=[{
        "id": "expire-old-artifacts", "status": "Enabled", "filter": {"prefix": ""},
        "expiration": {"days": 7}, "noncurrent_version_expiration": {"noncurrent_days": 7},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}])
    source = aws.s3.BucketObjectv2(f"{api}-source", bucket=bucket.id, key=f"source/{api}.zip",
                                   source=pulumi.StringAsset("zip bytes"), content_type="application/zip")
    log_group = aws.cloudwatch.LogGroup(f"{api}-build-logs", name=f"/serverless-containers/{stack}/{api}/build",
                                        retention_in_days=7, tags=tags)
    build_role = aws.iam.Role(f"{api}-build-role", assume_role_policy=_assume("codebuild.amazonaws.com"), tags=tags)
    aws.iam.RolePolicy(f"{api}-build-policy", role=build_role.name, policy=pulumi.Output.all(
        repository.arn, bucket.arn, log_group.arn).apply(lambda a: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                           "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage",
                                           "ecr:UploadLayerPart", "ecr:GetDownloadUrlForLayer"], "Resource": a[0]},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
             "Resource": f"{a[1]}/*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{a[2]}:*"},
        ]})))
    project = aws.codebuild.Project(
        f"{api}-build", name=prefix, description=f"builds the images of {api}", service_role=build_role.arn,
        build_timeout=30, queued_timeout=60,
        source={"type": "CODEPIPELINE", "buildspec": BUILDSPEC},
        artifacts={"type": "CODEPIPELINE"},
        environment={"type": "LINUX_CONTAINER", "compute_type": "BUILD_GENERAL1_SMALL",
                     "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0", "privileged_mode": True,
                     "image_pull_credentials_type": "CODEBUILD",
                     "environment_variables": [{"name": "IMAGE_REPO_WEB", "value": repository.repository_url}]},
        logs_config={"cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name}},
        cache={"type": "LOCAL", "modes": ["LOCAL_DOCKER_LAYER_CACHE"]}, tags=tags)
    pipeline_role = aws.iam.Role(f"{api}-pipeline-role", assume_role_policy=_assume("codepipeline.amazonaws.com"))
    connection_actions = ["codestar-connections:UseConnection"] if github_connection else []
    actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning", "s3:PutObject",
               "codebuild:StartBuild", "codebuild:BatchGetBuilds", "ecs:DescribeServices",
               "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:TagResource",
               "iam:PassRole", *connection_actions]
    if extra_build_action:
        actions.append(extra_build_action)
    aws.iam.RolePolicy(f"{api}-pipeline-policy", role=pipeline_role.name, policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    if github_connection:
        connection = aws.codestarconnections.Connection(f"{api}-github", name=f"{stack}-{api}-github",
                                                        provider_type="GitHub")
        source_action = {"name": "Source", "category": "Source", "owner": "AWS",
                         "provider": "CodeStarSourceConnection", "version": "1", "output_artifacts": ["source"],
                         "configuration": {"ConnectionArn": connection.arn, "FullRepositoryId": "octo/app",
                                           "BranchName": "main", "DetectChanges": "true"}}
    else:
        source_action = {"name": "Source", "category": "Source", "owner": "AWS", "provider": "S3", "version": "1",
                         "output_artifacts": ["source"],
                         "configuration": {"S3Bucket": bucket.bucket, "S3ObjectKey": source.key,
                                           "PollForSourceChanges": "false"}}
    aws.codepipeline.Pipeline(
        f"{api}-pipeline", name=prefix, role_arn=pipeline_role.arn, pipeline_type="V2", execution_mode="SUPERSEDED",
        artifact_stores=[{"location": bucket.bucket, "type": "S3"}],
        stages=[
            {"name": "Source", "actions": [source_action]},
            {"name": "Build", "actions": [{
                "name": "Build", "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1",
                "input_artifacts": ["source"], "output_artifacts": ["images"],
                "configuration": {"ProjectName": project.name}}]},
            {"name": "Deploy", "actions": [{
                "name": "Deploy", "category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1",
                "input_artifacts": ["images"],
                "configuration": {"ClusterName": f"serverless-containers-{stack}", "ServiceName": api,
                                  "FileName": "imagedefinitions.json"}}]},
        ], tags=tags)
