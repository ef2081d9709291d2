"""One API Gateway HTTP API per container API: a VPC link into the VPC, a Cloud Map (SRV) integration
to the ECS service, an optional Cognito JWT authorizer and a throttled `$default` stage."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.settings.security import SECURITY_LOG_TAGS


# The routes an API with sign-in gets instead of `$default`: one per method, on the root and on every
# path. A `$default` route with an authorizer would also catch CORS preflights (browsers send them without
# a token) and refuse them; unauthenticated `OPTIONS` routes would forward plain OPTIONS requests to the
# app without sign-in. With no OPTIONS route, API Gateway answers preflights itself from the CORS
# configuration (docs/design.md, "API edge").
SIGNED_IN_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# One JSON line per request in the stage's access log.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "time": "$context.requestTime", "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent", "method": "$context.httpMethod", "path": "$context.path",
    "routeKey": "$context.routeKey", "status": "$context.status", "protocol": "$context.protocol",
    "responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage", "authorizerError": "$context.authorizer.error",
    "sub": "$context.authorizer.claims.sub",
}


def access_log_group_name(stack: str, api: str) -> str:
    return f"/aws/apigateway/serverless-containers-{stack}-{api}"


def signed_in_route_keys() -> list[str]:
    return [f"{method} {path}" for method in SIGNED_IN_METHODS for path in ("/", "/{proxy+}")]


def api_url(endpoint: str, api_type: str) -> str:
    """What a client calls: the endpoint itself for REST, its /graphql path for GraphQL."""
    return f"{endpoint.rstrip('/')}/graphql" if api_type == "graphql" else endpoint.rstrip("/")


@dataclass
class ApiArgs:
    stack: str
    api: str
    subnet_ids: list[pulumi.Input[str]]
    """Subnets the VPC link places its network interfaces in (the tasks' public subnets)."""
    vpc_link_security_group_id: pulumi.Input[str]
    cloud_map_service_arn: pulumi.Input[str]
    """The ECS service's Cloud Map service; its SRV records give API Gateway the task IPs and port."""
    type: str = "rest"
    """rest | graphql: the same proxy; only the published URL differs (…/graphql)."""
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    """Origins a browser may call from; API Gateway answers the CORS preflight itself."""
    jwt_issuer: pulumi.Input[str] | None = None
    """Cognito issuer URL; None: no authorizer, every route is public."""
    jwt_audience: list[pulumi.Input[str]] | None = None
    """Accepted `aud`/`client_id` values: the Cognito web client id."""
    throttling_rate_limit: float = 50.0
    """Steady requests per second across the API: caps the bill and the tasks' load when something loops."""
    throttling_burst_limit: int = 100
    """Requests API Gateway lets through at once above the steady rate."""
    disable_execute_api_endpoint: bool = False
    """True: the execute-api address answers nothing, so clients cannot go around a custom domain."""
    log_retention_days: int = 7
    """Retention of the stage's JSON access log (`securityLogRetentionDays`, else `logRetentionDays`)."""
    tags: dict[str, str] = field(default_factory=dict)


class Api(pulumi.ComponentResource):
    api_id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    url: pulumi.Output[str]
    stage_name: pulumi.Output[str]
    access_log_group_name: pulumi.Output[str]
    access_log_group_arn: pulumi.Output[str]
    authorizer_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: ApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:api:Api", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        physical = f"serverless-containers-{args.stack}-{args.api}"
        http_api = aws.apigatewayv2.Api(
            f"{name}-http", name=physical, protocol_type="HTTP",
            description=f"{args.type} API {args.api} of stack {args.stack}",
            cors_configuration={"allow_origins": list(args.cors_origins),
                                "allow_headers": ["authorization", "content-type"],
                                "allow_methods": ["*"], "max_age": 300},
            disable_execute_api_endpoint=args.disable_execute_api_endpoint or None,
            tags=args.tags, opts=child)
        link = aws.apigatewayv2.VpcLink(
            f"{name}-link", name=physical, subnet_ids=args.subnet_ids,
            security_group_ids=[args.vpc_link_security_group_id], tags=args.tags, opts=child)
        integration = aws.apigatewayv2.Integration(
            f"{name}-service", api_id=http_api.id, integration_type="HTTP_PROXY", integration_method="ANY",
            connection_type="VPC_LINK", connection_id=link.id, integration_uri=args.cloud_map_service_arn,
            # HTTP_PROXY private integrations accept only payload format 1.0.
            payload_format_version="1.0", opts=child)
        target = integration.id.apply(lambda integration_id: f"integrations/{integration_id}")

        self.authorizer_id = None
        if args.jwt_issuer is not None:
            authorizer = aws.apigatewayv2.Authorizer(
                f"{name}-cognito", api_id=http_api.id, name="cognito", authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={"issuer": args.jwt_issuer, "audiences": list(args.jwt_audience or [])},
                opts=child)
            self.authorizer_id = authorizer.id
            for route_key in signed_in_route_keys():
                method, path = route_key.split(" ")
                suffix = method.lower() + ("-root" if path == "/" else "")
                aws.apigatewayv2.Route(f"{name}-{suffix}", api_id=http_api.id, route_key=route_key, target=target,
                                       authorization_type="JWT", authorizer_id=authorizer.id, opts=child)
        else:
            aws.apigatewayv2.Route(f"{name}-default", api_id=http_api.id, route_key="$default", target=target,
                                   authorization_type="NONE", opts=child)
        access_log = aws.cloudwatch.LogGroup(
            f"{name}-access", name=access_log_group_name(args.stack, args.api),
            retention_in_days=args.log_retention_days, tags={**args.tags, **SECURITY_LOG_TAGS}, opts=child)
        stage = aws.apigatewayv2.Stage(
            f"{name}-stage", api_id=http_api.id, name="$default", auto_deploy=True,
            access_log_settings={"destination_arn": access_log.arn,
                                 "format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))},
            default_route_settings={"throttling_rate_limit": args.throttling_rate_limit,
                                    "throttling_burst_limit": args.throttling_burst_limit},
            tags=args.tags, opts=child)
        self.api_id = http_api.id
        self.stage_name = stage.name
        self.access_log_group_name = access_log.name
        self.access_log_group_arn = access_log.arn
        self.endpoint = http_api.api_endpoint
        self.url = http_api.api_endpoint.apply(lambda endpoint: api_url(endpoint, args.type))
        self.register_outputs({"apiId": http_api.id, "url": self.url})
