"""The generated buildspec, run for real: bash runs each phase's commands as CodeBuild would, with
a real Docker engine and a local registry (Debian's docker-registry) in place of ECR.

Only the AWS login is stubbed (a fake `aws` on PATH prints a password; the registry needs none).
The two-container sample is built from a copy of its folder, as the pipeline builds the uploaded
source; a compose override passes the local base image as a build arg, exactly as a user's
compose args reach `docker build` in CodeBuild. Afterwards the hash tag of every image, and only it, must
be in the registry (the moving tag `deployed` is set by the Promote stage after ECS deployed the build,
never by the build), and imagedefinitions.json must name each built container with its hash-tagged image.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docker_support import (PROJECT_DIR, base_image, docker, docker_engine,  # noqa: F401
                                  local_registry, registry_tags, run_id)

SOURCE_HASH = "3f9a1c0d2b7e4f5a6c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
REGION = "eu-west-1"
STACK = "ci-" + run_id()

FAKE_AWS = """#!/usr/bin/env bash
# Stands in for the AWS CLI: only `aws ecr get-login-password` is expected.
echo "$*" >> "$FAKE_AWS_LOG"
if [ "$1 $2" = "ecr get-login-password" ]; then echo "fake-ecr-password"; exit 0; fi
echo "fake aws: unexpected call: $*" >&2
exit 1
"""


def codebuild_script(phases: dict[str, list[str]]) -> str:
    """bash that runs the phases as CodeBuild does: one shell (variables persist), a failing
    pre_build stops everything, a failing build still runs post_build with
    CODEBUILD_BUILD_SUCCEEDING=0, and the exit status says whether the build succeeded."""
    def phase(name: str) -> str:
        commands = " ".join(shlex.quote(command) for command in phases[name])
        return f"run_phase {name} {commands}"

    return "\n".join([
        "run_phase() {",
        '  local name="$1"; shift',
        '  echo "[phase $name]"',
        '  for command in "$@"; do',
        '    echo "[command] $command"',
        '    eval "$command" || { echo "[failed] $name: $command" >&2; return 1; }',
        "  done",
        "}",
        "export CODEBUILD_BUILD_SUCCEEDING=1",
        phase("pre_build") + " || exit 1",
        phase("build") + " || CODEBUILD_BUILD_SUCCEEDING=0",
        phase("post_build") + " || exit 1",
        'exit $(( CODEBUILD_BUILD_SUCCEEDING == 1 ? 0 : 1 ))',
        "",
    ])


def prepare_source(tmp_path: Path, base_image: str, extra_compose: str = "") -> Path:
    """A copy of apps/multi as the pipeline's source root, with apps/secrets beside it."""
    root = tmp_path / "checkout"
    shutil.copytree(PROJECT_DIR / "apps" / "multi", root / "multi")
    shutil.copytree(PROJECT_DIR / "apps" / "secrets", root / "secrets")
    (root / "multi" / "docker-compose.ci.yml").write_text(
        "services:\n"
        "  express:\n"
        f"    build: {{context: ./express, args: {{BASE_IMAGE: {base_image}}}}}\n"
        "  python:\n"
        f"    build: {{context: ./python, args: {{BASE_IMAGE: {base_image}}}}}\n" + extra_compose)
    return root / "multi"


def run_buildspec(source: Path, registry: str, compose_files: list[str], tmp_path: Path, stack: str = STACK):
    from components.pipeline.buildspec import SOURCE_HASH_FILE, image_builds, phase_commands, repository_env_var
    from components.compose import load_app

    app = load_app(source, compose_files, "express")
    builds = image_builds(app)
    phases = phase_commands(builds)
    # `build: managed`: the source zip carries the hash of its own content.
    (source / SOURCE_HASH_FILE).write_text(SOURCE_HASH)

    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "aws").write_text(FAKE_AWS)
    (tools / "aws").chmod(0o755)
    repositories = {b.container: f"serverless-containers-{stack}-multi-{b.container}" for b in builds}
    environment = {
        "PATH": f"{tools}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),   # the fake login must not touch yours
        "FAKE_AWS_LOG": str(tmp_path / "aws-calls.log"),
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "CODEBUILD_SRC_DIR": str(source),
        "CODEBUILD_BUILD_ID": f"serverless-containers-{stack}-multi:0b1c2d3e",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": "not-a-commit-version-id",
        "TMPDIR": str(tmp_path),
        **{repository_env_var(name): f"{registry}/{repo}" for name, repo in repositories.items()},
    }
    script = tmp_path / "codebuild.sh"
    script.write_text(codebuild_script(phases))
    result = subprocess.run(["bash", str(script)], cwd=source, env=environment, capture_output=True, text=True,
                            timeout=900)
    # The registry dies with the session; so should the tags naming it (the layers stay cached).
    tags = [f"{registry}/{repo}:{SOURCE_HASH[:7]}" for repo in repositories.values()]
    return result, repositories, lambda: docker("rmi", *tags, check=False)


def test_buildspec_builds_pushes_the_hash_tag_only_and_writes_imagedefinitions(tmp_path, base_image, local_registry,
                                                                           request):
    source = prepare_source(tmp_path, base_image)
    result, repositories, cleanup = run_buildspec(source, local_registry,
                                                  ["docker-compose.yml", "docker-compose.ci.yml"], tmp_path)
    request.addfinalizer(cleanup)
    assert result.returncode == 0, f"the buildspec failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    expected_hash = SOURCE_HASH[:7]
    assert f"build hash: {expected_hash}" in result.stdout

    for container, repository in repositories.items():
        assert registry_tags(local_registry, repository) == [expected_hash], container

    definitions = json.loads((source / "imagedefinitions.json").read_text())
    assert definitions == [{"name": name, "imageUri": f"{local_registry}/{repo}:{expected_hash}"}
                           for name, repo in repositories.items()]
    assert sorted(repositories) == ["express", "python"]

    # The one AWS call is the ECR login, for the stack's region.
    assert (tmp_path / "aws-calls.log").read_text().split("\n")[0] == f"ecr get-login-password --region {REGION}"
    # The compose args reached docker build: the pushed image sits on the local base image's layers.
    pushed = f"{local_registry}/{repositories['express']}:{expected_hash}"
    base_layers = json.loads(docker("image", "inspect", base_image, "--format", "{{json .RootFS.Layers}}").stdout)
    image_layers = json.loads(docker("image", "inspect", pushed, "--format", "{{json .RootFS.Layers}}").stdout)
    assert image_layers[:len(base_layers)] == base_layers


def remove_failed_build_containers() -> None:
    """Docker's classic builder keeps the container of a failed RUN step (CodeBuild's throwaway machine does not
    mind; a shared test engine does): remove the ones this test's failing step left, and nothing else."""
    listed = docker("ps", "-a", "--no-trunc", "--filter", "status=exited", "--format", "{{.ID}}\t{{.Command}}",
                    check=False)
    ids = [line.split("\t")[0] for line in listed.stdout.splitlines() if "this build fails on purpose" in line]
    if ids:
        docker("rm", "-f", *ids, check=False)


def test_a_failed_build_pushes_nothing(tmp_path, base_image, local_registry, request):
    """One image fails to build: post_build still runs (as in CodeBuild) but pushes no tag of any image."""
    broken = ("  python:\n    build:\n      context: ./python\n      dockerfile_inline: |\n"
              f"        FROM {base_image}\n        RUN echo this build fails on purpose && false\n")
    source = prepare_source(tmp_path, base_image)
    (source / "docker-compose.broken.yml").write_text("services:\n" + broken)
    result, repositories, cleanup = run_buildspec(
        source, local_registry, ["docker-compose.yml", "docker-compose.ci.yml", "docker-compose.broken.yml"], tmp_path,
        stack=STACK + "-broken")
    request.addfinalizer(cleanup)
    request.addfinalizer(remove_failed_build_containers)
    assert result.returncode != 0
    assert "this build fails on purpose" in result.stdout + result.stderr
    for repository in repositories.values():
        assert registry_tags(local_registry, repository) == []
    assert not (source / "imagedefinitions.json").exists()
