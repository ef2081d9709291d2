"""Smoke deploy: the translated requests applied to moto in registration (= dependency) order.

Each request is sent with boto3 to ``moto.mock_aws``. Before sending, every mock id or ARN that an earlier
request replaced is swapped for the one moto returned (``ID_OUTPUTS`` says where each type's real ids are
in its create response), so a reference that names the wrong thing, or a resource never created, fails the
way it would against AWS. A mock id still present after the swap is reported as a reference that does not
resolve. Requests of services moto does not emulate, and destroy-time requests, are listed as skipped.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import boto3
import botocore.exceptions
from botocore.config import Config
from moto import mock_aws

from tests.fidelity.security_requests import ID_OUTPUTS as SECURITY_ID_OUTPUTS, MOCK_CALLER_ARN, without_source_arns
from tests.fidelity.security_requests import MOTO_ADJUSTMENTS as SECURITY_MOTO_ADJUSTMENTS
from tests.fidelity.aws_requests import ApiRequest, Translation, _segment_pattern, substitute
from tests.fidelity.validate import prepared_params

# Services whose requests moto emulates (moto 5.2); the others are checked against the models only.
MOTO_SERVICES = {"ec2", "iam", "logs", "events", "servicediscovery", "apigatewayv2", "cognito-idp", "dynamodb",
                 "secretsmanager", "ecr", "s3", "ecs", "codebuild", "codepipeline", "efs",
                 "application-autoscaling", "cloudwatch", "sns", "lambda"}
# Requests sent when the stack is destroyed, not when it is created.
DESTROY_TIME = {("secretsmanager", "DeleteSecret")}


def _get(path: str) -> Callable[[dict, Any], Any]:
    def read(response: dict, client) -> Any:
        value: Any = response
        for key in path.split("."):
            value = value[key]
        return value
    return read


def _namespace_id(response: dict, client) -> str:
    """CreatePrivateDnsNamespace is asynchronous: the namespace id is in the operation's targets."""
    operation = client.get_operation(OperationId=response["OperationId"])["Operation"]
    return operation["Targets"]["NAMESPACE"]


def _namespace_arn(response: dict, client) -> str:
    return client.get_namespace(Id=_namespace_id(response, client))["Namespace"]["Arn"]


# type -> {output key of the mock resource: how to read the real value from the create response}
ID_OUTPUTS: dict[str, dict[str, Callable[[dict, Any], Any]]] = {
    "aws:ec2/vpc:Vpc": {"id": _get("Vpc.VpcId")},
    "aws:ec2/subnet:Subnet": {"id": _get("Subnet.SubnetId")},
    "aws:ec2/internetGateway:InternetGateway": {"id": _get("InternetGateway.InternetGatewayId")},
    "aws:ec2/routeTable:RouteTable": {"id": _get("RouteTable.RouteTableId")},
    "aws:ec2/securityGroup:SecurityGroup": {"id": _get("GroupId")},
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": {"id": _namespace_id, "arn": _namespace_arn},
    "aws:servicediscovery/service:Service": {"id": _get("Service.Id"), "arn": _get("Service.Arn")},
    "aws:apigatewayv2/api:Api": {"id": _get("ApiId"), "apiEndpoint": _get("ApiEndpoint")},
    "aws:apigatewayv2/vpcLink:VpcLink": {"id": _get("VpcLinkId")},
    "aws:apigatewayv2/integration:Integration": {"id": _get("IntegrationId")},
    "aws:apigatewayv2/authorizer:Authorizer": {"id": _get("AuthorizerId")},
    "aws:cognito/userPool:UserPool": {"id": _get("UserPool.Id"), "arn": _get("UserPool.Arn")},
    "aws:cognito/userPoolClient:UserPoolClient": {"id": _get("UserPoolClient.ClientId")},
    "aws:secretsmanager/secret:Secret": {"arn": _get("ARN")},
    "aws:iam/role:Role": {"arn": _get("Role.Arn")},
    "aws:iam/policy:Policy": {"arn": _get("Policy.Arn")},
    "aws:ecr/repository:Repository": {"arn": _get("repository.repositoryArn"),
                                      "repositoryUrl": _get("repository.repositoryUri")},
    "aws:ecs/cluster:Cluster": {"arn": _get("cluster.clusterArn")},
    "aws:ecs/taskDefinition:TaskDefinition": {"arn": _get("taskDefinition.taskDefinitionArn")},
    "aws:dynamodb/table:Table": {"arn": _get("TableDescription.TableArn")},
    "aws:codebuild/project:Project": {"arn": _get("project.arn")},
    "aws:cloudwatch/eventRule:EventRule": {"arn": _get("RuleArn")},
    "aws:efs/fileSystem:FileSystem": {"id": _get("FileSystemId"), "arn": _get("FileSystemArn")},
    "aws:efs/mountTarget:MountTarget": {"id": _get("MountTargetId")},
    "aws:efs/accessPoint:AccessPoint": {"id": _get("AccessPointId"), "arn": _get("AccessPointArn")},
    "aws:lambda/function:Function": {"arn": _get("FunctionArn")},
    "aws:appautoscaling/policy:Policy": {"arn": _get("PolicyARN")},
    "aws:appautoscaling/target:Target": {"arn": _get("ScalableTargetARN")},
    "aws:sns/topic:Topic": {"arn": _get("TopicArn")},
}
ID_OUTPUTS.update(SECURITY_ID_OUTPUTS)


def _codebuild_locations(params: dict) -> dict:
    """moto wants a location for CODEPIPELINE sources and artifacts; AWS takes none (the pipeline supplies them)."""
    params = dict(params)
    for key in ("source", "artifacts"):
        if params.get(key, {}).get("type") == "CODEPIPELINE" and "location" not in params[key]:
            params[key] = {**params[key], "location": "supplied-by-codepipeline"}
    return params


# Where moto is stricter than AWS: (service, operation) -> params adjusted for moto only, each with its reason.
MOTO_ADJUSTMENTS: dict[tuple[str, str], Callable[[dict], dict]] = {
    ("codebuild", "CreateProject"): _codebuild_locations,
}
MOTO_ADJUSTMENTS.update(SECURITY_MOTO_ADJUSTMENTS)


ACCOUNT = "123456789012"   # moto's default account, the same as mockrun's
# type -> the ARN of what a create request made, for types whose ARN is not in ID_OUTPUTS.
ARN_OF: dict[str, Callable[[dict, dict, str], str]] = {
    "aws:cloudwatch/logGroup:LogGroup":
        lambda params, response, region: f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{params['logGroupName']}",
    "aws:s3/bucket:Bucket": lambda params, response, region: f"arn:aws:s3:::{params['Bucket']}",
    "aws:s3/bucketV2:BucketV2": lambda params, response, region: f"arn:aws:s3:::{params['Bucket']}",
    "aws:codepipeline/pipeline:Pipeline":
        lambda params, response, region: f"arn:aws:codepipeline:{region}:{ACCOUNT}:{params['pipeline']['name']}",
    "aws:ecs/service:Service": lambda params, response, region: response["service"]["serviceArn"],
    "aws:ecr/repository:Repository": lambda params, response, region: response["repository"]["repositoryArn"],
}
# Requests whose ARNs may name resources created later (IAM allows a policy for what does not exist yet);
# their ARNs are checked once everything is created.
LATE_BINDING = {("iam", "PutRolePolicy"), ("iam", "CreatePolicy"), ("iam", "CreateRole")}
_ARN_TOKEN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s\"',]+")


def _own_arns(params: Any) -> set[str]:
    """ARNs of this account, of services moto emulates, mentioned anywhere in the request (JSON text too)."""
    found = set()
    for text in _strings(params):
        for match in _ARN_TOKEN.finditer(text):
            arn = match.group(0)
            if arn.split(":")[2] in MOTO_SERVICES | {"execute-api"} and arn.split(":")[4] == ACCOUNT:
                found.add(arn)
    return found


def _names_created(arn: str, created: set[str]) -> bool:
    """The ARN is one that was created, a sub-resource of one (table/x/index/*, log-group:x:*), or a wildcard
    pattern that matches one."""
    if arn in created:
        return True
    if any(arn.startswith(c + suffix) for c in created for suffix in ("/", ":")):
        return True
    if "*" in arn:
        return any(fnmatch.fnmatchcase(c, arn) for c in created)
    return False


@dataclass
class SmokeReport:
    sent: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)   # "service.Operation" -> why
    real_ids: dict[str, str] = field(default_factory=dict)  # mock value -> moto's
    inspected: Any = None                                   # what smoke_deploy's inspect returned


def _snake(operation: str) -> str:
    out = []
    for index, char in enumerate(operation):
        if char.isupper() and index and (not operation[index - 1].isupper() or (
                index + 1 < len(operation) and operation[index + 1].islower())):
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _mock_value(resource, key: str, renames: dict[str, str]) -> Any:
    """A mock output as the translated requests spell it (auto-names applied)."""
    value = resource.outputs.get(key) if resource else None
    return substitute(value, renames) if isinstance(value, str) else value


def _mock_references(resources, renames: dict[str, str]) -> dict[str, str]:
    """Mock ids that must have been swapped before use: value -> 'type name'."""
    refs = {}
    for resource in resources:
        if resource.type in ID_OUTPUTS:
            for key in ID_OUTPUTS[resource.type]:
                value = _mock_value(resource, key, renames)
                if isinstance(value, str) and len(value) > 5:
                    refs[value] = f"{resource.type} {resource.name!r}"
    return refs


def _mentioned(params: Any, values: list[str]) -> set[str]:
    if not values:
        return set()
    pattern = _segment_pattern(tuple(sorted(values, key=len, reverse=True)))
    return {match.group(0) for text in _strings(params) for match in pattern.finditer(text)}


def _strings(value: Any):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _seed_existing_vpc(ec2, existing_vpc: dict, mapping: dict[str, str]) -> None:
    """``existingVpc`` names a VPC the user already has: create a stand-in for it in moto."""
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    mapping[existing_vpc["vpcId"]] = vpc
    for index, subnet in enumerate(existing_vpc.get("subnetIds") or []):
        mapping[subnet] = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24")["Subnet"]["SubnetId"]


_CLIENTS: dict[tuple[str, str], Any] = {}


def _client(service: str, region: str):
    """boto3 clients are slow to build (moto's hooks are copied into each): one per service and region,
    reused across smoke deploys; moto routes them to fresh backends inside every ``mock_aws``."""
    key = (service, region)
    if key not in _CLIENTS:
        session = boto3.Session(region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
        _CLIENTS[key] = session.client(service, config=Config(retries={"max_attempts": 1}))
    return _CLIENTS[key]


def smoke_deploy(result, translation: Translation, *, region: str = "us-east-1",
                 existing_vpc: dict | None = None, inspect: Callable[[Callable[[str], Any]], Any] | None = None,
                 existing_arns: Iterable[str] = ()) -> SmokeReport:
    """inspect: called with a client factory (service name -> boto3 client) once everything is sent, while moto
    still holds the state; its result is ``report.inspected``. existing_arns: what the stack config names that
    exists before the stack (`secretArns`), so naming it is no dangling reference."""
    report = SmokeReport()
    by_key = {(r.type, r.name): r for r in result.resources}
    mock_refs = _mock_references(result.resources, translation.renames)
    mapping: dict[str, str] = {}      # mock value -> moto's, where they differ
    resolved: set[str] = set()        # mock values whose resource moto has created
    created: set[str] = set()         # ARNs moto has made
    late: list[tuple[str, set[str]]] = []
    with mock_aws():
        def client(service: str):
            return _client(service, region)

        # The principal running `pulumi up` exists before the stack: the program names it in the artifact
        # buckets' policies (components/pipeline/access.py), which moto enforces on the uploads that follow.
        caller = client("sts").get_caller_identity()["Arn"]
        mapping[MOCK_CALLER_ARN] = caller
        created.add(caller)
        created.update(existing_arns)
        if existing_vpc:
            _seed_existing_vpc(client("ec2"), existing_vpc, mapping)
        for request in translation.requests:
            sent = _send(request, client, mapping, resolved, mock_refs, by_key, translation.renames, report)
            if sent is None:
                continue
            params, response, reals = sent
            named = _own_arns(without_source_arns(params))   # a trust policy's source pattern names no resource
            if (request.service, request.operation) in LATE_BINDING:
                late.append((request.where, named))
            else:
                missing = sorted(a for a in named if not _names_created(a, created))
                if missing:
                    report.failures.append(f"{request.where}: names {missing}, which nothing created before it")
            if request.primary:
                created.update(_arns_made(request, params, response, region, reals))
        if inspect is not None:
            report.inspected = inspect(client)
    for where, named in late:
        missing = sorted(a for a in named if not _names_created(a, created))
        if missing:
            report.failures.append(f"{where}: names {missing}, which the stack never creates")
    report.real_ids = mapping
    return report


def _arns_made(request: ApiRequest, params: dict, response: dict, region: str, reals: dict) -> set[str]:
    made = {reals["arn"]} if isinstance(reals.get("arn"), str) else set()
    if request.type in ARN_OF:
        try:
            made.add(ARN_OF[request.type](params, response, region))
        except KeyError:
            pass
    return made


def _send(request: ApiRequest, client, mapping, resolved, mock_refs, by_key, renames,
          report: SmokeReport) -> tuple[dict, dict, dict] | None:
    """Send one request; (params as sent, moto's response, real output values), or None when not sent."""
    label = f"{request.service}.{request.operation}"
    if request.service not in MOTO_SERVICES:
        report.skipped[label] = "moto does not emulate this service"
        return None
    if (request.service, request.operation) in DESTROY_TIME:
        report.skipped[label] = "sent when the stack is destroyed"
        return None
    params = substitute(prepared_params(request), mapping)
    adjust = MOTO_ADJUSTMENTS.get((request.service, request.operation))
    if adjust:
        params = adjust(params)
    pending = [mock for mock in mock_refs if mock not in resolved]
    unresolved = sorted({mock_refs[mock] for mock in _mentioned(without_source_arns(params), pending)})
    if unresolved:
        report.failures.append(f"{request.where}: references {unresolved}, not created before it")
        return None
    api = client(request.service)
    try:
        response = getattr(api, _snake(request.operation))(**params)
    except (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError) as error:
        report.failures.append(f"{request.where}: moto refused it: {error}")
        return None
    except NotImplementedError as error:
        report.skipped[label] = f"moto has no {request.operation}: {error}"
        return None
    report.sent.append(request.where)
    reals: dict[str, Any] = {}
    if not request.primary:
        return params, response, reals
    resource = by_key.get((request.type, request.name))
    for key, read in ID_OUTPUTS.get(request.type, {}).items():
        mock_value = _mock_value(resource, key, renames)
        try:
            real = read(response, api)
        except (KeyError, botocore.exceptions.ClientError) as error:
            report.failures.append(f"{request.where}: no {key} in moto's answer ({error})")
            continue
        reals[key] = real
        if isinstance(mock_value, str) and mock_value and real:
            resolved.add(mock_value)
            if mock_value != real:
                mapping[mock_value] = real
    return params, response, reals
