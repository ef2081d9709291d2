"""Compose volumes on Fargate: named volumes persist on EFS (unless the stack marks them ephemeral), everything
else is explained. Also the pure facts the program needs about an app's volumes: which ones back a database
(``database_volumes``) and which uid/gid owns a volume's files (``volume_owner``).

* A named volume becomes an EFS access point of the stack's file system (components/filesystem.py): its data
  survives deploys, restarts and Spot interruptions, as Docker Compose users expect.
* ``apis.NAME.volumes: {VOLUME: ephemeral}`` keeps a volume task-scoped (scratch data, caches), with a warning.
* Bind mounts are not deployed: a data directory should be a named volume, a config file belongs in the image.
* A bind mount of the Docker socket is an error: there is no Docker engine on Fargate.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from components.compose.documents import is_dir, is_file
from components.compose.merge import clean_path
from components.compose.model import App, VolumeMount
from components.compose.values import as_bool, as_text, short

EPHEMERAL = "ephemeral"
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")

# Images whose data directory is a database's: two processes on one directory corrupt it. Names without
# registry, tag or digest (Docker Hub's official images without "library/").
DATABASE_IMAGES = frozenset({
    "postgres", "postgis/postgis", "timescale/timescaledb", "timescale/timescaledb-ha", "pgvector/pgvector",
    "bitnami/postgresql", "mysql", "mariadb", "bitnami/mysql", "bitnami/mariadb", "percona", "mongo",
    "bitnami/mongodb", "redis", "redis/redis-stack", "redis/redis-stack-server", "bitnami/redis", "valkey/valkey",
    "eqalpha/keydb", "elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch", "opensearchproject/opensearch",
    "cassandra", "couchdb", "neo4j", "influxdb", "clickhouse/clickhouse-server", "cockroachdb/cockroach",
    "rabbitmq", "memcached", "surrealdb/surrealdb", "questdb/questdb", "qdrant/qdrant", "semitechnologies/weaviate",
    "etcd", "quay.io/coreos/etcd", "bitnami/etcd", "nats", "mcr.microsoft.com/mssql/server",
})
# Data directories of databases, as the images document them.
DATABASE_PATHS = frozenset({
    "/var/lib/postgresql/data", "/var/lib/postgresql", "/home/postgres/pgdata", "/var/lib/mysql", "/data/db",
    "/data/configdb", "/var/lib/mongodb", "/usr/share/elasticsearch/data", "/usr/share/opensearch/data",
    "/var/lib/redis", "/bitnami/postgresql", "/bitnami/mysql", "/bitnami/mariadb", "/bitnami/mongodb",
    "/bitnami/redis/data", "/var/lib/cassandra", "/opt/couchdb/data", "/var/lib/influxdb", "/var/lib/influxdb2",
    "/var/lib/clickhouse", "/var/lib/rabbitmq", "/cockroach/cockroach-data", "/var/opt/mssql", "/etcd-data",
    "/qdrant/storage", "/var/lib/neo4j/data",
})
# uid:gid the official images run their server as (and expect to own the data directory).
IMAGE_OWNERS: dict[str, tuple[int, int]] = {
    "postgres": (999, 999), "postgres:alpine": (70, 70), "postgis/postgis": (999, 999),
    "pgvector/pgvector": (999, 999), "timescale/timescaledb": (70, 70), "mysql": (999, 999),
    "mariadb": (999, 999), "mongo": (999, 999), "redis": (999, 999), "redis:alpine": (999, 1000),
    "valkey/valkey": (999, 999), "rabbitmq": (999, 999), "elasticsearch": (1000, 0),
    "docker.elastic.co/elasticsearch/elasticsearch": (1000, 0), "opensearchproject/opensearch": (1000, 1000),
    "couchdb": (5984, 5984), "cassandra": (999, 999), "neo4j": (7474, 7474), "influxdb": (1000, 1000),
    "clickhouse/clickhouse-server": (101, 101), "grafana/grafana": (472, 0), "grafana/grafana-oss": (472, 0),
    "prom/prometheus": (65534, 65534), "bitnami/postgresql": (1001, 0), "bitnami/mysql": (1001, 0),
    "bitnami/mariadb": (1001, 0), "bitnami/mongodb": (1001, 0), "bitnami/redis": (1001, 0),
    "nextcloud": (33, 33), "nextcloud:alpine": (82, 82), "wordpress": (33, 33), "wordpress:alpine": (82, 82),
    "ghost": (1000, 1000), "node": (1000, 1000), "gitea/gitea": (1000, 1000), "rabbitmq:alpine": (100, 101),
}
# Every bitnami/* image runs as 1001 in group 0 (Bitnami's non-root containers).
BITNAMI_OWNER = (1001, 0)
# Checked to run as root by default: their volumes are enforced as 0:0 (the task role then gets ClientRootAccess).
ROOT_IMAGES = frozenset({"minio/minio", "quay.io/minio/minio", "louislam/uptime-kuma"})
ROOT_OWNER = (0, 0)
CONFIG_FILE = re.compile(r"\.(conf|cnf|cfg|ini|ya?ml|json|toml|env|xml|properties|js|mjs|py|php|sh|sql|lua|"
                         r"crt|pem|key|htpasswd|txt)$", re.IGNORECASE)


def image_name(image: str | None) -> str:
    """``docker.io/library/postgres:16-alpine@sha256:..`` -> ``postgres`` (registry hosts of Docker Hub,
    ``library/``, tag and digest removed; other registries keep their host)."""
    if not image:
        return ""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name.removeprefix("library/").lower()


def image_tag(image: str | None) -> str:
    last = (image or "").split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1].lower() if ":" in last else ""


def is_database_image(image: str | None) -> bool:
    return image_name(image) in DATABASE_IMAGES


def clean_target(path: str) -> str:
    """A container path as Compose keeps it: ``/data/`` -> ``/data``, ``/a/./b/../c`` -> ``/a/c``."""
    return clean_path(path)


def persistent_volumes(app: App) -> list[str]:
    """The compose volumes that go on EFS (sorted)."""
    return sorted({m.volume for c in app.containers for m in c.mounts if m.persistent})


def database_volumes(app: App) -> dict[str, str]:
    """Persistent volumes that back a database -> why (the image, or the data path). Two replicas of such a task
    would run two database processes on one data directory and corrupt it (issue 15's replica and autoscaling
    keys call this too)."""
    found: dict[str, str] = {}
    for container in app.containers:
        for mount in container.mounts:
            if not mount.persistent or mount.volume in found:
                continue
            if is_database_image(container.image) and not mount.read_only:
                found[mount.volume] = f"{container.name!r} runs the database image {image_name(container.image)}"
            elif clean_target(mount.target) in DATABASE_PATHS:
                found[mount.volume] = f"{container.name!r} keeps a database's data at {mount.target}"
    return found


def _numeric_user(user: str | None) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)(?::(\d+))?", (user or "").strip())
    if not match:
        return None
    uid = int(match.group(1))
    return uid, int(match.group(2)) if match.group(2) is not None else uid


def volume_owner(app: App, volume: str) -> tuple[int, int]:
    """The uid/gid an access point creates the volume's directory with and acts as: a numeric compose ``user:``
    of a container that writes to it, else what the image is known to run as (postgres: 999, its alpine
    variant: 70; bitnami/*: 1001:0), else root (ROOT_IMAGES and every image not in the table)."""
    writers = [c for c in app.containers if any(m.volume == volume and not m.read_only for m in c.mounts)] or \
        [c for c in app.containers if any(m.volume == volume for m in c.mounts)]
    for container in writers:
        numeric = _numeric_user(container.user)
        if numeric is not None:
            return numeric
    for container in writers:
        name = image_name(container.image)
        if "alpine" in image_tag(container.image) and f"{name}:alpine" in IMAGE_OWNERS:
            return IMAGE_OWNERS[f"{name}:alpine"]
        if name in IMAGE_OWNERS:
            return IMAGE_OWNERS[name]
        if name.startswith("bitnami/"):
            return BITNAMI_OWNER
    return ROOT_OWNER


@dataclass(frozen=True)
class _Where:
    file: str
    service: str
    key: str


class VolumeTranslation:
    """The ``volumes:`` of one service. A mixin of the loader: needs ``self._warn``, ``self._error`` and
    ``self.ephemeral_volumes`` (the stack config's ``apis.NAME.volumes`` marked ephemeral)."""

    ephemeral_volumes: frozenset[str] = frozenset()

    def _mounts(self, name: str, entries: list, volumes: dict, file: str) -> list[VolumeMount]:
        mounts: list[VolumeMount] = []
        for index, volume in enumerate(entries):
            key = f"volumes[{index}]"
            if not isinstance(volume, dict):
                raise self._error(f"volume {short(volume)} is not SOURCE:TARGET[:MODE] or the long form.", file, name, key)
            kind = volume.get("type")
            target = volume.get("target")
            source = volume.get("source")
            if kind == "invalid" or not target:
                raise self._error(f"volume {short(volume.get('text', volume))} is not SOURCE:TARGET[:MODE].", file, name, key,
                                  "write named-volume:/path/in/container or ./folder:/path/in/container.")
            target = clean_target(as_text(target))
            if kind == "volume" and source:
                mounts.append(self._named(name, volume, str(source), target, volumes, _Where(file, name, key)))
            elif kind == "volume":
                self._warn(f"the anonymous volume at {target} is the container's own ephemeral storage on Fargate; "
                           "its data is lost when the task stops. Name it (volumes: {data: {}}) to keep its data on "
                           "EFS.", file=file, service=name, key=key)
            elif kind == "bind":
                self._bind(name, str(source or ""), target, _Where(file, name, key))
            else:
                self._warn(f"the {kind} mount at {target} is not deployed on Fargate; the path is ordinary ephemeral "
                           "storage in the container.", file=file, service=name, key=key)
        return mounts

    def _named(self, name: str, volume: dict, source: str, target: str, volumes: dict, where: _Where) -> VolumeMount:
        if source not in volumes:
            raise self._error(f"the named volume {source!r} is not declared under the top-level volumes:.",
                              where.file, name, where.key, f"add volumes: {{{source}: {{}}}} at the top level.")
        try:
            read_only = as_bool(volume.get("read_only") or False)
        except ValueError as error:
            raise self._error(f"read_only: {error}.", where.file, name, where.key) from None
        persistent = source not in self.ephemeral_volumes
        if not persistent:
            self._warn(f"the named volume {source!r} is marked ephemeral in the stack config, so it is a task-scoped "
                       f"volume at {target}: the containers of this task share it, and its data is lost whenever the "
                       "task stops (every deploy, scale-in, Spot interruption or crash).", file=where.file,
                       service=name, key=where.key)
        return VolumeMount(source, target, read_only, persistent)

    def _bind(self, name: str, source: str, target: str, where: _Where) -> None:
        if target in DOCKER_SOCKETS or source in DOCKER_SOCKETS or source.endswith("/docker.sock"):
            raise self._error(f"the bind mount of the Docker socket ({source or target}) cannot work on Fargate: "
                              "there is no Docker engine to talk to, so this app cannot run there.",
                              where.file, name, where.key,
                              "remove the service (or this mount); apps that manage containers (Traefik's Docker "
                              "provider, Portainer, Watchtower, ...) need a host with Docker.")
        path = Path(source) if source else None
        if (path is not None and is_file(path)) or (not (path is not None and is_dir(path)) and
                                                   (CONFIG_FILE.search(target) or CONFIG_FILE.search(source))):
            advice = (f"it looks like a config file: bake it into the image (COPY {Path(source).name or 'it'} "
                      f"{target} in the Dockerfile, or a build: with that step).")
        else:
            advice = ("for data the app writes, use a named volume instead (volumes: {data: {}} and data:"
                      f"{target}); it is kept on EFS. For files the app only reads, COPY them into the image.")
        self._warn(f"the bind mount of {source or '?'} at {target} is not deployed: on Fargate the container sees "
                   f"the image's own files there; {advice}", file=where.file, service=name, key=where.key)


def unknown_volumes(app_volumes: Iterable[str], configured: Iterable[str]) -> list[str]:
    known = set(app_volumes)
    return sorted(v for v in configured if v not in known)
