"""Who may touch the pipeline's bucket and the API's ECR repositories, and the least-privilege roles of CodeBuild,
CodePipeline and the EventBridge rule (issues 14 and 23). Pure functions over ARNs and names: no Pulumi.

The bucket is the door to production: whatever lands in ``source/<api>.zip`` is built and deployed. So:

* the bucket policy denies every request not made over TLS, lets only the principal that runs
  ``pulumi up`` write under ``source/``, and only that principal and the pipeline's two roles write
  anywhere in the bucket (an account administrator's own Allow does not help: an explicit Deny wins);
* each ECR repository's policy lets only the build role (Build and Promote) and that principal (``ops rollback``)
  push or delete images, so nobody else can make ``deployed`` name an image of their own;
* CodeBuild reads and writes only the pipeline's artifact prefix (CodePipeline keeps a run's artifacts
  under the first 20 characters of the pipeline name), CodePipeline reads the source zip and reads and
  writes that prefix; ``s3:PutObjectAcl`` is not granted (the bucket enforces owner, ACLs are off);
* service roles trust their service for this account only (``aws:SourceAccount``) and, where the service
  sends it (CodeBuild: the project; EventBridge: the rule), for one source ARN (``aws:SourceArn``).
  CodePipeline documents no ``aws:SourceArn`` on its service-role assumption, and a condition on a key
  the service does not send would lock it out, so its role keeps the account condition only, and checks
  even that one only when CodePipeline sends it (``StringEqualsIfExists``): its documented trust policy
  has no condition at all (docs/design.md, "Questionable settings, decided").
"""
from __future__ import annotations

import json

# CodePipeline keeps a run's artifacts under the first 20 characters of the pipeline name.
ARTIFACT_PREFIX_LENGTH = 20
SOURCE_PREFIX = "source/"


def artifact_prefix(pipeline: str) -> str:
    return pipeline[:ARTIFACT_PREFIX_LENGTH]


# Services whose documentation does not say that they send aws:SourceAccount when they assume their role: a
# StringEquals on a key that is not sent denies sts:AssumeRole, and CreatePipeline fails.
SOURCE_ACCOUNT_IF_PRESENT = frozenset({"codepipeline.amazonaws.com"})


def assume_role_policy(service: str, account_id: str, source_arn: str | list[str] | None = None) -> str:
    """``service`` may assume the role for this account's resources only; with ``source_arn`` (ARNs or
    patterns ArnLike matches) only on behalf of those resources."""
    operator = "StringEqualsIfExists" if service in SOURCE_ACCOUNT_IF_PRESENT else "StringEquals"
    condition: dict = {operator: {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}]})


def codebuild_project_arn(partition: str, region: str, account_id: str, project: str) -> str:
    return f"arn:{partition}:codebuild:{region}:{account_id}:project/{project}"


def ecs_service_arn(partition: str, region: str, account_id: str, cluster: str, service: str) -> str:
    return f"arn:{partition}:ecs:{region}:{account_id}:service/{cluster}/{service}"


def event_rule_arn(partition: str, region: str, account_id: str, rule_name: str) -> str:
    """The ARN of one EventBridge rule on the default bus (no wildcard: the trust names exactly this rule)."""
    return f"arn:{partition}:events:{region}:{account_id}:rule/{rule_name}"


ECR_PUSH_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
                    "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                    # a build re-run for a hash ECR already has does not push it again (immutable tags)
                    "ecr:DescribeImages"]


def build_role_policy(log_group_arn: str, bucket_arn: str, repository_arns: list[str],
                      docker_hub_credentials_arn: str | None = None, *, pipeline: str | None = None,
                      build_secret_arns: list[str] = ()) -> dict:
    """CodeBuild: write its own log group, read its input and write its output artifact under the pipeline's
    artifact prefix, pull and push its own repositories (GetAuthorizationToken has no resource scope), and
    read the Docker Hub credentials when the stack has them. ``pipeline``: the pipeline's name (the
    artifact prefix); None allows the whole bucket."""
    objects = f"{bucket_arn}/{artifact_prefix(pipeline)}/*" if pipeline else f"{bucket_arn}/*"
    statements = [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group_arn, f"{log_group_arn}:*"]},
        {"Sid": "Artifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": [objects]},
        {"Sid": "ArtifactBucket", "Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation"],
         "Resource": [bucket_arn]},
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {"Sid": "EcrPush", "Effect": "Allow", "Action": ECR_PUSH_ACTIONS, "Resource": sorted(repository_arns)},
    ]
    if docker_hub_credentials_arn:
        statements.append({"Sid": "ReadDockerHubCredentials", "Effect": "Allow",
                           "Action": ["secretsmanager:GetSecretValue"], "Resource": [docker_hub_credentials_arn]})
    if build_secret_arns:
        # compose build.secrets, handed to BuildKit (docker build --secret)
        statements.append({"Sid": "ReadBuildSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": sorted(build_secret_arns)})
    return {"Version": "2012-10-17", "Statement": statements}


def pipeline_role_policy(*, bucket_arn: str, project_arn: str, service_arn: str, passed_role_arns: list[str],
                         connection_arn: str | None = None, promote_project_arn: str | None = None,
                         pipeline: str | None = None, source_key: str | None = None,
                         check_project_arn: str | None = None) -> dict:
    """CodePipeline: read the source zip (``source_key``) and read/write its artifact prefix, its CodeBuild
    projects (the build, ``promote_project_arn``, which moves the ``deployed`` tag, and ``check_project_arn``, the
    deploy check of an API that may sleep), its ECS service, tagging only the task definitions it registers, and passing the task's two
    roles to ECS (the deploy action registers a revision that names them)."""
    objects = [f"{bucket_arn}/{artifact_prefix(pipeline)}/*"] if pipeline else [f"{bucket_arn}/*"]
    statements = [
        {"Sid": "Artifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": objects},
    ]
    if pipeline and source_key:
        statements.append({"Sid": "ReadSource", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                           "Resource": [f"{bucket_arn}/{source_key}"]})
    statements += [
        {"Sid": "ArtifactBucket", "Effect": "Allow",
         "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation", "s3:ListBucket"], "Resource": [bucket_arn]},
        {"Sid": "Build", "Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
         "Resource": [project_arn] + [arn for arn in (promote_project_arn, check_project_arn) if arn]},
        {"Sid": "DeployService", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": [service_arn]},
        # These ECS calls take no resource-level permissions.
        {"Sid": "DeployTaskDefinition", "Effect": "Allow",
         "Action": ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:DescribeTasks",
                    "ecs:ListTasks"],
         "Resource": ["*"]},
        # Tags only while registering a task definition (ECS's documented create-action condition).
        {"Sid": "TagNewTaskDefinitions", "Effect": "Allow", "Action": ["ecs:TagResource"], "Resource": ["*"],
         "Condition": {"StringEquals": {"ecs:CreateAction": ["RegisterTaskDefinition"]}}},
        {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": sorted(passed_role_arns),
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
    ]
    if connection_arn:
        statements.append({"Sid": "GithubConnection", "Effect": "Allow",
                           "Action": ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
                           "Resource": [connection_arn]})
    return {"Version": "2012-10-17", "Statement": statements}


def bucket_policy(bucket_arn: str, *, deployer_arn: str, pipeline_role_arn: str, build_role_arn: str) -> dict:
    """TLS only; the source prefix written (and its versions deleted) by the deploying principal only; the rest
    of the bucket written by it and the pipeline's two roles only. ``deployer_arn`` is the IAM principal ARN (a
    role's, not its session's)."""
    writers = sorted({deployer_arn, pipeline_role_arn, build_role_arn})
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        # Deleting a version is denied too: deleting the newest version of a source zip would make an older one
        # current again (a versioned bucket), and the next pipeline run would build that older source.
        {"Sid": "OnlyTheDeployerWritesSources", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:PutObject", "s3:DeleteObjectVersion"], "Resource": [f"{bucket_arn}/{SOURCE_PREFIX}*"],
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [deployer_arn]}}},
        {"Sid": "OnlyTheDeployerAndThePipelineWrite", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": [f"{bucket_arn}/*"], "Condition": {"ArnNotEquals": {"aws:PrincipalArn": writers}}},
    ]}


# What changes which image a tag names, or removes one: pushing (a manifest with a tag, and the layers before it)
# and deleting. Pulls (BatchGetImage, GetDownloadUrlForLayer) stay open to whoever IAM lets pull.
REPOSITORY_WRITE_ACTIONS = ["ecr:PutImage", "ecr:BatchDeleteImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                            "ecr:CompleteLayerUpload"]


REPOSITORY_WRITERS_SID = "OnlyTheBuildAndTheDeployerPushOrDelete"   # ops rollback reads it before moving a tag


def repository_policy(*, deployer_arn: str, build_role_arn: str) -> dict:
    """An ECR repository policy that lets only the build role and the deploying principal push or delete images.

    The build role pushes hash tags (Build) and moves ``deployed`` (Promote runs with the same role); the deploying
    principal is the one ``ops rollback`` and a failed first deploy's clean-up (the PipelineRun provider, with the
    stack's credentials) use to move or remove ``deployed``. Anyone else's ``ecr:PutImage`` is denied, so no other
    principal of the account can make ``:deployed`` name an image of its own (docs/design.md, "Who may push").
    ECR repository policies name no Resource: the policy belongs to one repository."""
    writers = sorted({deployer_arn, build_role_arn})
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": REPOSITORY_WRITERS_SID, "Effect": "Deny", "Principal": "*",
         "Action": list(REPOSITORY_WRITE_ACTIONS), "Condition": {"ArnNotEquals": {"aws:PrincipalArn": writers}}},
    ]}


def approval_stage(api: str, stack: str) -> dict:
    """A manual approval between Build and Deploy (`approval: true`): the built images wait in ECR until
    someone with codepipeline:PutApprovalResult approves in the console."""
    return {"name": "Approve", "actions": [{
        "name": "Approve", "category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1",
        "configuration": {"CustomData": f"Deploy the new images of {api} to stack {stack}?"}}]}


def deploy_check_role_policy(*, log_group_arn: str, bucket_arn: str, pipeline: str, cluster_arn: str,
                             service_arn: str, app_log_groups_arn: str) -> dict:
    """The deploy check (components/pipeline/deploy_check.py), a CodeBuild project of its own role: write its log, read
    its input artifact, read and set this one service's count, read its tasks and their logs, read scaling state.
    Changing the scalable target is in ``deploy_check_target_policy`` (its ARN exists only once the target does).
    ``app_log_groups_arn``: a pattern for the API's container log groups, for the stopped tasks' last log lines."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group_arn, f"{log_group_arn}:*"]},
        {"Sid": "InputArtifact", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": [f"{bucket_arn}/{artifact_prefix(pipeline)}/*"]},
        {"Sid": "ThisServiceCount", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": [service_arn]},
        # ListTasks and DescribeTasks are scoped by their cluster (ECS's ecs:cluster condition key).
        {"Sid": "ThisClusterTasks", "Effect": "Allow", "Action": ["ecs:ListTasks", "ecs:DescribeTasks"],
         "Resource": ["*"], "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
        # DescribeTaskDefinition (does a container have a health check, where does it log) and the Application Auto
        # Scaling reads take no resource-level permission.
        {"Sid": "Reads", "Effect": "Allow",
         "Action": ["ecs:DescribeTaskDefinition", "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScheduledActions"], "Resource": ["*"]},
        {"Sid": "ContainerLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents"], "Resource": [app_log_groups_arn]},
    ]}


def deploy_check_target_policy(target_arn: str) -> dict:
    """The deploy check may raise and restore this one scalable target's minimum and set and drop its deadline action
    (scalable-target ARNs end in an id AWS assigns, so this comes from the target resource)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "HoldThisTarget", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScheduledAction",
                    "application-autoscaling:DeleteScheduledAction"], "Resource": [target_arn]},
    ]}
