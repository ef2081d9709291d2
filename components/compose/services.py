"""One compose service into one ``Container``: build, ports, command, environment, healthcheck,
secrets, depends_on, volumes, resources and replicas. A mixin of the loader (``loader._Loader``),
which supplies ``_warn`` and the project's variables; every problem names the file, service and key."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from components.compose.dockerfile import read_dockerfile
from components.compose.documents import exists, is_dir, is_file, read_text
from components.compose.fargate import check_deploy, check_service
from components.compose.interpolate import read_env_file
from components.compose.merge import DEFAULT_CONTEXT, is_remote_context
from components.compose.model import BuildSpec, Container, Dependency, HealthCheck, PortMapping
from components.compose.runtime import RuntimeKeys
from components.compose.secrets import SecretReferences
from components.compose.volumes import VolumeTranslation
from components.compose.values import (
    FieldError,
    as_bool,
    as_int,
    as_text,
    cpu_units,
    memory_mib,
    parse_command,
    parse_healthcheck,
    parse_port,
    short,
)
from components.errors import ConfigError

DEPENDENCY_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
ECS_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ECS_MIN_CONTAINER_MEMORY = 6      # MiB; ECS refuses a container memory limit below this
BUILD_KEYS_USED = {"context", "dockerfile", "dockerfile_inline", "args", "target", "secrets"}


def _with_links(service: dict) -> dict:
    """depends_on plus ``links``, ``volumes_from`` and ``network_mode: service:X``: the spec says they also order
    start-up, so each such service is a dependency (service_started) unless depends_on names it already."""
    entries = dict(service.get("depends_on") or {})
    implied = [str(link).split(":", 1)[0] for link in service.get("links") or []]
    # volumes_from and network_mode service:X order start-up too, as in Docker Compose.
    for source in service.get("volumes_from") or []:
        text = str(source)
        if not text.startswith("container:"):
            implied.append(text.removeprefix("service:").split(":", 1)[0])
    mode = str(service.get("network_mode") or "")
    if mode.startswith("service:"):
        implied.append(mode[len("service:"):])
    for target in implied:
        entries.setdefault(target, {"condition": "service_started", "required": True})
    return entries


class ServiceTranslation(VolumeTranslation, RuntimeKeys, SecretReferences):
    """Needs ``self._warn``, ``self.variables`` and ``self.source_dir`` from the loader (volumes: ``VolumeTranslation``)."""

    def _error(self, problem: str, file: str, service: str, key: str, fix: str | None = None) -> ConfigError:
        return ConfigError(problem, file=file, service=service, key=key, fix=fix)

    def _container(self, name: str, service: dict, file: str, enabled: dict, disabled: dict,
                   defined_secrets: dict, volumes: dict) -> tuple[Container, int | None]:
        if not ECS_CONTAINER_NAME.match(name):
            raise self._error("ECS container names may only hold letters, digits, '_' and '-'.", file, name,
                              "services", "rename the service, e.g. with '-' instead of '.'.")
        for warning in check_service(name, service, file=file, services=enabled) + \
                check_deploy(name, service.get("deploy"), file=file):
            self._warn(warning.message, file=warning.file, service=warning.service, key=warning.key)
        image = service.get("image")
        image = as_text(image) if image not in (None, "") else None
        build = self._build(name, service.get("build"), file, defined_secrets)
        if image is None and build is None:
            raise self._error("the service has neither image: nor build:, so there is nothing to run.", file, name,
                              "image", "add image: <registry image> or build: <folder with a Dockerfile>.")
        container = Container(
            name=name, image=image, build=build,
            ports=self._ports(name, service.get("ports") or [], file),
            command=self._command(name, service, "command", file),
            entrypoint=self._command(name, service, "entrypoint", file),
            environment=self._environment(name, service, file),
            healthcheck=self._healthcheck(name, service.get("healthcheck"), file, build),
            working_dir=as_text(service["working_dir"]) if service.get("working_dir") not in (None, "") else None,
            user=as_text(service["user"]) if service.get("user") not in (None, "") else None,
            secrets=self._service_secrets(name, service.get("secrets") or [], defined_secrets, file),
            depends_on=self._depends_on(name, _with_links(service), enabled, disabled, file),
            mounts=self._mounts(name, service.get("volumes") or [], volumes, file),
            labels={str(k): as_text(v) if v is not None else "" for k, v in (service.get("labels") or {}).items()},
            expose=[str(entry) for entry in service.get("expose") or []],
            env_files=[Path(entry["path"]) for entry in service.get("env_file") or []
                       if isinstance(entry, dict) and isinstance(entry.get("path"), str)],
        )
        self._runtime(name, service, file, container)
        container.cpu, container.memory = self._resources(name, service, file)
        return container, self._service_replicas(name, service, file)

    def _build(self, name: str, build: Any, file: str, defined_secrets: dict | None = None) -> BuildSpec | None:
        if build is None:
            return None
        if not isinstance(build, dict):
            raise self._error(f"build {short(build)} is not a folder or a mapping.", file, name, "build")
        context = as_text(build.get("context") or build.get(DEFAULT_CONTEXT) or ".")
        dockerfile = build.get("dockerfile")
        inline = build.get("dockerfile_inline")
        if dockerfile not in (None, "") and inline not in (None, ""):
            raise self._error("build sets both dockerfile and dockerfile_inline.", file, name, "build",
                              "keep one of them.")
        args: dict[str, str] = {}
        raw_args = build.get("args") or {}
        for arg, value in raw_args.items():
            if value is None:
                value = self.variables.get(arg)
                if value is None:
                    self._warn(f"build argument {arg} has no value and is not set in the environment, so it is "
                               "not passed.", file=file, service=name, key=f"build.args.{arg}")
                    continue
            try:
                args[str(arg)] = as_text(value)
            except ValueError as error:
                raise self._error(f"build argument {arg}: {error}.", file, name, f"build.args.{arg}") from None
        for key, value in build.items():
            if key not in BUILD_KEYS_USED and not key.startswith("x-") and value not in (None, False, [], {}, ""):
                self._warn(f"build.{key} is not used: the pipeline runs docker build with context, dockerfile, "
                           "args, target and secrets only.", file=file, service=name, key=f"build.{key}")
        spec = BuildSpec(context=context, dockerfile=as_text(dockerfile) if dockerfile not in (None, "") else "Dockerfile",
                         args=args, target=as_text(build["target"]) if build.get("target") not in (None, "") else None,
                         dockerfile_inline=as_text(inline) if inline not in (None, "") else None,
                         secrets=self._build_secrets(name, build.get("secrets") or [], defined_secrets or {}, file))
        if not is_remote_context(context):
            folder = Path(context)
            if not exists(folder):
                self._warn(f"the build context {folder} does not exist here; the pipeline's build fails unless this "
                           "folder exists in the repository it builds from.", file=file, service=name, key="build.context")
            elif not is_dir(folder):
                self._warn(f"the build context {folder} is a file, not a folder; docker build needs a folder.",
                           file=file, service=name, key="build.context")
            elif spec.dockerfile_inline is None and not is_file(folder / spec.dockerfile):
                self._warn(f"there is no {spec.dockerfile} in the build context {folder}; the pipeline's build "
                           "will fail.", file=file, service=name, key="build.dockerfile")
        return spec

    def _ports(self, name: str, entries: list, file: str) -> list[PortMapping]:
        mappings: list[PortMapping] = []
        moved: list[str] = []
        for index, entry in enumerate(entries):
            try:
                parsed = parse_port(entry)
            except ValueError as error:
                raise self._error(f"port {short(entry)}: {error}.", file, name, f"ports[{index}]",
                                  "write CONTAINER, HOST:CONTAINER, IP:HOST:CONTAINER[/udp] or the long form.") from None
            if parsed.is_range:
                first, last = parsed.mappings[0].container_port, parsed.mappings[-1].container_port
                self._warn(f"ports entry {short(parsed.text)} is a range: the {len(parsed.mappings)} container ports "
                           f"{first}-{last} each become a port mapping; API Gateway can route only to the first.",
                           file=file, service=name, key=f"ports[{index}]")
            for mapping in parsed.mappings:
                if mapping.host_port is not None and mapping.host_port != mapping.container_port:
                    moved.append(f"{mapping.host_port}->{mapping.container_port}")
                if all((m.container_port, m.protocol) != (mapping.container_port, mapping.protocol) for m in mappings):
                    mappings.append(mapping)
        if moved:
            shown = ", ".join(moved[:5]) + (" ..." if len(moved) > 5 else "")
            self._warn(f"published ports are ignored on Fargate ({shown}): API Gateway and the other containers "
                       "reach this container on its container port.", file=file, service=name, key="ports")
        return mappings

    def _command(self, name: str, service: dict, key: str, file: str) -> list[str] | None:
        if service.get(key) is None:
            return None
        try:
            return parse_command(service[key])
        except ValueError as error:
            raise self._error(f"{key}: {error}.", file, name, key) from None

    def _environment(self, name: str, service: dict, file: str) -> dict[str, str]:
        environment: dict[str, str] = {}
        for index, entry in enumerate(service.get("env_file") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise self._error(f"env_file entry {short(entry)} is not a path.", file, name, f"env_file[{index}]")
            path = Path(entry["path"])
            try:
                required = as_bool(entry.get("required", True))
            except ValueError as error:
                raise self._error(f"env_file required: {error}.", file, name, f"env_file[{index}].required") from None
            if not is_file(path):
                if required:
                    raise self._error(f"the env_file {path} does not exist.", file, name, f"env_file[{index}]",
                                      "create it, or use the long form with required: false.")
                continue
            if str(entry.get("format") or "") == "raw":
                values: dict[str, str | None] = {}
                for line in read_text(path, what="env_file").splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        key, _, value = line.partition("=")
                        values[key.strip()] = value
            else:
                values = read_env_file(path, self.variables, what="env_file")
            for key, value in values.items():
                value = self.variables.get(key) if value is None else value
                if value is not None:
                    environment[key] = value
        for key, value in (service.get("environment") or {}).items():
            if not key:
                raise self._error("an environment entry has no variable name.", file, name, "environment",
                                  "write NAME=value.")
            if value is None:
                value = self.variables.get(key)
                if value is None:
                    if key not in environment:
                        self._warn(f"environment variable {key} has no value here and is not set in the environment "
                                   "or .env, so the container does not get it.", file=file, service=name,
                                   key=f"environment.{key}")
                    continue
            try:
                environment[key] = as_text(value)
            except ValueError as error:
                raise self._error(f"environment variable {key}: {error}.", file, name, f"environment.{key}") from None
        return environment

    def _image_healthcheck(self, build: BuildSpec | None) -> HealthCheck | None:
        """The HEALTHCHECK of the Dockerfile a service is built from: Compose runs it, ECS ignores
        it in the image, so it is copied into the task definition."""
        if build is None or is_remote_context(build.context):
            return None
        dockerfile = Path(build.context) / build.dockerfile
        if build.dockerfile_inline is None and not is_file(dockerfile):
            return None
        return read_dockerfile(dockerfile, build.args, target=build.target, text=build.dockerfile_inline,
                               with_ports=False).healthcheck

    def _healthcheck(self, name: str, spec: Any, file: str, build: BuildSpec | None = None):
        from_image = self._image_healthcheck(build) if spec is None or (isinstance(spec, dict) and "test" not in spec) \
            else None
        if from_image is not None:
            spec = {"test": list(from_image.test), "interval": f"{from_image.interval}s",
                    "timeout": f"{from_image.timeout}s", "retries": from_image.retries,
                    "start_period": f"{from_image.start_period}s", **(spec or {})}
        try:
            check, notes = parse_healthcheck(spec)
        except ValueError as error:
            key = f"healthcheck.{error.field}" if isinstance(error, FieldError) else "healthcheck"
            raise self._error(f"healthcheck: {error}.", file, name, key,
                              'write test: ["CMD", "curl", "-f", "http://localhost:8080/"] or test: "curl -f ..." '
                              "with durations like 30s, 1m30s or 500ms.") from None
        for note in notes:
            if note == "none-string":
                self._warn("healthcheck test: NONE written as a plain string is, by the Compose specification, the "
                           "shell command NONE (CMD-SHELL NONE), which would always fail; it is taken as meant: no "
                           "health check. Write test: [\"NONE\"] (or disable: true) to say so.", file=file,
                           service=name, key="healthcheck.test")
            elif note == "test":
                self._warn("the healthcheck has no test: Compose would use the image's HEALTHCHECK, but ECS never "
                           "runs it and no local Dockerfile declares one, so this container gets no health check.",
                           file=file, service=name, key="healthcheck.test")
            else:
                self._warn(f"healthcheck.{note} is not applied: ECS has no such setting.", file=file, service=name,
                           key=f"healthcheck.{note}")
        return check

    def _depends_on(self, name: str, entries: dict, enabled: dict, disabled: dict, file: str) -> list[Dependency]:
        dependencies = []
        for dependency, spec in entries.items():
            spec = spec if isinstance(spec, dict) else {}
            condition = str(spec.get("condition") or "service_started")
            if condition not in DEPENDENCY_CONDITIONS:
                raise self._error(f"depends_on condition {condition!r} is not known.", file, name,
                                  f"depends_on.{dependency}.condition", f"use one of: {', '.join(DEPENDENCY_CONDITIONS)}.")
            try:
                required = as_bool(spec.get("required", True))
            except ValueError as error:
                raise self._error(f"depends_on required: {error}.", file, name, f"depends_on.{dependency}.required") from None
            if dependency not in enabled:
                if dependency in disabled:
                    why = f"is only in the profiles {', '.join(disabled[dependency])}, none of them active"
                    fix = "activate a profile with COMPOSE_PROFILES in .env, or remove the dependency."
                else:
                    why = "is not a service of this app"
                    fix = f"use one of: {', '.join(enabled)}."
                if required:
                    raise self._error(f"depends on {dependency!r}, which {why}.", file, name, f"depends_on.{dependency}", fix)
                self._warn(f"the optional dependency {dependency!r} {why}, so it is skipped.", file=file, service=name,
                           key=f"depends_on.{dependency}")
                continue
            if spec.get("restart") not in (None, False, "false"):
                self._warn(f"depends_on.{dependency}.restart is not applied: ECS does not restart single containers.",
                           file=file, service=name, key=f"depends_on.{dependency}.restart")
            dependencies.append(Dependency(str(dependency), condition))
        return dependencies

    def _resources(self, name: str, service: dict, file: str) -> tuple[int | None, int | None]:
        deploy = service.get("deploy") or {}
        resources = deploy.get("resources") or {} if isinstance(deploy, dict) else {}
        limits = resources.get("limits") or {} if isinstance(resources, dict) else {}
        reservations = resources.get("reservations") or {} if isinstance(resources, dict) else {}

        def first(*candidates: tuple[str, Any]) -> tuple[str, Any] | None:
            return next(((key, value) for key, value in candidates if value not in (None, "")), None)

        cpu = memory = None
        cpu_source = first(("deploy.resources.limits.cpus", limits.get("cpus")), ("cpus", service.get("cpus")),
                           ("deploy.resources.reservations.cpus", reservations.get("cpus")))
        if cpu_source:
            try:
                cpu = cpu_units(cpu_source[1]) or None
            except ValueError as error:
                raise self._error(f"{error}.", file, name, cpu_source[0]) from None
        memory_source = first(("deploy.resources.limits.memory", limits.get("memory")),
                              ("mem_limit", service.get("mem_limit")),
                              ("deploy.resources.reservations.memory", reservations.get("memory")),
                              ("mem_reservation", service.get("mem_reservation")))
        if memory_source:
            try:
                memory = memory_mib(memory_source[1]) or None
            except ValueError as error:
                raise self._error(f"{error}.", file, name, memory_source[0], "write a size like 512m or 2g.") from None
            if memory is not None and memory < ECS_MIN_CONTAINER_MEMORY:
                self._warn(f"memory {memory_source[1]} is below ECS's minimum of {ECS_MIN_CONTAINER_MEMORY} MiB per "
                           f"container; {ECS_MIN_CONTAINER_MEMORY} MiB is used.", file=file, service=name,
                           key=memory_source[0])
                memory = ECS_MIN_CONTAINER_MEMORY
        return cpu, memory

    def _service_replicas(self, name: str, service: dict, file: str) -> int | None:
        deploy = service.get("deploy") if isinstance(service.get("deploy"), dict) else {}
        key, value = ("deploy.replicas", deploy.get("replicas")) if deploy.get("replicas") is not None \
            else ("scale", service.get("scale"))
        if value is None:
            return None
        try:
            replicas = as_int(value)
        except ValueError as error:
            raise self._error(f"{error}.", file, name, key, "write a whole number of tasks, e.g. 2.") from None
        if replicas < 0:
            raise self._error(f"{replicas} replicas is negative.", file, name, key, "use 1 or more.")
        if replicas == 0:
            raise self._error("0 replicas cannot be deployed: all services run together in one Fargate task, so one "
                              "service cannot be scaled to zero on its own.", file, name, key,
                              "remove the service (or put it in a profile) to leave it out; to stop the whole API, "
                              "run `python -m ops pause --stack <stack> --api <api>`.")
        return replicas
