"""Botocore's service models, ARNs and IAM policy documents: the checks validate.py runs on every ARN and policy
of a request."""
from __future__ import annotations

import fnmatch
import functools
import json
import re
from typing import Any, Iterable

import botocore.session



_SESSION = botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    return _SESSION.get_service_model(service)


@functools.lru_cache(maxsize=None)
def operation_names(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)



# --- ARNs -------------------------------------------------------------------------------------------

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ACCOUNT = re.compile(r"^\d{12}$")
# Services whose ARNs have no region; S3 bucket/object ARNs have no account either.
GLOBAL_SERVICES = {"iam", "s3", "sts", "cloudfront", "route53", "organizations", "waf"}
NO_ACCOUNT_SERVICES = {"s3", "apigateway"}
# The resource part of each service's ARNs (first segment), so an ARN of the wrong kind shows.
RESOURCE_PREFIXES = {
    "iam": ("role/", "policy/", "user/", "group/", "instance-profile/", "oidc-provider/", "saml-provider/",
            "server-certificate/", "root", "*"),
    "sts": ("assumed-role/", "federated-user/", "self"),
    "ecr": ("repository/",),
    "logs": ("log-group:", "destination:", "delivery-source:", "delivery-destination:", "delivery:"),
    "dynamodb": ("table/", "global-table/"),
    "secretsmanager": ("secret:",),
    "codebuild": ("project/", "report-group/", "build/", "build-batch/", "fleet/"),
    "ecs": ("cluster/", "service/", "task-definition/", "task/", "container-instance/", "capacity-provider/",
            "task-set/"),
    "kms": ("key/", "alias/"),
    "codestar-connections": ("connection/", "host/"),
    "codeconnections": ("connection/", "host/"),
    "servicediscovery": ("namespace/", "service/"),
    "cognito-idp": ("userpool/",),
    "ec2": ("vpc/", "subnet/", "security-group/", "security-group-rule/", "internet-gateway/", "route-table/",
            "natgateway/", "elastic-ip/", "vpc-endpoint/", "network-interface/", "instance/", "image/"),
    "elasticloadbalancing": ("loadbalancer/", "targetgroup/", "listener/", "listener-rule/"),
    "apigateway": ("/",),
    "events": ("rule/", "event-bus/"),
    "ssm": ("parameter/",),
    "sns": ("",),
    "sqs": ("",),
    "codepipeline": ("",),
    "execute-api": ("",),
    "application-autoscaling": ("scalable-target/",),
    "s3": ("",),
}


def arn_problems(arn: str, *, in_policy: bool = False) -> list[str]:
    """A well-formed ARN: arn:partition:service:region:account:resource, with the right empty fields."""
    if arn == "*" and in_policy:
        return []
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return [f"{arn!r} is not an ARN (arn:partition:service:region:account:resource)"]
    _, partition, service, region, account, resource = parts
    found = []
    if partition not in PARTITIONS:
        found.append(f"{arn!r}: unknown partition {partition!r}")
    if not re.fullmatch(r"[a-z0-9-]+", service):
        found.append(f"{arn!r}: bad service {service!r}")
    wildcard = in_policy and "*" in region
    if service in GLOBAL_SERVICES:
        if region:
            found.append(f"{arn!r}: {service} ARNs have no region")
    elif not (REGION.match(region) or wildcard):
        found.append(f"{arn!r}: region {region!r} is not a region")
    if service in NO_ACCOUNT_SERVICES:
        if account:
            found.append(f"{arn!r}: {service} ARNs have no account")
    elif not (ACCOUNT.match(account) or (in_policy and "*" in account)
              or (service == "iam" and account == "aws" and resource.startswith("policy/"))):
        found.append(f"{arn!r}: account {account!r} is not a 12-digit account id")
    if not resource:
        found.append(f"{arn!r}: no resource part")
    prefixes = RESOURCE_PREFIXES.get(service)
    if prefixes and not any(resource.startswith(p) for p in prefixes) and not (in_policy and resource == "*"):
        found.append(f"{arn!r}: {service} has no resource type {resource.split('/')[0].split(':')[0]!r} "
                     f"(expected one of {list(prefixes)})")
    return found


# (service, operation, path) -> the ARN service and resource prefixes a member must name.
EXPECTED_ARNS: dict[tuple[str, str, str], tuple[str, tuple[str, ...]]] = {
    ("ecs", "RegisterTaskDefinition", "taskRoleArn"): ("iam", ("role/",)),
    ("ecs", "RegisterTaskDefinition", "executionRoleArn"): ("iam", ("role/",)),
    ("ecs", "RegisterTaskDefinition", "containerDefinitions[].secrets[].valueFrom"):
        ("secretsmanager|ssm", ("secret:", "parameter/")),
    ("ecs", "CreateService", "serviceRegistries[].registryArn"): ("servicediscovery", ("service/",)),
    ("ecs", "CreateService", "taskDefinition"): ("ecs", ("task-definition/",)),
    ("codebuild", "CreateProject", "serviceRole"): ("iam", ("role/",)),
    ("codepipeline", "CreatePipeline", "pipeline.roleArn"): ("iam", ("role/",)),
    ("iam", "AttachRolePolicy", "PolicyArn"): ("iam", ("policy/",)),
    ("apigatewayv2", "CreateAuthorizer", "AuthorizerCredentialsArn"): ("iam", ("role/",)),
    ("events", "PutRule", "RoleArn"): ("iam", ("role/",)),
    ("events", "PutTargets", "Targets[].RoleArn"): ("iam", ("role/",)),
    ("cloudwatch", "PutMetricAlarm", "AlarmActions[]"): ("autoscaling|sns", ("scalingPolicy:", "serverless-")),
    ("cloudwatch", "PutMetricAlarm", "OKActions[]"): ("sns", ("serverless-",)),
    ("sns", "Subscribe", "TopicArn"): ("sns", ("serverless-",)),
    ("sns", "SetTopicAttributes", "TopicArn"): ("sns", ("serverless-",)),
}


def _expected_arn(value: Any, services: str, prefixes: tuple[str, ...], where: str) -> list[str]:
    if not isinstance(value, str) or not value.startswith("arn:"):
        return [f"{where}: {value!r} is not an ARN"]
    found = arn_problems(value)
    parts = value.split(":", 5)
    if not found and (parts[2] not in services.split("|") or not parts[5].startswith(prefixes)):
        found.append(f"{where}: {value!r} is not a {services} {'/'.join(p.rstrip('/:') for p in prefixes)} ARN")
    return found


def _all_arns(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _all_arns(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_arns(item)
    elif isinstance(value, str) and value.startswith("arn:"):
        yield value


# --- IAM policies -----------------------------------------------------------------------------------

# IAM action prefix -> the botocore services whose operations it covers.
IAM_PREFIX_SERVICES: dict[str, tuple[str, ...]] = {
    "ecr": ("ecr",), "logs": ("logs",), "secretsmanager": ("secretsmanager",),
    "dynamodb": ("dynamodb", "dynamodbstreams"), "s3": ("s3", "s3control"), "codebuild": ("codebuild",),
    "codepipeline": ("codepipeline",), "ecs": ("ecs",), "iam": ("iam",), "sts": ("sts",), "kms": ("kms",),
    "codestar-connections": ("codestar-connections",), "codeconnections": ("codeconnections",),
    "ec2": ("ec2",), "servicediscovery": ("servicediscovery",), "cognito-idp": ("cognito-idp",),
    "ssm": ("ssm",), "events": ("events",), "cloudwatch": ("cloudwatch",), "xray": ("xray",),
    "elasticloadbalancing": ("elbv2", "elb"), "route53": ("route53",), "ecr-public": ("ecr-public",),
    "sns": ("sns",), "sqs": ("sqs",), "lambda": ("lambda",), "cloudformation": ("cloudformation",),
    "elasticfilesystem": ("efs",), "application-autoscaling": ("application-autoscaling",),
}

# Actions IAM knows that are no API operation (permissions checked inside other calls), with why.
IAM_ONLY_ACTIONS: dict[str, str] = {
    "iam:PassRole": "lets the caller hand a role to a service (ECS, CodeBuild, CodePipeline); no API call",
    "s3:GetObjectVersion": "GetObject with a versionId; CodePipeline reads versioned source objects with it",
    "s3:GetObjectVersionAcl": "GetObjectAcl with a versionId",
    "s3:GetObjectVersionTagging": "GetObjectTagging with a versionId",
    "s3:DeleteObjectVersion": "DeleteObject with a versionId",
    "s3:ListBucket": "the permission behind ListObjects/ListObjectsV2 and HeadBucket",
    "s3:ListBucketVersions": "the permission behind ListObjectVersions",
    "s3:ListBucketMultipartUploads": "the permission behind ListMultipartUploads",
    "codestar-connections:UseConnection": "lets CodePipeline/CodeBuild use a connection's credentials",
    "codestar-connections:PassConnection": "lets the caller hand a connection to a service",
    "codeconnections:UseConnection": "lets CodePipeline/CodeBuild use a connection's credentials",
    "codeconnections:PassConnection": "lets the caller hand a connection to a service",
    "elasticfilesystem:ClientMount": "an NFS client (an ECS task with IAM authorization) mounting a file system",
    "elasticfilesystem:ClientWrite": "an NFS client writing to a file system it mounted",
    "elasticfilesystem:ClientRootAccess": "an NFS client acting as root on a file system it mounted",
    "dynamodb:ConditionCheckItem": "the condition-check part of TransactWriteItems",
    "dynamodb:PartiQLSelect": "ExecuteStatement with SELECT",
    "dynamodb:PartiQLInsert": "ExecuteStatement with INSERT",
    "dynamodb:PartiQLUpdate": "ExecuteStatement with UPDATE",
    "dynamodb:PartiQLDelete": "ExecuteStatement with DELETE",
    "codebuild:CreateReport": "CodeBuild writes test reports with the project's role",
    "codebuild:UpdateReport": "CodeBuild writes test reports with the project's role",
    "codebuild:BatchPutTestCases": "CodeBuild writes test reports with the project's role",
    "codebuild:BatchPutCodeCoverages": "CodeBuild writes coverage reports with the project's role",
    "ecr:BatchImportUpstreamImage": "pull-through cache: lets a pull create the repository and import the image",
    "ecr:ReplicateImage": "registry replication",
    "sts:TagSession": "trust policies: lets the principal pass session tags",
    "sts:SetSourceIdentity": "trust policies: lets the principal set a source identity",
    "ssmmessages:CreateControlChannel": "ECS Exec (no botocore model for ssmmessages)",
    "ssmmessages:CreateDataChannel": "ECS Exec (no botocore model for ssmmessages)",
    "ssmmessages:OpenControlChannel": "ECS Exec (no botocore model for ssmmessages)",
    "ssmmessages:OpenDataChannel": "ECS Exec (no botocore model for ssmmessages)",
    "execute-api:Invoke": "calling an API Gateway API; the data plane has no botocore model",
}


def action_problems(action: str) -> list[str]:
    if action == "*":
        return []
    if action.count(":") != 1:
        return [f"action {action!r} is not service:Action"]
    prefix, name = action.split(":")
    if any(action.lower() == known.lower() for known in IAM_ONLY_ACTIONS):
        return []
    services = IAM_PREFIX_SERVICES.get(prefix)
    if services is None:
        return [f"action {action!r}: unknown service prefix {prefix!r} (add it to IAM_PREFIX_SERVICES if real)"]
    operations = {op.lower() for service in services for op in operation_names(service)}
    iam_only = {k.split(":")[1].lower() for k in IAM_ONLY_ACTIONS if k.startswith(prefix + ":")}
    pattern = name.lower()
    if any(c in pattern for c in "*?"):
        if not any(fnmatch.fnmatchcase(op, pattern) for op in operations | iam_only):
            return [f"action {action!r} matches no operation of {'/'.join(services)}"]
        return []
    if pattern not in operations:
        return [f"action {action!r} is not an operation of botocore's {'/'.join(services)} model "
                "(nor a listed IAM-only action)"]
    return []


STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
                  "Condition"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def policy_problems(text: Any, *, kind: str = "identity") -> list[str]:
    """kind: identity (role/user policies: Resource, no Principal), trust (Principal, no Resource), resource."""
    if isinstance(text, str):
        try:
            document = json.loads(text)
        except ValueError as error:
            return [f"policy is not JSON: {error}"]
    else:
        document = text
    if not isinstance(document, dict):
        return ["policy is not a JSON object"]
    found = []
    if document.get("Version") not in ("2012-10-17", "2008-10-17"):
        found.append(f"policy Version {document.get('Version')!r} is not 2012-10-17")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        found.append(f"policy has unknown keys {sorted(unknown)}")
    statements = _as_list(document.get("Statement"))
    if not statements or statements == [None]:
        found.append("policy has no Statement")
    sids = [s.get("Sid") for s in statements if isinstance(s, dict) and s.get("Sid")]
    if len(sids) != len(set(sids)):
        found.append(f"policy repeats a Sid: {sids}")
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, dict):
            found.append(f"{where} is not an object")
            continue
        unknown = set(statement) - STATEMENT_KEYS
        if unknown:
            found.append(f"{where} has unknown keys {sorted(unknown)}")
        if statement.get("Effect") not in ("Allow", "Deny"):
            found.append(f"{where}: Effect {statement.get('Effect')!r} is not Allow or Deny")
        if statement.get("Sid") is not None and not re.fullmatch(r"[A-Za-z0-9]*", str(statement["Sid"])):
            found.append(f"{where}: Sid {statement['Sid']!r} may hold only letters and digits")
        actions = statement.get("Action", statement.get("NotAction"))
        if actions is None or actions == []:
            found.append(f"{where} has no Action")
        for action in _as_list(actions or []):
            found += [f"{where}: {p}" for p in action_problems(str(action))]
        has_resource = "Resource" in statement or "NotResource" in statement
        has_principal = "Principal" in statement or "NotPrincipal" in statement
        if kind == "identity":
            if not has_resource:
                found.append(f"{where} has no Resource")
            if has_principal:
                found.append(f"{where}: an identity policy takes no Principal")
        if kind == "trust":
            if has_resource:
                found.append(f"{where}: a trust policy takes no Resource")
            if not has_principal:
                found.append(f"{where}: a trust policy needs a Principal")
            for service in _as_list((statement.get("Principal") or {}).get("Service", []) if isinstance(
                    statement.get("Principal"), dict) else []):
                if not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?", str(service)):
                    found.append(f"{where}: {service!r} is not a service principal")
        if kind == "resource" and not has_principal:
            found.append(f"{where}: a resource policy needs a Principal")
        for resource in _as_list(statement.get("Resource", statement.get("NotResource", [])) or []):
            found += [f"{where}: {p}" for p in arn_problems(str(resource), in_policy=True)]
        condition = statement.get("Condition")
        if condition is not None and not (isinstance(condition, dict) and all(
                isinstance(v, dict) for v in condition.values())):
            found.append(f"{where}: Condition is not operator -> {{key: value}}")
    if isinstance(text, str) and len(text) > 10240:
        found.append(f"policy is {len(text)} characters; an inline role policy may have at most 10,240")
    return found
