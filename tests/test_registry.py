"""components/registry.py names and policy, and components/providers/image_lookup.py against moto's ECR."""
from __future__ import annotations

import json
import re

import boto3
import botocore.session
import pytest
from hypothesis import given, settings, strategies as st
from moto import mock_aws

from components.errors import ConfigError
from components.providers.image_lookup import (NO_IMAGE, CurrentImage, LatestImageProvider, find_latest, image_reference)
from components.registry import is_registry_image, lifecycle_policy, push_commands, repository_name

ECR_NAME = re.compile("^" + botocore.session.get_session().get_service_model("ecr")
                      .shape_for("RepositoryName").metadata["pattern"] + "$")
REPOSITORY = "serverless-containers-dev-posts-web"


def manifest(layer: str) -> str:
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654,
                    "digest": "sha256:" + layer * 64}]})


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName=REPOSITORY)
        yield client


def push(ecr, layer: str, *tags: str) -> str:
    for tag in tags:
        ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest(layer), imageTag=tag)
    return ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tags[0]}])["imageDetails"][0][
        "imageDigest"]


# --- names and policy -------------------------------------------------------------------------------------------

def test_repository_name_follows_the_contract():
    assert repository_name("dev", "posts", "web") == "serverless-containers-dev-posts-web"
    assert repository_name("dev", "posts", "My_Service.V2") == "serverless-containers-dev-posts-my_service.v2"
    assert repository_name("dev", "posts", "a__b--c") == "serverless-containers-dev-posts-a-b-c"


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,40}", fullmatch=True))
def test_any_compose_service_name_gives_a_name_ecr_accepts(container):
    name = repository_name("prod", "orders", container)
    assert ECR_NAME.match(name) and 2 <= len(name) <= 256


def test_lifecycle_policy_json_shape():
    rules = lifecycle_policy()["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2, 3]
    assert [r["selection"].get("tagPatternList") for r in rules] == [["deployed"], ["latest"], None]
    assert rules[-1]["selection"]["tagStatus"] == "any"          # ECR requires `any` to be the last rule
    assert lifecycle_policy(14)["rules"][-1]["selection"]["countNumber"] == 14


def test_manual_image_values():
    assert is_registry_image("nginx:1.27") and is_registry_image("ghcr.io/acme/app") and \
        is_registry_image("repo@sha256:" + "a" * 64)
    assert not is_registry_image("v3") and not is_registry_image("0a1b2c3")
    login, build, pushed = push_commands("123456789012.dkr.ecr.eu-west-1.amazonaws.com/r", "web", "/src/web",
                                         "Dockerfile", tag="v2")
    assert login == ("aws ecr get-login-password --region eu-west-1 | docker login --username AWS "
                     "--password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    assert build == "docker build -t 123456789012.dkr.ecr.eu-west-1.amazonaws.com/r:v2 -f Dockerfile /src/web"
    assert pushed == "docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/r:v2"


# --- the lookup -------------------------------------------------------------------------------------------------

def test_no_moving_tag_is_the_first_deploy(ecr):
    assert find_latest(ecr, REPOSITORY) == NO_IMAGE
    assert find_latest(ecr, "serverless-containers-dev-posts-missing") == NO_IMAGE
    assert image_reference("r", NO_IMAGE) == "r:deployed"          # placeholder while the service runs 0 tasks


def test_deployed_is_named_by_tag_and_resolved_to_its_hash(ecr):
    push(ecr, "a", "1111111")
    digest = push(ecr, "b", "2222222", "deployed")
    current = find_latest(ecr, REPOSITORY)
    assert current == CurrentImage(tag="2222222", digest=digest, moving="deployed")
    # the task definition names the moving tag: a later pipeline release changes no revision
    assert image_reference("r", current) == "r:deployed"


def test_deployed_wins_over_a_legacy_latest(ecr):
    deployed = push(ecr, "a", "1111111", "deployed")
    push(ecr, "b", "2222222", "latest")                           # a build whose deploy was never promoted
    assert find_latest(ecr, REPOSITORY) == CurrentImage(tag="1111111", digest=deployed, moving="deployed")


def test_legacy_latest_is_pinned_by_its_hash_or_digest(ecr):
    """Stacks deployed before the Promote stage have only `latest`: pinned as before."""
    digest = push(ecr, "b", "2222222", "latest")
    assert image_reference("r", find_latest(ecr, REPOSITORY)) == "r:2222222"
    hand_made = push(ecr, "d", "latest", "hand-made")
    current = find_latest(ecr, REPOSITORY)
    assert current == CurrentImage(tag="", digest=hand_made, moving="latest") and digest != hand_made
    assert image_reference("r", current) == f"r@{hand_made}"


def test_rollback_moves_deployed_and_the_lookup_follows(ecr):
    old = push(ecr, "a", "1111111")
    push(ecr, "b", "2222222", "deployed")
    push(ecr, "a", "deployed")                        # what `ops rollback` does: re-tag the old build
    assert find_latest(ecr, REPOSITORY) == CurrentImage(tag="1111111", digest=old, moving="deployed")


def test_provider_reports_a_change_only_when_deployed_moved(ecr):
    provider = LatestImageProvider(client_factory=lambda _props: ecr)
    props = {"repository": REPOSITORY, "region": "us-east-1", "profile": ""}
    created = provider.create(props)
    assert created.id == REPOSITORY and created.outs["tag"] == "" and created.outs["movingTag"] == ""

    push(ecr, "b", "2222222", "deployed")
    assert provider.diff(created.id, created.outs, props).changes is True          # first build promoted
    updated = provider.update(created.id, created.outs, props).outs
    assert (updated["tag"], updated["movingTag"]) == ("2222222", "deployed")
    assert provider.diff(created.id, updated, props).changes is False              # nothing moved since
    assert provider.diff(created.id, updated, {**props, "repository": "other-repo"}).changes is True
    assert provider.read(created.id, updated).outs["tag"] == "2222222"


def test_repository_name_clash_is_a_config_error():
    from components.compose.model import App, BuildSpec, Container, PortMapping
    from components.registry import ImageRepositories, ImageRepositoriesArgs
    from ops.plan import mockrun
    from pathlib import Path

    app = App(source_dir=Path("/srv/x"), compose_files=[], entrypoint="a-b", routed_port=80, containers=[
        Container(name="a-b", build=BuildSpec(context="/srv/x/a"), ports=[PortMapping(80)]),
        Container(name="A-B", build=BuildSpec(context="/srv/x/b"))])
    with pytest.raises(Exception) as error:
        mockrun.run(lambda: ImageRepositories("x", ImageRepositoriesArgs(stack="dev", api="x", app=app,
                                                                         build_mode="managed")))
    assert "would share the ECR repository" in str(error.value)
