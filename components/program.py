"""The Pulumi program: stack config + apps in, the whole stack out. The one place that wires the components.

It reads as a table of contents: ``main`` loads and checks everything (``load_settings``, then ``prepare``:
each API's compose model and its task plan), and only then ``deploy`` creates the shared resources
(Network -> Auth -> Storage -> Cluster) and, per API, its security groups -> Secrets -> ImageRepositories ->
Service -> Api -> BuildPipeline (docs/design.md). Everything a user can get wrong is checked before the first
resource is registered, so a bad config never leaves a half-made update.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime import config as runtime_config

from components.alerts import AlertedApi, Alerts, AlertsArgs
from components.api import Api, ApiArgs
from components.auth import Auth, AuthArgs
from components.compose import load_app
from components.compose.model import App
from components.config_secrets import provided_hint
from components.compose.volumes import database_volumes, persistent_volumes, volume_owner
from components.config import NAMESPACE, TOP_LEVEL_KEYS, ApiSettings, StackSettings, check_name_lengths, load_settings
from components.domain import CustomDomain, CustomDomainArgs, resolve_zones
from components.errors import ConfigError, group_warnings
from components.regions import check_region
from components.filesystem import (ApiVolumes, ApiVolumesArgs, FileSystem, FileSystemArgs, VolumeSpec,
                                   one_subnet_per_zone)
from components.network import ApiSecurityGroups, ApiSecurityGroupsArgs, Network, NetworkArgs
from components.pipeline import BuildPipeline, BuildPipelineArgs
from components.pipeline.buildspec import image_builds
from components.registry import ImageRepositories, ImageRepositoriesArgs
from components.scaling import ApiScaling, ApiScalingArgs, describe as describe_scaling
from components.scaling_config import CountPlan, count_plan
from components.secrets import Secrets, SecretsArgs, secret_physical_name
from components.service import Cluster, ClusterArgs, EfsVolume, Service, ServiceArgs, TableGrant
from components.storage import Storage, StorageArgs, storage_environment, table_physical_name
from components.task_plan import TaskPlan, plan_task

PROJECT_DIR = Path(__file__).resolve().parent.parent


class StackConfigError(ConfigError, pulumi.RunError):
    """A ConfigError that Pulumi's Python host prints as one message, without a traceback."""


def read_raw_config(project: str = NAMESPACE) -> dict[str, Any]:
    """Every `serverless-containers:*` value, parsed: structured values arrive as JSON, simple ones as text."""
    config = pulumi.Config(project)
    prefix = f"{project}:"
    keys = {k[len(prefix):] for k in (*runtime_config.CONFIG.get(), *runtime_config.get_config_env())
            if k.startswith(prefix)}
    keys |= {k for k in TOP_LEVEL_KEYS if config.get(k) is not None}
    raw: dict[str, Any] = {}
    for key in sorted(keys):
        if key == "githubToken":
            raw[key] = config.get_secret(key)     # stays a secret Output; only its presence is checked
            continue
        if key == "secretValues":
            raw[key] = _secret_leaves(config.get(key))
            continue
        text = config.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text)
        except ValueError:
            raw[key] = text
    return raw


def _secret_leaves(text: str | None) -> Any:
    """`secretValues` ({API: {SECRET: value}}) with every value a secret Output: only the shape is checked."""
    try:
        document = json.loads(text) if text is not None else None
    except ValueError:
        return text
    if not isinstance(document, dict):
        return document
    return {api: {name: pulumi.Output.secret(value) if isinstance(value, str) and value else value
                  for name, value in secrets.items()} if isinstance(secrets, dict) else secrets
            for api, secrets in document.items()}


@dataclass
class PreparedApi:
    """One API, loaded and checked: its settings, its compose model and its task plan."""

    settings: ApiSettings
    app: App
    task: TaskPlan
    count: CountPlan
    """How many tasks it runs and who changes that count (components/scaling_config.py)."""


def prepare(settings: StackSettings, region: str | None = None) -> list[PreparedApi]:
    """Load every API's app and check what the components would otherwise refuse halfway.

    region: the deploy's region when known (it only decides whether a compose REGION value is replaced)."""
    prepared = []
    for api in settings.apis.values():
        app = _load_app(settings, api)
        # names that only the app decides (ECR repositories, log groups, secrets) must fit AWS's limits too
        check_name_lengths(settings.config_file, settings.stack, [api.name], list(settings.storage),
                           containers=tuple(c.name for c in app.containers), secrets=tuple(app.secrets))
        count = count_plan(api.replicas, api.scaling, api.sleep, api.awake, app.replicas)
        _check_volumes(settings, api, app, count)
        _check_routed_port(app)
        _check_manual_images(settings, api, app)
        if api.build != "manual":
            image_builds(app)   # ConfigError for a build context the pipeline cannot see (outside `source`)
        task = plan_task(app, stack_environment=storage_environment(
            {t: (table_physical_name(settings.stack, t), None) for t in api.storage_access}, region))
        prepared.append(PreparedApi(settings=api, app=app, task=task, count=count))
    return prepared


def _load_app(settings: StackSettings, api: ApiSettings) -> App:
    provided = settings.stack_secrets.get(api.name, {})
    try:
        app = load_app(api.source_dir, list(api.compose_files), api.entrypoint,
                       stack_secrets={name: secret.config_key for name, secret in provided.items()},
                       secret_hint=lambda secret: provided_hint(settings.stack, api.name, secret),
                       ephemeral_volumes=api.ephemeral_volumes, port=api.port)
    except ConfigError as error:
        if error.key != "entrypoint":
            raise
        # The entrypoint is set in the stack config, so point there (and still name the compose file).
        raise ConfigError(f"{error.problem} (compose: {error.file})", file=settings.config_file,
                          key=f"{NAMESPACE}:apis.{api.name}.entrypoint", fix=error.fix) from None
    for name, secret in provided.items():
        if name not in app.secrets:
            raise ConfigError(f"the stack provides secret {name!r}, which no deployed service of API {api.name} uses.",
                              file=settings.config_file, key=f"{NAMESPACE}:{secret.config_key}",
                              fix=f"use a secret the services list ({', '.join(app.secrets) or 'none'}), or remove "
                                  "the key.")
    return app


def _check_volumes(settings: StackSettings, api: ApiSettings, app: App, count: CountPlan) -> None:
    """`apis.NAME.volumes` names only the app's volumes; a database's volume never gets two writers."""
    mounted = {m.volume for c in app.containers for m in c.mounts}
    for volume in api.volumes:
        if volume not in mounted:
            raise ConfigError(f"volumes names {volume!r}, which no service of the app mounts.",
                              file=settings.config_file, key=f"{NAMESPACE}:apis.{api.name}.volumes.{volume}",
                              fix=f"use one of: {', '.join(sorted(mounted))}." if mounted else
                                  "remove it: the app mounts no named volume.")
    stack_key = "scaling.max" if api.scaling is not None else "replicas" if api.replicas is not None else None
    if stack_key:
        check_database_replicas(app, count.max, f"{NAMESPACE}:apis.{api.name}.{stack_key}", settings.config_file)
    else:
        check_database_replicas(app, count.max, "deploy.replicas")


def check_database_replicas(app: App, tasks: int, key: str, config_file: str | None = None) -> None:
    """More than one task on a database's persistent volume is a ConfigError: two database processes on one
    data directory corrupt it. ``tasks``: the most tasks the API may run (replicas, or autoscaling's maximum);
    ``key`` names where that number comes from (a compose key, or a stack key with ``config_file``)."""
    if tasks <= 1:
        return
    databases = database_volumes(app)
    if not databases:
        return
    volume, why = next(iter(databases.items()))
    service = next(c.name for c in app.containers if any(m.volume == volume for m in c.mounts))
    raise ConfigError(f"the API may run {tasks} tasks, but the volume {volume!r} holds a database ({why}); it is kept "
                      f"on EFS, so {tasks} database processes would share one data directory and corrupt it.",
                      file=config_file or _app_file(app), service=None if config_file else service,
                      key=key,
                      fix=f"run 1 task ({key}: 1), move the database to its own API with 1 task, or mark the "
                          f"volume ephemeral (apis.<api>.volumes: {{{volume}: ephemeral}}) if its data may be lost.")


def _app_file(app: App) -> str:
    """Where a problem with the app itself is reported: its first compose file, else its source folder."""
    return str(app.compose_files[0]) if app.compose_files else str(app.source_dir)


def _check_routed_port(app: App) -> None:
    routed = [p for p in app.container(app.entrypoint).ports if p.container_port == app.routed_port]
    if not routed or routed[0].protocol != "tcp":
        raise ConfigError(f"API Gateway reaches the entrypoint over TCP, but port {app.routed_port} of "
                          f"{app.entrypoint!r} is not published as TCP.",
                          file=_app_file(app), service=app.entrypoint, key="ports",
                          fix=f"publish a TCP port first, e.g. \"{app.routed_port}:{app.routed_port}\".")


def _check_manual_images(settings: StackSettings, api: ApiSettings, app: App) -> None:
    for container in api.images:
        if not any(c.name == container for c in app.containers):
            raise ConfigError(f"images names container {container!r}, which the app does not have.",
                              file=settings.config_file, key=f"{NAMESPACE}:apis.{api.name}.images.{container}",
                              fix=f"use one of: {', '.join(c.name for c in app.containers)}.")


def main() -> None:
    try:
        settings = load_settings(read_raw_config(), PROJECT_DIR, pulumi.get_stack())
        region = pulumi.Config("aws").get("region")
        if region is not None:
            check_region(region, settings.config_file)
        prepared = prepare(settings, region)
    except ConfigError as error:
        raise StackConfigError(error.problem, file=error.file, service=error.service, key=error.key,
                               fix=error.fix) from None
    deploy(settings, prepared)


@dataclass
class SharedResources:
    """What every API of the stack uses: created once per stack."""

    region: str
    account_id: str
    tags: dict[str, str]
    network: Network
    auth: Auth | None
    storage: Storage
    cluster: Cluster
    alerted: list[AlertedApi] = field(default_factory=list)
    """Filled by create_api; the stack's Alerts watch these APIs (components/alerts.py)."""
    file_system: FileSystem | None = None
    """The stack's EFS file system; only when some API has a persistent named volume."""
    deployer_arn: str | None = None


def deploy(settings: StackSettings, prepared: list[PreparedApi]) -> None:
    for item in prepared:
        for line in group_warnings(item.app.warnings):
            pulumi.log.warn(f"API {item.settings.name}: {line}")
    region = aws.get_region().region
    zones = _resolve_zones(settings, region)     # before the first resource: a bad certificate region stops here
    for warning in self_sign_up_warnings(settings) + sample_secret_warnings(prepared):
        pulumi.log.warn(warning)
    shared = create_shared_resources(settings, region,
                                     needs_file_system=any(persistent_volumes(i.app) for i in prepared))
    outputs = {item.settings.name: create_api(settings, shared, item, zones.get(item.settings.name))
               for item in prepared}
    if settings.alerts:
        Alerts("alerts", AlertsArgs(stack=settings.stack, region=shared.region, account_id=shared.account_id,
                                    email=settings.alerts.email, apis=shared.alerted, tags=shared.tags))
    pulumi.export("apis", outputs)
    pulumi.export("userPoolId", shared.auth.user_pool_id if shared.auth else "")
    pulumi.export("userPoolClientId", shared.auth.client_id if shared.auth else "")
    pulumi.export("region", shared.region)


def _resolve_zones(settings: StackSettings, region: str) -> dict[str, str | None]:
    """Each custom domain's Route 53 zone in this account (None: elsewhere), components/domain.py."""
    if not any(api.domain for api in settings.apis.values()):
        return {}
    try:
        return resolve_zones(settings, region)
    except ConfigError as error:
        raise StackConfigError(error.problem, file=error.file, service=error.service, key=error.key,
                               fix=error.fix) from None


WRITE_OPERATIONS = ("create", "update", "delete")


SAMPLE_SECRETS_DIR = PROJECT_DIR / "apps" / "secrets"


def sample_secret_warnings(prepared: list[PreparedApi], samples_dir: Path = SAMPLE_SECRETS_DIR) -> list[str]:
    """A secret whose value is one of the committed samples' is known to everyone with the repository."""
    samples = {}
    for path in sorted(samples_dir.glob(".secret-*")) if samples_dir.is_dir() else []:
        samples.setdefault(path.read_text(errors="replace").strip(), path)
    found = []
    for item in prepared:
        for secret in item.app.secrets.values():
            sample = samples.get(secret.value.strip()) if secret.value else None
            if sample is not None:
                found.append(f"API {item.settings.name}: secret {secret.name} has the value of the committed sample "
                             f"{sample.relative_to(samples_dir.parent.parent)}, which anyone with this repository "
                             f"knows. Put a real value in {secret.file or secret.stack_config} before a real deploy.")
    return found


def self_sign_up_warnings(settings: StackSettings) -> list[str]:
    """With `userPool.selfSignUp: true` anyone can make an account; say which APIs that lets them write with."""
    if not settings.security.user_pool.self_sign_up:
        return []
    found = []
    for api in settings.apis.values():
        writes = sorted(table for table, ops in api.storage_access.items() if set(ops) & set(WRITE_OPERATIONS))
        if api.auth and writes:
            found.append(f"API {api.name}: userPool.selfSignUp is true, so anyone who signs up can write to "
                         f"table(s) {', '.join(writes)} through it (the app client id is public). Set "
                         f"userPool.selfSignUp: false in {settings.config_file} and create users as an "
                         f"administrator, or check every write in the app.")
    return found


def create_shared_resources(settings: StackSettings, region: str,
                            needs_file_system: bool = False) -> SharedResources:
    stack = settings.stack
    caller = aws.get_caller_identity()
    account_id = caller.account_id
    # The IAM principal behind this `pulumi up` (an assumed role's role ARN, path included): the only one
    # that may write source zips into the pipelines' buckets (components/pipeline/access.py).
    deployer_arn = aws.iam.get_session_context(arn=caller.arn).issuer_arn
    tags = {"project": NAMESPACE, "stack": stack}
    network = Network("network", NetworkArgs(
        stack=stack, high_availability=settings.high_availability, existing_vpc=settings.existing_vpc,
        config_file=settings.config_file, region=region, account_id=account_id,
        flow_logs=settings.security.vpc_flow_logs, log_retention_days=settings.log_retention_days, tags=tags))
    pool = settings.security.user_pool
    auth = Auth("auth", AuthArgs(stack=stack, region=region, deletion_protection=pool.deletion_protection,
                                 self_sign_up=pool.self_sign_up, mfa=pool.mfa, tags=tags)) \
        if settings.uses_auth else None
    storage = Storage("storage", StorageArgs(stack=stack, tables=settings.storage, tags=tags))
    cluster = Cluster("cluster", ClusterArgs(stack=stack, vpc_id=network.vpc_id,
                                             fargate_spot=settings.fargate_spot, tags=tags))
    file_system = FileSystem("volumes", FileSystemArgs(
        stack=stack, vpc_id=network.vpc_id, tags=tags,
        subnet_ids=one_subnet_per_zone(list(settings.existing_vpc.subnet_ids)) if settings.existing_vpc
        else network.subnet_ids)) if needs_file_system else None
    return SharedResources(region=region, account_id=account_id, tags=tags, network=network, auth=auth,
                           storage=storage, cluster=cluster, file_system=file_system, deployer_arn=deployer_arn)


def _api_volumes(shared: SharedResources, item: PreparedApi, task_security_group_id: pulumi.Input[str],
                 tags: dict[str, str]) -> dict[str, EfsVolume]:
    """The API's persistent named volumes as access points of the stack's file system (none: {})."""
    volumes = persistent_volumes(item.app)
    if not volumes or shared.file_system is None:
        return {}
    file_system, name = shared.file_system, item.settings.name
    access = ApiVolumes(f"{name}-volumes", ApiVolumesArgs(
        stack=shared.tags["stack"], api=name, file_system_id=file_system.file_system_id,
        nfs_security_group_id=file_system.security_group_id, task_security_group_id=task_security_group_id,
        volumes=[VolumeSpec(volume, *volume_owner(item.app, volume)) for volume in volumes], tags=tags))
    return {volume: EfsVolume(file_system_id=file_system.file_system_id, file_system_arn=file_system.file_system_arn,
                              access_point_id=access.access_point_ids[volume],
                              access_point_arn=access.access_point_arns[volume]) for volume in volumes}


def create_api(settings: StackSettings, shared: SharedResources, item: PreparedApi,
               zone_id: str | None = None) -> dict[str, Any]:
    """One API's resources, in order; returns its entry of the `apis` stack output."""
    api, app = item.settings, item.app
    stack, name, region = settings.stack, api.name, shared.region
    network, auth, storage, cluster = shared.network, shared.auth, shared.storage, shared.cluster
    tags = {**shared.tags, "api": name}
    firewall = ApiSecurityGroups(f"{name}-firewall", ApiSecurityGroupsArgs(
        stack=stack, api=name, vpc_id=network.vpc_id, routed_port=app.routed_port,
        egress=settings.security.task_egress, tags=tags))
    provided = settings.stack_secrets.get(name, {})
    secrets = Secrets(f"{name}-secrets", SecretsArgs(
        stack=stack, api=name, secrets=app.secrets, tags=tags,
        values={s: p.value for s, p in provided.items() if p.arn is None},
        existing_arns={s: p.arn for s, p in provided.items() if p.arn},
        recovery_window_in_days=settings.security.secret_recovery_window_days)) if app.secrets else None
    repositories = ImageRepositories(f"{name}-images", ImageRepositoriesArgs(
        stack=stack, api=name, app=app, build_mode=api.build, manual_images=dict(api.images), region=region,
        force_delete=settings.security.force_destroy, tags=tags))
    images = {c.name: repositories.images[c.name] if c.is_built else c.image for c in app.containers}
    count = item.count
    replicas = count.replicas
    if settings.high_availability and count.replicas < 2:
        pulumi.log.warn(f"API {name}: highAvailability spreads tasks over 3 AZs, but this API runs {count.replicas} "
                        f"task when awake, so one AZ failure takes it down. Set apis.{name}.replicas: 2 (or "
                        f"scaling.min: 2) in {settings.config_file}.")
    efs = _api_volumes(shared, item, firewall.task_security_group_id, tags)
    service = Service(name, ServiceArgs(
        stack=stack, api=name, app=app, task=item.task, region=region, account_id=shared.account_id,
        cluster_name=cluster.cluster_name, namespace_id=cluster.namespace_id,
        subnet_ids=network.subnet_ids, security_group_id=firewall.task_security_group_id,
        images=images,
        # No task until the first image exists: a task with a missing image would crash-loop.
        desired_count=repositories.ready.apply(lambda ready, count=replicas: count if ready else 0),
        repository_arns=list(repositories.repository_arns.values()),
        # only what a container reads: a build-only secret (compose build.secrets) stays with the build role
        secret_arns={s: arn for s, arn in secrets.secret_arns.items()
                     if any(s in c.secrets for c in app.containers)} if secrets else {},
        storage=[TableGrant(table=table, name=storage.table_names[table], arn=storage.table_arns[table],
                            operations=operations) for table, operations in api.storage_access.items()],
        cpu_architecture=settings.cpu_architecture, fargate_spot=settings.fargate_spot,
        log_retention_days=settings.log_retention_days,
        docker_hub_credentials_arn=settings.docker_hub_credentials, count_managed=count.managed,
        efs_volumes=efs, deploy_timeout_minutes=settings.deploy_timeout_minutes,
        after=list(network.internet_path), tags=tags))
    for line in group_warnings(service.warnings):
        pulumi.log.warn(f"API {name}: {line}")
    http_api = Api(f"{name}-api", ApiArgs(
        stack=stack, api=name, type=api.type, subnet_ids=network.subnet_ids,
        vpc_link_security_group_id=firewall.vpc_link_security_group_id,
        cloud_map_service_arn=service.cloud_map_service_arn, cors_origins=list(settings.cors_origins),
        jwt_issuer=auth.issuer if (auth and api.auth) else None,
        jwt_audience=[auth.client_id] if (auth and api.auth) else None,
        disable_execute_api_endpoint=api.disable_default_endpoint,
        log_retention_days=settings.log_retention_days, tags=tags))
    domain = CustomDomain(f"{name}-domain", CustomDomainArgs(
        stack=stack, api=name, type=api.type, domain=api.domain, api_id=http_api.api_id,
        stage=http_api.stage_name, region=region, zone_id=zone_id, tags=tags)) if api.domain else None

    # After the service, so the run `pulumi up` waits for deploys after this update's task definition,
    # never before it. Nothing for build: manual.
    pipeline = BuildPipeline(f"{name}-pipeline", BuildPipelineArgs(
        stack=stack, api=name, app=app, build_mode=api.build,
        repository_urls=dict(repositories.repository_urls), repository_arns=dict(repositories.repository_arns),
        cluster_name=cluster.cluster_name, service_name=service.service_name, region=region,
        account_id=shared.account_id, task_role_arns=[service.execution_role_arn, service.task_role_arn],
        architecture=settings.cpu_architecture, log_retention_days=settings.log_retention_days,
        replicas=replicas, images_ready=repositories.ready, github=api.github,
        github_token=settings.github_token, docker_hub_credentials_arn=settings.docker_hub_credentials,
        deploy_timeout_minutes=settings.deploy_timeout_minutes,
        repository_names=list(repositories.repository_names.values()),
        force_destroy=settings.security.force_destroy, approval=api.approval, deployer_arn=shared.deployer_arn,
        include_sensitive_files=api.include_sensitive_files,
        build_secret_ids={s: (provided[s].arn if s in provided and provided[s].arn else
                              secret_physical_name(stack, name, s)) for s in app.secrets},
        build_secret_arns=dict(secrets.secret_arns) if secrets else {},
        tags=tags))
    if count.managed:
        ApiScaling(f"{name}-scaling", ApiScalingArgs(
            stack=stack, api=name, plan=count, cluster_name=cluster.cluster_name, service_name=service.service_name,
            http_api_id=http_api.api_id, after=[pipeline.run] if pipeline.run is not None else [], tags=tags))
    shared.alerted.append(AlertedApi(
        api=name, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn, service_name=service.service_name,
        service_arn=service.service_arn, http_api_id=http_api.api_id,
        pipeline_name=pipeline.pipeline_name if api.build != "manual" else None, sleeps=count.sleep is not None))

    return {
        "url": domain.url if domain else http_api.url,
        "type": api.type,
        "auth": api.auth,
        "cluster": cluster.cluster_name,
        "service": service.service_name,
        "containers": [c.name for c in app.containers],
        "entrypoint": app.entrypoint,
        "replicas": replicas,
        "logGroups": service.log_group_names,
        "repositories": dict(repositories.repository_urls),
        "pipelineName": pipeline.pipeline_name,
        "pipelineUrl": pipeline.pipeline_url,
        "build": api.build,
        "scaling": describe_scaling(count),
        # Only for an API with a custom domain (docs/design.md, "Stack outputs").
        **({"domain": domain.outputs(http_api.url, api.disable_default_endpoint)} if domain else {}),
    }
