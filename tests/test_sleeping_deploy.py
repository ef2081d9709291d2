"""A deploy to a sleeping API (desired count 0), driven through the PipelineRun waiter against moto and the fake ECS
scheduler (tests/ops_moto.py), with a fake pipeline run whose Deploy stage does what CodePipeline's ECS action does
(a new revision, UpdateService, success or failure as ECS ends the rollout).

The waiter raises the service to its awake count before the run reaches Deploy, so the build is rolled out onto
running tasks; it waits until they are healthy, then lets the API sleep again. A crash-looping build fails
`pulumi up` with the stop reason, exit code and last log lines, and `deployed` stays on the build that ran."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from moto.codepipeline.models import codepipeline_backends
from moto.core import DEFAULT_ACCOUNT_ID

from components.providers.deploy_wake import DIMENSION, deadline_action_name, resource_id
from components.providers.pipeline_run import Clock, PipelineRunError, PipelineRunProvider, run_pipeline
from tests.ops_fixtures import REGION, fake_credentials  # noqa: F401
from tests.ops_moto import (API, CLUSTER, HASHES, PIPELINE, FakeScheduler, World, put_to_sleep,
                            repository, world)  # noqa: F401 - world: a fixture

NEW_BUILD, RUNNING_BUILD = HASHES[0], HASHES[-1]
NOW = datetime(2026, 12, 7, 3, 0, 0, tzinfo=timezone.utc)


class FakeRun:
    """The pipeline run the waiter follows. First tick: its Deploy stage registers the new build's revision and
    updates the service (recording what ran at that moment). Second tick: ECS ends the rollout, and the run
    ends as CodePipeline ends it: Promote tags the build `deployed`, or the Deploy action failed."""

    def __init__(self, world: World, scheduler: FakeScheduler, autoscaling):
        self.world, self.scheduler, self.autoscaling = world, scheduler, autoscaling
        self.execution_id = world.run_pipeline("InProgress")
        self.ticks, self.at_deploy = 0, {}
        self.build_fails = False

    @property
    def record(self):
        return codepipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[PIPELINE].executions[self.execution_id]

    def tick(self) -> None:
        self.ticks += 1
        world = self.world
        if self.build_fails:
            self.record.status = "Failed"
            return
        if self.ticks == 1:
            service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
            target = self.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[resource_id(CLUSTER, API)])["ScalableTargets"][0]
            deadline = self.autoscaling.describe_scheduled_actions(
                ServiceNamespace="ecs", ResourceId=resource_id(CLUSTER, API))["ScheduledActions"]
            self.at_deploy = {"desired": service["desiredCount"], "running": len(world.running_tasks()),
                              "min": target["MinCapacity"], "deadline": deadline}
            world.ecs.update_service(cluster=CLUSTER, service=API, taskDefinition=world.register(NEW_BUILD))
        elif self.ticks == 2:
            self.scheduler.tick(15)
            if self.scheduler.mode == "healthy":
                for container in world.containers:       # Promote
                    world.ecr.put_image(repositoryName=repository(container), imageTag="deployed",
                                        imageManifest=world.ecr.batch_get_image(
                                            repositoryName=repository(container),
                                            imageIds=[{"imageTag": NEW_BUILD}])["images"][0]["imageManifest"])
                self.record.status = "Succeeded"
            else:
                self._crash_logs()
                self.record.status = "Failed"

    def _crash_logs(self) -> None:
        world, container = self.world, self.world.containers[0]
        stopped = world.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]
        for arn in stopped:
            task = world.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
            if any(c.get("exitCode") == 1 for c in task["containers"]):
                group, stream = f"/serverless-containers/dev/{API}/{container}", f"ecs/{container}/{arn.rsplit('/', 1)[-1]}"
                world.logs.create_log_stream(logGroupName=group, logStreamName=stream)
                world.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                    {"timestamp": int(time.time() * 1000) + i, "message": line}
                    for i, line in enumerate(("listening on 8080", "TypeError: posts.map is not a function"))])


class RunClock(Clock):
    def __init__(self, run: FakeRun):
        object.__setattr__(self, "elapsed", [0.0])
        object.__setattr__(self, "now", lambda: self.elapsed[0])
        object.__setattr__(self, "utc", lambda: NOW)

        def sleep(seconds: float) -> None:
            self.elapsed[0] += seconds
            run.tick()
        object.__setattr__(self, "sleep", sleep)


def asleep(world: World, monkeypatch, mode: str, *, paused: bool = False):
    """The API fell asleep: 0 tasks, its scalable target 0..2 (sleep), as components/scaling.py registers it."""
    scheduler = FakeScheduler(world, monkeypatch, mode)
    autoscaling = put_to_sleep(world, paused=paused)
    run = FakeRun(world, scheduler, autoscaling)
    return autoscaling, run


def props(**overrides) -> dict:
    return {"pipelineName": PIPELINE, "region": REGION, "sourceRevision": "", "cluster": CLUSTER, "service": API,
            "scaleTo": 0, "awakeCount": 2, "timeoutSeconds": 600, "pollSeconds": 10, "startGraceSeconds": 0,
            "rolloutTimeoutSeconds": 300, "repositories": [repository(c) for c in ("web", "worker")], **overrides}


def deployed_digest(world: World, container: str) -> str:
    return world.ecr.describe_images(repositoryName=repository(container),
                                     imageIds=[{"imageTag": "deployed"}])["imageDetails"][0]["imageDigest"]


def held_state(world: World, autoscaling) -> tuple[int, list]:
    target = autoscaling.describe_scalable_targets(ServiceNamespace="ecs",
                                                   ResourceIds=[resource_id(CLUSTER, API)])["ScalableTargets"][0]
    actions = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs",
                                                     ResourceId=resource_id(CLUSTER, API))["ScheduledActions"]
    return target["MinCapacity"], actions


def test_a_deploy_to_a_sleeping_api_rolls_out_onto_awake_tasks_then_lets_it_sleep(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    printed = []
    outcome = run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), report=printed.append,
                           ecr=world.ecr, logs=world.logs, autoscaling=autoscaling)
    assert outcome.status == "Succeeded"
    # awake count: when the Deploy stage ran, the service was up at its awake count, held there, with the way back
    # (the deadline action restoring min 0) already registered
    assert run.at_deploy["desired"] == 2 and run.at_deploy["running"] == 2 and run.at_deploy["min"] == 2
    [deadline] = run.at_deploy["deadline"]
    assert deadline["ScheduledActionName"] == deadline_action_name(API)
    assert deadline["ScalableTargetAction"] == {"MinCapacity": 0}
    assert deadline["Schedule"] == "at(2026-12-07T03:20:00)"        # now + 600 s run + 300 s rollout + 300 s margin
    # wait: the new build runs healthy on both tasks
    tasks = world.running_tasks()
    assert len(tasks) == 2 and all(t.task_definition_arn.endswith(":2") for t in tasks)
    assert deployed_digest(world, "web") == world.digests[("web", NEW_BUILD)]
    # back: the minimum is 0 again and the deadline action is gone, so the idle alarm may put it to sleep
    assert held_state(world, autoscaling) == (0, [])
    assert any("held at 2 task(s)" in line for line in printed)
    assert any("runs healthy on 2 task(s)" in line for line in printed)


def test_a_crash_looping_build_fails_the_deploy_of_a_sleeping_api_with_the_reason(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "circuit-breaker")
    monkeypatch.setattr(world.codepipeline, "list_action_executions", lambda **_kw: {"actionExecutionDetails": [{
        "stageName": "Deploy", "actionName": "Deploy", "status": "Failed",
        "output": {"executionResult": {"externalExecutionSummary": "Deployment failed: the circuit breaker rolled "
                                                                   "back ecs-svc/2"}}}]})
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), ecr=world.ecr, logs=world.logs,
                     autoscaling=autoscaling)
    message = str(failure.value)
    assert f"the deploy to service {API}, checked at 2 running task(s)" in message
    assert "action 'Deploy' in stage 'Deploy' failed" in message
    assert "Essential container in task exited" in message and "exit code 1" in message
    assert "TypeError: posts.map is not a function" in message           # the crashed container's last log line
    assert "Promote did not run" in message
    # the rollout was checked on running tasks (not at 0) ...
    assert run.at_deploy["desired"] == 2 and run.at_deploy["running"] == 2
    # ... `deployed` stays on the build that ran before, and the API may sleep again
    assert deployed_digest(world, "web") == world.digests[("web", RUNNING_BUILD)]
    assert held_state(world, autoscaling) == (0, [])


def test_a_build_that_fails_before_deploy_says_so_and_still_lets_the_api_sleep(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    run.build_fails = True
    monkeypatch.setattr(world.codepipeline, "list_action_executions", lambda **_kw: {"actionExecutionDetails": [{
        "stageName": "Build", "actionName": "BuildImages", "status": "Failed",
        "output": {"executionResult": {"externalExecutionSummary": "npm ci exited 1"}}}]})
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), ecr=world.ecr, logs=world.logs,
                     autoscaling=autoscaling)
    message = str(failure.value)
    assert message.startswith(f"pipeline {PIPELINE}: action 'BuildImages' in stage 'Build' failed: npm ci exited 1")
    assert "checked at" not in message and "stopped tasks" not in message
    assert failure.value.stage == "Build"
    assert held_state(world, autoscaling) == (0, [])
    assert deployed_digest(world, "web") == world.digests[("web", RUNNING_BUILD)]


def test_a_paused_api_is_deployed_without_waking_it(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy", paused=True)
    printed = []
    run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), report=printed.append,
                 ecr=world.ecr, logs=world.logs, autoscaling=autoscaling)
    assert run.at_deploy["desired"] == 0 and run.at_deploy["deadline"] == []
    assert world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]["desiredCount"] == 0
    assert any("is paused" in line and "ops resume" in line for line in printed)


def test_an_api_that_never_sleeps_is_not_held(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    run_pipeline(world.codepipeline, world.ecs, props(awakeCount=0), clock=RunClock(run), ecr=world.ecr,
                 logs=world.logs, autoscaling=autoscaling)
    assert run.at_deploy["desired"] == 0 and run.at_deploy["min"] == 0


def test_the_provider_hands_the_autoscaling_client_to_the_waiter(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    provider = PipelineRunProvider(clients=lambda _p: (world.codepipeline, world.ecs, world.ecr, world.logs,
                                                       autoscaling), clock=RunClock(run))
    outs = provider.create(props()).outs
    assert outs["status"] == "Succeeded" and outs["awakeCount"] == 2
    assert run.at_deploy["desired"] == 2


def test_a_hold_left_by_a_killed_run_is_taken_over_with_a_new_deadline(world, monkeypatch):
    """`pulumi up` killed mid-wait leaves min 2 and its deadline action; the next deploy must not mistake min 2 for
    an API that stays awake, or the old deadline could let the API sleep in the middle of the new rollout."""
    from components.providers.deploy_wake import hold_awake, release

    autoscaling, _ = asleep(world, monkeypatch, "healthy")
    autoscaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id(CLUSTER, API),
                                         ScalableDimension=DIMENSION, MinCapacity=2)
    autoscaling.put_scheduled_action(ServiceNamespace="ecs", ScheduledActionName=deadline_action_name(API),
                                     ResourceId=resource_id(CLUSTER, API), ScalableDimension=DIMENSION,
                                     Schedule="at(2026-12-07T02:00:00)", ScalableTargetAction={"MinCapacity": 0})
    hold = hold_awake(world.ecs, autoscaling, CLUSTER, API, 2, deadline=NOW)
    assert hold is not None and hold.previous_min == 0 and hold.woke
    assert [a["Schedule"] for a in held_state(world, autoscaling)[1]] == ["at(2026-12-07T03:00:00)"]
    release(autoscaling, hold)
    assert held_state(world, autoscaling) == (0, [])


def test_every_request_of_the_hold_is_valid_against_botocore(world, monkeypatch):
    """The hold's Application Auto Scaling and ECS requests, as sent, against botocore's models and the documented
    limits the fidelity suite checks (a one-time `at()` schedule, a minimum within the target's range)."""
    from tests.fidelity import document_checks, validate

    autoscaling, run = asleep(world, monkeypatch, "healthy")
    sent = []
    for client, service, operations in ((autoscaling, "application-autoscaling", (
            "put_scheduled_action", "register_scalable_target", "delete_scheduled_action")),
            (world.ecs, "ecs", ("update_service",))):
        for operation in operations:
            original = getattr(client, operation)

            def record(_original=original, _service=service, _name=client.meta.method_to_api_mapping[operation],
                       **params):
                sent.append((_service, _name, params))
                return _original(**params)
            monkeypatch.setattr(client, operation, record)
    run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), ecr=world.ecr, logs=world.logs,
                 autoscaling=autoscaling)
    names = [name for _, name, _ in sent]
    assert names[:3] == ["PutScheduledAction", "RegisterScalableTarget", "UpdateService"]
    assert names[-2:] == ["RegisterScalableTarget", "DeleteScheduledAction"]
    for service, name, params in sent:
        assert validate.model_problems(service, name, params) == [], (name, params)
        check = document_checks.REQUEST_CHECKS.get((service, name))
        assert check is None or check(params) == [], (name, params)
