"""`ops rollback` to an API that may sleep, against moto and the fake ECS scheduler (tests/ops_moto.py).

At 0 tasks a rollout proves nothing, so the rollback holds the API at its awake count with deploy_wake's hold (the
minimum and desired count up, a `<service>-rollback-check-end` deadline action), waits for healthy tasks of the
earlier build, moves `deployed` only then, and lets go of the hold in every outcome: success, a crash-looping build,
Ctrl-C. A paused API stays paused (as the pipeline's deploy check leaves it)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from components.providers.deploy_wake import DIMENSION, ROLLBACK, deadline_action_name, resource_id
from ops.__main__ import main
from ops.cli_args import runnable
from ops.cloud import ecs as ecs_wait
from ops.cloud import rollback as rollback_logic
from ops.stack.outputs import parse
from tests.ops_fixtures import REGION, fake_credentials, project, write_outputs_json  # noqa: F401
from tests.ops_moto import (API, CLUSTER, FAMILY, HASHES, FakeScheduler, World, put_to_sleep,
                            record_requests, repository, world)  # noqa: F401 - world: a fixture

OLD, CURRENT = HASHES[0], HASHES[-1]
NOW = datetime(2026, 12, 7, 4, 0, 0, tzinfo=timezone.utc)
SLEEPS = {"managedBy": "sleep", "min": 0, "max": 2, "awakeCount": 2, "sleepAfterIdleMinutes": 15}
CRASH_LINES = ("starting", "Error: Cannot find module 'express'")


class SimulatedTime:
    """Time for the rollout wait; before each tick it records what the service and its target look like."""

    def __init__(self, scheduler: FakeScheduler, autoscaling, interrupt: bool = False):
        self.now, self.scheduler, self.autoscaling, self.interrupt = 0.0, scheduler, autoscaling, interrupt
        self.during: list[dict] = []

    def sleep(self, seconds: float) -> None:
        world = self.scheduler.world
        minimum, actions = held_state(self.autoscaling)
        service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
        self.during.append({"min": minimum, "actions": actions, "desired": service["desiredCount"],
                            "running": len(world.running_tasks())})
        if self.interrupt:
            raise KeyboardInterrupt
        self.now += seconds
        self.scheduler.tick(seconds)

    def clock(self) -> float:
        return self.now


def held_state(autoscaling) -> tuple[int, list]:
    target = autoscaling.describe_scalable_targets(ServiceNamespace="ecs",
                                                   ResourceIds=[resource_id(CLUSTER, API)])["ScalableTargets"][0]
    actions = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs",
                                                     ResourceId=resource_id(CLUSTER, API))["ScheduledActions"]
    return target["MinCapacity"], actions


def asleep(world: World, monkeypatch, mode: str, *, paused: bool = False, interrupt: bool = False):
    """The API fell asleep (0 tasks, its scalable target 0..2), or was paused (`ops pause`: scaling suspended too)."""
    scheduler = FakeScheduler(world, monkeypatch, mode)
    autoscaling = put_to_sleep(world, paused=paused)
    simulated = SimulatedTime(scheduler, autoscaling, interrupt)
    monkeypatch.setattr(ecs_wait, "SLEEP", simulated.sleep)
    monkeypatch.setattr(ecs_wait, "CLOCK", simulated.clock)
    return autoscaling, simulated


def crashes_log(world: World, monkeypatch) -> None:
    """Tasks whose essential container exits write why to their log stream first (as a real crash does)."""
    started = world.start_tasks

    def start(task_definition, build_hash, count, **kwargs):
        arns = started(task_definition, build_hash, count, **kwargs)
        if kwargs.get("exit_code"):
            container = world.containers[0]
            group = f"/serverless-containers/dev/{API}/{container}"
            for arn in arns:
                stream = f"ecs/{container}/{arn.rsplit('/', 1)[-1]}"
                world.logs.create_log_stream(logGroupName=group, logStreamName=stream)
                world.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                    {"timestamp": int(time.time() * 1000) + i, "message": line} for i, line in enumerate(CRASH_LINES)])
        return arns
    monkeypatch.setattr(world, "start_tasks", start)


def outputs(world: World) -> dict:
    raw = world.outputs()
    raw["apis"][API]["scaling"] = dict(SLEEPS)
    return raw


def cli_rollback(project, tmp_path, capsys, world, *extra):
    path = write_outputs_json(tmp_path / "outputs.json", outputs(world))
    code = main(["rollback", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(path),
                 "--api", API, "--to", OLD, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deployed_digest(world: World, container: str) -> str:
    return world.ecr.batch_get_image(repositoryName=repository(container),
                                     imageIds=[{"imageTag": "deployed"}])["images"][0]["imageId"]["imageDigest"]


def direct_rollback(world: World, autoscaling, **overrides):
    api = parse("dev", outputs(world)).api(API)
    kwargs = dict(ecs=world.ecs, ecr=world.ecr, codepipeline=None, api=api, build_hash=OLD, timeout=300, poll=15,
                  report=lambda _line: None, autoscaling=autoscaling, logs=world.logs, utc=lambda: NOW)
    return rollback_logic.rollback(**{**kwargs, **overrides})


def test_a_rollback_to_a_sleeping_api_wakes_it_checks_the_build_moves_deployed_and_lets_it_sleep(
        world, project, tmp_path, capsys, monkeypatch):
    autoscaling, simulated = asleep(world, monkeypatch, "healthy")
    started = datetime.now(timezone.utc)
    code, out, err = cli_rollback(project, tmp_path, capsys, world)
    assert code == 0, out + err
    # while the rollout was awaited, the API was held at its awake count with the rollback's own deadline action,
    # which puts the minimum it had (0) back after the rollout timeout (900 s) and a margin (300 s)
    during = simulated.during[0]
    assert (during["min"], during["desired"], during["running"]) == (2, 2, 2)
    [action] = during["actions"]
    assert action["ScheduledActionName"] == deadline_action_name(API, ROLLBACK) == f"{API}-rollback-check-end"
    assert action["ScalableTargetAction"] == {"MinCapacity": 0}
    deadline = datetime.strptime(action["Schedule"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=timezone.utc)
    assert timedelta(seconds=1195) <= deadline - started <= timedelta(seconds=1260)
    # the earlier build runs on the awake tasks, verified, and only then did `deployed` move to it
    tasks = world.ecs.describe_tasks(cluster=CLUSTER, tasks=[t.task_arn for t in world.running_tasks()])["tasks"]
    assert len(tasks) == 2 and {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in tasks} == {f"{FAMILY}:2"}
    for container in world.containers:
        assert deployed_digest(world, container) == world.digests[(container, OLD)]
    assert out.index("held at 2 task(s) while `ops rollback` rolls the earlier build out (it had 0)") \
        < out.index("rollout IN_PROGRESS") < out.index(f"web: deployed -> {OLD}") < out.index("minimum back to 0")
    assert f"done: {API} runs build {OLD} ({FAMILY}:2) (checked on 2 task(s) it was woken for" in out
    # afterwards the minimum is back and the deadline action gone: the idle alarm may put it to sleep again
    assert held_state(autoscaling) == (0, [])


def test_a_crash_looping_build_fails_the_rollback_with_its_reasons_keeps_deployed_and_lets_the_api_sleep(
        world, project, tmp_path, capsys, monkeypatch):
    crashes_log(world, monkeypatch)
    autoscaling, simulated = asleep(world, monkeypatch, "circuit-breaker")
    code, out, err = cli_rollback(project, tmp_path, capsys, world)
    assert code == 1
    assert simulated.during[0]["min"] == 2 and simulated.during[0]["desired"] == 2
    assert f"rollback of {API} to {OLD} is NOT running as asked on the 2 task(s) it was woken for" in err
    assert "rollout rolled-back" in err and "`deployed` stays where it was" in err
    # as a failed first deploy reports it: the stopped task, its reason, the exit code and the last log lines
    assert "Essential container in task exited [EssentialContainerExited]" in err
    assert "container web: exit code 1" in err
    assert f"last log lines (/serverless-containers/dev/{API}/web ecs/web/" in err
    assert err.index(CRASH_LINES[0]) < err.index(CRASH_LINES[1])
    assert "Traceback" not in err
    for container in world.containers:
        assert deployed_digest(world, container) == world.digests[(container, CURRENT)]
    assert held_state(autoscaling) == (0, [])
    assert "minimum back to 0" in out


def test_ctrl_c_during_the_wait_still_lets_go_of_the_hold(world, monkeypatch):
    autoscaling, simulated = asleep(world, monkeypatch, "healthy", interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        direct_rollback(world, autoscaling)
    assert simulated.during[0]["min"] == 2
    assert held_state(autoscaling) == (0, [])
    for container in world.containers:
        assert deployed_digest(world, container) == world.digests[(container, CURRENT)]


def test_a_release_that_fails_is_reported_and_leaves_the_deadline_action_as_the_way_back(world, monkeypatch):
    autoscaling, _ = asleep(world, monkeypatch, "healthy")
    printed = []

    def denied(**_params):
        raise RuntimeError("AccessDenied")
    original = autoscaling.register_scalable_target
    calls = []

    def register(**params):      # the hold's raise works; the release's fails
        calls.append(params)
        return original(**params) if len(calls) == 1 else denied(**params)
    monkeypatch.setattr(autoscaling, "register_scalable_target", register)
    result = direct_rollback(world, autoscaling, report=printed.append)
    assert result.verified and result.held_at == 2
    minimum, [action] = held_state(autoscaling)
    assert minimum == 2 and action["ScheduledActionName"] == f"{API}-rollback-check-end"
    assert action["Schedule"] == "at(2026-12-07T04:10:00)"         # NOW + 300 s timeout + 300 s margin
    assert any("could not put the minimum of service posts back (AccessDenied); the scheduled action "
               "posts-rollback-check-end puts it back to 0 at its deadline" in line for line in printed)


def test_a_paused_api_stays_paused_and_the_rollback_says_it_is_unchecked(
        world, project, tmp_path, capsys, monkeypatch):
    autoscaling, simulated = asleep(world, monkeypatch, "healthy", paused=True)
    code, out, err = cli_rollback(project, tmp_path, capsys, world)
    assert code == 0, err
    assert runnable(f"but the service is paused, so nothing runs it yet and it is not checked until it runs: "
                    f"python -m ops resume --stack dev --api {API}") in out
    assert "held at" not in out and f"service {API} is paused (its scaling is suspended)" in out
    assert all(moment["desired"] == 0 and moment["min"] == 0 and moment["actions"] == []
               for moment in simulated.during)
    service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
    assert service["desiredCount"] == 0 and world.running_tasks() == []
    assert held_state(autoscaling) == (0, [])


def test_an_awake_api_that_may_sleep_is_held_without_a_change_of_its_count(world, monkeypatch):
    """Awake (2 tasks, minimum 0): the idle alarm could still put it to sleep mid-rollout, so the minimum is held;
    the desired count is not touched."""
    scheduler = FakeScheduler(world, monkeypatch, "healthy")
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    autoscaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id(CLUSTER, API),
                                         ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=2)
    simulated = SimulatedTime(scheduler, autoscaling)
    monkeypatch.setattr(ecs_wait, "SLEEP", simulated.sleep)
    monkeypatch.setattr(ecs_wait, "CLOCK", simulated.clock)
    updates = []
    original = world.ecs.update_service
    monkeypatch.setattr(world.ecs, "update_service", lambda **params: updates.append(params) or original(**params))
    result = direct_rollback(world, autoscaling)
    assert result.verified
    assert [sorted(u) for u in updates] == [["cluster", "forceNewDeployment", "service", "taskDefinition"]]
    assert simulated.during[0]["min"] == 2 and held_state(autoscaling) == (0, [])


@pytest.mark.parametrize("mode", ["healthy", "circuit-breaker"])
def test_every_request_of_a_held_rollback_is_valid_against_botocore(world, monkeypatch, mode):
    """What the rollback sends (the hold, the rollout, the failure report), as sent, against botocore's models and
    the documented limits the fidelity suite checks."""
    from tests.fidelity import document_checks, validate

    crashes_log(world, monkeypatch)
    autoscaling, _ = asleep(world, monkeypatch, mode)
    sent = record_requests(monkeypatch, [(autoscaling, "application-autoscaling"), (world.ecs, "ecs"),
                                         (world.ecr, "ecr"), (world.logs, "logs")])
    result = direct_rollback(world, autoscaling)
    assert result.verified == (mode == "healthy")
    names = [name for _, name, _ in sent]
    writes = [n for n in names if n in ("PutScheduledAction", "RegisterScalableTarget", "UpdateService",
                                        "DeleteScheduledAction", "PutImage")]
    assert writes == ["PutScheduledAction", "RegisterScalableTarget", "UpdateService", "UpdateService"] \
        + (["PutImage"] * len(world.containers) if mode == "healthy" else []) \
        + ["RegisterScalableTarget", "DeleteScheduledAction"]
    if mode != "healthy":
        assert "GetLogEvents" in names
    for service, name, params in sent:
        assert validate.model_problems(service, name, params) == [], (name, params)
        check = document_checks.REQUEST_CHECKS.get((service, name))
        assert check is None or check(params) == [], (name, params)
