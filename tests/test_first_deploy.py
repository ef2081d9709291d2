"""The first deploy's scale-up, driven through the PipelineRun waiter against moto and the fake ECS scheduler
(tests/ops_moto.py): the pipeline's own ECS deploy ran with 0 tasks, so only this wait shows whether the image
starts. A crash-looping app fails `pulumi up` with the stop reason, exit code and last log lines, is scaled back
to 0, and leaves no `deployed` tag behind (where it was: nowhere)."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from components.providers.pipeline_run import Clock, PipelineRunError, PipelineRunProvider, run_pipeline
from tests.ops_fixtures import REGION, fake_credentials  # noqa: F401
from tests.ops_moto import API, CLUSTER, PIPELINE, FakeScheduler, World, patch_moto, repository


class SimulatedClock(Clock):
    def __init__(self, scheduler: FakeScheduler):
        object.__setattr__(self, "elapsed", [0.0])
        object.__setattr__(self, "now", lambda: self.elapsed[0])

        def sleep(seconds: float) -> None:
            self.elapsed[0] += seconds
            scheduler.tick(seconds)
        object.__setattr__(self, "sleep", sleep)


@pytest.fixture
def world(fake_credentials, monkeypatch):
    with mock_aws():
        patch_moto(monkeypatch)
        world = World().deploy()
        # the first deploy: the service was created (and deployed by the pipeline) with 0 tasks
        world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)
        world.stop_running_tasks("Scaling activity initiated by (deployment ecs-svc/1)")
        world.run_pipeline("Succeeded")
        yield world


def props(world: World, **overrides) -> dict:
    return {"pipelineName": PIPELINE, "region": REGION, "sourceRevision": "", "cluster": CLUSTER, "service": API,
            "scaleTo": 2, "timeoutSeconds": 600, "pollSeconds": 10, "startGraceSeconds": 0,
            "rolloutTimeoutSeconds": 300, "repositories": [repository(c) for c in world.containers], **overrides}


def deployed_tags(world: World) -> dict[str, bool]:
    found = {}
    for container in world.containers:
        try:
            world.ecr.describe_images(repositoryName=repository(container), imageIds=[{"imageTag": "deployed"}])
            found[container] = True
        except world.ecr.exceptions.ImageNotFoundException:
            found[container] = False
    return found


def test_a_healthy_first_deploy_waits_for_the_running_tasks(world, monkeypatch):
    scheduler = FakeScheduler(world, monkeypatch, "healthy")
    printed = []
    outcome = run_pipeline(world.codepipeline, world.ecs, props(world), clock=SimulatedClock(scheduler),
                           report=printed.append, ecr=world.ecr, logs=world.logs)
    assert outcome.scaled_to == 2
    service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
    assert service["desiredCount"] == 2 and len(world.running_tasks()) == 2
    assert printed[-1] == f"service {API} is stable with 2 task(s)"
    assert all(deployed_tags(world).values())


def test_a_crash_looping_first_deploy_fails_with_the_reason_and_leaves_nothing_deployed(world, monkeypatch):
    scheduler = FakeScheduler(world, monkeypatch, "crash-loop")
    clock = SimulatedClock(scheduler)
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline(world.codepipeline, world.ecs, props(world), clock=clock, ecr=world.ecr, logs=world.logs)
    message = str(failure.value)
    assert f"the first deploy of service {API} did not start" in message
    assert "ECS deployment circuit breaker: tasks failed to start." in message
    assert "Essential container in task exited" in message and "exit code 1" in message
    assert "Error: Cannot find module 'express'" in message                 # the failing container's last log line
    assert "scaled back to 0 tasks" in message and "no longer tagged deployed" in message
    # undone: no task loop keeps running, and `deployed` points where it was before the run (nowhere)
    service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
    assert service["desiredCount"] == 0
    assert deployed_tags(world) == {c: False for c in world.containers}
    # the builds themselves stay (their hash tags), so a fixed app can be rolled out or rolled back to
    for container in world.containers:
        tags = {t for d in world.ecr.describe_images(repositoryName=repository(container))["imageDetails"]
                for t in d.get("imageTags", [])}
        assert "c7d8e9f" in tags
    assert clock.now() <= 300


def test_a_rollout_that_never_settles_stops_at_the_deploy_timeout(world, monkeypatch):
    scheduler = FakeScheduler(world, monkeypatch, "crash-loop")
    scheduler.mode = "stuck"
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)
    clock = SimulatedClock(scheduler)
    original = type(world.backend).update_service

    def stuck_scale(backend, properties):       # the count rises, the tasks stay pending forever
        service = original(backend, dict(properties))
        if properties.get("desired_count"):
            for deployment in service.deployments:
                deployment.update(desiredCount=properties["desired_count"], runningCount=0, rolloutState="IN_PROGRESS")
        return service
    monkeypatch.setattr(type(world.backend), "update_service", stuck_scale)
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline(world.codepipeline, world.ecs, props(world, rolloutTimeoutSeconds=120), clock=clock,
                     ecr=world.ecr, logs=world.logs)
    assert "no steady state within 120 s (rollout IN_PROGRESS, running 0/2)" in str(failure.value)
    assert 120 <= clock.now() <= 130


def test_the_provider_hands_its_own_clients_to_the_waiter(world, monkeypatch):
    scheduler = FakeScheduler(world, monkeypatch, "crash-loop")
    provider = PipelineRunProvider(
        clients=lambda _props: (world.codepipeline, world.ecs, world.ecr, world.logs), clock=SimulatedClock(scheduler))
    with pytest.raises(Exception) as failure:
        provider.create(props(world))
    assert "Cannot find module 'express'" in str(failure.value)
    assert deployed_tags(world) == {c: False for c in world.containers}


def test_the_waiter_signs_in_as_the_stack_does():
    """aws:region, explicit keys and assumeRoles from the stack config reach the provider's session."""
    from components.providers.aws_session import session, settings_from_config

    config = {"aws:region": "eu-west-1", "aws:accessKey": "AKIAEXAMPLE", "aws:secretKey": "secret",
              "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::123456789012:role/deployer", "sessionName": "ci", '
                                 '"externalId": "x-1", "duration": "1h"}]'}
    settings = settings_from_config(config.get)
    assert settings.region == "eu-west-1" and settings.assume_roles[0]["roleArn"].endswith("role/deployer")
    assert "AKIA" not in settings.describe() and "secret" not in settings.describe()
    with mock_aws():
        signed_in = session(settings, {"region": "us-east-1", "profile": ""}, boto3)
        identity = signed_in.client("sts").get_caller_identity()
        assert ":assumed-role/deployer/ci" in identity["Arn"]
        assert signed_in.region_name == "eu-west-1"            # the stack's region wins over the resource input
    legacy = settings_from_config({"aws:assumeRole": '{"roleArn": "arn:aws:iam::1:role/r"}'}.get)
    assert [r["roleArn"] for r in legacy.assume_roles] == ["arn:aws:iam::1:role/r"]
    assert settings_from_config({}.get).describe() == "default chain"


def test_tasks_that_keep_failing_end_the_wait_before_the_timeout():
    """After a scale-up the deployment may stay COMPLETED (the circuit breaker watches rollouts in progress only):
    consecutive failed tasks with none running end the wait early."""
    from components.providers.service_rollout import FAILED_TASKS_LIMIT, RolloutFailed, Waiting, wait_until_stable

    class Ecs:
        def __init__(self):
            self.calls = 0

        def describe_services(self, cluster, services):
            self.calls += 1
            failed = min(self.calls - 1, FAILED_TASKS_LIMIT)
            return {"services": [{"status": "ACTIVE", "desiredCount": 2, "deployments": [
                {"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED", "desiredCount": 2,
                 "runningCount": 0, "pendingCount": 2, "failedTasks": failed}]}]}

    elapsed = [0.0]
    waiting = Waiting(now=lambda: elapsed[0], sleep=lambda s: elapsed.__setitem__(0, elapsed[0] + s))
    with pytest.raises(RolloutFailed) as failure:
        wait_until_stable(Ecs(), "c", "s", timeout_seconds=1800, poll_seconds=15, waiting=waiting)
    assert f"{FAILED_TASKS_LIMIT} tasks in a row stopped before running" in str(failure.value)
    assert elapsed[0] < 120


def _family_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _health_checked_revision(world: World, monkeypatch, health: str) -> None:
    """The service runs a revision whose web container has a health check, and every task ECS starts from now on
    reports ``health`` (moto keeps whatever a task record holds; DescribeTasks returns it as healthStatus)."""
    arn = world.register("c7d8e9f")
    definition = world.backend.task_definitions[_family_of(arn)][int(arn.rsplit(":", 1)[1])]
    definition.container_definitions[0]["healthCheck"] = {"command": ["CMD-SHELL", "curl -f localhost/ || exit 1"],
                                                          "interval": 10, "timeout": 5, "retries": 3}
    world.service_record.task_definition = arn
    started = world.start_tasks

    def start_tasks(task_definition, build_hash, count, **kwargs):
        arns = started(task_definition, build_hash, count, **kwargs)
        for task_arn in arns:
            world.backend.tasks[CLUSTER][task_arn].health_status = health
        return arns
    monkeypatch.setattr(world, "start_tasks", start_tasks)


def test_running_but_unhealthy_tasks_do_not_end_the_first_deploy_wait(world, monkeypatch):
    """ECS says the rollout COMPLETED with 2/2 tasks RUNNING, but DescribeTasks reports them UNHEALTHY: the wait goes
    on until the timeout and fails, scaling back to 0."""
    scheduler = FakeScheduler(world, monkeypatch, "healthy")
    _health_checked_revision(world, monkeypatch, "UNHEALTHY")
    clock = SimulatedClock(scheduler)
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline(world.codepipeline, world.ecs, props(world, rolloutTimeoutSeconds=120), clock=clock,
                     ecr=world.ecr, logs=world.logs)
    message = str(failure.value)
    assert "no steady state within 120 s (rollout COMPLETED, running 2/2, healthy 0/2 (unhealthy: " in message
    assert clock.now() >= 120
    service = world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]
    assert service["desiredCount"] == 0 and deployed_tags(world) == {c: False for c in world.containers}


def test_healthy_tasks_end_the_wait(world, monkeypatch):
    scheduler = FakeScheduler(world, monkeypatch, "healthy")
    _health_checked_revision(world, monkeypatch, "HEALTHY")
    clock = SimulatedClock(scheduler)
    outcome = run_pipeline(world.codepipeline, world.ecs, props(world), clock=clock, ecr=world.ecr, logs=world.logs)
    assert outcome.scaled_to == 2 and clock.now() < 60
    tasks = world.ecs.describe_tasks(cluster=CLUSTER, tasks=[t.task_arn for t in world.running_tasks()])["tasks"]
    assert {t["healthStatus"] for t in tasks} == {"HEALTHY"}       # what the wait read, through moto's API
