"""Which build does ECR currently tag ``latest``? Looked up again at every ``pulumi up``.

docs/design.md ("Images and the task definition"): the program owns the task definition and pins each
built container to the build-hash tag that shares its digest with ``latest``. The pipeline pushes
``<hash>`` and ``latest``; a rollback re-tags an older hash as ``latest``. Reading that tag at every
``pulumi up`` means a later update registers the image the pipeline (or the rollback) left running,
never an older one.

``find_latest`` is pure logic over an injected boto3 ECR client (tested with moto). ``LatestImage`` is
the Pulumi dynamic resource around it: its ``diff`` repeats the lookup, so a moved ``latest`` shows up
as a change on the next update even though none of the program's inputs changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

LATEST_TAG = "latest"
# The buildspec tags every image with 7 lowercase hex characters (components/pipeline/buildspec.py).
BUILD_HASH_TAG = re.compile(r"^[0-9a-f]{7}$")
DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:LatestImage"


@dataclass(frozen=True)
class CurrentImage:
    tag: str        # the build-hash tag sharing latest's digest; "" when there is none
    digest: str     # latest's digest ("sha256:..."); "" when nothing is tagged latest


NO_IMAGE = CurrentImage(tag="", digest="")


def find_latest(ecr, repository: str, registry_id: str | None = None) -> CurrentImage:
    """The image ECR tags ``latest`` in ``repository`` and its build-hash tag.

    A missing repository or a missing ``latest`` is the first deploy, not an error. When several hash
    tags share the digest (two sources that built byte-identical images) the smallest one is taken,
    so the answer does not flip between updates.
    """
    kwargs: dict[str, Any] = {"repositoryName": repository, "imageIds": [{"imageTag": LATEST_TAG}]}
    if registry_id:
        kwargs["registryId"] = registry_id
    try:
        details = ecr.describe_images(**kwargs).get("imageDetails") or []
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return NO_IMAGE
    if not details:
        return NO_IMAGE
    detail = details[0]
    hashes = sorted(tag for tag in detail.get("imageTags") or [] if BUILD_HASH_TAG.match(tag))
    return CurrentImage(tag=hashes[0] if hashes else "", digest=detail.get("imageDigest", ""))


def image_reference(repository_url: str, current: CurrentImage) -> str:
    """What the task definition runs: pinned by hash tag, else by digest (someone pushed ``latest``
    by hand), else ``latest`` as a placeholder while the service is held at 0 tasks."""
    if current.tag:
        return f"{repository_url}:{current.tag}"
    if current.digest:
        return f"{repository_url}@{current.digest}"
    return f"{repository_url}:{LATEST_TAG}"


def _ecr_client(props: dict[str, Any]):
    import boto3  # imported here: the provider runs in Pulumi's dynamic-provider process

    session = boto3.Session(profile_name=props.get("profile") or None, region_name=props.get("region") or None)
    return session.client("ecr")


class LatestImageProvider(ResourceProvider):
    """CRUD for ``LatestImage``: nothing is created in AWS; every operation is a fresh lookup."""

    serialize_as_secret_always = False

    def __init__(self, client_factory=_ecr_client):
        self.client_factory = client_factory

    def _lookup(self, props: dict[str, Any]) -> dict[str, Any]:
        current = find_latest(self.client_factory(props), props["repository"])
        return {**props, "tag": current.tag, "digest": current.digest}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["repository"], outs=self._lookup(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs_changed = any(olds.get(k) != news.get(k) for k in ("repository", "region", "profile"))
        if inputs_changed:
            return DiffResult(changes=True)
        current = find_latest(self.client_factory(news), news["repository"])
        moved = (current.tag, current.digest) != (olds.get("tag", ""), olds.get("digest", ""))
        return DiffResult(changes=moved)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._lookup(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=self._lookup(props))


class LatestImage(Resource, module="serverless-containers", name="LatestImage"):
    """The build-hash tag (``tag``) and digest that ``latest`` points at in one ECR repository."""

    tag: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, name: str, *, repository: pulumi.Input[str], region: str, profile: str | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(LatestImageProvider(), name, {
            "repository": repository, "region": region, "profile": profile or "",
            "tag": None, "digest": None,
        }, opts)
