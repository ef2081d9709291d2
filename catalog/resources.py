"""The vocabulary the policy pack, the cost model and the offline plan share: Pulumi type tokens of the
resources they look at, ``Resource`` (a resource as they all see it: camelCase wire names), ``UNKNOWN`` (a value
only known after the deploy) and readers for the shapes the wire gives values in. Pure Python; imports nothing
of the project, so ``policies`` and ``ops`` can both depend on it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER_CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_LIFECYCLES = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                 "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
S3_VERSIONINGS = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
HTTP_ROUTE = "aws:apigatewayv2/route:Route"
SCALING_TARGET = "aws:appautoscaling/target:Target"
PIPELINE_RUN_SUFFIX = ":PipelineRun"   # components/providers/pipeline_run.py: scales a first deploy to the replicas
PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


class _Unknown:
    """A value that only exists after the deploy (an id, an ARN), as seen during `pulumi preview`."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Resource:
    """A resource as every rule sees it. ``parent_urn`` and ``region`` are empty when unknown."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    parent_urn: str = ""
    region: str = ""
    protect: bool = False
    """The resource option: Pulumi refuses to delete or replace it."""
EIP = "aws:ec2/eip:Eip"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer",
                  "aws:elasticloadbalancing/loadBalancer:LoadBalancer")
HOSTED_ZONES = ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace",
                "aws:servicediscovery/publicDnsNamespace:PublicDnsNamespace", "aws:route53/zone:Zone")
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
SECRET = "aws:secretsmanager/secret:Secret"
KMS_KEY = "aws:kms/key:Key"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
HTTP_API = "aws:apigatewayv2/api:Api"
VPC_LINK = "aws:apigatewayv2/vpcLink:VpcLink"
DOMAIN_NAME = "aws:apigatewayv2/domainName:DomainName"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
CLOUD_MAP_SERVICE = "aws:servicediscovery/service:Service"
USER_POOL = "aws:cognito/userPool:UserPool"
CODEBUILD = "aws:codebuild/project:Project"
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
EFS_ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
EFS_BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
# issue 14 (security rules and the flow-log cost)
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
HTTP_STAGE = "aws:apigatewayv2/stage:Stage"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
LOG_SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"   # issue 23: the managed source zip, scanned for secrets
# issue 23: tags the program sets for the policy pack (components/secrets.py, components/api.py, network.py say so too)
SAMPLE_VALUE_TAG = "serverless-containers:sample-value"     # a secret holding a committed sample's value
LOG_KIND_TAG, SECURITY_LOGS = "serverless-containers:logs", "security"   # access and flow logs: their own cap


def of_type(resources: Sequence[Resource], *types: str) -> list[Resource]:
    """The resources of any of these type tokens, in the stack's order."""
    return [r for r in resources if r.type in types]


def known(value: Any) -> bool:
    return value is not None and value is not UNKNOWN


def number(value: Any) -> float | None:
    """A known number (the wire sends 2 as 2.0, and task sizes as strings), else None."""
    if isinstance(value, bool) or not known(value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def task_cpu_units(value: Any) -> float | None:
    """ECS accepts "256", 256 and "0.25 vCPU" alike."""
    text = str(value).strip().lower() if known(value) else ""
    match = re.fullmatch(r"([\d.]+)\s*vcpu", text)
    return float(match.group(1)) * 1024 if match else number(value)


def task_memory_mib(value: Any) -> float | None:
    """ECS accepts "512", 512 and "0.5 GB" alike."""
    text = str(value).strip().lower() if known(value) else ""
    match = re.fullmatch(r"([\d.]+)\s*gb", text)
    return float(match.group(1)) * 1024 if match else number(value)


def as_list(value: Any) -> list:
    """Nested blocks arrive as an object or as a one-element list, depending on the provider version."""
    if not known(value):
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if known(v)]
    return []


def block(value: Any) -> Mapping[str, Any]:
    items = [v for v in as_list(value) if isinstance(v, Mapping)]
    return items[0] if items else {}


def json_document(value: Any) -> Any:
    """A JSON string property (a task's container definitions, an ECR lifecycle policy), or UNKNOWN."""
    if not known(value):
        return UNKNOWN
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return UNKNOWN


def spot_share(strategy: Sequence[Mapping[str, Any]]) -> tuple[bool, bool]:
    """(some tasks on FARGATE_SPOT, every task on FARGATE_SPOT) for a capacity provider strategy."""
    used = [s for s in strategy if (number(s.get("weight")) or 0) > 0 or (number(s.get("base")) or 0) > 0]
    on_spot = [s for s in used if s.get("capacityProvider") == "FARGATE_SPOT"]
    return bool(on_spot), bool(used) and len(on_spot) == len(used)
