"""Reading an ECS service the way an operator needs it: its deployments, its tasks, its rollout."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from components.providers.service_rollout import ready_tasks
from ops.errors import OpsError

Sleep = Callable[[float], None]
Clock = Callable[[], float]

# How waiting passes time; tests swap these for a simulated clock (read at call time, not import time).
SLEEP: Sleep = time.sleep
CLOCK: Clock = time.monotonic


def describe_service(ecs, cluster: str, service: str) -> dict:
    response = ecs.describe_services(cluster=cluster, services=[service])
    services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise OpsError(f"ECS service '{service}' was not found in cluster '{cluster}'. Is the stack deployed "
                       "(python -m ops up), and are the stack and region right?")
    return services[0]


def primary_deployment(service: dict) -> dict | None:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def revision_label(task_definition_arn: str | None) -> str:
    """`arn:aws:ecs:...:task-definition/serverless-containers-dev-posts:7` -> `serverless-containers-dev-posts:7`."""
    return (task_definition_arn or "?").rsplit("/", 1)[-1]


def tasks_of(ecs, cluster: str, service: str, desired_status: str = "RUNNING") -> list[dict]:
    """The service's tasks in one desired status, described (containers, stop reasons and all)."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service,
                                                         desiredStatus=desired_status):
        arns += page.get("taskArns", [])
    tasks: list[dict] = []
    for start in range(0, len(arns), 100):      # describe_tasks takes at most 100 tasks
        tasks += ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100]).get("tasks", [])
    # A service's tasks are in the group "service:<name>"; this also guards against a backend that
    # ignores the serviceName filter.
    return [t for t in tasks if t.get("group") in (None, f"service:{service}")]


@dataclass
class Rollout:
    outcome: str            # "steady" | "rolled-back" | "failed" | "timeout"
    service: dict
    message: str


def wait_for_rollout(ecs, cluster: str, service: str, deployment_id: str | None, *, timeout: float, poll: float,
                     report: Callable[[str], None], sleep: Sleep | None = None, clock: Clock | None = None) -> Rollout:
    """Poll until the deployment ``deployment_id`` is the only one and all its tasks run, or it fails.

    Bounded by ``timeout`` seconds. A deployment that vanishes or turns FAILED was stopped by the
    deployment circuit breaker, which then rolls the service back to its previous revision.
    """
    sleep, clock = sleep or SLEEP, clock or CLOCK
    started = clock()
    last_line = ""
    health_checks: dict[str, bool] = {}
    while True:
        current = describe_service(ecs, cluster, service)
        deployments = current.get("deployments", [])
        ours = next((d for d in deployments if d.get("id") == deployment_id), None) if deployment_id else \
            primary_deployment(current)
        if ours is None:
            return Rollout("rolled-back", current, "the deployment disappeared: the circuit breaker rolled the "
                                                   "service back to its previous revision")
        state = ours.get("rolloutState")
        if state == "FAILED":
            return Rollout("failed", current, ours.get("rolloutStateReason") or "the deployment failed")
        healthy = ""
        if (len(deployments) == 1 and ours.get("runningCount") == ours.get("desiredCount")
                and state in (None, "COMPLETED")):
            # ready means healthy: RUNNING, and HEALTHY where a container has a health check
            readiness = ready_tasks(ecs, cluster, service, health_checks)
            if readiness.ready >= (ours.get("desiredCount") or 0):
                return Rollout("steady", current, ours.get("rolloutStateReason") or "steady state")
            healthy = f", healthy {readiness.ready}/{ours.get('desiredCount')}"
        if clock() - started >= timeout:
            return Rollout("timeout", current, f"no steady state within {timeout:g}s (rollout {state or 'unknown'}, "
                                               f"running {ours.get('runningCount')}/{ours.get('desiredCount')}"
                                               f"{healthy})")
        line = (f"rollout {state or 'IN_PROGRESS'}: running {ours.get('runningCount', 0)}/"
                f"{ours.get('desiredCount', 0)}{healthy}, pending {ours.get('pendingCount', 0)}, "
                f"{len(deployments)} deployment(s)")
        if line != last_line:
            report(line)
            last_line = line
        sleep(poll)


def recent_events(service: dict, count: int = 5) -> list[str]:
    return [event.get("message", "") for event in service.get("events", [])[:count]]
