"""Is an API request one AWS would accept? botocore's models, plus the documents hidden in strings.

``problems(request)`` returns human-readable findings ('' free means valid):

1. botocore's ``ParamValidator`` (required members, types, unknown members, minimums);
2. what ParamValidator does not check but the models state: enum values, maximum lengths and values,
   and member patterns (Java regexes; matched with the ``regex`` module, which knows ``\\p{L}``);
3. the documents inside string members (``DOCUMENT_CHECKS``): IAM policies (every action an operation
   of its service's model, or a documented IAM-only action; every ARN well formed), ECR lifecycle
   policies, CodeBuild buildspecs, ECS container definitions;
4. ARNs of the expected kind where a member takes one (``EXPECTED_ARNS``).

``graph_problems(requests)`` checks references between requests (a route's integration, the capacity
providers a service uses, the projects a pipeline runs...).
"""
from __future__ import annotations

import fnmatch
import functools
import json
import re
from typing import Any, Callable, Iterable

import botocore.session
import regex
import yaml
from botocore.validate import ParamValidator

from tests.fidelity.aws_requests import ApiRequest

_SESSION = botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    return _SESSION.get_service_model(service)


@functools.lru_cache(maxsize=None)
def operation_names(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)


# --- numbers as the provider's schema types them ----------------------------------------------------

def coerce(value: Any, shape) -> Any:
    """Integral floats (how the mocks carry numbers) -> int where the model wants an integer."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: coerce(v, shape.members.get(k)) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(v, shape.value) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- what ParamValidator leaves out ------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _pattern(text: str):
    try:
        return regex.compile(text)
    except regex.error:
        return None


def _model_limits(value: Any, shape, path: str) -> Iterable[str]:
    if shape is None:
        return
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                yield from _model_limits(item, shape.members[key], f"{path}.{key}" if path else key)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} items, the model allows at most {meta['max']}"
        for index, item in enumerate(value):
            yield from _model_limits(item, shape.member, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} entries, the model allows at most {meta['max']}"
        for key, item in value.items():
            yield from _model_limits(key, shape.key, f"{path} key {key!r}")
            yield from _model_limits(item, shape.value, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield f"{path}: {value!r} is not one of {sorted(shape.enum)}"
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} characters, the model allows at most {meta['max']} ({value[:60]!r}...)"
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            yield f"{path}: {value[:80]!r} does not match the model's pattern {meta['pattern']!r}"
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            yield f"{path}: {value} is above the model's maximum {meta['max']}"


def model_problems(service: str, operation: str, params: dict) -> list[str]:
    shape = service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    found = [report.generate_report()] if report.has_errors() else []
    return found + list(_model_limits(params, shape, ""))


# --- limits the API documents but the model does not carry -------------------------------------------

_SG_TEXT = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"
_ECS_NAME = r"[a-zA-Z0-9_-]+"
_RULE_PATHS = ("IpPermissions[].IpRanges[].Description", "IpPermissions[].Ipv6Ranges[].Description",
               "IpPermissions[].UserIdGroupPairs[].Description", "IpPermissions[].PrefixListIds[].Description")
# (service, operation) -> [(path, max length, full-match regex, where it is documented)]
DOCUMENTED_LIMITS: dict[tuple[str, str], list[tuple[str, int, str | None, str]]] = {
    ("ec2", "CreateSecurityGroup"): [
        ("GroupName", 255, r"(?!sg-)" + _SG_TEXT, "CreateSecurityGroup GroupName constraints"),
        ("Description", 255, _SG_TEXT, "CreateSecurityGroup Description constraints")],
    ("ec2", "AuthorizeSecurityGroupIngress"): [(p, 255, _SG_TEXT, "IpRange/UserIdGroupPair Description constraints")
                                               for p in _RULE_PATHS],
    ("ec2", "AuthorizeSecurityGroupEgress"): [(p, 255, _SG_TEXT, "IpRange/UserIdGroupPair Description constraints")
                                              for p in _RULE_PATHS],
    ("ecs", "CreateCluster"): [("clusterName", 255, _ECS_NAME, "CreateCluster clusterName")],
    ("ecs", "CreateService"): [("serviceName", 255, _ECS_NAME, "CreateService serviceName")],
    ("ecs", "RegisterTaskDefinition"): [
        ("family", 255, _ECS_NAME, "RegisterTaskDefinition family"),
        ("containerDefinitions[].name", 255, _ECS_NAME, "ContainerDefinition name"),
        ("containerDefinitions[].portMappings[].name", 64, r"[a-z0-9_][a-z0-9_-]*", "PortMapping name")],
    ("s3", "CreateBucket"): [("Bucket", 63, r"(?=.{3,63}$)[a-z0-9][a-z0-9.-]*[a-z0-9]", "bucket naming rules")],
    ("dynamodb", "CreateTable"): [("TableName", 255, r"[a-zA-Z0-9_.-]{3,255}", "CreateTable TableName")],
    ("apigatewayv2", "CreateApi"): [("Name", 128, None, "StringWithLengthBetween1And128")],
    ("apigatewayv2", "CreateVpcLink"): [("Name", 128, None, "StringWithLengthBetween1And128")],
    ("apigatewayv2", "CreateAuthorizer"): [("Name", 128, None, "StringWithLengthBetween1And128")],
    ("apigatewayv2", "CreateStage"): [("StageName", 128, None, "StringWithLengthBetween1And128")],
}


def documented_limit_problems(service: str, operation: str, params: dict) -> list[str]:
    found = []
    for path, longest, pattern, source in DOCUMENTED_LIMITS.get((service, operation), []):
        for value in values_at(params, path):
            if not isinstance(value, str):
                continue
            if len(value) > longest:
                found.append(f"{path}: {len(value)} characters, at most {longest} ({source}): {value[:60]!r}...")
            if pattern and not regex.fullmatch(pattern, value):
                bad = sorted({c for c in value if not regex.fullmatch(pattern.replace("(?!sg-)", ""), c)}) \
                    if pattern.endswith("]*") else []
                found.append(f"{path}: {value!r} breaks the documented rule {pattern!r} ({source})"
                             + (f"; characters not allowed: {bad}" if bad else ""))
    return found


# --- paths into a request ---------------------------------------------------------------------------

def values_at(value: Any, path: str) -> list[Any]:
    """``a.b[].c``: every value at that path ([] walks a list)."""
    current = [value]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        following = []
        for item in current:
            if isinstance(item, dict) and key in item:
                got = item[key]
                if many:
                    following.extend(got if isinstance(got, list) else [])
                else:
                    following.append(got)
        current = following
    return current


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
    "elasticfilesystem": ("efs",),
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


# --- ECR lifecycle policies -------------------------------------------------------------------------

def lifecycle_policy_problems(text: Any) -> list[str]:
    """The documented shape of an ECR lifecycle policy (Amazon ECR user guide, lifecycle policy properties)."""
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError as error:
        return [f"lifecycle policy is not JSON: {error}"]
    if not isinstance(document, dict) or set(document) != {"rules"} or not isinstance(document["rules"], list) \
            or not document["rules"]:
        return ["lifecycle policy must be {\"rules\": [...]} with at least one rule"]
    found, priorities = [], []
    for index, rule in enumerate(document["rules"]):
        where = f"rules[{index}]"
        if not isinstance(rule, dict):
            found.append(f"{where} is not an object")
            continue
        unknown = set(rule) - {"rulePriority", "description", "selection", "action"}
        if unknown:
            found.append(f"{where} has unknown keys {sorted(unknown)}")
        priority = rule.get("rulePriority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
            found.append(f"{where}: rulePriority {priority!r} is not a positive integer")
        priorities.append(priority)
        selection = rule.get("selection")
        if not isinstance(selection, dict):
            found.append(f"{where}: no selection")
            continue
        unknown = set(selection) - {"tagStatus", "tagPrefixList", "tagPatternList", "countType", "countUnit",
                                    "countNumber", "storageClass"}
        if unknown:
            found.append(f"{where}.selection has unknown keys {sorted(unknown)}")
        status = selection.get("tagStatus")
        if status not in ("tagged", "untagged", "any"):
            found.append(f"{where}: tagStatus {status!r} is not tagged|untagged|any")
        lists = [k for k in ("tagPrefixList", "tagPatternList") if k in selection]
        if lists and status != "tagged":
            found.append(f"{where}: {lists} only go with tagStatus tagged")
        if status == "tagged" and not lists:
            found.append(f"{where}: tagStatus tagged needs tagPrefixList or tagPatternList")
        if len(lists) > 1:
            found.append(f"{where}: tagPrefixList and tagPatternList cannot both be set")
        for key in lists:
            values = selection[key]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                found.append(f"{where}: {key} must be a non-empty list of strings")
            elif key == "tagPatternList" and any(v.count("*") > 4 for v in values):
                found.append(f"{where}: a tag pattern may hold at most 4 wildcards")
        count_type = selection.get("countType")
        if count_type not in ("imageCountMoreThan", "sinceImagePushed"):
            found.append(f"{where}: countType {count_type!r} is not imageCountMoreThan|sinceImagePushed")
        if count_type == "sinceImagePushed" and selection.get("countUnit") != "days":
            found.append(f"{where}: sinceImagePushed needs countUnit days")
        if count_type == "imageCountMoreThan" and "countUnit" in selection:
            found.append(f"{where}: countUnit is only for sinceImagePushed")
        number = selection.get("countNumber")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            found.append(f"{where}: countNumber {number!r} is not a positive integer")
        action = rule.get("action")
        if not isinstance(action, dict) or action.get("type") != "expire":
            found.append(f"{where}: action must be {{\"type\": \"expire\"}}")
    real = [p for p in priorities if isinstance(p, int)]
    if len(real) != len(set(real)):
        found.append(f"rulePriority values repeat: {priorities}")
    return found


# --- CodeBuild buildspecs ---------------------------------------------------------------------------

BUILDSPEC_KEYS = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache"}
PHASES = ("install", "pre_build", "build", "post_build")
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ARTIFACT_KEYS = {"files", "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks",
                 "s3-prefix", "secondary-artifacts"}
ENV_KEYS = {"shell", "variables", "parameter-store", "exported-variables", "secrets-manager", "git-credential-helper"}


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def buildspec_problems(text: Any) -> list[str]:
    """The buildspec reference: version 0.2, known phases with command lists, artifacts with files."""
    if not isinstance(text, str) or not text.strip():
        return ["buildspec is empty"]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"buildspec is not YAML: {error}"]
    if not isinstance(document, dict):
        return ["buildspec is not a YAML mapping"]
    found = []
    if str(document.get("version")) != "0.2":
        found.append(f"buildspec version {document.get('version')!r} is not 0.2")
    unknown = set(document) - BUILDSPEC_KEYS
    if unknown:
        found.append(f"buildspec has unknown top-level keys {sorted(unknown)}")
    phases = document.get("phases")
    if not isinstance(phases, dict) or not phases:
        found.append("buildspec has no phases")
        phases = {}
    for phase, body in phases.items():
        if phase not in PHASES:
            found.append(f"phases.{phase} is not one of {list(PHASES)}")
            continue
        if not isinstance(body, dict):
            found.append(f"phases.{phase} is not a mapping")
            continue
        unknown = set(body) - PHASE_KEYS
        if unknown:
            found.append(f"phases.{phase} has unknown keys {sorted(unknown)}")
        if "runtime-versions" in body and phase != "install":
            found.append(f"phases.{phase}: runtime-versions belongs to install")
        if not _string_list(body.get("commands")):
            found.append(f"phases.{phase}.commands must be a non-empty list of command strings")
        if "finally" in body and not _string_list(body["finally"]):
            found.append(f"phases.{phase}.finally must be a list of command strings")
        if body.get("on-failure") not in (None, "ABORT", "CONTINUE", "RETRY") and not str(
                body.get("on-failure")).startswith("RETRY-"):
            found.append(f"phases.{phase}.on-failure {body.get('on-failure')!r} is not ABORT|CONTINUE|RETRY...")
    env = document.get("env")
    if env is not None:
        if not isinstance(env, dict) or set(env) - ENV_KEYS:
            found.append(f"env has unknown keys {sorted(set(env or {}) - ENV_KEYS)}")
        else:
            for key in ("variables", "parameter-store", "secrets-manager"):
                values = env.get(key)
                if values is not None and not (isinstance(values, dict) and all(
                        isinstance(v, (str, int, float)) for v in values.values())):
                    found.append(f"env.{key} must map names to string values")
    artifacts = document.get("artifacts")
    if artifacts is not None:
        if not isinstance(artifacts, dict):
            found.append("artifacts is not a mapping")
        else:
            unknown = set(artifacts) - ARTIFACT_KEYS
            if unknown:
                found.append(f"artifacts has unknown keys {sorted(unknown)}")
            if not _string_list(artifacts.get("files")):
                found.append("artifacts.files must be a non-empty list of paths")
    cache = document.get("cache")
    if cache is not None and not (isinstance(cache, dict) and _string_list(cache.get("paths"))):
        found.append("cache.paths must be a non-empty list of paths")
    return found


# --- ECS container definitions ----------------------------------------------------------------------

# Fargate's task sizes: cpu units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, range | tuple] = {
    256: (512, 1024, 2048), 512: range(1024, 4097, 1024), 1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024), 4096: range(8192, 30721, 1024), 8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192)}
HEALTH_LIMITS = {"interval": (5, 300), "timeout": (2, 120), "retries": (1, 10), "startPeriod": (0, 300)}


def task_definition_problems(params: dict) -> list[str]:
    found = []
    containers = params.get("containerDefinitions") or []
    names = [c.get("name") for c in containers]
    if len(names) != len(set(names)):
        found.append(f"container names repeat: {names}")
    if containers and not any(c.get("essential", True) for c in containers):
        found.append("no container is essential; ECS needs at least one")
    fargate = "FARGATE" in (params.get("requiresCompatibilities") or [])
    awsvpc = params.get("networkMode") == "awsvpc"
    if fargate and not awsvpc:
        found.append(f"Fargate needs networkMode awsvpc, not {params.get('networkMode')!r}")
    if fargate:
        try:
            cpu, memory = int(params.get("cpu")), int(params.get("memory"))
        except (TypeError, ValueError):
            found.append(f"Fargate needs task cpu and memory, got {params.get('cpu')!r}/{params.get('memory')!r}")
        else:
            if cpu not in FARGATE_SIZES or memory not in FARGATE_SIZES[cpu]:
                found.append(f"cpu {cpu} with memory {memory} MiB is not a Fargate task size")
            used_memory = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers)
            if used_memory > memory:
                found.append(f"the containers reserve {used_memory} MiB, more than the task's {memory}")
            if sum(c.get("cpu") or 0 for c in containers) > cpu:
                found.append(f"the containers' cpu adds up to more than the task's {cpu}")
        platform = params.get("runtimePlatform") or {}
        if platform.get("cpuArchitecture") not in (None, "X86_64", "ARM64"):
            found.append(f"runtimePlatform.cpuArchitecture {platform.get('cpuArchitecture')!r}")
    volumes = {v.get("name") for v in params.get("volumes") or []}
    for container in containers:
        where = f"container {container.get('name')!r}"
        if not container.get("image"):
            found.append(f"{where} has no image")
        for dependency in container.get("dependsOn") or []:
            if dependency.get("containerName") not in names:
                found.append(f"{where} depends on unknown container {dependency.get('containerName')!r}")
            if dependency.get("containerName") == container.get("name"):
                found.append(f"{where} depends on itself")
        for mapping in container.get("portMappings") or []:
            port = mapping.get("containerPort")
            if not isinstance(port, int) or not 1 <= port <= 65535:
                found.append(f"{where}: containerPort {port!r} is out of range")
            if awsvpc and mapping.get("hostPort") not in (None, port):
                found.append(f"{where}: in awsvpc mode hostPort must equal containerPort ({mapping})")
        port_names = [m.get("name") for m in container.get("portMappings") or [] if m.get("name")]
        if len(port_names) != len(set(port_names)):
            found.append(f"{where}: port mapping names repeat: {port_names}")
        variables = [e.get("name") for e in container.get("environment") or []] + \
                    [s.get("name") for s in container.get("secrets") or []]
        if len(variables) != len(set(variables)):
            found.append(f"{where}: environment/secret names repeat: {sorted(variables)}")
        for mount in container.get("mountPoints") or []:
            if mount.get("sourceVolume") not in volumes:
                found.append(f"{where}: mount of unknown volume {mount.get('sourceVolume')!r}")
        check = container.get("healthCheck")
        if check:
            if not check.get("command") or check["command"][0] not in ("CMD", "CMD-SHELL", "NONE"):
                found.append(f"{where}: healthCheck.command must start with CMD or CMD-SHELL")
            for key, (low, high) in HEALTH_LIMITS.items():
                if key in check and not low <= check[key] <= high:
                    found.append(f"{where}: healthCheck.{key} {check[key]} is outside {low}..{high}")
        if fargate:
            for key in ("links", "hostname", "privileged", "dockerSecurityOptions", "extraHosts"):
                if container.get(key) and not (key == "privileged" and container[key] is False):
                    found.append(f"{where}: Fargate does not take {key}")
            logging = container.get("logConfiguration")
            if logging and logging.get("logDriver") == "awslogs":
                options = logging.get("options") or {}
                missing = {"awslogs-group", "awslogs-region", "awslogs-stream-prefix"} - set(options)
                if missing:
                    found.append(f"{where}: awslogs needs {sorted(missing)} on Fargate")
    return found


# --- the table of document checks ---------------------------------------------------------------------

DocumentCheck = Callable[[Any], list[str]]
DOCUMENT_CHECKS: dict[tuple[str, str], list[tuple[str, DocumentCheck]]] = {
    ("iam", "CreateRole"): [("AssumeRolePolicyDocument", functools.partial(policy_problems, kind="trust"))],
    ("iam", "PutRolePolicy"): [("PolicyDocument", policy_problems)],
    ("iam", "CreatePolicy"): [("PolicyDocument", policy_problems)],
    ("s3", "PutBucketPolicy"): [("Policy", functools.partial(policy_problems, kind="resource"))],
    ("ecr", "SetRepositoryPolicy"): [("policyText", functools.partial(policy_problems, kind="resource"))],
    ("secretsmanager", "PutResourcePolicy"): [("ResourcePolicy", functools.partial(policy_problems, kind="resource"))],
    ("ecr", "PutLifecyclePolicy"): [("lifecyclePolicyText", lifecycle_policy_problems)],
    ("codebuild", "CreateProject"): [("source.buildspec", buildspec_problems)],
    ("sns", "SetTopicAttributes"): [("AttributeValue", functools.partial(policy_problems, kind="resource"))],
    ("events", "PutRule"): [("EventPattern", lambda value: event_pattern_problems(value))],
}
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy documentation).
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653}


def ip_permission_problems(params: dict) -> list[str]:
    found = []
    for index, permission in enumerate(params.get("IpPermissions") or []):
        protocol = str(permission.get("IpProtocol"))
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if protocol in ("tcp", "udp", "6", "17"):
            if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 65535):
                found.append(f"IpPermissions[{index}]: ports {low}..{high} are not a range within 0..65535")
        elif protocol not in ("-1", "icmp", "icmpv6", "1", "58") and not protocol.isdigit():
            found.append(f"IpPermissions[{index}]: IpProtocol {protocol!r} is not tcp, udp, icmp, -1 or a number")
        if not any(permission.get(k) for k in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")):
            found.append(f"IpPermissions[{index}] names no source or destination")
    return found


# Checks that need the whole request.

# --- scaling, alarms, event patterns (issue 15) ---------------------------------------------------------

def alarm_problems(params: dict) -> list[str]:
    """What PutMetricAlarm refuses beyond the model: a metric and a math query at once, no (or several) returned
    series, a look-back over one day, more datapoints to alarm than evaluated periods."""
    found = []
    metrics = params.get("Metrics")
    if metrics and params.get("MetricName"):
        found.append("MetricName and Metrics are mutually exclusive")
    if not metrics and not params.get("MetricName"):
        found.append("neither MetricName nor Metrics")
    if metrics:
        returned = [m for m in metrics if m.get("ReturnData", True)]
        if len(returned) != 1:
            found.append(f"{len(returned)} metric queries return data; exactly one must")
        ids = [m.get("Id", "") for m in metrics]
        for expression in (m.get("Expression") for m in metrics if m.get("Expression")):
            for name in set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", expression)) - {"m"}:
                if name not in ids and not name.isupper() and name not in ("and", "or"):
                    found.append(f"expression {expression!r} names {name!r}, which no query has as Id")
    periods = [params.get("Period")] if params.get("Period") else [
        m.get("MetricStat", {}).get("Period") for m in metrics or [] if m.get("MetricStat")]
    evaluation = params.get("EvaluationPeriods") or 0
    for period in (p for p in periods if p):
        if period * evaluation > 86400:
            found.append(f"EvaluationPeriods x Period = {period * evaluation} s; an alarm looks back at most 86400 s")
    if params.get("TreatMissingData") not in (None, "breaching", "notBreaching", "ignore", "missing"):
        found.append(f"TreatMissingData {params['TreatMissingData']!r} is not breaching, notBreaching, ignore or missing")
    if (params.get("DatapointsToAlarm") or 0) > evaluation:
        found.append("DatapointsToAlarm exceeds EvaluationPeriods")
    return found


def scalable_target_problems(params: dict) -> list[str]:
    low, high = params.get("MinCapacity"), params.get("MaxCapacity")
    if low is not None and high is not None and not 0 <= low <= high:
        return [f"MinCapacity {low} / MaxCapacity {high}: need 0 <= min <= max"]
    return []


def scheduled_action_problems(params: dict) -> list[str]:
    import zoneinfo

    found = []
    schedule = params.get("Schedule", "")
    match = re.fullmatch(r"cron\((.*)\)", schedule)
    if match and len(match.group(1).split()) != 6:
        found.append(f"Schedule {schedule!r}: a cron expression has 6 fields")
    elif not match and not re.fullmatch(r"(at|rate)\(.+\)", schedule):
        found.append(f"Schedule {schedule!r} is no at(), rate() or cron() expression")
    zone = params.get("Timezone")
    if zone:
        try:
            zoneinfo.ZoneInfo(zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            found.append(f"Timezone {zone!r} is not an IANA time zone")
    action = params.get("ScalableTargetAction") or {}
    found += scalable_target_problems(action) if {"MinCapacity", "MaxCapacity"} <= set(action) else []
    return found


def step_policy_problems(params: dict) -> list[str]:
    step = params.get("StepScalingPolicyConfiguration") or {}
    return [f"step adjustment {a} has neither bound" for a in step.get("StepAdjustments", [])
            if "MetricIntervalLowerBound" not in a and "MetricIntervalUpperBound" not in a]


def event_pattern_problems(value: Any) -> list[str]:
    """An EventBridge pattern: a JSON object whose leaves are lists (of values or matchers)."""
    try:
        pattern = json.loads(value) if isinstance(value, str) else value
    except ValueError as error:
        return [f"not JSON: {error}"]
    if not isinstance(pattern, dict) or not pattern:
        return ["the pattern must be a non-empty JSON object"]

    def leaves(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [p for key, item in node.items() for p in leaves(item, f"{where}.{key}")]
        if isinstance(node, list) and node:
            return []
        return [f"{where}: {node!r} is not a non-empty list"]
    return leaves(pattern, "")

REQUEST_CHECKS: dict[tuple[str, str], Callable[[dict], list[str]]] = {
    ("ecs", "RegisterTaskDefinition"): task_definition_problems,
    ("ec2", "AuthorizeSecurityGroupIngress"): ip_permission_problems,
    ("ec2", "AuthorizeSecurityGroupEgress"): ip_permission_problems,
    ("logs", "PutRetentionPolicy"): lambda p: [] if p.get("retentionInDays") in LOG_RETENTION_DAYS else [
        f"retentionInDays {p.get('retentionInDays')} is not a CloudWatch Logs retention period"],
    ("secretsmanager", "DeleteSecret"): lambda p: [] if p.get("ForceDeleteWithoutRecovery") or 7 <= p.get(
        "RecoveryWindowInDays", 7) <= 30 else [f"RecoveryWindowInDays {p['RecoveryWindowInDays']} is not 0 or 7..30"],
    ("cloudwatch", "PutMetricAlarm"): alarm_problems,
    ("application-autoscaling", "RegisterScalableTarget"): scalable_target_problems,
    ("application-autoscaling", "PutScheduledAction"): scheduled_action_problems,
    ("application-autoscaling", "PutScalingPolicy"): step_policy_problems,
}


def prepared_params(request: ApiRequest) -> dict:
    shape = service_model(request.service).operation_model(request.operation).input_shape
    return coerce(request.params, shape)


def problems(request: ApiRequest) -> list[str]:
    """Everything wrong with one request, each finding prefixed with where it came from."""
    params = prepared_params(request)
    found = model_problems(request.service, request.operation, params)
    found += documented_limit_problems(request.service, request.operation, params)
    key = (request.service, request.operation)
    for path, check in DOCUMENT_CHECKS.get(key, []):
        for value in values_at(params, path):
            found += [f"{path}: {p}" for p in check(value)]
    if key in REQUEST_CHECKS:
        found += REQUEST_CHECKS[key](params)
    expected_paths = set()
    for (service, operation, path), (services, prefixes) in EXPECTED_ARNS.items():
        if (service, operation) == key:
            expected_paths.add(path)
            for value in values_at(params, path):
                if path.endswith("taskDefinition") and isinstance(value, str) and not value.startswith("arn:"):
                    continue    # family or family:revision are accepted too
                found += _expected_arn(value, services, prefixes, path)
    for arn in _all_arns(params):
        found += arn_problems(arn)
    return [f"{request.where}: {p}" for p in dict.fromkeys(found)]


# --- references between requests ------------------------------------------------------------------------

def _by_operation(requests: list[ApiRequest], service: str, operation: str) -> list[ApiRequest]:
    return [r for r in requests if (r.service, r.operation) == (service, operation)]


def graph_problems(requests: list[ApiRequest], resources: list) -> list[str]:
    """Cross-request references. ``resources``: the run's RecordedResources (for the mock ids and outputs)."""
    found = []
    by_key = {(resource.type, resource.name): resource for resource in resources}

    def resource_id(request: ApiRequest) -> str:
        resource = by_key.get((request.type, request.name))
        return resource.id if resource else ""

    # ECS: services point at task definitions' containers and the cluster's capacity providers.
    families = {r.params["family"]: prepared_params(r) for r in _by_operation(requests, "ecs", "RegisterTaskDefinition")}
    providers = {}
    for r in _by_operation(requests, "ecs", "PutClusterCapacityProviders"):
        providers[r.params["cluster"]] = set(r.params["capacityProviders"])
    clusters = {r.params["clusterName"] for r in _by_operation(requests, "ecs", "CreateCluster")}
    services = set()
    for r in _by_operation(requests, "ecs", "CreateService"):
        params = prepared_params(r)
        services.add((params.get("cluster"), params.get("serviceName")))
        where = r.where
        if params.get("cluster") not in clusters:
            found.append(f"{where}: cluster {params.get('cluster')!r} is not created by the program")
        family = str(params.get("taskDefinition", "")).rsplit("/", 1)[-1].split(":")[0]
        task = families.get(family)
        if task is None:
            found.append(f"{where}: task definition {params.get('taskDefinition')!r} is not registered by the program")
            continue
        for registry in params.get("serviceRegistries") or []:
            container = next((c for c in task["containerDefinitions"] if c["name"] == registry.get("containerName")),
                             None)
            if container is None:
                found.append(f"{where}: service registry names container {registry.get('containerName')!r}, "
                             "which the task definition does not have")
            elif registry.get("containerPort") not in [m.get("containerPort") for m in container.get("portMappings") or []]:
                found.append(f"{where}: service registry port {registry.get('containerPort')} is not a port "
                             f"mapping of {container['name']}")
        strategy = [s["capacityProvider"] for s in params.get("capacityProviderStrategy") or []]
        for provider in strategy:
            if provider not in providers.get(params.get("cluster"), set()):
                found.append(f"{where}: capacity provider {provider} is not associated with the cluster")
        architecture = (task.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
        if "FARGATE_SPOT" in strategy and architecture == "ARM64":
            found.append(f"{where}: Fargate Spot does not run ARM64 tasks")
        if params.get("launchType") and strategy:
            found.append(f"{where}: launchType and capacityProviderStrategy exclude each other")
    # API Gateway: routes reach integrations and authorizers of the same API; VPC links exist.
    # (id, API id) pairs: the mocks give every API's authorizer the same id, real ids are unique.
    integrations = {(resource_id(r), r.params.get("ApiId")) for r in _by_operation(requests, "apigatewayv2", "CreateIntegration")}
    authorizers = {(resource_id(r), r.params.get("ApiId")) for r in _by_operation(requests, "apigatewayv2", "CreateAuthorizer")}
    links = {resource_id(r) for r in _by_operation(requests, "apigatewayv2", "CreateVpcLink")}
    discovery = {by_key[(r.type, r.name)].outputs.get("arn") for r in _by_operation(requests, "servicediscovery", "CreateService")}
    for r in _by_operation(requests, "apigatewayv2", "CreateIntegration"):
        if r.params.get("ConnectionType") == "VPC_LINK":
            if r.params.get("ConnectionId") not in links:
                found.append(f"{r.where}: ConnectionId {r.params.get('ConnectionId')!r} is not a VPC link of the program")
            uri = r.params.get("IntegrationUri", "")
            if uri.startswith("arn:aws:servicediscovery") and uri not in discovery:
                found.append(f"{r.where}: IntegrationUri {uri!r} is not a Cloud Map service of the program")
    for r in _by_operation(requests, "apigatewayv2", "CreateRoute"):
        target = r.params.get("Target")
        if target:
            kind, _, target_id = target.partition("/")
            if kind != "integrations" or (target_id, r.params.get("ApiId")) not in integrations:
                found.append(f"{r.where}: Target {target!r} is not an integration of API {r.params.get('ApiId')}")
        if r.params.get("AuthorizationType") == "JWT":
            if (r.params.get("AuthorizerId"), r.params.get("ApiId")) not in authorizers:
                found.append(f"{r.where}: AuthorizerId {r.params.get('AuthorizerId')!r} is not an authorizer of the API")
        elif r.params.get("AuthorizerId"):
            found.append(f"{r.where}: AuthorizerId set with AuthorizationType {r.params.get('AuthorizationType')}")
    pools = {resource_id(r) for r in _by_operation(requests, "cognito-idp", "CreateUserPool")}
    clients = {resource_id(r) for r in _by_operation(requests, "cognito-idp", "CreateUserPoolClient")}
    for r in _by_operation(requests, "apigatewayv2", "CreateAuthorizer"):
        jwt = r.params.get("JwtConfiguration") or {}
        issuer = jwt.get("Issuer", "")
        match = re.fullmatch(r"https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/(.+)", issuer)
        if match and match.group(2) not in pools:
            found.append(f"{r.where}: issuer {issuer!r} names no user pool of the program")
        if match and not set(jwt.get("Audience") or []) <= clients:
            found.append(f"{r.where}: audience {jwt.get('Audience')} is not a user pool client of the program")
    # CodePipeline: stages reach the projects, cluster and service; artifacts flow forward.
    projects = {r.params["name"]: r for r in _by_operation(requests, "codebuild", "CreateProject")}
    for r in _by_operation(requests, "codepipeline", "CreatePipeline"):
        found += [f"{r.where}: {p}" for p in _pipeline_problems(r.params["pipeline"], projects, clusters, services)]
    return found


SOURCE_ONLY_FIRST = "the first stage must hold only Source actions, and no other stage may"


def _pipeline_problems(pipeline: dict, projects: dict, clusters: set, services: set) -> list[str]:
    found = []
    stages = pipeline.get("stages") or []
    if len(stages) < 2:
        found.append("a pipeline needs at least two stages")
    produced: set[str] = set()
    stage_names = [s.get("name") for s in stages]
    if len(stage_names) != len(set(stage_names)):
        found.append(f"stage names repeat: {stage_names}")
    for index, stage in enumerate(stages):
        for action in stage.get("actions") or []:
            type_id = action.get("actionTypeId") or {}
            category, provider = type_id.get("category"), type_id.get("provider")
            where = f"stage {stage.get('name')!r} action {action.get('name')!r}"
            if (category == "Source") != (index == 0):
                found.append(f"{where}: {SOURCE_ONLY_FIRST}")
            for artifact in action.get("inputArtifacts") or []:
                if artifact["name"] not in produced:
                    found.append(f"{where}: input artifact {artifact['name']!r} is not produced by an earlier action")
            configuration = action.get("configuration") or {}
            if provider == "CodeBuild":
                project = projects.get(configuration.get("ProjectName"))
                if project is None:
                    found.append(f"{where}: ProjectName {configuration.get('ProjectName')!r} is not a project of "
                                 "the program")
                elif action.get("outputArtifacts"):
                    spec = yaml.safe_load(project.params.get("source", {}).get("buildspec") or "{}") or {}
                    if not (spec.get("artifacts") or {}).get("files"):
                        found.append(f"{where}: the action has output artifacts but the buildspec declares no "
                                     "artifacts.files")
            if provider == "ECS":
                cluster, service = configuration.get("ClusterName"), configuration.get("ServiceName")
                if cluster not in clusters or (cluster, service) not in services:
                    found.append(f"{where}: deploys to {cluster}/{service}, which the program does not create")
            produced.update(a["name"] for a in action.get("outputArtifacts") or [])
    return found
