"""Load a source folder (a Dockerfile, or compose files) into the application model.

``load_app`` is the one public entry. It follows the Compose specification's loading order:

1. find the files (``compose.yaml``, ``compose.yml``, ``docker-compose.yml``, ``docker-compose.yaml``
   plus the matching ``*.override.*``), or fall back to a lone ``Dockerfile``;
2. read each file with PyYAML (YAML 1.2 scalars, ``!reset``/``!override``; see ``documents``);
3. validate each document against the official compose-spec JSON schema with jsonschema
   (before interpolation, like Docker Compose; see ``schema``);
4. interpolate variables from the environment over the folder's ``.env`` (python-dotenv's parser;
   see ``interpolate``);
5. resolve ``include`` and ``extends``, merge override files in order (``merge``);
6. apply profiles, translate each service to a ``Container`` and check what Fargate cannot do
   (``fargate``): impossible keys are ``ConfigError``s, keys that behave differently
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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from components.compose.checks import TaskChecks
from components.compose.routing import Routing
from components.compose.dockerfile import container_name_for, find_dockerfile, load_dockerfile_app
from components.compose.documents import Reset, is_dir, is_file, parse_documents, read_text, real_path
from components.compose.fargate import TOP_LEVEL_KEYS, describe_fargate_handling
from components.compose.interpolate import interpolate_tree, read_env_file, strip_markers_for_validation
from components.compose.merge import (
    drop_repeated_entries,
    REMOTE_FILE,
    extends_cycle_error,
    merge_projects,
    merge_service,
    normalize_document,
    resolve_path,
    strip_markers,
)
from components.compose.model import App, Secret
from components.compose.schema import validate_document
from components.compose.services import ServiceTranslation
from components.errors import ConfigError, LoadWarning

__all__ = ["load_app", "describe_fargate_handling", "COMPOSE_FILE_NAMES", "LoaderBugError"]

# In Compose's order of preference.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


class LoaderBugError(ConfigError):
    """An unexpected failure inside the loader. Still a ConfigError, so callers print it and stop;
    tests assert it never happens."""


def load_app(source_dir: str | Path, compose_files: list[str | Path] | None = None,
             entrypoint: str | None = None, environ: Mapping[str, str] | None = None,
             stack_secrets: Mapping[str, str] | None = None,
             secret_hint: Callable[[str], str] | None = None, *,
             ephemeral_volumes: Iterable[str] = (), port: int | None = None) -> App:
    """Load one API's source folder into an ``App``.

    source_dir: folder with the compose file(s) or a lone Dockerfile.
    compose_files: compose files relative to source_dir (or absolute), merged in order;
        None (or empty) finds them the way Docker Compose does.
    entrypoint: the container API Gateway routes to; needed only when several publish ports.
    environ: the variables for interpolation (default: os.environ); the folder's .env fills gaps.
    stack_secrets: compose secret name -> the stack config key that provides its value (secretValues/secretArns,
        components/settings/secrets.py); their `.secret-*` files are neither needed nor read.
    secret_hint: secret name -> the text that tells how to provide it from the stack, added to file errors.
    ephemeral_volumes: named volumes the stack keeps task-scoped (``apis.NAME.volumes: {VOLUME: ephemeral}``);
        every other named volume persists on EFS.
    port: the routed port (``apis.NAME.port``); None: the entrypoint's first TCP port, its Traefik
        ``loadbalancer.server.port`` label, its first ``expose`` entry, else 80 with a warning.
    """
    loader = None
    try:
        loader = _Loader(source_dir, environ)
        loader.stack_secrets = dict(stack_secrets or {})
        loader.secret_hint = secret_hint
        loader.ephemeral_volumes = frozenset(ephemeral_volumes)
        loader.routed_port_setting = port
        return loader.load(compose_files, entrypoint)
    except ConfigError as error:
        if loader is None or not loader.warnings:
            raise
        # What was noticed before the error often explains it (an unset variable that left a port ":/udp").
        raise with_warnings(error, loader.warnings) from None
    except RecursionError:
        raise ConfigError("the compose files nest too deeply to load (a recursive structure?).",
                          file=str(source_dir)) from None
    except Exception as error:  # noqa: BLE001 - the contract: only ConfigError leaves load_app
        raise LoaderBugError(f"the loader failed unexpectedly ({type(error).__name__}: {error}). This is a bug in "
                             "serverless-containers; please report it with the compose file.",
                             file=str(source_dir)) from error


def with_warnings(error: ConfigError, warnings: list[LoadWarning], limit: int = 5) -> ConfigError:
    """The same error, its problem followed by the warnings gathered before it (at most ``limit``)."""
    shown = "; ".join(str(w) for w in warnings[:limit]) + (f"; and {len(warnings) - limit} more" if len(warnings) > limit
                                                           else "")
    copy = type(error).__new__(type(error))
    ConfigError.__init__(copy, f"{error.problem} (Warnings before this error: {shown}.)", file=error.file,
                         service=error.service, key=error.key, fix=error.fix)
    return copy


class _Loader(ServiceTranslation, TaskChecks, Routing):
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
        self.stack_secrets: dict[str, str] = {}
        self.secret_hint: Callable[[str], str] | None = None

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
        for index, document in enumerate(documents):
            if not isinstance(document, dict):
                where = "line 1" if len(documents) == 1 else f"document {index + 1}, position 0"
                raise ConfigError(f"the top level must be a mapping (services:, secrets:, ...), not "
                                  f"{type(document).__name__} ({where}).",
                                  file=file, fix="start the file with services:.")
            document, repeated = drop_repeated_entries(document)
            for service, key, note in repeated:
                self._warn(note, file=file, service=service, key=key)
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
            app = load_dockerfile_app(self.source_dir, dockerfile, self.routed_port_setting)
            if entrypoint is not None and entrypoint != app.entrypoint:
                raise ConfigError(f"entrypoint {entrypoint!r} is not a container of this app; a Dockerfile-only "
                                  f"source has the one container {app.entrypoint!r}.", file=str(dockerfile),
                                  key="entrypoint", fix=f"leave entrypoint out, or set it to {app.entrypoint!r}.")
            return app
        project_dir = files[0].parent
        self._set_project_name(files[0])
        project: dict = {}
        for path in files:
            project = merge_projects(project, self._load_file(path, project_dir, self.variables, ()))
        project = strip_markers(project)
        return self._build_app(project, files, entrypoint)

    def _set_project_name(self, first_file: Path) -> None:
        """${COMPOSE_PROJECT_NAME} as Compose sets it: the environment's, else the first file's ``name:``, else
        the folder's name (lowercase letters, digits, '_' and '-')."""
        if self.variables.get("COMPOSE_PROJECT_NAME"):
            return
        documents = parse_documents(read_text(first_file), str(first_file))
        name = documents[0].get("name") if documents and isinstance(documents[0], dict) else None
        if isinstance(name, str) and "$" not in name and container_name_for(Path(name)) == name:
            self.variables["COMPOSE_PROJECT_NAME"] = name
        else:
            self.variables["COMPOSE_PROJECT_NAME"] = container_name_for(first_file.parent)

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
        used_secrets |= {secret for container in containers if container.build for secret in container.build.secrets}
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
                where = "a task-scoped volume" if name in self.ephemeral_volumes else \
                    "a directory (access point) on the stack's EFS file system"
                self._warn(f"the volume {name!r} has driver/external/name settings, which are not used: on Fargate it "
                           f"is {where}.", file=file, key=f"volumes.{name}")
        if project.get("models"):
            self._warn(f"models: {TOP_LEVEL_KEYS['models'].note}.", file=file, key="models")
