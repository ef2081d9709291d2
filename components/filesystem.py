"""EFS: the stack's persistent named volumes.

One encrypted file system per stack, created only when some API has a named volume that is not marked
ephemeral. Its mount targets (one per subnet) sit behind a security group that admits NFS (2049) from the tasks
of the APIs with volumes and nothing else. Each named volume is an access point with its own root directory
(``/<api>/<volume>``), created with the uid/gid the image runs as (components.compose.volumes.volume_owner).
A file-system policy refuses every connection without TLS; tasks mount with transit encryption and IAM
authorization, and each task role may mount only its own access points (components.service).
Files not read for 30 days move to Infrequent Access (cheaper per GB-month; reads cost per GB), and a file read
there moves back to Standard at its first access, so a database that slept for a month does not pay IA reads from
then on. AWS Backup's default plan backs the file system up (``BackupPolicy``; ``volumeBackups: false`` turns it off).
Throughput is Elastic when a volume holds a database (bursting collapses to its baseline once its credits are spent),
else bursting (docs/design.md, "Persistent volumes"). With ``forceDestroy: false`` the file system is Pulumi-protected:
neither `pulumi destroy` nor a replacement can delete it (EFS itself has no deletion protection).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

NFS_PORT = 2049
TRANSITION_TO_IA = "AFTER_30_DAYS"
TRANSITION_TO_PRIMARY = "AFTER_1_ACCESS"


def lifecycle_policies(transition_to_ia: str = TRANSITION_TO_IA) -> list[dict]:
    """EFS takes one transition per lifecycle policy: to IA when unread, and back to Standard on the first read."""
    return [{"transition_to_ia": transition_to_ia}, {"transition_to_primary_storage_class": TRANSITION_TO_PRIMARY}]


def throughput_mode(holds_database: bool) -> str:
    """Elastic for a file system a database writes (billed per GB moved, never throttled to a baseline);
    bursting (free, ~1 MiB/s once the credits are spent) for files only."""
    return "elastic" if holds_database else "bursting"


def file_system_policy(file_system_arn: str) -> dict:
    """No connection without TLS (AWS's "enforce in-transit encryption" policy). No Allow: access needs IAM
    authorization by the caller's own role (same account), so anonymous NFS mounts are refused as well."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "RefuseUnencryptedTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
        "Resource": file_system_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def one_subnet_per_zone(subnet_ids: list[str]) -> list[str]:
    """EFS allows one mount target per availability zone: the first of the given (existing) subnets in each zone.
    Tasks in the other subnets of a zone mount through that zone's target."""
    chosen: dict[str, str] = {}
    for subnet_id in subnet_ids:
        zone = getattr(aws.ec2.get_subnet(id=subnet_id), "availability_zone", None) or subnet_id
        chosen.setdefault(zone, subnet_id)
    return list(chosen.values())


def access_point_path(api: str, volume: str) -> str:
    return f"/{api}/{volume}"


@dataclass
class FileSystemArgs:
    stack: str
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    """The tasks' subnets: one mount target in each (a task mounts through the one in its own AZ)."""
    transition_to_ia: str = TRANSITION_TO_IA
    """Lifecycle rule: files unread this long move to Infrequent Access (and back to Standard on the first read)."""
    holds_database: bool = False
    """Some API keeps a database's data here: Elastic throughput instead of bursting (throughput_mode)."""
    backups: bool = True
    """AWS Backup's default plan backs the file system up daily (kept 35 days); the stack key volumeBackups."""
    protect: bool = False
    """Pulumi refuses to delete or replace the file system (the stack's forceDestroy: false)."""
    tags: dict[str, str] = field(default_factory=dict)


class FileSystem(pulumi.ComponentResource):
    """The stack's EFS file system, its mount targets, their security group and the TLS-only policy."""

    file_system_id: pulumi.Output[str]
    """Resolves only once every mount target exists, so a task definition using it waits for them."""
    file_system_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    mount_targets: list[pulumi.Resource]

    def __init__(self, name: str, args: FileSystemArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:filesystem:FileSystem", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        file_system = aws.efs.FileSystem(
            f"{name}-efs", encrypted=True, performance_mode="generalPurpose",
            throughput_mode=throughput_mode(args.holds_database),
            lifecycle_policies=lifecycle_policies(args.transition_to_ia),
            tags={**args.tags, "Name": f"serverless-containers-{args.stack}"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        # Explicit either way: EFS's own default for API-created file systems is off.
        aws.efs.BackupPolicy(f"{name}-backups", file_system_id=file_system.id,
                             backup_policy={"status": "ENABLED" if args.backups else "DISABLED"}, opts=child)
        # No egress rules: mount targets only answer. Ingress rules come per API (ApiVolumes).
        group = aws.ec2.SecurityGroup(
            f"{name}-nfs", vpc_id=args.vpc_id,
            description=f"EFS mount targets of stack {args.stack}: NFS from the tasks with volumes only",
            tags=args.tags, opts=child)
        targets = [aws.efs.MountTarget(f"{name}-mount-{index}", file_system_id=file_system.id, subnet_id=subnet,
                                       security_groups=[group.id], opts=child)
                   for index, subnet in enumerate(args.subnet_ids)]
        aws.efs.FileSystemPolicy(
            f"{name}-tls-only", file_system_id=file_system.id,
            policy=file_system.arn.apply(lambda arn: json.dumps(file_system_policy(arn))), opts=child)
        self.file_system_id = pulumi.Output.all(file_system.id, *[t.id for t in targets]).apply(lambda ids: ids[0])
        self.file_system_arn = file_system.arn
        self.security_group_id = group.id
        self.mount_targets = list(targets)
        self.register_outputs({"fileSystemId": self.file_system_id, "fileSystemArn": file_system.arn})


@dataclass(frozen=True)
class VolumeSpec:
    """One persistent named volume of an API."""

    volume: str
    uid: int = 0
    gid: int = 0


@dataclass
class ApiVolumesArgs:
    stack: str
    api: str
    file_system_id: pulumi.Input[str]
    nfs_security_group_id: pulumi.Input[str]
    """The mount targets' group (FileSystem.security_group_id): gets an ingress rule from this API's tasks."""
    task_security_group_id: pulumi.Input[str]
    volumes: list[VolumeSpec]
    permissions: str = "0755"
    """Mode of each volume's root directory when EFS creates it (owned by the volume's uid/gid)."""
    tags: dict[str, str] = field(default_factory=dict)


class ApiVolumes(pulumi.ComponentResource):
    """One API's access points and its NFS ingress rule."""

    access_point_ids: dict[str, pulumi.Output[str]]
    access_point_arns: dict[str, pulumi.Output[str]]
    ready: list[pulumi.Resource]
    """What a task of this API needs before it can mount: the NFS rules both ways and the access points."""

    def __init__(self, name: str, args: ApiVolumesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:filesystem:ApiVolumes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ingress = aws.vpc.SecurityGroupIngressRule(
            f"{name}-nfs", security_group_id=args.nfs_security_group_id,
            referenced_security_group_id=args.task_security_group_id, ip_protocol="tcp",
            from_port=NFS_PORT, to_port=NFS_PORT, description=f"NFS from the tasks of {args.api}",
            tags=args.tags, opts=child)
        # Explicit, so the tasks reach NFS also when their other egress is limited (taskEgress: https).
        egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-nfs-out", security_group_id=args.task_security_group_id,
            referenced_security_group_id=args.nfs_security_group_id, ip_protocol="tcp",
            from_port=NFS_PORT, to_port=NFS_PORT, description=f"NFS from the tasks of {args.api} to the volumes",
            tags=args.tags, opts=child)
        self.access_point_ids, self.access_point_arns = {}, {}
        self.ready = [ingress, egress]
        for spec in args.volumes:
            point = aws.efs.AccessPoint(
                f"{name}-{spec.volume}", file_system_id=args.file_system_id,
                # Every file operation acts as this user, so the image finds its data directory its own.
                posix_user={"uid": spec.uid, "gid": spec.gid},
                root_directory={"path": access_point_path(args.api, spec.volume), "creation_info": {
                    "owner_uid": spec.uid, "owner_gid": spec.gid, "permissions": args.permissions}},
                tags={**args.tags, "Name": f"{args.stack}-{args.api}-{spec.volume}"}, opts=child)
            self.access_point_ids[spec.volume] = point.id
            self.access_point_arns[spec.volume] = point.arn
            self.ready.append(point)
        self.register_outputs({"accessPointIds": self.access_point_ids})
