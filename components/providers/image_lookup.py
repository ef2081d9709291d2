"""Has ECS deployed a build yet, and which? Looked up again at every ``pulumi up``.

docs/design.md ("Who moves which tag"): the pipeline's Promote stage moves the tag ``deployed`` to a build only
after ECS deployed it; ``ops rollback`` moves it back. The task definition names ``<repo>:deployed``; this
lookup says whether that tag exists yet (no: the first deploy, the service is held at 0 tasks) and which build
it names. Stacks deployed before this design have only the legacy ``latest``: while a repository has no
``deployed``, the image is pinned by the hash tag sharing ``latest``'s digest, as before.

``find_latest`` is pure logic over an injected boto3 ECR client (tested with moto). ``LatestImage`` is the
Pulumi dynamic resource around it (its class and module path never change: they are in deployed state); its
``diff`` repeats the lookup, so a moved tag shows up as a change even though none of the program's inputs
changed. The provider uses the stack's AWS settings (components/providers/aws_session.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.providers.aws_session import AwsSettings, StackAwsProvider, session

DEPLOYED_TAG = "deployed"     # moved by the pipeline's Promote stage and by `ops rollback`
LATEST_TAG = "latest"         # legacy: written by the pipeline before the Promote stage existed
MOVING_TAGS = (DEPLOYED_TAG, LATEST_TAG)
# The buildspec tags every image with 7 lowercase hex characters (components/pipeline/buildspec.py).
BUILD_HASH_TAG = re.compile(r"^[0-9a-f]{7}$")
DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:LatestImage"


@dataclass(frozen=True)
class CurrentImage:
    tag: str        # the build-hash tag sharing the moving tag's digest; "" when there is none
    digest: str     # the moving tag's digest ("sha256:..."); "" when no moving tag exists
    moving: str = ""  # which moving tag was found: "deployed", the legacy "latest", or ""


NO_IMAGE = CurrentImage(tag="", digest="")


def _describe(ecr, repository: str, tag: str, registry_id: str | None) -> dict | None:
    kwargs: dict[str, Any] = {"repositoryName": repository, "imageIds": [{"imageTag": tag}]}
    if registry_id:
        kwargs["registryId"] = registry_id
    try:
        details = ecr.describe_images(**kwargs).get("imageDetails") or []
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return None
    return details[0] if details else None


def find_latest(ecr, repository: str, registry_id: str | None = None) -> CurrentImage:
    """The build ECR tags ``deployed`` in ``repository`` (else the legacy ``latest``) and its build-hash tag.

    A missing repository or no moving tag is the first deploy, not an error. When several hash tags share
    the digest (two sources that built byte-identical images) the smallest one is taken, so the answer
    does not flip between updates.
    """
    for moving in MOVING_TAGS:
        detail = _describe(ecr, repository, moving, registry_id)
        if detail is not None:
            hashes = sorted(tag for tag in detail.get("imageTags") or [] if BUILD_HASH_TAG.match(tag))
            return CurrentImage(tag=hashes[0] if hashes else "", digest=detail.get("imageDigest", ""), moving=moving)
    return NO_IMAGE


def image_reference(repository_url: str, current: CurrentImage) -> str:
    """What the task definition names.

    ``<repo>:deployed`` once it exists: ECS resolves the tag to its digest when a deployment starts and runs
    every task of that deployment on it, and a pipeline release then changes nothing here (no new revision,
    no restart). Legacy ``latest`` only: pinned by its hash tag, else its digest. Nothing yet: ``deployed`` as
    the placeholder while the service is held at 0 tasks."""
    if current.moving == DEPLOYED_TAG or not (current.tag or current.digest):
        return f"{repository_url}:{DEPLOYED_TAG}"
    if current.tag:
        return f"{repository_url}:{current.tag}"
    return f"{repository_url}@{current.digest}"


def _ecr_client(props: dict[str, Any], settings: AwsSettings | None = None):
    """ECR, signed in as the stack's AWS provider (its region, keys, profile and assumed roles)."""
    return session(settings or AwsSettings(), props).client("ecr")


class LatestImageProvider(StackAwsProvider):
    """CRUD for ``LatestImage``: nothing is created in AWS; every operation is a fresh lookup."""

    def __init__(self, client_factory=_ecr_client):
        self.client_factory = client_factory

    def _client(self, props: dict[str, Any]):
        if self.client_factory is _ecr_client:
            return _ecr_client(props, self.aws)
        return self.client_factory(props)

    def _lookup(self, props: dict[str, Any]) -> dict[str, Any]:
        current = find_latest(self._client(props), props["repository"])
        return {**props, "tag": current.tag, "digest": current.digest, "movingTag": current.moving}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["repository"], outs=self._lookup(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs_changed = any(olds.get(k) != news.get(k) for k in ("repository", "region", "profile"))
        if inputs_changed:
            return DiffResult(changes=True)
        current = find_latest(self._client(news), news["repository"])
        moved = ((current.tag, current.digest, current.moving)
                 != (olds.get("tag", ""), olds.get("digest", ""), olds.get("movingTag", "")))
        return DiffResult(changes=moved)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._lookup(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=self._lookup(props))


class LatestImage(Resource, module="serverless-containers", name="LatestImage"):
    """The moving tag found (``movingTag``: deployed, latest or "") in one ECR repository, its build-hash tag
    (``tag``) and its digest."""

    tag: pulumi.Output[str]
    digest: pulumi.Output[str]
    movingTag: pulumi.Output[str]

    def __init__(self, name: str, *, repository: pulumi.Input[str], region: str, profile: str | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(LatestImageProvider(), name, {
            "repository": repository, "region": region, "profile": profile or "",
            "tag": None, "digest": None, "movingTag": None,
        }, opts)
