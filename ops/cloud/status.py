"""`status`: one API's health in the order an operator checks it.

Deployments (what ECS is rolling out and how far it got), the last pipeline run, and, for the
seed's "container launch failure" checklist, the stopped tasks with their stop reasons, exit codes
and the failing container's last log lines.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from components.providers.service_rollout import stopped_task_report
from ops.cloud import ecs as ecs_view
from ops.cloud import scaling
from ops.cloud import wake_state
from ops.stack.outputs import ApiOutputs, console_pipeline_url


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value or "?")


def service_lines(ecs, api: ApiOutputs, autoscaling=None, logs=None) -> list[str]:
    service = ecs_view.describe_service(ecs, api.cluster, api.service)
    lines = [f"service {api.service} (cluster {api.cluster}): {service.get('status')}, desired "
             f"{service.get('desiredCount', 0)}, running {service.get('runningCount', 0)}, "
             f"pending {service.get('pendingCount', 0)}"]
    suspended = scaling.is_suspended(scaling.scalable_target(autoscaling, api))
    lines += wake_state.state_lines(api, service, suspended, logs, autoscaling)
    lines += scaling.count_lines(autoscaling, api, int(service.get("desiredCount", 0)))
    lines.append("deployments:")
    for deployment in service.get("deployments", []):
        state = deployment.get("rolloutState") or "-"
        line = (f"  {deployment.get('status', '?'):8} {ecs_view.revision_label(deployment.get('taskDefinition'))}  "
                f"{state}  running {deployment.get('runningCount', 0)}/{deployment.get('desiredCount', 0)}, "
                f"pending {deployment.get('pendingCount', 0)}")
        if deployment.get("failedTasks"):
            line += f", failed tasks {deployment['failedTasks']}"
        lines.append(line)
        if deployment.get("rolloutStateReason") and state != "COMPLETED":
            lines.append(f"    {deployment['rolloutStateReason']}")
    events = ecs_view.recent_events(service, 5)
    if events:
        lines.append("recent service events:")
        lines += [f"  {message}" for message in events]
    return lines


def pipeline_lines(codepipeline, api: ApiOutputs, region: str) -> list[str]:
    if not api.pipeline_name:
        return [f"pipeline: none (build: {api.build or 'manual'})"]
    response = codepipeline.list_pipeline_executions(pipelineName=api.pipeline_name, maxResults=1)
    executions = response.get("pipelineExecutionSummaries") or []
    if not executions:
        return [f"pipeline {api.pipeline_name}: no run yet",
                f"  {api.pipeline_url or console_pipeline_url(region, api.pipeline_name)}"]
    latest = executions[0]
    execution_id = latest.get("pipelineExecutionId", "")
    lines = [f"pipeline {api.pipeline_name}: last run {latest.get('status', '?')} "
             f"(started {_when(latest.get('startTime'))}, execution {execution_id})"]
    summary = (latest.get("statusSummary") or "").strip()
    if summary:
        lines.append(f"  {summary}")
    revisions = [r.get("revisionId", "")[:12] for r in latest.get("sourceRevisions", []) if r.get("revisionId")]
    if revisions:
        lines.append(f"  source revision {', '.join(revisions)}")
    lines.append(f"  {console_pipeline_url(region, api.pipeline_name, execution_id)}")
    return lines


def stopped_task_lines(ecs, logs, api: ApiOutputs, limit: int = 5, log_lines: int = 10) -> list[str]:
    """The seed's launch-failure checklist; the same report a failed first deploy prints (one implementation)."""
    return stopped_task_report(ecs, logs, api.cluster, api.service, limit=limit, log_lines=log_lines,
                               log_groups=dict(api.log_groups), when=_when)


def domain_lines(api: ApiOutputs) -> list[str]:
    """The custom domain and the DNS records still to add at the user's DNS provider (zone elsewhere)."""
    if not api.domain_name:
        return []
    lines = [f"custom domain {api.domain_name}; execute-api address: {api.default_url or 'turned off'}"]
    if api.dns_records:
        lines.append("DNS records to add at your DNS provider (the zone is not in this account):")
        lines += [f"  {r.type:<5} {r.name}  ->  {r.value}" + (f"   ({r.purpose})" if r.purpose else "")
                  for r in api.dns_records]
    return lines


def api_status(*, ecs, logs, codepipeline, api: ApiOutputs, region: str, stopped: int = 5,
               log_lines: int = 10, autoscaling=None) -> list[str]:
    lines = [f"API {api.name} ({api.type}): {api.url or '(no URL)'}"]
    body = domain_lines(api) + service_lines(ecs, api, autoscaling, logs)
    body += pipeline_lines(codepipeline, api, region)
    body += stopped_task_lines(ecs, logs, api, stopped, log_lines)
    return lines + [f"  {line}" for line in body]
