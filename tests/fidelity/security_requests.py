"""Mappers for the resources issue 14 (security hardening) added: the VPC's default security group,
the S3/DynamoDB gateway endpoints and the VPC flow log. Registered into ``aws_requests.MAPPERS``."""
from __future__ import annotations

from ops.plan.mockrun import ACCOUNT_ID
from tests.fidelity.request_shapes import Inputs, compact, tag_list, tag_specifications

# getCallerIdentity's ARN under the mocks (ops/plan/mockrun.py): the deploying principal
MOCK_CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/mock"


def _default_security_group(i: Inputs) -> list:
    """The provider adopts the VPC's default group, then revokes every rule not in the config (none here)."""
    vpc = i.get("vpcId")
    out = [("ec2", "DescribeSecurityGroups", {"Filters": [{"Name": "vpc-id", "Values": [vpc]},
                                                           {"Name": "group-name", "Values": ["default"]}]}, True)]
    for key, operation in (("ingress", "AuthorizeSecurityGroupIngress"), ("egress", "AuthorizeSecurityGroupEgress")):
        rules = i.get(key) or []
        assert not rules, f"{key} rules on the default security group: it must deny everything"
    if i.get("tags"):
        out.append(("ec2", "CreateTags", {"Resources": [i.resource.id], "Tags": tag_list(i.data["tags"])}))
    return out


def _vpc_endpoint(i: Inputs) -> list:
    return [("ec2", "CreateVpcEndpoint", compact({
        "VpcId": i.get("vpcId"), "ServiceName": i.get("serviceName"), "VpcEndpointType": i.get("vpcEndpointType"),
        "RouteTableIds": i.get("routeTableIds"), "SubnetIds": i.get("subnetIds"),
        "SecurityGroupIds": i.get("securityGroupIds"), "PolicyDocument": i.get("policy"),
        "PrivateDnsEnabled": i.get("privateDnsEnabled"),
        "TagSpecifications": tag_specifications(i.get("tags"), "vpc-endpoint")}), True)]


def _flow_log(i: Inputs) -> list:
    return [("ec2", "CreateFlowLogs", compact({
        "ResourceIds": [i.get("vpcId")], "ResourceType": "VPC", "TrafficType": i.get("trafficType"),
        "LogDestinationType": i.get("logDestinationType"), "LogDestination": i.get("logDestination"),
        "DeliverLogsPermissionArn": i.get("iamRoleArn"), "MaxAggregationInterval": i.get("maxAggregationInterval"),
        "LogFormat": i.get("logFormat"), "TagSpecifications": tag_specifications(i.get("tags"), "vpc-flow-log")}),
        True)]


MAPPERS = {
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _default_security_group,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/flowLog:FlowLog": _flow_log,
}

# moto_smoke: where the real id of each resource is in the primary request's response
ID_OUTPUTS = {
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {"id": lambda response, client:
                                                           response["SecurityGroups"][0]["GroupId"]},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"id": lambda response, client: response["VpcEndpoint"]["VpcEndpointId"]},
}


def without_source_arns(params: dict) -> dict:
    """A trust policy's ``aws:SourceArn`` names the project (or rule) that will assume the role before that
    resource exists: its ARN is known from its physical name (components/pipeline/access.py). Not a
    reference to a created resource, so moto_smoke leaves it out of its created-before check."""
    import json

    document = params.get("AssumeRolePolicyDocument")
    if not isinstance(document, str) or "aws:SourceArn" not in document:
        return params
    policy = json.loads(document)
    for statement in policy.get("Statement", []):
        for operator in list((statement.get("Condition") or {})):
            statement["Condition"][operator].pop("aws:SourceArn", None)
    return {**params, "AssumeRolePolicyDocument": json.dumps(policy)}


def unconditional_bucket_policy(params: dict) -> dict:
    """moto applies a Deny statement's effect whatever its Condition says (it refuses every PutObject under
    `aws:SecureTransport`/`aws:PrincipalArn` denies), so the smoke deploy sends the policy without its
    conditional denies; their logic is tested against IAM's semantics in tests/test_security_pipeline.py."""
    import json

    policy = json.loads(params["Policy"])
    kept = [s for s in policy["Statement"] if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    policy["Statement"] = kept or [{"Sid": "Placeholder", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                    "Resource": f"arn:aws:s3:::{params['Bucket']}/nothing-is-here"}]
    return {**params, "Policy": json.dumps(policy)}


MOTO_ADJUSTMENTS = {("s3", "PutBucketPolicy"): unconditional_bucket_policy}
