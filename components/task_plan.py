"""The ECS container definitions of one API's task, from the application model. Pure Python.

Kept apart from ``service.py`` so the JSON that ECS receives can be built and checked (against
botocore's ECS model, by the fidelity tests) without Pulumi. Values that ECS cannot take as
compose wrote them are either adjusted with a ``LoadWarning`` (health-check timings, which only
change how fast a failure is noticed) or refused with a ``ConfigError`` (a dependency that could
never be satisfied).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from components.compose.model import App, Container, HealthCheck
from components.docker_hub import is_docker_hub_image
from components.errors import ConfigError, LoadWarning

# ECS's integer limits for container health checks (RegisterTaskDefinition, HealthCheck shape).
HEALTH_LIMITS = {
    "interval": (5, 300),
    "timeout": (2, 60),
    "retries": (1, 10),
    "startPeriod": (0, 300),
}
COMPOSE_HEALTH_KEYS = {"interval": "interval", "timeout": "timeout", "retries": "retries",
                       "startPeriod": "start_period"}

# compose depends_on condition -> ECS dependsOn condition.
DEPENDENCY_CONDITIONS = {
    "service_started": "START",
    "service_healthy": "HEALTHY",
    "service_completed_successfully": "SUCCESS",
}
# ECS refuses these conditions on an essential container: the container is a one-shot job.
RUN_TO_COMPLETION = ("SUCCESS", "COMPLETE")

CONTAINER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")

# ECS refuses a task definition over 64 KiB: Amazon ECS service quotas, "Task definition size", not adjustable
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html, read 2026-11-29).
TASK_DEFINITION_MAX_BYTES = 64 * 1024
# Room for what surrounds containerDefinitions (family, role ARNs, cpu, memory, runtime platform, volumes, tags).
TASK_LEVEL_BYTES = 2048
# Values as long as the deploy's real ones can be, so the size is never underestimated.
_LONG_IMAGE = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/" + "r" * 90 + ":0a1b2c3"
_LONG_ARN = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:" + "s" * 100 + "-AbCdEf"
_LONG_NAME = "n" * 120


@dataclass
class TaskContainers:
    """The ``containerDefinitions`` list and what was adjusted on the way."""

    definitions: list[dict]
    warnings: list[LoadWarning] = field(default_factory=list)


def _where(app: App) -> str:
    return str(app.compose_files[0]) if app.compose_files else str(app.source_dir / "Dockerfile")


def ecs_health_check(app: App, container: Container) -> tuple[dict | None, list[LoadWarning]]:
    """The ECS ``healthCheck`` for ``container``, with times rounded up to whole seconds and
    clamped into ECS's limits (each adjustment becomes a warning)."""
    check: HealthCheck | None = container.healthcheck
    if check is None or not check.test or check.test[0].upper() == "NONE":
        return None, []
    kind = check.test[0].upper()
    if kind not in ("CMD", "CMD-SHELL") or len(check.test) < 2:
        raise ConfigError(f"healthcheck test {list(check.test)!r} is not a command ECS can run.",
                          file=_where(app), service=container.name, key="healthcheck.test",
                          fix='write it as ["CMD", "prog", "arg"] or ["CMD-SHELL", "prog arg || exit 1"].')
    requested = {"interval": check.interval, "timeout": check.timeout, "retries": check.retries,
                 "startPeriod": check.start_period}
    values: dict[str, int] = {}
    warnings = []
    for key, value in requested.items():
        low, high = HEALTH_LIMITS[key]
        whole = math.ceil(value)
        clamped = min(max(whole, low), high)
        if not low <= value <= high:        # rounding a fraction up inside the limits is not worth a warning
            unit = "" if key == "retries" else " s"
            warnings.append(LoadWarning(
                f"healthcheck {COMPOSE_HEALTH_KEYS[key]} {value:g}{unit} is outside what ECS allows "
                f"({low}-{high}{unit}); the task uses {clamped}{unit}.",
                file=_where(app), service=container.name, key=f"healthcheck.{COMPOSE_HEALTH_KEYS[key]}"))
        values[key] = clamped
    return {"command": [kind, *check.test[1:]], **values}, warnings


def ecs_volume_name(volume: str) -> str:
    """ECS volume names: letters, digits, '_' and '-', at most 255 (compose also allows '.')."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", volume)[:255]


def task_volumes(app: App) -> list[str]:
    """The task's volumes: every named volume a container mounts (ECS names)."""
    return sorted({ecs_volume_name(m.volume) for c in app.containers for m in c.mounts})


def efs_volumes(app: App) -> dict[str, str]:
    """ECS volume name -> compose volume, for the volumes on EFS; the others are task-scoped storage shared by
    the task's containers (the loader warned that their data does not survive the task)."""
    return {ecs_volume_name(m.volume): m.volume for c in app.containers for m in c.mounts if m.persistent}


RESTART_ATTEMPT_PERIOD = 60      # seconds; ECS's minimum, the closest to Compose's immediate restart


def runtime_settings(container: Container) -> dict:
    """restartPolicy, dockerLabels, readonlyRootFilesystem, linuxParameters (init, capabilities), stopTimeout and
    ulimits of one container, from its compose keys (components/compose/runtime.py)."""
    out: dict = {}
    if container.restart:
        out["restartPolicy"] = {"enabled": True, "restartAttemptPeriod": RESTART_ATTEMPT_PERIOD,
                                **({"ignoredExitCodes": [0]} if container.restart == "on-failure" else {})}
    if container.labels:
        out["dockerLabels"] = dict(container.labels)
    if container.read_only:
        out["readonlyRootFilesystem"] = True
    linux: dict = {}
    if container.init:
        linux["initProcessEnabled"] = True
    if container.cap_add or container.cap_drop:
        linux["capabilities"] = {k: v for k, v in (("add", list(container.cap_add)),
                                                  ("drop", list(container.cap_drop))) if v}
    if linux:
        out["linuxParameters"] = linux
    if container.stop_timeout is not None:
        out["stopTimeout"] = int(container.stop_timeout)
    if container.nofile is not None:
        out["ulimits"] = [{"name": "nofile", "softLimit": container.nofile[0], "hardLimit": container.nofile[1]}]
    return out


def port_mapping_name(container: str, port: int, protocol: str) -> str:
    """ECS port names: lowercase letters, digits, '_' and '-', at most 64, not starting with '-'."""
    base = re.sub(r"[^a-z0-9_-]", "-", container.lower()).lstrip("-") or "c"
    suffix = f"-{port}-{protocol}"
    return base[:64 - len(suffix)] + suffix


@dataclass(frozen=True)
class TaskPlan:
    """One API's task, checked once from the model: what ``prepare()``, the Service component and the offline
    plan share. Building it raises every ``ConfigError`` the task definition could hit; rendering it with the
    deploy's real values (images, log groups, ARNs) checks nothing again."""

    app: App
    warnings: tuple[LoadWarning, ...]
    one_shot: frozenset[str]
    """Containers others wait for to exit: never essential."""
    health_checks: dict[str, dict]
    """Container -> ECS healthCheck, timings already clamped into ECS's limits."""

    @property
    def cpu(self) -> int:
        return self.app.cpu

    @property
    def memory(self) -> int:
        return self.app.memory

    @property
    def volumes(self) -> list[str]:
        return task_volumes(self.app)

    def container_definitions(self, *, images: dict[str, str], log_groups: dict[str, str], region: str,
                              secret_arns: dict[str, str] | None = None,
                              extra_environment: dict[str, str] | None = None,
                              docker_hub_credentials: str | None = None) -> list[dict]:
        """The task's ``containerDefinitions``.

        images: container -> image URI (every container). log_groups: container -> log group name.
        secret_arns: compose secret name -> Secrets Manager ARN (``valueFrom``).
        extra_environment: variables every container gets (storage names, REGION); they win over compose's.
        docker_hub_credentials: Secrets Manager ARN; containers whose image is on Docker Hub are pulled with it
        (``repositoryCredentials``; ECS sends them to no other registry, so no other container gets them).
        """
        secret_arns = secret_arns or {}
        extra_environment = extra_environment or {}
        app = self.app
        definitions = []
        for container in app.containers:
            if container.name not in images:
                raise ConfigError("the container has no image to run.", file=_where(app), service=container.name,
                                  key="image", fix="set image:, or build: so the pipeline builds one.")
            environment = {**container.environment, **extra_environment}
            for secret in container.secrets:
                environment.pop(secret, None)       # the secret's value wins (plan_task warned)
            definition: dict = {
                "name": container.name,
                "image": images[container.name],
                "essential": (container.essential and container.name not in self.one_shot)
                             or container.name == app.entrypoint,
                "portMappings": [
                    {"containerPort": p.container_port, "hostPort": p.container_port, "protocol": p.protocol,
                     "name": port_mapping_name(container.name, p.container_port, p.protocol)}
                    for p in container.ports],
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": sorted(({"name": s, "valueFrom": secret_arns[s]} for s in container.secrets),
                                  key=lambda s: s["name"]),
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": log_groups[container.name], "awslogs-region": region,
                                "awslogs-stream-prefix": "ecs"},
                },
            }
            if docker_hub_credentials and is_docker_hub_image(images[container.name]):
                definition["repositoryCredentials"] = {"credentialsParameter": docker_hub_credentials}
            if container.name in self.health_checks:
                definition["healthCheck"] = dict(self.health_checks[container.name])
            if container.depends_on:
                definition["dependsOn"] = [
                    {"containerName": d.service, "condition": DEPENDENCY_CONDITIONS[d.condition]}
                    for d in container.depends_on]
            if container.mounts:
                definition["mountPoints"] = [
                    {"sourceVolume": ecs_volume_name(m.volume), "containerPath": m.target, "readOnly": m.read_only}
                    for m in container.mounts]
            if container.command is not None:
                definition["command"] = list(container.command)
            if container.entrypoint is not None:
                definition["entryPoint"] = list(container.entrypoint)
            if container.working_dir:
                definition["workingDirectory"] = container.working_dir
            if container.user:
                definition["user"] = container.user
            definition.update(runtime_settings(container))
            if container.cpu:
                definition["cpu"] = int(container.cpu)
            if container.memory:
                definition["memory"] = int(container.memory)
            definitions.append(definition)
        return definitions


def plan_task(app: App, *, stack_environment: dict[str, str | None] | None = None) -> TaskPlan:
    """Check the app as ECS will see it and collect what was adjusted on the way.

    stack_environment: the variables the stack gives every container (REGION, STORAGE_*), with their values
    where known now and None where only the deploy knows them; compose values they replace are warned about.
    """
    stack_environment = stack_environment or {}
    names = {c.name for c in app.containers}
    by_name = {c.name: c for c in app.containers}
    where = _where(app)
    warnings: list[LoadWarning] = []

    one_shot: set[str] = set()
    for container in app.containers:
        for dependency in container.depends_on:
            if dependency.service not in names:
                raise ConfigError(f"depends_on names {dependency.service!r}, which is not a service of this app.",
                                  file=where, service=container.name, key="depends_on",
                                  fix=f"use one of: {', '.join(sorted(names))}.")
            condition = DEPENDENCY_CONDITIONS.get(dependency.condition)
            if condition is None:
                raise ConfigError(f"depends_on condition {dependency.condition!r} is not known.",
                                  file=where, service=container.name, key=f"depends_on.{dependency.service}.condition",
                                  fix=f"use one of: {', '.join(DEPENDENCY_CONDITIONS)}.")
            if condition == "HEALTHY" and by_name[dependency.service].healthcheck is None:
                raise ConfigError(f"waits for {dependency.service!r} to be healthy, but {dependency.service!r} "
                                  "has no healthcheck, so ECS would never start this container.",
                                  file=where, service=container.name, key=f"depends_on.{dependency.service}.condition",
                                  fix=f"add a healthcheck to {dependency.service!r}, or use condition: service_started.")
            if condition in RUN_TO_COMPLETION:
                one_shot.add(dependency.service)
    if app.entrypoint in one_shot:
        raise ConfigError(f"other services wait for the entrypoint {app.entrypoint!r} to exit, but it must keep "
                          "serving requests.", file=where, service=app.entrypoint, key="depends_on",
                          fix="wait for it with condition: service_started or service_healthy.")

    health_checks: dict[str, dict] = {}
    for container in app.containers:
        if not CONTAINER_NAME_PATTERN.match(container.name):
            raise ConfigError("ECS container names may only hold letters, digits, '_' and '-'.",
                              file=where, service=container.name, key="services",
                              fix="rename the service, e.g. with '-' instead of '.'.")
        for name, value in stack_environment.items():
            if name in container.environment and container.environment[name] != value:
                warnings.append(LoadWarning(
                    f"environment variable {name} is set by the stack (storage/region) and replaces the compose value.",
                    file=where, service=container.name, key=f"environment.{name}"))
        environment = {**container.environment, **stack_environment}
        for secret in container.secrets:
            if secret not in app.secrets:
                raise ConfigError(f"the container uses secret {secret!r}, which is not defined at the top level.",
                                  file=where, service=container.name, key="secrets",
                                  fix=f"add it under the top-level secrets: with file: ../.secret-{secret.lower()}.")
            if secret in environment:
                warnings.append(LoadWarning(
                    f"environment variable {secret} is also a secret; the container gets the secret's value.",
                    file=where, service=container.name, key=f"environment.{secret}"))
        health, health_warnings = ecs_health_check(app, container)
        warnings.extend(health_warnings)
        if health:
            health_checks[container.name] = health
    plan = TaskPlan(app=app, warnings=tuple(warnings), one_shot=frozenset(one_shot), health_checks=health_checks)
    _check_size(plan, stack_environment)
    return plan


def task_definition_size(definitions: list[dict]) -> int:
    """Bytes of the task definition JSON ECS receives, counting ``TASK_LEVEL_BYTES`` for the task-level fields."""
    return len(json.dumps({"containerDefinitions": definitions}, separators=(",", ":")).encode()) + TASK_LEVEL_BYTES


def _check_size(plan: TaskPlan, stack_environment: dict[str, str | None]) -> None:
    """Refuse a task definition ECS would refuse for its size, rendered with the longest real values."""
    app = plan.app
    definitions = plan.container_definitions(
        images={c.name: _LONG_IMAGE for c in app.containers}, log_groups={c.name: _LONG_NAME for c in app.containers},
        region="ap-southeast-2", secret_arns={s: _LONG_ARN for s in app.secrets},
        extra_environment={k: v if v is not None else _LONG_NAME for k, v in stack_environment.items()})
    size = task_definition_size(definitions)
    if size <= TASK_DEFINITION_MAX_BYTES:
        return
    biggest = max(definitions, key=lambda d: len(json.dumps(d["environment"])))
    environment_bytes = len(json.dumps(biggest["environment"], separators=(",", ":")).encode())
    raise ConfigError(
        f"the task definition would be about {size / 1024:.1f} KiB, over ECS's limit of "
        f"{TASK_DEFINITION_MAX_BYTES // 1024} KiB per task definition (service quota 'Task definition size', not "
        f"adjustable), so ECS would refuse to register it. The largest part: {len(biggest['environment'])} "
        f"environment variables of '{biggest['name']}' ({environment_bytes / 1024:.1f} KiB).",
        file=_where(app), service=biggest["name"], key="environment",
        fix="use fewer or shorter environment values (e.g. one JSON value, or a configuration file built into "
            "the image) until the task definition is under 64 KiB.")


def container_definitions(app: App, *, images: dict[str, str], log_groups: dict[str, str], region: str,
                          secret_arns: dict[str, str] | None = None,
                          extra_environment: dict[str, str] | None = None,
                          docker_hub_credentials: str | None = None) -> TaskContainers:
    """Check and render in one step (the local runner and tests): ``plan_task`` then
    ``TaskPlan.container_definitions``, with the warnings."""
    plan = plan_task(app, stack_environment=dict(extra_environment or {}))
    if secret_arns is not None:
        for container in app.containers:
            for secret in container.secrets:
                if secret not in secret_arns:
                    raise ConfigError(f"the container uses secret {secret!r}, which has no stored value.",
                                      file=_where(app), service=container.name, key="secrets",
                                      fix=f"add it under the top-level secrets: with file: ../.secret-{secret.lower()}.")
    definitions = plan.container_definitions(images=images, log_groups=log_groups, region=region,
                                             secret_arns=secret_arns, extra_environment=extra_environment,
                                             docker_hub_credentials=docker_hub_credentials)
    return TaskContainers(definitions=definitions, warnings=list(plan.warnings))
