"""A deployed API inside moto, and a small ECS scheduler that moto lacks.

moto 5.2.5 keeps ECS services as records: it starts no tasks, and ``update_service`` leaves the
deployment list as it was. ``FakeScheduler`` adds what ECS does: a new PRIMARY deployment as soon
as the service is updated, and, each time the code under test sleeps (time passes), the rollout's
end: healthy, rolled back by the circuit breaker, "successful" on the wrong image, or stuck.
Tasks are made with moto's own ``run_task``/``stop_task``; only container details that moto
cannot express (several containers, image digests, exit codes) are set on its records.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws
from moto.codepipeline.models import codepipeline_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ecs.models import Container, ecs_backends
from moto.moto_api import state_manager

from tests.ops_fixtures import REGION, api_outputs, stack_outputs

STACK, API = "dev", "posts"
CLUSTER = f"serverless-containers-{STACK}"
FAMILY = f"serverless-containers-{STACK}-{API}"
PIPELINE = f"serverless-containers-{STACK}-{API}"
HASHES = ("a1b2c3d", "e4f5a6b", "c7d8e9f")     # oldest first; the last is deployed and tagged `deployed`


def repository(container: str) -> str:
    return f"serverless-containers-{STACK}-{API}-{container}"


def manifest(container: str, build_hash: str) -> str:
    layer = "sha256:" + hashlib.sha256(f"{container}/{build_hash}".encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                   "digest": "sha256:" + hashlib.sha256(build_hash.encode()).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": layer}],
    })


def patch_moto(monkeypatch) -> None:
    # Loading moto's catalogue of default AMIs costs about a second per test; no test here needs it.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # moto 5.2.5: awsvpc tasks read NetworkInterface.private_dns_name, which its ENIs do not have.
    monkeypatch.setattr(NetworkInterface, "private_dns_name",
                        property(lambda self: f"ip-{self.private_ip_address.replace('.', '-')}.internal"),
                        raising=False)
    # moto advances a task's state on every describe (RUNNING, then STOPPING...); ECS tasks stay running.
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})


@dataclass
class World:
    """The AWS side of stack `dev` with API `posts` (containers web and worker), as moto holds it."""

    containers: tuple[str, ...] = ("web", "worker")
    replicas: int = 2
    digests: dict[tuple[str, str], str] = field(default_factory=dict)    # (container, hash) -> digest
    network: dict = field(default_factory=dict)
    task_definition: str = ""

    def __post_init__(self):
        self.ecs = boto3.client("ecs", region_name=REGION)
        self.ecr = boto3.client("ecr", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        self.codepipeline = boto3.client("codepipeline", region_name=REGION)

    @property
    def backend(self):
        return ecs_backends[DEFAULT_ACCOUNT_ID][REGION]

    @property
    def service_record(self):
        return self.backend.services[f"{CLUSTER}:{API}"]

    def outputs(self, **kwargs) -> dict:
        return stack_outputs({API: api_outputs(API, containers=self.containers, replicas=self.replicas, **kwargs)})

    def deploy(self) -> "World":
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        self.network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}
        self.ecs.create_cluster(clusterName=CLUSTER)
        for container in self.containers:
            self.ecr.create_repository(repositoryName=repository(container))
            self.logs.create_log_group(logGroupName=f"/serverless-containers/{STACK}/{API}/{container}")
            for build_hash in HASHES:
                image = self.ecr.put_image(repositoryName=repository(container),
                                           imageManifest=manifest(container, build_hash), imageTag=build_hash)
                self.digests[(container, build_hash)] = image["image"]["imageId"]["imageDigest"]
            self.ecr.put_image(repositoryName=repository(container), imageManifest=manifest(container, HASHES[-1]),
                               imageTag="deployed")
        self.task_definition = self.register(HASHES[-1])
        self.ecs.create_service(cluster=CLUSTER, serviceName=API, taskDefinition=self.task_definition,
                                desiredCount=self.replicas, launchType="FARGATE", networkConfiguration=self.network)
        self.start_tasks(self.task_definition, HASHES[-1], self.replicas)
        self._create_pipeline()
        return self

    def _create_pipeline(self) -> None:
        iam = boto3.client("iam", region_name=REGION)
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "codepipeline.amazonaws.com"}}]}
        role = iam.create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        action = lambda name, category, provider, config: {  # noqa: E731
            "name": name, "actionTypeId": {"category": category, "owner": "AWS", "provider": provider,
                                           "version": "1"}, "configuration": config}
        self.codepipeline.create_pipeline(pipeline={
            "name": PIPELINE, "roleArn": role, "artifactStore": {"type": "S3", "location": "artifacts"},
            "stages": [
                {"name": "Source", "actions": [action("Source", "Source", "S3", {"S3Bucket": "src", "S3ObjectKey": "k"})]},
                {"name": "Build", "actions": [action("Build", "Build", "CodeBuild", {"ProjectName": PIPELINE})]},
            ]})

    def run_pipeline(self, status: str, summary: str | None = None) -> str:
        execution_id = self.codepipeline.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        record = codepipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[PIPELINE].executions[execution_id]
        record.status, record.status_summary = status, summary
        return execution_id

    def image_uri(self, container: str, build_hash: str) -> str:
        return f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{repository(container)}:{build_hash}"

    def register(self, build_hash: str) -> str:
        definitions = [{
            "name": container, "image": self.image_uri(container, build_hash), "memory": 256, "essential": True,
            "environment": [{"name": "TABLE", "value": "posts"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/serverless-containers/{STACK}/{API}/{container}",
                "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}},
        } for container in self.containers]
        return self.ecs.register_task_definition(
            family=FAMILY, containerDefinitions=definitions, networkMode="awsvpc", cpu="256", memory="1024",
            requiresCompatibilities=["FARGATE"], executionRoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/exec",
            taskRoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/task",
            tags=[{"key": "stack", "value": STACK}])["taskDefinition"]["taskDefinitionArn"]

    def start_tasks(self, task_definition: str, build_hash: str, count: int, *, exit_code=None, reason=None,
                    stopped_reason=None) -> list[str]:
        """Tasks of the service running ``task_definition`` whose containers pulled ``build_hash``."""
        if count == 0:
            return []
        tasks = self.ecs.run_task(cluster=CLUSTER, taskDefinition=task_definition, count=count, launchType="FARGATE",
                                  networkConfiguration=self.network, group=f"service:{API}",
                                  startedBy="ecs-svc/1")["tasks"]
        arns = [task["taskArn"] for task in tasks]
        definition = self.backend.describe_task_definition(task_definition)
        for arn in arns:
            record = self.backend.tasks[CLUSTER][arn]
            containers = []
            for spec in definition.container_definitions:
                container = Container(definition)
                container.name, container.image = spec["name"], spec["image"]
                container.image_digest = self.digests[(spec["name"], build_hash)]
                container.last_status = "RUNNING"
                if exit_code is not None and spec["name"] == self.containers[0]:
                    container.exitCode, container.reason = exit_code, reason
                    container.last_status = "STOPPED"
                containers.append(container)
            record.containers = containers
            if stopped_reason:
                self.ecs.stop_task(cluster=CLUSTER, task=arn, reason=stopped_reason)
                record.stop_code = "EssentialContainerExited"
        return arns

    def running_tasks(self) -> list:
        return [t for t in self.backend.tasks[CLUSTER].values() if t.desired_status == "RUNNING"]

    def stop_running_tasks(self, reason: str) -> None:
        for task in self.running_tasks():
            self.ecs.stop_task(cluster=CLUSTER, task=task.task_arn, reason=reason)
            task.stop_code = "ServiceSchedulerInitiated"
            for container in task.containers:
                container.last_status, container.exitCode = "STOPPED", 0


class FakeScheduler:
    """ECS's rollout, on top of moto. ``mode``: healthy | circuit-breaker | wrong-image | stuck | crash-loop.

    crash-loop is a first deploy of a broken image: raising the desired count starts tasks whose essential
    container exits 1 (after logging why), and the circuit breaker fails the deployment."""

    def __init__(self, world: World, monkeypatch, mode: str = "healthy"):
        self.world, self.mode = world, mode
        self.rollout: dict | None = None
        self.ticks = 0
        original = type(world.backend).update_service

        def update_service(backend, properties):
            before = world.service_record.task_definition
            service = original(backend, dict(properties))
            if properties.get("task_definition") and properties["task_definition"] != before:
                self._start(before, properties["task_definition"])
            elif properties.get("desired_count") is not None:
                self._scale(properties["desired_count"])
            return service

        monkeypatch.setattr(type(world.backend), "update_service", update_service)

    def _deployment(self, task_definition, status, state, running, desired, deployment_id=None):
        return {"id": deployment_id or f"ecs-svc/{abs(hash((task_definition, status, self.ticks))) % 10**12}",
                "status": status, "taskDefinition": task_definition, "desiredCount": desired,
                "runningCount": running, "pendingCount": desired - running, "failedTasks": 0,
                "rolloutState": state, "rolloutStateReason": f"ECS deployment {state.lower()}.",
                "launchType": "FARGATE"}

    def _start(self, old: str, new: str) -> None:
        service = self.world.service_record
        desired = service.desired_count
        ours = self._deployment(new, "PRIMARY", "IN_PROGRESS", 0, desired)
        previous = self._deployment(old, "ACTIVE", "COMPLETED", desired, desired)
        service.deployments = [ours, previous]
        service.running_count, service.pending_count = desired, desired
        self.rollout = {"old": old, "new": new, "id": ours["id"]}

    def _scale(self, desired: int) -> None:
        service = self.world.service_record
        if self.mode == "crash-loop" and desired > 0:
            primary = next(d for d in service.deployments if d.get("status", "PRIMARY") == "PRIMARY")
            primary.update(desiredCount=desired, runningCount=0, pendingCount=desired, rolloutState="IN_PROGRESS",
                           rolloutStateReason="ECS deployment in progress.")
            self.rollout = {"crash": desired}
            return
        for deployment in service.deployments:
            deployment.update(desiredCount=desired, runningCount=desired, pendingCount=0, rolloutState="COMPLETED")
        hash_now = self._hash_of(service.task_definition)
        if desired == 0:
            self.world.stop_running_tasks("Scaling activity initiated by (deployment ecs-svc/1)")
        else:
            missing = desired - len(self.world.running_tasks())
            if missing > 0:
                self.world.start_tasks(service.task_definition, hash_now, missing)

    def _crash(self) -> None:
        world, service = self.world, self.world.service_record
        arns = world.start_tasks(service.task_definition, self._hash_of(service.task_definition), 1, exit_code=1,
                                 reason="Essential container in task exited",
                                 stopped_reason="Essential container in task exited")
        container, task_id = world.containers[0], arns[0].rsplit("/", 1)[-1]
        group, stream = f"/serverless-containers/dev/{API}/{container}", f"ecs/{container}/{task_id}"
        world.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        world.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": int(time.time() * 1000) + i, "message": line} for i, line in enumerate(
                ("starting", "Error: Cannot find module 'express'"))])
        primary = next(d for d in service.deployments if d.get("status", "PRIMARY") == "PRIMARY")
        primary.update(runningCount=0, failedTasks=1, rolloutState="FAILED",
                       rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.")
        self.rollout = None

    def _hash_of(self, task_definition: str) -> str:
        definition = self.world.backend.describe_task_definition(task_definition)
        return definition.container_definitions[0]["image"].rsplit(":", 1)[-1]

    def tick(self, seconds: float) -> None:
        """Time passes: the rollout ends the way ``mode`` says."""
        self.ticks += 1
        if self.rollout is None or self.mode == "stuck":
            return
        if "crash" in self.rollout:
            self._crash()
            return
        world, service, rollout = self.world, self.world.service_record, self.rollout
        desired = service.desired_count
        if self.mode == "healthy":
            world.stop_running_tasks("Task stopped by a new deployment")
            world.start_tasks(rollout["new"], self._hash_of(rollout["new"]), desired)
            service.deployments = [self._deployment(rollout["new"], "PRIMARY", "COMPLETED", desired, desired,
                                                    rollout["id"])]
        elif self.mode == "circuit-breaker":
            # The new tasks crash; the breaker fails the deployment and puts the old revision back,
            # and the service settles, "steady", on the old images.
            world.start_tasks(rollout["new"], self._hash_of(rollout["new"]), 1, exit_code=1,
                              reason="Essential container in task exited",
                              stopped_reason="Essential container in task exited")
            service.deployments = [self._deployment(rollout["old"], "PRIMARY", "COMPLETED", desired, desired)]
            service.task_definition = rollout["old"]
            service.events = [{"id": "1", "message": f"(service {API}) rolling back to deployment "
                                                     f"{rollout['old'].rsplit('/', 1)[-1]}."}]
        elif self.mode == "wrong-image":
            # ECS reports the new revision as done, but the tasks still run the image they had.
            old_hash = self._hash_of(rollout["old"])
            for task in world.running_tasks():
                task.task_definition_arn = rollout["new"]
                for container in task.containers:
                    container.image = container.image.rsplit(":", 1)[0] + ":" + self._hash_of(rollout["new"])
                    container.image_digest = world.digests[(container.name, old_hash)]
            service.deployments = [self._deployment(rollout["new"], "PRIMARY", "COMPLETED", desired, desired,
                                                    rollout["id"])]
        self.rollout = None


def put_to_sleep(world: World, *, paused: bool = False):
    """The API fell asleep: 0 tasks and its scalable target 0..2, as components/scaling.py registers a sleeping
    API; ``paused`` also suspends scaling, as `ops pause` does. Returns the Application Auto Scaling client."""
    from components.providers.deploy_wake import DIMENSION, resource_id

    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    autoscaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id(CLUSTER, API), ScalableDimension=DIMENSION,
        MinCapacity=0, MaxCapacity=2,
        **({"SuspendedState": {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True,
                               "ScheduledScalingSuspended": True}} if paused else {}))
    assert world.running_tasks() == []
    return autoscaling


def record_requests(monkeypatch, clients: list[tuple[object, str]]) -> list[tuple[str, str, dict]]:
    """Every request the given (client, service name) pairs send from now on, as (service, operation, params), so
    a test can check them against botocore's models (tests/fidelity)."""
    sent: list[tuple[str, str, dict]] = []
    for client, service in clients:
        for operation, api_name in client.meta.method_to_api_mapping.items():
            if not hasattr(client, operation) or operation.startswith(("get_paginator", "get_waiter")):
                continue
            original = getattr(client, operation)

            def record(*args, _original=original, _service=service, _name=api_name, **params):
                sent.append((_service, _name, params))
                return _original(*args, **params)
            monkeypatch.setattr(client, operation, record)
    return sent


@pytest.fixture
def world(fake_credentials, monkeypatch):
    """A deployed API inside moto (import this fixture, with ``fake_credentials``, into a test module)."""
    with mock_aws():
        patch_moto(monkeypatch)
        yield World().deploy()
