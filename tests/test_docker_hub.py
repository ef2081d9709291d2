"""Docker Hub pull credentials (`serverless-containers:dockerHubCredentials`, amplify-cli#8576): which images
are Docker Hub's, the config check, the container definitions, both roles and the buildspec, alone and
through the real program under the mock runtime. The buildspec's commands run in tests/test_buildspec.py."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pulumi
import pytest
import yaml

from components.settings.stack import load_settings
from components.docker_hub import image_registry, is_docker_hub_image, uses_docker_hub
from components.errors import ConfigError
from components.compose.model import Container, PortMapping
from components.pipeline.pipeline import build_role_policy
from components.program import main
from components.service import execution_role_policy
from components.task_plan import container_definitions
from ops.plan import mockrun
from tests.infra_helpers import all_strings, botocore_errors, policy, two_container_app, write_dockerfile_app

HUB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/dockerhub-AbC123"
ECR_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serverless-containers-dev-multi-express:abc1234"


# --- which registry -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("image", [
    "nginx", "nginx:1.27", "library/nginx:1", "user/app", "user/app@sha256:" + "a" * 64, "docker.io/user/app",
    "docker.io/library/redis:7", "index.docker.io/library/nginx", "registry-1.docker.io/acme/api:2",
    "DOCKER.IO/acme/api", "a/b/c",
])
def test_docker_hub_images(image):
    assert is_docker_hub_image(image)


@pytest.mark.parametrize("image, registry", [
    ("localhost:5000/x", "localhost:5000"), ("localhost/x", "localhost"), ("ghcr.io/x", "ghcr.io"),
    ("ghcr.io/acme/api:1.2", "ghcr.io"), (ECR_IMAGE, "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    ("public.ecr.aws/docker/library/python:3.12-slim", "public.ecr.aws"), ("quay.io/org/app", "quay.io"),
    ("registry:5000/app", "registry:5000"), ("Registry/app", "registry"), ("mcr.microsoft.com/dotnet/aspnet", "mcr.microsoft.com"),
])
def test_other_registries(image, registry):
    assert image_registry(image) == registry
    assert not is_docker_hub_image(image)


def test_empty_and_collections():
    assert not is_docker_hub_image("") and not is_docker_hub_image("  ")
    assert uses_docker_hub({"a": ECR_IMAGE, "b": "redis:7"}) and uses_docker_hub(["nginx"])
    assert not uses_docker_hub({"a": ECR_IMAGE, "b": "ghcr.io/x"}) and not uses_docker_hub([])


# --- config --------------------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_dockerfile_app(tmp_path / "apps", "posts")
    return tmp_path


def settings_with(project: Path, value):
    return load_settings({"apis": {"posts": {"source": "apps/posts"}}, "dockerHubCredentials": value}, project, "dev")


@pytest.mark.parametrize("arn", [
    HUB_SECRET, "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:hub-AbCdEf",
    "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a/b_c+d=e.f@g-123456",
])
def test_secret_arns_are_accepted(project, arn):
    assert settings_with(project, arn).docker_hub_credentials == arn


def test_unset_is_none(project):
    assert load_settings({"apis": {"posts": {"source": "apps/posts"}}}, project, "dev").docker_hub_credentials is None


@pytest.mark.parametrize("value, problem", [
    ("dockerhub", "is not a Secrets Manager secret ARN"),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/hub", "is not a Secrets Manager secret ARN"),
    ("arn:aws:secretsmanager:us-east-1:1234:secret:hub-AbC123", "is not a Secrets Manager secret ARN"),
    ("arn:aws:secretsmanager:useast1:123456789012:secret:hub-AbC123", "is not a Secrets Manager secret ARN"),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:", "is not a Secrets Manager secret ARN"),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:hub creds-AbC123", "is not a Secrets Manager secret ARN"),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub", "lacks the 6 random characters"),
    ("", "expected a non-empty string"), (42, "expected a non-empty string"),
    ({"username": "u", "password": "p"}, "expected a non-empty string"),
])
def test_bad_values_are_config_errors_naming_the_key_and_the_fix(project, value, problem):
    with pytest.raises(ConfigError) as caught:
        settings_with(project, value)
    error = caught.value
    assert error.key == "serverless-containers:dockerHubCredentials" and error.file == "stacks/Pulumi.dev.yaml"
    assert problem in error.problem
    assert "describe-secret" in error.fix and "username" in error.fix


# --- pure: container definitions and role policies ----------------------------------------------------------

def hub_app():
    """express (built, ECR) and python (`image:` on Docker Hub)."""
    app = two_container_app()
    app.containers[1].image = "python:3.12-slim"
    return app


def definitions(app, images, **kwargs):
    return container_definitions(app, images=images, log_groups={c.name: f"/g/{c.name}" for c in app.containers},
                                 region="us-east-1", secret_arns={"API_TOKEN": "arn:aws:secretsmanager:x"},
                                 **kwargs).definitions


def test_only_docker_hub_containers_get_repository_credentials():
    express, python = definitions(hub_app(), {"express": ECR_IMAGE, "python": "python:3.12-slim"},
                                  docker_hub_credentials=HUB_SECRET)
    assert "repositoryCredentials" not in express
    assert python["repositoryCredentials"] == {"credentialsParameter": HUB_SECRET}
    _, ghcr = definitions(hub_app(), {"express": ECR_IMAGE, "python": "ghcr.io/acme/python:3"},
                          docker_hub_credentials=HUB_SECRET)
    assert "repositoryCredentials" not in ghcr


def test_without_the_key_definitions_do_not_change():
    images = {"express": ECR_IMAGE, "python": "python:3.12-slim"}
    assert definitions(hub_app(), images) == definitions(hub_app(), images, docker_hub_credentials=None)
    assert not any("repositoryCredentials" in d for d in definitions(hub_app(), images))


def test_repository_credentials_are_a_valid_register_task_definition_request():
    app = hub_app()
    request = {"family": "serverless-containers-dev-multi", "cpu": "512", "memory": "1024", "networkMode": "awsvpc",
               "requiresCompatibilities": ["FARGATE"],
               "executionRoleArn": "arn:aws:iam::123456789012:role/x",
               "containerDefinitions": definitions(app, {"express": ECR_IMAGE, "python": "python:3.12-slim"},
                                                   docker_hub_credentials=HUB_SECRET)}
    assert botocore_errors("ecs", "RegisterTaskDefinition", request) == ""
    # the check can fail: a misspelt field is reported
    request["containerDefinitions"][1]["repositoryCredentials"] = {"credentialsArn": HUB_SECRET}
    assert "credentialsParameter" in botocore_errors("ecs", "RegisterTaskDefinition", request)


def test_role_policies_grant_reading_exactly_that_secret():
    logs = ["arn:aws:logs:us-east-1:1:log-group:/g"]
    for document in (execution_role_policy([], logs, [], HUB_SECRET),
                     build_role_policy("arn:aws:logs:us-east-1:1:log-group:/b", "arn:aws:s3:::bucket", [],
                                       HUB_SECRET)):
        statement, = [s for s in document["Statement"] if s["Sid"] == "ReadDockerHubCredentials"]
        assert statement == {"Sid": "ReadDockerHubCredentials", "Effect": "Allow",
                             "Action": ["secretsmanager:GetSecretValue"], "Resource": [HUB_SECRET]}
    assert execution_role_policy([], logs, []) == execution_role_policy([], logs, [], None)
    assert "secretsmanager" not in json.dumps(execution_role_policy([], logs, []))
    assert "secretsmanager" not in json.dumps(build_role_policy("arn:l", "arn:b", []))


# --- the real program under the mock runtime ----------------------------------------------------------------

def write_hub_app(root: Path) -> Path:
    """A built entrypoint, a Docker Hub sidecar, an explicit docker.io one and a GHCR one."""
    folder = root / "hub"
    (folder / "api").mkdir(parents=True)
    (folder / "api" / "Dockerfile").write_text("FROM node:22-slim\nEXPOSE 8080\n")
    (folder / "docker-compose.yml").write_text(
        "services:\n"
        "  api:\n"
        "    build: ./api\n"
        "    ports: [\"8080:8080\"]\n"
        "  cache:\n"
        "    image: redis:7\n"
        "  proxy:\n"
        "    image: docker.io/library/nginx:1.27\n"
        "  tool:\n"
        "    image: ghcr.io/acme/tool:1\n")
    return folder


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hub-apps")
    write_hub_app(root)
    write_dockerfile_app(root, "web")
    return root


def run(apps: Path, apis: dict, credentials: str | None):
    config = {"apis": apis, **({"dockerHubCredentials": credentials} if credentials else {})}
    return mockrun.run(main, config=config)


@pytest.fixture(scope="module")
def with_key(apps):
    return run(apps, {"hub": {"source": str(apps / "hub"), "auth": False}}, HUB_SECRET)


@pytest.fixture(scope="module")
def without_key(apps):
    return run(apps, {"hub": {"source": str(apps / "hub"), "auth": False}}, None)


def task_containers(result) -> dict[str, dict]:
    definitions_json = result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"]
    return {d["name"]: d for d in json.loads(definitions_json)}


def statements(result, suffix: str) -> dict[str, dict]:
    role_policy = next(p for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix))
    return {s["Sid"]: s for s in policy(role_policy)["Statement"]}


def test_program_gives_credentials_to_docker_hub_containers_only(with_key):
    containers = task_containers(with_key)
    assert {name for name, d in containers.items() if "repositoryCredentials" in d} == {"cache", "proxy"}
    assert containers["cache"]["repositoryCredentials"] == {"credentialsParameter": HUB_SECRET}
    assert containers["proxy"]["image"] == "docker.io/library/nginx:1.27"
    assert ".dkr.ecr." in containers["api"]["image"]


def test_program_roles_read_exactly_that_secret(with_key):
    for suffix in ("hub-execution", "hub-pipeline-build"):
        grants = [s for s in statements(with_key, suffix).values() if "secretsmanager:GetSecretValue" in s["Action"]]
        assert grants == [{"Sid": "ReadDockerHubCredentials", "Effect": "Allow",
                           "Action": ["secretsmanager:GetSecretValue"], "Resource": [HUB_SECRET]}]
    # the task's own code never reads it
    assert not any(HUB_SECRET in s for p in with_key.of_type("aws:iam/rolePolicy:RolePolicy")
                   if not p.name.endswith(("hub-execution", "hub-pipeline-build")) for s in all_strings(p.inputs))


def test_program_buildspec_logs_in_to_docker_hub(with_key):
    build = with_key.one("aws:codebuild/project:Project", "hub-pipeline-build")   # not the Promote project
    spec = yaml.safe_load(build.inputs["source"]["buildspec"])
    assert spec["env"]["secrets-manager"] == {"DOCKERHUB_USERNAME": f"{HUB_SECRET}:username",
                                              "DOCKERHUB_PASSWORD": f"{HUB_SECRET}:password"}
    assert spec["phases"]["pre_build"]["commands"][-1] == \
        'echo "$DOCKERHUB_PASSWORD" | docker login --username "$DOCKERHUB_USERNAME" --password-stdin'
    # plain-text CodeBuild variables never carry it
    variables = build.inputs["environment"]["environmentVariables"]
    assert all(v["type"] == "PLAINTEXT" and "DOCKERHUB" not in v["name"] for v in variables)


def test_unset_key_changes_nothing_and_set_key_changes_only_four_resources(with_key, without_key):
    def comparable(value):
        # assets compare by identity; their content is what matters (each run writes its zip in a folder of its own)
        if isinstance(value, pulumi.asset.FileAsset):
            return ("file-asset", hashlib.sha256(Path(value.path).read_bytes()).hexdigest())
        if isinstance(value, dict):
            return {k: comparable(v) for k, v in value.items()}
        return [comparable(v) for v in value] if isinstance(value, list) else value

    def by_name(result):
        return {(r.type, r.name): comparable(r.inputs) for r in result.resources}
    before, after = by_name(without_key), by_name(with_key)
    assert set(before) == set(after)
    assert sorted(key for key in before if before[key] != after[key]) == [
        ("aws:codebuild/project:Project", "hub-pipeline-build"),
        ("aws:ecs/taskDefinition:TaskDefinition", "hub-task"),
        ("aws:iam/rolePolicy:RolePolicy", "hub-execution"),
        ("aws:iam/rolePolicy:RolePolicy", "hub-pipeline-build")]
    assert not any(s in text for r in without_key.resources for text in all_strings(r.inputs)
                   for s in ("repositoryCredentials", "DOCKERHUB", "secrets-manager", "ReadDockerHub"))


def test_no_docker_hub_image_means_no_execution_grant_but_builds_still_log_in(apps):
    result = run(apps, {"web": {"source": str(apps / "web"), "auth": False}}, HUB_SECRET)
    assert "ReadDockerHubCredentials" not in statements(result, "web-execution")
    assert not any("repositoryCredentials" in d for d in task_containers(result).values())
    # a Dockerfile's FROM may name Docker Hub whatever the task runs
    assert statements(result, "web-pipeline-build")["ReadDockerHubCredentials"]["Resource"] == [HUB_SECRET]


def test_manual_registry_image_from_docker_hub_gets_credentials(apps):
    result = run(apps, {"web": {"source": str(apps / "web"), "auth": False, "build": "manual",
                                "images": {"web": "acme/web:1.0"}}}, HUB_SECRET)
    web, = task_containers(result).values()
    assert web["image"] == "acme/web:1.0" and web["repositoryCredentials"] == {"credentialsParameter": HUB_SECRET}
    assert statements(result, "web-execution")["ReadDockerHubCredentials"]["Resource"] == [HUB_SECRET]
    assert not result.of_type("aws:codebuild/project:Project")


def test_bad_arn_stops_the_program_before_anything_is_registered(apps):
    with pytest.raises(Exception) as caught:
        run(apps, {"web": {"source": str(apps / "web"), "auth": False}},
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub")
    assert "serverless-containers:dockerHubCredentials" in str(caught.value)
    assert isinstance(caught.value, ConfigError)
