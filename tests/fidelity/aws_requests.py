"""Recorded Pulumi inputs -> the AWS API requests the Terraform AWS provider sends for them.

One mapper per Pulumi type token (``MAPPERS``). A mapper reads the resource's inputs through ``Inputs``,
which remembers what was read: an input no mapper reads is an error, so when the program starts setting
a new argument the suite fails until the mapping says where the provider sends it. Types that make no
AWS request of their own are in ``NOT_CHECKABLE`` with the reason.

Member names follow botocore's model (PascalCase for most services, camelCase for ECS, ECR, CodeBuild,
CodePipeline and CloudWatch Logs). Numbers arrive from the mocks as floats; ``validate`` turns integral
floats into ints where the model wants an integer, as the provider's schema does.

The mappers live in requests_network.py, requests_compute.py, requests_data.py, requests_scaling.py,
requests_functions.py and security_requests.py, on the shared helpers of request_shapes.py; this module holds the registry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# ApiRequest, _segment_pattern and substitute are imported from here by tests.
from tests.fidelity.request_shapes import ApiRequest, Inputs, Mapper, _segment_pattern, substitute  # noqa: F401
from tests.fidelity.requests_compute import (
    _cluster,
    _cluster_capacity_providers,
    _codebuild_project,
    _ecs_service,
    _event_rule,
    _event_target,
    _iam_policy,
    _iam_role,
    _iam_role_policy,
    _iam_role_policy_attachment,
    _lifecycle_policy,
    _log_group,
    _pipeline,
    _repository,
    _repository_policy,
    _task_definition,
)
from tests.fidelity.requests_data import (
    _bucket,
    _bucket_encryption,
    _bucket_lifecycle,
    _bucket_notification,
    _bucket_object,
    _bucket_policy,
    _bucket_versioning,
    _connection,
    _efs_access_point,
    _efs_backup_policy,
    _efs_file_system,
    _efs_file_system_policy,
    _efs_mount_target,
    _ownership_controls,
    _public_access_block,
    _secret,
    _secret_version,
    _table,
    _user_pool,
    _user_pool_client,
    _user_pool_domain,
)
from tests.fidelity.requests_network import (
    _api_mapping,
    _authorizer,
    _certificate,
    _certificate_validation,
    _discovery_service,
    _domain_name,
    _http_api,
    _integration,
    _internet_gateway,
    _private_dns_namespace,
    _record,
    _route,
    _route_table,
    _route_table_association,
    _route_v2,
    _security_group,
    _security_group_rule,
    _stage,
    _subnet,
    _vpc,
    _vpc_link,
    _vpc_rule,
)
from tests.fidelity.requests_scaling import (
    _metric_alarm,
    _scalable_target,
    _scaling_policy,
    _scheduled_action,
    _sns_subscription,
    _sns_topic,
    _sns_topic_policy,
)
from tests.fidelity.requests_functions import MAPPERS as _FUNCTION_MAPPERS
from tests.fidelity.security_requests import MAPPERS as _SECURITY_MAPPERS

MAPPERS: dict[str, Mapper] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/internetGateway:InternetGateway": _internet_gateway,
    "aws:ec2/routeTable:RouteTable": _route_table,
    "aws:ec2/route:Route": _route,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _route_table_association,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/securityGroupRule:SecurityGroupRule": _security_group_rule,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _vpc_rule("AuthorizeSecurityGroupIngress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _vpc_rule("AuthorizeSecurityGroupEgress"),
    "aws:ecs/cluster:Cluster": _cluster,
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _cluster_capacity_providers,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _iam_role_policy_attachment,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": _private_dns_namespace,
    "aws:servicediscovery/service:Service": _discovery_service,
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigatewayv2/vpcLink:VpcLink": _vpc_link,
    "aws:apigatewayv2/integration:Integration": _integration,
    "aws:apigatewayv2/route:Route": _route_v2,
    "aws:apigatewayv2/authorizer:Authorizer": _authorizer,
    "aws:apigatewayv2/stage:Stage": _stage,
    "aws:apigatewayv2/domainName:DomainName": _domain_name,
    "aws:apigatewayv2/apiMapping:ApiMapping": _api_mapping,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": _certificate_validation,
    "aws:route53/record:Record": _record,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:cognito/userPoolDomain:UserPoolDomain": _user_pool_domain,
    "aws:dynamodb/table:Table": _table,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:ecr/repository:Repository": _repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _lifecycle_policy,
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _repository_policy,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_versioning,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": _bucket_versioning,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_encryption,
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": _bucket_encryption,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access_block,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_lifecycle,
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": _bucket_lifecycle,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:s3/bucketObject:BucketObject": _bucket_object,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_policy,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _ownership_controls,
    "aws:s3/bucketNotification:BucketNotification": _bucket_notification,
    "aws:codebuild/project:Project": _codebuild_project,
    "aws:codepipeline/pipeline:Pipeline": _pipeline,
    "aws:codestarconnections/connection:Connection": _connection,
    "aws:appautoscaling/target:Target": _scalable_target,
    "aws:appautoscaling/policy:Policy": _scaling_policy,
    "aws:appautoscaling/scheduledAction:ScheduledAction": _scheduled_action,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:sns/topicPolicy:TopicPolicy": _sns_topic_policy,
    "aws:efs/fileSystem:FileSystem": _efs_file_system,
    "aws:efs/mountTarget:MountTarget": _efs_mount_target,
    "aws:efs/accessPoint:AccessPoint": _efs_access_point,
    "aws:efs/fileSystemPolicy:FileSystemPolicy": _efs_file_system_policy,
    "aws:efs/backupPolicy:BackupPolicy": _efs_backup_policy,
}

MAPPERS.update(_SECURITY_MAPPERS)
MAPPERS.update(_FUNCTION_MAPPERS)

# Type-token prefixes that make no AWS request the models could check, and why.
NOT_CHECKABLE: dict[str, str] = {
    "pulumi-python:dynamic/": "a Pulumi dynamic resource: its provider is our own Python code calling boto3 at "
                              "deploy time (components/providers/image_lookup.py, components/providers/pipeline_run.py, "
                              "components/providers/certificate_wait.py), tested "
                              "against moto by its own tests; it sends no request from recorded inputs",
    "pulumi:providers:": "a provider configuration: no AWS request",
}


def not_checkable_reason(type_token: str) -> str | None:
    return next((reason for prefix, reason in NOT_CHECKABLE.items() if type_token.startswith(prefix)), None)


@dataclass
class Translation:
    requests: list[ApiRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # unmapped types or inputs
    skipped: dict[str, str] = field(default_factory=dict)  # type -> reason
    renames: dict[str, str] = field(default_factory=dict)  # mock physical name -> auto-name


def translate(resources) -> Translation:
    """Every custom resource of a mock run as API requests, in registration (= dependency) order."""
    result = Translation()
    renames: dict[str, str] = {}
    for resource in resources:
        if not resource.custom:
            continue        # component resources: no AWS request of their own
        mapper = MAPPERS.get(resource.type)
        if mapper is None:
            reason = not_checkable_reason(resource.type)
            if reason:
                result.skipped[resource.type] = reason
            else:
                result.problems.append(f"{resource.type} ({resource.name}): no mapping to an AWS request and not "
                                       "listed as not checkable: add it to tests/fidelity/aws_requests.py")
            continue
        inputs = Inputs(resource)
        try:
            produced = mapper(inputs)
        except Exception as error:  # noqa: BLE001 - reported with the resource, not raised halfway
            result.problems.append(f"{resource.type} ({resource.name}): mapping failed: {type(error).__name__}: "
                                   f"{error}")
            continue
        unread = [k for k in inputs.unread() if k not in ("__defaults",)]
        if unread:
            result.problems.append(f"{resource.type} ({resource.name}): inputs {unread} are not mapped to any request "
                                   "field: extend its mapper in tests/fidelity/aws_requests.py")
        renames.update(inputs.renames)
        for item in produced:
            service, operation, params, *primary = item
            result.requests.append(ApiRequest(service, operation, substitute(params, renames), resource.type,
                                              resource.name, bool(primary and primary[0])))
    result.renames = renames
    return result
