"""Stateful apps keep their data (issue 21): one writer per database volume, writable volumes, backups, protection
in prod, the lifecycle, the throughput mode, the ordering before the first task, and the volume guard. Graph tests
on what the mock runtime recorded (inputs and options), plus the pure parts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.compose import load_app
from components.compose.volumes import volume_owner
from components.errors import ConfigError
from components.one_writer import ECS_STOP_TIMEOUT, TASK_START_SECONDS, outage_seconds, writer_plan
from components.providers.volume_guard import VolumeGuardProvider, VolumeRemovalRefused, removal_problem
from ops.plan import mockrun

program = pytest.importorskip("components.program")

DATABASE_APP = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    volumes: [uploads:/srv/uploads]
  worker:
    image: example/worker:1
    user: "1000:1001"
    volumes: [reports:/srv/reports]
  db:
    image: postgres:16
    stop_grace_period: 90s
    volumes: [pgdata:/var/lib/postgresql/data]
volumes: {uploads: {}, reports: {}, pgdata: {}}
"""
PLAIN_APP = """\
services:
  web:
    image: example/web:1
    user: "1000:1001"
    ports: ["8080:8080"]
    volumes: [files:/srv/files]
volumes: {files: {}}
"""
GUARD = "pulumi-python:dynamic/serverless-containers:VolumeGuard"
SERVICE = "aws:ecs/service:Service"


def write_app(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(text)
    return folder


def run(config: dict, stack: str = "dev"):
    return mockrun.run(program.main, config=config, stack=stack)


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stateful")
    return {"db": write_app(root, "db", DATABASE_APP), "plain": write_app(root, "plain", PLAIN_APP)}


@pytest.fixture(scope="module")
def spot_stack(apps):
    """The dev shape: Fargate Spot for the stack, one API with a database, one without."""
    return run({"fargateSpot": True, "apis": {"shop": {"source": str(apps["db"]), "auth": False},
                                              "files": {"source": str(apps["plain"]), "auth": False}}})


@pytest.fixture(scope="module")
def prod_stack(apps):
    return run({"forceDestroy": False, "apis": {"shop": {"source": str(apps["db"]), "auth": False}}})


def service_of(result, api: str):
    return next(r for r in result.of_type(SERVICE) if r.inputs["name"] == api)


# --- one writer ----------------------------------------------------------------------------------------

def test_a_database_api_deploys_stop_before_start_on_on_demand_fargate(spot_stack):
    shop = service_of(spot_stack, "shop")
    assert (shop.inputs["deploymentMinimumHealthyPercent"], shop.inputs["deploymentMaximumPercent"]) == (0, 100)
    assert shop.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert shop.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # the API without a database keeps the rolling deploy and the stack's Spot
    files = service_of(spot_stack, "files")
    assert (files.inputs["deploymentMinimumHealthyPercent"], files.inputs["deploymentMaximumPercent"]) == (100, 200)
    assert files.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]


def test_the_program_says_why_the_database_api_is_not_on_spot(spot_stack):
    notes = [w for w in spot_stack.warnings if "on-demand Fargate" in w]
    assert len(notes) == 1 and notes[0].startswith("API shop:") and "pgdata" in notes[0]
    assert "files" not in notes[0]


def test_the_one_writer_outage_is_in_the_stack_outputs(spot_stack):
    volumes = spot_stack.outputs["apis"]["shop"]["volumes"]
    assert volumes["oneWriter"] == {"databaseVolumes": ["pgdata"], "deployment": "stop-before-start",
                                    "minimumHealthyPercent": 0, "maximumPercent": 100, "capacity": "FARGATE",
                                    "outageSeconds": [TASK_START_SECONDS[0], 90 + TASK_START_SECONDS[1]]}
    assert "oneWriter" not in spot_stack.outputs["apis"]["files"]["volumes"]


def test_outage_uses_the_longest_stop_timeout():
    assert outage_seconds([None, 90]) == (TASK_START_SECONDS[0], 90 + TASK_START_SECONDS[1])
    assert outage_seconds([None]) == (TASK_START_SECONDS[0], ECS_STOP_TIMEOUT + TASK_START_SECONDS[1])


def test_writer_plan_follows_the_database_volumes(apps):
    assert writer_plan(load_app(apps["db"]), fargate_spot=True).one_writer
    assert not writer_plan(load_app(apps["db"], ephemeral_volumes=["pgdata"]), fargate_spot=True).one_writer
    assert not writer_plan(load_app(apps["plain"]), fargate_spot=False).one_writer


def test_a_database_api_with_two_tasks_stays_an_error(apps):
    with pytest.raises(ConfigError) as raised:
        run({"apis": {"shop": {"source": str(apps["db"]), "auth": False, "replicas": 2}}})
    assert raised.value.key == "serverless-containers:apis.shop.replicas" and "'pgdata'" in raised.value.problem


# --- writable volumes -----------------------------------------------------------------------------------

def test_root_access_only_for_the_root_owned_access_points(spot_stack):
    points = {p.name: p for p in spot_stack.of_type("aws:efs/accessPoint:AccessPoint")}
    policy = json.loads(spot_stack.one("aws:iam/rolePolicy:RolePolicy", "shop-volumes").inputs["policy"])
    root = [s for s in policy["Statement"] if s["Action"] == ["elasticfilesystem:ClientRootAccess"]]
    # uploads (nginx: root) only; pgdata is postgres's 999:999, reports the worker's 1000:1001
    assert len(root) == 1
    assert root[0]["Condition"] == {"StringEquals": {"elasticfilesystem:AccessPointArn": [
        points["shop-volumes-uploads"].outputs["arn"]]}}
    files_policy = json.loads(spot_stack.one("aws:iam/rolePolicy:RolePolicy", "files-volumes").inputs["policy"])
    assert not [s for s in files_policy["Statement"] if "elasticfilesystem:ClientRootAccess" in s["Action"]]


def test_a_volume_owned_by_1000_1001_keeps_its_gid(spot_stack):
    reports = spot_stack.one("aws:efs/accessPoint:AccessPoint", "shop-volumes-reports").inputs
    assert reports["posixUser"] == {"uid": 1000, "gid": 1001}
    assert reports["rootDirectory"]["creationInfo"] == {"ownerUid": 1000, "ownerGid": 1001, "permissions": "0755"}
    pgdata = spot_stack.one("aws:efs/accessPoint:AccessPoint", "shop-volumes-pgdata").inputs
    assert pgdata["posixUser"] == {"uid": 999, "gid": 999}


@pytest.mark.parametrize("image, owner", [
    ("postgres:16", (999, 999)), ("postgres:16-alpine", (70, 70)), ("mysql:8.4", (999, 999)),
    ("mariadb:11", (999, 999)), ("mongo:7", (999, 999)), ("redis:7", (999, 999)), ("redis:7-alpine", (999, 1000)),
    ("docker.elastic.co/elasticsearch/elasticsearch:8.15.0", (1000, 0)), ("elasticsearch:8.15.0", (1000, 0)),
    ("grafana/grafana:11.2.0", (472, 0)), ("bitnami/postgresql:16", (1001, 0)), ("bitnami/minio:2024", (1001, 0)),
    ("minio/minio:latest", (0, 0)), ("nextcloud:29", (33, 33)), ("nextcloud:29-fpm-alpine", (82, 82)),
    ("gitea/gitea:1.22", (1000, 1000)), ("louislam/uptime-kuma:1", (0, 0))])
def test_owner_table_matches_the_images_default_users(tmp_path, image, owner):
    folder = write_app(tmp_path, "app", f"services:\n  app:\n    image: {image}\n    ports: ['80:80']\n"
                                        "    volumes: [data:/data]\nvolumes: {data: {}}\n")
    assert volume_owner(load_app(folder), "data") == owner


# --- backups, protection, lifecycle, throughput ---------------------------------------------------------

def test_backups_are_on_by_default_and_off_with_the_dev_key(spot_stack, apps):
    policy = spot_stack.one("aws:efs/backupPolicy:BackupPolicy")
    file_system = spot_stack.one("aws:efs/fileSystem:FileSystem")
    assert policy.inputs == {"fileSystemId": file_system.outputs["id"], "backupPolicy": {"status": "ENABLED"}}
    off = run({"volumeBackups": False, "apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert off.one("aws:efs/backupPolicy:BackupPolicy").inputs["backupPolicy"] == {"status": "DISABLED"}


def test_volume_backups_key_takes_a_bool(apps):
    with pytest.raises(ConfigError) as raised:
        run({"volumeBackups": "yes", "apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert raised.value.key == "serverless-containers:volumeBackups"


def test_prod_protects_the_file_system_and_dev_does_not(prod_stack, spot_stack):
    assert prod_stack.one("aws:efs/fileSystem:FileSystem").options.get("protect") is True
    assert not spot_stack.one("aws:efs/fileSystem:FileSystem").options.get("protect")


def test_lifecycle_moves_files_back_on_first_access(spot_stack):
    assert spot_stack.one("aws:efs/fileSystem:FileSystem").inputs["lifecyclePolicies"] == [
        {"transitionToIa": "AFTER_30_DAYS"}, {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]


def test_elastic_throughput_for_a_database_bursting_otherwise(spot_stack, apps):
    assert spot_stack.one("aws:efs/fileSystem:FileSystem").inputs["throughputMode"] == "elastic"
    files_only = run({"apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert files_only.one("aws:efs/fileSystem:FileSystem").inputs["throughputMode"] == "bursting"


# --- ordering -------------------------------------------------------------------------------------------

def test_nfs_rules_mount_targets_and_access_points_come_before_the_service(spot_stack):
    """The recorded dependencies of each service name every one of them directly (depends_on), not only through
    the task definition's inputs."""
    for api in ("shop", "files"):
        service = service_of(spot_stack, api)
        needed = [*spot_stack.of_type("aws:efs/mountTarget:MountTarget"),
                  *[p for p in spot_stack.of_type("aws:efs/accessPoint:AccessPoint") if p.name.startswith(f"{api}-")],
                  spot_stack.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"{api}-volumes-nfs"),
                  spot_stack.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", f"{api}-volumes-nfs-out")]
        assert needed and all(r.urn in service.dependencies for r in needed), api


# --- the volume guard -----------------------------------------------------------------------------------

def test_the_guard_records_every_volume_and_exists_without_volumes(spot_stack, tmp_path):
    guard = spot_stack.one(GUARD)
    assert guard.inputs["volumes"] == ["files/files", "shop/pgdata", "shop/reports", "shop/uploads"]
    assert guard.inputs["allowVolumeRemoval"] == []
    assert guard.inputs["fileSystemId"] == spot_stack.one("aws:efs/fileSystem:FileSystem").outputs["id"]
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\n")
    bare = run({"apis": {"bare": {"source": str(folder), "auth": False}}})
    assert bare.one(GUARD).inputs["volumes"] == [] and not bare.of_type("aws:efs/fileSystem:FileSystem")


OLDS = {"stack": "dev", "volumes": ["files/files", "shop/pgdata"], "allowVolumeRemoval": [], "fileSystemId": "fs-1"}


def test_removing_a_volume_is_refused_at_preview():
    news = {**OLDS, "volumes": ["files/files"]}
    with pytest.raises(VolumeRemovalRefused) as refused:
        VolumeGuardProvider().diff("dev-volumes", OLDS, news)
    message = str(refused.value)
    assert "shop/pgdata" in message and "serverless-containers:allowVolumeRemoval: ['shop/pgdata']" in message
    assert "directory on fs-1 would stay behind" in message


def test_removing_the_last_volume_names_the_file_system_it_would_delete():
    message = removal_problem(OLDS, {**OLDS, "volumes": [], "fileSystemId": ""})
    assert "last volume" in message and "delete the file system fs-1" in message


@pytest.mark.parametrize("allowance", [["shop/pgdata"], ["shop/*"]])
def test_the_opt_in_lets_the_removal_through(allowance):
    news = {**OLDS, "volumes": ["files/files"], "allowVolumeRemoval": allowance}
    assert VolumeGuardProvider().diff("dev-volumes", OLDS, news).changes is True


def test_adding_or_keeping_volumes_is_not_refused():
    assert removal_problem(OLDS, {**OLDS, "volumes": [*OLDS["volumes"], "shop/cache"]}) is None
    assert VolumeGuardProvider().diff("dev-volumes", OLDS, dict(OLDS)).changes is False


def test_allow_volume_removal_entries_are_checked(apps):
    with pytest.raises(ConfigError) as raised:
        run({"allowVolumeRemoval": ["pgdata"], "apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert raised.value.key == "serverless-containers:allowVolumeRemoval[0]" and "posts/pgdata" in raised.value.fix
    ok = run({"allowVolumeRemoval": ["shop/pgdata"], "apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert ok.one(GUARD).inputs["allowVolumeRemoval"] == ["shop/pgdata"]


# --- policies -------------------------------------------------------------------------------------------

def _resources(result):
    from catalog.resources import Resource
    return [Resource(type=r.type, name=r.name, props=r.outputs, urn=r.urn, parent_urn=r.parent_urn,
                     protect=bool(r.options.get("protect"))) for r in result.resources]


def test_spot_required_accepts_the_one_writer_api_on_demand(spot_stack):
    from policies.rules import fargate_spot
    found = fargate_spot(_resources(spot_stack), {"fargateSpot": "required"})
    assert found == []
    # a plain service on-demand is still a violation
    plain = [r for r in _resources(spot_stack) if r.type == SERVICE and r.props["name"] == "files"][0]
    on_demand = type(plain)(type=plain.type, name=plain.name, urn=plain.urn, props={
        **plain.props, "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1}]})
    assert [m for _, m in fargate_spot([on_demand], {"fargateSpot": "required"})]


def test_volume_protection_in_prod(prod_stack, spot_stack, apps):
    from policies.volume_rules import volume_protection
    assert volume_protection(_resources(prod_stack), {"required": True}) == []
    unprotected = volume_protection(_resources(spot_stack), {"required": True})
    assert [m for _, m in unprotected] == [
        "can be deleted with every named volume's data by `pulumi destroy`, by removing the last volume, or by a "
        "replacement. Set forceDestroy: false in the stack config (the program then protects the file system)."]
    unbacked = run({"forceDestroy": False, "volumeBackups": False,
                    "apis": {"files": {"source": str(apps["plain"]), "auth": False}}})
    assert ["not backed up" in m for _, m in volume_protection(_resources(unbacked), {"required": True})] == [True]
    assert volume_protection(_resources(spot_stack), {"required": False}) == []


def test_prod_makes_volume_protection_mandatory():
    from policies.settings import for_stack
    policies, _ = for_stack("prod")
    assert policies["volume-protection"].level == "mandatory" and policies["volume-protection"].settings["required"]
    dev, _ = for_stack("dev")
    assert not dev["volume-protection"].settings["required"]


def test_the_plan_summary_names_owners_and_the_one_writer_outage(spot_stack):
    from ops.plan.summary import lines, summarize
    text = "\n".join(lines(summarize(_resources(spot_stack), spot_stack.outputs)))
    assert ("volumes on EFS: pgdata 999:999 (database), reports 1000:1001, uploads 0:0; one writer: each deploy "
            f"stops the task before starting the new one (~{TASK_START_SECONDS[0]}-{90 + TASK_START_SECONDS[1]} s "
            "of 503s), on-demand FARGATE") in text
    assert "volumes on EFS: files 1000:1001\n" in text + "\n"


def test_backup_storage_is_a_usage_priced_item_with_its_price(spot_stack):
    from catalog.cost import estimate
    excluded = estimate(_resources(spot_stack)).excluded
    backups = [e for e in excluded if e.startswith("EFS backups")]
    assert len(backups) == 1 and "$0.05 per GB-month" in backups[0] and "35 days" in backups[0]
    assert any("Elastic throughput" in e and "$0.06 per GB written" in e for e in excluded)


# --- fidelity: the new payloads against botocore's models and moto --------------------------------------

def test_new_payloads_pass_botocore_and_deploy_to_moto(spot_stack):
    from tests.fidelity import aws_requests, moto_smoke
    from tests.fidelity.checks import findings, new_findings
    found, translation = findings(spot_stack)
    assert not new_findings(found), "\n".join(new_findings(found))
    by_operation = {(r.service, r.operation): r for r in translation.requests}
    assert by_operation[("efs", "PutBackupPolicy")].params["BackupPolicy"] == {"Status": "ENABLED"}
    assert by_operation[("efs", "PutLifecycleConfiguration")].params["LifecyclePolicies"] == [
        {"TransitionToIA": "AFTER_30_DAYS"}, {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]
    assert by_operation[("efs", "CreateFileSystem")].params["ThroughputMode"] == "elastic"
    shop = [r for r in translation.requests if (r.service, r.operation) == ("ecs", "CreateService")
            and r.params["serviceName"] == "shop"][0]
    assert shop.params["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert shop.params["deploymentConfiguration"]["maximumPercent"] == 100

    def inspect(client):
        ecs, efs = client("ecs"), client("efs")
        clusters = ecs.list_clusters()["clusterArns"]
        services = ecs.describe_services(cluster=clusters[0], services=["shop", "files"])["services"]
        system = efs.describe_file_systems()["FileSystems"][0]
        return services, system, efs.describe_lifecycle_configuration(FileSystemId=system["FileSystemId"])

    report = moto_smoke.smoke_deploy(spot_stack, aws_requests.translate(spot_stack.resources), inspect=inspect)
    assert not report.failures, "\n".join(report.failures)
    services, system, lifecycle = report.inspected
    # moto accepts both CreateService requests (it keeps no deploymentConfiguration; botocore checked it above)
    assert sorted(s["serviceName"] for s in services) == ["files", "shop"]
    assert system["ThroughputMode"] == "elastic"
    assert lifecycle["LifecyclePolicies"][1] == {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}
    # moto 5.2 has no PutBackupPolicy: the request is checked against botocore's model only, and said so
    assert any("PutBackupPolicy" in label for label in report.skipped)


def test_a_database_container_stops_within_compose_default_unless_it_says_otherwise(tmp_path, spot_stack):
    """ECS may start the new task while the old one still stops (aws/amazon-ecs-agent#2486): a database container
    without stop_grace_period gets Docker Compose's 10 s, not ECS's 30 s; one that sets it keeps its own."""
    folder = write_app(tmp_path, "quick", DATABASE_APP.replace("    stop_grace_period: 90s\n", ""))
    result = run({"apis": {"shop": {"source": str(folder), "auth": False}}})
    definitions = {d["name"]: d for d in json.loads(
        result.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])}
    assert definitions["db"]["stopTimeout"] == 10
    assert "stopTimeout" not in definitions["web"] and "stopTimeout" not in definitions["worker"]
    kept = {d["name"]: d for d in json.loads(next(
        t for t in spot_stack.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if t.inputs["family"].endswith("-shop")).inputs["containerDefinitions"])}
    assert kept["db"]["stopTimeout"] == 90


def test_the_cost_model_prices_the_database_api_on_demand(spot_stack):
    from catalog.cost import estimate
    items = {i.name: i for i in estimate(_resources(spot_stack)).items}
    # shop (on-demand) and files (Spot) run one 0.25 vCPU task each
    assert items["Fargate vCPU (X86_64 on-demand)"].quantity == items["Fargate vCPU (X86_64 Spot)"].quantity > 0


def test_the_policy_sdk_hands_the_protect_option_to_the_rule():
    """Through pulumi_policy's own objects: a protected file system with an ENABLED backup policy passes
    volume-protection, the same file system unprotected fails it."""
    from pulumi_policy import PolicyResource, PolicyResourceOptions, StackValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    from policies import adapter
    from policies.volume_rules import volume_protection

    def resource(type_token, name, props, protect=False):
        return PolicyResource(type_token, unknown_checking_proxy(props), f"urn:{name}", name,
                              PolicyResourceOptions(protect, [], False, [], None, [], None), None, None, [], {})

    for protect, expected in ((True, 0), (False, 1)):
        stack = StackValidationArgs([
            resource("aws:efs/fileSystem:FileSystem", "volumes-efs", {"id": "fs-1"}, protect),
            resource("aws:efs/backupPolicy:BackupPolicy", "volumes-backups",
                     {"fileSystemId": "fs-1", "backupPolicy": {"status": "ENABLED"}})])
        converted = adapter.resources_from_stack(stack)
        assert converted[0].protect is protect
        assert len(volume_protection(converted, {"required": True})) == expected


def test_a_group_0_image_gets_root_access_on_its_volume_only(tmp_path):
    """grafana runs as 472:0: EFS would squash gid 0 to 65534, so its access point is in the ClientRootAccess
    statement; the app's 1000:1001 volume is not."""
    folder = write_app(tmp_path, "dash", "services:\n  grafana:\n    image: grafana/grafana:11.2.0\n"
                                         "    ports: ['3000:3000']\n    volumes: [dashboards:/var/lib/grafana]\n"
                                         "  sync:\n    image: example/sync:1\n    user: '1000:1001'\n"
                                         "    volumes: [inbox:/srv/inbox]\nvolumes: {dashboards: {}, inbox: {}}\n")
    result = run({"apis": {"dash": {"source": str(folder), "auth": False}}})
    points = {p.name: p for p in result.of_type("aws:efs/accessPoint:AccessPoint")}
    assert points["dash-volumes-dashboards"].inputs["posixUser"] == {"uid": 472, "gid": 0}
    policy = json.loads(result.one("aws:iam/rolePolicy:RolePolicy", "dash-volumes").inputs["policy"])
    [root] = [s for s in policy["Statement"] if s["Action"] == ["elasticfilesystem:ClientRootAccess"]]
    assert root["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"] == [
        points["dash-volumes-dashboards"].outputs["arn"]]
