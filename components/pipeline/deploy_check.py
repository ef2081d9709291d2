"""The pipeline's own check of a deploy to an API that may sleep: the wake and verify steps around its ECS deploy.

`pulumi up` checks the runs it starts (components/providers/pipeline_run.py). Runs it never sees (a `build: github`
push, "Release change" in the console, a retried run) would otherwise deploy to a sleeping API unchecked: at 0 tasks
the ECS deploy action succeeds at once and Promote moves ``deployed``. So the Deploy stage of an API that may sleep
has three actions, in this order (components/pipeline/stages.py):

1. ``wake`` (this module): hold the API at its awake count with components/providers/deploy_wake.py, as the
   pipeline's holder: the minimum and desired count go up to the awake count, and a one-time scheduled action puts the
   minimum back at a deadline should the run never get to step 3. When `pulumi up`'s waiter already holds the API
   (a live ``-deploy-check-end`` action), nothing is done: the waiter holds it, checks it and lets it sleep.
2. ECS's deploy action rolls the new build out onto running tasks; its circuit breaker fails a crash-looping build.
3. ``verify`` (this module): wait until the service's tasks are RUNNING and, where a container has a health check,
   HEALTHY (components/providers/service_rollout.py), and its deployment runs the images of this run's
   ``imagedefinitions.json`` (not a rolled-back revision); fail with the stopped tasks' reasons, exit codes and last
   log lines otherwise; then let go of the pipeline's hold (the minimum goes back unless the waiter still holds it).

Promote is the next stage, so it runs only after ``verify`` passed. A paused API (`ops pause`) is deployed at the
count it has and is not woken; neither is one on its first deploy (no scalable target yet: the waiter scales it up).

The step runs in CodeBuild: components/pipeline/deploy_check_project.py packs this module, deploy_wake.py and
service_rollout.py into one zip Python runs (boto3 comes with the build image). Settings come from the environment:
CLUSTER, SERVICE, AWAKE_COUNT, HOLD_SECONDS, VERIFY_TIMEOUT_SECONDS.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from components.providers.deploy_wake import (PIPELINE, WAITER, Hold, deadline_actions, hold_awake, live_holders,
                                              release)
from components.providers.service_rollout import RolloutFailed, Waiting, stopped_task_report, wait_until_stable

WAKE, VERIFY = "wake", "verify"
IMAGE_DEFINITIONS_FILE = "imagedefinitions.json"     # the input artifact (components/pipeline/buildspec.py)
STEPS = (WAKE, VERIFY)
POLL_SECONDS = 10


class CheckFailed(Exception):
    """The new build does not run healthy; the message says why (stopped tasks, exit codes, last log lines)."""


@dataclass(frozen=True)
class CheckSettings:
    cluster: str
    service: str
    awake_count: int
    hold_seconds: int
    """How long the pipeline's hold lasts at most: the deploy action's and the verify step's timeouts and a margin."""
    verify_timeout_seconds: int
    poll_seconds: int = POLL_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "CheckSettings":
        missing = [k for k in ("CLUSTER", "SERVICE", "AWAKE_COUNT", "HOLD_SECONDS", "VERIFY_TIMEOUT_SECONDS")
                   if not environ.get(k)]
        if missing:
            raise ValueError(f"the deploy check needs the environment variables {', '.join(missing)} (the CodeBuild "
                             "project sets them; run `pulumi up` to restore it)")
        return cls(cluster=environ["CLUSTER"], service=environ["SERVICE"], awake_count=int(environ["AWAKE_COUNT"]),
                   hold_seconds=int(environ["HOLD_SECONDS"]),
                   verify_timeout_seconds=int(environ["VERIFY_TIMEOUT_SECONDS"]))


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def wake(ecs, autoscaling, settings: CheckSettings, *, now: datetime,
         report: Callable[[str], None] = lambda _m: None) -> Hold | None:
    """Before the ECS deploy: hold the API at its awake count, unless `pulumi up`'s waiter already holds it."""
    if WAITER in live_holders(deadline_actions(autoscaling, settings.cluster, settings.service), now):
        report(f"service {settings.service}: `pulumi up` holds it at its awake count for this deploy and checks it "
               "itself; nothing to do here")
        return None
    hold = hold_awake(ecs, autoscaling, settings.cluster, settings.service, settings.awake_count,
                      deadline=now + timedelta(seconds=settings.hold_seconds), report=report, holder=PIPELINE,
                      now=now)
    if hold is None:
        report(f"service {settings.service}: not held (no scalable target yet on a first deploy, a paused API, or a "
               "minimum that keeps it awake): the deploy is checked at the count it has")
    return hold


def _pipeline_hold(autoscaling, settings: CheckSettings) -> Hold | None:
    """The hold the wake step of this (or an earlier, unfinished) run left, read back from its deadline action."""
    action = deadline_actions(autoscaling, settings.cluster, settings.service).get(PIPELINE)
    if action is None:
        return None
    previous = int((action.get("ScalableTargetAction") or {}).get("MinCapacity", 0))
    return Hold(cluster=settings.cluster, service=settings.service, awake_count=settings.awake_count,
                previous_min=previous, woke=True, holder=PIPELINE)


def expected_images(path: str) -> dict[str, str]:
    """Container -> image URI from this run's ``imagedefinitions.json``; {} when the file is not there."""
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as file:
        return {d["name"]: d["imageUri"] for d in json.load(file)}


def image_mismatch(ecs, service: dict, expected: dict[str, str]) -> str:
    """"" when the service's PRIMARY deployment runs the expected images; else which container runs what."""
    primary = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    definition = ecs.describe_task_definition(taskDefinition=primary.get("taskDefinition", ""))["taskDefinition"]
    running = {c.get("name"): c.get("image") for c in definition.get("containerDefinitions", [])}
    wrong = [f"{name} runs {running.get(name) or 'nothing'}, not {image}" for name, image in sorted(expected.items())
             if running.get(name) != image]
    revision = primary.get("taskDefinition", "?").rsplit("/", 1)[-1]
    return f"revision {revision} is not this build ({'; '.join(wrong)}): the deployment was rolled back" if wrong \
        else ""


def verify(ecs, autoscaling, logs, settings: CheckSettings, *, waiting: Waiting,
           now: Callable[[], datetime] = _utc_now, report: Callable[[str], None] = lambda _m: None,
           images: dict[str, str] | None = None) -> None:
    """After the ECS deploy: wait until the tasks run healthy, on ``images`` (this run's build, when known); raise
    CheckFailed with the stopped tasks' reasons if they do not. Then let go of the pipeline's hold."""
    hold = _pipeline_hold(autoscaling, settings)
    try:
        found = ecs.describe_services(cluster=settings.cluster, services=[settings.service]).get("services") or [{}]
        desired = int(found[0].get("desiredCount", 0))
        if desired == 0:
            report(f"service {settings.service} runs no task (paused, or its first deploy, which `pulumi up` scales "
                   "up and checks): nothing to verify")
            return
        try:
            current = wait_until_stable(ecs, settings.cluster, settings.service,
                                        timeout_seconds=settings.verify_timeout_seconds,
                                        poll_seconds=settings.poll_seconds, waiting=waiting, report=report)
            mismatch = image_mismatch(ecs, current, images) if images else ""
            if mismatch:
                raise RolloutFailed(mismatch)
        except RolloutFailed as failure:
            details = stopped_task_report(ecs, logs, settings.cluster, settings.service)
            raise CheckFailed(
                f"service {settings.service} does not run the new build healthy on {desired} task(s): "
                f"{str(failure).rstrip('.')}. Promote does not run, so `deployed` stays on the build that ran "
                f"before. Fix the app and push again (`python -m ops status` shows the same details).\n"
                + "\n".join(details)) from None
        report(f"service {settings.service}: the new build runs healthy on {desired} task(s)")
    finally:
        if hold is not None:
            release(autoscaling, hold, report=report, now=now())


def run(step: str, ecs, autoscaling, logs, settings: CheckSettings, *, waiting: Waiting | None = None,
        now: Callable[[], datetime] = _utc_now, report: Callable[[str], None] = lambda _m: None,
        images: dict[str, str] | None = None) -> None:
    if step == WAKE:
        wake(ecs, autoscaling, settings, now=now(), report=report)
    elif step == VERIFY:
        verify(ecs, autoscaling, logs, settings, waiting=waiting or Waiting(now=time.monotonic, sleep=time.sleep),
               now=now, report=report, images=images)
    else:
        raise ValueError(f"unknown step {step!r}: one of {', '.join(STEPS)}")


def _print(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None, clients=None) -> int:
    """``python deploy-check.pyz wake|verify``: exit 0 when the step passed, 1 when the check failed, 2 on bad use."""
    parser = argparse.ArgumentParser(prog="deploy-check", description="wake or verify an API that may sleep "
                                                                      "around its ECS deploy")
    parser.add_argument("step", choices=STEPS)
    step = parser.parse_args(argv).step
    environ = os.environ if environ is None else environ
    try:
        settings = CheckSettings.from_environment(environ)
    except ValueError as problem:
        print(f"deploy-check: {problem}", file=sys.stderr)
        return 2
    if clients is None:
        import boto3      # from the CodeBuild image; imported here so tests hand in moto's clients

        clients = (boto3.client("ecs"), boto3.client("application-autoscaling"), boto3.client("logs"))
    ecs, autoscaling, logs = clients
    try:
        # CodeBuild unpacks the action's input artifact (this run's imagedefinitions.json) into CODEBUILD_SRC_DIR
        images = expected_images(os.path.join(environ.get("CODEBUILD_SRC_DIR", "."), IMAGE_DEFINITIONS_FILE))
        run(step, ecs, autoscaling, logs, settings, report=_print, images=images)
    except CheckFailed as failure:
        print(str(failure), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
