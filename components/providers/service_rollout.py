"""Wait until an ECS service's rollout has finished, and say why a failed one failed.

Pure functions over injected boto3 clients (ECS, CloudWatch Logs, ECR) and a clock, so they are tested with
moto and a fake ECS scheduler (tests/ops_moto.py) and no real waiting. The ``PipelineRun`` waiter
(components/providers/pipeline_run.py) calls them after it raised a first deploy's desired count: the
pipeline's own ECS deploy ran with 0 tasks, so only this wait shows whether the image really starts.

"Finished" means what ECS means by a successful deployment: the PRIMARY deployment is the only one, its
rollout state is COMPLETED, and it runs the desired number of tasks; and, since ECS counts a task as running before
its health check passes, ready means healthy: as many tasks as desired are RUNNING and, where their task
definition gives a container a health check, DescribeTasks reports them HEALTHY (``ready_tasks``). A deployment
that turns FAILED, or that the circuit breaker replaces by a rollback, is a failure; so is no steady state (or no
healthy task) within the timeout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

DEPLOYED_TAG = "deployed"
# ECS counts a deployment's consecutively failed tasks (Deployment.failedTasks) until one runs. After a first
# deploy's scale-up the deployment may already be COMPLETED (it was, at 0 tasks), and the circuit breaker watches
# only deployments in progress: so this many failed tasks with none running is a failure, without waiting for
# the timeout.
FAILED_TASKS_LIMIT = 3


class RolloutFailed(Exception):
    """The rollout failed or did not finish in time; the message explains it (stopped tasks, exit codes, logs)."""


@dataclass(frozen=True)
class Waiting:
    now: Callable[[], float]
    sleep: Callable[[float], None]


def _service(ecs, cluster: str, service: str) -> dict:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    active = [s for s in found if s.get("status") != "INACTIVE"]
    if not active:
        raise RolloutFailed(f"ECS service {service} was not found in cluster {cluster}.")
    return active[0]


def _primary(service: dict) -> dict | None:
    return next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None)


@dataclass(frozen=True)
class Readiness:
    """The service's tasks as a wait judges them: RUNNING, and HEALTHY where a container has a health check."""

    running: int
    ready: int
    unhealthy: tuple[str, ...] = ()
    """Ids of RUNNING tasks that ECS reports UNHEALTHY (ECS replaces them; the wait goes on)."""


def _checks_health(ecs, task_definition_arn: str, cache: dict[str, bool]) -> bool:
    """Does the task definition give some container a health check? (Read, not guessed from healthStatus: a
    task whose check has not run yet is UNKNOWN too.)"""
    if task_definition_arn not in cache:
        try:
            definition = ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
            cache[task_definition_arn] = any(c.get("healthCheck") for c in definition.get("containerDefinitions", []))
        except Exception:      # unreadable: insist on HEALTHY rather than count an unchecked task as ready
            cache[task_definition_arn] = True
    return cache[task_definition_arn]


def ready_tasks(ecs, cluster: str, service: str, cache: dict[str, bool] | None = None) -> Readiness:
    """Count the service's tasks that are RUNNING and, where their definition has a health check, HEALTHY."""
    cache = {} if cache is None else cache
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service,
                                                         desiredStatus="RUNNING"):
        arns += page.get("taskArns", [])
    tasks: list[dict] = []
    for start in range(0, len(arns), 100):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100]).get("tasks", [])
    running = [t for t in tasks if t.get("group") in (None, f"service:{service}") and t.get("lastStatus") == "RUNNING"]
    ready, unhealthy = 0, []
    for task in running:
        if not _checks_health(ecs, task.get("taskDefinitionArn", ""), cache) or task.get("healthStatus") == "HEALTHY":
            ready += 1
        elif task.get("healthStatus") == "UNHEALTHY":
            unhealthy.append(task.get("taskArn", "").rsplit("/", 1)[-1])
    return Readiness(running=len(running), ready=ready, unhealthy=tuple(unhealthy))


def wait_until_stable(ecs, cluster: str, service: str, *, timeout_seconds: float, poll_seconds: float,
                      waiting: Waiting, report: Callable[[str], None] = lambda _m: None) -> dict:
    """Poll until the service's PRIMARY deployment is COMPLETED with every desired task running.

    Raises RolloutFailed when the deployment fails, is rolled back (another deployment becomes PRIMARY), or
    does not finish within ``timeout_seconds``.
    """
    deadline = waiting.now() + timeout_seconds
    first = _primary(_service(ecs, cluster, service))
    ours = first.get("id") if first else None
    last = ""
    health_checks: dict[str, bool] = {}
    while True:
        current = _service(ecs, cluster, service)
        deployments = current.get("deployments") or []
        primary = _primary(current)
        if primary is None or (ours and primary.get("id") != ours):
            raise RolloutFailed("the deployment was rolled back by the ECS deployment circuit breaker"
                                + (f" (now running {primary.get('taskDefinition', '?').rsplit('/', 1)[-1]})"
                                   if primary else ""))
        state = primary.get("rolloutState")
        if state == "FAILED":
            raise RolloutFailed(primary.get("rolloutStateReason") or "the deployment failed")
        failed = int(primary.get("failedTasks") or 0)
        if failed >= FAILED_TASKS_LIMIT and not primary.get("runningCount"):
            raise RolloutFailed(f"{failed} tasks in a row stopped before running (ECS deployment {primary.get('id')})")
        desired = current.get("desiredCount", primary.get("desiredCount", 0))
        settled = (len(deployments) == 1 and state in (None, "COMPLETED")
                   and primary.get("runningCount") == primary.get("desiredCount") == desired)
        readiness = ready_tasks(ecs, cluster, service, health_checks) if settled else None
        if readiness is not None and readiness.ready >= desired:
            return current
        healthy = f", healthy {readiness.ready}/{desired}" if readiness is not None else ""
        if readiness is not None and readiness.unhealthy:
            healthy += f" (unhealthy: {', '.join(readiness.unhealthy)})"
        if waiting.now() >= deadline:
            raise RolloutFailed(f"no steady state within {int(timeout_seconds)} s (rollout {state or 'unknown'}, "
                                f"running {primary.get('runningCount', 0)}/{desired}{healthy})")
        line = (f"service {service}: rollout {state or 'IN_PROGRESS'}, running {primary.get('runningCount', 0)}/"
                f"{desired}, pending {primary.get('pendingCount', 0)}{healthy}")
        if line != last:
            report(line)
            last = line
        waiting.sleep(poll_seconds)


def _stopped_tasks(ecs, cluster: str, service: str) -> list[dict]:
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service,
                                                         desiredStatus="STOPPED"):
        arns += page.get("taskArns", [])
    tasks: list[dict] = []
    for start in range(0, len(arns), 100):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100]).get("tasks", [])
    tasks = [t for t in tasks if t.get("group") in (None, f"service:{service}")]
    tasks.sort(key=lambda t: str(t.get("stoppedAt") or t.get("createdAt") or ""), reverse=True)
    return tasks


def _log_stream(ecs, task: dict, container: str, fallback_groups: dict[str, str], cache: dict):
    arn = task.get("taskDefinitionArn", "")
    if arn not in cache:
        try:
            cache[arn] = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        except Exception:      # a deregistered revision: fall back to the stack's naming rule
            cache[arn] = {}
    definition = next((d for d in cache[arn].get("containerDefinitions", []) if d.get("name") == container), {})
    options = (definition.get("logConfiguration") or {}).get("options") or {}
    group = options.get("awslogs-group") or fallback_groups.get(container)
    prefix = options.get("awslogs-stream-prefix", "ecs")
    task_id = task.get("taskArn", "").rsplit("/", 1)[-1]
    return group, (f"{prefix}/{container}/{task_id}" if group else None)


def last_log_lines(logs, group: str, stream: str, count: int) -> list[str]:
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=count,
                                     startFromHead=False).get("events", [])
    except logs.exceptions.ResourceNotFoundException:
        return ["(no log stream: the container never started; see the stop reason above)"]
    return [event.get("message", "").rstrip() for event in events[-count:]] or ["(the log stream is empty)"]


def stopped_task_report(ecs, logs, cluster: str, service: str, *, limit: int = 3, log_lines: int = 10,
                        log_groups: dict[str, str] | None = None,
                        when: Callable[[object], str] | None = None) -> list[str]:
    """The newest stopped tasks with their stop reasons, the failing containers' exit codes and last log lines:
    what `ops status` shows (ops/cloud/status.py calls this) and what a failed first deploy prints.

    log_groups: container -> log group, when a task definition is gone. when: formats ``stoppedAt``."""
    tasks = _stopped_tasks(ecs, cluster, service)
    if not tasks:
        return ["stopped tasks: none recently (ECS keeps stopped tasks for about an hour)"]
    lines = [f"stopped tasks ({min(limit, len(tasks))} of {len(tasks)}, newest first):"]
    cache: dict = {}
    for task in tasks[:limit]:
        task_id = task.get("taskArn", "").rsplit("/", 1)[-1]
        code = f" [{task['stopCode']}]" if task.get("stopCode") else ""
        revision = (task.get("taskDefinitionArn") or "?").rsplit("/", 1)[-1]
        stopped = f", stopped {when(task.get('stoppedAt'))}" if when else ""
        lines.append(f"  task {task_id} ({revision}){stopped}: {task.get('stoppedReason') or 'no reason given'}{code}")
        failing = [c for c in task.get("containers", []) if c.get("exitCode") not in (None, 0) or c.get("reason")]
        if not failing:
            lines.append("    no container failed (stopped by a deployment or a scale-in)")
            continue
        for container in failing:
            name = container.get("name", "?")
            lines.append(f"    container {name}: exit code {container.get('exitCode', 'none')}"
                         + (f", {container['reason']}" if container.get("reason") else ""))
            if logs is None:
                continue
            group, stream = _log_stream(ecs, task, name, log_groups or {}, cache)
            if not group:
                lines.append("      (no awslogs log configuration)")
                continue
            lines.append(f"      last log lines ({group} {stream}):")
            lines += [f"        {line}" for line in last_log_lines(logs, group, stream, log_lines)]
    return lines


def remove_deployed_tag(ecr, repositories: list[str]) -> list[str]:
    """Take the moving tag ``deployed`` off again (a first deploy that failed): the hash tags stay, so the
    images do too. Returns the repositories whose tag was removed."""
    removed = []
    for repository in repositories:
        response = ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": DEPLOYED_TAG}])
        if response.get("imageIds"):
            removed.append(repository)
    return removed
