"""Persistent named volumes on EFS (issue 13): the compose side, the stack config, the resource graph, the
payloads (botocore models), a moto deploy, the cost and the picture."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.cost import estimate
from components.compose import load_app
from components.compose.volumes import clean_target, database_volumes, image_name, volume_owner
from components.errors import ConfigError
from components.prepare import check_database_replicas
from ops.plan import mockrun
from ops.plan.diagram import build_graph
from policies.rules import Resource
from tests.fidelity import aws_requests, moto_smoke
from tests.fidelity.checks import findings, new_findings

program = pytest.importorskip("components.program")

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    volumes:
      - uploads:/srv/uploads/
      - cache:/var/cache/app
      - shared:/srv/shared
  db:
    image: postgres:16-alpine
    volumes:
      - pgdata:/var/lib/postgresql/data
      - shared:/srv/shared:ro
volumes:
  uploads: {}
  cache: {}
  pgdata: {}
  shared: {}
"""


def write_app(root: Path, text: str = COMPOSE, name: str = "app") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(text)
    return folder


def run(config: dict, **kwargs):
    return mockrun.run(program.main, config=config, stack="dev", **kwargs)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_app(tmp_path_factory.mktemp("efs"))


@pytest.fixture(scope="module")
def result(folder):
    return run({"highAvailability": True,
                "apis": {"app": {"source": str(folder), "auth": False, "volumes": {"cache": "ephemeral"}}}})


# --- compose ---------------------------------------------------------------------------------------

def test_named_volumes_persist_unless_marked_ephemeral(folder):
    app = load_app(folder, ephemeral_volumes=["cache"])
    mounts = {m.volume: m for c in app.containers for m in c.mounts}
    assert {v: m.persistent for v, m in mounts.items()} == {"uploads": True, "cache": False, "pgdata": True,
                                                            "shared": True}
    assert mounts["uploads"].target == "/srv/uploads"          # cleaned as Compose cleans it
    messages = [w.message for w in app.warnings if w.key and w.key.startswith("volumes")]
    assert len(messages) == 1 and "'cache' is marked ephemeral" in messages[0] and "lost" in messages[0]
    assert not any("uploads" in w.message or "pgdata" in w.message for w in app.warnings)


@pytest.mark.parametrize("path, cleaned", [("/data/", "/data"), ("/a/./b/../c", "/a/c"), ("//x//y/", "/x/y"),
                                           ("/", "/")])
def test_volume_targets_are_cleaned(path, cleaned):
    assert clean_target(path) == cleaned


def test_docker_socket_bind_mount_is_an_error(tmp_path):
    folder = write_app(tmp_path, "services:\n  proxy:\n    image: traefik:v3\n    ports: ['80:80']\n"
                                 "    volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro']\n")
    with pytest.raises(ConfigError) as raised:
        load_app(folder)
    assert raised.value.service == "proxy" and raised.value.key == "volumes[0]"
    assert "Docker socket" in raised.value.problem and "Fargate" in raised.value.problem


def test_bind_mount_advice_depends_on_what_is_mounted(tmp_path):
    folder = write_app(tmp_path, "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n    volumes:\n"
                                 "      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n      - ./data:/var/lib/app\n")
    (folder / "nginx.conf").write_text("events {}\n")
    (folder / "data").mkdir()
    warnings = {w.key: w.message for w in load_app(folder).warnings}
    assert "bake it into the image" in warnings["volumes[0]"] and "named volume" not in warnings["volumes[0]"]
    assert "use a named volume" in warnings["volumes[1]"] and "EFS" in warnings["volumes[1]"]


def test_database_volumes_by_image_or_data_path(folder, tmp_path):
    app = load_app(folder, ephemeral_volumes=["cache"])
    assert set(database_volumes(app)) == {"pgdata"}
    other = write_app(tmp_path, "services:\n  api:\n    image: example/api:1\n    ports: ['80:80']\n"
                                "    volumes: ['store:/var/lib/mysql']\nvolumes: {store: {}}\n")
    assert set(database_volumes(load_app(other))) == {"store"}
    assert database_volumes(load_app(other, ephemeral_volumes=["store"])) == {}


@pytest.mark.parametrize("image, name", [("postgres", "postgres"), ("docker.io/library/redis:7@sha256:abc", "redis"),
                                         ("ghcr.io/acme/api:1.2", "ghcr.io/acme/api"),
                                         ("localhost:5000/db:2", "localhost:5000/db")])
def test_image_name(image, name):
    assert image_name(image) == name


def test_volume_owner_follows_the_image_or_the_user(folder):
    app = load_app(folder, ephemeral_volumes=["cache"])
    assert volume_owner(app, "pgdata") == (70, 70)      # postgres:*-alpine runs as 70
    assert volume_owner(app, "uploads") == (0, 0)       # nginx: not known, so root
    app.container("web").user = "1000:1001"
    assert volume_owner(app, "uploads") == (1000, 1001)


# --- stack config ----------------------------------------------------------------------------------

def test_volumes_key_takes_only_ephemeral(folder):
    with pytest.raises(ConfigError) as raised:
        run({"apis": {"app": {"source": str(folder), "auth": False, "volumes": {"cache": "persistent"}}}})
    assert raised.value.key == "serverless-containers:apis.app.volumes.cache" and "ephemeral" in raised.value.fix


def test_volumes_key_names_only_mounted_volumes(folder):
    with pytest.raises(ConfigError) as raised:
        run({"apis": {"app": {"source": str(folder), "auth": False, "volumes": {"cahce": "ephemeral"}}}})
    assert raised.value.key == "serverless-containers:apis.app.volumes.cahce"
    assert "cache" in raised.value.fix and raised.value.file == "stacks/Pulumi.dev.yaml"


def test_database_volume_with_several_replicas_is_an_error(tmp_path):
    text = COMPOSE.replace("  db:\n    image: postgres:16-alpine\n",
                           "  db:\n    image: postgres:16-alpine\n    deploy: {replicas: 2}\n")
    folder = write_app(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        run({"apis": {"app": {"source": str(folder), "auth": False}}})
    assert "'pgdata'" in raised.value.problem and "corrupt" in raised.value.problem
    assert raised.value.service == "db" and "ephemeral" in raised.value.fix
    # The same app with the database's volume marked ephemeral may run twice.
    ok = run({"apis": {"app": {"source": str(folder), "auth": False, "volumes": {"pgdata": "ephemeral"}}}})
    assert ok.one("aws:ecs/service:Service").inputs["desiredCount"] == 2


def test_check_database_replicas_names_a_stack_key(folder):
    app = load_app(folder)
    check_database_replicas(app, 1, "x")           # one task: fine
    with pytest.raises(ConfigError) as raised:
        check_database_replicas(app, 3, "serverless-containers:apis.app.scaling.max",
                                        config_file="stacks/Pulumi.dev.yaml")
    assert raised.value.file == "stacks/Pulumi.dev.yaml" and raised.value.key.endswith("scaling.max")


# --- the resource graph ----------------------------------------------------------------------------

def test_one_encrypted_file_system_with_a_mount_target_per_subnet(result):
    file_system = result.one("aws:efs/fileSystem:FileSystem")
    assert file_system.inputs["encrypted"] is True
    assert file_system.inputs["lifecyclePolicies"] == [{"transitionToIa": "AFTER_30_DAYS"},
                                                       {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]
    subnets = [s.outputs["id"] for s in result.of_type("aws:ec2/subnet:Subnet")]
    targets = result.of_type("aws:efs/mountTarget:MountTarget")
    assert len(subnets) == 3 and sorted(t.inputs["subnetId"] for t in targets) == sorted(subnets)
    group = result.one("aws:ec2/securityGroup:SecurityGroup", "volumes-nfs")
    assert all(t.inputs["securityGroups"] == [group.outputs["id"]] for t in targets)
    policy = json.loads(result.one("aws:efs/fileSystemPolicy:FileSystemPolicy").inputs["policy"])
    assert policy["Statement"] == [{"Sid": "RefuseUnencryptedTransport", "Effect": "Deny", "Principal": {"AWS": "*"},
                                    "Action": "*", "Resource": file_system.outputs["arn"],
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]


def test_nfs_is_open_only_to_the_tasks(result):
    group = result.one("aws:ec2/securityGroup:SecurityGroup", "volumes-nfs")
    task_group = result.one("aws:ec2/securityGroup:SecurityGroup", "app-firewall-task")
    rules = [r for r in result.resources if r.type.startswith("aws:vpc/securityGroup")
             and r.inputs.get("securityGroupId") == group.outputs["id"]]
    assert [(r.type.split(":")[-1], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"],
             r.inputs.get("referencedSecurityGroupId"), r.inputs.get("cidrIpv4")) for r in rules] == [
        ("SecurityGroupIngressRule", 2049, 2049, "tcp", task_group.outputs["id"], None)]


def test_each_persistent_volume_is_an_access_point_with_its_owner(result):
    points = {p.name: p.inputs for p in result.of_type("aws:efs/accessPoint:AccessPoint")}
    assert set(points) == {"app-volumes-uploads", "app-volumes-pgdata", "app-volumes-shared"}   # not cache
    pgdata = points["app-volumes-pgdata"]
    assert pgdata["rootDirectory"] == {"path": "/app/pgdata", "creationInfo": {
        "ownerUid": 70, "ownerGid": 70, "permissions": "0755"}}
    assert pgdata["posixUser"] == {"uid": 70, "gid": 70}
    assert points["app-volumes-uploads"]["posixUser"] == {"uid": 0, "gid": 0}


def test_task_mounts_with_tls_and_iam_through_its_access_points(result):
    task = result.one("aws:ecs/taskDefinition:TaskDefinition")
    file_system = result.one("aws:efs/fileSystem:FileSystem")
    points = {p.name.removeprefix("app-volumes-"): p.outputs["id"] for p in result.of_type("aws:efs/accessPoint:AccessPoint")}
    volumes = {v["name"]: v for v in task.inputs["volumes"]}
    assert volumes["cache"] == {"name": "cache"}
    for volume in ("uploads", "pgdata", "shared"):
        assert volumes[volume]["efsVolumeConfiguration"] == {
            "fileSystemId": file_system.outputs["id"], "transitEncryption": "ENABLED",
            "authorizationConfig": {"accessPointId": points[volume], "iam": "ENABLED"}}
    definitions = {d["name"]: d for d in json.loads(task.inputs["containerDefinitions"])}
    assert {"sourceVolume": "shared", "containerPath": "/srv/shared", "readOnly": True} in \
        definitions["db"]["mountPoints"]


def test_task_role_may_mount_only_its_own_access_points(result):
    policy = json.loads(result.one("aws:iam/rolePolicy:RolePolicy", "app-volumes").inputs["policy"])
    role = result.one("aws:iam/role:Role", "app-task")
    assert result.one("aws:iam/rolePolicy:RolePolicy", "app-volumes").inputs["role"] == role.outputs["id"]
    arns = {p.name.removeprefix("app-volumes-"): p.outputs["arn"] for p in result.of_type("aws:efs/accessPoint:AccessPoint")}
    file_system = result.one("aws:efs/fileSystem:FileSystem").outputs["arn"]
    mount, write, root = policy["Statement"]
    assert mount["Action"] == ["elasticfilesystem:ClientMount"] and mount["Resource"] == file_system
    assert mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"] == sorted(arns.values())
    assert write["Action"] == ["elasticfilesystem:ClientWrite"]
    # shared is read-only in db but written by web, so all three may be written
    assert write["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"] == sorted(arns.values())
    # uploads and shared are root-owned (nginx is not in the owner table); pgdata is postgres's 70:70
    assert root["Action"] == ["elasticfilesystem:ClientRootAccess"] and root["Resource"] == file_system
    assert root["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"] == sorted(
        [arns["uploads"], arns["shared"]])


def test_no_file_system_without_persistent_volumes(tmp_path):
    folder = write_app(tmp_path, "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n"
                                 "    volumes: ['cache:/cache']\nvolumes: {cache: {}}\n")
    plain = run({"apis": {"app": {"source": str(folder), "auth": False, "volumes": {"cache": "ephemeral"}}}})
    assert not [r for r in plain.resources if r.type.startswith("aws:efs/") or "filesystem" in r.type]
    assert plain.one("aws:ecs/taskDefinition:TaskDefinition").inputs["volumes"] == [{"name": "cache"}]


# --- payloads, moto, cost, picture ----------------------------------------------------------------

def test_efs_payloads_pass_the_botocore_models(result):
    found, translation = findings(result)
    assert not new_findings(found), "\n".join(new_findings(found))
    made = {(r.service, r.operation) for r in translation.requests}
    assert {("efs", "CreateFileSystem"), ("efs", "PutLifecycleConfiguration"), ("efs", "CreateMountTarget"),
            ("efs", "CreateAccessPoint"), ("efs", "PutFileSystemPolicy"), ("efs", "PutBackupPolicy")} <= made


def test_efs_deploys_to_moto(result):
    def inspect(client):
        efs = client("efs")
        systems = efs.describe_file_systems()["FileSystems"]
        targets = efs.describe_mount_targets(FileSystemId=systems[0]["FileSystemId"])["MountTargets"]
        points = efs.describe_access_points(FileSystemId=systems[0]["FileSystemId"])["AccessPoints"]
        lifecycle = efs.describe_lifecycle_configuration(FileSystemId=systems[0]["FileSystemId"])
        return systems, targets, points, lifecycle

    report = moto_smoke.smoke_deploy(result, aws_requests.translate(result.resources), inspect=inspect)
    assert not report.failures, "\n".join(report.failures)
    systems, targets, points, lifecycle = report.inspected
    assert len(systems) == 1 and systems[0]["Encrypted"] is True
    assert len(targets) == 3
    assert sorted(p["RootDirectory"]["Path"] for p in points) == ["/app/pgdata", "/app/shared", "/app/uploads"]
    assert {p["PosixUser"]["Uid"] for p in points} == {0, 70}
    assert lifecycle["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_30_DAYS"},
                                              {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]


def _resources(result):
    return [Resource(type=r.type, name=r.name, props=r.outputs, urn=r.urn, parent_urn=r.parent_urn)
            for r in result.resources]


def test_cost_prices_efs_at_zero_while_empty(result):
    report = estimate(_resources(result))
    item = next(i for i in report.items if i.name.startswith("EFS"))
    assert item.monthly_usd == 0 and item.unit == "GB-month" and item.unit_usd == 0.3
    assert "3 volume(s)" in item.detail


def test_picture_shows_the_file_system(result):
    source = build_graph(_resources(result), "dev").source
    file_system = result.one("aws:efs/fileSystem:FileSystem").outputs["id"]
    assert f"EFS file system\n{file_system}" in source and "pgdata:/var/lib/postgresql/data" in source


@pytest.mark.parametrize("keys, where", [({"replicas": 2}, "replicas"), ({"scaling": {"min": 1, "max": 3}}, "scaling.max")])
def test_database_volume_with_stack_replicas_or_autoscaling_is_an_error(folder, keys, where):
    with pytest.raises(ConfigError) as raised:
        run({"apis": {"app": {"source": str(folder), "auth": False, **keys}}})
    assert raised.value.key == f"serverless-containers:apis.app.{where}"
    assert raised.value.file == "stacks/Pulumi.dev.yaml" and "'pgdata'" in raised.value.problem


def test_tasks_may_reach_nfs_even_with_limited_egress(result):
    group = result.one("aws:ec2/securityGroup:SecurityGroup", "volumes-nfs")
    task_group = result.one("aws:ec2/securityGroup:SecurityGroup", "app-firewall-task")
    rule = result.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "app-volumes-nfs-out")
    assert (rule.inputs["securityGroupId"], rule.inputs["referencedSecurityGroupId"]) == (
        task_group.outputs["id"], group.outputs["id"])
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (2049, 2049, "tcp")


def test_existing_vpc_gets_one_mount_target_per_zone(folder):
    # The mocks put every existing subnet in zone a: EFS allows one mount target per zone.
    existing = run({"existingVpc": {"vpcId": "vpc-0a1b2c3d4e5f67890",
                                    "subnetIds": ["subnet-0a1b2c3d4e5f67890", "subnet-0fedcba9876543210"]},
                    "apis": {"app": {"source": str(folder), "auth": False}}})
    assert [t.inputs["subnetId"] for t in existing.of_type("aws:efs/mountTarget:MountTarget")] == [
        "subnet-0a1b2c3d4e5f67890"]
