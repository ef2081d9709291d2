"""The CodeBuild buildspec that builds an API's containers: pure Python, no Pulumi.

What a build does (``phase_commands`` returns the shell commands of each phase, so the same commands
are checked by a test with fake ``aws``/``docker`` and run against a real Docker engine):

1. ``pre_build``: go to the app folder, compute the 7-character build hash, log in to ECR, and to Docker
   Hub when the stack has ``dockerHubCredentials`` (base images are then pulled signed in, not throttled
   as anonymous pulls from CodeBuild's shared addresses are). CodeBuild reads the secret's
   ``username``/``password`` into variables (``env.secrets-manager``) and masks them in the logs; the
   password reaches ``docker login`` on stdin, never in a command line.
2. ``build``: per built container, pull the image tagged ``deployed`` as a layer cache, ``docker build``
   with the compose context, dockerfile, args and target, tagged ``<hash>``.
3. ``post_build``: push the ``<hash>`` tag of every image (only after all of them built), then write
   ``imagedefinitions.json`` naming every built container with its hash-tagged image. No moving tag is
   pushed: ``deployed`` moves only in the Promote stage, after ECS deployed the build (docs/design.md,
   "Who moves which tag"; ``promote_commands`` below).

The build hash, 7 lowercase hex characters in every case, so ``components/providers/image_lookup.py`` finds it:

* ``build: managed``: the source zip carries ``.serverless-containers-source-hash``, the SHA-256 of its own
  content (``components/pipeline/source_bundle.py``). Unique per content and stable: re-uploading the same source
  gives the same tag. (CodePipeline's S3 revision is the object's version id, which is neither hex nor
  tied to the content.)
* ``build: github``: the commit id CodePipeline resolved (``CODEBUILD_RESOLVED_SOURCE_VERSION``).
* Anything else: SHA-256 of the resolved source version (or of the build id when there is none).

Repository URLs are not in the buildspec: each comes from a CodeBuild environment variable
(``repository_env_var``), so the buildspec is known at program time and the same for every stack.

Only built containers are in ``imagedefinitions.json``. ECS's deploy action replaces the image of the
containers it names and keeps the others, so containers with ``image:`` keep the image the program set.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from components.errors import ConfigError
from components.compose.model import App

SOURCE_HASH_FILE = ".serverless-containers-source-hash"
IMAGE_DEFINITIONS_FILE = "imagedefinitions.json"
HASH_LENGTH = 7
DEPLOYED_TAG = "deployed"          # the moving tag (docs/design.md, "Who moves which tag")
MANIFEST_MEDIA_TYPES = ("application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json")
DOCKER_HUB_USERNAME_VAR = "DOCKERHUB_USERNAME"
DOCKER_HUB_PASSWORD_VAR = "DOCKERHUB_PASSWORD"
_REMOTE_CONTEXT = re.compile(r"^(https?://|git://|git@|ssh://|github\.com/)")


def is_remote_context(context: str) -> bool:
    """A context ``docker build`` fetches itself (a Git URL); it is not in the source zip."""
    return bool(_REMOTE_CONTEXT.match(context))


def repository_env_var(container: str) -> str:
    """``IMAGE_REPO_<CONTAINER>``: the CodeBuild environment variable holding the container's ECR URL."""
    return "IMAGE_REPO_" + re.sub(r"[^A-Z0-9]", "_", container.upper())


@dataclass(frozen=True)
class ImageBuild:
    """One built container, with its paths relative to the source root (the zip's root)."""

    container: str
    context: str                     # "." / "express" / a remote Git URL
    dockerfile: str                  # for `docker build -f`: relative to the source root (a Git context: to it)
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    dockerfile_inline: str | None = None
    secrets: tuple[str, ...] = ()    # compose build.secrets: BuildKit secret ids (docker build --secret)

    @property
    def repository_var(self) -> str:
        return repository_env_var(self.container)


def build_secret_env_var(secret: str) -> str:
    """``BUILD_SECRET_<NAME>``: the CodeBuild variable (env.secrets-manager, masked in logs) BuildKit reads."""
    return "BUILD_SECRET_" + re.sub(r"[^A-Z0-9]", "_", secret.upper())


def _inside(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` (posix), or None when it lies outside."""
    relative = os.path.relpath(path.resolve(), root.resolve())
    if relative == ".." or relative.startswith("../"):
        return None
    return Path(relative).as_posix()


def image_builds(app: App, *, config_file: str | None = None) -> list[ImageBuild]:
    """The built containers of ``app`` with contexts and dockerfiles relative to the source folder.

    Raises ConfigError for a local context or dockerfile outside the source folder: the pipeline builds
    from the uploaded folder (or the repository's ``path``), so nothing outside it exists there.
    """
    file = config_file or (str(app.compose_files[0]) if app.compose_files else str(app.source_dir / "Dockerfile"))
    builds, variables = [], {}
    for container in app.containers:
        build = container.build
        if build is None:
            continue
        variable = repository_env_var(container.name)
        if variable in variables:
            raise ConfigError(f"services {variables[variable]!r} and {container.name!r} differ only in case or "
                              "punctuation, so their build variables clash.", file=file, service=container.name,
                              fix="rename one of the services.")
        variables[variable] = container.name
        if is_remote_context(build.context):
            builds.append(ImageBuild(container.name, build.context, build.dockerfile, dict(build.args), build.target,
                                     build.dockerfile_inline, tuple(build.secrets)))
            continue
        context = _inside(app.source_dir, Path(build.context))
        if context is None:
            raise ConfigError(f"build context {build.context} is outside the API's source folder {app.source_dir}, "
                              "so the pipeline cannot see it.", file=file, service=container.name, key="build.context",
                              fix="move the context into the source folder, or point `source` at a folder that "
                                  "holds every context.")
        dockerfile = "" if build.dockerfile_inline is not None else \
            _inside(app.source_dir, Path(build.context) / build.dockerfile)
        if dockerfile is None:
            raise ConfigError(f"dockerfile {build.dockerfile} is outside the API's source folder {app.source_dir}, "
                              "so the pipeline cannot see it.", file=file, service=container.name,
                              key="build.dockerfile", fix="move the Dockerfile into the source folder.")
        builds.append(ImageBuild(container.name, context, dockerfile, dict(build.args), build.target,
                                 build.dockerfile_inline, tuple(build.secrets)))
    return builds


def image_definitions(images: dict[str, str]) -> list[dict[str, str]]:
    """``imagedefinitions.json`` for ECS's deploy action: container name -> image URI, in the given order."""
    return [{"name": name, "imageUri": uri} for name, uri in images.items()]


def _repo(build: ImageBuild, tag: str) -> str:
    return f'"${{{build.repository_var}}}:{tag}"'


def _hash_command() -> str:
    resolved = '"$CODEBUILD_RESOLVED_SOURCE_VERSION"'
    return (
        f"if [ -f {SOURCE_HASH_FILE} ]; then HASH=$(head -c {HASH_LENGTH} {SOURCE_HASH_FILE}); "
        f"rm -f {SOURCE_HASH_FILE}; "
        f"elif printf '%s' {resolved} | grep -Eq '^[0-9a-f]{{{HASH_LENGTH},}}$'; then "
        f"HASH=$(printf '%s' {resolved} | cut -c1-{HASH_LENGTH}); "
        f"else HASH=$(printf '%s' \"${{CODEBUILD_RESOLVED_SOURCE_VERSION:-$CODEBUILD_BUILD_ID}}\" | sha256sum "
        f"| cut -c1-{HASH_LENGTH}); fi")


def _build_command(build: ImageBuild, inline_path: str | None) -> str:
    parts = ["docker", "build", "--cache-from", _repo(build, DEPLOYED_TAG),
             # the pushed image carries its cache metadata, so the next build can use it with BuildKit
             "--build-arg", "BUILDKIT_INLINE_CACHE=1"]
    dockerfile = inline_path or build.dockerfile
    if dockerfile:
        parts += ["-f", inline_path if inline_path else shlex.quote(dockerfile)]
    for key, value in build.args.items():
        parts += ["--build-arg", shlex.quote(f"{key}={value}")]
    if build.target:
        parts += ["--target", shlex.quote(build.target)]
    for secret in build.secrets:
        # BuildKit reads the value from the (masked) variable: it is in no argv, layer or image history
        parts += ["--secret", shlex.quote(f"id={secret},env={build_secret_env_var(secret)}")]
    parts += ["-t", _repo(build, "$HASH"), shlex.quote(build.context)]
    return " ".join(parts)


def push_once_command(build: ImageBuild) -> str:
    """Push the hash tag unless ECR already has it. Hash tags are immutable (components/registry.py), so a re-run
    for the same hash (a retried run, the same source uploaded again) keeps the image pushed first instead of
    failing with ImageTagAlreadyExistsException; the same hash means the same source."""
    repository = f'"${{{build.repository_var}#*/}}"'
    return (f'if aws ecr describe-images --repository-name {repository} --image-ids imageTag="$HASH" '
            f'> /dev/null 2>&1; then echo "{build.container}: $HASH is already in ECR (immutable tag): not pushed '
            f'again"; else docker push {_repo(build, "$HASH")}; fi')


def docker_hub_secret_variables(secret_arn: str) -> dict[str, str]:
    """``env.secrets-manager``: variable -> ``<secret ARN>:<JSON key>``, read by CodeBuild before the build."""
    return {DOCKER_HUB_USERNAME_VAR: f"{secret_arn}:username", DOCKER_HUB_PASSWORD_VAR: f"{secret_arn}:password"}


def phase_commands(builds: list[ImageBuild], *, subdirectory: str = "",
                   docker_hub_login: bool = False) -> dict[str, list[str]]:
    """The shell commands of each buildspec phase (bash; variables persist between commands).

    ``subdirectory``: the app's folder inside the source (``github.path`` for a monorepo), "" for its root.
    ``docker_hub_login``: log in to Docker Hub with the ``DOCKERHUB_*`` variables before building.
    """
    if not builds:
        raise ValueError("no built container: nothing for the pipeline to build")
    first = builds[0]
    pre_build = []
    if subdirectory.strip("/"):
        pre_build.append(f'cd "$CODEBUILD_SRC_DIR"/{shlex.quote(subdirectory.strip("/"))}')
    pre_build += [
        _hash_command(),
        f"printf '%s' \"$HASH\" | grep -Eq '^[0-9a-f]{{{HASH_LENGTH}}}$'",
        'echo "build hash: $HASH"',
        f'ECR_REGISTRY="${{{first.repository_var}%%/*}}"',
        'aws ecr get-login-password --region "$AWS_REGION" '
        '| docker login --username AWS --password-stdin "$ECR_REGISTRY"',
    ]
    if docker_hub_login:
        # echo is a bash builtin: the password is in no process's argv
        pre_build.append(f'echo "${DOCKER_HUB_PASSWORD_VAR}" '
                         f'| docker login --username "${DOCKER_HUB_USERNAME_VAR}" --password-stdin')
    build_phase = []
    for build in builds:
        inline_path = None
        if build.dockerfile_inline is not None:
            inline_path = f'"${{TMPDIR:-/tmp}}/{build.container}.Dockerfile"'
            build_phase.append(f"printf '%s' {shlex.quote(build.dockerfile_inline)} > {inline_path}")
        build_phase += [
            f"docker pull {_repo(build, DEPLOYED_TAG)} || true",
            _build_command(build, inline_path),
        ]
    template = json.dumps(image_definitions({b.container: "%s" for b in builds}))
    post_build = [
        # post_build runs even after a failed build phase; never push a half-built set
        '[ "${CODEBUILD_BUILD_SUCCEEDING:-1}" = "1" ]',
    ]
    for build in builds:
        post_build.append(push_once_command(build))
    arguments = " ".join(_repo(b, "$HASH") for b in builds)
    post_build.append(f"printf {shlex.quote(template + chr(92) + 'n')} {arguments} "
                      f'> "$CODEBUILD_SRC_DIR/{IMAGE_DEFINITIONS_FILE}"')
    return {"pre_build": pre_build, "build": build_phase, "post_build": post_build}


def buildspec(builds: list[ImageBuild], *, subdirectory: str = "",
              docker_hub_credentials: str | None = None, build_secret_ids: dict[str, str] | None = None) -> dict:
    """The buildspec (version 0.2) as a dict. ``docker_hub_credentials``: the secret's ARN, or None (no login).
    ``build_secret_ids``: compose secret -> its Secrets Manager name or ARN, for the builds' ``secrets``."""
    phases = phase_commands(builds, subdirectory=subdirectory, docker_hub_login=bool(docker_hub_credentials))
    env: dict = {"shell": "bash"}
    variables = docker_hub_secret_variables(docker_hub_credentials) if docker_hub_credentials else {}
    for secret in sorted({s for build in builds for s in build.secrets}):
        if secret not in (build_secret_ids or {}):
            raise ValueError(f"no Secrets Manager id for the build secret {secret!r}")
        variables[build_secret_env_var(secret)] = build_secret_ids[secret]
    if variables:
        env["secrets-manager"] = variables
    return {
        "version": 0.2,
        "env": env,
        "phases": {
            "pre_build": {"on-failure": "ABORT", "commands": phases["pre_build"]},
            "build": {"on-failure": "ABORT", "commands": phases["build"]},
            "post_build": {"commands": phases["post_build"]},
        },
        "artifacts": {"files": [IMAGE_DEFINITIONS_FILE]},
    }


def buildspec_yaml(builds: list[ImageBuild], *, subdirectory: str = "",
                   docker_hub_credentials: str | None = None, build_secret_ids: dict[str, str] | None = None) -> str:
    return yaml.safe_dump(buildspec(builds, subdirectory=subdirectory, docker_hub_credentials=docker_hub_credentials,
                                    build_secret_ids=build_secret_ids), sort_keys=False, width=1000)


def promote_commands(tag: str = DEPLOYED_TAG) -> list[str]:
    """The Promote stage (after Deploy): point ``tag`` at the build ECS just deployed, in every repository.

    Reads each ``imageUri`` (``<registry>/<repository>:<hash>``) of ``imagedefinitions.json``, fetches that
    manifest and puts it again under ``tag`` (no image is pulled or pushed). ECR answers
    ImageAlreadyExistsException when ``tag`` already names that manifest (a retried run): that is success.
    Any other failure fails the stage, and so the run.
    """
    accepted = " ".join(MANIFEST_MEDIA_TYPES)
    read_uris = ("import json,sys; print(' '.join(d['imageUri'] for d in json.load(open(sys.argv[1]))))")
    return [
        f"URIS=$(python3 -c {shlex.quote(read_uris)} \"$CODEBUILD_SRC_DIR/{IMAGE_DEFINITIONS_FILE}\")",
        '[ -n "$URIS" ]',
        'for URI in $URIS; do '
        'REF="${URI#*/}"; REPOSITORY="${REF%:*}"; HASH="${REF##*:}"; '
        'MANIFEST=$(aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids imageTag="$HASH" '
        f'--accepted-media-types {accepted} '
        "--query 'images[0].imageManifest' --output text) || exit 1; "
        'MEDIA=$(aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids imageTag="$HASH" '
        f'--accepted-media-types {accepted} '
        "--query 'images[0].imageManifestMediaType' --output text) || exit 1; "
        'DIGEST=$(aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids imageTag="$HASH" '
        f'--accepted-media-types {accepted} '
        "--query 'images[0].imageId.imageDigest' --output text) || exit 1; "
        '{ [ -n "$MANIFEST" ] && [ "$MANIFEST" != None ]; } || { echo "no image $REPOSITORY:$HASH" >&2; exit 1; }; '
        f'OUT=$(aws ecr put-image --repository-name "$REPOSITORY" --image-tag {tag} '
        '--image-manifest "$MANIFEST" --image-manifest-media-type "$MEDIA" --image-digest "$DIGEST" 2>&1) '
        '|| echo "$OUT" | grep -q ImageAlreadyExistsException '
        '|| { echo "$OUT" >&2; exit 1; }; '
        f'echo "$REPOSITORY: {tag} -> $HASH"; '
        'done',
    ]


def promote_buildspec(tag: str = DEPLOYED_TAG) -> dict:
    """The Promote project's buildspec (version 0.2): no Docker, only ECR API calls."""
    return {"version": 0.2, "env": {"shell": "bash"},
            "phases": {"build": {"on-failure": "ABORT", "commands": promote_commands(tag)}}}


def promote_buildspec_yaml(tag: str = DEPLOYED_TAG) -> str:
    return yaml.safe_dump(promote_buildspec(tag), sort_keys=False, width=1000)
