"""What happens to each compose key on Fargate: honored, warned about, or rejected.

``SERVICE_KEYS`` is the single table; ``tests/test_compose_fargate.py`` checks that it names every
service property of the compose-spec schema, so a key can never be dropped without a word.
The README quotes ``describe_fargate_handling()``.

* honored  - becomes part of the task definition (or the build).
* warned   - accepted; a ``LoadWarning`` says what Fargate does instead.
* rejected - some values cannot work on Fargate: a ``ConfigError`` names the key (other values
  of the same key may be fine, as the note says).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from components.compose.values import as_bool
from components.errors import ConfigError, LoadWarning

HONORED, WARNED, REJECTED = "honored", "warned", "rejected"

# Linux capabilities Fargate lets a task add (everything else is refused by ECS).
FARGATE_ADDABLE_CAPABILITIES = frozenset({"SYS_PTRACE"})


@dataclass(frozen=True)
class KeyRule:
    handling: str
    note: str


SERVICE_KEYS: dict[str, KeyRule] = {
    # --- honored ---------------------------------------------------------------------------
    "build": KeyRule(HONORED, "context, dockerfile, dockerfile_inline, args, target and secrets (BuildKit) drive the "
                              "pipeline's build; "
                              "other build options are warned about"),
    "image": KeyRule(HONORED, "the image to run; with build: the name is kept, the pipeline pushes to ECR"),
    "ports": KeyRule(HONORED, "container side only (awsvpc: host port = container port); published ports are "
                              "ignored with a warning; ranges expand to one mapping per port"),
    "command": KeyRule(HONORED, "container command (strings are split like a shell does)"),
    "entrypoint": KeyRule(HONORED, "container entry point"),
    "environment": KeyRule(HONORED, "merged over env_file, interpolated"),
    "env_file": KeyRule(HONORED, "read at load time (string, list, or long form with required: false)"),
    "healthcheck": KeyRule(HONORED, "ECS health check; start_interval is warned about"),
    "working_dir": KeyRule(HONORED, "container working directory"),
    "user": KeyRule(HONORED, "container user"),
    "secrets": KeyRule(HONORED, "Secrets Manager secrets, seen as environment variables named after the secret"),
    "depends_on": KeyRule(HONORED, "ECS container dependencies with their conditions; cycles are errors"),
    "deploy": KeyRule(HONORED, "replicas and resources are honored; GPUs are rejected; the other options are warned about"),
    "cpus": KeyRule(HONORED, "container CPU units; the task size is the rounded-up sum"),
    "mem_limit": KeyRule(HONORED, "container memory (MiB); the task size is the rounded-up sum"),
    "mem_reservation": KeyRule(HONORED, "container memory when no limit is set"),
    "scale": KeyRule(HONORED, "task count, like deploy.replicas (the whole task is replicated)"),
    "profiles": KeyRule(HONORED, "services outside COMPOSE_PROFILES are not deployed (with a warning)"),
    "extends": KeyRule(HONORED, "resolved at load time, same file or another file"),
    "volumes": KeyRule(HONORED, "named volumes persist on the stack's encrypted EFS file system (one access point "
                                "each); apis.NAME.volumes: {VOLUME: ephemeral} keeps one task-scoped, with a warning; "
                                "bind mounts, tmpfs and anonymous volumes are not deployed (each warns); a bind mount "
                                "of the Docker socket is an error"),
    "restart": KeyRule(HONORED, "ECS restartPolicy: always/unless-stopped restart on any exit, on-failure ignores exit code 0; "
                               "at least 60 s of running between restarts; a retry limit is warned about"),
    "labels": KeyRule(HONORED, "ECS dockerLabels"),
    "read_only": KeyRule(HONORED, "ECS readonlyRootFilesystem"),
    "init": KeyRule(HONORED, "ECS linuxParameters.initProcessEnabled (an init process reaps zombies and forwards signals)"),
    "stop_grace_period": KeyRule(HONORED, "ECS stopTimeout, at most 120 s on Fargate (longer is capped, with a warning)"),
    "ulimits": KeyRule(HONORED, "nofile becomes ECS ulimits (up to 1048576); Fargate lets a task set no other limit (warned)"),
    "cap_drop": KeyRule(HONORED, "ECS linuxParameters.capabilities.drop; cap_drop: [ALL] with defaults added back becomes the "
                                "matching drop list"),
    "cap_add": KeyRule(HONORED, "ECS linuxParameters.capabilities.add: SYS_PTRACE; Docker's default capabilities are already "
                               "there; any other capability is an error"),
    "links": KeyRule(HONORED, "each linked service becomes a depends_on (service_started), as links also order "
                              "start-up; no alias is needed: the task's containers share localhost"),
    "privileged": KeyRule(REJECTED, "privileged: true is refused by Fargate"),
    "network_mode": KeyRule(REJECTED, "host and container: are impossible on Fargate (awsvpc); service:X with X in "
                                      "this app is what the task already is (a note); other modes are ignored "
                                      "with a warning"),
    "ipc": KeyRule(REJECTED, "host, service:, container: and shareable are impossible on Fargate; private is ignored"),
    "pid": KeyRule(REJECTED, "host, service:, container: are impossible on Fargate"),
    "uts": KeyRule(REJECTED, "host is impossible on Fargate"),
    "devices": KeyRule(REJECTED, "Fargate gives containers no host devices"),
    "device_cgroup_rules": KeyRule(REJECTED, "Fargate gives containers no host devices"),
    "gpus": KeyRule(REJECTED, "Fargate has no GPUs"),
    "use_api_socket": KeyRule(REJECTED, "there is no Docker engine socket on Fargate"),
    "provider": KeyRule(REJECTED, "provider services are run by the Compose CLI, not deployable to Fargate"),
    "models": KeyRule(REJECTED, "Docker Model Runner models do not exist on Fargate"),
    # --- warned ----------------------------------------------------------------------------
    "annotations": KeyRule(WARNED, "not applied: ECS containers have no annotations"),
    "attach": KeyRule(WARNED, "not applied: logs always go to CloudWatch Logs"),
    "blkio_config": KeyRule(WARNED, "not applied: Fargate does not expose block-IO weights"),
    "cgroup": KeyRule(WARNED, "not applied: Fargate manages cgroups"),
    "cgroup_parent": KeyRule(WARNED, "not applied: Fargate manages cgroups"),
    "configs": KeyRule(WARNED, "not deployed: the config file is not mounted; COPY it into the image"),
    "container_name": KeyRule(WARNED, "not applied: the ECS container is named after the service"),
    "cpu_count": KeyRule(WARNED, "not applied: use cpus or deploy.resources.limits.cpus"),
    "cpu_percent": KeyRule(WARNED, "not applied: use cpus or deploy.resources.limits.cpus"),
    "cpu_period": KeyRule(WARNED, "not applied: use cpus or deploy.resources.limits.cpus"),
    "cpu_quota": KeyRule(WARNED, "not applied: use cpus or deploy.resources.limits.cpus"),
    "cpu_rt_period": KeyRule(WARNED, "not applied: Fargate has no real-time scheduling"),
    "cpu_rt_runtime": KeyRule(WARNED, "not applied: Fargate has no real-time scheduling"),
    "cpu_shares": KeyRule(WARNED, "not applied: use cpus or deploy.resources.limits.cpus"),
    "cpuset": KeyRule(WARNED, "not applied: Fargate does not pin CPUs"),
    "credential_spec": KeyRule(WARNED, "not applied: gMSA credential specs are for Windows containers"),
    "develop": KeyRule(WARNED, "not applied: compose watch is a local development feature"),
    "dns": KeyRule(WARNED, "not applied: Fargate tasks use the VPC's DNS resolver"),
    "dns_opt": KeyRule(WARNED, "not applied: Fargate tasks use the VPC's DNS resolver"),
    "dns_search": KeyRule(WARNED, "not applied: Fargate tasks use the VPC's DNS resolver"),
    "domainname": KeyRule(WARNED, "not applied: Fargate does not set a domain name"),
    "expose": KeyRule(WARNED, "not needed: every container of the task reaches the others' ports on localhost; "
                              "the entrypoint's first expose port is its routed port when it publishes none"),
    "external_links": KeyRule(WARNED, "not applied: containers outside this task are not reachable by name"),
    "extra_hosts": KeyRule(WARNED, "not applied: Fargate does not support extra /etc/hosts entries"),
    "group_add": KeyRule(WARNED, "not applied: Fargate does not add supplementary groups"),
    "hostname": KeyRule(WARNED, "not applied: Fargate does not support setting the hostname"),
    "isolation": KeyRule(WARNED, "not applied: Windows isolation modes do not exist on Linux Fargate"),
    "label_file": KeyRule(WARNED, "not applied: labels are not set on ECS containers"),
    "logging": KeyRule(WARNED, "replaced: logs go to CloudWatch Logs (awslogs), one log group per container"),
    "mac_address": KeyRule(WARNED, "not applied: Fargate assigns the network interface"),
    "mem_swappiness": KeyRule(WARNED, "not applied: Fargate has no swap"),
    "memswap_limit": KeyRule(WARNED, "not applied: Fargate has no swap"),
    "networks": KeyRule(WARNED, "replaced: all containers share the task's network namespace (localhost); "
                                "aliases and static addresses are not applied"),
    "oom_kill_disable": KeyRule(WARNED, "not applied: the OOM killer cannot be disabled on Fargate"),
    "oom_score_adj": KeyRule(WARNED, "not applied on Fargate"),
    "pids_limit": KeyRule(WARNED, "not applied on Fargate"),
    "platform": KeyRule(WARNED, "replaced: the stack's cpuArchitecture (X86_64 or ARM64) decides the platform"),
    "post_start": KeyRule(WARNED, "not applied: ECS has no lifecycle hooks; run it in the entrypoint"),
    "pre_stop": KeyRule(WARNED, "not applied: ECS has no lifecycle hooks; handle SIGTERM in the app"),
    "pull_policy": KeyRule(WARNED, "replaced: ECS pulls the image when a task starts"),
    "pull_refresh_after": KeyRule(WARNED, "replaced: ECS pulls the image when a task starts"),
    "runtime": KeyRule(WARNED, "not applied: Fargate picks the container runtime"),
    "security_opt": KeyRule(WARNED, "not applied on Fargate"),
    "shm_size": KeyRule(WARNED, "not applied: Fargate does not support a shared-memory size"),
    "stdin_open": KeyRule(WARNED, "not applied: ECS tasks have no attached stdin"),
    "stop_signal": KeyRule(WARNED, "not applied by ECS: set STOPSIGNAL in the Dockerfile instead"),
    "storage_opt": KeyRule(WARNED, "not applied: the task gets Fargate's default ephemeral storage (20 GiB)"),
    "sysctls": KeyRule(WARNED, "not applied on Fargate"),
    "tmpfs": KeyRule(WARNED, "not applied: Fargate does not support tmpfs; writes go to ephemeral storage"),
    "tty": KeyRule(WARNED, "not applied: ECS tasks have no terminal"),
    "userns_mode": KeyRule(WARNED, "not applied on Fargate"),
    "volumes_from": KeyRule(WARNED, "not applied: share a named volume instead (the task's containers share it)"),
}

TOP_LEVEL_KEYS: dict[str, KeyRule] = {
    "version": KeyRule(WARNED, "obsolete and ignored; the current Compose specification applies"),
    "name": KeyRule(HONORED, "only for interpolation; AWS resources are named after the stack and the API"),
    "include": KeyRule(HONORED, "included files are loaded with their own paths and .env"),
    "services": KeyRule(HONORED, "one container each, all in one Fargate task"),
    "secrets": KeyRule(HONORED, "file: secrets only (.secret-* files outside the source folder), stored in Secrets Manager"),
    "volumes": KeyRule(HONORED, "each named volume is an EFS access point (drivers, external and name are not used)"),
    "networks": KeyRule(WARNED, "not created: the task has one network namespace"),
    "configs": KeyRule(WARNED, "not deployed: COPY config files into the image"),
    "models": KeyRule(WARNED, "not deployed: Docker Model Runner does not exist on Fargate"),
}


def describe_fargate_handling() -> str:
    """A Markdown table of every service key and what happens to it on Fargate (for the README)."""
    lines = ["| compose key | on Fargate | what happens |", "|---|---|---|"]
    order = {HONORED: 0, REJECTED: 1, WARNED: 2}
    for key, rule in sorted(SERVICE_KEYS.items(), key=lambda item: (order[item[1].handling], item[0])):
        lines.append(f"| `{key}` | {rule.handling} | {rule.note} |")
    return "\n".join(lines)


def _is_unset(value: Any) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("", "false", "no", "off"):
        return True
    return value is None or value is False or value == [] or value == {}


def _namespace_mode(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""


def check_service(name: str, service: dict, *, file: str, services: Collection[str] = ()) -> list[LoadWarning]:
    """Errors for keys that cannot work on Fargate, warnings for keys Fargate handles differently.

    Keys marked honored are translated (and checked) by ``components/compose/loader.py``.
    """
    warnings: list[LoadWarning] = []

    def warn(key: str, message: str) -> None:
        warnings.append(LoadWarning(message, file=file, service=name, key=key))

    def reject(key: str, problem: str, fix: str) -> None:
        raise ConfigError(problem, file=file, service=name, key=key, fix=fix)

    def enabled(key: str, value: Any) -> bool:
        try:
            return as_bool(value) if value not in (None, "") else False
        except ValueError as error:
            raise ConfigError(f"{key}: {error}.", file=file, service=name, key=key, fix="write true or false.") from None

    for key, value in service.items():
        if key.startswith("x-"):
            continue
        rule = SERVICE_KEYS.get(key)
        if rule is None:   # the schema refused unknown keys already; be safe anyway
            reject(key, f"{key!r} is not a compose service key.", "check the spelling.")
        if key == "privileged":
            if enabled(key, value):
                reject(key, "privileged containers are not allowed on Fargate.",
                       "remove privileged: true; if you need one capability, only SYS_PTRACE can be added.")
        elif key == "network_mode":
            mode = _namespace_mode(value)
            other = str(value).strip()[len("service:"):] if mode.startswith("service:") else None
            if other is not None and other in services and other != name:
                warn(key, f"network_mode {value!r}: on Fargate every container of the task shares one network "
                          f"namespace with {other!r} already (localhost), so nothing more is needed.")
                continue
            if mode == "host" or mode.startswith(("service:", "container:")):
                reject(key, f"network_mode {value!r} is impossible on Fargate: every task has its own network "
                            "interface (awsvpc), shared by all its containers.",
                       "remove network_mode; the containers of this app already share localhost.")
            if mode and mode not in ("default", "awsvpc"):
                warn(key, f"network_mode {value!r} is ignored: Fargate uses awsvpc networking, and the task's "
                          "containers share one network namespace.")
        elif key in ("ipc", "pid", "uts"):
            mode = _namespace_mode(value)
            impossible = mode == "host" or mode.startswith(("service:", "container:")) or (key == "ipc" and mode == "shareable")
            if impossible:
                reject(key, f"{key}: {value!r} is impossible on Fargate: tasks cannot share the host's or another "
                            f"container's {key.upper()} namespace.", f"remove {key}:.")
            if mode:
                warn(key, f"{key}: {value!r} is ignored on Fargate.")
        elif key in ("devices", "device_cgroup_rules", "gpus") and not _is_unset(value):
            reject(key, f"{key} cannot work on Fargate: {rule.note}.", f"remove {key}:.")
        elif key == "use_api_socket" and enabled(key, value):
            reject(key, "use_api_socket needs the Docker engine's socket, which Fargate does not have.",
                   "remove use_api_socket:.")
        elif key in ("provider", "models") and not _is_unset(value):
            reject(key, f"{key}: {rule.note}.", f"remove {key}: and run what it provides as a service with an image.")
        elif rule.handling == WARNED and not _is_unset(value):
            warn(key, f"{key}: {rule.note}.")
    return warnings


def check_deploy(name: str, deploy: Any, *, file: str) -> list[LoadWarning]:
    """Everything in deploy: except replicas and resources.limits/reservations cpus/memory."""
    warnings: list[LoadWarning] = []
    if not isinstance(deploy, dict):
        return warnings

    def warn(key: str, message: str) -> None:
        warnings.append(LoadWarning(message, file=file, service=name, key=f"deploy.{key}"))

    resources = deploy.get("resources") or {}
    if isinstance(resources, dict):
        for kind in ("limits", "reservations"):
            section = resources.get(kind) or {}
            if not isinstance(section, dict):
                continue
            if not _is_unset(section.get("devices")) or not _is_unset(section.get("generic_resources")):
                raise ConfigError("Fargate has no GPUs or other generic resources.", file=file, service=name,
                                  key=f"deploy.resources.{kind}", fix="remove devices/generic_resources.")
            if not _is_unset(section.get("pids")):
                warn(f"resources.{kind}.pids", "a pids limit is not applied on Fargate.")
    mode = deploy.get("mode")
    if mode is not None and str(mode) not in ("replicated",):
        warn("mode", f"mode {mode!r} is not applied: the task runs deploy.replicas times across the subnets.")
    notes = {
        "restart_policy": "only the condition is applied (as the ECS restart policy, when restart: is not set); "
                          "delay, max_attempts and window are not.",
        "update_config": "deploys are ECS rolling updates (new tasks healthy before old ones stop), with automatic rollback.",
        "rollback_config": "ECS's deployment circuit breaker rolls back failed deploys; rollback_config is not applied.",
        "placement": "Fargate places tasks across the stack's subnets; placement is not applied.",
        "endpoint_mode": "API Gateway reaches the task through Cloud Map; endpoint_mode is not applied.",
        "labels": "deploy labels are not applied.",
    }
    for key, note in notes.items():
        if not _is_unset(deploy.get(key)):
            warn(key, note)
    return warnings
