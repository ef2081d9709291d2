"""What `ops local up` checks before it builds anything, so a run that cannot work says why at once.

* Storage: containers that get ``STORAGE_*`` variables need a way to reach DynamoDB (an endpoint or AWS
  credentials); without one every request that touches a table fails (``CredentialsProviderError``).
* The port: a loopback port that is already taken would only fail after the whole build, as an error about
  the namespace container; here the message names the API that holds it and the flag to pick another.
* The network: a build without ``--base-image`` pulls its ``FROM`` image; with no network that fails on a
  DNS lookup, and the local base image is the way out.
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Sequence

from components.settings.storage import env_name

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
LOCALHOST_NOTE = ("localhost inside the task is the task itself, so a DynamoDB Local on this machine is reached at "
                  "the host's address, e.g. http://172.17.0.1:8000 (Docker's default bridge)")
# What a build prints when it cannot reach a registry (Docker, BuildKit, npm, pip).
OFFLINE_SIGNS = ("no such host", "name resolution", "dial tcp", "failed to resolve source metadata",
                 "i/o timeout", "tls handshake timeout", "network is unreachable", "eai_again", "enotfound",
                 "could not resolve")
_PUBLISHED = re.compile(r"127\.0\.0\.1:(\d+)->")


def storage_warning(api: str, granted_tables: Sequence[str], *, no_storage: bool, dynamodb_endpoint: str | None,
                    environment: dict[str, str], pass_environment: Sequence[str]) -> str | None:
    """The warning for containers that get ``STORAGE_*`` variables but nothing to reach DynamoDB with."""
    if no_storage or not granted_tables:
        return None
    given = set(environment) | set(pass_environment)
    if dynamodb_endpoint or given & set(ENDPOINT_VARIABLES) or given & set(CREDENTIAL_VARIABLES):
        return None
    variables = ", ".join(f"STORAGE_{env_name(t)}_NAME" for t in granted_tables)
    return (f"API '{api}' gets {variables}, but nothing to reach DynamoDB with (no --dynamodb-endpoint, no AWS "
            f"credentials), so every request that touches a table will fail (CredentialsProviderError). Pass "
            f"--no-storage (the app's local mode, if it has one), --dynamodb-endpoint URL ({LOCALHOST_NOTE}), or "
            f"credentials with --pass-env AWS_ACCESS_KEY_ID --pass-env AWS_SECRET_ACCESS_KEY "
            f"(and AWS_SESSION_TOKEN), or --pass-env AWS_PROFILE.")


@dataclass(frozen=True)
class PortHolder:
    """A namespace container `ops local up` started, and the loopback ports it publishes."""

    family: str
    stack: str
    api: str
    ports: frozenset[int]


def parse_holders(ps_output: str) -> list[PortHolder]:
    """`docker ps --format '{{.Names}}\\t{{.Label stack}}\\t{{.Label api}}\\t{{.Ports}}'` lines."""
    holders = []
    for line in ps_output.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or not parts[0].strip():
            continue
        holders.append(PortHolder(family=parts[0].strip(), stack=parts[1].strip(), api=parts[2].strip(),
                                  ports=frozenset(int(p) for p in _PUBLISHED.findall(parts[3]))))
    return holders


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether Docker could publish ``host:port`` now. Docker's port proxy is a Go listener, and Go sets
    SO_REUSEADDR on every listening socket, so connections of an earlier run still in TIME-WAIT (about 60 s
    after `down`) do not block it; only a socket that listens there does. Bind the same way, or every `up`
    right after a `down` would be refused for nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_problem(port: int, own_family: str, holders: Sequence[PortHolder], free: bool) -> str | None:
    """Why the loopback ``port`` cannot be used, or None. ``own_family``'s earlier run does not count: `up`
    removes it first. ``free``: whether the port could be bound just now."""
    for holder in holders:
        if port in holder.ports and holder.family != own_family:
            who = (f"API '{holder.api}' of stack '{holder.stack}'" if holder.api and holder.stack
                   else f"the local task {holder.family}")
            stop = (f"`python -m ops local down --stack {holder.stack} --api {holder.api}`" if holder.api and holder.stack
                    else f"`docker rm -f {holder.family}`")
            return (f"port {port} on 127.0.0.1 is taken by {who} (container {holder.family}). Stop it with {stop}, "
                    f"or pick another port with --port {port + 1}.")
    if free or any(port in holder.ports for holder in holders if holder.family == own_family):
        return None
    return (f"port {port} on 127.0.0.1 is already in use by another program on this machine. Pick another port "
            f"with --port {port + 1} (the API is then at http://127.0.0.1:{port + 1}), or stop that program.")


def looks_offline(output: str) -> bool:
    lowered = output.lower()
    return any(sign in lowered for sign in OFFLINE_SIGNS)


def offline_hint(local_base_image: str) -> str:
    return (f"if it failed fetching its base image or packages (no network here), build the local base image once "
            f"(`sudo docker/base/build.sh`) and pass --base-image {local_base_image}; the samples take their base "
            f"image as the build argument BASE_IMAGE.")
