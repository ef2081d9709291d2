"""Recorded Pulumi inputs -> the AWS API requests the Terraform AWS provider sends for them.

One mapper per Pulumi type token (``MAPPERS``). A mapper reads the resource's inputs through ``Inputs``,
which remembers what was read: an input no mapper reads is an error, so when the program starts setting
a new argument the suite fails until the mapping says where the provider sends it. Types that make no
AWS request of their own are in ``NOT_CHECKABLE`` with the reason.

Member names follow botocore's model (PascalCase for most services, camelCase for ECS, ECR, CodeBuild,
CodePipeline and CloudWatch Logs). Numbers arrive from the mocks as floats; ``validate`` turns integral
floats into ints where the model wants an integer, as the provider's schema does.
"""
from __future__ import annotations

import base64
import functools
import json
import urllib.parse
import re
from dataclasses import dataclass, field
from typing import Any, Callable

# What Pulumi appends to a logical name when it auto-names a resource ("-" and 7 random characters),
# and what Terraform appends to a name_prefix (a timestamp and a counter: 26 characters).
AUTONAME_SUFFIX = "-a1b2c3d"
PREFIX_SUFFIX = "20260101000000000000000001"


@dataclass(frozen=True)
class ApiRequest:
    service: str          # botocore service name
    operation: str        # botocore operation name (PascalCase)
    params: dict
    type: str = ""        # the Pulumi type token it came from
    name: str = ""        # the Pulumi logical name
    primary: bool = False  # the request that creates the resource (its response carries the real id)

    @property
    def where(self) -> str:
        return f"{self.type} {self.name!r}: {self.service}.{self.operation}"


class UnmappedInputs(Exception):
    """The resource sets inputs no mapper reads: extend the mapper (or mark them provider-only)."""


class Inputs:
    """A resource's inputs; remembers which keys were read."""

    def __init__(self, resource):
        self.resource = resource
        self.data: dict = dict(resource.inputs)
        self.read: set[str] = set()
        self.renames: dict[str, str] = {}     # the mocks' physical name -> the one AWS would get

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def provider_only(self, *keys: str) -> None:
        """Inputs that steer the provider (waits, force-deletes) and reach no create request."""
        self.read.update(keys)

    def unread(self) -> list[str]:
        return sorted(set(self.data) - self.read)

    def name(self, key: str = "name", prefix_key: str | None = "namePrefix") -> str:
        """The physical name: given, prefixed by Terraform, or auto-named by Pulumi from the logical name."""
        if self.get(key):
            return self.data[key]
        if prefix_key and self.get(prefix_key):
            name = self.data[prefix_key] + PREFIX_SUFFIX
        else:
            name = self.resource.name + AUTONAME_SUFFIX
        # The mocks echo the logical name as the physical one; other resources reference that.
        mock = self.resource.outputs.get(key)
        if isinstance(mock, str) and mock and mock != name:
            self.renames[mock] = name
        return name


def pascal(value: Any, renames: dict[str, str] | None = None) -> Any:
    """camelCase keys -> PascalCase, recursively; ``renames`` overrides single keys at any depth."""
    renames = renames or {}
    if isinstance(value, dict):
        return {renames.get(k, k[:1].upper() + k[1:]): pascal(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v, renames) for v in value]
    return value


def camel(value: Any, renames: dict[str, str] | None = None) -> Any:
    """Keys kept as they are (the API is camelCase too), except ``renames``."""
    renames = renames or {}
    if isinstance(value, dict):
        return {renames.get(k, k): camel(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v, renames) for v in value]
    return value


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    """Replace mock names/ids by real ones: whole strings, and whole segments of ARNs, URLs and JSON text."""
    if not mapping:
        return value
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if not isinstance(value, str):
        return value
    if value in mapping:
        return mapping[value]
    if ":" not in value and "/" not in value:
        return value
    pattern = _segment_pattern(tuple(sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda m: mapping[m.group(0)], value)


@functools.lru_cache(maxsize=64)
def _segment_pattern(keys: tuple[str, ...]):
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])")


def compact(params: dict) -> dict:
    """Drop absent values: the provider sends only what is set."""
    return {k: v for k, v in params.items() if v is not None}


def tag_list(tags: dict | None, key: str = "Key", value: str = "Value") -> list | None:
    return [{key: k, value: v} for k, v in tags.items()] if tags else None


def tag_specifications(tags: dict | None, resource_type: str) -> list | None:
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}] if tags else None


Request = tuple  # (service, operation, params) or (service, operation, params, primary)
Mapper = Callable[[Inputs], list]


# --- EC2 -----------------------------------------------------------------------------------------

def _vpc(i: Inputs) -> list:
    out = [("ec2", "CreateVpc", compact({
        "CidrBlock": i.get("cidrBlock"), "InstanceTenancy": i.get("instanceTenancy"),
        "AmazonProvidedIpv6CidrBlock": i.get("assignGeneratedIpv6CidrBlock"),
        "TagSpecifications": tag_specifications(i.get("tags"), "vpc")}), True)]
    vpc_id = i.resource.id
    for key, member in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        if key in i:   # one attribute per call: the API refuses two
            out.append(("ec2", "ModifyVpcAttribute", {"VpcId": vpc_id, member: {"Value": i.get(key)}}))
    return out


def _subnet(i: Inputs) -> list:
    out = [("ec2", "CreateSubnet", compact({
        "VpcId": i.get("vpcId"), "CidrBlock": i.get("cidrBlock"), "AvailabilityZone": i.get("availabilityZone"),
        "AvailabilityZoneId": i.get("availabilityZoneId"), "Ipv6CidrBlock": i.get("ipv6CidrBlock"),
        "TagSpecifications": tag_specifications(i.get("tags"), "subnet")}), True)]
    if i.get("mapPublicIpOnLaunch") is not None:
        out.append(("ec2", "ModifySubnetAttribute", {"SubnetId": i.resource.id,
                                                     "MapPublicIpOnLaunch": {"Value": i.data["mapPublicIpOnLaunch"]}}))
    return out


def _internet_gateway(i: Inputs) -> list:
    out = [("ec2", "CreateInternetGateway", compact({
        "TagSpecifications": tag_specifications(i.get("tags"), "internet-gateway")}), True)]
    if i.get("vpcId"):
        out.append(("ec2", "AttachInternetGateway", {"InternetGatewayId": i.resource.id, "VpcId": i.data["vpcId"]}))
    return out


def _route_params(route: dict, route_table_id: str) -> dict:
    return compact({"RouteTableId": route_table_id, "DestinationCidrBlock": route.get("destinationCidrBlock")
                    or route.get("cidrBlock"), "DestinationIpv6CidrBlock": route.get("destinationIpv6CidrBlock")
                    or route.get("ipv6CidrBlock"), "GatewayId": route.get("gatewayId"),
                    "NatGatewayId": route.get("natGatewayId"), "VpcEndpointId": route.get("vpcEndpointId")})


def _route_table(i: Inputs) -> list:
    out = [("ec2", "CreateRouteTable", compact({
        "VpcId": i.get("vpcId"), "TagSpecifications": tag_specifications(i.get("tags"), "route-table")}), True)]
    for route in i.get("routes") or []:
        out.append(("ec2", "CreateRoute", _route_params(route, i.resource.id)))
    return out


def _route(i: Inputs) -> list:
    route = {k: i.get(k) for k in ("destinationCidrBlock", "destinationIpv6CidrBlock", "gatewayId",
                                   "natGatewayId", "vpcEndpointId")}
    return [("ec2", "CreateRoute", _route_params(route, i.get("routeTableId")), True)]


def _route_table_association(i: Inputs) -> list:
    return [("ec2", "AssociateRouteTable", compact({
        "RouteTableId": i.get("routeTableId"), "SubnetId": i.get("subnetId"), "GatewayId": i.get("gatewayId")}),
        True)]


def _ip_permission(rule: dict, *, group_id: str | None = None) -> dict:
    """A security-group rule (inline, aws:ec2/securityGroupRule or aws:vpc/securityGroup*Rule) as an IpPermission."""
    description = rule.get("description")
    protocol = str(rule.get("protocol", rule.get("ipProtocol")))
    permission: dict = {"IpProtocol": protocol}
    if protocol not in ("-1", "all"):
        permission["FromPort"] = rule.get("fromPort")
        permission["ToPort"] = rule.get("toPort")
    cidrs = list(rule.get("cidrBlocks") or []) + ([rule["cidrIpv4"]] if rule.get("cidrIpv4") else [])
    ipv6 = list(rule.get("ipv6CidrBlocks") or []) + ([rule["cidrIpv6"]] if rule.get("cidrIpv6") else [])
    groups = list(rule.get("securityGroups") or [])
    for key in ("sourceSecurityGroupId", "referencedSecurityGroupId"):
        if rule.get(key):
            groups.append(rule[key])
    if rule.get("self") and group_id:
        groups.append(group_id)
    prefixes = list(rule.get("prefixListIds") or []) + ([rule["prefixListId"]] if rule.get("prefixListId") else [])
    if cidrs:
        permission["IpRanges"] = [compact({"CidrIp": c, "Description": description}) for c in cidrs]
    if ipv6:
        permission["Ipv6Ranges"] = [compact({"CidrIpv6": c, "Description": description}) for c in ipv6]
    if groups:
        permission["UserIdGroupPairs"] = [compact({"GroupId": g, "Description": description}) for g in groups]
    if prefixes:
        permission["PrefixListIds"] = [compact({"PrefixListId": p, "Description": description}) for p in prefixes]
    return permission


def _security_group(i: Inputs) -> list:
    i.provider_only("revokeRulesOnDelete")
    out = [("ec2", "CreateSecurityGroup", compact({
        "GroupName": i.name(), "Description": i.get("description") or "Managed by Pulumi",
        "VpcId": i.get("vpcId"), "TagSpecifications": tag_specifications(i.get("tags"), "security-group")}),
        True)]
    if i.data.get("vpcId"):    # the provider removes the allow-all egress rule AWS adds to every new group
        out.append(("ec2", "RevokeSecurityGroupEgress", {"GroupId": i.resource.id, "IpPermissions": [
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}))
    for key, operation in (("ingress", "AuthorizeSecurityGroupIngress"), ("egress", "AuthorizeSecurityGroupEgress")):
        for rule in i.get(key) or []:
            out.append(("ec2", operation, {"GroupId": i.resource.id,
                                           "IpPermissions": [_ip_permission(rule, group_id=i.resource.id)]}))
    return out


def _security_group_rule(i: Inputs) -> list:
    rule = {k: i.get(k) for k in ("protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks",
                                  "sourceSecurityGroupId", "self", "description", "prefixListIds")}
    operation = "AuthorizeSecurityGroupIngress" if i.get("type") == "ingress" else "AuthorizeSecurityGroupEgress"
    group = i.get("securityGroupId")
    return [("ec2", operation, {"GroupId": group, "IpPermissions": [_ip_permission(rule, group_id=group)]}, True)]


def _vpc_rule(operation: str) -> Mapper:
    def mapper(i: Inputs) -> list:
        rule = {k: i.get(k) for k in ("ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6",
                                      "referencedSecurityGroupId", "prefixListId", "description")}
        return [("ec2", operation, compact({
            "GroupId": i.get("securityGroupId"), "IpPermissions": [_ip_permission(rule)],
            "TagSpecifications": tag_specifications(i.get("tags"), "security-group-rule")}), True)]
    return mapper


# --- ECS -----------------------------------------------------------------------------------------

def _ecs_tags(tags: dict | None) -> list | None:
    return tag_list(tags, "key", "value")


def _cluster(i: Inputs) -> list:
    return [("ecs", "CreateCluster", compact({
        "clusterName": i.name(), "settings": i.get("settings"), "configuration": i.get("configuration"),
        "serviceConnectDefaults": i.get("serviceConnectDefaults"), "tags": _ecs_tags(i.get("tags"))}), True)]


def _capacity_strategy(items: list | None) -> list | None:
    return [compact({"capacityProvider": s.get("capacityProvider"), "weight": s.get("weight"),
                     "base": s.get("base")}) for s in items] if items else None


def _cluster_capacity_providers(i: Inputs) -> list:
    return [("ecs", "PutClusterCapacityProviders", {
        "cluster": i.get("clusterName"), "capacityProviders": i.get("capacityProviders") or [],
        "defaultCapacityProviderStrategy": _capacity_strategy(i.get("defaultCapacityProviderStrategies")) or []},
        True)]


def _task_volume(volume: dict) -> dict:
    out = {k: v for k, v in volume.items() if k not in ("hostPath",)}
    if volume.get("hostPath"):
        out["host"] = {"sourcePath": volume["hostPath"]}
    return out


def _task_definition(i: Inputs) -> list:
    i.provider_only("skipDestroy", "trackLatest")
    definitions = i.get("containerDefinitions")
    return [("ecs", "RegisterTaskDefinition", compact({
        "family": i.get("family"),
        "containerDefinitions": json.loads(definitions) if isinstance(definitions, str) else definitions,
        "taskRoleArn": i.get("taskRoleArn"), "executionRoleArn": i.get("executionRoleArn"),
        "networkMode": i.get("networkMode"), "cpu": i.get("cpu"), "memory": i.get("memory"),
        "requiresCompatibilities": i.get("requiresCompatibilities"), "runtimePlatform": i.get("runtimePlatform"),
        "volumes": [_task_volume(v) for v in i.get("volumes") or []] or None,
        "ephemeralStorage": i.get("ephemeralStorage"), "pidMode": i.get("pidMode"), "ipcMode": i.get("ipcMode"),
        "proxyConfiguration": i.get("proxyConfiguration"), "placementConstraints": i.get("placementConstraints"),
        "tags": _ecs_tags(i.get("tags"))}), True)]


def _ecs_service(i: Inputs) -> list:
    i.provider_only("waitForSteadyState", "forceNewDeployment", "triggers", "forceDelete")
    network = i.get("networkConfiguration")
    awsvpc = None
    if network:
        awsvpc = {"awsvpcConfiguration": compact({
            "subnets": network.get("subnets"), "securityGroups": network.get("securityGroups"),
            "assignPublicIp": None if network.get("assignPublicIp") is None
            else ("ENABLED" if network["assignPublicIp"] else "DISABLED")})}
    registries = i.get("serviceRegistries")
    deployment = compact({
        "deploymentCircuitBreaker": i.get("deploymentCircuitBreaker"),
        "maximumPercent": i.get("deploymentMaximumPercent"),
        "minimumHealthyPercent": i.get("deploymentMinimumHealthyPercent"),
        "alarms": i.get("alarms")})
    return [("ecs", "CreateService", compact({
        "cluster": i.get("cluster"), "serviceName": i.name(prefix_key=None), "taskDefinition": i.get("taskDefinition"),
        "desiredCount": i.get("desiredCount"), "launchType": i.get("launchType"),
        "capacityProviderStrategy": _capacity_strategy(i.get("capacityProviderStrategies")),
        "platformVersion": i.get("platformVersion"), "networkConfiguration": awsvpc,
        "serviceRegistries": [registries] if registries else None,
        "loadBalancers": i.get("loadBalancers"),
        "deploymentConfiguration": deployment or None,
        "deploymentController": i.get("deploymentController"),
        "healthCheckGracePeriodSeconds": i.get("healthCheckGracePeriodSeconds"),
        "enableECSManagedTags": i.get("enableEcsManagedTags"), "propagateTags": i.get("propagateTags"),
        "enableExecuteCommand": i.get("enableExecuteCommand"), "schedulingStrategy": i.get("schedulingStrategy"),
        "placementConstraints": i.get("placementConstraints"),
        "placementStrategy": i.get("orderedPlacementStrategies"),
        "availabilityZoneRebalancing": i.get("availabilityZoneRebalancing"),
        "serviceConnectConfiguration": i.get("serviceConnectConfiguration"),
        "tags": _ecs_tags(i.get("tags"))}), True)]


# --- IAM -----------------------------------------------------------------------------------------

def _iam_role(i: Inputs) -> list:
    i.provider_only("forceDetachPolicies")
    role = i.name()
    out = [("iam", "CreateRole", compact({
        "RoleName": role, "Path": i.get("path"), "AssumeRolePolicyDocument": i.get("assumeRolePolicy"),
        "Description": i.get("description"), "MaxSessionDuration": i.get("maxSessionDuration"),
        "PermissionsBoundary": i.get("permissionsBoundary"), "Tags": tag_list(i.get("tags"))}), True)]
    for policy in i.get("inlinePolicies") or []:
        out.append(("iam", "PutRolePolicy", {"RoleName": role, "PolicyName": policy.get("name"),
                                             "PolicyDocument": policy.get("policy")}))
    for arn in i.get("managedPolicyArns") or []:
        out.append(("iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": arn}))
    return out


def _iam_role_policy(i: Inputs) -> list:
    return [("iam", "PutRolePolicy", {"RoleName": i.get("role"), "PolicyName": i.name(),
                                      "PolicyDocument": i.get("policy")}, True)]


def _iam_role_policy_attachment(i: Inputs) -> list:
    return [("iam", "AttachRolePolicy", {"RoleName": i.get("role"), "PolicyArn": i.get("policyArn")}, True)]


def _iam_policy(i: Inputs) -> list:
    return [("iam", "CreatePolicy", compact({
        "PolicyName": i.name(), "Path": i.get("path"), "PolicyDocument": i.get("policy"),
        "Description": i.get("description"), "Tags": tag_list(i.get("tags"))}), True)]


# --- CloudWatch Logs / Events ---------------------------------------------------------------------

def _log_group(i: Inputs) -> list:
    i.provider_only("skipDestroy")
    name = i.name()
    out = [("logs", "CreateLogGroup", compact({
        "logGroupName": name, "kmsKeyId": i.get("kmsKeyId"), "logGroupClass": i.get("logGroupClass"),
        "tags": i.get("tags") or None}), True)]
    if i.get("retentionInDays"):
        out.append(("logs", "PutRetentionPolicy", {"logGroupName": name, "retentionInDays": i.data["retentionInDays"]}))
    return out


def _event_rule(i: Inputs) -> list:
    state = i.get("state") or (None if i.get("isEnabled") is None else ("ENABLED" if i.data["isEnabled"] else "DISABLED"))
    return [("events", "PutRule", compact({
        "Name": i.name(), "EventPattern": i.get("eventPattern"), "ScheduleExpression": i.get("scheduleExpression"),
        "Description": i.get("description"), "RoleArn": i.get("roleArn"), "State": state,
        "EventBusName": i.get("eventBusName"), "Tags": tag_list(i.get("tags"))}), True)]


def _event_target(i: Inputs) -> list:
    target = compact({"Id": i.get("targetId") or i.resource.name + AUTONAME_SUFFIX, "Arn": i.get("arn"),
                      "RoleArn": i.get("roleArn"), "Input": i.get("input"), "InputPath": i.get("inputPath"),
                      "InputTransformer": pascal(i.get("inputTransformer"), {"inputPaths": "InputPathsMap"})})
    return [("events", "PutTargets", compact({"Rule": i.get("rule"), "EventBusName": i.get("eventBusName"),
                                              "Targets": [target]}), True)]


# --- Cloud Map -----------------------------------------------------------------------------------

def _private_dns_namespace(i: Inputs) -> list:
    return [("servicediscovery", "CreatePrivateDnsNamespace", compact({
        "Name": i.get("name"), "Vpc": i.get("vpc"), "Description": i.get("description"),
        "Tags": tag_list(i.get("tags")), "CreatorRequestId": "terraform-request-id"}), True)]


def _discovery_service(i: Inputs) -> list:
    i.provider_only("forceDestroy")
    dns = i.get("dnsConfig")
    return [("servicediscovery", "CreateService", compact({
        "Name": i.name(prefix_key=None), "NamespaceId": i.get("namespaceId"), "Description": i.get("description"),
        "DnsConfig": pascal(dns, {"ttl": "TTL"}) if dns else None,
        "HealthCheckConfig": pascal(i.get("healthCheckConfig")),
        "HealthCheckCustomConfig": pascal(i.get("healthCheckCustomConfig")),
        "Type": i.get("type"), "Tags": tag_list(i.get("tags"))}), True)]


# --- API Gateway v2 ------------------------------------------------------------------------------

def _http_api(i: Inputs) -> list:
    i.provider_only("failOnWarnings")
    return [("apigatewayv2", "CreateApi", compact({
        "Name": i.get("name"), "ProtocolType": i.get("protocolType"), "Description": i.get("description"),
        "CorsConfiguration": pascal(i.get("corsConfiguration")),
        "RouteSelectionExpression": i.get("routeSelectionExpression"),
        "ApiKeySelectionExpression": i.get("apiKeySelectionExpression"),
        "DisableExecuteApiEndpoint": i.get("disableExecuteApiEndpoint"), "Version": i.get("version"),
        "IpAddressType": i.get("ipAddressType"), "CredentialsArn": i.get("credentialsArn"),
        "RouteKey": i.get("routeKey"), "Target": i.get("target"), "Tags": i.get("tags") or None}), True)]


def _vpc_link(i: Inputs) -> list:
    return [("apigatewayv2", "CreateVpcLink", compact({
        "Name": i.get("name"), "SecurityGroupIds": i.get("securityGroupIds"), "SubnetIds": i.get("subnetIds"),
        "Tags": i.get("tags") or None}), True)]


def _integration(i: Inputs) -> list:
    keys = ("integrationType", "integrationMethod", "integrationUri", "connectionType", "connectionId",
            "payloadFormatVersion", "requestParameters", "timeoutMilliseconds", "description", "integrationSubtype",
            "credentialsArn", "passthroughBehavior", "contentHandlingStrategy", "templateSelectionExpression",
            "requestTemplates", "tlsConfig")
    values = {k: i.get(k) for k in keys}
    values["timeoutInMillis"] = values.pop("timeoutMilliseconds")
    return [("apigatewayv2", "CreateIntegration", compact({"ApiId": i.get("apiId"), **pascal(compact(values))}),
             True)]


def _route_v2(i: Inputs) -> list:
    keys = ("routeKey", "target", "authorizationType", "authorizerId", "authorizationScopes", "apiKeyRequired",
            "operationName", "routeResponseSelectionExpression", "modelSelectionExpression", "requestModels")
    return [("apigatewayv2", "CreateRoute", compact({
        "ApiId": i.get("apiId"), **pascal(compact({k: i.get(k) for k in keys}))}), True)]


def _authorizer(i: Inputs) -> list:
    jwt = i.get("jwtConfiguration")
    return [("apigatewayv2", "CreateAuthorizer", compact({
        "ApiId": i.get("apiId"), "AuthorizerType": i.get("authorizerType"), "Name": i.get("name"),
        "IdentitySource": i.get("identitySources"),
        "JwtConfiguration": pascal(jwt, {"audiences": "Audience"}) if jwt else None,
        "AuthorizerUri": i.get("authorizerUri"), "AuthorizerCredentialsArn": i.get("authorizerCredentialsArn"),
        "AuthorizerPayloadFormatVersion": i.get("authorizerPayloadFormatVersion"),
        "AuthorizerResultTtlInSeconds": i.get("authorizerResultTtlInSeconds"),
        "EnableSimpleResponses": i.get("enableSimpleResponses")}), True)]


def _stage(i: Inputs) -> list:
    route_settings = {s["routeKey"]: pascal({k: v for k, v in s.items() if k != "routeKey"})
                      for s in i.get("routeSettings") or []}
    return [("apigatewayv2", "CreateStage", compact({
        "ApiId": i.get("apiId"), "StageName": i.get("name"), "AutoDeploy": i.get("autoDeploy"),
        "DefaultRouteSettings": pascal(i.get("defaultRouteSettings")),
        "AccessLogSettings": pascal(i.get("accessLogSettings")), "Description": i.get("description"),
        "StageVariables": i.get("stageVariables"), "DeploymentId": i.get("deploymentId"),
        "ClientCertificateId": i.get("clientCertificateId"), "RouteSettings": route_settings or None,
        "Tags": i.get("tags") or None}), True)]


def _domain_name(i: Inputs) -> list:
    configuration = i.get("domainNameConfiguration")
    return [("apigatewayv2", "CreateDomainName", compact({
        "DomainName": i.get("domainName"), "DomainNameConfigurations": [pascal(configuration)] if configuration else None,
        "MutualTlsAuthentication": pascal(i.get("mutualTlsAuthentication")), "RoutingMode": i.get("routingMode"),
        "Tags": i.get("tags") or None}), True)]


def _api_mapping(i: Inputs) -> list:
    return [("apigatewayv2", "CreateApiMapping", compact({
        "ApiId": i.get("apiId"), "DomainName": i.get("domainName"), "Stage": i.get("stage"),
        "ApiMappingKey": i.get("apiMappingKey")}), True)]


# --- ACM and Route 53 (custom domains, components/domain.py) ------------------------------------------

def _certificate(i: Inputs) -> list:
    options = i.get("options")
    return [("acm", "RequestCertificate", compact({
        "DomainName": i.get("domainName"), "ValidationMethod": i.get("validationMethod"),
        "SubjectAlternativeNames": i.get("subjectAlternativeNames"),
        "CertificateAuthorityArn": i.get("certificateAuthorityArn"), "KeyAlgorithm": i.get("keyAlgorithm"),
        "Options": {"CertificateTransparencyLoggingPreference": options["certificateTransparencyLoggingPreference"]}
        if options and options.get("certificateTransparencyLoggingPreference") else None,
        "Tags": tag_list(i.get("tags"))}), True)]


def _certificate_validation(i: Inputs) -> list:
    # No request of its own: the provider polls the certificate until it is issued (validationRecordFqdns are
    # only compared with what ACM asks for).
    i.provider_only("validationRecordFqdns")
    return [("acm", "DescribeCertificate", {"CertificateArn": i.get("certificateArn")})]


def _record(i: Inputs) -> list:
    i.provider_only("allowOverwrite")
    record_set = {"Name": i.get("name"), "Type": i.get("type"), "TTL": i.get("ttl"),
                  "SetIdentifier": i.get("setIdentifier"), "HealthCheckId": i.get("healthCheckId")}
    if i.get("records"):
        record_set["ResourceRecords"] = [{"Value": value} for value in i.data["records"]]
    aliases = i.get("aliases") or []
    if aliases:
        alias = aliases[0]
        record_set["AliasTarget"] = {"HostedZoneId": alias.get("zoneId"), "DNSName": alias.get("name"),
                                     "EvaluateTargetHealth": alias.get("evaluateTargetHealth", False)}
    # allowOverwrite: the provider sends UPSERT instead of CREATE.
    action = "UPSERT" if i.data.get("allowOverwrite") else "CREATE"
    return [("route53", "ChangeResourceRecordSets", {
        "HostedZoneId": i.get("zoneId"),
        "ChangeBatch": {"Changes": [{"Action": action, "ResourceRecordSet": compact(record_set)}]}}, True)]


# --- Cognito -------------------------------------------------------------------------------------

_COGNITO_POOL_KEYS = ("usernameAttributes", "aliasAttributes", "autoVerifiedAttributes", "accountRecoverySetting",
                      "usernameConfiguration", "deletionProtection", "mfaConfiguration", "adminCreateUserConfig",
                      "emailConfiguration", "verificationMessageTemplate", "userAttributeUpdateSettings",
                      "deviceConfiguration", "lambdaConfig", "userPoolAddOns", "userPoolTier",
                      "emailVerificationMessage", "emailVerificationSubject", "smsAuthenticationMessage",
                      "smsVerificationMessage", "smsConfiguration")


def _user_pool(i: Inputs) -> list:
    params = pascal(compact({k: i.get(k) for k in _COGNITO_POOL_KEYS}),
                    {"smsMessage": "SMSMessage", "snsCallerArn": "SnsCallerArn"})
    policies = compact({"PasswordPolicy": pascal(i.get("passwordPolicy")),
                        "SignInPolicy": pascal(i.get("signInPolicy"))})
    schema = [pascal(s) for s in i.get("schemas") or []]
    out = [("cognito-idp", "CreateUserPool", compact({
        "PoolName": i.get("name"), **params, "Policies": policies or None, "Schema": schema or None,
        "UserPoolTags": i.get("tags") or None}), True)]
    software_token = i.get("softwareTokenMfaConfiguration")
    if software_token:
        # The provider sets TOTP MFA after the pool exists (CreateUserPool takes no software-token settings).
        out.append(("cognito-idp", "SetUserPoolMfaConfig", {
            "UserPoolId": i.resource.id, "MfaConfiguration": i.data.get("mfaConfiguration", "OFF"),
            "SoftwareTokenMfaConfiguration": pascal(software_token)}))
    return out


_CLIENT_RENAMES = {"name": "ClientName", "callbackUrls": "CallbackURLs", "logoutUrls": "LogoutURLs",
                   "defaultRedirectUri": "DefaultRedirectURI", "allowedOauthFlows": "AllowedOAuthFlows",
                   "allowedOauthScopes": "AllowedOAuthScopes",
                   "allowedOauthFlowsUserPoolClient": "AllowedOAuthFlowsUserPoolClient"}


def _user_pool_client(i: Inputs) -> list:
    keys = ("userPoolId", "name", "generateSecret", "refreshTokenValidity", "accessTokenValidity", "idTokenValidity",
            "tokenValidityUnits", "readAttributes", "writeAttributes", "explicitAuthFlows",
            "supportedIdentityProviders", "callbackUrls", "logoutUrls", "defaultRedirectUri", "allowedOauthFlows",
            "allowedOauthScopes", "allowedOauthFlowsUserPoolClient", "analyticsConfiguration",
            "preventUserExistenceErrors", "enableTokenRevocation", "enablePropagateAdditionalUserContextData",
            "authSessionValidity")
    return [("cognito-idp", "CreateUserPoolClient",
             pascal(compact({k: i.get(k) for k in keys}), _CLIENT_RENAMES), True)]


def _user_pool_domain(i: Inputs) -> list:
    certificate = i.get("certificateArn")
    return [("cognito-idp", "CreateUserPoolDomain", compact({
        "Domain": i.get("domain"), "UserPoolId": i.get("userPoolId"),
        "CustomDomainConfig": {"CertificateArn": certificate} if certificate else None,
        "ManagedLoginVersion": i.get("managedLoginVersion")}), True)]


# --- DynamoDB ------------------------------------------------------------------------------------

def _table(i: Inputs) -> list:
    name = i.get("name")
    keys = [{"AttributeName": i.get("hashKey"), "KeyType": "HASH"}]
    if i.get("rangeKey"):
        keys.append({"AttributeName": i.data["rangeKey"], "KeyType": "RANGE"})
    sse = i.get("serverSideEncryption")
    sse_spec = None
    if sse and sse.get("enabled"):
        sse_spec = compact({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": sse.get("kmsKeyArn")})
    billing = i.get("billingMode")
    throughput = None
    if billing in (None, "PROVISIONED"):
        throughput = {"ReadCapacityUnits": i.get("readCapacity"), "WriteCapacityUnits": i.get("writeCapacity")}
    stream = None
    if i.get("streamEnabled"):
        stream = {"StreamEnabled": True, "StreamViewType": i.get("streamViewType")}
    out = [("dynamodb", "CreateTable", compact({
        "TableName": name, "AttributeDefinitions": [{"AttributeName": a.get("name"), "AttributeType": a.get("type")}
                                                    for a in i.get("attributes") or []],
        "KeySchema": keys, "BillingMode": billing, "ProvisionedThroughput": throughput, "SSESpecification": sse_spec,
        "StreamSpecification": stream, "TableClass": i.get("tableClass"),
        "DeletionProtectionEnabled": i.get("deletionProtectionEnabled"),
        "GlobalSecondaryIndexes": [_index(g, global_index=True) for g in i.get("globalSecondaryIndexes") or []] or None,
        "LocalSecondaryIndexes": [_index(g, global_index=False, hash_key=i.data.get("hashKey"))
                                  for g in i.get("localSecondaryIndexes") or []] or None,
        "Tags": tag_list(i.get("tags"))}), True)]
    recovery = i.get("pointInTimeRecovery")
    if recovery and recovery.get("enabled"):     # the provider calls it only to turn recovery on
        out.append(("dynamodb", "UpdateContinuousBackups", {"TableName": name, "PointInTimeRecoverySpecification": compact({
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": recovery.get("recoveryPeriodInDays")})}))
    ttl = i.get("ttl")
    if ttl and ttl.get("enabled"):
        out.append(("dynamodb", "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": {
            "Enabled": True, "AttributeName": ttl.get("attributeName")}}))
    return out


def _index(index: dict, *, global_index: bool, hash_key: str | None = None) -> dict:
    keys = [{"AttributeName": index.get("hashKey", hash_key), "KeyType": "HASH"}]
    if index.get("rangeKey"):
        keys.append({"AttributeName": index["rangeKey"], "KeyType": "RANGE"})
    projection = compact({"ProjectionType": index.get("projectionType"),
                          "NonKeyAttributes": index.get("nonKeyAttributes")})
    return compact({"IndexName": index.get("name"), "KeySchema": keys, "Projection": projection})


# --- Secrets Manager -----------------------------------------------------------------------------

def _secret(i: Inputs) -> list:
    name = i.name()
    out = [("secretsmanager", "CreateSecret", compact({
        "Name": name, "Description": i.get("description"), "KmsKeyId": i.get("kmsKeyId"),
        "Tags": tag_list(i.get("tags")), "ForceOverwriteReplicaSecret": i.get("forceOverwriteReplicaSecret"),
        "AddReplicaRegions": pascal(i.get("replicas"), {"kmsKeyId": "KmsKeyId"})}), True)]
    if i.get("policy"):
        out.append(("secretsmanager", "PutResourcePolicy", {"SecretId": name, "ResourcePolicy": i.data["policy"]}))
    window = i.get("recoveryWindowInDays")
    if window is not None:   # sent when the stack is destroyed
        out.append(("secretsmanager", "DeleteSecret", {"SecretId": name, "ForceDeleteWithoutRecovery": True}
                    if not window else {"SecretId": name, "RecoveryWindowInDays": window}))
    return out


def _secret_version(i: Inputs) -> list:
    binary = i.get("secretBinary")
    return [("secretsmanager", "PutSecretValue", compact({
        "SecretId": i.get("secretId"), "SecretString": i.get("secretString"),
        "SecretBinary": base64.b64decode(binary) if binary else None,
        "VersionStages": i.get("versionStages")}), True)]


# --- ECR -----------------------------------------------------------------------------------------

def _repository(i: Inputs) -> list:
    i.provider_only("forceDelete")
    encryption = i.get("encryptionConfigurations")
    return [("ecr", "CreateRepository", compact({
        "repositoryName": i.name(prefix_key=None), "imageTagMutability": i.get("imageTagMutability"),
        "imageTagMutabilityExclusionFilters": [
            {"filterType": f.get("filterType"), "filter": f.get("filter")}
            for f in i.get("imageTagMutabilityExclusionFilters")] if i.get("imageTagMutabilityExclusionFilters") else None,
        "imageScanningConfiguration": i.get("imageScanningConfiguration"),
        "encryptionConfiguration": encryption[0] if encryption else None,
        "tags": tag_list(i.get("tags"))}), True)]


def _lifecycle_policy(i: Inputs) -> list:
    return [("ecr", "PutLifecyclePolicy", {"repositoryName": i.get("repository"),
                                           "lifecyclePolicyText": i.get("policy")}, True)]


def _repository_policy(i: Inputs) -> list:
    return [("ecr", "SetRepositoryPolicy", {"repositoryName": i.get("repository"), "policyText": i.get("policy")},
             True)]


# --- S3 ------------------------------------------------------------------------------------------

def _bucket_name(i: Inputs) -> str:
    return i.name(key="bucket", prefix_key="bucketPrefix").lower()


def _bucket(i: Inputs) -> list:
    i.provider_only("forceDestroy")
    name = _bucket_name(i)
    region = i.get("region") or "us-east-1"
    out = [("s3", "CreateBucket", compact({
        "Bucket": name, "ObjectLockEnabledForBucket": i.get("objectLockEnabled"),
        "CreateBucketConfiguration": None if region == "us-east-1" else {"LocationConstraint": region}}), True)]
    if i.get("tags"):
        out.append(("s3", "PutBucketTagging", {"Bucket": name, "Tagging": {"TagSet": tag_list(i.data["tags"])}}))
    return out


def _bucket_versioning(i: Inputs) -> list:
    return [("s3", "PutBucketVersioning", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"), "MFA": i.get("mfa"),
        "VersioningConfiguration": pascal(i.get("versioningConfiguration"), {"mfaDelete": "MFADelete"})}), True)]


def _bucket_encryption(i: Inputs) -> list:
    rules = pascal(i.get("rules"), {"sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"})
    return [("s3", "PutBucketEncryption", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"),
        "ServerSideEncryptionConfiguration": {"Rules": rules}}), True)]


def _public_access_block(i: Inputs) -> list:
    i.provider_only("skipDestroy")
    keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    return [("s3", "PutPublicAccessBlock", {"Bucket": i.get("bucket"),
                                            "PublicAccessBlockConfiguration": pascal(compact({k: i.get(k) for k in keys}))},
             True)]


def _bucket_lifecycle(i: Inputs) -> list:
    rules = pascal(i.get("rules"), {"id": "ID", "and": "And"})
    return [("s3", "PutBucketLifecycleConfiguration", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"),
        "TransitionDefaultMinimumObjectSize": i.get("transitionDefaultMinimumObjectSize"),
        "LifecycleConfiguration": {"Rules": rules}}), True)]


def _bucket_object(i: Inputs) -> list:
    i.provider_only("forceDestroy", "etag", "sourceHash", "overrideProvider")
    body = b""
    if i.get("content") is not None:
        body = str(i.data["content"]).encode()
    elif i.get("contentBase64") is not None:
        body = base64.b64decode(i.data["contentBase64"])
    i.get("source")      # an asset or archive: its bytes are the body
    keys = ("contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage", "metadata",
            "serverSideEncryption", "storageClass", "acl", "websiteRedirect", "kmsKeyId", "bucketKeyEnabled",
            "objectLockMode", "objectLockRetainUntilDate", "objectLockLegalHoldStatus", "checksumAlgorithm")
    renames = {"acl": "ACL", "kmsKeyId": "SSEKMSKeyId", "websiteRedirect": "WebsiteRedirectLocation",
               "metadata": "Metadata"}
    tags = i.get("tags")
    return [("s3", "PutObject", compact({
        "Bucket": i.get("bucket"), "Key": i.get("key"), "Body": body,
        **{renames.get(k, k[:1].upper() + k[1:]): v for k, v in compact({k: i.get(k) for k in keys}).items()},
        # S3 takes object tags as a URL query string (the SDK sends them encoded: an ARN's ':' and '/')
        "Tagging": urllib.parse.urlencode(tags) if tags else None}), True)]


def _bucket_policy(i: Inputs) -> list:
    return [("s3", "PutBucketPolicy", {"Bucket": i.get("bucket"), "Policy": i.get("policy")}, True)]


def _ownership_controls(i: Inputs) -> list:
    rule = i.get("rule") or {}
    return [("s3", "PutBucketOwnershipControls", {"Bucket": i.get("bucket"), "OwnershipControls": {
        "Rules": [pascal(rule)]}}, True)]


def _bucket_notification(i: Inputs) -> list:
    configuration = {}
    if i.get("eventbridge"):
        configuration["EventBridgeConfiguration"] = {}
    return [("s3", "PutBucketNotificationConfiguration", {"Bucket": i.get("bucket"),
                                                          "NotificationConfiguration": configuration}, True)]


# --- CodeBuild / CodePipeline / CodeStar connections ---------------------------------------------

def _codebuild_project(i: Inputs) -> list:
    keys = ("description", "source", "artifacts", "environment", "serviceRole", "encryptionKey", "vpcConfig",
            "badgeEnabled", "cache", "concurrentBuildLimit", "sourceVersion", "secondarySources",
            "secondaryArtifacts", "secondarySourceVersions", "fileSystemLocations", "buildBatchConfig",
            "autoRetryLimit")
    params = camel(compact({k: i.get(k) for k in keys}))
    logs = i.get("logsConfig")
    if logs:
        params["logsConfig"] = camel(logs, {"cloudwatchLogs": "cloudWatchLogs"})
    if "vpcConfig" in params:
        params["vpcConfig"] = camel(params["vpcConfig"], {"securityGroupIds": "securityGroupIds"})
    i.get("projectVisibility")   # a separate UpdateProjectVisibility call; PRIVATE by default
    return [("codebuild", "CreateProject", compact({
        "name": i.name(prefix_key=None), **params, "timeoutInMinutes": i.get("buildTimeout"),
        "queuedTimeoutInMinutes": i.get("queuedTimeout"), "tags": tag_list(i.get("tags"), "key", "value")}), True)]


def _pipeline_action(action: dict) -> dict:
    type_id = {k: action.get(k) for k in ("category", "owner", "provider", "version")}
    rest = {k: v for k, v in action.items() if k not in type_id}
    out = compact({
        "name": rest.pop("name", None), "actionTypeId": type_id, "runOrder": rest.pop("runOrder", None),
        "configuration": rest.pop("configuration", None),
        "outputArtifacts": [{"name": n} for n in rest.pop("outputArtifacts", None) or []] or None,
        "inputArtifacts": [{"name": n} for n in rest.pop("inputArtifacts", None) or []] or None})
    out.update(rest)   # roleArn, region, namespace, timeoutInMinutes, commands, outputVariables: same names
    return out


def _pipeline(i: Inputs) -> list:
    stores = i.get("artifactStores") or []
    pipeline: dict = {"name": i.get("name"), "roleArn": i.get("roleArn")}
    if len(stores) == 1 and not stores[0].get("region"):
        pipeline["artifactStore"] = {k: v for k, v in stores[0].items() if k != "region"}
    else:
        pipeline["artifactStores"] = {s["region"]: {k: v for k, v in s.items() if k != "region"} for s in stores}
    pipeline["stages"] = []
    for stage in i.get("stages") or []:
        declared = {k: v for k, v in stage.items() if k != "actions"}
        declared["actions"] = [_pipeline_action(a) for a in stage.get("actions") or []]
        pipeline["stages"].append(declared)
    for key in ("pipelineType", "executionMode", "variables"):
        if i.get(key) is not None:
            pipeline[key] = i.data[key]
    if i.get("triggers"):    # Pulumi pluralizes the provider's list blocks
        pipeline["triggers"] = camel(i.data["triggers"], {"pushes": "push", "pullRequests": "pullRequest"})
    return [("codepipeline", "CreatePipeline", compact({
        "pipeline": pipeline, "tags": tag_list(i.get("tags"), "key", "value")}), True)]


# --- EFS -----------------------------------------------------------------------------------------

def _efs_file_system(i: Inputs) -> list:
    policies = i.get("lifecyclePolicies") or []
    lifecycle = [compact({"TransitionToIA": p.get("transitionToIa"),
                          "TransitionToPrimaryStorageClass": p.get("transitionToPrimaryStorageClass"),
                          "TransitionToArchive": p.get("transitionToArchive")}) for p in policies]
    out = [("efs", "CreateFileSystem", compact({
        # The provider generates a unique creation token when none is given.
        "CreationToken": i.get("creationToken") or "terraform-" + PREFIX_SUFFIX,
        "PerformanceMode": i.get("performanceMode"), "Encrypted": i.get("encrypted"), "KmsKeyId": i.get("kmsKeyId"),
        "ThroughputMode": i.get("throughputMode"),
        "ProvisionedThroughputInMibps": i.get("provisionedThroughputInMibps"),
        "AvailabilityZoneName": i.get("availabilityZoneName"), "Tags": tag_list(i.get("tags"))}), True)]
    if lifecycle:
        out.append(("efs", "PutLifecycleConfiguration", {"FileSystemId": i.resource.outputs.get("id"),
                                                         "LifecyclePolicies": lifecycle}))
    if i.get("protection"):
        out.append(("efs", "UpdateFileSystemProtection", {"FileSystemId": i.resource.outputs.get("id"),
                                                          **pascal(i.get("protection"))}))
    return out


def _efs_mount_target(i: Inputs) -> list:
    return [("efs", "CreateMountTarget", compact({
        "FileSystemId": i.get("fileSystemId"), "SubnetId": i.get("subnetId"), "IpAddress": i.get("ipAddress"),
        "Ipv6Address": i.get("ipv6Address"), "IpAddressType": i.get("ipAddressType"),
        "SecurityGroups": i.get("securityGroups")}), True)]


def _efs_access_point(i: Inputs) -> list:
    root = i.get("rootDirectory")
    return [("efs", "CreateAccessPoint", compact({
        "ClientToken": i.resource.name + AUTONAME_SUFFIX, "FileSystemId": i.get("fileSystemId"),
        "PosixUser": pascal(i.get("posixUser")) if i.get("posixUser") else None,
        "RootDirectory": pascal(root) if root else None, "Tags": tag_list(i.get("tags"))}), True)]


def _efs_file_system_policy(i: Inputs) -> list:
    return [("efs", "PutFileSystemPolicy", compact({
        "FileSystemId": i.get("fileSystemId"), "Policy": i.get("policy"),
        "BypassPolicyLockoutSafetyCheck": i.get("bypassPolicyLockoutSafetyCheck")}), True)]


def _connection(i: Inputs) -> list:
    return [("codestar-connections", "CreateConnection", compact({
        "ConnectionName": i.get("name"), "ProviderType": i.get("providerType"), "HostArn": i.get("hostArn"),
        "Tags": tag_list(i.get("tags"))}), True)]


# --- Application Auto Scaling, CloudWatch alarms, SNS ---------------------------------------------

def _scalable_target(i: Inputs) -> list:
    suspended = i.get("suspendedState")
    return [("application-autoscaling", "RegisterScalableTarget", compact({
        "ServiceNamespace": i.get("serviceNamespace"), "ResourceId": i.get("resourceId"),
        "ScalableDimension": i.get("scalableDimension"), "MinCapacity": i.get("minCapacity"),
        "MaxCapacity": i.get("maxCapacity"), "RoleARN": i.get("roleArn"),
        "SuspendedState": pascal(suspended) if suspended else None, "Tags": i.get("tags") or None}), True)]


def _bound(value: Any) -> Any:
    """Step bounds are strings in the provider's schema and numbers in the API ("" means unbounded)."""
    return None if value in (None, "") else float(value)


def _scaling_policy(i: Inputs) -> list:
    step = i.get("stepScalingPolicyConfiguration")
    if step:
        step = dict(step)
        adjustments = [compact({"MetricIntervalLowerBound": _bound(a.get("metricIntervalLowerBound")),
                                "MetricIntervalUpperBound": _bound(a.get("metricIntervalUpperBound")),
                                "ScalingAdjustment": a.get("scalingAdjustment")})
                       for a in step.pop("stepAdjustments", None) or []]
        step = {**pascal(step), "StepAdjustments": adjustments} if adjustments else pascal(step)
    tracking = i.get("targetTrackingScalingPolicyConfiguration")
    if tracking:
        tracking = pascal(tracking, {"customizedMetricSpecification": "CustomizedMetricSpecification"})
    return [("application-autoscaling", "PutScalingPolicy", compact({
        "PolicyName": i.name(prefix_key=None), "ServiceNamespace": i.get("serviceNamespace"),
        "ResourceId": i.get("resourceId"), "ScalableDimension": i.get("scalableDimension"),
        "PolicyType": i.get("policyType"), "StepScalingPolicyConfiguration": step or None,
        "TargetTrackingScalingPolicyConfiguration": tracking or None,
        "PredictiveScalingPolicyConfiguration": pascal(i.get("predictiveScalingPolicyConfiguration"))}), True)]


def _scheduled_action(i: Inputs) -> list:
    return [("application-autoscaling", "PutScheduledAction", compact({
        "ServiceNamespace": i.get("serviceNamespace"), "Schedule": i.get("schedule"), "Timezone": i.get("timezone"),
        "ScheduledActionName": i.name(prefix_key=None), "ResourceId": i.get("resourceId"),
        "ScalableDimension": i.get("scalableDimension"), "StartTime": i.get("startTime"), "EndTime": i.get("endTime"),
        "ScalableTargetAction": pascal(i.get("scalableTargetAction"))}), True)]


def _dimensions(dimensions: dict | None) -> list | None:
    return [{"Name": k, "Value": v} for k, v in dimensions.items()] if dimensions else None


def _metric_query(query: dict) -> dict:
    metric = query.get("metric")
    stat = None
    if metric:
        stat = compact({"Metric": compact({"Namespace": metric.get("namespace"), "MetricName": metric.get("metricName"),
                                           "Dimensions": _dimensions(metric.get("dimensions"))}),
                        "Period": metric.get("period"), "Stat": metric.get("stat"), "Unit": metric.get("unit")})
    return compact({"Id": query.get("id"), "MetricStat": stat, "Expression": query.get("expression"),
                    "Label": query.get("label"), "ReturnData": query.get("returnData"), "Period": query.get("period"),
                    "AccountId": query.get("accountId")})


def _metric_alarm(i: Inputs) -> list:
    queries = i.get("metricQueries")
    return [("cloudwatch", "PutMetricAlarm", compact({
        "AlarmName": i.name(prefix_key=None), "AlarmDescription": i.get("alarmDescription"),
        "ActionsEnabled": i.get("actionsEnabled"), "OKActions": i.get("okActions"),
        "AlarmActions": i.get("alarmActions"), "InsufficientDataActions": i.get("insufficientDataActions"),
        "MetricName": i.get("metricName"), "Namespace": i.get("namespace"), "Statistic": i.get("statistic"),
        "ExtendedStatistic": i.get("extendedStatistic"), "Dimensions": _dimensions(i.get("dimensions")),
        "Period": i.get("period"), "Unit": i.get("unit"), "EvaluationPeriods": i.get("evaluationPeriods"),
        "DatapointsToAlarm": i.get("datapointsToAlarm"), "Threshold": i.get("threshold"),
        "ComparisonOperator": i.get("comparisonOperator"), "TreatMissingData": i.get("treatMissingData"),
        "EvaluateLowSampleCountPercentile": i.get("evaluateLowSampleCountPercentiles"),
        "Metrics": [_metric_query(q) for q in queries] if queries else None,
        "ThresholdMetricId": i.get("thresholdMetricId"), "Tags": tag_list(i.get("tags"))}), True)]


def _sns_topic(i: Inputs) -> list:
    attributes = {member: str(i.get(key)) for key, member in (
        ("displayName", "DisplayName"), ("policy", "Policy"), ("deliveryPolicy", "DeliveryPolicy"),
        ("kmsMasterKeyId", "KmsMasterKeyId"), ("fifoTopic", "FifoTopic"), ("signatureVersion", "SignatureVersion"),
        ("tracingConfig", "TracingConfig")) if i.get(key) is not None}
    return [("sns", "CreateTopic", compact({"Name": i.name(), "Attributes": attributes or None,
                                            "Tags": tag_list(i.get("tags"))}), True)]


def _sns_subscription(i: Inputs) -> list:
    i.provider_only("confirmationTimeoutInMinutes", "endpointAutoConfirms")
    attributes = {member: str(i.get(key)) for key, member in (
        ("filterPolicy", "FilterPolicy"), ("rawMessageDelivery", "RawMessageDelivery"),
        ("redrivePolicy", "RedrivePolicy"), ("deliveryPolicy", "DeliveryPolicy"),
        ("subscriptionRoleArn", "SubscriptionRoleArn")) if i.get(key) is not None}
    return [("sns", "Subscribe", compact({"TopicArn": i.get("topic"), "Protocol": i.get("protocol"),
                                          "Endpoint": i.get("endpoint"), "Attributes": attributes or None,
                                          "ReturnSubscriptionArn": True}), True)]


def _sns_topic_policy(i: Inputs) -> list:
    return [("sns", "SetTopicAttributes", {"TopicArn": i.get("arn"), "AttributeName": "Policy",
                                           "AttributeValue": i.get("policy")}, True)]


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
}

from tests.fidelity.security_requests import MAPPERS as _SECURITY_MAPPERS  # noqa: E402 - needs the helpers above

MAPPERS.update(_SECURITY_MAPPERS)

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
