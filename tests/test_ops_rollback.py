"""`rollback` against moto, with a simulated ECS scheduler (tests/ops_moto.py): the happy path, the
circuit-breaker "success" on the old revision, a completed deployment on the wrong image, a stuck
rollout, and a hash that is not in ECR."""
from __future__ import annotations

import pytest

from ops.cli_args import runnable

from ops.cloud import ecs as ecs_wait
from ops.__main__ import main
from tests.ops_fixtures import fake_credentials, project, write_outputs_json  # noqa: F401
from tests.ops_moto import (API, CLUSTER, FAMILY, HASHES, FakeScheduler,
                            repository, world)  # noqa: F401 - world: a fixture

OLD, CURRENT = HASHES[0], HASHES[-1]


class SimulatedTime:
    def __init__(self, scheduler: FakeScheduler):
        self.now, self.scheduler, self.sleeps = 0.0, scheduler, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.scheduler.tick(seconds)

    def clock(self) -> float:
        return self.now


def _scheduler(world, monkeypatch, mode):
    scheduler = FakeScheduler(world, monkeypatch, mode)
    simulated = SimulatedTime(scheduler)
    monkeypatch.setattr(ecs_wait, "SLEEP", simulated.sleep)
    monkeypatch.setattr(ecs_wait, "CLOCK", simulated.clock)
    return simulated


def _rollback(project, tmp_path, capsys, world, *extra, to=OLD):
    outputs = write_outputs_json(tmp_path / "outputs.json", world.outputs())
    code = main(["rollback", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(outputs),
                 "--api", API, "--to", to, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _deployed_digest(world, container):
    return world.ecr.batch_get_image(repositoryName=repository(container),
                                     imageIds=[{"imageTag": "deployed"}])["images"][0]["imageId"]["imageDigest"]


def test_rollback_retags_registers_a_pinned_revision_and_verifies_the_running_images(
        world, project, tmp_path, capsys, monkeypatch):
    simulated = _scheduler(world, monkeypatch, "healthy")
    before = world.ecs.describe_task_definition(taskDefinition=world.task_definition, include=["TAGS"])
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 0, out + err
    # `deployed` moved to the old build in every built container's repository, after the rollout was verified
    for container in world.containers:
        assert _deployed_digest(world, container) == world.digests[(container, OLD)]
    # the new revision equals the old one except for the pinned images
    service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
    new_arn = service["deployments"][0]["taskDefinition"]
    assert new_arn.endswith(f"{FAMILY}:2")
    after = world.ecs.describe_task_definition(taskDefinition=new_arn, include=["TAGS"])
    old_def, new_def = before["taskDefinition"], after["taskDefinition"]
    assert [c["image"] for c in new_def["containerDefinitions"]] == \
        [world.image_uri(c, OLD) for c in world.containers]
    strip = lambda d: {k: v for k, v in d.items() if k != "image"}  # noqa: E731
    assert [strip(c) for c in new_def["containerDefinitions"]] == [strip(c) for c in old_def["containerDefinitions"]]
    for key in ("cpu", "memory", "networkMode", "requiresCompatibilities", "executionRoleArn", "taskRoleArn"):
        assert new_def[key] == old_def[key], key
    assert after["tags"] == [{"key": "stack", "value": "dev"}]
    # and the tasks really run it
    assert simulated.sleeps == [15]
    assert f"done: {API} runs build {OLD} ({FAMILY}:2)" in out
    assert f"web: deployed -> {OLD}" in out and "rollout IN_PROGRESS: running 0/2" in out
    assert out.index("rollout IN_PROGRESS") < out.index(f"web: deployed -> {OLD}")


def test_circuit_breaker_rollback_is_not_reported_as_success(world, project, tmp_path, capsys, monkeypatch):
    _scheduler(world, monkeypatch, "circuit-breaker")
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 1
    assert f"rollback of {API} to {OLD} is NOT running as asked" in err
    assert "rollout rolled-back" in err
    assert f"PRIMARY deployment uses {FAMILY}:1, not the rollback's {FAMILY}:2" in err
    assert "rolling back to deployment" in err       # ECS's own event, quoted
    assert "Traceback" not in err
    # a failed rollback leaves `deployed` on the build that really runs
    for container in world.containers:
        assert _deployed_digest(world, container) == world.digests[(container, CURRENT)]


def test_a_completed_deployment_on_the_wrong_image_is_caught(world, project, tmp_path, capsys, monkeypatch):
    _scheduler(world, monkeypatch, "wrong-image")
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 1
    # ECS says the new revision is PRIMARY and done; only the image digests give it away
    assert "PRIMARY deployment" not in err
    for container in world.containers:
        assert (f"container {container}: runs image {world.digests[(container, CURRENT)]}, but build {OLD} is "
                f"{world.digests[(container, OLD)]}") in err


def test_a_stuck_rollout_stops_at_the_timeout(world, project, tmp_path, capsys, monkeypatch):
    simulated = _scheduler(world, monkeypatch, "stuck")
    code, out, err = _rollback(project, tmp_path, capsys, world, "--timeout", "60", "--poll", "10")
    assert code == 1
    assert "rollout timeout: no steady state within 60s (rollout IN_PROGRESS, running 0/2)" in err
    assert simulated.sleeps == [10] * 6


def test_an_unknown_hash_lists_recent_tags_and_changes_nothing(world, project, tmp_path, capsys, monkeypatch):
    _scheduler(world, monkeypatch, "healthy")
    code, out, err = _rollback(project, tmp_path, capsys, world, to="deadbee")
    assert code == 1
    assert "build 'deadbee' is not in ECR for API 'posts':" in err
    assert f"web ({repository('web')}): recent tags, newest first:" in err
    for build_hash in HASHES:
        assert build_hash in err
    assert "deployed," not in err
    for container in world.containers:
        assert _deployed_digest(world, container) == world.digests[(container, CURRENT)]
    assert len(world.ecs.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]) == 1


def test_a_hash_missing_in_one_repository_changes_nothing(world, project, tmp_path, capsys, monkeypatch):
    _scheduler(world, monkeypatch, "healthy")
    world.ecr.batch_delete_image(repositoryName=repository("worker"), imageIds=[{"imageTag": OLD}])
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 1 and f"worker ({repository('worker')})" in err and f"web ({repository('web')})" not in err
    assert _deployed_digest(world, "web") == world.digests[("web", CURRENT)]


def test_a_bad_tag_and_an_unknown_api_are_clear_errors(world, project, tmp_path, capsys, monkeypatch):
    for bad in ("not a tag!", "latest", "A1B2C3D", "a1b2c3", "a1b2c3d4"):
        with pytest.raises(SystemExit) as exit_:        # checked before any outputs or AWS call
            _rollback(project, tmp_path, capsys, world, to=bad)
        assert exit_.value.code == 2 and "is not a build hash" in capsys.readouterr().err
    outputs = write_outputs_json(tmp_path / "outputs.json", world.outputs())
    code = main(["rollback", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(outputs),
                 "--api", "nope", "--to", OLD])
    assert code == 2 and "has no API named 'nope'. Its APIs: posts." in capsys.readouterr().err


def test_a_missing_service_is_an_aws_error_with_a_hint(world, project, tmp_path, capsys, monkeypatch):
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)
    world.ecs.delete_service(cluster=CLUSTER, service=API)
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 1 and "ECS service 'posts' was not found in cluster 'serverless-containers-dev'" in err


def test_rollback_of_a_paused_service_says_nothing_runs_yet(world, project, tmp_path, capsys, monkeypatch):
    _scheduler(world, monkeypatch, "healthy")
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)
    code, out, err = _rollback(project, tmp_path, capsys, world)
    assert code == 0, err
    assert runnable(f"but the service is paused, so nothing runs it yet and it is not checked until it runs: "
                    f"python -m ops resume --stack dev --api {API}") in out
    for container in world.containers:
        assert _deployed_digest(world, container) == world.digests[(container, OLD)]


def test_without_the_pulumi_cli_the_boto3_commands_point_at_outputs_json(project, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["rollback", "--stack", "dev", "--project-dir", str(project), "--api", API, "--to", OLD])
    err = capsys.readouterr().err
    assert code == 1 and "Pulumi CLI is not installed" in err and "--outputs-json outputs.json" in err


def test_running_but_unhealthy_tasks_are_no_finished_rollback(world, project, tmp_path, capsys, monkeypatch):
    """The revision has a health check and ECS reports the new tasks RUNNING but UNHEALTHY: the rollback waits until
    its timeout, fails, and leaves `deployed` where it was."""
    revision = world.backend.describe_task_definition(world.task_definition)
    revision.container_definitions[0]["healthCheck"] = {"command": ["CMD-SHELL", "exit 1"], "interval": 10,
                                                        "timeout": 5, "retries": 3}
    started = world.start_tasks

    def start_unhealthy(*args, **kwargs):
        arns = started(*args, **kwargs)
        for arn in arns:
            world.backend.tasks[CLUSTER][arn].health_status = "UNHEALTHY"
        return arns
    monkeypatch.setattr(world, "start_tasks", start_unhealthy)
    _scheduler(world, monkeypatch, "healthy")
    code, out, err = _rollback(project, tmp_path, capsys, world, "--timeout", "60", "--poll", "10")
    assert code != 0
    assert "rollout timeout: no steady state within 60s (rollout COMPLETED, running 2/2, healthy 0/2)" in err
    for container in world.containers:
        assert _deployed_digest(world, container) == world.digests[(container, CURRENT)]
