"""The Pulumi program: stack config + apps in, the whole stack out. The one place that wires the components.

It reads as a table of contents: ``main`` loads and checks everything (``load_settings`` from components/settings/,
then ``prepare`` from components/prepare.py: each API's compose model and its task plan, with no Pulumi), and
only then ``deploy`` creates the shared resources
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
from components.auth import Auth, AuthArgs, TrustedUserPool
from components.compose.volumes import database_volumes, persistent_volumes, volume_owner
from components.domain import CustomDomain, CustomDomainArgs, resolve_zones
from components.errors import ConfigError, group_warnings
from components.filesystem import (ApiVolumes, ApiVolumesArgs, FileSystem, FileSystemArgs, VolumeSpec,
                                   one_subnet_per_zone)
from components.network import ApiSecurityGroups, ApiSecurityGroupsArgs, Network, NetworkArgs
from components.one_writer import deploy_note, spot_note, writer_plan
from components.pipeline.pipeline import BuildPipeline, BuildPipelineArgs
from components.prepare import (PreparedApi, check_existing_tables, high_availability_warnings, prepare,
                                replacement_warnings, sample_secret_files, self_sign_up_warnings)
from components.providers.volume_guard import VolumeGuard
from components.registry import ImageRepositories, ImageRepositoriesArgs
from components.scaling import ApiScaling, ApiScalingArgs, describe as describe_scaling
from components.secrets import Secrets, SecretsArgs, secret_physical_name
from components.service import Cluster, ClusterArgs, EfsVolume, Service, ServiceArgs, TableGrant
from components.settings import NAMESPACE, StackSettings, load_settings
from components.settings.regions import check_region
from components.settings.secrets import refuse_plain_text_secrets
from components.settings.stack import TOP_LEVEL_KEYS
from components.storage import Storage, StorageArgs
from components.waker import ApiWaker, ApiWakerArgs

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


def stack_file_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any] | None:
    """The ``config:`` map of ``stacks/Pulumi.<stack>.yaml`` as written (encrypted values stay ``{secure: ...}``),
    or None when there is none to read: only to see which values are encrypted, which the engine tells the
    program per top-level key only. The engine has parsed the file already, so a broken one is its error."""
    import yaml

    path = project_dir / "stacks" / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, ValueError, yaml.YAMLError):
        return None
    config = document.get("config") if isinstance(document, dict) else None
    return config if isinstance(config, dict) else None


def is_engine_secret(key: str) -> bool:
    """Did the engine hand ``key`` (a project key) to the program as a secret? The language host passes the secret
    keys in PULUMI_CONFIG_SECRET_KEYS and its exec script gives them to set_all_config; the mock runtime sets them."""
    full = f"{NAMESPACE}:{key}"
    return runtime_config.is_config_secret(full) or full in runtime_config.get_config_secret_keys_env()


def main() -> None:
    try:
        raw = read_raw_config()
        stack = pulumi.get_stack()
        # credentials only as Pulumi secrets (issue 23): the engine's secret keys, and the file's secure: values
        refuse_plain_text_secrets(raw, is_secret=is_engine_secret,
                                  stack_file_config=stack_file_config(stack), stack=stack,
                                  config_file=f"stacks/Pulumi.{stack}.yaml")
        settings = load_settings(raw, PROJECT_DIR, stack)
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
    auth: Auth | TrustedUserPool | None
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
    try:
        check_existing_tables(settings, region)
    except ConfigError as error:
        raise StackConfigError(error.problem, file=error.file, service=error.service, key=error.key,
                               fix=error.fix) from None
    # (a secret with a committed sample's value is the policy pack's: no-sample-secrets, components/secrets.py)
    for warning in self_sign_up_warnings(settings) + replacement_warnings(settings):
        pulumi.log.warn(warning)
    shared = create_shared_resources(settings, region,
                                     needs_file_system=any(persistent_volumes(i.app) for i in prepared),
                                     holds_database=any(database_volumes(i.app) for i in prepared))
    guard_volumes(settings, shared, prepared)
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


def security_log_retention(settings: StackSettings) -> int:
    """Days the access and flow logs are kept: `securityLogRetentionDays`, else `logRetentionDays`."""
    return settings.security.security_log_retention_days or settings.log_retention_days


def guard_volumes(settings: StackSettings, shared: SharedResources, prepared: list[PreparedApi]) -> VolumeGuard:
    """Always registered, also without volumes: removing a deployed named volume (or the last one, with its file
    system) is refused at preview unless allowVolumeRemoval names it (components/providers/volume_guard.py)."""
    return VolumeGuard("volumes-guard", stack=settings.stack,
                       volumes=[f"{i.settings.name}/{v}" for i in prepared for v in persistent_volumes(i.app)],
                       allow_volume_removal=list(settings.volumes.allow_removal),
                       file_system_id=shared.file_system.file_system_id if shared.file_system else None)


def create_shared_resources(settings: StackSettings, region: str, needs_file_system: bool = False,
                            holds_database: bool = False) -> SharedResources:
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
        flow_logs=settings.security.vpc_flow_logs, log_retention_days=security_log_retention(settings), tags=tags))
    pool, existing = settings.security.user_pool, settings.existing_user_pool
    if existing is not None:      # `existingUserPool`: trusted, never created, changed or deleted
        auth = TrustedUserPool(existing.user_pool_id, existing.client_id, existing.region) if settings.uses_auth \
            else None
    else:
        auth = Auth("auth", AuthArgs(stack=stack, region=region, deletion_protection=pool.deletion_protection,
                                     self_sign_up=pool.self_sign_up, mfa=pool.mfa,
                                     threat_protection=pool.threat_protection, tags=tags)) \
            if settings.uses_auth else None
    storage = Storage("storage", StorageArgs(stack=stack, tables=settings.storage, region=region,
                                             account_id=account_id, tags=tags))
    # Container Insights publishes the running-task count that `scaling.requestsPerTask` divides by.
    cluster = Cluster("cluster", ClusterArgs(stack=stack, vpc_id=network.vpc_id,
                                             fargate_spot=settings.fargate_spot, tags=tags,
                                             container_insights=any(api.scaling is not None and
                                                                    api.scaling.requests_per_task is not None
                                                                    for api in settings.apis.values())))
    file_system = FileSystem("volumes", FileSystemArgs(
        stack=stack, vpc_id=network.vpc_id, tags=tags, holds_database=holds_database,
        backups=settings.volumes.backups, protect=not settings.security.force_destroy,
        subnet_ids=one_subnet_per_zone(list(settings.existing_vpc.subnet_ids)) if settings.existing_vpc
        else network.subnet_ids)) if needs_file_system else None
    return SharedResources(region=region, account_id=account_id, tags=tags, network=network, auth=auth,
                           storage=storage, cluster=cluster, file_system=file_system, deployer_arn=deployer_arn)


def _api_volumes(shared: SharedResources, item: PreparedApi, task_security_group_id: pulumi.Input[str],
                 tags: dict[str, str]) -> tuple[dict[str, EfsVolume], list[pulumi.Resource]]:
    """The API's persistent named volumes as access points of the stack's file system (none: {}), and what its
    tasks need before they can mount: the mount targets, the NFS rules and the access points."""
    volumes = persistent_volumes(item.app)
    if not volumes or shared.file_system is None:
        return {}, []
    file_system, name = shared.file_system, item.settings.name
    owners = {volume: volume_owner(item.app, volume) for volume in volumes}
    access = ApiVolumes(f"{name}-volumes", ApiVolumesArgs(
        stack=shared.tags["stack"], api=name, file_system_id=file_system.file_system_id,
        nfs_security_group_id=file_system.security_group_id, task_security_group_id=task_security_group_id,
        volumes=[VolumeSpec(volume, *owners[volume]) for volume in volumes], tags=tags))
    efs = {volume: EfsVolume(file_system_id=file_system.file_system_id, file_system_arn=file_system.file_system_arn,
                             access_point_id=access.access_point_ids[volume],
                             access_point_arn=access.access_point_arns[volume],
                             uid=owners[volume][0], gid=owners[volume][1]) for volume in volumes}
    return efs, [*file_system.mount_targets, *access.ready]


def volume_outputs(item: PreparedApi, efs: dict[str, EfsVolume], fargate_spot: bool) -> dict[str, Any]:
    """The `apis.NAME.volumes` stack output: each EFS volume's enforced owner, and the one-writer deploy."""
    writer = writer_plan(item.app, fargate_spot)
    out: dict[str, Any] = {volume: {"uid": spec.uid, "gid": spec.gid, "database": volume in writer.databases,
                                    "path": f"/{item.settings.name}/{volume}"} for volume, spec in efs.items()}
    return {"onEfs": out, **({"oneWriter": writer.describe()} if writer.one_writer else {})}


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
        sample_files={s: f for s, f in sample_secret_files(item).items() if s not in provided},
        recovery_window_in_days=settings.security.secret_recovery_window_days)) if app.secrets else None
    repositories = ImageRepositories(f"{name}-images", ImageRepositoriesArgs(
        stack=stack, api=name, app=app, build_mode=api.build, manual_images=dict(api.images), region=region,
        force_delete=settings.security.force_destroy, tags=tags))
    images = {c.name: repositories.images[c.name] if c.is_built else c.image for c in app.containers}
    count = item.count
    replicas = count.replicas
    for warning in high_availability_warnings(settings, item):
        pulumi.log.warn(warning)
    efs, volumes_ready = _api_volumes(shared, item, firewall.task_security_group_id, tags)
    writer = writer_plan(app, settings.fargate_spot)
    if spot_note(name, writer, settings.fargate_spot, settings.config_file):
        pulumi.log.warn(spot_note(name, writer, settings.fargate_spot, settings.config_file))
    if deploy_note(name, writer):
        pulumi.log.info(deploy_note(name, writer))
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
        efs_volumes=efs, deploy_timeout_minutes=settings.deploy_timeout_minutes, one_writer=writer.one_writer,
        # a first task must find its NFS rules, mount targets and access points (a mount otherwise times out)
        after=[*network.internet_path, *volumes_ready], tags=tags))
    for line in group_warnings(service.warnings):
        pulumi.log.warn(f"API {name}: {line}")
    http_api = Api(f"{name}-api", ApiArgs(
        stack=stack, api=name, type=api.type, subnet_ids=network.subnet_ids,
        vpc_link_security_group_id=firewall.vpc_link_security_group_id,
        cloud_map_service_arn=service.cloud_map_service_arn, cors_origins=list(settings.cors_origins),
        jwt_issuer=auth.issuer if (auth and api.auth) else None,
        jwt_audience=[auth.client_id] if (auth and api.auth) else None,
        disable_execute_api_endpoint=api.disable_default_endpoint,
        log_retention_days=security_log_retention(settings), tags=tags))
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
        replicas=replicas, images_ready=repositories.ready, awake_count=replicas if count.sleep else 0,
        github=api.github,
        github_token=settings.github_token, docker_hub_credentials_arn=settings.docker_hub_credentials,
        deploy_timeout_minutes=settings.deploy_timeout_minutes,
        repository_names=list(repositories.repository_names.values()),
        force_destroy=settings.security.force_destroy, approval=api.approval, deployer_arn=shared.deployer_arn,
        include_sensitive_files=api.include_sensitive_files,
        build_secret_ids={s: (provided[s].arn if s in provided and provided[s].arn else
                              secret_physical_name(stack, name, s)) for s in app.secrets},
        build_secret_arns=dict(secrets.secret_arns) if secrets else {},
        tags=tags))
    scaling_output = describe_scaling(count)
    if count.managed:
        scaling = ApiScaling(f"{name}-scaling", ApiScalingArgs(
            stack=stack, api=name, plan=count, cluster_name=cluster.cluster_name, service_name=service.service_name,
            http_api_id=http_api.api_id, after=[pipeline.run] if pipeline.run is not None else [], tags=tags))
        if pipeline.deploy_check is not None:
            # the pipeline's deploy check may hold exactly this target (its ARN exists once the target does)
            pipeline.deploy_check.allow_scalable_target(scaling.target_arn)
    if count.sleep:
        # After the first deploy's run, like the scalable target: a 503 before the first image exists wakes nothing.
        waker = ApiWaker(f"{name}-waker", ApiWakerArgs(
            stack=stack, api=name, region=region, account_id=shared.account_id, cluster_name=cluster.cluster_name,
            service_name=service.service_name, access_log_group_name=http_api.access_log_group_name,
            access_log_group_arn=http_api.access_log_group_arn, awake_count=count.replicas,
            log_retention_days=settings.log_retention_days,
            after=[pipeline.run] if pipeline.run is not None else [], tags=tags))
        scaling_output["waker"] = {"functionName": waker.function_name, "logGroup": waker.log_group_name}
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
        "scaling": scaling_output,
        **({"volumes": volume_outputs(item, efs, settings.fargate_spot)} if efs else {}),
        # Only for an API with a custom domain (docs/design.md, "Stack outputs").
        **({"domain": domain.outputs(http_api.url, api.disable_default_endpoint)} if domain else {}),
    }
