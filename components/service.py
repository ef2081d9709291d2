"""ECS on Fargate: the stack's cluster and Cloud Map namespace, and one service per API.

The task definition holds all of the API's containers (they share localhost, as in the seed); its
JSON comes from the pure ``components.task_plan`` module.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.compose.model import App
from components.docker_hub import uses_docker_hub
from components.errors import LoadWarning
from components.one_writer import ROLLING, STOP_BEFORE_START
from components.providers.stack_count import StackCount
from components.settings.storage import env_name
from components.storage import dynamodb_statements
from components.task_plan import TaskPlan, efs_volumes, plan_task

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


def cluster_name(stack: str) -> str:
    return f"serverless-containers-{stack}"


def task_family(stack: str, api: str) -> str:
    return f"serverless-containers-{stack}-{api}"


def capacity_provider(fargate_spot: bool) -> str:
    return "FARGATE_SPOT" if fargate_spot else "FARGATE"


def log_group_name(stack: str, api: str, container: str) -> str:
    return f"/serverless-containers/{stack}/{api}/{container}"


def namespace_name(stack: str) -> str:
    return f"{stack}.serverless-containers.internal"


def assume_role_policy(account_id: str, region: str | None = None) -> str:
    """ECS tasks of this account only and, with ``region``, ECS resources of this account and region
    (``aws:SourceArn``; the confused-deputy guard the ECS task IAM role documentation shows)."""
    condition: dict = {"StringEquals": {"aws:SourceAccount": account_id}}
    if region:
        condition["ArnLike"] = {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ECS_TASKS_PRINCIPAL}, "Action": "sts:AssumeRole",
        "Condition": condition}]})


def execution_role_policy(repository_arns: list[str], log_group_arns: list[str], secret_arns: list[str],
                          docker_hub_credentials_arn: str | None = None) -> dict:
    """What ECS needs to start the task: pull its own images, write its own logs, read its own secrets,
    and read the Docker Hub credentials when a container's image is on Docker Hub."""
    statements: list[dict] = [{
        # GetAuthorizationToken has no resource-level permissions: it only ever accepts "*".
        "Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}]
    if repository_arns:
        statements.append({"Sid": "PullOwnImages", "Effect": "Allow",
                           "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                      "ecr:GetDownloadUrlForLayer"],
                           "Resource": sorted(repository_arns)})
    statements.append({"Sid": "WriteOwnLogs", "Effect": "Allow",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": sorted(f"{arn}:log-stream:*" for arn in log_group_arns)})
    if secret_arns:
        statements.append({"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": sorted(secret_arns)})
    if docker_hub_credentials_arn:
        # An AWS-managed-key secret needs no kms:Decrypt grant (docs/design.md asks for that key).
        statements.append({"Sid": "ReadDockerHubCredentials", "Effect": "Allow",
                           "Action": ["secretsmanager:GetSecretValue"], "Resource": [docker_hub_credentials_arn]})
    return {"Version": "2012-10-17", "Statement": statements}


def task_role_policy(grants: list[tuple[str, tuple[str, ...]]]) -> dict:
    """What the app's own code may do: the granted DynamoDB operations, nothing else."""
    return {"Version": "2012-10-17", "Statement": dynamodb_statements(grants)}


@dataclass(frozen=True)
class EfsVolume:
    """A persistent named volume: an access point of the stack's EFS file system (components.filesystem)."""

    file_system_id: pulumi.Input[str]
    file_system_arn: pulumi.Input[str]
    access_point_id: pulumi.Input[str]
    access_point_arn: pulumi.Input[str]
    uid: int = 0
    gid: int = 0
    """The POSIX user the access point enforces (components.compose.volumes.volume_owner)."""

    @property
    def root_owned(self) -> bool:
        """EFS squashes uid 0 and gid 0 to nobody (65534) unless the client may ClientRootAccess."""
        return self.uid == 0 or self.gid == 0


def volume_mount_policy(file_system_arn: str, access_points: list[str], writable: list[str],
                        root: list[str] | None = None) -> dict:
    """The task may mount the stack's file system only through its own access points (IAM authorization),
    write only through those some container mounts read-write, and act as root only through ``root``: the access
    points that enforce uid or gid 0. Without ClientRootAccess EFS squashes root to nobody, and a directory created
    0:0 with mode 0755 cannot be written (EFS User Guide, "Enforcing a user identity using an access point")."""
    statements = [{"Sid": "MountOwnVolumes", "Effect": "Allow", "Action": ["elasticfilesystem:ClientMount"],
                   "Resource": file_system_arn,
                   "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": sorted(access_points)}}}]
    if writable:
        statements.append({"Sid": "WriteOwnVolumes", "Effect": "Allow", "Action": ["elasticfilesystem:ClientWrite"],
                           "Resource": file_system_arn,
                           "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": sorted(writable)}}})
    if root:
        statements.append({"Sid": "RootOnOwnRootVolumes", "Effect": "Allow",
                           "Action": ["elasticfilesystem:ClientRootAccess"], "Resource": file_system_arn,
                           "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": sorted(root)}}})
    return {"Version": "2012-10-17", "Statement": statements}


def task_volume_config(name: str, volume: EfsVolume | None) -> dict:
    """One entry of the task definition's volumes: task-scoped, or EFS through an access point with TLS and IAM."""
    if volume is None:
        return {"name": name}
    return {"name": name, "efs_volume_configuration": {
        "file_system_id": volume.file_system_id, "transit_encryption": "ENABLED",
        "authorization_config": {"access_point_id": volume.access_point_id, "iam": "ENABLED"}}}


@dataclass
class ClusterArgs:
    stack: str
    vpc_id: pulumi.Input[str]
    fargate_spot: bool = False
    """True: services run on Fargate Spot (about 70 % cheaper; AWS may stop a task with 2 minutes' notice)."""
    container_insights: bool = False
    """Off: Container Insights bills custom metrics per task even when nobody looks at them."""
    tags: dict[str, str] = field(default_factory=dict)


class Cluster(pulumi.ComponentResource):
    """One ECS cluster and one private Cloud Map namespace per stack (neither costs anything idle)."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    namespace_id: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:service:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster", name=cluster_name(args.stack),
            settings=[{"name": "containerInsights", "value": "enabled" if args.container_insights else "disabled"}],
            tags=args.tags, opts=child)
        provider = capacity_provider(args.fargate_spot)
        providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity", cluster_name=cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[{"capacity_provider": provider, "weight": 1}], opts=child)
        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace", name=namespace_name(args.stack), vpc=args.vpc_id,
            description=f"service discovery for the APIs of stack {args.stack}", tags=args.tags, opts=child)
        # Taken from the capacity-provider association so services wait until Fargate Spot is attached.
        self.cluster_name = providers.cluster_name
        self.cluster_arn = cluster.arn
        self.namespace_id = namespace.id
        self.register_outputs({"clusterName": self.cluster_name, "namespaceId": self.namespace_id})


@dataclass
class TableGrant:
    table: str
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    operations: tuple[str, ...]


@dataclass
class ServiceArgs:
    stack: str
    api: str
    app: App
    region: str
    account_id: str
    cluster_name: pulumi.Input[str]
    namespace_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    images: dict[str, pulumi.Input[str]]
    """Container -> image URI, for every container (built ones from ImageRepositories, `image:` ones as written)."""
    desired_count: pulumi.Input[int]
    """Running tasks; 0 until a built image exists (ImageRepositories.ready), then the app's replicas."""
    repository_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """ECR repositories the execution role may pull from: this API's own."""
    secret_arns: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Compose secret name -> Secrets Manager ARN, handed to the containers that list the secret."""
    storage: list[TableGrant] = field(default_factory=list)
    """Tables this API may use; each container gets STORAGE_<NAME>_NAME/_ARN and REGION."""
    cpu_architecture: str = "X86_64"
    """X86_64 | ARM64 (Graviton, about 20 % cheaper; images must be built for arm64)."""
    fargate_spot: bool = False
    log_retention_days: int = 7
    health_check_grace_period_seconds: int = 60
    """Used only when a container has a healthcheck: failures in this time after start do not count."""
    docker_hub_credentials_arn: str | None = None
    """Secrets Manager secret {"username", "password"}; None: Docker Hub images are pulled anonymously (and
    may be throttled). Used only by containers whose image is on Docker Hub."""
    wait_for_steady_state: bool = True
    """`pulumi up` waits until ECS reports the rollout steady (the AWS provider's wait), so a broken rollout fails
    the update (the circuit breaker rolls the service back to the previous task definition). The first deploy's
    scale-up is awaited by PipelineRun, which also requires healthy tasks (providers/service_rollout.ready_tasks)."""
    deploy_timeout_minutes: int = 30
    """How long `pulumi up` waits for the service's rollout (create/update) before it fails."""
    after: list[pulumi.Resource] = field(default_factory=list)
    """Ordering only: what the service must wait for besides its own inputs. The network's internet route and
    route-table associations (Network.internet_path), so that a task with a ready image can pull it on the first
    deploy (IAM and routes are eventually consistent; an input-less dependency is invisible to the engine)."""
    efs_volumes: dict[str, EfsVolume] = field(default_factory=dict)
    """Compose volume -> its EFS access point, for every persistent named volume the app mounts (the others are
    task-scoped). The task role may mount exactly these."""
    task: TaskPlan | None = None
    """The app's task, checked once by the program (components.task_plan.plan_task); its warnings become the
    Service's. None: the Service plans (and checks) the task itself."""
    one_writer: bool = False
    """True when the task holds a database volume (components/one_writer.py): deploys stop the old task before
    the new one starts (minimumHealthyPercent 0, maximumPercent 100) and the tasks run on on-demand FARGATE."""
    count_managed: bool = False
    """True when Application Auto Scaling sets the desired count (components/scaling.py: autoscaling or sleep):
    Pulumi then sets desired_count only when it creates the service and ignores it afterwards."""
    tags: dict[str, str] = field(default_factory=dict)


class Service(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    cloud_map_service_arn: pulumi.Output[str]
    log_group_names: dict[str, pulumi.Output[str]]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    warnings: list[LoadWarning]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:service:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        app = args.app

        task = args.task or plan_task(app, stack_environment={"REGION": args.region} if args.storage else {})
        self.warnings = list(task.warnings)
        on_efs = efs_volumes(app)
        missing = sorted(set(on_efs.values()) - set(args.efs_volumes))
        if missing:
            raise ValueError(f"ServiceArgs.efs_volumes lacks the persistent volumes {', '.join(missing)}")

        log_groups = {
            container.name: aws.cloudwatch.LogGroup(
                f"{name}-{container.name}", name=log_group_name(args.stack, args.api, container.name),
                retention_in_days=args.log_retention_days, tags=args.tags, opts=child)
            for container in app.containers}
        self.log_group_names = {c: group.name for c, group in log_groups.items()}

        execution_role = aws.iam.Role(
            f"{name}-execution", description=f"ECS starts {args.api} tasks of stack {args.stack} with it",
            assume_role_policy=assume_role_policy(args.account_id, args.region), tags=args.tags, opts=child)
        # The task definition and the service wait for these inline policies, not only for the roles: a role
        # whose policy is not attached yet cannot pull images, write logs or read secrets (IAM is eventually
        # consistent, and nothing else orders the policy before the first task).
        policies = [aws.iam.RolePolicy(
            f"{name}-execution", role=execution_role.id,
            policy=pulumi.Output.all(
                list(args.repository_arns), [g.arn for g in log_groups.values()], list(args.secret_arns.values()),
                dict(args.images),
            ).apply(lambda parts: json.dumps(execution_role_policy(
                parts[0], parts[1], parts[2],
                args.docker_hub_credentials_arn if uses_docker_hub(parts[3]) else None))),
            opts=child)]
        task_role = aws.iam.Role(
            f"{name}-task", description=f"the code of {args.api} (stack {args.stack}) runs with it",
            assume_role_policy=assume_role_policy(args.account_id, args.region), tags=args.tags, opts=child)
        if args.storage:
            policies.append(aws.iam.RolePolicy(
                f"{name}-storage", role=task_role.id,
                policy=pulumi.Output.all(*[g.arn for g in args.storage]).apply(
                    lambda arns: json.dumps(task_role_policy(
                        [(arn, grant.operations) for arn, grant in zip(arns, args.storage)]))),
                opts=child))

        if args.efs_volumes:
            volumes = list(args.efs_volumes.items())
            writable = {m.volume for c in app.containers for m in c.mounts if not m.read_only}
            policies.append(aws.iam.RolePolicy(
                f"{name}-volumes", role=task_role.id,
                policy=pulumi.Output.all(volumes[0][1].file_system_arn, *[v.access_point_arn for _, v in volumes]).apply(
                    lambda arns: json.dumps(volume_mount_policy(
                        arns[0], list(arns[1:]),
                        [arn for (volume, _), arn in zip(volumes, arns[1:]) if volume in writable],
                        [arn for (_, spec), arn in zip(volumes, arns[1:]) if spec.root_owned]))),
                opts=child))

        environment: dict[str, pulumi.Input[str]] = {}
        if args.storage:
            environment["REGION"] = args.region
            for grant in args.storage:
                environment[f"STORAGE_{env_name(grant.table)}_NAME"] = grant.name
                environment[f"STORAGE_{env_name(grant.table)}_ARN"] = grant.arn

        definitions = pulumi.Output.all(
            images=dict(args.images), log_groups=self.log_group_names, secrets=dict(args.secret_arns),
            environment=environment,
        ).apply(lambda resolved: json.dumps(task.container_definitions(
            images=resolved["images"], log_groups=resolved["log_groups"], region=args.region,
            secret_arns=resolved["secrets"], extra_environment=resolved["environment"],
            docker_hub_credentials=args.docker_hub_credentials_arn)))
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task", family=task_family(args.stack, args.api), cpu=str(task.cpu), memory=str(task.memory),
            network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": args.cpu_architecture},
            execution_role_arn=execution_role.arn, task_role_arn=task_role.arn,
            container_definitions=definitions,
            volumes=[task_volume_config(volume, args.efs_volumes.get(on_efs.get(volume, "")))
                     for volume in task.volumes],
            tags=args.tags, opts=pulumi.ResourceOptions(parent=self, depends_on=list(policies)))

        registry = aws.servicediscovery.Service(
            f"{name}-discovery", name=args.api,
            description=f"tasks of {args.api}: SRV records with each task's IP and port {app.routed_port}",
            dns_config={"namespace_id": args.namespace_id, "routing_policy": "MULTIVALUE",
                        "dns_records": [{"type": "SRV", "ttl": 10}]},
            # ECS reports each task's container health to Cloud Map; unhealthy tasks get no traffic.
            # failure_threshold is deprecated (AWS always uses 1) but an empty block may be dropped
            # on the way to the provider, which would leave custom health checks off.
            health_check_custom_config={"failure_threshold": 1},
            # ECS may leave instances registered for a moment after the service is gone.
            force_destroy=True, tags=args.tags, opts=child)

        has_healthcheck = any(c.healthcheck is not None for c in app.containers)
        timeout = f"{args.deploy_timeout_minutes}m"
        # One writer per database volume: the old task is gone before the new one starts, never on Spot.
        minimum_healthy, maximum = STOP_BEFORE_START if args.one_writer else ROLLING
        on_spot = args.fargate_spot and not args.one_writer
        service = aws.ecs.Service(
            f"{name}-service", name=args.api, cluster=args.cluster_name, task_definition=task_definition.arn,
            desired_count=args.desired_count,
            deployment_minimum_healthy_percent=minimum_healthy, deployment_maximum_percent=maximum,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            health_check_grace_period_seconds=args.health_check_grace_period_seconds if has_healthcheck else None,
            network_configuration={"subnets": list(args.subnet_ids), "security_groups": [args.security_group_id],
                                   "assign_public_ip": True},
            service_registries={"registry_arn": registry.arn, "container_name": app.entrypoint,
                                "container_port": app.routed_port},
            propagate_tags="SERVICE", enable_ecs_managed_tags=True, enable_execute_command=False,
            wait_for_steady_state=args.wait_for_steady_state, tags=args.tags,
            # Always a capacity-provider strategy (the cluster has both providers), never launch_type: launch_type
            # forces a new service, and a replaced service (its name is unique in the cluster) means the API is
            # down until new tasks are healthy. Switching between FARGATE and FARGATE_SPOT is then an in-place
            # update; the AWS provider requires force_new_deployment for a strategy change (ECS applies a new
            # strategy only with a new deployment). Consequence: every update of this service rolls its tasks.
            capacity_provider_strategies=[{"capacity_provider": capacity_provider(on_spot), "weight": 1}],
            force_new_deployment=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*policies, *args.after],
                                        custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
                                        ignore_changes=["desiredCount"] if args.count_managed else None))

        if not args.count_managed:
            # The stack owns the count: when it takes it back from Application Auto Scaling (`sleep` or `scaling`
            # removed), the service's state may already hold the count, so only this sets it (providers/stack_count.py).
            StackCount(f"{name}-count", cluster=args.cluster_name, service=service.name, count=args.desired_count,
                       region=args.region, opts=pulumi.ResourceOptions(parent=self, depends_on=[service]))

        self.service_name = service.name
        self.service_arn = service.arn
        self.task_definition_arn = task_definition.arn
        self.cloud_map_service_arn = registry.arn
        self.execution_role_arn = execution_role.arn
        self.task_role_arn = task_role.arn
        self.register_outputs({"serviceName": service.name, "taskDefinitionArn": task_definition.arn,
                               "cloudMapServiceArn": registry.arn})
