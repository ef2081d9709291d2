"""ECR, the artifact bucket, CodeBuild and CodePipeline under the mock runtime, through the real program
(components/program.py), for build: managed, github (connection and token) and manual."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.providers.pipeline_run import DYNAMIC_TYPE as RUN_TYPE
from components.providers.image_lookup import DYNAMIC_TYPE as LATEST_TYPE
from components.program import main
from ops.plan import mockrun
from tests.infra_helpers import botocore_errors, policy, write_dockerfile_app

CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abcd-1234"
REPO_URL = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serverless-containers-dev"


def write_two_container_app(root: Path) -> Path:
    folder = root / "shop"
    (folder / "api").mkdir(parents=True)
    (folder / "api" / "Dockerfile.prod").write_text("FROM scratch AS build\nFROM scratch AS runtime\nEXPOSE 8080\n")
    (folder / "worker").mkdir()
    (folder / "worker" / "Dockerfile").write_text("FROM scratch\n")
    (folder / "docker-compose.yml").write_text(
        "services:\n"
        "  api:\n"
        "    build: {context: ./api, dockerfile: Dockerfile.prod, target: runtime, args: {NODE_ENV: production}}\n"
        "    ports: [\"8080:8080\"]\n"
        "  worker:\n"
        "    build: ./worker\n"
        "  cache:\n"
        "    image: public.ecr.aws/docker/library/redis:7\n")
    return folder


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apps")
    write_dockerfile_app(root, "web")
    write_two_container_app(root)
    return root


def run(apis: dict, **kwargs):
    config = {"apis": apis, **kwargs.pop("config", {})}
    return mockrun.run(main, config=config, **kwargs)


@pytest.fixture(scope="module")
def managed(apps):
    return run({"web": {"source": str(apps / "web"), "auth": False}})


@pytest.fixture(scope="module")
def managed_arm_two(apps):
    return run({"shop": {"source": str(apps / "shop"), "auth": False}},
               config={"cpuArchitecture": "ARM64", "logRetentionDays": 14})


def named(result, type_token: str, suffix: str):
    return next(r for r in result.of_type(type_token) if r.name.endswith(suffix))


def action(pipeline, stage: str) -> dict:
    stage_spec = next(s for s in pipeline.inputs["stages"] if s["name"] == stage)
    assert len(stage_spec["actions"]) == 1
    return stage_spec["actions"][0]


def as_api_pipeline(pipeline) -> dict:
    """The recorded inputs in CodePipeline's CreatePipeline shape, for botocore's validator."""
    inputs = pipeline.inputs
    return {"pipeline": {
        "name": inputs["name"], "roleArn": "arn:aws:iam::123456789012:role/p", "pipelineType": inputs["pipelineType"],
        "executionMode": inputs["executionMode"],
        "artifactStore": {"type": inputs["artifactStores"][0]["type"], "location": inputs["artifactStores"][0]["location"]},
        "stages": [{"name": s["name"], "actions": [{
            "name": a["name"], "actionTypeId": {k: a[k] for k in ("category", "owner", "provider", "version")},
            "configuration": a["configuration"],
            "inputArtifacts": [{"name": n} for n in a.get("inputArtifacts", [])],
            "outputArtifacts": [{"name": n} for n in a.get("outputArtifacts", [])]} for a in s["actions"]]}
            for s in inputs["stages"]]}}


# --- ECR ------------------------------------------------------------------------------------------------------

def test_one_repository_per_built_container(managed_arm_two):
    repositories = managed_arm_two.of_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repositories) == [
        "serverless-containers-dev-shop-api", "serverless-containers-dev-shop-worker"]     # not the image: one
    for repository in repositories:
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        # hash tags immutable; the moving tags (docs/design.md, "Who moves which tag") excluded
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert repository.inputs["imageTagMutabilityExclusionFilters"] == [
            {"filter": "deployed", "filterType": "WILDCARD"}, {"filter": "latest", "filterType": "WILDCARD"}]
        assert repository.inputs["forceDelete"] is True
        assert botocore_errors("ecr", "CreateRepository", {"repositoryName": repository.inputs["name"]}) == ""
    outputs = managed_arm_two.outputs["apis"]["shop"]
    assert outputs["repositories"] == {"api": f"{REPO_URL}-shop-api", "worker": f"{REPO_URL}-shop-worker"}


def test_lifecycle_policy_rule_by_rule(managed):
    lifecycle = managed.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    text = lifecycle.inputs["policy"]
    assert botocore_errors("ecr", "PutLifecyclePolicy", {"repositoryName": "repo", "lifecyclePolicyText": text}) == ""
    keep_deployed, keep_latest, expire_others = json.loads(text)["rules"]
    # rules 1-2 claim the images tagged deployed and (legacy) latest; one image at most carries a tag, so they
    # never expire anything
    for priority, (rule, tag) in enumerate(((keep_deployed, "deployed"), (keep_latest, "latest")), start=1):
        assert rule["rulePriority"] == priority
        assert rule["selection"] == {"tagStatus": "tagged", "tagPatternList": [tag],
                                     "countType": "imageCountMoreThan", "countNumber": 1}
        assert rule["action"] == {"type": "expire"}
    # rule 3 (tagStatus any must be the last rule): everything else 7 days after push
    assert expire_others["rulePriority"] == 3
    assert expire_others["selection"] == {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days",
                                          "countNumber": 7}
    assert expire_others["action"] == {"type": "expire"}


def test_task_runs_the_deployed_build(managed):
    task = managed.one("aws:ecs/taskDefinition:TaskDefinition")
    web, = json.loads(task.inputs["containerDefinitions"])
    assert web["image"] == f"{REPO_URL}-web-web:deployed"
    lookup = managed.one(LATEST_TYPE)
    assert lookup.inputs["repository"] == "serverless-containers-dev-web-web" and lookup.inputs["region"] == "us-east-1"
    assert managed.one("aws:ecs/service:Service").inputs["desiredCount"] == 1


# --- the bucket -----------------------------------------------------------------------------------------------

def test_bucket_is_versioned_encrypted_private_and_expires_after_7_days(managed):
    bucket = managed.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is True
    assert managed.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"] == \
        {"status": "Enabled"}
    encryption = managed.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    block = managed.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    ownership = managed.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}

    rules = {r["id"]: r for r in managed.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]}
    artifacts = rules["expire-pipeline-artifacts"]
    # CodePipeline writes a run's artifacts under the pipeline name's first 20 characters
    assert artifacts["filter"] == {"prefix": "serverless-container"} and artifacts["expiration"] == {"days": 7}
    assert not "source/web.zip".startswith(artifacts["filter"]["prefix"])      # the current source stays
    replaced = rules["expire-replaced-versions"]
    assert replaced["noncurrentVersionExpiration"] == {"noncurrentDays": 7} and replaced["status"] == "Enabled"
    assert rules["remove-expired-delete-markers"]["expiration"] == {"expiredObjectDeleteMarker": True}


def test_managed_source_zip_is_uploaded_and_starts_the_pipeline(managed, apps):
    source = managed.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert source.inputs["key"] == "source/web.zip" and len(source.inputs["sourceHash"]) == 64
    rule = managed.one("aws:cloudwatch/eventRule:EventRule")
    bucket = managed.one("aws:s3/bucket:Bucket").outputs["bucket"]
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": ["source/web.zip"]}}}
    assert managed.one("aws:s3/bucketNotification:BucketNotification").inputs["eventbridge"] is True
    target = managed.one("aws:cloudwatch/eventTarget:EventTarget")
    pipeline = managed.one("aws:codepipeline/pipeline:Pipeline")
    assert target.inputs["arn"] == pipeline.outputs["arn"]
    start = policy(named(managed, "aws:iam/rolePolicy:RolePolicy", "-start"))
    assert start["Statement"] == [{"Effect": "Allow", "Action": ["codepipeline:StartPipelineExecution"],
                                   "Resource": [pipeline.outputs["arn"]]}]


# --- CodeBuild ------------------------------------------------------------------------------------------------

def test_codebuild_x86(managed):
    project = managed.one("aws:codebuild/project:Project", "web-pipeline-build").inputs
    assert project["name"] == "serverless-containers-dev-web"
    environment = project["environment"]
    assert (environment["type"], environment["image"], environment["computeType"], environment["privilegedMode"]) == \
        ("LINUX_CONTAINER", "aws/codebuild/standard:7.0", "BUILD_GENERAL1_SMALL", True)
    variables = {v["name"]: v["value"] for v in environment["environmentVariables"]}
    assert variables == {"AWS_ACCOUNT_ID": "123456789012", "AWS_REGION": "us-east-1",
                         "IMAGE_REPO_WEB": f"{REPO_URL}-web-web"}
    assert project["source"]["type"] == "CODEPIPELINE" and project["artifacts"] == {"type": "CODEPIPELINE"}
    logs = project["logsConfig"]["cloudwatchLogs"]
    assert logs == {"status": "ENABLED", "groupName": "/aws/codebuild/serverless-containers-dev-web"}
    group = managed.one("aws:cloudwatch/logGroup:LogGroup", "web-pipeline-build").inputs
    assert group["name"] == logs["groupName"] and group["retentionInDays"] == 7
    spec = yaml.safe_load(project["source"]["buildspec"])
    assert spec["artifacts"] == {"files": ["imagedefinitions.json"]}
    assert 'docker build --cache-from "${IMAGE_REPO_WEB}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 -f Dockerfile ' \
           '-t "${IMAGE_REPO_WEB}:$HASH" .' in spec["phases"]["build"]["commands"]


def test_codebuild_arm64_two_containers(managed_arm_two):
    project = managed_arm_two.one("aws:codebuild/project:Project", "shop-pipeline-build").inputs
    environment = project["environment"]
    assert (environment["type"], environment["image"], environment["privilegedMode"]) == \
        ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0", True)
    variables = {v["name"] for v in environment["environmentVariables"]}
    assert variables == {"AWS_ACCOUNT_ID", "AWS_REGION", "IMAGE_REPO_API", "IMAGE_REPO_WORKER"}
    commands = yaml.safe_load(project["source"]["buildspec"])["phases"]["build"]["commands"]
    builds = [c for c in commands if c.startswith("docker build")]
    assert builds == [
        'docker build --cache-from "${IMAGE_REPO_API}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 '
        '-f api/Dockerfile.prod --build-arg NODE_ENV=production --target runtime -t "${IMAGE_REPO_API}:$HASH" api',
        'docker build --cache-from "${IMAGE_REPO_WORKER}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 '
        '-f worker/Dockerfile -t "${IMAGE_REPO_WORKER}:$HASH" worker']
    post = yaml.safe_load(project["source"]["buildspec"])["phases"]["post_build"]["commands"]
    assert json.loads(post[-1].split("'")[1].replace("\\n", "")) == [
        {"name": "api", "imageUri": "%s"}, {"name": "worker", "imageUri": "%s"}]   # never the image: container
    group = managed_arm_two.one("aws:cloudwatch/logGroup:LogGroup", "shop-pipeline-build").inputs
    assert group["retentionInDays"] == 14


def test_build_role_is_least_privilege(managed_arm_two):
    statements = {s["Sid"]: s for s in policy(named(managed_arm_two, "aws:iam/rolePolicy:RolePolicy",
                                                    "-pipeline-build"))["Statement"]}
    repositories = sorted(r.outputs["arn"] for r in managed_arm_two.of_type("aws:ecr/repository:Repository"))
    assert statements["EcrPush"]["Resource"] == repositories
    assert "ecr:PutImage" in statements["EcrPush"]["Action"]
    assert statements["EcrLogin"] == {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                                      "Resource": ["*"]}
    bucket_arn = managed_arm_two.one("aws:s3/bucket:Bucket").outputs["arn"]
    # only the pipeline's artifact prefix (the first 20 characters of its name), never the source zips
    assert statements["Artifacts"]["Resource"] == [f"{bucket_arn}/serverless-container/*"]
    group_arn = managed_arm_two.one("aws:cloudwatch/logGroup:LogGroup", "shop-pipeline-build").outputs["arn"]
    assert statements["Logs"]["Resource"] == [group_arn, f"{group_arn}:*"]
    assert not any("*" == a or a.endswith(":*") for s in statements.values() for a in s["Action"])


# --- CodePipeline ---------------------------------------------------------------------------------------------

def test_managed_pipeline_stages(managed):
    pipeline = managed.one("aws:codepipeline/pipeline:Pipeline")
    inputs = pipeline.inputs
    assert (inputs["name"], inputs["pipelineType"], inputs["executionMode"]) == \
        ("serverless-containers-dev-web", "V2", "SUPERSEDED")
    bucket = managed.one("aws:s3/bucket:Bucket").outputs["bucket"]
    assert inputs["artifactStores"] == [{"location": bucket, "type": "S3"}]
    assert [s["name"] for s in inputs["stages"]] == ["Source", "Build", "Deploy", "Promote"]
    source = action(pipeline, "Source")
    assert (source["owner"], source["provider"]) == ("AWS", "S3")
    assert source["configuration"] == {"S3Bucket": bucket, "S3ObjectKey": "source/web.zip",
                                       "PollForSourceChanges": "false"}
    build = action(pipeline, "Build")
    assert (build["provider"], build["configuration"]) == ("CodeBuild", {"ProjectName": "serverless-containers-dev-web"})
    assert build["inputArtifacts"] == ["source"] and build["outputArtifacts"] == ["imagedefinitions"]
    deploy = action(pipeline, "Deploy")
    assert (deploy["category"], deploy["provider"]) == ("Deploy", "ECS")
    assert deploy["configuration"] == {"ClusterName": "serverless-containers-dev", "ServiceName": "web",
                                       "FileName": "imagedefinitions.json", "DeploymentTimeout": "30"}
    promote = action(pipeline, "Promote")
    assert (promote["provider"], promote["inputArtifacts"]) == ("CodeBuild", ["imagedefinitions"])
    assert promote["configuration"] == {"ProjectName": "serverless-containers-dev-web-promote"}
    assert botocore_errors("codepipeline", "CreatePipeline", as_api_pipeline(pipeline)) == ""
    outputs = managed.outputs["apis"]["web"]
    assert outputs["pipelineName"] == "serverless-containers-dev-web"
    assert outputs["pipelineUrl"] == ("https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
                                      "serverless-containers-dev-web/view?region=us-east-1")
    assert any(outputs["pipelineUrl"] in message for level, message in managed.logs if level == "info")


def test_pipeline_role_is_least_privilege(managed):
    statements = {s["Sid"]: s for s in policy(named(managed, "aws:iam/rolePolicy:RolePolicy",
                                                    "-pipeline-pipeline"))["Statement"]}
    assert statements["Build"]["Resource"] == [
        managed.one("aws:codebuild/project:Project", name).outputs["arn"]
        for name in ("web-pipeline-build", "web-pipeline-promote")]
    assert statements["DeployService"]["Resource"] == [
        "arn:aws:ecs:us-east-1:123456789012:service/serverless-containers-dev/web"]
    roles = {r.name: r.outputs["arn"] for r in managed.of_type("aws:iam/role:Role")}
    assert statements["PassTaskRoles"]["Resource"] == sorted([roles["web-execution"], roles["web-task"]])
    assert statements["PassTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert "GithubConnection" not in statements
    trust = json.loads(named(managed, "aws:iam/role:Role", "-pipeline-pipeline").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "codepipeline.amazonaws.com"}
    # CodePipeline's documented trust policy has no condition: the account is checked only if CodePipeline sends it
    assert trust["Statement"][0]["Condition"] == {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}
    build_trust = json.loads(named(managed, "aws:iam/role:Role", "-pipeline-build").inputs["assumeRolePolicy"])
    assert build_trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_waiter_follows_the_upload_and_the_service(managed):
    waiter = managed.one(RUN_TYPE)
    source = managed.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert waiter.inputs["sourceRevision"] == source.outputs["versionId"]
    assert waiter.inputs["pipelineName"] == "serverless-containers-dev-web"
    assert (waiter.inputs["cluster"], waiter.inputs["service"]) == ("serverless-containers-dev", "web")
    assert waiter.inputs["scaleTo"] == 0        # images exist: nothing to scale


def test_first_deploy_holds_the_service_at_zero_and_the_waiter_scales_it(apps):
    result = run({"shop": {"source": str(apps / "shop"), "auth": False}}, latest_image_tag="")
    assert result.one("aws:ecs/service:Service").inputs["desiredCount"] == 0
    assert result.one(RUN_TYPE).inputs["scaleTo"] == 1
    images = {d["name"]: d["image"] for d in json.loads(
        result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])}
    assert images["api"] == f"{REPO_URL}-shop-api:deployed"        # placeholder while no task runs
    assert images["cache"] == "public.ecr.aws/docker/library/redis:7"


def test_github_with_a_connection(apps):
    result = run({"web": {"source": str(apps / "web"), "auth": False, "build": "github",
                          "github": {"owner": "acme", "repo": "mono", "branch": "release", "path": "services/web",
                                     "connectionArn": CONNECTION}}})
    pipeline = result.one("aws:codepipeline/pipeline:Pipeline")
    source = action(pipeline, "Source")
    assert (source["owner"], source["provider"]) == ("AWS", "CodeStarSourceConnection")
    assert source["configuration"] == {"ConnectionArn": CONNECTION, "FullRepositoryId": "acme/mono",
                                       "BranchName": "release", "OutputArtifactFormat": "CODE_ZIP",
                                       "DetectChanges": "true"}
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "Build", "Deploy", "Promote"]
    assert pipeline.inputs["triggers"] == [{"providerType": "CodeStarSourceConnection", "gitConfiguration": {
        "sourceActionName": "Source",
        "pushes": [{"branches": {"includes": ["release"]}, "filePaths": {"includes": ["services/web/**"]}}]}}]
    assert botocore_errors("codepipeline", "CreatePipeline", as_api_pipeline(pipeline)) == ""
    # monorepo: the build runs in the app's folder
    spec = yaml.safe_load(result.one("aws:codebuild/project:Project", "web-pipeline-build").inputs["source"]["buildspec"])
    assert spec["phases"]["pre_build"]["commands"][0] == 'cd "$CODEBUILD_SRC_DIR"/services/web'
    statements = {s["Sid"]: s for s in policy(named(result, "aws:iam/rolePolicy:RolePolicy",
                                                    "-pipeline-pipeline"))["Statement"]}
    assert statements["GithubConnection"]["Resource"] == [CONNECTION]
    # no upload, no S3 trigger; the waiter follows the newest run
    assert result.of_type("aws:s3/bucketObjectv2:BucketObjectv2") == []
    assert result.of_type("aws:cloudwatch/eventRule:EventRule") == []
    assert result.one(RUN_TYPE).inputs["sourceRevision"] == ""


def test_github_with_a_token(apps):
    result = run({"web": {"source": str(apps / "web"), "auth": False, "build": "github",
                          "github": {"owner": "acme", "repo": "web"}}},
                 config={"githubToken": "ghp_secretvalue"}, secret_keys=["githubToken"])
    pipeline = result.one("aws:codepipeline/pipeline:Pipeline")
    source = action(pipeline, "Source")
    assert (source["owner"], source["provider"], source["version"]) == ("ThirdParty", "GitHub", "1")
    assert source["configuration"] == {"Owner": "acme", "Repo": "web", "Branch": "main",
                                       "OAuthToken": "ghp_secretvalue", "PollForSourceChanges": "true"}
    assert "stages" in pipeline.secret_paths        # the token keeps the stages secret in the state
    assert pipeline.inputs.get("triggers") in (None, [])
    assert not any("ghp_secretvalue" in message for _, message in result.logs)


def test_manual_has_no_pipeline_and_prints_push_commands(apps):
    result = run({"shop": {"source": str(apps / "shop"), "auth": False, "build": "manual",
                           "images": {"api": "v3", "worker": "ghcr.io/acme/worker:1.2"}}})
    for token in ("aws:codepipeline/pipeline:Pipeline", "aws:codebuild/project:Project", "aws:s3/bucket:Bucket",
                  RUN_TYPE, LATEST_TYPE):
        assert result.of_type(token) == [], token
    assert len(result.of_type("aws:ecr/repository:Repository")) == 2
    outputs = result.outputs["apis"]["shop"]
    assert (outputs["pipelineName"], outputs["pipelineUrl"], outputs["build"]) == ("", "", "manual")
    images = {d["name"]: d["image"] for d in json.loads(
        result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])}
    assert images == {"api": f"{REPO_URL}-shop-api:v3", "worker": "ghcr.io/acme/worker:1.2",
                      "cache": "public.ecr.aws/docker/library/redis:7"}
    assert result.one("aws:ecs/service:Service").inputs["desiredCount"] == 1
    info = "\n".join(message for level, message in result.logs if level == "info")
    assert (f"aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin "
            f"123456789012.dkr.ecr.us-east-1.amazonaws.com") in info
    assert f"docker push {REPO_URL}-shop-api:v1" in info


def test_manual_without_an_image_runs_no_task_and_warns(apps):
    result = run({"shop": {"source": str(apps / "shop"), "auth": False, "build": "manual",
                           "images": {"api": "v3"}}})
    assert result.one("aws:ecs/service:Service").inputs["desiredCount"] == 0
    warning = next(w for w in result.warnings if "worker" in w and "build: manual" in w)
    assert f"docker push {REPO_URL}-shop-worker:v1" in warning
    assert "serverless-containers:apis.shop.images.worker" in warning


def test_context_outside_the_source_folder_stops_before_anything_is_registered(tmp_path):
    folder = tmp_path / "api"
    folder.mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Dockerfile").write_text("FROM scratch\n")
    (folder / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: ../shared\n    ports: [\"8080:8080\"]\n")
    with pytest.raises(Exception) as error:
        run({"api": {"source": str(folder), "auth": False}})
    assert "outside the API's source folder" in str(error.value) and "build.context" in str(error.value)


def test_manual_image_for_an_image_container_is_ignored_with_a_warning(apps):
    result = run({"shop": {"source": str(apps / "shop"), "auth": False, "build": "manual",
                           "images": {"api": "v3", "worker": "v3", "cache": "redis:8"}}})
    images = {d["name"]: d["image"] for d in json.loads(
        result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])}
    assert images["cache"] == "public.ecr.aws/docker/library/redis:7"
    assert any("images.cache is ignored" in w for w in result.warnings)


def test_promote_project_tags_the_deployed_build_without_docker(managed):
    project = managed.one("aws:codebuild/project:Project", "web-pipeline-promote").inputs
    build = managed.one("aws:codebuild/project:Project", "web-pipeline-build")
    assert project["name"] == "serverless-containers-dev-web-promote"
    assert project["serviceRole"] == build.inputs["serviceRole"]       # the build role may put images already
    assert project["environment"]["privilegedMode"] is False
    assert project["logsConfig"]["cloudwatchLogs"]["groupName"] == build.inputs["logsConfig"]["cloudwatchLogs"][
        "groupName"]
    spec = yaml.safe_load(project["source"]["buildspec"])
    commands = " ".join(spec["phases"]["build"]["commands"])
    assert "put-image" in commands and "--image-tag deployed" in commands
    assert "docker push" not in commands and "docker pull" not in commands
    request = {"name": project["name"], "source": {"type": "CODEPIPELINE", "buildspec": project["source"]["buildspec"]},
               "artifacts": {"type": "CODEPIPELINE"}, "serviceRole": project["serviceRole"],
               "environment": {"type": project["environment"]["type"], "image": project["environment"]["image"],
                               "computeType": project["environment"]["computeType"]}}
    assert botocore_errors("codebuild", "CreateProject", request) == ""
