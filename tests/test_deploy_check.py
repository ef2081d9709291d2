"""The pipeline's own deploy check (components/pipeline/deploy_check.py) against moto and the fake ECS scheduler
(tests/ops_moto.py): the wake and verify steps of a run `pulumi up` does not wait for, and how they share a sleeping
API with `pulumi up`'s waiter. The ECS deploy action between the two steps is played by an UpdateService with the
new build's revision, and ECS's rollout by the scheduler's tick."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from io import BytesIO

import pytest

from components.pipeline import deploy_check
from components.pipeline.deploy_check import CheckFailed, CheckSettings, main, verify, wake
from components.pipeline.deploy_check_project import (BUNDLED_FILES, ROOT, check_bundle, check_buildspec,
                                                      hold_seconds)
from components.providers.deploy_wake import (PIPELINE, WAITER, deadline_action_name, hold_awake, release)
from components.providers.service_rollout import Waiting
from tests.ops_fixtures import fake_credentials  # noqa: F401
from tests.ops_moto import API, CLUSTER, record_requests
from tests.test_sleeping_deploy import (FakeRun, NEW_BUILD, NOW, RUNNING_BUILD, asleep, held_state,  # noqa: F401
                                       world)

SETTINGS = CheckSettings(cluster=CLUSTER, service=API, awake_count=2, hold_seconds=hold_seconds(30),
                         verify_timeout_seconds=120, poll_seconds=10)


class Ticks:
    """Time for verify's wait: each sleep lets the fake ECS scheduler move on."""

    def __init__(self, scheduler):
        self.elapsed, self.scheduler = 0.0, scheduler

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds
        self.scheduler.tick(seconds)

    def waiting(self) -> Waiting:
        return Waiting(now=lambda: self.elapsed, sleep=self.sleep)


def ecs_deploys(world, scheduler, *, ends: bool = True) -> None:
    """CodePipeline's ECS deploy action: a new revision of the new build, and (``ends``) ECS finishing its rollout."""
    world.ecs.update_service(cluster=CLUSTER, service=API, taskDefinition=world.register(NEW_BUILD))
    if ends:
        scheduler.tick(15)


def new_images(world) -> dict[str, str]:
    return {c: world.image_uri(c, NEW_BUILD) for c in world.containers}


def desired(world) -> int:
    return world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]["desiredCount"]


def test_wake_then_verify_checks_a_sleeping_api_on_running_tasks_and_lets_it_sleep(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    printed = []
    hold = wake(world.ecs, autoscaling, SETTINGS, now=NOW, report=printed.append)
    # awake count: minimum and desired count up, tasks running, and the way back registered under the pipeline's name
    assert hold is not None and hold.holder == PIPELINE and hold.previous_min == 0
    assert desired(world) == 2 and len(world.running_tasks()) == 2
    minimum, actions = held_state(world, autoscaling)
    assert minimum == 2
    assert [(a["ScheduledActionName"], a["ScalableTargetAction"], a["Schedule"]) for a in actions] == [
        (deadline_action_name(API, PIPELINE), {"MinCapacity": 0}, "at(2026-12-07T03:50:00)")]  # now + 30+10+10 min
    ecs_deploys(world, run.scheduler)
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
           now=lambda: NOW + timedelta(minutes=5), report=printed.append, images=new_images(world))
    # wait: the new build runs healthy on both tasks
    tasks = world.running_tasks()
    assert len(tasks) == 2 and all(t.task_definition_arn.endswith(":2") for t in tasks)
    # back: minimum 0 again, no deadline action left; the idle alarm may put it to sleep
    assert held_state(world, autoscaling) == (0, [])
    assert any("runs healthy on 2 task(s)" in line for line in printed)
    assert any("minimum back to 0" in line for line in printed)


def test_a_crash_looping_build_fails_verify_with_the_reasons_and_still_restores_the_minimum(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    wake(world.ecs, autoscaling, SETTINGS, now=NOW)
    ecs_deploys(world, run.scheduler, ends=False)
    run.scheduler.mode, run.scheduler.rollout = "crash-loop", {"crash": 2}     # the new build's tasks exit 1
    with pytest.raises(CheckFailed) as failure:
        verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
               now=lambda: NOW + timedelta(minutes=5), images=new_images(world))
    message = str(failure.value)
    assert f"service {API} does not run the new build healthy on 2 task(s)" in message
    assert "circuit breaker" in message and "Promote does not run" in message
    assert "Essential container in task exited" in message and "exit code 1" in message
    assert "Error: Cannot find module 'express'" in message              # the crashed container's last log line
    assert held_state(world, autoscaling) == (0, [])


def test_verify_fails_when_the_service_was_rolled_back_to_the_old_build(world, monkeypatch):
    """ECS's circuit breaker puts the old revision back and the service settles "steady" on it: running healthy is not
    enough, the tasks must run this run's images."""
    autoscaling, run = asleep(world, monkeypatch, "circuit-breaker")
    wake(world.ecs, autoscaling, SETTINGS, now=NOW)
    ecs_deploys(world, run.scheduler)
    with pytest.raises(CheckFailed) as failure:
        verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
               now=lambda: NOW + timedelta(minutes=5), images=new_images(world))
    message = str(failure.value)
    assert "is not this build" in message and f":{NEW_BUILD}" in message and "rolled back" in message
    assert f":{RUNNING_BUILD}" in message
    assert held_state(world, autoscaling) == (0, [])


def test_a_run_the_waiter_holds_is_left_to_the_waiter(world, monkeypatch):
    """`pulumi up` started the run: its waiter holds the API first. The wake step then changes nothing, verify
    still checks the tasks, and the minimum stays up until the waiter, the last holder, lets go."""
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    waiter = hold_awake(world.ecs, autoscaling, CLUSTER, API, 2, deadline=NOW + timedelta(hours=1), now=NOW)
    assert waiter is not None and waiter.holder == WAITER
    printed = []
    assert wake(world.ecs, autoscaling, SETTINGS, now=NOW + timedelta(minutes=3), report=printed.append) is None
    assert any("`pulumi up` holds it" in line for line in printed)
    assert [a["ScheduledActionName"] for a in held_state(world, autoscaling)[1]] == [deadline_action_name(API)]
    ecs_deploys(world, run.scheduler)
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
           now=lambda: NOW + timedelta(minutes=5), images=new_images(world))
    assert held_state(world, autoscaling)[0] == 2                        # verify did not let go of the waiter's hold
    release(autoscaling, waiter, now=NOW + timedelta(minutes=6))
    assert held_state(world, autoscaling) == (0, [])


def test_a_waiter_that_joins_a_held_run_keeps_the_minimum_until_both_let_go(world, monkeypatch):
    """A push started the run and the pipeline holds the API; `pulumi up` starts meanwhile. Whoever lets go first
    leaves the minimum up; the last one puts back the minimum both recorded (0), not the held one."""
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    wake(world.ecs, autoscaling, SETTINGS, now=NOW)
    waiter = hold_awake(world.ecs, autoscaling, CLUSTER, API, 2, deadline=NOW + timedelta(hours=1),
                        now=NOW + timedelta(minutes=1))
    assert waiter is not None and waiter.previous_min == 0               # read from the pipeline's deadline action
    ecs_deploys(world, run.scheduler)
    printed = []
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
           now=lambda: NOW + timedelta(minutes=5), report=printed.append, images=new_images(world))
    minimum, actions = held_state(world, autoscaling)
    assert minimum == 2 and [a["ScheduledActionName"] for a in actions] == [deadline_action_name(API, WAITER)]
    assert any("still held awake by `pulumi up`" in line for line in printed)
    release(autoscaling, waiter, now=NOW + timedelta(minutes=6))
    assert held_state(world, autoscaling) == (0, [])


def test_a_passed_deadline_does_not_count_as_a_hold(world, monkeypatch):
    """A waiter killed long ago left its action behind, its deadline passed: the pipeline holds and restores alone."""
    autoscaling, run = asleep(world, monkeypatch, "healthy")
    hold_awake(world.ecs, autoscaling, CLUSTER, API, 2, deadline=NOW - timedelta(hours=2), now=NOW - timedelta(hours=3))
    autoscaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/{API}",
                                         ScalableDimension="ecs:service:DesiredCount", MinCapacity=0)
    assert wake(world.ecs, autoscaling, SETTINGS, now=NOW) is not None
    ecs_deploys(world, run.scheduler)
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
           now=lambda: NOW + timedelta(minutes=5), images=new_images(world))
    assert held_state(world, autoscaling)[0] == 0


def test_a_paused_api_is_neither_woken_nor_verified(world, monkeypatch):
    autoscaling, run = asleep(world, monkeypatch, "healthy", paused=True)
    printed = []
    assert wake(world.ecs, autoscaling, SETTINGS, now=NOW, report=printed.append) is None
    assert desired(world) == 0 and held_state(world, autoscaling) == (0, [])
    ecs_deploys(world, run.scheduler)
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(), report=printed.append)
    assert any("is paused" in line for line in printed) and any("nothing to verify" in line for line in printed)


def test_main_reads_its_settings_and_this_runs_images_and_exits_1_on_a_failed_check(world, monkeypatch, tmp_path):
    autoscaling, run = asleep(world, monkeypatch, "circuit-breaker")
    environ = {"CLUSTER": CLUSTER, "SERVICE": API, "AWAKE_COUNT": "2", "HOLD_SECONDS": "3000",
               "VERIFY_TIMEOUT_SECONDS": "60", "CODEBUILD_SRC_DIR": str(tmp_path)}
    (tmp_path / "imagedefinitions.json").write_text(json.dumps(
        [{"name": c, "imageUri": uri} for c, uri in new_images(world).items()]))
    clients = (world.ecs, autoscaling, world.logs)
    assert main(["wake"], environ, clients) == 0
    assert desired(world) == 2
    ecs_deploys(world, run.scheduler)
    monkeypatch.setattr(deploy_check.time, "sleep", lambda _s: None)
    assert main(["verify"], environ, clients) == 1
    assert held_state(world, autoscaling) == (0, [])
    assert main(["verify"], {k: v for k, v in environ.items() if k != "SERVICE"}, clients) == 2


def test_the_bundle_is_the_repositorys_code_and_runs_on_its_own(tmp_path):
    bundle = check_bundle()
    assert bundle == check_bundle()                                      # same bytes every time: no diff per update
    with zipfile.ZipFile(BytesIO(bundle)) as archive:
        assert sorted(archive.namelist()) == sorted([*BUNDLED_FILES, "__main__.py"])
        for name in BUNDLED_FILES:
            assert archive.read(name) == (ROOT / name).read_bytes()
    path = tmp_path / "deploy-check.pyz"
    path.write_bytes(bundle)
    # isolated (-I): nothing of the repository or the venv on the path, only the zip; a bad step is refused by its
    # own argument parser, so everything up to main() imported from the zip alone
    done = subprocess.run([sys.executable, "-I", str(path), "nonsense"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "invalid choice: 'nonsense'" in done.stderr
    done = subprocess.run([sys.executable, "-I", str(path), "verify"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "CLUSTER, SERVICE, AWAKE_COUNT" in done.stderr


def test_the_buildspec_unpacks_and_runs_the_step_codepipeline_names():
    spec = check_buildspec(b"zip")
    commands = spec["phases"]["build"]["commands"]
    assert commands == ["echo 'emlw' | base64 -d > \"${TMPDIR:-/tmp}/deploy-check.pyz\"",
                        'python3 "${TMPDIR:-/tmp}/deploy-check.pyz" "$CHECK_STEP"']
    assert spec["phases"]["build"]["on-failure"] == "ABORT"


class CheckedRun(FakeRun):
    """A run `pulumi up` waits for, with the pipeline's own check in its Deploy stage: tick 1 runs WakeForDeploy and
    the ECS deploy, tick 2 ends ECS's rollout, runs VerifyDeploy and (when it passes) Promote."""

    def __init__(self, world, scheduler, autoscaling):
        super().__init__(world, scheduler, autoscaling)
        self.printed, self.after_verify = [], None

    def tick(self) -> None:
        if self.ticks == 0:
            wake(self.world.ecs, self.autoscaling, SETTINGS, now=NOW + timedelta(minutes=4), report=self.printed.append)
        if self.ticks == 1:
            self.scheduler.tick(15)
            verify(self.world.ecs, self.autoscaling, self.world.logs, SETTINGS, waiting=Ticks(self.scheduler).waiting(),
                   now=lambda: NOW + timedelta(minutes=8), report=self.printed.append, images=new_images(self.world))
            self.after_verify = held_state(self.world, self.autoscaling)
            self.scheduler.tick = lambda _seconds: None          # the rollout has ended; FakeRun must not end it again
        super().tick()


def test_a_run_the_waiter_follows_is_checked_by_both_without_a_fight(world, monkeypatch):
    """Through the PipelineRun waiter (components/providers/pipeline_run.py): the waiter holds first, the pipeline's
    wake leaves its hold alone, verify checks and keeps the minimum up, the waiter checks and restores it."""
    from components.providers.pipeline_run import run_pipeline
    from tests.test_sleeping_deploy import RunClock, props

    autoscaling, _ = asleep(world, monkeypatch, "healthy")
    run = CheckedRun(world, _.scheduler, autoscaling)
    outcome = run_pipeline(world.codepipeline, world.ecs, props(), clock=RunClock(run), ecr=world.ecr,
                           logs=world.logs, autoscaling=autoscaling)
    assert outcome.status == "Succeeded"
    assert run.at_deploy["desired"] == 2 and run.at_deploy["min"] == 2
    assert [a["ScheduledActionName"] for a in run.at_deploy["deadline"]] == [deadline_action_name(API, WAITER)]
    assert any("`pulumi up` holds it" in line for line in run.printed)
    # verify had no hold of its own to let go of: the minimum stays up for the waiter's own check
    assert run.after_verify[0] == 2 and not any("minimum back" in line for line in run.printed)
    assert any("runs healthy on 2 task(s)" in line for line in run.printed)
    assert held_state(world, autoscaling) == (0, [])


def test_every_request_of_wake_and_verify_is_valid_against_botocore(world, monkeypatch):
    """What the check sends, as sent, against botocore's models and the documented limits the fidelity suite checks."""
    from tests.fidelity import document_checks, validate

    autoscaling, run = asleep(world, monkeypatch, "healthy")
    sent = record_requests(monkeypatch, [(autoscaling, "application-autoscaling"), (world.ecs, "ecs"),
                                         (world.logs, "logs")])
    wake(world.ecs, autoscaling, SETTINGS, now=NOW)
    ecs_deploys(world, run.scheduler)
    verify(world.ecs, autoscaling, world.logs, SETTINGS, waiting=Ticks(run.scheduler).waiting(),
           now=lambda: NOW + timedelta(minutes=5), images=new_images(world))
    names = {name for _, name, _ in sent}
    assert {"PutScheduledAction", "RegisterScalableTarget", "UpdateService", "DescribeScheduledActions",
            "DeleteScheduledAction", "DescribeTaskDefinition"} <= names
    for service, name, params in sent:
        assert validate.model_problems(service, name, params) == [], (name, params)
        check = document_checks.REQUEST_CHECKS.get((service, name))
        assert check is None or check(params) == [], (name, params)
