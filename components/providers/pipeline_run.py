"""`pulumi up` waits for the pipeline run its own source upload started, and fails when that run fails.

The logic is pure functions over injected boto3 clients (CodePipeline, ECS) and an injected clock, so
it is tested with botocore's Stubber and no real waiting. ``PipelineRun`` is the Pulumi dynamic
resource around it; no Lambda and nothing else is deployed for it.

Which run is "ours":

* ``build: managed``: the run whose S3 source revision is the object version this update uploaded.
  The EventBridge rule (or, on the first deploy, the pipeline's creation) starts it; when none has
  appeared after ``start_grace_seconds``, the waiter starts one itself (the S3 action then reads the
  newest version, which is ours).
* ``build: github``: GitHub pushes start runs; on creation the waiter follows the newest run, and
  starts one when there is none.
* Either way, a matching run that has already failed or was stopped is from an earlier update: the waiter
  starts a new run instead of reporting the old failure again.

The pipeline runs in SUPERSEDED mode, so a newer run may replace ours; the waiter then follows the
newer run (it carries our change or a later one).

First deploy: no image existed, so the program created the ECS service with 0 tasks, and the pipeline's
ECS deploy ran with 0 tasks too: it proved nothing about the image. After the first successful run the
waiter sets the service's desired count to the app's replicas (``scale_to``) and waits until the service is
stable and its rollout COMPLETED (components/providers/service_rollout.py, bounded by ``rolloutTimeoutSeconds``,
the stack's ``deployTimeoutMinutes``). When it is not, the waiter scales the service back to 0, removes the
``deployed`` tag the run's Promote stage set (so it points where it was: nowhere), and fails `pulumi up` with
the stopped tasks' reasons, exit codes and the failing containers' last log lines.

A deploy to an API that may sleep (``awakeCount`` > 0): the waiter holds it at its awake count before the run can
reach its Deploy stage (components/providers/deploy_wake.py), so the ECS deploy action rolls the new build out onto
running tasks, its circuit breaker rolls a crash-looping build back, and Promote moves ``deployed`` only after
that. After a successful run the waiter waits until the tasks are healthy; then it releases the hold and the API
may sleep again. A failed run fails `pulumi up` with the stopped tasks' reasons and last log lines, as a failed
first deploy does. The pipeline's own wake and verify steps (components/pipeline/deploy_check.py) see the waiter's
hold and leave the minimum to it; runs nobody waits for are held and checked by those steps alone.

The provider signs in as the stack's AWS provider does (components/providers/aws_session.py). Progress lines
(the console URL, the rollout) are printed by the provider process; the program itself also logs the
pipeline's console URL before the update starts waiting.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, UpdateResult

from components.providers.aws_session import AwsSettings, StackAwsProvider, session
from components.providers.deploy_wake import Hold, hold_awake, release
from components.providers.service_rollout import (RolloutFailed, Waiting, remove_deployed_tag, stopped_task_report,
                                                  wait_until_stable)

DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:PipelineRun"
RUNNING = frozenset({"InProgress", "Stopping"})
FAILED = frozenset({"Failed", "Stopped", "Cancelled"})
DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_POLL_SECONDS = 15
DEFAULT_START_GRACE_SECONDS = 60
DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 1800
# After the pipeline and rollout timeouts, the hold on a sleeping API still lasts this long before its deadline
# action lets the API sleep again (only when nobody released it: `pulumi up` was killed).
HOLD_MARGIN_SECONDS = 300
# Stages of components/pipeline/pipeline.py that run before the ECS deploy (the optional approval stage included).
BEFORE_DEPLOY_STAGES = frozenset({"Source", "Build", "Approve"})


class PipelineRunError(Exception):
    """The run failed, was stopped, or did not finish in time. The message says where to look; ``stage`` names the
    stage of the failed action when CodePipeline reported one."""

    def __init__(self, message: str, stage: str | None = None):
        super().__init__(message)
        self.stage = stage


def pipeline_console_url(region: str, pipeline: str) -> str:
    return (f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}/view"
            f"?region={region}")


def execution_console_url(region: str, pipeline: str, execution_id: str) -> str:
    return (f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}/executions/"
            f"{execution_id}/timeline?region={region}")


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    utc: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@dataclass(frozen=True)
class RunOutcome:
    execution_id: str
    status: str
    console_url: str
    scaled_to: int | None = None


def _executions(codepipeline, pipeline: str) -> list[dict]:
    """Recent runs, newest first (CodePipeline lists them that way)."""
    response = codepipeline.list_pipeline_executions(pipelineName=pipeline, maxResults=25)
    return response.get("pipelineExecutionSummaries") or []


def find_execution(codepipeline, pipeline: str, revision: str = "") -> dict | None:
    """The newest run of ``revision`` (a source revision id), or the newest run when ``revision`` is ""."""
    for summary in _executions(codepipeline, pipeline):
        if not revision or any(r.get("revisionId") == revision for r in summary.get("sourceRevisions") or []):
            return summary
    return None


def find_or_start(codepipeline, pipeline: str, revision: str, *, grace_seconds: float, poll_seconds: float,
                  clock: Clock) -> str:
    """The id of the run to follow; starts one when nothing suitable shows up within the grace period.

    A run that has already failed belongs to an earlier `pulumi up` (this update's run has barely begun),
    so it is retried: fixing the infrastructure and running `pulumi up` again rebuilds the same source.
    """
    deadline = clock.now() + grace_seconds
    while True:
        found = find_execution(codepipeline, pipeline, revision)
        if found and found.get("status") not in FAILED:
            return found["pipelineExecutionId"]
        if found or clock.now() >= deadline:
            break
        clock.sleep(poll_seconds)
    started = codepipeline.start_pipeline_execution(name=pipeline)
    return started["pipelineExecutionId"]


def failed_action(codepipeline, pipeline: str, execution_id: str) -> dict | None:
    """The first failed action of a run (stage, action, summary, link to the build), if any."""
    details = codepipeline.list_action_executions(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}).get("actionExecutionDetails") or []
    failed = [d for d in details if d.get("status") == "Failed"]
    if not failed:
        return None
    failed.sort(key=lambda d: d.get("startTime") or 0)
    return failed[0]


def _failure_message(codepipeline, pipeline: str, execution: dict, region: str, action: dict | None) -> str:
    execution_id = execution["pipelineExecutionId"]
    url = execution_console_url(region, pipeline, execution_id)
    status = execution.get("status", "Failed")
    if action is None:
        summary = execution.get("statusSummary") or ""
        return f"pipeline {pipeline} run {execution_id} ended {status}{': ' + summary if summary else ''}. See {url}"
    result = (action.get("output") or {}).get("executionResult") or {}
    error = (result.get("errorDetails") or {}).get("message") or result.get("externalExecutionSummary") or ""
    message = (f"pipeline {pipeline}: action '{action.get('actionName')}' in stage '{action.get('stageName')}' "
               f"failed{': ' + error if error else ''}. See {url}")
    if result.get("externalExecutionUrl"):
        message += f" (details: {result['externalExecutionUrl']})"
    return message


def wait_for_execution(codepipeline, pipeline: str, execution_id: str, *, region: str, revision: str = "",
                       timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, poll_seconds: float = DEFAULT_POLL_SECONDS,
                       clock: Clock = Clock()) -> RunOutcome:
    """Poll until the run succeeds; raise PipelineRunError naming the failed action, or on timeout."""
    deadline = clock.now() + timeout_seconds
    while True:
        execution = codepipeline.get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id)["pipelineExecution"]
        status = execution.get("status")
        if status == "Succeeded":
            return RunOutcome(execution_id, status, execution_console_url(region, pipeline, execution_id))
        if status == "Superseded":
            newer = find_execution(codepipeline, pipeline, revision)
            if newer is None or newer["pipelineExecutionId"] == execution_id:
                newer = find_execution(codepipeline, pipeline)
            if newer is None or newer["pipelineExecutionId"] == execution_id:
                raise PipelineRunError(f"pipeline {pipeline} run {execution_id} was superseded, and no newer run "
                                       f"was found. See {pipeline_console_url(region, pipeline)}")
            execution_id = newer["pipelineExecutionId"]
            continue
        if status in FAILED:
            action = failed_action(codepipeline, pipeline, execution["pipelineExecutionId"])
            raise PipelineRunError(_failure_message(codepipeline, pipeline, execution, region, action),
                                   stage=(action or {}).get("stageName"))
        if clock.now() >= deadline:
            raise PipelineRunError(
                f"pipeline {pipeline} run {execution_id} did not finish within {int(timeout_seconds)} s; it keeps "
                f"running. See {execution_console_url(region, pipeline, execution_id)}")
        clock.sleep(poll_seconds)


def scale_service(ecs, cluster: str, service: str, replicas: int) -> None:
    """First deploy: the service was created with 0 tasks; now an image exists."""
    ecs.update_service(cluster=cluster, service=service, desiredCount=replicas)


def first_rollout(ecs, props: dict[str, Any], *, clock: Clock, report: Callable[[str], None], ecr=None,
                  logs=None) -> None:
    """After the first scale-up: wait for a stable service; on failure undo the scale-up and ``deployed``."""
    cluster, service = props["cluster"], props["service"]
    timeout = float(props.get("rolloutTimeoutSeconds") or DEFAULT_ROLLOUT_TIMEOUT_SECONDS)
    try:
        wait_until_stable(ecs, cluster, service, timeout_seconds=timeout,
                          poll_seconds=float(props.get("pollSeconds") or DEFAULT_POLL_SECONDS),
                          waiting=Waiting(now=clock.now, sleep=clock.sleep), report=report)
    except RolloutFailed as failure:
        details = stopped_task_report(ecs, logs, cluster, service)
        ecs.update_service(cluster=cluster, service=service, desiredCount=0)
        undone = f"service {service} is scaled back to 0 tasks"
        repositories = [r for r in props.get("repositories") or [] if r]
        if ecr is not None and repositories:
            remove_deployed_tag(ecr, repositories)
            undone += " and its images are no longer tagged deployed"
        raise PipelineRunError(
            f"the first deploy of service {service} did not start: {str(failure).rstrip('.')}. {undone}; fix the "
            f"app and run "
            f"`pulumi up` again (`python -m ops status` shows the same details).\n" + "\n".join(details)) from None


def _hold_deadline(props: dict[str, Any], clock: Clock) -> datetime:
    waits = (float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
             + float(props.get("rolloutTimeoutSeconds") or DEFAULT_ROLLOUT_TIMEOUT_SECONDS) + HOLD_MARGIN_SECONDS)
    return clock.utc() + timedelta(seconds=waits)


def checked_rollout(ecs, hold: Hold, props: dict[str, Any], *, clock: Clock, report: Callable[[str], None]) -> None:
    """After a successful run onto a held service: wait until its tasks are running and healthy."""
    wait_until_stable(ecs, hold.cluster, hold.service,
                      timeout_seconds=float(props.get("rolloutTimeoutSeconds") or DEFAULT_ROLLOUT_TIMEOUT_SECONDS),
                      poll_seconds=float(props.get("pollSeconds") or DEFAULT_POLL_SECONDS),
                      waiting=Waiting(now=clock.now, sleep=clock.sleep), report=report)


def _held_failure(ecs, logs, hold: Hold, failure: Exception, *, promoted: bool) -> PipelineRunError:
    details = stopped_task_report(ecs, logs, hold.cluster, hold.service)
    tag = ("the run's Promote stage already tagged this build `deployed`: `python -m ops rollback` moves it back"
           if promoted else "`deployed` still names the build that ran before (Promote did not run)")
    return PipelineRunError(
        f"the deploy to service {hold.service}, checked at {hold.awake_count} running task(s) because the API may "
        f"sleep, failed: {str(failure).rstrip('.')}. {tag}, and the API may sleep again; fix the app and run "
        f"`pulumi up` again (`python -m ops status` shows the same details).\n" + "\n".join(details))


def stop_runs_of(codepipeline, pipeline: str, revision: str, reason: str) -> list[str]:
    """Stop (abandon) every unfinished run of ``revision``: its source is not what `pulumi up` uploaded. Returns
    the stopped runs' ids."""
    stopped = []
    for summary in _executions(codepipeline, pipeline):
        if summary.get("status") not in RUNNING or not any(
                r.get("revisionId") == revision for r in summary.get("sourceRevisions") or []):
            continue
        codepipeline.stop_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=summary["pipelineExecutionId"],
                                             abandon=True, reason=reason[:200])
        stopped.append(summary["pipelineExecutionId"])
    return stopped


def run_pipeline(codepipeline, ecs, props: dict[str, Any], *, clock: Clock = Clock(),
                 report: Callable[[str], None] = lambda _message: None, ecr=None, logs=None,
                 autoscaling=None) -> RunOutcome:
    """Find (or start) the run of ``props['sourceRevision']``, wait for it, and on the first deploy scale up and
    wait until the service is stable. An API that may sleep is held at its awake count for the run (and its
    tasks' health is waited for), so its deploy is checked on running tasks."""
    if props.get("sourceMismatch"):
        # S3 holds other bytes than the program zipped (issue 23): that source must not be built or deployed, and
        # no service is held for it
        pipeline, region = props["pipelineName"], props["region"]
        stopped = stop_runs_of(codepipeline, pipeline, props.get("sourceRevision") or "",
                               "the uploaded source is not what pulumi up zipped")
        raise PipelineRunError(f"{props['sourceMismatch']} Stopped: {', '.join(stopped) or 'no run had started'}. "
                               f"See {pipeline_console_url(region, pipeline)}")
    scale_to = int(props.get("scaleTo") or 0)
    awake_count = int(props.get("awakeCount") or 0)
    hold = None
    if scale_to == 0 and awake_count > 0 and autoscaling is not None:
        # Before the run is even looked for: the run must not reach its Deploy stage while the service is at 0.
        hold = hold_awake(ecs, autoscaling, props["cluster"], props["service"], awake_count,
                          deadline=_hold_deadline(props, clock), report=report, now=clock.utc())
    try:
        outcome = _follow_run(codepipeline, props, clock=clock, report=report)
        if hold is not None:
            checked_rollout(ecs, hold, props, clock=clock, report=report)
            report(f"service {hold.service}: the new build runs healthy on {hold.awake_count} task(s)")
    except (PipelineRunError, RolloutFailed) as failure:
        # A run that failed before it deployed (a broken build, a rejected approval) says so itself.
        if hold is None or (isinstance(failure, PipelineRunError) and failure.stage in BEFORE_DEPLOY_STAGES):
            raise
        raise _held_failure(ecs, logs, hold, failure, promoted=isinstance(failure, RolloutFailed)) from None
    finally:
        if hold is not None:
            release(autoscaling, hold, report=report, now=clock.utc())
    if scale_to > 0:
        scale_service(ecs, props["cluster"], props["service"], scale_to)
        report(f"service {props['service']} scaled to {scale_to} task(s) after the first build; waiting until "
               "its tasks are running and healthy")
        first_rollout(ecs, props, clock=clock, report=report, ecr=ecr, logs=logs)
        report(f"service {props['service']} is stable with {scale_to} task(s)")
        return RunOutcome(outcome.execution_id, outcome.status, outcome.console_url, scaled_to=scale_to)
    return outcome


def _follow_run(codepipeline, props: dict[str, Any], *, clock: Clock, report: Callable[[str], None]) -> RunOutcome:
    pipeline, region, revision = props["pipelineName"], props["region"], props.get("sourceRevision") or ""
    poll = float(props.get("pollSeconds") or DEFAULT_POLL_SECONDS)
    execution_id = find_or_start(codepipeline, pipeline, revision, poll_seconds=poll, clock=clock,
                                 grace_seconds=float(props.get("startGraceSeconds", DEFAULT_START_GRACE_SECONDS)))
    report(f"pipeline {pipeline} is running: {execution_console_url(region, pipeline, execution_id)}")
    return wait_for_execution(codepipeline, pipeline, execution_id, region=region, revision=revision, clock=clock,
                              timeout_seconds=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
                              poll_seconds=poll)


# --- the Pulumi dynamic resource ---------------------------------------------------------------------------

def _clients(props: dict[str, Any], settings: AwsSettings | None = None):
    """CodePipeline, ECS, ECR, CloudWatch Logs and Application Auto Scaling, signed in as the stack's AWS provider."""
    signed_in = session(settings or AwsSettings(), props)
    return (signed_in.client("codepipeline"), signed_in.client("ecs"), signed_in.client("ecr"),
            signed_in.client("logs"), signed_in.client("application-autoscaling"))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# A change of these means a new source to build: wait for its run. Other inputs only update the state.
RUN_TRIGGERS = ("pipelineName", "sourceRevision")


class PipelineRunProvider(StackAwsProvider):

    def __init__(self, clients=_clients, clock: Clock | None = None):
        self.clients = clients
        self.clock = clock

    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        made = _clients(props, self.aws) if self.clients is _clients else self.clients(props)
        codepipeline, ecs, *more = made           # tests may hand in (codepipeline, ecs) only
        ecr, logs, autoscaling = (list(more) + [None, None, None])[:3]
        try:
            outcome = run_pipeline(codepipeline, ecs, props, clock=self.clock or Clock(), report=_stderr, ecr=ecr,
                                   logs=logs, autoscaling=autoscaling)
        except PipelineRunError as error:
            # Raised from create/update, Pulumi fails the update with this message (and keeps no state,
            # so the next `pulumi up` waits again).
            raise Exception(str(error)) from None
        return {**props, "executionId": outcome.execution_id, "status": outcome.status,
                "consoleUrl": outcome.console_url}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['pipelineName']}-run", outs=self._run(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = set(news) - {"executionId", "status", "consoleUrl"}
        # states written before an input existed hold nothing for it: that is its empty value, not a change
        return DiffResult(changes=any((olds.get(k) or "") != (news.get(k) or "") for k in keys))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news.get("sourceMismatch") or any(olds.get(k) != news.get(k) for k in RUN_TRIGGERS):
            return UpdateResult(outs=self._run(news))
        return UpdateResult(outs={**news, **{k: olds.get(k) for k in ("executionId", "status", "consoleUrl")}})


class PipelineRun(Resource, module="serverless-containers", name="PipelineRun"):
    """One awaited pipeline run: created (or updated) when a new source revision was uploaded. ``sourceMismatch``
    (not ""): the uploaded object is not the zip the program wrote; the run of it is stopped and the update fails."""

    # outputs keep the provider's property names
    executionId: pulumi.Output[str]
    status: pulumi.Output[str]
    consoleUrl: pulumi.Output[str]

    def __init__(self, name: str, *, pipeline_name: pulumi.Input[str], region: str, source_revision: pulumi.Input[str],
                 cluster: pulumi.Input[str], service: pulumi.Input[str], scale_to: pulumi.Input[int],
                 profile: str | None = None, timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
                 poll_seconds: int = DEFAULT_POLL_SECONDS,
                 rollout_timeout_seconds: int = DEFAULT_ROLLOUT_TIMEOUT_SECONDS,
                 repositories: list[pulumi.Input[str]] | None = None, awake_count: pulumi.Input[int] = 0,
                 source_mismatch: pulumi.Input[str] = "",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(PipelineRunProvider(), name, {
            "pipelineName": pipeline_name, "region": region, "profile": profile or "",
            "sourceRevision": source_revision, "cluster": cluster, "service": service, "scaleTo": scale_to,
            "timeoutSeconds": timeout_seconds, "pollSeconds": poll_seconds,
            "rolloutTimeoutSeconds": rollout_timeout_seconds, "repositories": list(repositories or []),
            "startGraceSeconds": DEFAULT_START_GRACE_SECONDS,
            # an API that may sleep: held at this count while the run deploys (0: it never sleeps)
            "awakeCount": awake_count,
            # not "": the uploaded object is not the zip the program wrote; its run is stopped (issue 23)
            "sourceMismatch": source_mismatch,
            "executionId": None, "status": None, "consoleUrl": None,
        }, opts)
