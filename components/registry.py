"""ECR repositories for the built containers of one API, and the image each container runs.

One repository per container with compose ``build:``, named ``serverless-containers-<stack>-<api>-<container>``
(docs/design.md). Scan on push; tags are mutable because ``deployed`` moves after every successful deploy
and every rollback (docs/design.md, "Who moves which tag"). The lifecycle policy keeps the images tagged
``deployed`` and (legacy) ``latest`` and expires every other image 7 days after it was pushed.

Which image the task definition gets (docs/design.md, "Images and the task definition"):

* ``build: managed`` / ``github``: ``<repo>:deployed``, the build ECS last deployed successfully; whether it
  exists is looked up at every ``pulumi up`` (``components/providers/image_lookup.py``). No ``deployed`` yet
  means the first deploy: the service is held at 0 tasks (``ready`` is False) until the pipeline's first run
  has deployed and promoted a build and the waiter scales it up.
* ``build: manual``: the image from config. A value with a ``/``, ``:`` or ``@`` is a registry image
  used as written; anything else is a tag in the created repository. A built container without a
  configured image holds the service at 0 tasks, with a warning that prints the push commands.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.errors import ConfigError
from components.providers.image_lookup import DEPLOYED_TAG, LATEST_TAG, CurrentImage, LatestImage, image_reference
from components.compose.model import App

PROJECT = "serverless-containers"
IMAGE_RETENTION_DAYS = 7
# The only tags that ever point at another image (docs/design.md, "Who moves which tag"): excluded from
# tag immutability. `latest` is legacy (stacks deployed before `deployed`); nothing writes it any more.
MOVING_TAGS = ("deployed", "latest")
# ECR's repository-name rule (botocore's RepositoryName pattern), one path segment.
_REPOSITORY_SEGMENT = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$")
_MAX_REPOSITORY_NAME = 256


def repository_name(stack: str, api: str, container: str) -> str:
    """``serverless-containers-<stack>-<api>-<container>``, lowercased and reduced to what ECR accepts.

    Compose service names may hold upper case, dots and underscores; ECR wants lower case and single
    separators between alphanumerics.
    """
    raw = f"{PROJECT}-{stack}-{api}-{container}".lower()
    name = re.sub(r"[^a-z0-9._-]+", "-", raw)
    name = re.sub(r"[._-]{2,}", "-", name).strip("._-")
    if len(name) > _MAX_REPOSITORY_NAME or not _REPOSITORY_SEGMENT.match(name):
        raise ConfigError(f"container {container!r} gives the ECR repository name {name!r}, which ECR refuses.",
                          service=container, fix="rename the compose service to lowercase letters, digits and hyphens.")
    return name


def lifecycle_policy(retention_days: int = IMAGE_RETENTION_DAYS) -> dict:
    """Keep the images tagged ``deployed`` and ``latest``; expire every other image ``retention_days`` after push.

    ECR looks at the rules by ascending ``rulePriority`` and an image matched by a rule's tag selection
    is never expired by a later rule. Rules 1 and 2 therefore claim the image tagged ``deployed`` (the one
    the service runs) and the legacy ``latest`` and can expire nothing (only one image can carry a tag, and
    each keeps up to 1; a pattern list selects images carrying *all* its tags, hence one rule per tag).
    Rule 3 (``tagStatus: any`` must come last) expires everything else by age.
    """
    keep = [
        {"rulePriority": priority,
         "description": f"keep the image tagged {tag} ({why})",
         "selection": {"tagStatus": "tagged", "tagPatternList": [tag],
                       "countType": "imageCountMoreThan", "countNumber": 1},
         "action": {"type": "expire"}}
        for priority, (tag, why) in enumerate(
            ((DEPLOYED_TAG, "the one the service runs"), (LATEST_TAG, "stacks from before the deployed tag")),
            start=1)]
    return {"rules": keep + [
        {"rulePriority": len(keep) + 1,
         "description": f"expire every other image {retention_days} days after push",
         "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": retention_days},
         "action": {"type": "expire"}},
    ]}


def is_registry_image(value: str) -> bool:
    """A full image reference (``nginx:1.27``, ``ghcr.io/o/app``, ``repo@sha256:...``), not a bare tag."""
    return any(ch in value for ch in "/:@")


def push_commands(repository_url: str, container: str, context: str, dockerfile: str, tag: str = "v1") -> list[str]:
    """The commands a user runs for ``build: manual``: log in, build, push, then name the tag in config."""
    registry = repository_url.split("/", 1)[0]
    region = registry.split(".")[3] if registry.count(".") >= 5 else "<region>"
    return [
        f"aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {registry}",
        f"docker build -t {repository_url}:{tag} -f {dockerfile} {context}",
        f"docker push {repository_url}:{tag}",
    ]


@dataclass
class ImageRepositoriesArgs:
    stack: str
    api: str
    app: App
    build_mode: str
    """managed | github | manual (docs/design.md)."""
    manual_images: dict[str, str] = field(default_factory=dict)
    """build: manual only: container -> registry image, or a bare tag in the created repository."""
    region: str | None = None
    """Region of the lookups; default: the stack's `aws:region`."""
    profile: str | None = None
    """AWS profile of the lookups; default: the stack's `aws:profile` (the lookup runs out of process)."""
    force_delete: bool = True
    """True: `pulumi destroy` deletes a repository with its images. False (`forceDestroy: false`): only an
    empty one, so a destroy by mistake stops before the images are gone."""
    tags: dict[str, str] = field(default_factory=dict)


class ImageRepositories(pulumi.ComponentResource):
    repository_urls: dict[str, pulumi.Output[str]]
    repository_arns: dict[str, pulumi.Output[str]]
    repository_names: dict[str, str]
    images: dict[str, pulumi.Output[str]]
    ready: pulumi.Output[bool]

    def __init__(self, name: str, args: ImageRepositoriesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:registry:ImageRepositories", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        built = [c for c in args.app.containers if c.is_built]
        names = {c.name: repository_name(args.stack, args.api, c.name) for c in built}
        clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
        if clashes:
            raise ConfigError(f"containers {sorted(c for c, n in names.items() if n in clashes)} would share the ECR "
                              f"repository {sorted(clashes)[0]!r}.", key="services",
                              fix="give the compose services names that differ in more than case or punctuation.")
        aws_config = pulumi.Config("aws")
        region = args.region or aws_config.get("region") or ""
        profile = args.profile if args.profile is not None else (aws_config.get("profile") or "")
        policy_text = json.dumps(lifecycle_policy())

        self.repository_names = names
        self.repository_urls, self.repository_arns, self.images = {}, {}, {}
        ready: list[pulumi.Output[bool]] = []
        for container in built:
            repository = aws.ecr.Repository(
                f"{name}-{container.name}", name=names[container.name],
                image_scanning_configuration={"scan_on_push": True},
                # Hash tags are pushed once and never move: immutable. The moving tags (docs/design.md, "Who
                # moves which tag") stay mutable: `deployed` moves after every successful deploy and rollback.
                image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
                image_tag_mutability_exclusion_filters=[{"filter": tag, "filter_type": "WILDCARD"}
                                                        for tag in MOVING_TAGS],
                # forceDestroy (default true): the stack owns the images, `pulumi destroy` deletes them too
                force_delete=args.force_delete, tags=args.tags, opts=child)
            aws.ecr.LifecyclePolicy(f"{name}-{container.name}", repository=repository.name, policy=policy_text,
                                    opts=child)
            self.repository_urls[container.name] = repository.repository_url
            self.repository_arns[container.name] = repository.arn
            if args.build_mode == "manual":
                image, has_image = self._manual_image(args, container.name, repository.repository_url)
            else:
                current = LatestImage(f"{name}-{container.name}-latest", repository=repository.name, region=region,
                                      profile=profile, opts=child)
                image = pulumi.Output.all(repository.repository_url, current.tag, current.digest,
                                          current.movingTag).apply(
                    lambda parts: image_reference(parts[0], CurrentImage(tag=parts[1] or "", digest=parts[2] or "",
                                                                         moving=parts[3] or "")))
                has_image = pulumi.Output.all(current.tag, current.digest).apply(lambda parts: bool(parts[0] or parts[1]))
            self.images[container.name] = image
            ready.append(has_image)
            if args.build_mode == "manual":
                self._log_manual_commands(args, container, repository.repository_url)

        for container in args.app.containers:
            if not container.is_built and container.name in args.manual_images:
                pulumi.log.warn(f"API {args.api}: images.{container.name} is ignored: that container has no build: "
                                f"and runs its compose image {container.image}. Change `image:` in the compose file.")
        self.ready = pulumi.Output.all(*ready).apply(all) if ready else pulumi.Output.from_input(True)
        self.register_outputs({"repositoryUrls": self.repository_urls, "images": self.images, "ready": self.ready})

    @staticmethod
    def _manual_image(args: ImageRepositoriesArgs, container: str, repository_url: pulumi.Output[str]):
        configured = args.manual_images.get(container)
        if not configured:
            return repository_url.apply(lambda url: f"{url}:latest"), pulumi.Output.from_input(False)
        if is_registry_image(configured):
            return pulumi.Output.from_input(configured), pulumi.Output.from_input(True)
        return repository_url.apply(lambda url: f"{url}:{configured}"), pulumi.Output.from_input(True)

    @staticmethod
    def _log_manual_commands(args: ImageRepositoriesArgs, container, repository_url: pulumi.Output[str]) -> None:
        build = container.build
        missing = not args.manual_images.get(container.name)

        def log(url: str) -> None:
            commands = "\n  ".join(push_commands(url, container.name, build.context, build.dockerfile))
            where = f"serverless-containers:apis.{args.api}.images.{container.name}"
            if missing:
                pulumi.log.warn(
                    f"API {args.api}: container {container.name} has build: manual and no image in {where}; the "
                    f"service runs 0 tasks until you push one and set it:\n  {commands}\n  "
                    f"pulumi config set --path '{where}' v1")
            else:
                pulumi.log.info(f"API {args.api}: to push a new image of {container.name}:\n  {commands}\n  then set "
                                f"{where} to the new tag and run pulumi up.")

        repository_url.apply(log)
