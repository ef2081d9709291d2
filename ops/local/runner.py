"""Run one API on this machine the way a Fargate task runs it (`python -m ops local build|up|down`).

Parity with the cloud comes from reusing the program's own pieces, not from re-reading compose:
the containers come from ``components.prepare.prepare_api`` (the deploy's own loading and checks), and
their environment, secrets, health checks and ``dependsOn`` from
``components.task_plan.container_definitions``, the very JSON ECS receives. Locally:

* every container joins one network namespace, owned by a small "task" container that does nothing
  but hold it (as Fargate's awsvpc task does), so containers reach each other on localhost;
* only the entrypoint's routed port is published, and only on 127.0.0.1;
* secrets are read from the ``.secret-`` files and handed over as environment variables, never on a command
  line; other environment values go through an env file only the user can read (0600 in a 0700 folder,
  deleted once `docker run` has read it), never ``-e KEY=VALUE``, which every local user sees in ``ps``;
* the storage variables (``STORAGE_<TABLE>_NAME``/``_ARN``, ``REGION``) point where the user says;
* containers start in ``dependsOn`` order, waiting for health (Docker runs the same check ECS
  would), start, or successful exit, as the condition says.

Planning (``plan_task``) is pure and returns the docker command lines; ``LocalRunner`` runs them.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from components.compose.merge import is_remote_context
from components.compose.model import App
from components.errors import ConfigError, LoadWarning
from components.prepare import prepare_api
from components.settings.storage import env_name, table_physical_name
from ops.errors import OpsError
from ops.local import readiness
from ops.local.flags import health_flags, runtime_flags  # noqa: F401 - health_flags stays importable here

LABEL_TASK = "org.serverless-containers.local.task"
LABEL_CONTAINER = "org.serverless-containers.local.container"
LABEL_ROLE = "org.serverless-containers.local.role"
LABEL_STACK = "org.serverless-containers.local.stack"     # on the namespace container, to name who holds a port
LABEL_API = "org.serverless-containers.local.api"
LABEL_PERSISTENT = "org.serverless-containers.local.persistent"   # volumes `down` keeps (EFS on Fargate)
DEFAULT_BASE_IMAGE_ARG = "BASE_IMAGE"
DEFAULT_ACCOUNT_ID = "000000000000"     # the account id local AWS emulators use
IMAGE_TAG = "local"
# Holds the task's network namespace. Any image with a POSIX shell and `sleep` will do; the loop
# (rather than one long sleep) lets the shell answer `docker stop` at once.
PAUSE_COMMAND = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]


# ---------------------------------------------------------------- options and plan (pure)

@dataclass
class LocalOptions:
    """What the user asked for on the command line. Defaults are the documented CLI defaults."""

    stack: str
    api: str
    base_image: str | None = None              # sets the build arg BASE_IMAGE for every built container
    build_args: dict[str, str] = field(default_factory=dict)   # win over compose's args and base_image
    host_port: int | None = None               # loopback port for the entrypoint; default: the routed port
    region: str | None = None                  # REGION; default: the stack's aws:region
    tables: dict[str, str] = field(default_factory=dict)      # table -> physical name to use locally
    account_id: str = DEFAULT_ACCOUNT_ID       # for the STORAGE_<T>_ARN values
    no_storage: bool = False                   # set no storage variables (apps fall back to local mode)
    dynamodb_endpoint: str | None = None       # sets AWS_ENDPOINT_URL_DYNAMODB (e.g. DynamoDB Local)
    environment: dict[str, str] = field(default_factory=dict)  # extra variables for every container
    pass_environment: list[str] = field(default_factory=list)  # host variables passed through by name
    pause_image: str | None = None             # image of the namespace-holding container
    wait_timeout: float = 180.0                # seconds to wait for one dependency condition


@dataclass
class BuildStep:
    container: str
    image: str
    argv: list[str]                            # `--build-arg KEY` by name only: `ps` shows argv to every user
    dockerfile_text: str | None = None        # compose dockerfile_inline, fed to `docker build -f -`
    build_args: dict[str, str] = field(repr=False, default_factory=dict)   # values: docker build's environment


@dataclass
class RunStep:
    container: str
    name: str                                  # docker container name
    image: str
    argv: list[str]                            # `docker run ...`; secrets appear as `-e NAME` only
    secret_names: list[str]                    # taken from the runner's environment, never argv
    waits_for: list[tuple[str, str]]           # (container, ECS condition) to satisfy before starting
    has_healthcheck: bool
    essential: bool = True                     # as in the task definition: its exit stops the task
    environment: dict[str, str] = field(repr=False, default_factory=dict)   # via a 0600 --env-file
    passed_values: dict[str, str] = field(repr=False, default_factory=dict)  # multi-line: `-e NAME` + process env


@dataclass
class LocalTask:
    """Everything `up` will do, as docker command lines, in order."""

    family: str                                # task family, also the pause container's name
    label: str                                 # value of LABEL_TASK on everything started
    entrypoint: str
    routed_port: int
    host_port: int
    builds: list[BuildStep]
    pause: RunStep
    runs: list[RunStep]                        # in start order
    volumes: list[str] = field(default_factory=list)   # docker volumes `up` creates
    persistent_volumes: list[str] = field(default_factory=list)
    """Those of ``volumes`` that are on EFS on Fargate: `down` keeps them (their data outlives the task there too)."""
    secret_values: dict[str, str] = field(repr=False, default_factory=dict)
    warnings: list[LoadWarning] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"


@contextlib.contextmanager
def env_file(values: dict[str, str]):
    """A Docker env file of ``values`` readable by this user only (0600 in a new 0700 folder), gone after the block."""
    if not values:
        yield None
        return
    folder = tempfile.mkdtemp(prefix="serverless-containers-env-")     # created 0700
    path = os.path.join(folder, "container.env")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def with_env_file(argv: list[str], path: str | None) -> list[str]:
    """``docker run -d ...`` with ``--env-file path`` among its options (before the image)."""
    if path is None:
        return list(argv)
    at = argv.index("run") + 1
    return [*argv[:at], "--env-file", path, *argv[at:]]


def task_family(stack: str, api: str) -> str:
    return f"serverless-containers-{stack}-{api}"


def task_volume(family: str, volume: str) -> str:
    """A compose named volume: on EFS it outlives the task (locally `down` keeps it); an ephemeral one lives as
    long as the task (locally, as long as `up`)."""
    return f"{family}.{volume}"


def local_image(stack: str, api: str, container: str) -> str:
    """Named like the container's ECR repository (docs/design.md), tagged `local`."""
    repository = f"serverless-containers-{stack}-{api}-{container}".lower()
    return f"{repository}:{IMAGE_TAG}"


def start_order(app: App) -> list[str]:
    """Containers in an order that satisfies every ``depends_on``; compose order breaks ties."""
    names = [c.name for c in app.containers]
    pending = {c.name: {d.service for d in c.depends_on} for c in app.containers}
    where = str(app.compose_files[0]) if app.compose_files else str(app.source_dir)
    for name, deps in pending.items():
        unknown = sorted(deps - set(names))
        if unknown:
            raise ConfigError(f"depends_on names {', '.join(unknown)}, which is not a service of this app.",
                              file=where, service=name, key="depends_on", fix=f"use one of: {', '.join(names)}.")
    order: list[str] = []
    while pending:
        ready = [n for n in names if n in pending and not (pending[n] - set(order))]
        if not ready:
            cycle = sorted(pending)
            raise ConfigError(f"depends_on forms a cycle among {', '.join(cycle)}, so nothing could start first.",
                              file=where, service=cycle[0], key="depends_on",
                              fix="remove one of the dependencies in the cycle.")
        order.append(ready[0])
        del pending[ready[0]]
    return order


def storage_environment(options: LocalOptions, granted_tables: Sequence[str], region: str) -> dict[str, str]:
    """The variables Fargate would set for the tables this API may use, pointed where the user says."""
    if options.no_storage or not granted_tables:
        environment: dict[str, str] = {}
    else:
        environment = {"REGION": region}
        for table in granted_tables:
            name = options.tables.get(table) or table_physical_name(options.stack, table)
            environment[f"STORAGE_{env_name(table)}_NAME"] = name
            environment[f"STORAGE_{env_name(table)}_ARN"] = f"arn:aws:dynamodb:{region}:{options.account_id}:table/{name}"
    if options.dynamodb_endpoint:
        environment["AWS_ENDPOINT_URL_DYNAMODB"] = options.dynamodb_endpoint
    return environment


def build_step(app: App, container_name: str, options: LocalOptions) -> BuildStep:
    container = app.container(container_name)
    spec = container.build
    assert spec is not None
    image = local_image(options.stack, options.api, container.name)
    args = dict(spec.args)
    if options.base_image:
        args[DEFAULT_BASE_IMAGE_ARG] = options.base_image
    args.update(options.build_args)
    remote = is_remote_context(spec.context)
    inline = spec.dockerfile_inline
    if inline is not None:
        dockerfile = "-"
    elif remote or Path(spec.dockerfile).is_absolute():
        dockerfile = spec.dockerfile
    else:
        dockerfile = str(Path(spec.context) / spec.dockerfile)
    argv = ["docker", "build", "-t", image, "-f", dockerfile,
            "--label", f"{LABEL_TASK}={task_family(options.stack, options.api)}"]
    if spec.target:
        argv += ["--target", spec.target]
    argv += [word for key in args for word in ("--build-arg", key)]   # values: LocalRunner.build's environment
    for secret in (s for s in spec.secrets if app.secrets[s].file):   # BuildKit reads the file: no value on argv
        argv += ["--secret", f"id={secret},src={app.secrets[secret].file}"]
    argv.append(spec.context)
    return BuildStep(container.name, image, argv, inline, build_args={k: str(v) for k, v in args.items()})


def plan_task(app: App, *, options: LocalOptions, region: str, granted_tables: Sequence[str] = ()) -> LocalTask:
    """Every docker command `build` and `up` run for ``app``, from the ECS container definitions."""
    from components.task_plan import container_definitions, efs_volumes

    family = task_family(options.stack, options.api)
    order = start_order(app)
    images = {c.name: (local_image(options.stack, options.api, c.name) if c.is_built else c.image)
              for c in app.containers}
    missing = [c.name for c in app.containers if not images[c.name]]
    if missing:
        raise ConfigError("the container has neither build: nor image:, so there is nothing to run.",
                          file=str(app.compose_files[0]) if app.compose_files else None, service=missing[0],
                          key="image", fix="add build: (a context folder) or image: (an image name).")
    secret_refs = {name: f"local:{secret.file}" for name, secret in app.secrets.items()}
    extra = storage_environment(options, granted_tables, region)
    task = container_definitions(app, images=images, log_groups={c.name: "local" for c in app.containers},
                                 region=region, secret_arns=secret_refs, extra_environment=extra)
    definitions = {d["name"]: d for d in task.definitions}

    builds = [build_step(app, name, options) for name in order if app.container(name).is_built]

    host_port = options.host_port or app.routed_port
    pause_image = options.pause_image or images[order[0]]
    pause_argv = ["docker", "run", "-d", "--name", family, "--hostname", family,
                  "--label", f"{LABEL_TASK}={family}", "--label", f"{LABEL_ROLE}=network",
                  "--label", f"{LABEL_STACK}={options.stack}", "--label", f"{LABEL_API}={options.api}",
                  "-p", f"127.0.0.1:{host_port}:{app.routed_port}",
                  "--entrypoint", PAUSE_COMMAND[0], pause_image, *PAUSE_COMMAND[1:]]
    pause = RunStep(container="", name=family, image=pause_image, argv=pause_argv, secret_names=[],
                    waits_for=[], has_healthcheck=False)

    runs = []
    volumes: dict[str, None] = {}
    for name in order:
        definition = definitions[name]
        docker_name = f"{family}.{name}"
        argv = ["docker", "run", "-d", "--name", docker_name, "--network", f"container:{family}",
                "--label", f"{LABEL_TASK}={family}", "--label", f"{LABEL_CONTAINER}={name}",
                "--label", f"{LABEL_ROLE}=container"]
        environment = {e["name"]: e["value"] for e in definition["environment"]}
        environment.update(options.environment)
        # An env file holds one line per variable; a value with a line break is passed by name instead.
        passed = {k: v for k, v in environment.items() if "\n" in v or "\r" in v}
        for key in passed:
            argv += ["-e", key]
        for key in options.pass_environment:
            argv += ["-e", key]
        secret_names = [s["name"] for s in definition["secrets"]]
        for secret in secret_names:
            argv += ["-e", secret]          # the value comes from the runner's environment
        if "healthCheck" in definition:
            argv += health_flags(definition["healthCheck"])
        for mount in definition.get("mountPoints", []):
            volume = task_volume(family, mount["sourceVolume"])
            volumes.setdefault(volume, None)
            argv += ["-v", f"{volume}:{mount['containerPath']}" + (":ro" if mount["readOnly"] else "")]
        argv += runtime_flags(definition)
        if "workingDirectory" in definition:
            argv += ["-w", definition["workingDirectory"]]
        if "user" in definition:
            argv += ["-u", definition["user"]]
        if "memory" in definition:
            argv += ["-m", f"{definition['memory']}m"]
        if "cpu" in definition:
            argv += ["--cpus", f"{definition['cpu'] / 1024:g}"]
        # `docker run --entrypoint` takes one word; the rest of an ECS entryPoint goes before the command.
        entrypoint = definition.get("entryPoint")
        command = list(definition.get("command") or [])
        if entrypoint is not None:
            argv += ["--entrypoint", entrypoint[0] if entrypoint else ""]
            command = [*entrypoint[1:], *command]
        argv.append(definition["image"])
        argv += command
        waits = [(d["containerName"], d["condition"]) for d in definition.get("dependsOn", [])]
        runs.append(RunStep(container=name, name=docker_name, image=definition["image"], argv=argv,
                            environment={k: v for k, v in environment.items() if k not in passed},
                            passed_values=passed,
                            secret_names=secret_names, waits_for=waits, essential=definition["essential"],
                            has_healthcheck="healthCheck" in definition))
    persistent = [task_volume(family, name) for name in efs_volumes(app)]
    return LocalTask(family=family, label=family, entrypoint=app.entrypoint, routed_port=app.routed_port,
                     host_port=host_port, builds=builds, pause=pause, runs=runs, volumes=list(volumes),
                     persistent_volumes=[v for v in volumes if v in persistent],
                     secret_values={name: secret.value for name, secret in app.secrets.items()},
                     warnings=[*app.warnings, *task.warnings])


# ---------------------------------------------------------------- loading (config + compose)

def load_api(stack: str, api: str, project_dir: Path, existing_tables: dict[str, str] | None = None):
    """The validated settings of ``api`` in ``stack``, its App, and the stack's region.

    existing_tables: when given, filled with table -> name for the stack's `existingTable`s (the tables the API
    reaches under that name, not the stack's naming)."""
    from ops.plan.mockrun import DEFAULT_REGION
    from ops.stack import stack_config

    config, _secret_keys = stack_config.load_stack_config(stack, project_dir)
    settings = stack_config.validate(config, stack=stack, project_dir=project_dir)
    if api not in settings.apis:
        raise ConfigError(f"stack '{stack}' has no API named '{api}'.", file=settings.config_file,
                          key="serverless-containers:apis",
                          fix=f"use one of: {', '.join(sorted(settings.apis))}.")
    api_settings = settings.apis[api]
    if existing_tables is not None:
        existing_tables.update({name: table.physical_name(stack) for name, table in settings.storage.items()
                                if table.existing_table})
    if api_settings.build == "github":
        raise ConfigError(f"API '{api}' is built from GitHub, so there is no local source to run.",
                          file=settings.config_file, key=f"apis.{api}.build",
                          fix="check the repository out and point a stack's source at it to run it locally.")
    region = str(config.get("aws:region") or DEFAULT_REGION)
    # The deploy's own preparation, so `ops local` refuses exactly what `pulumi up` would refuse.
    app = prepare_api(settings, api_settings, region, secrets_from_files=True).app
    return api_settings, app, region


# ---------------------------------------------------------------- running (docker)

class Docker:
    """The docker CLI. Separate so the runner's logic can be driven without an engine."""

    def __init__(self, binary: str = "docker"):
        self.binary = binary

    def run(self, argv: list[str], *, env: dict[str, str] | None = None, check: bool = True,
            capture: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        argv = [self.binary, *argv[1:]] if argv and argv[0] == "docker" else argv
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        try:
            result = subprocess.run(argv, env=env, text=True, **stdin,
                                    stdout=subprocess.PIPE if capture else None,
                                    stderr=subprocess.PIPE if capture else None)
        except FileNotFoundError:
            raise OpsError("the docker command is not installed; install Docker (on Debian: apt-get install "
                           "docker.io) or run scripts/docker-engine.sh.")
        if check and result.returncode != 0:
            detail = (result.stderr or "").strip().splitlines()[-5:] if capture else []
            raise OpsError(f"`{' '.join(argv[:3])} ...` failed (exit {result.returncode})"
                           + (": " + " | ".join(detail) if detail else "."))
        return result

    def require_engine(self) -> None:
        result = self.run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False)
        if result.returncode != 0:
            raise OpsError("no Docker engine answers; start one (scripts/docker-engine.sh starts dockerd) "
                           "and run the command again.")

    def inspect_state(self, name: str) -> dict:
        result = self.run(["docker", "inspect", "--format", "{{json .State}}", name], check=False)
        if result.returncode != 0:
            return {}
        return json.loads(result.stdout)

    def logs_tail(self, name: str, lines: int = 20) -> str:
        result = self.run(["docker", "logs", "--tail", str(lines), name], check=False)
        return ((result.stdout or "") + (result.stderr or "")).strip()

    def port_holders(self) -> str:
        """The namespace containers `up` started, with their stack, API and published ports (checks.parse_holders)."""
        result = self.run(["docker", "ps", "--filter", f"label={LABEL_ROLE}=network", "--format",
                           "{{.Names}}\t{{.Label \"" + LABEL_STACK + "\"}}\t{{.Label \"" + LABEL_API + "\"}}\t{{.Ports}}"],
                          check=False)
        return (result.stdout or "") if result.returncode == 0 else ""

    def labelled_volumes(self, label: str) -> list[str]:
        result = self.run(["docker", "volume", "ls", "-q", "--filter", f"label={LABEL_TASK}={label}"])
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    def labelled(self, label: str) -> list[str]:
        result = self.run(["docker", "ps", "-a", "--filter", f"label={LABEL_TASK}={label}",
                           "--format", "{{.Names}}\t{{.Label \"" + LABEL_ROLE + "\"}}"])
        rows = [line.split("\t") for line in result.stdout.splitlines() if line.strip()]
        # `docker ps` lists the newest first, i.e. dependents before their dependencies; the
        # namespace holder goes last whatever its age, so nobody loses its network while running.
        return [row[0] for row in sorted(rows, key=lambda row: row[1:] == ["network"])]


class LocalRunner:
    """Carries out a ``LocalTask`` with a ``Docker``; reports progress through ``say``."""

    def __init__(self, docker: Docker | None = None, say: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 probe: Callable[[int], bool] = readiness.http_answers):
        self.docker = docker or Docker()
        self.probe = probe           # does the loopback port answer HTTP? (readiness.wait_until_ready)
        self.say = say
        self.sleep = sleep
        self.clock = clock

    def build(self, task: LocalTask, *, quiet: bool = False) -> None:
        for step in task.builds:
            self.say(f"building {step.container} -> {step.image}")
            extra = {"input": step.dockerfile_text} if step.dockerfile_text is not None else {}
            result = self.docker.run(step.argv, env={**os.environ, **step.build_args}, check=False, capture=quiet, **extra)
            if result.returncode != 0:
                detail = ((result.stdout or "") + (result.stderr or "")).strip().splitlines()[-8:] if quiet else []
                raise OpsError(f"building container '{step.container}' failed (exit {result.returncode})"
                               + (":\n  " + "\n  ".join(detail) if detail else "; the build output is above."))

    def down(self, label: str, *, stop_timeout: int = 10) -> list[str]:
        """Stop (SIGTERM, then SIGKILL after ``stop_timeout`` s) and remove, newest first, as ECS
        stops dependents before what they depend on; the namespace holder goes last."""
        names = self.docker.labelled(label)
        for name in names:
            self.docker.run(["docker", "stop", "-t", str(stop_timeout), name], check=False)
            self.docker.run(["docker", "rm", "-f", "-v", name], check=False)
        for volume in self.docker.labelled_volumes(label):
            self.docker.run(["docker", "volume", "rm", "-f", volume], check=False)
        return names

    def up(self, task: LocalTask, *, wait_timeout: float = 180.0) -> None:
        self.down(task.label)
        for volume in task.volumes:
            # A persistent volume (EFS on Fargate) carries no task label, so `down` keeps its data.
            label = f"{LABEL_PERSISTENT}={task.label}" if volume in task.persistent_volumes else \
                f"{LABEL_TASK}={task.label}"
            self.docker.run(["docker", "volume", "create", "--label", label, volume])
        try:
            self.docker.run(task.pause.argv)
        except OpsError as error:
            self.down(task.label, stop_timeout=0)
            raise OpsError(f"could not start the container that holds the task's network namespace, from image "
                           f"{task.pause.image} (it needs `sh` and `sleep`; pass --pause-image with one that has "
                           f"them, or free port {task.host_port} if it is taken): {error}") from None
        try:
            for step in task.runs:
                for dependency, condition in step.waits_for:
                    self._wait_for(task, dependency, condition, wait_timeout)
                env = dict(os.environ)
                env.update({name: task.secret_values[name] for name in step.secret_names})
                env.update(step.passed_values)
                with env_file(step.environment) as path:
                    self.docker.run(with_env_file(step.argv, path), env=env)
                self.say(f"started {step.container}")
            readiness.wait_until_ready(self, task, wait_timeout)
        except OpsError:
            self.down(task.label, stop_timeout=2)    # a failed start has nothing worth a graceful stop
            raise

    def _wait_for(self, task: LocalTask, container: str, condition: str, timeout: float) -> None:
        """Block until ``container`` meets the ECS ``condition``, or raise with its last log lines."""
        name = f"{task.family}.{container}"
        deadline = self.clock() + timeout
        while True:
            state = self.docker.inspect_state(name)
            status = state.get("Status", "missing")
            health = (state.get("Health") or {}).get("Status")
            exit_code = state.get("ExitCode")
            if condition == "START" and status in ("running", "exited"):
                return
            if condition == "HEALTHY":
                if health == "healthy":
                    return
                if health == "unhealthy" or status in ("exited", "dead", "missing"):
                    raise self._failure(name, container, f"did not become healthy ({status}, health {health})")
            if condition in ("SUCCESS", "COMPLETE") and status in ("exited", "dead"):
                if condition == "COMPLETE" or exit_code == 0:
                    return
                raise self._failure(name, container, f"exited with code {exit_code}, and others wait for success")
            if self.clock() > deadline:
                raise self._failure(name, container, f"did not reach {condition} within {timeout:g} s "
                                                     f"(status {status}, health {health})")
            self.sleep(0.5)

    def _failure(self, name: str, container: str, what: str) -> OpsError:
        logs = self.docker.logs_tail(name)
        shown = "\n  ".join(logs.splitlines()[-15:]) if logs else "(no output)"
        return OpsError(f"container '{container}' {what}. Its last output:\n  {shown}\n"
                        f"Everything started for this run was removed again.")
