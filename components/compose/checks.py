"""Checks over the whole task once every service is translated: shared ports, depends_on cycles,
service host names, the task size and the replica count.
A mixin of the loader (``loader._Loader``)."""
from __future__ import annotations

import re

from components.compose.model import Container, fargate_task_size
from components.errors import ConfigError


HOST_VARIABLE = re.compile(r"(HOST|HOSTNAME|HOSTS|SERVER|SERVERS|ADDR|ADDRESS|ENDPOINT|URL|URI|DSN|BROKER|BROKERS)$",
                           re.IGNORECASE)


def _names_host(key: str, value: str, other: str) -> bool:
    """``value`` uses the service ``other`` as a host: host:port, a URL's host, user@host, or the whole value of a
    variable whose name says it holds a host (..._HOST, ..._URL, ...)."""
    name = re.escape(other)
    if re.search(rf"(?:^|://|@|[\s,;=]){name}:\d+(?:$|[/?\s,;])", value):
        return True
    if re.search(rf"(?:://|@){name}(?:$|[:/?\s,;])", value):
        return True
    return value == other and bool(HOST_VARIABLE.search(key.rstrip("_")))


class TaskChecks:
    """Needs ``self.origin`` (service -> file) and ``self._warn`` from the loader."""

    def _check_shared_ports(self, containers: list[Container], file: str) -> None:
        owners: dict[tuple[int, str], str] = {}
        for container in containers:
            for port in container.ports:
                owner = owners.setdefault((port.container_port, port.protocol), container.name)
                if owner != container.name:
                    raise ConfigError(f"the services {owner!r} and {container.name!r} both listen on container port "
                                      f"{port.container_port}/{port.protocol}, but on Fargate all containers of the "
                                      "task share one network namespace (localhost), so only one can bind it.",
                                      file=self.origin.get(container.name, file), service=container.name, key="ports",
                                      fix="make one of them listen on another port (and change its ports: entry).")

    def _check_cycles(self, containers: list[Container], file: str) -> None:
        graph = {c.name: [d.service for d in c.depends_on] for c in containers}
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for following in graph.get(node, []):
                if state.get(following) == 1:
                    cycle = path[path.index(following):] + [following] if following in path else [node, following]
                    raise ConfigError(f"dependency cycle detected: {' -> '.join(cycle)}.",
                                      file=self.origin.get(node, file), service=node, key="depends_on",
                                      fix="remove one depends_on entry of the cycle; ECS starts containers in "
                                          "dependency order, so a cycle never starts.")
                if state.get(following) is None:
                    visit(following, path + [following])
            state[node] = 2

        for name in graph:
            if name not in state:
                visit(name, [name])

    def _warn_service_hostnames(self, containers: list[Container]) -> None:
        """Warn for values that use another service as a host name (db:5432, http://api/, user@db, DB_HOST=db),
        never for a bare word that only happens to be a service's name (POSTGRES_USER=db, CACHE_DRIVER=redis)."""
        names = [c.name for c in containers]
        for container in containers:
            for key, value in container.environment.items():
                for other in names:
                    if other == container.name or not _names_host(key, value, other):
                        continue
                    self._warn(f"{key}={value} names the service {other!r}, but on Fargate there is no host "
                               f"called {other!r}: all containers share localhost, so use localhost (with "
                               f"{other!r}'s port) instead.", file=self.origin.get(container.name),
                               service=container.name, key=f"environment.{key}")
                    break

    def _task_size(self, containers: list[Container], file: str) -> tuple[int, int]:
        cpu = sum(c.cpu or 0 for c in containers)
        memory = sum(c.memory or 0 for c in containers)
        try:
            return fargate_task_size(cpu or None, memory or None)
        except ValueError as error:
            raise ConfigError(f"the containers ask for {cpu} CPU units and {memory} MiB together: {error}.", file=file,
                              key="deploy.resources.limits",
                              fix="lower cpus/memory limits, or split the app into several APIs.") from None

    def _replicas(self, explicit: dict[str, int], containers: list[Container], file: str) -> int:
        if not explicit:
            return 1
        replicas = max(explicit.values())
        counts = {c.name: explicit.get(c.name, 1) for c in containers}
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{name}: {count}" for name, count in counts.items())
            self._warn(f"services ask for different replica counts ({shown}); all containers run in one task, so "
                       f"the task runs {replicas} times and every container gets {replicas} copies.", file=file,
                       key="deploy.replicas")
        return replicas
