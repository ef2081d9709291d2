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

import functools
import re
from typing import Any, Iterable

import regex
import yaml
from botocore.validate import ParamValidator

from tests.fidelity.aws_requests import ApiRequest
# The document and IAM checks live in document_checks.py and iam_checks.py; tests reach them through this module.
from tests.fidelity.document_checks import (DOCUMENT_CHECKS, REQUEST_CHECKS, buildspec_problems,  # noqa: F401
                                            lifecycle_policy_problems)
from tests.fidelity.iam_checks import (EXPECTED_ARNS, IAM_ONLY_ACTIONS, IAM_PREFIX_SERVICES,  # noqa: F401
                                       _all_arns, _expected_arn, action_problems, arn_problems, operation_names,
                                       service_model)

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
