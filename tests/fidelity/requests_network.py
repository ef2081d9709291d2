"""Mappers for EC2 networking, Cloud Map, API Gateway v2, ACM and Route 53: recorded Pulumi inputs -> the AWS API
requests (see aws_requests.py)."""
from __future__ import annotations

from tests.fidelity.request_shapes import Inputs, Mapper, compact, pascal, tag_list, tag_specifications

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
