"""components/network.py under the mock runtime: subnets per AZ, no NAT, security groups that admit
only the VPC link on the routed port, and the existing-VPC mode."""
from __future__ import annotations

import ipaddress

import pytest

from components.settings.stack import ExistingVpc
from components.errors import ConfigError
from components.network import (ApiSecurityGroups, ApiSecurityGroupsArgs, Network, NetworkArgs,
                                ZONE_IDS_WITHOUT_FARGATE, subnet_cidrs)
from ops.plan import mockrun

NAT_TYPES = ("aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip")


def run_network(**kwargs):
    def program():
        network = Network("network", NetworkArgs(stack="dev", tags={"stack": "dev"}, **kwargs))
        ApiSecurityGroups("posts-firewall", ApiSecurityGroupsArgs(
            stack="dev", api="posts", vpc_id=network.vpc_id, routed_port=8080))
    return mockrun.run(program)


@pytest.mark.parametrize("high_availability, zones", [(False, 1), (True, 3)])
def test_public_subnets_per_zone_and_no_nat(high_availability, zones):
    result = run_network(high_availability=high_availability)
    vpc = result.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    subnets = result.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == zones
    assert len({s.inputs["availabilityZone"] for s in subnets}) == zones
    assert all(s.inputs["mapPublicIpOnLaunch"] is True and s.inputs["vpcId"] == vpc.id for s in subnets)
    vpc_range = ipaddress.ip_network(vpc.inputs["cidrBlock"])
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(block.subnet_of(vpc_range) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    for token in NAT_TYPES:
        assert result.of_type(token) == []
    gateway = result.one("aws:ec2/internetGateway:InternetGateway")
    table = result.one("aws:ec2/routeTable:RouteTable")
    route = result.one("aws:ec2/route:Route")
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0" and route.inputs["gatewayId"] == gateway.id
    assert route.inputs["routeTableId"] == table.id
    associations = result.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert sorted(a.inputs["subnetId"] for a in associations) == sorted(s.id for s in subnets)
    network = result.one("serverless-containers:network:Network")
    assert all(r.parent_urn == network.urn for r in (vpc, gateway, table, route, *subnets))
    zones_call = next(args for token, args in result.invokes
                      if token == "aws:index/getAvailabilityZones:getAvailabilityZones")
    assert zones_call["excludeZoneIds"] == ZONE_IDS_WITHOUT_FARGATE and zones_call["state"] == "available"


def test_too_few_zones_for_high_availability():
    two_zones = {"aws:index/getAvailabilityZones:getAvailabilityZones":
                 {"names": ["eu-x-1a", "eu-x-1b"], "zoneIds": ["a", "b"], "id": "eu-x-1"}}
    with pytest.raises(ConfigError) as caught:
        mockrun.run(lambda: Network("network", NetworkArgs(stack="dev", high_availability=True,
                                                            config_file="stacks/Pulumi.dev.yaml")),
                    invoke_results=two_zones)
    assert caught.value.key == "serverless-containers:highAvailability"


def test_security_groups_admit_only_the_vpc_link_on_the_routed_port():
    result = run_network()
    groups = {g.name: g for g in result.of_type("aws:ec2/securityGroup:SecurityGroup")}
    link, task = groups["posts-firewall-vpc-link"], groups["posts-firewall-task"]
    vpc = result.one("aws:ec2/vpc:Vpc")
    assert link.inputs["vpcId"] == vpc.id and task.inputs["vpcId"] == vpc.id
    assert "name" not in link.inputs and "name" not in task.inputs   # auto-named, see network.py
    # no inline rules: every rule is a separate, inspectable resource
    assert not task.inputs.get("ingress") and not task.inputs.get("egress")
    ingress = result.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert len(ingress) == 1
    rule = ingress[0].inputs
    assert rule["securityGroupId"] == task.id and rule["referencedSecurityGroupId"] == link.id
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (8080, 8080, "tcp")
    assert "cidrIpv4" not in rule
    egress = {r.inputs["securityGroupId"]: r.inputs
              for r in result.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert egress[link.id]["referencedSecurityGroupId"] == task.id
    assert (egress[link.id]["fromPort"], egress[link.id]["toPort"]) == (8080, 8080)
    assert egress[task.id]["cidrIpv4"] == "0.0.0.0/0" and egress[task.id]["ipProtocol"] == "-1"


def test_existing_vpc_creates_only_security_groups():
    result = run_network(existing_vpc=ExistingVpc("vpc-0abc", ("subnet-01", "subnet-02")))
    for token in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
                  "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route", *NAT_TYPES):
        assert result.of_type(token) == [], token
    groups = result.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert len(groups) == 2 and all(g.inputs["vpcId"] == "vpc-0abc" for g in groups)
    assert ("aws:ec2/getVpc:getVpc", {"id": "vpc-0abc"}) in [(t, {"id": a.get("id")}) for t, a in result.invokes]


def test_existing_vpc_without_dns_is_refused():
    no_dns = {"aws:ec2/getVpc:getVpc": {"id": "vpc-0abc", "cidrBlock": "10.1.0.0/16", "enableDnsSupport": True,
                                         "enableDnsHostnames": False}}
    with pytest.raises(ConfigError) as caught:
        mockrun.run(lambda: Network("network", NetworkArgs(
            stack="dev", existing_vpc=ExistingVpc("vpc-0abc", ("subnet-01",)), config_file="stacks/Pulumi.dev.yaml")),
            invoke_results=no_dns)
    assert "DNS hostnames" in caught.value.problem and caught.value.key == "serverless-containers:existingVpc.vpcId"


def test_subnet_cidrs():
    assert subnet_cidrs("10.0.0.0/16", 3, 20) == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]


def test_created_subnets_avoid_zones_without_http_api_vpc_links():
    """us-west-1 supports VPC links in usw1-az1 and usw1-az3 only (components/vpc_links.py, AWS's table)."""
    def program():
        Network("network", NetworkArgs(stack="dev", region="us-west-1", high_availability=False))
    result = mockrun.run(program, config={"aws:region": "us-west-1"})
    subnet, = result.of_type("aws:ec2/subnet:Subnet")
    assert subnet.inputs["availabilityZone"] == "us-west-1a"          # usw1-az1 under the mocks
    with pytest.raises(Exception) as error:       # only two supported zones: no three-zone stack in us-west-1
        mockrun.run(lambda: Network("network", NetworkArgs(stack="dev", region="us-west-1", high_availability=True)),
                    config={"aws:region": "us-west-1"})
    assert "usable availability zones" in str(error.value)


def test_existing_subnets_in_a_zone_without_vpc_links_are_refused():
    existing = ExistingVpc(vpc_id="vpc-0abc", subnet_ids=("subnet-0aaa", "subnet-0bbb"))
    invoke = {"aws:ec2/getSubnet:getSubnet": {"id": "subnet-0bbb", "vpcId": "vpc-0abc",
                                               "availabilityZone": "us-east-1c", "availabilityZoneId": "use1-az3"}}
    with pytest.raises(Exception) as error:
        mockrun.run(lambda: Network("network", NetworkArgs(stack="dev", region="us-east-1", existing_vpc=existing,
                                                           config_file="stacks/Pulumi.dev.yaml")),
                    invoke_results=invoke)
    message = str(error.value)
    assert "zone use1-az3, where API Gateway cannot place an HTTP API VPC link" in message
    assert "existingVpc.subnetIds[0]" in message and "use1-az1, use1-az2, use1-az4, use1-az5, use1-az6" in message
    # a supported zone passes
    fine = {"aws:ec2/getSubnet:getSubnet": {**invoke["aws:ec2/getSubnet:getSubnet"], "availabilityZoneId": "use1-az2"}}
    mockrun.run(lambda: Network("network", NetworkArgs(stack="dev", region="us-east-1", existing_vpc=existing)),
                invoke_results=fine)
