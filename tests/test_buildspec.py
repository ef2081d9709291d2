"""components/pipeline/buildspec.py: the buildspec's shape, and its commands run in bash with fake `aws` and
`docker` executables that record their calls."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from components.pipeline.buildspec import (IMAGE_DEFINITIONS_FILE, SOURCE_HASH_FILE, ImageBuild, buildspec, buildspec_yaml,
                                  image_builds, image_definitions, phase_commands, promote_buildspec_yaml,
                                  repository_env_var)
from components.errors import ConfigError
from components.compose.model import App, BuildSpec, Container, PortMapping

SOURCE = Path("/srv/app")
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serverless-containers-dev-multi"


def app_with(*containers: Container, source: Path = SOURCE) -> App:
    return App(source_dir=source, compose_files=[source / "docker-compose.yml"], containers=list(containers),
               entrypoint=containers[0].name, routed_port=8080)


def built(name: str, context: str, **build) -> Container:
    return Container(name=name, build=BuildSpec(context=context, **build), ports=[PortMapping(8080)])


ONE = [ImageBuild("web", ".", "Dockerfile")]
TWO = [ImageBuild("express", "express", "express/Dockerfile.prod", {"NODE_ENV": "production", "GREETING": "hi there"},
                  "runtime"),
       ImageBuild("worker", "worker", "worker/Dockerfile")]


# --- model -> relative builds ---------------------------------------------------------------------------------

def test_contexts_and_dockerfiles_become_relative_to_the_source_folder():
    app = app_with(
        built("express", str(SOURCE / "express"), dockerfile="Dockerfile.prod", args={"A": "1"}, target="runtime"),
        Container(name="python", image="python:3.12-slim"),
        built("root", str(SOURCE)),
        built("remote", "https://github.com/acme/tool.git#main", dockerfile="build/Dockerfile"))
    builds = image_builds(app)
    assert [b.container for b in builds] == ["express", "root", "remote"]     # image: containers are not built
    express, root, remote = builds
    assert (express.context, express.dockerfile, express.args, express.target) == \
        ("express", "express/Dockerfile.prod", {"A": "1"}, "runtime")
    assert (root.context, root.dockerfile) == (".", "Dockerfile")
    # a Git context is fetched by docker itself; -f is relative to the repository
    assert (remote.context, remote.dockerfile) == ("https://github.com/acme/tool.git#main", "build/Dockerfile")


def test_context_outside_the_source_folder_is_a_config_error():
    app = app_with(built("api", str(SOURCE.parent / "shared")))
    with pytest.raises(ConfigError) as error:
        image_builds(app)
    assert error.value.service == "api" and error.value.key == "build.context"
    assert "outside the API's source folder" in str(error.value) and "docker-compose.yml" in str(error.value)


def test_dockerfile_outside_the_source_folder_is_a_config_error():
    app = app_with(built("api", str(SOURCE / "api"), dockerfile="../../Dockerfile"))
    with pytest.raises(ConfigError) as error:
        image_builds(app)
    assert error.value.key == "build.dockerfile"


def test_repository_variables_are_shell_names():
    assert repository_env_var("express") == "IMAGE_REPO_EXPRESS"
    assert repository_env_var("my-api.v2") == "IMAGE_REPO_MY_API_V2"
    clash = app_with(built("a-b", str(SOURCE / "x")), built("a_b", str(SOURCE / "y")))
    with pytest.raises(ConfigError):
        image_builds(clash)


# --- the buildspec document ---------------------------------------------------------------------------------

def test_buildspec_for_one_container():
    spec = yaml.safe_load(buildspec_yaml(ONE))
    assert spec["version"] == 0.2 and spec["env"] == {"shell": "bash"}
    assert spec["artifacts"] == {"files": [IMAGE_DEFINITIONS_FILE]}
    assert list(spec["phases"]) == ["pre_build", "build", "post_build"]
    assert spec["phases"]["build"]["on-failure"] == "ABORT"
    assert spec["phases"]["build"]["commands"] == [
        'docker pull "${IMAGE_REPO_WEB}:deployed" || true',
        'docker build --cache-from "${IMAGE_REPO_WEB}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 '
        '-f Dockerfile -t "${IMAGE_REPO_WEB}:$HASH" .',
    ]
    post = spec["phases"]["post_build"]["commands"]
    # only the hash tag is pushed: `deployed` moves in the Promote stage, after ECS deployed the build
    # ... once: a hash ECR already has is not pushed again (tags are immutable, issue 14)
    assert [c for c in post if "docker push" in c] == [
        'if aws ecr describe-images --repository-name "${IMAGE_REPO_WEB#*/}" --image-ids imageTag="$HASH" > /dev/null '
        '2>&1; then echo "web: $HASH is already in ECR (immutable tag): not pushed again"; '
        'else docker push "${IMAGE_REPO_WEB}:$HASH"; fi']
    assert any("docker login --username AWS --password-stdin" in c for c in spec["phases"]["pre_build"]["commands"])


def test_buildspec_for_two_containers_with_dockerfile_args_and_target():
    commands = phase_commands(TWO)["build"]
    assert commands[1] == (
        'docker build --cache-from "${IMAGE_REPO_EXPRESS}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 '
        "-f express/Dockerfile.prod --build-arg NODE_ENV=production --build-arg 'GREETING=hi there' "
        '--target runtime -t "${IMAGE_REPO_EXPRESS}:$HASH" express')
    assert commands[3] == (
        'docker build --cache-from "${IMAGE_REPO_WORKER}:deployed" --build-arg BUILDKIT_INLINE_CACHE=1 '
        '-f worker/Dockerfile -t "${IMAGE_REPO_WORKER}:$HASH" worker')
    # every image is built before any is pushed
    post = phase_commands(TWO)["post_build"]
    assert [c.split("docker push ")[1].split(";")[0] for c in post if "docker push" in c] == [
        '"${IMAGE_REPO_EXPRESS}:$HASH"', '"${IMAGE_REPO_WORKER}:$HASH"']


def test_monorepo_path_changes_into_the_app_folder_first():
    first = phase_commands(ONE, subdirectory="/services/api/")["pre_build"][0]
    assert first == 'cd "$CODEBUILD_SRC_DIR"/services/api'
    assert not phase_commands(ONE)["pre_build"][0].startswith("cd ")


def test_image_definitions_helper():
    assert image_definitions({"a": "r/a:1234567", "b": "r/b:1234567"}) == [
        {"name": "a", "imageUri": "r/a:1234567"}, {"name": "b", "imageUri": "r/b:1234567"}]


# --- running the commands -----------------------------------------------------------------------------------

FAKE = """#!/bin/bash
# `docker login` reads the password before recording, so the log order is the pipeline's real order.
if [ "$(basename "$0")" = docker ] && [ "$1" = login ]; then read -r password; fi
printf '%s\\n' "$(basename "$0") $*" >> "$CALL_LOG"
if [ "$(basename "$0")" = aws ] && [ "$2" = describe-images ]; then
  case " ${IMAGE_EXISTS:-} " in *" $4 "*) exit 0;; *) echo "ImageNotFoundException" >&2; exit 254;; esac
fi
if [ "$(basename "$0")" = aws ]; then echo fake-password; fi
if [ -n "${password:-}" ]; then echo "stdin=$password" >> "$CALL_LOG"; fi
if [ "$(basename "$0")" = docker ] && [ "$1" = pull ] && [ -n "$FAIL_PULL" ]; then exit 1; fi
if [ "$(basename "$0")" = docker ] && [ "$1" = build ] && [ -n "$FAIL_BUILD" ]; then exit 1; fi
if [ "$(basename "$0")" = docker ] && [ "$1" = login ] && [ "$3" = "${FAIL_LOGIN_USER:-}" ]; then exit 1; fi
exit 0
"""


def run_phases(tmp_path: Path, builds, *, env: dict[str, str], subdirectory: str = "",
               phases=("pre_build", "build", "post_build"),
               docker_hub_login: bool = False) -> tuple[subprocess.CompletedProcess, list[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("aws", "docker"):
        (bin_dir / tool).write_text(FAKE)
        (bin_dir / tool).chmod(0o755)
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    commands = phase_commands(builds, subdirectory=subdirectory, docker_hub_login=docker_hub_login)
    # CodeBuild runs every command in one shell and stops at the first failure.
    script = "\n".join(["set -e -o pipefail", *(c for phase in phases for c in commands[phase])])
    full_env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALL_LOG": str(log), "CODEBUILD_SRC_DIR": str(src),
                "AWS_REGION": "us-east-1", "TMPDIR": str(tmp_path), **env}
    result = subprocess.run(["bash", "-c", script], cwd=src, env=full_env, capture_output=True, text=True)
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls, src


def repo_env(*containers: str) -> dict[str, str]:
    return {repository_env_var(c): f"{REPO}-{c}" for c in containers}


def test_commands_run_login_build_tag_push_and_write_image_definitions(tmp_path):
    commit = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
    result, calls, src = run_phases(tmp_path, TWO, env={**repo_env("express", "worker"),
                                                        "CODEBUILD_RESOLVED_SOURCE_VERSION": commit})
    assert result.returncode == 0, result.stderr
    express, worker = f"{REPO}-express", f"{REPO}-worker"
    assert calls == [
        "aws ecr get-login-password --region us-east-1",
        "docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "stdin=fake-password",
        f"docker pull {express}:deployed",
        f"docker build --cache-from {express}:deployed --build-arg BUILDKIT_INLINE_CACHE=1 -f express/Dockerfile.prod "
        f"--build-arg NODE_ENV=production --build-arg GREETING=hi there --target runtime -t {express}:9f86d08 express",
        f"docker pull {worker}:deployed",
        f"docker build --cache-from {worker}:deployed --build-arg BUILDKIT_INLINE_CACHE=1 -f worker/Dockerfile "
        f"-t {worker}:9f86d08 worker",
        f"aws ecr describe-images --repository-name {express.split('/', 1)[1]} --image-ids imageTag=9f86d08",
        f"docker push {express}:9f86d08",
        f"aws ecr describe-images --repository-name {worker.split('/', 1)[1]} --image-ids imageTag=9f86d08",
        f"docker push {worker}:9f86d08",
    ]
    written = (src / IMAGE_DEFINITIONS_FILE).read_text()
    assert json.loads(written) == [{"name": "express", "imageUri": f"{express}:9f86d08"},
                                   {"name": "worker", "imageUri": f"{worker}:9f86d08"}]
    assert written == json.dumps(image_definitions({"express": f"{express}:9f86d08",
                                                    "worker": f"{worker}:9f86d08"})) + "\n"


def test_managed_source_hash_file_wins_and_is_removed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / SOURCE_HASH_FILE).write_text("abcdef0123456789\n")
    result, calls, src = run_phases(tmp_path, ONE, env={**repo_env("web"),
                                                        "CODEBUILD_RESOLVED_SOURCE_VERSION": "Xy.z_S3VersionId"})
    assert result.returncode == 0, result.stderr
    assert f"docker push {REPO}-web:abcdef0" in calls
    assert not (src / SOURCE_HASH_FILE).exists()      # never baked into an image by `COPY . .`


def test_s3_version_id_without_hash_file_is_hashed_to_hex(tmp_path):
    result, calls, src = run_phases(tmp_path, ONE, env={**repo_env("web"),
                                                        "CODEBUILD_RESOLVED_SOURCE_VERSION": "Xy.z_S3VersionId+/"})
    assert result.returncode == 0, result.stderr
    uri = json.loads((src / IMAGE_DEFINITIONS_FILE).read_text())[0]["imageUri"]
    import hashlib
    assert uri == f"{REPO}-web:{hashlib.sha256(b'Xy.z_S3VersionId+/').hexdigest()[:7]}"


def test_missing_latest_does_not_fail_the_build(tmp_path):
    result, calls, _ = run_phases(tmp_path, ONE, env={**repo_env("web"), "FAIL_PULL": "1",
                                                      "CODEBUILD_RESOLVED_SOURCE_VERSION": "a" * 40})
    assert result.returncode == 0, result.stderr
    assert f"docker push {REPO}-web:aaaaaaa" in calls


def test_failed_build_pushes_nothing(tmp_path):
    # CodeBuild still runs post_build after a failed build; its first command stops it.
    result, calls, src = run_phases(tmp_path, ONE, env={**repo_env("web"), "CODEBUILD_BUILD_SUCCEEDING": "0",
                                                        "CODEBUILD_RESOLVED_SOURCE_VERSION": "a" * 40},
                                    phases=("post_build",))
    assert result.returncode != 0
    assert not any(c.startswith("docker push") for c in calls)
    assert not (src / IMAGE_DEFINITIONS_FILE).exists()


def test_monorepo_subdirectory_and_inline_dockerfile(tmp_path):
    (tmp_path / "src" / "services" / "api").mkdir(parents=True)
    builds = [ImageBuild("api", ".", "", dockerfile_inline="FROM scratch\nCOPY it /it\n")]
    result, calls, src = run_phases(tmp_path, builds, subdirectory="services/api",
                                    env={**repo_env("api"), "CODEBUILD_RESOLVED_SOURCE_VERSION": "b" * 40})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "api.Dockerfile").read_text() == "FROM scratch\nCOPY it /it\n"
    build_call = next(c for c in calls if c.startswith("docker build"))
    assert f"-f {tmp_path}/api.Dockerfile" in build_call and build_call.endswith(":bbbbbbb .")
    # written at the source root, where the artifact section looks for it
    assert (src / IMAGE_DEFINITIONS_FILE).exists()


def test_buildspec_has_no_repository_urls_baked_in():
    text = buildspec_yaml(TWO)
    assert "dkr.ecr" not in text
    assert buildspec(TWO)["phases"]["post_build"]["commands"][0].startswith("[ \"${CODEBUILD_BUILD_SUCCEEDING")


def test_yaml_text_round_trips_to_the_same_commands():
    for builds, subdirectory in ((ONE, ""), (TWO, "apps/shop"),
                                 ([ImageBuild("x", ".", "", {"Q": "it's \"quoted\" $HOME"},
                                              dockerfile_inline="FROM scratch\nLABEL a='b: c'\n")], "")):
        assert yaml.safe_load(buildspec_yaml(builds, subdirectory=subdirectory)) == \
            buildspec(builds, subdirectory=subdirectory)


# --- Docker Hub credentials (amplify-cli#8576) -------------------------------------------------------------

HUB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/dockerhub-AbC123"


def test_docker_hub_credentials_come_from_secrets_manager_in_the_env_block():
    spec = yaml.safe_load(buildspec_yaml(TWO, docker_hub_credentials=HUB_SECRET))
    assert spec["env"] == {"shell": "bash", "secrets-manager": {
        "DOCKERHUB_USERNAME": f"{HUB_SECRET}:username", "DOCKERHUB_PASSWORD": f"{HUB_SECRET}:password"}}
    pre_build = spec["phases"]["pre_build"]["commands"]
    ecr_login = next(i for i, c in enumerate(pre_build) if "--username AWS" in c)
    assert pre_build[ecr_login + 1:] == [
        'echo "$DOCKERHUB_PASSWORD" | docker login --username "$DOCKERHUB_USERNAME" --password-stdin']
    assert spec["phases"]["build"] == buildspec(TWO)["phases"]["build"]


def test_without_docker_hub_credentials_nothing_mentions_docker_hub():
    assert buildspec(TWO, docker_hub_credentials=None) == buildspec(TWO)
    text = buildspec_yaml(TWO)
    assert "secrets-manager" not in text and "DOCKERHUB" not in text
    assert sum("docker login" in c for c in buildspec(TWO)["phases"]["pre_build"]["commands"]) == 1


def test_docker_hub_login_runs_before_any_build_and_keeps_the_password_off_argv(tmp_path):
    password = "hub-Pa55word-never-in-argv"
    result, calls, _ = run_phases(tmp_path, TWO, docker_hub_login=True, env={
        **repo_env("express", "worker"), "CODEBUILD_RESOLVED_SOURCE_VERSION": "c" * 40,
        "DOCKERHUB_USERNAME": "acme-ci", "DOCKERHUB_PASSWORD": password})
    assert result.returncode == 0, result.stderr
    hub_login = calls.index("docker login --username acme-ci --password-stdin")
    assert calls[hub_login + 1] == f"stdin={password}"
    ecr_login = calls.index("docker login --username AWS --password-stdin "
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com")
    first_pull_or_build = min(i for i, c in enumerate(calls) if c.startswith(("docker pull", "docker build")))
    assert ecr_login < hub_login < first_pull_or_build
    # the fake records every aws/docker command line: the password only ever arrived on stdin
    assert [c for c in calls if password in c] == [f"stdin={password}"]
    assert password not in result.stdout + result.stderr


def test_failed_docker_hub_login_stops_before_building(tmp_path):
    result, calls, _ = run_phases(tmp_path, ONE, docker_hub_login=True, env={
        **repo_env("web"), "CODEBUILD_RESOLVED_SOURCE_VERSION": "d" * 40, "FAIL_LOGIN_USER": "acme-ci",
        "DOCKERHUB_USERNAME": "acme-ci", "DOCKERHUB_PASSWORD": "wrong"})
    assert result.returncode != 0
    assert "docker login --username acme-ci --password-stdin" in calls
    assert not any(c.startswith(("docker build", "docker push")) for c in calls)


# --- the Promote stage ----------------------------------------------------------------------------------------

PROMOTE_FAKE = """#!/bin/bash
printf '%s\\n' "aws $*" >> "$CALL_LOG"
case "$*" in
  *batch-get-image*imageManifestMediaType*) echo "application/vnd.docker.distribution.manifest.v2+json" ;;
  *batch-get-image*imageDigest*) echo "sha256:0123" ;;
  *batch-get-image*missing*) echo None ;;
  *batch-get-image*) echo '{"schemaVersion": 2, "layers": []}' ;;
  *put-image*)
    if [ -n "${ALREADY:-}" ]; then echo "An error occurred (ImageAlreadyExistsException)" >&2; exit 254; fi
    if [ -n "${DENIED:-}" ]; then echo "An error occurred (AccessDeniedException)" >&2; exit 254; fi ;;
esac
exit 0
"""


def run_promote(tmp_path: Path, definitions: list[dict], **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "aws").write_text(PROMOTE_FAKE)
    (bin_dir / "aws").chmod(0o755)
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / IMAGE_DEFINITIONS_FILE).write_text(json.dumps(definitions))
    log = tmp_path / "calls.log"
    spec = yaml.safe_load(promote_buildspec_yaml())
    script = "\n".join(["set -e -o pipefail", *spec["phases"]["build"]["commands"]])
    result = subprocess.run(["bash", "-c", script], cwd=src, capture_output=True, text=True, env={
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALL_LOG": str(log), "CODEBUILD_SRC_DIR": str(src), **env})
    return result, (log.read_text().splitlines() if log.exists() else [])


def test_promote_tags_each_deployed_build_deployed(tmp_path):
    express, worker = f"{REPO}-express", f"{REPO}-worker"
    result, calls = run_promote(tmp_path, [{"name": "express", "imageUri": f"{express}:9f86d08"},
                                           {"name": "worker", "imageUri": f"{worker}:9f86d08"}])
    assert result.returncode == 0, result.stderr
    puts = [c for c in calls if "put-image" in c]
    assert len(puts) == 2
    for put, repository in zip(puts, (express, worker)):
        name = repository.split("/", 1)[1]
        assert put.startswith(f"aws ecr put-image --repository-name {name} --image-tag deployed --image-manifest ")
        assert put.endswith("--image-manifest-media-type application/vnd.docker.distribution.manifest.v2+json "
                            "--image-digest sha256:0123")
    gets = [c for c in calls if "batch-get-image" in c]
    assert all("imageTag=9f86d08" in c for c in gets)
    assert f"{express.split('/', 1)[1]}: deployed -> 9f86d08" in result.stdout


def test_promote_is_idempotent_and_fails_on_real_errors(tmp_path):
    uri = [{"name": "web", "imageUri": f"{REPO}-web:abcdef0"}]
    retried, _ = run_promote(tmp_path, uri, ALREADY="1")
    assert retried.returncode == 0, retried.stderr          # the tag already names the build: done
    denied, _ = run_promote(tmp_path, uri, DENIED="1")
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr
    missing, _ = run_promote(tmp_path, [{"name": "web", "imageUri": f"{REPO}-web:missing"}])
    assert missing.returncode != 0 and "no image" in missing.stderr
    empty, _ = run_promote(tmp_path, [])
    assert empty.returncode != 0                            # nothing deployed is not a success


def test_a_rerun_for_a_hash_ecr_already_has_pushes_nothing_and_succeeds(tmp_path):
    """Hash tags are immutable (issue 14): the same source built again must not fail on the push."""
    commit = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
    express = f"{REPO}-express"
    result, calls, src = run_phases(tmp_path, TWO, env={**repo_env("express", "worker"),
                                                        "CODEBUILD_RESOLVED_SOURCE_VERSION": commit,
                                                        "IMAGE_EXISTS": express.split("/", 1)[1]})
    assert result.returncode == 0, result.stderr
    assert f"docker push {express}:9f86d08" not in calls
    assert f"docker push {REPO}-worker:9f86d08" in calls
    assert "express: 9f86d08 is already in ECR (immutable tag): not pushed again" in result.stdout
    # the Deploy stage still gets both images, the one already in ECR included
    assert [d["imageUri"] for d in json.loads((src / IMAGE_DEFINITIONS_FILE).read_text())] == [
        f"{express}:9f86d08", f"{REPO}-worker:9f86d08"]
