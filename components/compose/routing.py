"""Which container API Gateway routes to, and on which port. A mixin of the loader (``loader._Loader``).

The entrypoint: the stack's ``entrypoint``; else the one container that publishes a TCP port; else the only
container; else, when nothing publishes ports, the one service that carries Traefik router labels (apps behind a
reverse proxy declare themselves that way).

The routed port, in order: the stack's ``apis.NAME.port``; the entrypoint's first TCP ``ports`` entry (UDP entries
are skipped); its Traefik ``loadbalancer.server.port`` label; its first ``expose`` entry; and only then port 80,
with a warning.
"""
from __future__ import annotations

import re

from components.compose.dockerfile import DEFAULT_PORT
from components.compose.model import Container, PortMapping
from components.compose.volumes import image_name, is_database_image
from components.errors import ConfigError

TRAEFIK_ROUTER = re.compile(r"^traefik\.(http|tcp)\.routers\.[^.]+\.", re.IGNORECASE)
TRAEFIK_PORT = re.compile(r"^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$", re.IGNORECASE)
EXPOSE_ENTRY = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp))?$", re.IGNORECASE)


def traefik_port(labels: dict[str, str]) -> int | None:
    """The first Traefik ``loadbalancer.server.port`` label's port, if it is one."""
    for key, value in labels.items():
        if TRAEFIK_PORT.match(key) and str(value).strip().isdigit() and 0 < int(value) < 65536:
            return int(value)
    return None


def has_traefik_router(labels: dict[str, str]) -> bool:
    return any(TRAEFIK_ROUTER.match(key) for key in labels) and \
        str(labels.get("traefik.enable", "true")).strip().lower() != "false"


def expose_ports(entries: list) -> list[tuple[int, str]]:
    """``expose`` entries as (port, protocol); a range gives its first port. Junk is skipped (the schema checked
    the form)."""
    ports = []
    for entry in entries or []:
        match = EXPOSE_ENTRY.match(str(entry).strip())
        if match:
            ports.append((int(match.group(1)), (match.group(3) or "tcp").lower()))
    return ports


class Routing:
    """Needs ``self.origin``, ``self._warn``, ``self._check_shared_ports`` and ``self.routed_port_setting`` (the
    stack's ``apis.NAME.port``, or None)."""

    routed_port_setting: int | None = None

    def _entrypoint(self, containers: list[Container], requested: str | None, file: str) -> tuple[str, int]:
        chosen = self._choose_entrypoint(containers, requested, file)
        where = self.origin.get(chosen.name, file)
        port = self._routed_port(chosen)
        if port is None:
            port = DEFAULT_PORT
            self._warn(f"the entrypoint publishes no port, has no Traefik loadbalancer.server.port label and exposes "
                       f"none, so API Gateway routes to port {DEFAULT_PORT}; set apis.<api>.port in the stack config "
                       "(or add ports:) if the app listens elsewhere.", file=where, service=chosen.name, key="ports")
        if not any(p.container_port == port and p.protocol == "tcp" for p in chosen.ports):
            chosen.ports.append(PortMapping(port))
            self._check_shared_ports(containers, file)
        if is_database_image(chosen.image):
            self._warn(f"API Gateway routes to {chosen.name!r}, which runs the database image "
                       f"{image_name(chosen.image)}: the database would face the internet through the API. Route to "
                       "the app that uses it (entrypoint in the stack config).", file=where, service=chosen.name,
                       key="entrypoint")
        return chosen.name, port

    def _routed_port(self, chosen: Container) -> int | None:
        if self.routed_port_setting is not None:
            return self.routed_port_setting
        tcp = [p for p in chosen.ports if p.protocol == "tcp"]
        if tcp:
            return tcp[0].container_port
        labelled = traefik_port(chosen.labels)
        if labelled is not None:
            return labelled
        exposed = [port for port, protocol in expose_ports(chosen.expose) if protocol == "tcp"]
        return exposed[0] if exposed else None

    def _choose_entrypoint(self, containers: list[Container], requested: str | None, file: str) -> Container:
        names = [c.name for c in containers]
        routable = [c for c in containers if any(p.protocol == "tcp" for p in c.ports)]
        if requested is not None:
            if requested not in names:
                raise ConfigError(f"the entrypoint {requested!r} is not a container of this app.", file=file,
                                  key="entrypoint", fix=f"use one of: {', '.join(names)}.")
            chosen = next(c for c in containers if c.name == requested)
            if not any(p.protocol == "tcp" for p in chosen.ports) and routable and self.routed_port_setting is None \
                    and traefik_port(chosen.labels) is None and not expose_ports(chosen.expose):
                raise ConfigError(f"the entrypoint {requested!r} publishes no TCP port, and API Gateway routes to the "
                                  "entrypoint's first ports: entry.", file=file, service=requested, key="entrypoint",
                                  fix=f"add ports: to {requested!r}, set apis.<api>.port in the stack config, or "
                                      f"choose one of: {', '.join(c.name for c in routable)}.")
            return chosen
        if len(routable) == 1:
            return routable[0]
        if len(routable) > 1:
            raise ConfigError(f"several containers publish ports ({', '.join(c.name for c in routable)}), so the one "
                              "API Gateway routes to must be named.", file=file, key="entrypoint",
                              fix=f"set entrypoint to one of: {', '.join(c.name for c in routable)} (the API's "
                                  "entrypoint in the stack config).")
        if len(containers) == 1:
            return containers[0]
        proxied = [c for c in containers if has_traefik_router(c.labels)]
        if len(proxied) == 1:
            return proxied[0]
        if len(proxied) > 1:
            raise ConfigError(f"no container publishes ports, and several carry Traefik router labels "
                              f"({', '.join(c.name for c in proxied)}), so the one API Gateway routes to must be named.",
                              file=file, key="entrypoint",
                              fix=f"set entrypoint to one of: {', '.join(c.name for c in proxied)} (the API's "
                                  "entrypoint in the stack config).")
        raise ConfigError("no container publishes a TCP port, so API Gateway has nothing to route to.", file=file,
                          key="ports", fix=f"add ports: to the service that serves requests, or set entrypoint to "
                                           f"one of: {', '.join(names)} (and apis.<api>.port, else port "
                                           f"{DEFAULT_PORT} is used).")
