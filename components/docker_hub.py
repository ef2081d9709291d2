"""Which images come from Docker Hub, so they can be pulled with the stack's Docker Hub credentials.

Docker Hub throttles anonymous pulls by source IP, and Fargate tasks and CodeBuild builds share AWS's
addresses with everyone else, so they hit the limit early ("toomanyrequests", amplify-cli#8576). With
``serverless-containers:dockerHubCredentials`` set, these images are pulled signed in. Pure Python.

An image's registry is Docker's rule (distribution/reference): the part before the first ``/`` is a
registry host only when it holds a ``.`` or a ``:``, is ``localhost``, or has upper-case letters.
Anything else (``nginx``, ``library/nginx:1``, ``user/app``) is on Docker Hub, as are images that name
one of Docker Hub's own hosts (``docker.io/user/app``).
"""
from __future__ import annotations

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


def image_registry(image: str) -> str | None:
    """The registry host named by ``image`` (lower-cased), or None when it names none (Docker Hub)."""
    first, slash, _ = image.partition("/")
    if not slash:
        return None
    if "." in first or ":" in first or first == "localhost" or first != first.lower():
        return first.lower()
    return None


def is_docker_hub_image(image: str) -> bool:
    """True for ``nginx``, ``library/nginx:1``, ``user/app@sha256:…``, ``docker.io/user/app``; False for
    ``ghcr.io/x``, ``localhost:5000/x``, ``public.ecr.aws/x`` and ECR repository URLs."""
    if not image.strip():
        return False
    registry = image_registry(image.strip())
    return registry is None or registry in DOCKER_HUB_HOSTS


def uses_docker_hub(images: dict[str, str] | list[str]) -> bool:
    """Whether any of ``images`` (a container -> image map, or a list) is pulled from Docker Hub."""
    values = images.values() if isinstance(images, dict) else images
    return any(is_docker_hub_image(image) for image in values)
