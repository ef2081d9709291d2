"""`docker run` flags for what an ECS container definition says: the health check, and the restart policy, labels,
read-only root filesystem, init, capabilities, stop timeout and ulimits (components/task_plan.runtime_settings).
Pure; used by the local runner (ops/local/runner.py)."""
from __future__ import annotations

import shlex


def _duration(seconds: int | float) -> str:
    return f"{int(seconds)}s"


def health_flags(health: dict) -> list[str]:
    """`docker run` flags for an ECS ``healthCheck``. Docker runs every check through the image's
    shell, so the CMD form is quoted into one shell command with the same meaning."""
    kind, *command = health["command"]
    shell_command = command[0] if kind == "CMD-SHELL" else shlex.join(command)
    return ["--health-cmd", shell_command,
            "--health-interval", _duration(health["interval"]),
            "--health-timeout", _duration(health["timeout"]),
            "--health-retries", str(health["retries"]),
            "--health-start-period", _duration(health["startPeriod"])]


def runtime_flags(definition: dict) -> list[str]:
    """docker run flags for what the ECS container definition says about restarts, labels, the root filesystem,
    init, capabilities, the stop timeout and ulimits (components/task_plan.runtime_settings)."""
    flags: list[str] = []
    restart = definition.get("restartPolicy") or {}
    if restart.get("enabled"):
        flags += ["--restart", "on-failure" if 0 in (restart.get("ignoredExitCodes") or []) else "unless-stopped"]
    for key, value in (definition.get("dockerLabels") or {}).items():
        flags += ["--label", f"{key}={value}"]
    if definition.get("readonlyRootFilesystem"):
        flags.append("--read-only")
    linux = definition.get("linuxParameters") or {}
    if linux.get("initProcessEnabled"):
        flags.append("--init")
    for capability in (linux.get("capabilities") or {}).get("add") or []:
        flags += ["--cap-add", capability]
    for capability in (linux.get("capabilities") or {}).get("drop") or []:
        flags += ["--cap-drop", capability]
    if "stopTimeout" in definition:
        flags += ["--stop-timeout", str(definition["stopTimeout"])]
    for limit in definition.get("ulimits") or []:
        flags += ["--ulimit", f"{limit['name']}={limit['softLimit']}:{limit['hardLimit']}"]
    return flags
