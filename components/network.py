"""The network: a VPC with public subnets only (no NAT gateway), and the two security groups of each API.

Tasks run in public subnets with a public IP so they can pull images and call AWS APIs without a
NAT gateway (about 32 USD a month per AZ, idle or not). Nothing can reach them from the internet
anyway: their security group admits only the API's VPC link, on the routed port.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.settings.stack import ExistingVpc
from components.errors import ConfigError
from components.settings.security import SECURITY_LOG_TAGS
from components.vpc_links import SOURCE as VPC_LINK_SOURCE
from components.vpc_links import VPC_LINK_ZONE_IDS, vpc_link_supported

# Fargate cannot run in this us-east-1 zone; AWS names zones differently per account, ids are stable.
ZONE_IDS_WITHOUT_FARGATE = ["use1-az3"]


@dataclass
class NetworkArgs:
    stack: str
    high_availability: bool = False
    """False: one public subnet in one AZ (cheapest). True: one in each of 3 AZs."""
    existing_vpc: ExistingVpc | None = None
    """Use this VPC and its public subnets instead of creating a VPC. None: create one."""
    cidr_block: str = "10.0.0.0/16"
    """The created VPC's range; each subnet gets a /20 of it (4091 addresses)."""
    subnet_prefix: int = 20
    config_file: str = ""
    """The stack file, for error messages."""
    region: str = ""
    """For the gateway endpoints' service names, the flow-log role's trust condition, and the zones: where API
    Gateway cannot place a VPC link is avoided (components/vpc_links.py)."""
    account_id: str = ""
    flow_logs: bool = False
    """True: the created VPC's flow logs (accepted and rejected traffic) go to CloudWatch Logs."""
    log_retention_days: int = 7
    """Retention of the flow-log group (`securityLogRetentionDays`, else `logRetentionDays`)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Added to every resource."""


# Gateway endpoints are free: S3 (artifacts, ECR's image layers) and DynamoDB traffic stays on AWS's
# network instead of leaving through the internet gateway.
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")


def flow_log_group_name(stack: str) -> str:
    return f"/serverless-containers/{stack}/vpc-flow-logs"


def flow_log_assume_role_policy(account_id: str, region: str) -> str:
    """VPC Flow Logs of this account's flow logs only (aws:SourceAccount and aws:SourceArn)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"}}}]})


def flow_log_role_policy(log_group_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "WriteFlowLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
        "Resource": [log_group_arn, f"{log_group_arn}:*"]}]}


def subnet_cidrs(vpc_cidr: str, count: int, prefix: int) -> list[str]:
    """The first ``count`` /``prefix`` blocks of ``vpc_cidr``."""
    blocks = ipaddress.ip_network(vpc_cidr).subnets(new_prefix=prefix)
    return [str(next(blocks)) for _ in range(count)]


class Network(pulumi.ComponentResource):
    """A VPC (DNS on, as Cloud Map needs), an internet gateway and public subnets, or an existing VPC."""

    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    availability_zones: list[str]
    internet_path: list[pulumi.Resource]
    """The internet route and the subnets' route-table associations (empty for an existing VPC): a service
    orders itself after them (ServiceArgs.after), so its first tasks can pull images."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.existing_vpc:
            self._use_existing(args)
        else:
            self._create(name, args, child)
        if args.flow_logs:
            self._flow_logs(name, args, self.vpc_id, child)
        self.register_outputs({"vpcId": self.vpc_id, "subnetIds": self.subnet_ids})

    def _use_existing(self, args: NetworkArgs) -> None:
        existing = args.existing_vpc
        found = aws.ec2.get_vpc(id=existing.vpc_id)
        # Cloud Map's private namespace resolves only in a VPC with DNS support and hostnames.
        for attribute, key in (("enable_dns_support", "DNS resolution"), ("enable_dns_hostnames", "DNS hostnames")):
            if getattr(found, attribute, None) is False:
                raise ConfigError(f"VPC {existing.vpc_id} has {key} turned off; Cloud Map service discovery needs it.",
                                  file=args.config_file, key="serverless-containers:existingVpc.vpcId",
                                  fix=f"turn on {key} in the VPC settings, or remove existingVpc to create a VPC.")
        # The API's VPC link goes into these subnets: API Gateway supports VPC links only in some zones.
        for index, subnet_id in enumerate(existing.subnet_ids):
            zone_id = getattr(aws.ec2.get_subnet(id=subnet_id), "availability_zone_id", None) or ""
            if zone_id and not vpc_link_supported(args.region, zone_id):
                raise ConfigError(
                    f"subnet {subnet_id} is in zone {zone_id}, where API Gateway cannot place an HTTP API VPC link "
                    f"(supported in {args.region}: {', '.join(sorted(VPC_LINK_ZONE_IDS[args.region]))}; "
                    f"{VPC_LINK_SOURCE}).", file=args.config_file,
                    key=f"serverless-containers:existingVpc.subnetIds[{index}]",
                    fix="use public subnets in the supported zones.")
        self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
        self.subnet_ids = [pulumi.Output.from_input(s) for s in existing.subnet_ids]
        self.availability_zones = []
        self.internet_path = []

    def _create(self, name: str, args: NetworkArgs, child: pulumi.ResourceOptions) -> None:
        zone_count = 3 if args.high_availability else 1
        zones = aws.get_availability_zones(
            state="available", exclude_zone_ids=ZONE_IDS_WITHOUT_FARGATE,
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}])
        # The API's VPC link shares the tasks' subnets, so only zones where API Gateway supports VPC links.
        names = sorted(name for name, zone_id in zip(zones.names, zones.zone_ids or [""] * len(zones.names))
                       if vpc_link_supported(args.region, zone_id))
        if len(names) < zone_count:
            raise ConfigError(f"this region has only {len(names)} usable availability zones.",
                              file=args.config_file, key="serverless-containers:highAvailability",
                              fix="set highAvailability: false, or deploy to a region with 3 zones.")
        self.availability_zones = names[:zone_count]
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr_block, enable_dns_support=True,
                          enable_dns_hostnames=True, tags={**args.tags, "Name": f"serverless-containers-{args.stack}"},
                          opts=child)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**args.tags, "Name": f"serverless-containers-{args.stack}"},
                                          opts=child)
        table = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id,
                                   tags={**args.tags, "Name": f"serverless-containers-{args.stack}-public"}, opts=child)
        route = aws.ec2.Route(f"{name}-internet", route_table_id=table.id, destination_cidr_block="0.0.0.0/0",
                              gateway_id=gateway.id, opts=child)
        self.internet_path = [route]
        self.subnet_ids = []
        for zone, cidr in zip(self.availability_zones, subnet_cidrs(args.cidr_block, zone_count, args.subnet_prefix)):
            subnet = aws.ec2.Subnet(f"{name}-public-{zone}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zone,
                                    map_public_ip_on_launch=True,
                                    tags={**args.tags, "Name": f"serverless-containers-{args.stack}-public-{zone}"},
                                    opts=child)
            self.internet_path.append(aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", route_table_id=table.id, subnet_id=subnet.id, opts=child))
            self.subnet_ids.append(subnet.id)
        self.vpc_id = vpc.id
        # The VPC's default security group, managed with no rules: nothing that lands in it by accident
        # (a console-made instance, an endpoint) can send or receive anything (CIS 5.4, FSBP EC2.2).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-deny", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags={**args.tags, "Name": f"serverless-containers-{args.stack}-default-deny-all"},
                                     opts=child)
        for service in GATEWAY_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(f"{name}-{service}", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
                                service_name=f"com.amazonaws.{args.region}.{service}", route_table_ids=[table.id],
                                tags={**args.tags, "Name": f"serverless-containers-{args.stack}-{service}"},
                                opts=child)

    def _flow_logs(self, name: str, args: NetworkArgs, vpc_id: pulumi.Output[str],
                   child: pulumi.ResourceOptions) -> None:
        group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", name=flow_log_group_name(args.stack),
                                        retention_in_days=args.log_retention_days,
                                        tags={**args.tags, **SECURITY_LOG_TAGS}, opts=child)
        role = aws.iam.Role(f"{name}-flow-logs", description=f"VPC Flow Logs of stack {args.stack} write with it",
                            assume_role_policy=flow_log_assume_role_policy(args.account_id, args.region),
                            tags=args.tags, opts=child)
        policy = aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id,
                                    policy=group.arn.apply(lambda arn: json.dumps(flow_log_role_policy(arn))),
                                    opts=child)
        aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=vpc_id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=group.arn, iam_role_arn=role.arn, max_aggregation_interval=600,
                        tags=args.tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))


@dataclass
class ApiSecurityGroupsArgs:
    stack: str
    api: str
    vpc_id: pulumi.Input[str]
    routed_port: int
    """The entrypoint container's port: the only one the VPC link may reach. Other containers of the
    task talk over localhost and are not reachable from the network at all."""
    protocol: str = "tcp"
    egress: str = "all"
    """all: the tasks may call anything. https: only TCP 443 (AWS APIs, ECR, Docker Hub, most web APIs)."""
    tags: dict[str, str] = field(default_factory=dict)


class ApiSecurityGroups(pulumi.ComponentResource):
    """Two security groups per API: the VPC link's, which may only connect to the tasks on the routed
    port, and the tasks', which admits only the VPC link and may call out anywhere (image pulls, AWS APIs)."""

    vpc_link_security_group_id: pulumi.Output[str]
    task_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ApiSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:network:ApiSecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Auto-named (logical name + random suffix): a replaced group can then be created before the
        # old one is deleted, which a fixed name (unique per VPC) would forbid.
        link = aws.ec2.SecurityGroup(f"{name}-vpc-link", vpc_id=args.vpc_id,
                                     description=f"API Gateway VPC link of {args.api}: connects to its tasks only",
                                     tags=args.tags, opts=child)
        task = aws.ec2.SecurityGroup(f"{name}-task", vpc_id=args.vpc_id,
                                     description=f"Fargate tasks of {args.api}: reachable from its VPC link only",
                                     tags=args.tags, opts=child)
        # Rules as separate resources: the two groups refer to each other.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-vpc-link-to-task", security_group_id=link.id, referenced_security_group_id=task.id,
            ip_protocol=args.protocol, from_port=args.routed_port, to_port=args.routed_port,
            description="to the tasks of the API on the routed port", tags=args.tags, opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-task-from-vpc-link", security_group_id=task.id, referenced_security_group_id=link.id,
            ip_protocol=args.protocol, from_port=args.routed_port, to_port=args.routed_port,
            description="from the VPC link of the API on the routed port", tags=args.tags, opts=child)
        # taskEgress (docs/design.md): DNS to the VPC resolver is never filtered by security groups.
        egress = {"ip_protocol": "-1"} if args.egress == "all" else {"ip_protocol": "tcp", "from_port": 443,
                                                                       "to_port": 443}
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-task-egress", security_group_id=task.id, cidr_ipv4="0.0.0.0/0", **egress,
            description="image pulls, AWS APIs and outbound calls of the app", tags=args.tags, opts=child)
        self.vpc_link_security_group_id = link.id
        self.task_security_group_id = task.id
        self.register_outputs({"vpcLinkSecurityGroupId": link.id, "taskSecurityGroupId": task.id})
