"""`pause`/`resume`, `logs` and `status` against moto (tests/ops_moto.py holds the deployed API)."""
from __future__ import annotations

import time

import pytest

from ops.cli_args import runnable

from ops.cloud import ecs as ecs_wait
from ops.cloud import logs as log_reader
from ops.__main__ import main
from ops.errors import OpsError
from tests.ops_fixtures import REGION, fake_credentials, project, write_outputs_json  # noqa: F401
from tests.ops_moto import API, CLUSTER, FAMILY, PIPELINE, HASHES, FakeScheduler, world  # noqa: F401 - world: a fixture

WEB_GROUP = f"/serverless-containers/dev/{API}/web"
WORKER_GROUP = f"/serverless-containers/dev/{API}/worker"


def _cli(project, tmp_path, capsys, world, *argv, outputs=None):
    source = write_outputs_json(tmp_path / "outputs.json", outputs or world.outputs())
    code = main([argv[0], "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source), *argv[1:]])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _desired(world):
    return world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]["desiredCount"]


def _put(world, group, stream, messages, at_ms=None):
    try:
        world.logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except world.logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = at_ms or int(time.time() * 1000)
    world.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": message} for i, message in enumerate(messages)])


# --- pause / resume -------------------------------------------------------------------------

def test_pause_sets_zero_and_resume_restores_the_stacks_replicas(world, project, tmp_path, capsys, monkeypatch):
    FakeScheduler(world, monkeypatch)
    world.replicas = 3                                   # the stack says 3; the service runs 2 today
    code, out, err = _cli(project, tmp_path, capsys, world, "pause", "--api", API)
    assert code == 0, err
    assert _desired(world) == 0 and world.running_tasks() == []
    assert f"{API}: desired count 2 -> 0" in out and f"python -m ops resume --stack dev --api {API}" in out
    assert "leave a paused API paused" in out and "only `resume` starts it again" in out
    code, out, err = _cli(project, tmp_path, capsys, world, "resume")
    assert code == 0, err
    assert _desired(world) == 3 and f"{API}: desired count 0 -> 3" in out
    code, out, err = _cli(project, tmp_path, capsys, world, "resume", "--replicas", "1")
    assert _desired(world) == 1


def test_pause_twice_changes_nothing_and_says_so(world, project, tmp_path, capsys, monkeypatch):
    FakeScheduler(world, monkeypatch)
    _cli(project, tmp_path, capsys, world, "pause")
    code, out, err = _cli(project, tmp_path, capsys, world, "pause")
    assert code == 0 and f"{API}: desired count already 0" in out


def test_resume_without_replicas_in_the_outputs_asks_for_them(world, project, tmp_path, capsys):
    outputs = world.outputs()
    del outputs["apis"][API]["replicas"]
    code, out, err = _cli(project, tmp_path, capsys, world, "resume", outputs=outputs)
    assert code == 1 and "Pass --replicas N" in err
    assert _desired(world) == 2


def test_pause_of_an_undeployed_cluster_is_one_clear_message(world, project, tmp_path, capsys):
    outputs = world.outputs()
    outputs["apis"][API]["cluster"] = "serverless-containers-other"
    code, out, err = _cli(project, tmp_path, capsys, world, "pause", outputs=outputs)
    assert code == 1 and "ClusterNotFoundException" in err and "Is the stack deployed" in err
    assert err.count("\n") == 1


# --- logs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [("30s", 30), ("10m", 600), ("1h", 3600), ("2d", 172800),
                                           ("1h30m", 5400), (" 5M ", 300)])
def test_durations(text, seconds):
    assert log_reader.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "10x", "1h 30m", "-5m", "1.5h"])
def test_bad_durations_say_what_works(text):
    with pytest.raises(OpsError, match="not a duration. Use a number and a unit"):
        log_reader.parse_duration(text)


def test_logs_merge_containers_by_time_and_respect_since(world, project, tmp_path, capsys):
    now = int(time.time() * 1000)
    _put(world, WEB_GROUP, "ecs/web/t1", ["old line"], at_ms=now - 3 * 3600 * 1000)
    _put(world, WEB_GROUP, "ecs/web/t1", ["GET /posts 200"], at_ms=now - 60000)
    _put(world, WORKER_GROUP, "ecs/worker/t1", ["ERROR queue empty"], at_ms=now - 30000)
    _put(world, WEB_GROUP, "ecs/web/t1", ["ERROR db timeout"], at_ms=now - 10000)
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--since", "1h")
    assert code == 0, err
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == [
        "web | GET /posts 200", "worker | ERROR queue empty", "web | ERROR db timeout"]
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--since", "1h",
                          "--container", "worker")
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == ["worker | ERROR queue empty"]
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--since", "4h",
                          "--filter", "ERROR")
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == [
        "worker | ERROR queue empty", "web | ERROR db timeout"]


def test_logs_errors(world, project, tmp_path, capsys):
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--container", "db")
    assert code == 1 and "has no container 'db'. Its containers: web, worker." in err
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--since", "ten minutes")
    assert code == 1 and "not a duration" in err
    world.logs.delete_log_group(logGroupName=WORKER_GROUP)
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API)
    assert code == 1 and f"log group {WORKER_GROUP} (container worker) does not exist yet" in err
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--container", "web")
    assert code == 0 and "no log lines from web in the last 10m." in out


def test_follow_prints_new_lines_once_and_stops_at_its_bound(world, project, tmp_path, capsys, monkeypatch):
    now = int(time.time() * 1000)
    _put(world, WEB_GROUP, "ecs/web/t1", ["first"], at_ms=now - 1000)
    simulated = {"now": 0.0, "sleeps": 0}

    def sleep(seconds):
        simulated["now"] += seconds
        simulated["sleeps"] += 1
        if simulated["sleeps"] == 1:
            _put(world, WEB_GROUP, "ecs/web/t1", ["second"], at_ms=now + 500)
        if simulated["sleeps"] == 2:
            _put(world, WORKER_GROUP, "ecs/worker/t1", ["third"], at_ms=now + 900)

    monkeypatch.setattr(ecs_wait, "SLEEP", sleep)
    monkeypatch.setattr(ecs_wait, "CLOCK", lambda: simulated["now"])
    code, out, err = _cli(project, tmp_path, capsys, world, "logs", "--api", API, "--follow",
                          "--follow-for", "10s", "--poll", "2")
    assert code == 0, err
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == ["web | first", "web | second", "worker | third"]
    assert simulated["sleeps"] == 5


# --- status ---------------------------------------------------------------------------------

def test_status_shows_deployments_pipeline_and_the_crashed_containers_last_lines(world, project, tmp_path, capsys):
    broken = world.register(HASHES[0])
    [task_arn] = world.start_tasks(broken, HASHES[0], 1, exit_code=1, reason="Essential container in task exited",
                                   stopped_reason="Essential container in task exited")
    task_id = task_arn.rsplit("/", 1)[-1]
    _put(world, WEB_GROUP, f"ecs/web/{task_id}", [f"line {i}" for i in range(15)] +
         ["Error: Cannot find module 'express'"])
    service = world.service_record
    service.deployments = [
        {"id": "ecs-svc/2", "status": "PRIMARY", "taskDefinition": broken, "desiredCount": 2, "runningCount": 0,
         "pendingCount": 1, "failedTasks": 3, "rolloutState": "IN_PROGRESS",
         "rolloutStateReason": "ECS deployment ecs-svc/2 in progress."},
        {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": world.task_definition, "desiredCount": 2,
         "runningCount": 2, "pendingCount": 0, "failedTasks": 0, "rolloutState": "COMPLETED",
         "rolloutStateReason": "done"},
    ]
    service.events = [{"id": "e1", "message": f"(service {API}) has started 1 tasks: (task {task_id})."}]
    execution = world.run_pipeline("Failed", "Build failed: docker build exited with 1")

    code, out, err = _cli(project, tmp_path, capsys, world, "status", "--log-lines", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"API {API} (rest): https://{API}123.execute-api.{REGION}.amazonaws.com"
    assert "  deployments:" in lines
    assert f"    PRIMARY  {FAMILY}:2  IN_PROGRESS  running 0/2, pending 1, failed tasks 3" in lines
    assert "      ECS deployment ecs-svc/2 in progress." in lines
    assert f"    ACTIVE   {FAMILY}:1  COMPLETED  running 2/2, pending 0" in lines
    assert f"    (service {API}) has started 1 tasks: (task {task_id})." in lines
    assert any(line.startswith(f"  pipeline {PIPELINE}: last run Failed") and execution in line for line in lines)
    assert "    Build failed: docker build exited with 1" in lines
    assert (f"    https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{PIPELINE}/executions/"
            f"{execution}/timeline?region={REGION}") in lines
    stopped = next(i for i, line in enumerate(lines) if line.startswith(f"    task {task_id}"))
    assert f"({FAMILY}:2), stopped" in lines[stopped]
    assert lines[stopped].endswith("Essential container in task exited [EssentialContainerExited]")
    assert lines[stopped + 1] == "      container web: exit code 1, Essential container in task exited"
    assert lines[stopped + 2] == f"        last log lines ({WEB_GROUP} ecs/web/{task_id}):"
    assert lines[stopped + 3:stopped + 6] == ["          line 13", "          line 14",
                                              "          Error: Cannot find module 'express'"]


def test_status_of_a_task_that_never_started_and_of_a_paused_service(world, project, tmp_path, capsys, monkeypatch):
    FakeScheduler(world, monkeypatch)
    world.start_tasks(world.task_definition, HASHES[-1], 1, exit_code=255,
                      reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                      stopped_reason="Task failed to start")
    main(["pause", "--stack", "dev", "--project-dir", str(project), "--outputs-json",
          str(write_outputs_json(tmp_path / "o.json", world.outputs()))])
    capsys.readouterr()
    code, out, err = _cli(project, tmp_path, capsys, world, "status", "--api", API)
    assert code == 0, err
    assert runnable("  paused (desired count 0): no task runs. `python -m ops resume` starts it again.") in out
    assert "CannotPullContainerError" in out
    assert "(no log stream: the container never started; see the stop reason above)" in out
    assert "no container failed (stopped by a deployment or a scale-in)" in out     # the paused tasks
    assert f"pipeline {PIPELINE}: no run yet" in out


def test_status_for_a_manual_build_without_pipeline(world, project, tmp_path, capsys):
    code, out, err = _cli(project, tmp_path, capsys, world, "status", outputs=world.outputs(build="manual"))
    assert code == 0 and "  pipeline: none (build: manual)" in out
