"""Run the Pulumi program offline, under Pulumi's mock runtime, and record the resource graph.

Used by the offline plan (``python -m ops plan``) and by the tests. Real ``pulumi_aws`` classes
register real inputs; the mocks answer with plausible ids, ARNs and URLs so that every
``.apply`` runs. No cloud and no Pulumi CLI are contacted.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import massage, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ops.plan.engine_view import register_options, zone_id_prefix
from ops.project import PROJECT, PROJECT_DIR
from ops.stack.stack_config import load_stack_config

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
# The build-hash tag ECR "has" under the mocks: a steady-state stack. Pass latest_image_tag="" to run()
# to simulate the first deploy (nothing pushed yet).
STEADY_STATE_IMAGE_TAG = "0a1b2c3"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent_urn: str
    custom: bool
    id: str
    inputs: dict
    outputs: dict
    secret_paths: set[str] = field(default_factory=set)
    ignore_changes: list[str] = field(default_factory=list)
    dependencies: set[str] = field(default_factory=set)
    """URNs the engine orders this resource after: ``depends_on`` and every resource whose output is an input."""
    property_dependencies: dict[str, set[str]] = field(default_factory=dict)
    """Input name -> URNs that input's value came from."""
    options: dict = field(default_factory=dict)
    """What the register request carried besides inputs: deleteBeforeReplace, protect, replaceOnChanges,
    ignoreChanges, retainOnDelete, customTimeouts (only the ones set)."""

    @property
    def parent_name(self) -> str:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else ""

    @property
    def parent_type(self) -> str:
        if not self.parent_urn:
            return ""
        return self.parent_urn.split("::")[2].split("$")[-1]


@dataclass
class RunResult:
    resources: list[RecordedResource]
    outputs: dict
    logs: list[tuple[str, str]]          # (level, message) from pulumi.log.* calls
    invokes: list[tuple[str, dict]]

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise AssertionError(f"expected one {type_token} named {name!r}, found {names}")
        return found[0]

    def by_name(self, name: str) -> RecordedResource:
        return next(r for r in self.resources if r.name == name)

    def depends_on(self, resource: RecordedResource, other: RecordedResource) -> bool:
        """Does the engine create/update ``resource`` only after ``other`` (directly or through others)?

        A dependency on a component counts as one on each of its children, as in the engine."""
        by_urn = {r.urn: r for r in self.resources}
        seen: set[str] = set()
        todo = list(resource.dependencies)
        while todo:
            urn = todo.pop()
            if urn in seen:
                continue
            seen.add(urn)
            if urn == other.urn:
                return True
            found = by_urn.get(urn)
            if found is not None:
                todo += list(found.dependencies)
                if not found.custom:
                    todo += [r.urn for r in self.resources if r.parent_urn == urn]
        return False

    def children_of(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent_urn == parent.urn]

    @property
    def warnings(self) -> list[str]:
        return [message for level, message in self.logs if level == "warning"]


def _unwrap_secrets(value: Any, path: str, secret_paths: set[str]) -> Any:
    if rpc.is_rpc_secret(value):
        secret_paths.add(path)
        return _unwrap_secrets(rpc.unwrap_rpc_secret(value), path, secret_paths)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def _short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# module -> (ARN service, resource path template); {name} is the physical name.
_ARN_SHAPES = {
    "iam": ("iam", "role/{name}"),
    "ecs/cluster": ("ecs", "cluster/{name}"),
    "ecs/service": ("ecs", "service/{name}"),
    "ecs/taskDefinition": ("ecs", "task-definition/{name}:1"),
    "cloudwatch/logGroup": ("logs", "log-group:{name}"),
    "dynamodb/table": ("dynamodb", "table/{name}"),
    "secretsmanager/secret": ("secretsmanager", "secret:{name}-AbCdEf"),
    "ecr/repository": ("ecr", "repository/{name}"),
    "codebuild/project": ("codebuild", "project/{name}"),
    "codepipeline/pipeline": ("codepipeline", "{name}"),
    "cognito/userPool": ("cognito-idp", "userpool/{name}"),
    "servicediscovery/service": ("servicediscovery", "service/srv-{hash}"),
    "servicediscovery/privateDnsNamespace": ("servicediscovery", "namespace/ns-{hash}"),
    "apigatewayv2/api": ("apigateway", "/apis/{id}"),
    "apigatewayv2/vpcLink": ("apigateway", "/vpclinks/{id}"),
    "ec2/vpc": ("ec2", "vpc/{id}"),
    "ec2/subnet": ("ec2", "subnet/{id}"),
    "ec2/securityGroup": ("ec2", "security-group/{id}"),
    "kms/key": ("kms", "key/{id}"),
    "cloudwatch/eventRule": ("events", "rule/{name}"),
    "ecr/pullThroughCacheRule": ("ecr", "repository/{name}"),
    "sns/topic": ("sns", "{name}"),
    "cloudwatch/metricAlarm": ("cloudwatch", "alarm:{name}"),
    "appautoscaling/policy": ("autoscaling", "scalingPolicy:{uuid}:resource/ecs/{resource}:policyName/{name}"),
    "appautoscaling/target": ("application-autoscaling", "scalable-target/{hash}"),
    "efs/fileSystem": ("elasticfilesystem", "file-system/{id}"),
    "efs/accessPoint": ("elasticfilesystem", "access-point/{id}"),
    "lambda/function": ("lambda", "function:{name}"),
}

_ID_PREFIXES = {
    "ec2/vpc": "vpc-", "ec2/subnet": "subnet-", "ec2/securityGroup": "sg-",
    "ec2/internetGateway": "igw-", "ec2/routeTable": "rtb-", "ec2/natGateway": "nat-",
    "ec2/eip": "eipalloc-", "ec2/vpcEndpoint": "vpce-",
    "servicediscovery/privateDnsNamespace": "ns-", "servicediscovery/service": "srv-",
    "cognito/userPoolClient": "", "apigatewayv2/vpcLink": "", "apigatewayv2/api": "",
    # Unique like AWS's: the name would give every API's authorizer the same id.
    "apigatewayv2/integration": "", "apigatewayv2/authorizer": "",
    "efs/fileSystem": "fs-", "efs/accessPoint": "fsap-", "efs/mountTarget": "fsmt-",
}


def _uploaded_checksum(inputs: dict) -> dict:
    """S3's ChecksumSHA256 (base64) of an uploaded file, read now as the provider reads it at upload time."""
    path = getattr(inputs.get("source"), "path", None)
    if inputs.get("checksumAlgorithm") != "SHA256" or not path or not Path(path).is_file():
        return {}
    return {"checksumSha256": base64.b64encode(hashlib.sha256(Path(path).read_bytes()).digest()).decode()}


class RecordingMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and invokes with plausible AWS-shaped values."""

    def __init__(self, region: str = DEFAULT_REGION,
                 extra_outputs: Callable[[str, str, dict], dict] | None = None,
                 invoke_results: dict[str, dict] | None = None,
                 latest_image_tag: str = STEADY_STATE_IMAGE_TAG,
                 hosted_zones: dict[str, str] | None = None):
        self.region = region
        # Public Route 53 zones "in the account": zone name -> zone id. None of them by default (offline, no
        # zone is known), so a custom domain without hostedZoneId plans as "zone elsewhere".
        self.hosted_zones = {k.rstrip(".").lower(): v for k, v in (hosted_zones or {}).items()}
        self.latest_image_tag = latest_image_tag
        self.extra_outputs = extra_outputs
        self.invoke_results = invoke_results or {}
        self.invokes: list[tuple[str, dict]] = []

    def call(self, args: pulumi_mocks.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        if args.token in self.invoke_results:
            return self.invoke_results[args.token], []
        region = self.region
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{s}" for s in "abcdef"]
            return {"names": names, "zoneIds": [f"{zone_id_prefix(region)}-az{i}" for i in range(1, 7)], "state": "available",
                    "id": region}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                    "userId": "AIDAMOCK", "id": ACCOUNT_ID}, []
        if args.token in ("aws:index/getRegion:getRegion",):
            return {"name": region, "region": region, "id": region,
                    "endpoint": f"ec2.{region}.amazonaws.com", "description": region}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
                    "reverseDnsPrefix": "com.amazonaws"}, []
        if args.token == "aws:route53/getZone:getZone":
            return self._zone(args.args)
        if args.token == "aws:iam/getSessionContext:getSessionContext":   # the mock caller is a user: itself
            return {key: args.args.get("arn") for key in ("arn", "issuerArn", "id")}, []
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": args.args.get("id", "vpc-existing"), "cidrBlock": "10.20.0.0/16",
                    "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:vpc/{args.args.get('id')}"}, []
        if args.token == "aws:ec2/getSubnet:getSubnet":
            return {"id": args.args.get("id"), "vpcId": "vpc-existing", "availabilityZone": f"{region}a",
                    "availabilityZoneId": f"{zone_id_prefix(region)}-az1",
                    "cidrBlock": "10.20.1.0/24"}, []
        return {}, []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        typ, name = args.typ, args.name
        inputs = dict(args.inputs)
        module = typ.split(":")[1] if typ.count(":") >= 2 else typ
        physical = inputs.get("name") if isinstance(inputs.get("name"), str) else name
        digest = _short_hash(typ, name)
        prefix = _ID_PREFIXES.get(module, "")
        resource_id = f"{prefix}{digest}" if module in _ID_PREFIXES else f"{physical}"
        outputs = dict(inputs)
        outputs.setdefault("name", physical)
        if module in _ARN_SHAPES:
            service, path = _ARN_SHAPES[module]
            path = path.format(name=physical, id=resource_id, hash=digest, resource=inputs.get("resourceId", ""),
                               uuid=f"{digest}-0000-4000-8000-{_short_hash(name, 'uuid', length=12)}")
            if service == "iam":
                outputs["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:{path}"
                outputs.setdefault("uniqueId", f"AROA{digest.upper()}")
            elif service == "apigateway":
                outputs["arn"] = f"arn:aws:apigateway:{self.region}::{path}"
            else:
                outputs["arn"] = f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{path}"
        if module.startswith("iam/") and module != "iam/role":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:policy/{physical}"
        if module == "iam/role":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"
        if module == "ecr/repository":
            outputs["repositoryUrl"] = f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{physical}"
            outputs["registryId"] = ACCOUNT_ID
        if module.startswith("s3/bucket"):
            bucket = inputs.get("bucket") or physical
            outputs["bucket"] = bucket
            outputs["arn"] = f"arn:aws:s3:::{bucket}"
            outputs["bucketDomainName"] = f"{bucket}.s3.amazonaws.com"
            resource_id = bucket
        if module == "apigatewayv2/api":
            resource_id = f"api{digest[:7]}"
            outputs["apiEndpoint"] = f"https://{resource_id}.execute-api.{self.region}.amazonaws.com"
            outputs["executionArn"] = f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{resource_id}"
            outputs["arn"] = f"arn:aws:apigateway:{self.region}::/apis/{resource_id}"
        if module == "apigatewayv2/stage":
            outputs["invokeUrl"] = f"https://api{_short_hash('api', str(inputs.get('apiId')))[:7]}" \
                                   f".execute-api.{self.region}.amazonaws.com/"
        if module == "cognito/userPool":
            resource_id = f"{self.region}_{digest[:9]}"
            outputs["endpoint"] = f"cognito-idp.{self.region}.amazonaws.com/{resource_id}"
            outputs["arn"] = f"arn:aws:cognito-idp:{self.region}:{ACCOUNT_ID}:userpool/{resource_id}"
        if module == "cognito/userPoolClient":
            resource_id = f"{digest}{_short_hash(name, 'client', length=18)}"
        if module == "ecs/taskDefinition":
            family = inputs.get("family", physical)
            outputs["arn"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:task-definition/{family}:1"
            outputs["arnWithoutRevision"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:task-definition/{family}"
            outputs["revision"] = 1
        if module == "ecs/service":
            cluster = str(inputs.get("cluster", "cluster")).rsplit("/", 1)[-1]
            outputs["arn"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:service/{cluster}/{physical}"
        if module == "servicediscovery/privateDnsNamespace":
            outputs["hostedZone"] = f"Z{digest.upper()}"
        if module == "codepipeline/pipeline":
            outputs["arn"] = f"arn:aws:codepipeline:{self.region}:{ACCOUNT_ID}:{physical}"
        if module == "acm/certificate":
            token = _short_hash(typ, name, "validation", length=32)
            domain = str(inputs.get("domainName"))
            outputs["domainValidationOptions"] = [{
                "domainName": domain, "resourceRecordName": f"_{token}.{domain}.", "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_short_hash(token, length=32)}.mock.acm-validations.aws."}]
            outputs["arn"] = f"arn:aws:acm:{self.region}:{ACCOUNT_ID}:certificate/{digest}-0000-4000-8000-{digest}0000"
            outputs["status"] = "PENDING_VALIDATION"
            resource_id = outputs["arn"]
        if module == "apigatewayv2/domainName":
            outputs["domainNameConfiguration"] = {**dict(inputs.get("domainNameConfiguration") or {}),
                                                  "targetDomainName": f"d-{digest[:10]}.execute-api.{self.region}"
                                                                      ".amazonaws.com",
                                                  "hostedZoneId": "Z1UJRXOUMOOFQ8"}
            outputs["apiMappingSelectionExpression"] = "$request.basepath"
            outputs["arn"] = f"arn:aws:apigateway:{self.region}::/domainnames/{inputs.get('domainName')}"
            resource_id = str(inputs.get("domainName"))
        if module == "route53/record":
            outputs["fqdn"] = str(inputs.get("name", "")).rstrip(".")
            resource_id = f"{inputs.get('zoneId')}_{outputs['fqdn']}_{inputs.get('type')}"
        if module == "dynamodb/table":
            outputs["streamArn"] = f"{outputs['arn']}/stream/2026-01-01T00:00:00.000"
        if module == "s3/bucketObjectv2":
            outputs["versionId"] = f"v-{_short_hash(str(inputs.get('sourceHash')), str(inputs.get('key')), length=16)}"
            outputs.update(_uploaded_checksum(inputs))
        if module == "secretsmanager/secretVersion":
            outputs["versionId"] = f"v-{digest}"
        if module.startswith("ec2/") and module in _ID_PREFIXES:
            outputs["arn"] = f"arn:aws:ec2:{self.region}:{ACCOUNT_ID}:{module.split('/')[1].lower()}/{resource_id}"
        if module == "ec2/securityGroup":
            outputs["ownerId"] = ACCOUNT_ID
        if typ.startswith("pulumi-python:dynamic"):
            outputs.update(self._dynamic_outputs(typ, inputs))
        outputs["id"] = resource_id
        if self.extra_outputs:
            outputs.update(self.extra_outputs(typ, name, inputs) or {})
        return resource_id, outputs

    def _zone(self, args: dict):
        """aws.route53.get_zone by name or id, answered from ``hosted_zones``; the provider's error otherwise."""
        name = str(args.get("name") or "").rstrip(".").lower()
        zone_id = args.get("zoneId") or self.hosted_zones.get(name)
        names = {v: k for k, v in self.hosted_zones.items()}
        if zone_id not in names or args.get("privateZone"):
            return {}, [("name", "no matching Route 53 Hosted Zone found")]
        return {"id": zone_id, "zoneId": zone_id, "name": f"{names[zone_id]}.", "privateZone": False,
                "arn": f"arn:aws:route53:::hostedzone/{zone_id}", "resourceRecordSetCount": 2,
                "nameServers": [f"ns-1.awsdns-01.org"]}, []

    def _dynamic_outputs(self, typ: str, inputs: dict) -> dict:
        """The program's dynamic resources (components/providers/image_lookup.py, components/providers/pipeline_run.py)."""
        if typ.endswith(":LatestImage"):
            tag = self.latest_image_tag
            return {"tag": tag, "digest": f"sha256:{hashlib.sha256(tag.encode()).hexdigest()}" if tag else "",
                    "movingTag": "deployed" if tag else ""}
        if typ.endswith(":CertificateWait"):
            return {"status": "ISSUED", "notAfter": "2027-01-01 00:00:00+00:00"}
        if typ.endswith(":PipelineRun"):
            return {"executionId": "mock-execution-id", "status": "Succeeded"}
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, plus the parent of every registration and the stack's outputs."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        secret_paths: set[str] = set()
        inputs = _unwrap_secrets(rpc.deserialize_properties(request.object), "", secret_paths)
        outputs = self.resources[response.urn].state
        self.recorded.append(RecordedResource(
            urn=response.urn, type=request.type, name=request.name, parent_urn=request.parent,
            custom=bool(request.custom), id=response.id, inputs=inputs,
            outputs=_unwrap_secrets(outputs, "", set()), secret_paths=secret_paths,
            ignore_changes=list(request.ignoreChanges),
            dependencies=set(request.dependencies),
            property_dependencies={key: set(value.urns) for key, value in request.propertyDependencies.items()},
            options=register_options(request)))
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = _unwrap_secrets(rpc.deserialize_properties(request.outputs), "", set())
        return super().RegisterResourceOutputs(request)


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []

    def emit(self, record):
        self.records.append((record.levelname.lower(), record.getMessage()))


def encode_config(config: dict[str, Any], project: str = PROJECT) -> dict[str, str]:
    """Stack-config values as the engine passes them: namespaced keys, structured values as JSON."""
    encoded = {}
    for key, value in config.items():
        full_key = key if ":" in key else f"{project}:{key}"
        encoded[full_key] = value if isinstance(value, str) else json.dumps(value)
    return encoded


def run(program: Callable[[], None], *, stack: str = "dev", config: dict[str, Any] | None = None,
        secret_keys: list[str] | None = None, project: str = PROJECT,
        extra_outputs: Callable[[str, str, dict], dict] | None = None,
        invoke_results: dict[str, dict] | None = None,
        latest_image_tag: str = STEADY_STATE_IMAGE_TAG, hosted_zones: dict[str, str] | None = None) -> RunResult:
    """Run ``program`` under the mock runtime with ``config`` and return everything it registered.

    ``latest_image_tag`` is what ECR tags ``latest`` (components/providers/image_lookup.py); "" is the first deploy.
    ``hosted_zones`` (zone name -> id) are the public Route 53 zones the account has (components/domain.py)."""
    config = dict(config or {})
    region = config.get("aws:region", DEFAULT_REGION)
    mocks = RecordingMocks(region=region, extra_outputs=extra_outputs, invoke_results=invoke_results,
                           latest_image_tag=latest_image_tag, hosted_zones=hosted_zones)
    monitor = RecordingMonitor(mocks)
    capture = _LogCapture()
    logger = logging.getLogger(f"serverless-containers.mockrun.{id(monitor)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(capture)
    ROOT.set(None)
    pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=False, logger=logger, monitor=monitor)
    encoded = encode_config(config, project)
    set_all_config(encoded, [k if ":" in k else f"{project}:{k}" for k in (secret_keys or [])])
    def program_then_exports():
        program()
        root = ROOT.get()
        # set_mocks registered the stack's outputs before the program ran; register the exports now.
        root.register_outputs(massage(root.outputs, []))

    try:
        _sync_await(run_pulumi_func(program_then_exports))
    finally:
        logger.removeHandler(capture)
    return RunResult(resources=monitor.recorded, outputs=monitor.stack_outputs,
                     logs=capture.records, invokes=mocks.invokes)


def run_stack(stack: str, *, project_dir: Path = PROJECT_DIR, overrides: dict[str, Any] | None = None,
              **kwargs) -> RunResult:
    """Run the real program (``components.program.main``) with ``stacks/Pulumi.<stack>.yaml``."""
    from components.program import main

    config, secret_keys = load_stack_config(stack, project_dir)
    config.update(overrides or {})
    return run(main, stack=stack, config=config, secret_keys=secret_keys, **kwargs)
