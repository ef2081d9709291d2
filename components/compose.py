"""Load a source folder (a Dockerfile, or compose files) into the application model.

``load_app`` is the one public entry. It follows the Compose specification's loading order:

1. find the files (``compose.yaml``, ``compose.yml``, ``docker-compose.yml``, ``docker-compose.yaml``
   plus the matching ``*.override.*``), or fall back to a lone ``Dockerfile``;
2. read each file with PyYAML (YAML 1.2 scalars, ``!reset``/``!override``; see ``compose_yaml``);
3. validate each document against the official compose-spec JSON schema with jsonschema
   (before interpolation, like Docker Compose; see ``compose_schema``);
4. interpolate variables from the environment over the folder's ``.env`` (python-dotenv's parser;
   see ``compose_interpolate``);
5. resolve ``include`` and ``extends``, merge override files in order (``compose_merge``);
6. apply profiles, translate each service to a ``Container`` and check what Fargate cannot do
   (``compose_fargate``): impossible keys are ``ConfigError``s, keys that behave differently
   are ``LoadWarning``s in ``App.warnings``.

Any problem with the input is a ``ConfigError`` naming the file, service and key. Decisions that
differ from ``docker compose up`` on purpose:

* A build context that does not exist on this machine is a warning, not an error: the file is
  valid, but the pipeline's build will fail unless the folder exists in the repository it builds.
* ``replicas: 0`` (or ``scale: 0``) is an error: all services are one Fargate task, so a single
  service cannot be scaled to zero; ``python -m ops pause`` stops a whole API.
* ``COMPOSE_FILE`` and ``COMPOSE_PROFILES`` are read from the folder's ``.env`` or the given
  environment; ``COMPOSE_FILE`` only from ``.env``, so a shell variable set for another project
  never changes what is deployed.
* A secret file's value loses one trailing newline (``echo value > .secret-x`` adds one, and the
  value becomes an environment variable, not a file).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.compose_fargate import TOP_LEVEL_KEYS, check_deploy, check_service, describe_fargate_handling
from components.compose_interpolate import interpolate_tree, read_env_file, strip_markers_for_validation
from components.compose_merge import (REMOTE_FILE, extends_cycle_error, is_remote_context, merge_projects,
                                      merge_service, normalize_document, resolve_path, strip_markers)
from components.compose_schema import validate_document
from components.compose_values import (FieldError, as_bool, as_int, as_text, cpu_units, memory_mib,
                                       parse_command, parse_healthcheck, parse_port, short)
from components.compose_yaml import Reset, exists, is_dir, is_file, parse_documents, read_text, real_path
from components.dockerfile import DEFAULT_PORT, find_dockerfile, load_dockerfile_app, read_dockerfile
from components.errors import ConfigError, LoadWarning
from components.model import (App, BuildSpec, Container, Dependency, HealthCheck, PortMapping, Secret,
                              VolumeMount, fargate_task_size)

__all__ = ["load_app", "describe_fargate_handling", "COMPOSE_FILE_NAMES", "LoaderBugError"]

# In Compose's order of preference.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
DEPENDENCY_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
ECS_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
SECRET_PREFIX = ".secret-"
SECRETS_MANAGER_MAX_BYTES = 65536
ECS_MIN_CONTAINER_MEMORY = 6      # MiB; ECS refuses a container memory limit below this
_BUILD_KEYS_USED = {"context", "dockerfile", "dockerfile_inline", "args", "target"}


class LoaderBugError(ConfigError):
    """An unexpected failure inside the loader. Still a ConfigError, so callers print it and stop;
    tests assert it never happens."""


def load_app(source_dir: str | Path, compose_files: list[str | Path] | None = None,
             entrypoint: str | None = None, environ: Mapping[str, str] | None = None) -> App:
    """Load one API's source folder into an ``App``.

    source_dir: folder with the compose file(s) or a lone Dockerfile.
    compose_files: compose files relative to source_dir (or absolute), merged in order;
        None (or empty) finds them the way Docker Compose does.
    entrypoint: the container API Gateway routes to; needed only when several publish ports.
    environ: the variables for interpolation (default: os.environ); the folder's .env fills gaps.
    """
    try:
        return _Loader(source_dir, environ).load(compose_files, entrypoint)
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError("the compose files nest too deeply to load (a recursive structure?).",
                          file=str(source_dir)) from None
    except Exception as error:  # noqa: BLE001 - the contract: only ConfigError leaves load_app
        raise LoaderBugError(f"the loader failed unexpectedly ({type(error).__name__}: {error}). This is a bug in "
                             "serverless-containers; please report it with the compose file.",
                             file=str(source_dir)) from error


class _Loader:
    def __init__(self, source_dir: str | Path, environ: Mapping[str, str] | None):
        try:
            source = Path(source_dir).expanduser().resolve()
        except (OSError, RuntimeError, ValueError) as error:
            raise ConfigError(f"the source folder cannot be resolved: {error}.", file=str(source_dir)) from None
        if not is_dir(source):
            raise ConfigError("the source folder does not exist or is not a folder.", file=str(source),
                              fix="point source at the folder holding the Dockerfile or docker-compose.yml.")
        self.source_dir = source
        self.process_env = {str(k): str(v) for k, v in (os.environ if environ is None else environ).items()}
        self.warnings: list[LoadWarning] = []
        self._unset_reported: set[str] = set()
        self._document_cache: dict[tuple, list[dict]] = {}
        self._variable_sets: list[dict[str, str]] = []
        self.origin: dict[str, str] = {}
        dotenv_path = source / ".env"
        self.dotenv = self._read_dotenv(dotenv_path, self.process_env) if is_file(dotenv_path) else {}
        self.variables = {**self.dotenv, **self.process_env}

    # ---- files --------------------------------------------------------------------------------

    def _read_dotenv(self, path: Path, scope: Mapping[str, str]) -> dict[str, str]:
        values = read_env_file(path, scope, what=".env file")
        return {key: value for key, value in values.items() if value is not None}

    def _warn(self, message: str, *, file: str | None = None, service: str | None = None,
              key: str | None = None) -> None:
        warning = LoadWarning(message, file=file, service=service, key=key)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def _on_unset(self, file: str):
        def report(name: str, where: str) -> None:
            if name not in self._unset_reported:
                self._unset_reported.add(name)
                self._warn(f"variable {name} is not set, so an empty string is used (first at {where or 'top level'}).",
                           file=file)
        return report

    def _compose_files(self, compose_files) -> list[Path]:
        if compose_files:
            if isinstance(compose_files, (str, Path)):
                compose_files = [compose_files]
            files = []
            for entry in compose_files:
                path = Path(entry).expanduser()
                path = path if path.is_absolute() else self.source_dir / path
                if not is_file(path):
                    raise ConfigError("the compose file does not exist.", file=str(path),
                                      fix=f"list files relative to {self.source_dir}, or leave composeFiles out to "
                                          "use docker-compose.yml / compose.yaml.")
                files.append(path)
            return files
        if self.dotenv.get("COMPOSE_FILE"):
            separator = self.dotenv.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
            names = [name for name in self.dotenv["COMPOSE_FILE"].split(separator) if name]
            return self._compose_files(names)
        found = [name for name in COMPOSE_FILE_NAMES if is_file(self.source_dir / name)]
        if len(found) > 1:
            raise ConfigError(f"the folder holds several compose files ({', '.join(found)}), so which one to "
                              "deploy is ambiguous.", file=str(self.source_dir),
                              fix="delete or rename all but one, or list them under composeFiles for this API.")
        if not found:
            return []
        main = found[0]
        stem = main.rsplit(".", 1)[0]
        overrides = [name for name in (f"{stem}.override.yml", f"{stem}.override.yaml")
                     if is_file(self.source_dir / name)]
        if len(overrides) > 1:
            raise ConfigError(f"the folder holds two override files ({', '.join(overrides)}).",
                              file=str(self.source_dir), fix="keep one of them.")
        return [self.source_dir / main] + [self.source_dir / name for name in overrides]

    def _documents(self, path: Path, base_dir: Path, variables: dict[str, str]) -> list[dict]:
        """Parsed, schema-checked, interpolated and normalized documents of one file (cached)."""
        key = (str(real_path(path)), str(base_dir), id(variables))
        if key in self._document_cache:
            return self._document_cache[key]
        self._variable_sets.append(variables)      # keeps id(variables) unique while the cache lives
        file = str(path)
        documents = parse_documents(read_text(path), file)
        if not documents:
            raise ConfigError("empty compose file: it holds no YAML content.", file=file,
                              fix="add a services: section with at least one service.")
        result = []
        for document in documents:
            if not isinstance(document, dict):
                raise ConfigError(f"the top level must be a mapping (services:, secrets:, ...), not {type(document).__name__}.",
                                  file=file, fix="start the file with services:.")
            validate_document(strip_markers_for_validation(document), file)
            if "version" in document:
                self._warn("version: is obsolete and ignored; the current Compose specification applies.",
                           file=file, key="version")
            document = interpolate_tree(document, variables, file=file, on_unset=self._on_unset(file))
            result.append(normalize_document(document, base_dir))
        self._document_cache[key] = result
        return result

    def _load_file(self, path: Path, base_dir: Path, variables: dict[str, str], stack: tuple[str, ...]) -> dict:
        key = str(real_path(path))
        if key in stack:
            chain = " -> ".join(Path(item).name for item in stack[stack.index(key):] + (key,))
            raise ConfigError(f"include cycle detected: {chain}.", file=str(path), key="include",
                              fix="remove the include that leads back to a file already being loaded.")
        project: dict = {}
        for document in self._documents(path, base_dir, variables):
            project = merge_projects(project, document)
        includes = project.pop("include", None)
        if includes and not isinstance(includes, Reset):
            self._apply_includes(project, includes, path, base_dir, variables, stack + (key,))
        services = project.get("services")
        if isinstance(services, dict):
            project["services"] = {name: self._extend(name, services, path, base_dir, variables, [])
                                   for name in services if not isinstance(services[name], Reset)}
            for name in project["services"]:
                self.origin.setdefault(name, str(path))
        return project

    def _apply_includes(self, project: dict, includes: list, path: Path, base_dir: Path,
                        variables: dict[str, str], stack: tuple[str, ...]) -> None:
        file = str(path)
        for index, entry in enumerate(includes):
            entry = {"path": entry} if isinstance(entry, str) else entry
            paths = entry.get("path")
            paths = [paths] if isinstance(paths, str) else list(paths or [])
            if not paths:
                raise ConfigError("an include entry names no file.", file=file, key=f"include[{index}]",
                                  fix="write include: - path: other-compose.yaml")
            for text in paths:
                if REMOTE_FILE.match(text):
                    raise ConfigError(f"including the remote file {text!r} is not supported.", file=file,
                                      key=f"include[{index}]",
                                      fix="copy the file into the source folder and include it by relative path.")
            resolved = [resolve_path(base_dir, text) for text in paths]
            project_dir = resolve_path(base_dir, entry["project_directory"]) if entry.get("project_directory") \
                else resolved[0].parent
            env_files = entry.get("env_file")
            env_files = [env_files] if isinstance(env_files, str) else list(env_files or [])
            env_paths = [resolve_path(base_dir, text) for text in env_files] or \
                ([project_dir / ".env"] if is_file(project_dir / ".env") else [])
            included_dotenv: dict[str, str] = {}
            for env_path in env_paths:
                included_dotenv.update(self._read_dotenv(env_path, {**included_dotenv, **self.process_env}))
            included_variables = {**variables, **included_dotenv, **self.process_env}
            for included_path in resolved:
                if not is_file(included_path):
                    raise ConfigError(f"the included file {included_path} does not exist.", file=file,
                                      key=f"include[{index}]", fix="check the path; it is relative to this file's folder.")
            included: dict = {}
            for included_path in resolved:
                included = merge_projects(included, self._load_file(included_path, project_dir,
                                                                    included_variables, stack))
            services = project.setdefault("services", {})
            for name, service in (included.get("services") or {}).items():
                if name in services:
                    raise ConfigError(f"the included file {resolved[0]} also defines the service {name!r}.",
                                      file=file, service=name, key=f"include[{index}]",
                                      fix="rename one of them, or use extends: to build on the included service.")
                services[name] = service
            for section in ("networks", "volumes", "secrets", "configs", "models"):
                for name, value in (included.get(section) or {}).items():
                    if not isinstance(project.get(section), dict):
                        project[section] = {}
                    project[section].setdefault(name, value)

    def _extend(self, name: str, services: dict, path: Path, base_dir: Path, variables: dict[str, str],
                chain: list[tuple[str, str]]) -> dict:
        file = str(path)
        if name not in services:
            via = chain[-1][1] if chain else None
            raise ConfigError(f"extends names the service {name!r}, which {Path(file).name} does not define.",
                              file=file, service=via, key="extends",
                              fix=f"use one of: {', '.join(sorted(map(str, services)))}." if services else None)
        service = services[name]
        if service is None:
            service = {}
        extends = service.get("extends")
        if extends is None or isinstance(extends, Reset):
            return service
        link = (file, name)
        if link in chain:
            raise extends_cycle_error(chain[chain.index(link):] + [link], file)
        if isinstance(extends, str):
            extends = {"service": extends}
        if "remote" in extends:
            raise ConfigError(f"extends from the remote file {extends['remote']!r} is not supported.", file=file,
                              service=name, key="extends.file",
                              fix="copy the file into the source folder and refer to it by relative path.")
        target = extends.get("service")
        if extends.get("file"):
            other = Path(extends["file"])
            if not is_file(other):
                raise ConfigError(f"extends.file {other} does not exist.", file=file, service=name,
                                  key="extends.file", fix="check the path; it is relative to this file's folder.")
            other_project: dict = {}
            for document in self._documents(other, other.parent, variables):
                other_project = merge_projects(other_project, document)
            other_services = other_project.get("services") or {}
            base = self._extend(target, other_services, other, other.parent, variables, chain + [link])
        else:
            base = self._extend(target, services, path, base_dir, variables, chain + [link])
        own = {key: value for key, value in service.items() if key != "extends"}
        return merge_service(base, own)

    # ---- the app ------------------------------------------------------------------------------

    def load(self, compose_files, entrypoint: str | None) -> App:
        files = self._compose_files(compose_files)
        if not files:
            dockerfile = find_dockerfile(self.source_dir)
            if dockerfile is None:
                raise ConfigError("the folder has no compose file and no Dockerfile.", file=str(self.source_dir),
                                  fix="add a Dockerfile, or a compose.yaml / docker-compose.yml.")
            app = load_dockerfile_app(self.source_dir, dockerfile)
            if entrypoint is not None and entrypoint != app.entrypoint:
                raise ConfigError(f"entrypoint {entrypoint!r} is not a container of this app; a Dockerfile-only "
                                  f"source has the one container {app.entrypoint!r}.", file=str(dockerfile),
                                  key="entrypoint", fix=f"leave entrypoint out, or set it to {app.entrypoint!r}.")
            return app
        project_dir = files[0].parent
        project: dict = {}
        for path in files:
            project = merge_projects(project, self._load_file(path, project_dir, self.variables, ()))
        project = strip_markers(project)
        return self._build_app(project, files, entrypoint)

    def _build_app(self, project: dict, files: list[Path], entrypoint: str | None) -> App:
        main_file = str(files[0])
        services = project.get("services") or {}
        active_profiles = {p.strip() for p in self.variables.get("COMPOSE_PROFILES", "").split(",") if p.strip()}
        enabled: dict[str, dict] = {}
        disabled: dict[str, list[str]] = {}
        for name, service in services.items():
            service = service if isinstance(service, dict) else {}
            profiles = [str(p) for p in (service.get("profiles") or [])]
            if profiles and "*" not in active_profiles and not set(profiles) & active_profiles:
                disabled[name] = profiles
                self._warn(f"the service is only in the profiles {', '.join(profiles)}, and none is active "
                           f"(COMPOSE_PROFILES={','.join(sorted(active_profiles)) or 'unset'}), so it is not deployed.",
                           file=self.origin.get(name, main_file), service=name, key="profiles")
                continue
            enabled[name] = service
        if not enabled:
            raise ConfigError("there are no services to deploy.", file=main_file, key="services",
                              fix="add a service under services:, or activate its profile with COMPOSE_PROFILES in .env.")

        defined_secrets = project.get("secrets") or {}
        volumes = project.get("volumes") or {}
        containers = []
        explicit_replicas: dict[str, int] = {}
        for name, service in enabled.items():
            file = self.origin.get(name, main_file)
            container, replicas = self._container(name, service, file, enabled, disabled, defined_secrets, volumes)
            containers.append(container)
            if replicas is not None:
                explicit_replicas[name] = replicas

        used_secrets = {secret for container in containers for secret in container.secrets}
        secrets: dict[str, Secret] = {}
        for name, spec in defined_secrets.items():
            if name in used_secrets:
                secrets[name] = self._secret(name, spec, main_file)
            else:
                self._warn(f"the secret {name!r} is not used by any deployed service, so it is not stored.",
                           file=main_file, key=f"secrets.{name}")

        self._top_level_warnings(project, volumes, main_file)
        self._check_shared_ports(containers, main_file)
        self._check_cycles(containers, main_file)
        self._warn_service_hostnames(containers)
        chosen, routed_port = self._entrypoint(containers, entrypoint, main_file)
        cpu, memory = self._task_size(containers, main_file)
        replicas = self._replicas(explicit_replicas, containers, main_file)
        return App(source_dir=self.source_dir, compose_files=list(files), containers=containers,
                   entrypoint=chosen, routed_port=routed_port, replicas=replicas, secrets=secrets,
                   cpu=cpu, memory=memory, warnings=self.warnings)

    def _top_level_warnings(self, project: dict, volumes: dict, file: str) -> None:
        for name, spec in volumes.items():
            if isinstance(spec, dict) and any(spec.get(key) for key in ("driver", "driver_opts", "external", "name")):
                self._warn(f"the volume {name!r} has driver/external/name settings, which are not used: on Fargate it "
                           "is a task-scoped volume.", file=file, key=f"volumes.{name}")
        if project.get("models"):
            self._warn(f"models: {TOP_LEVEL_KEYS['models'].note}.", file=file, key="models")

    # ---- one service ----------------------------------------------------------------------------

    def _error(self, problem: str, file: str, service: str, key: str, fix: str | None = None) -> ConfigError:
        return ConfigError(problem, file=file, service=service, key=key, fix=fix)

    def _container(self, name: str, service: dict, file: str, enabled: dict, disabled: dict,
                   defined_secrets: dict, volumes: dict) -> tuple[Container, int | None]:
        if not ECS_CONTAINER_NAME.match(name):
            raise self._error("ECS container names may only hold letters, digits, '_' and '-'.", file, name,
                              "services", "rename the service, e.g. with '-' instead of '.'.")
        for warning in check_service(name, service, file=file) + check_deploy(name, service.get("deploy"), file=file):
            self._warn(warning.message, file=warning.file, service=warning.service, key=warning.key)
        image = service.get("image")
        image = as_text(image) if image not in (None, "") else None
        build = self._build(name, service.get("build"), file)
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
            depends_on=self._depends_on(name, service.get("depends_on") or {}, enabled, disabled, file),
            mounts=self._mounts(name, service.get("volumes") or [], volumes, file),
        )
        container.cpu, container.memory = self._resources(name, service, file)
        return container, self._service_replicas(name, service, file)

    def _build(self, name: str, build: Any, file: str) -> BuildSpec | None:
        if build is None:
            return None
        if not isinstance(build, dict):
            raise self._error(f"build {short(build)} is not a folder or a mapping.", file, name, "build")
        context = as_text(build.get("context") or ".")
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
            if key not in _BUILD_KEYS_USED and not key.startswith("x-") and value not in (None, False, [], {}, ""):
                self._warn(f"build.{key} is not used: the pipeline runs docker build with context, dockerfile, "
                           "args and target only.", file=file, service=name, key=f"build.{key}")
        spec = BuildSpec(context=context, dockerfile=as_text(dockerfile) if dockerfile not in (None, "") else "Dockerfile",
                         args=args, target=as_text(build["target"]) if build.get("target") not in (None, "") else None,
                         dockerfile_inline=as_text(inline) if inline not in (None, "") else None)
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
            if note == "test":
                self._warn("the healthcheck has no test: Compose would use the image's HEALTHCHECK, but ECS never "
                           "runs it and no local Dockerfile declares one, so this container gets no health check.",
                           file=file, service=name, key="healthcheck.test")
            else:
                self._warn(f"healthcheck.{note} is not applied: ECS has no such setting.", file=file, service=name,
                           key=f"healthcheck.{note}")
        return check

    def _service_secrets(self, name: str, entries: list, defined: dict, file: str) -> list[str]:
        names: list[str] = []
        for index, entry in enumerate(entries):
            source = entry.get("source") if isinstance(entry, dict) else entry
            source = str(source) if source is not None else ""
            if source not in defined:
                raise self._error(f"the service uses the secret {source!r}, which the top-level secrets: does not "
                                  "define.", file, name, f"secrets[{index}]",
                                  f"add it at the top level: secrets: {{{source or 'NAME'}: {{file: ../.secret-"
                                  f"{(source or 'name').lower()}}}}}.")
            if isinstance(entry, dict) and any(entry.get(key) not in (None, "") for key in ("target", "uid", "gid", "mode")):
                self._warn(f"secret {source}: target/uid/gid/mode are not applied; on Fargate the secret is the "
                           f"environment variable {source}, not a file.", file=file, service=name, key=f"secrets[{index}]")
            if source not in names:
                names.append(source)
        if names:
            self._warn(f"the secrets {', '.join(names)} reach the container as environment variables of the same name, "
                       "not as files under /run/secrets/.", file=file, service=name, key="secrets")
        return names

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

    def _mounts(self, name: str, entries: list, volumes: dict, file: str) -> list[VolumeMount]:
        mounts: list[VolumeMount] = []
        for index, volume in enumerate(entries):
            key = f"volumes[{index}]"
            if not isinstance(volume, dict):
                raise self._error(f"volume {short(volume)} is not SOURCE:TARGET[:MODE] or the long form.", file, name, key)
            kind = volume.get("type")
            target = volume.get("target")
            source = volume.get("source")
            if kind == "invalid" or (kind != "volume" and not target) or (kind == "volume" and not target):
                raise self._error(f"volume {short(volume.get('text', volume))} is not SOURCE:TARGET[:MODE].", file, name, key,
                                  "write named-volume:/path/in/container or ./folder:/path/in/container.")
            target = as_text(target)
            if kind == "volume" and source:
                if source not in volumes:
                    raise self._error(f"the named volume {source!r} is not declared under the top-level volumes:.",
                                      file, name, key, f"add volumes: {{{source}: {{}}}} at the top level.")
                try:
                    read_only = as_bool(volume.get("read_only") or False)
                except ValueError as error:
                    raise self._error(f"read_only: {error}.", file, name, key) from None
                mounts.append(VolumeMount(str(source), target, read_only))
                self._warn(f"the named volume {source!r} becomes a task-scoped volume at {target}: the containers of "
                           "this task share it, and its data is lost whenever the task stops (every deploy, scale-in "
                           "or crash). Keep lasting data in a database or S3.", file=file, service=name, key=key)
            elif kind == "volume":
                self._warn(f"the anonymous volume at {target} is the container's own ephemeral storage on Fargate; "
                           "its data is lost when the task stops.", file=file, service=name, key=key)
            elif kind == "bind":
                self._warn(f"the bind mount of {source} is not deployed: on Fargate the container sees the image's own "
                           f"files at {target}. COPY what it needs into the image.", file=file, service=name, key=key)
            else:
                self._warn(f"the {kind} mount at {target} is not deployed on Fargate; the path is ordinary ephemeral "
                           "storage in the container.", file=file, service=name, key=key)
        return mounts

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

    def _secret(self, name: str, spec: Any, file: str) -> Secret:
        key = f"secrets.{name}"
        if not isinstance(spec, dict):
            raise ConfigError("the secret needs file: ../.secret-<name>.", file=file, key=key)
        external = spec.get("external")
        if external not in (None, False, "false", ""):
            raise ConfigError("external secrets are not supported: this project creates each Secrets Manager "
                              "secret from a file, so it is versioned with the stack.", file=file, key=f"{key}.external",
                              fix=f"replace external: with file: ../.secret-{name.lower()} holding the value (outside the "
                                  "source folder); `pulumi up` stores it in Secrets Manager.")
        if spec.get("environment") not in (None, ""):
            raise ConfigError("secrets from an environment variable are not supported: the value would have to be "
                              "in the shell of everyone who runs `pulumi up`.", file=file, key=f"{key}.environment",
                              fix=f"write the value to ../.secret-{name.lower()} (outside the source folder) and use "
                                  "file: instead.")
        if spec.get("driver") not in (None, ""):
            raise ConfigError("secret drivers are a Swarm feature and are not supported.", file=file,
                              key=f"{key}.driver", fix=f"use file: ../.secret-{name.lower()}.")
        if not spec.get("file"):
            raise ConfigError("the secret has no file:.", file=file, key=key,
                              fix=f"add file: ../.secret-{name.lower()} (outside the source folder).")
        path = Path(os.path.abspath(str(spec["file"])))
        if not path.name.startswith(SECRET_PREFIX):
            raise ConfigError(f"the secret file {path.name!r} must be named {SECRET_PREFIX}<something>.", file=file,
                              key=f"{key}.file", fix=f"rename it, e.g. to {SECRET_PREFIX}{name.lower()}; the prefix "
                                                     "marks secret files so they stay out of Git and images.")
        real = real_path(path)
        if real == self.source_dir or self.source_dir in real.parents:
            raise ConfigError(f"the secret file {path} lies inside the source folder, so it would be copied into the "
                              "image's build context.", file=file, key=f"{key}.file",
                              fix=f"move it out of {self.source_dir}, e.g. to ../{SECRET_PREFIX}{name.lower()}.")
        if not is_file(path):
            raise ConfigError(f"the secret file {path} does not exist.", file=file, key=f"{key}.file",
                              fix="create it with the secret's value (and keep it out of Git).")
        try:
            data = path.read_bytes()
        except (OSError, ValueError) as error:
            raise ConfigError(f"the secret file {path} cannot be read: {getattr(error, 'strerror', None) or error}.", file=file,
                              key=f"{key}.file") from None
        if len(data) > SECRETS_MANAGER_MAX_BYTES:
            raise ConfigError(f"the secret file {path} is larger than Secrets Manager's {SECRETS_MANAGER_MAX_BYTES} "
                              "bytes.", file=file, key=f"{key}.file")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"the secret file {path} is not UTF-8 text; the value becomes an environment variable.",
                              file=file, key=f"{key}.file", fix="store text, e.g. base64-encode binary data.") from None
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
        if not value:
            raise ConfigError(f"the secret file {path} is empty.", file=file, key=f"{key}.file",
                              fix="write the secret's value into it.")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self._warn(f"the secret {name!r} becomes an environment variable of that name, which shells cannot "
                       "read directly ($NAME); letters, digits and '_' work everywhere.", file=file, key=key)
        return Secret(name=name, file=path, value=value)

    # ---- the whole task -----------------------------------------------------------------------

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
        names = [c.name for c in containers]
        for container in containers:
            for key, value in container.environment.items():
                for other in names:
                    if other == container.name:
                        continue
                    if value == other or re.search(rf"(?:^|[/@]){re.escape(other)}(?::\d+)?(?:/|$)", value):
                        self._warn(f"{key}={value} names the service {other!r}, but on Fargate there is no host "
                                   f"called {other!r}: all containers share localhost, so use localhost (with "
                                   f"{other!r}'s port) instead.", file=self.origin.get(container.name),
                                   service=container.name, key=f"environment.{key}")
                        break

    def _entrypoint(self, containers: list[Container], requested: str | None, file: str) -> tuple[str, int]:
        names = [c.name for c in containers]
        routable = [c for c in containers if any(p.protocol == "tcp" for p in c.ports)]
        if requested is not None:
            if requested not in names:
                raise ConfigError(f"the entrypoint {requested!r} is not a container of this app.", file=file,
                                  key="entrypoint", fix=f"use one of: {', '.join(names)}.")
            chosen = next(c for c in containers if c.name == requested)
            if not any(p.protocol == "tcp" for p in chosen.ports) and routable:
                raise ConfigError(f"the entrypoint {requested!r} publishes no TCP port, and API Gateway routes to the "
                                  "entrypoint's first ports: entry.", file=file, service=requested, key="entrypoint",
                                  fix=f"add ports: to {requested!r}, or choose one of: "
                                      f"{', '.join(c.name for c in routable)}.")
        elif len(routable) == 1:
            chosen = routable[0]
        elif len(routable) > 1:
            raise ConfigError(f"several containers publish ports ({', '.join(c.name for c in routable)}), so the one "
                              "API Gateway routes to must be named.", file=file, key="entrypoint",
                              fix=f"set entrypoint to one of: {', '.join(c.name for c in routable)} (the API's "
                                  "entrypoint in the stack config).")
        elif len(containers) == 1:
            chosen = containers[0]
        else:
            raise ConfigError(f"no container publishes a TCP port, so API Gateway has nothing to route to.", file=file,
                              key="ports", fix=f"add ports: to the service that serves requests, or set entrypoint to "
                                               f"one of: {', '.join(names)} (it is then routed on port {DEFAULT_PORT}).")
        tcp = [p for p in chosen.ports if p.protocol == "tcp"]
        if not tcp:
            chosen.ports.append(PortMapping(DEFAULT_PORT))
            self._warn(f"the entrypoint publishes no port, so API Gateway routes to port {DEFAULT_PORT}; add ports: "
                       "if the app listens elsewhere.", file=self.origin.get(chosen.name, file),
                       service=chosen.name, key="ports")
            self._check_shared_ports(containers, file)
            return chosen.name, DEFAULT_PORT
        return chosen.name, tcp[0].container_port

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
