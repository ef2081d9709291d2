"""components/api.py and components/auth.py under the mock runtime."""
from __future__ import annotations

import pytest

from components.api import Api, ApiArgs, api_url
from components.auth import Auth, AuthArgs, issuer_url
from ops.plan import mockrun

CLOUD_MAP_ARN = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abc"


def run_api(*, auth: bool, api_type: str = "rest", cors=("*",)):
    def program():
        users = Auth("auth", AuthArgs(stack="dev", region="us-east-1")) if auth else None
        Api("posts-api", ApiArgs(
            stack="dev", api="posts", type=api_type, subnet_ids=["subnet-1", "subnet-2"],
            vpc_link_security_group_id="sg-link", cloud_map_service_arn=CLOUD_MAP_ARN, cors_origins=list(cors),
            jwt_issuer=users.issuer if users else None, jwt_audience=[users.client_id] if users else None))
    return mockrun.run(program)


@pytest.fixture(scope="module")
def with_auth():
    return run_api(auth=True, cors=("https://app.example.com",))


def test_http_api_proxies_to_cloud_map_through_the_vpc_link(with_auth):
    api = with_auth.one("aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "HTTP" and api.inputs["name"] == "serverless-containers-dev-posts"
    cors = api.inputs["corsConfiguration"]
    assert cors["allowOrigins"] == ["https://app.example.com"]
    assert cors["allowHeaders"] == ["authorization", "content-type"] and cors["allowMethods"] == ["*"]
    link = with_auth.one("aws:apigatewayv2/vpcLink:VpcLink")
    assert link.inputs["subnetIds"] == ["subnet-1", "subnet-2"] and link.inputs["securityGroupIds"] == ["sg-link"]
    integration = with_auth.one("aws:apigatewayv2/integration:Integration").inputs
    assert integration["apiId"] == api.id
    assert (integration["integrationType"], integration["integrationMethod"]) == ("HTTP_PROXY", "ANY")
    assert (integration["connectionType"], integration["connectionId"]) == ("VPC_LINK", link.id)
    assert integration["integrationUri"] == CLOUD_MAP_ARN and integration["payloadFormatVersion"] == "1.0"
    stage = with_auth.one("aws:apigatewayv2/stage:Stage").inputs
    assert stage["name"] == "$default" and stage["autoDeploy"] is True and stage["apiId"] == api.id
    throttling = stage["defaultRouteSettings"]
    assert throttling["throttlingRateLimit"] > 0 and throttling["throttlingBurstLimit"] >= throttling["throttlingRateLimit"]


def test_jwt_authorizer_on_every_route_and_no_unauthenticated_preflight_route(with_auth):
    """Issue 14: API Gateway answers CORS preflights itself when no OPTIONS route matches (docs/design.md,
    "Security"), so a signed-in API has a JWT route per method and none that forwards OPTIONS without sign-in."""
    from components.api import signed_in_route_keys

    pool = with_auth.one("aws:cognito/userPool:UserPool")
    client = with_auth.one("aws:cognito/userPoolClient:UserPoolClient")
    authorizer = with_auth.one("aws:apigatewayv2/authorizer:Authorizer").inputs
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["identitySources"] == ["$request.header.Authorization"]
    assert authorizer["jwtConfiguration"] == {
        "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool.id}", "audiences": [client.id]}
    integration = with_auth.one("aws:apigatewayv2/integration:Integration")
    routes = {r.inputs["routeKey"]: r.inputs for r in with_auth.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == set(signed_in_route_keys())
    assert not any(key.startswith("OPTIONS") or key == "$default" for key in routes)
    authorizer_id = with_auth.one("aws:apigatewayv2/authorizer:Authorizer").id
    assert all(r["authorizationType"] == "JWT" and r["authorizerId"] == authorizer_id for r in routes.values())
    assert all(r["target"] == f"integrations/{integration.id}" for r in routes.values())


def test_user_pool_and_web_client(with_auth):
    pool = with_auth.one("aws:cognito/userPool:UserPool").inputs
    assert pool["name"] == "serverless-containers-dev" and pool["usernameAttributes"] == ["email"]
    assert pool["autoVerifiedAttributes"] == ["email"]
    assert pool["passwordPolicy"]["minimumLength"] >= 8
    client = with_auth.one("aws:cognito/userPoolClient:UserPoolClient")
    assert client.inputs["generateSecret"] is False
    assert client.inputs["userPoolId"] == with_auth.one("aws:cognito/userPool:UserPool").id
    assert sorted(client.inputs["explicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    auth = with_auth.one("serverless-containers:auth:Auth")
    assert all(r.parent_urn == auth.urn for r in with_auth.of_type("aws:cognito/userPool:UserPool")
               + with_auth.of_type("aws:cognito/userPoolClient:UserPoolClient"))


def test_without_auth_no_authorizer_and_public_route():
    result = run_api(auth=False)
    assert result.of_type("aws:apigatewayv2/authorizer:Authorizer") == []
    assert result.of_type("aws:cognito/userPool:UserPool") == []
    route, = result.of_type("aws:apigatewayv2/route:Route")
    assert route.inputs["routeKey"] == "$default" and route.inputs["authorizationType"] == "NONE"
    assert result.one("aws:apigatewayv2/api:Api").inputs["corsConfiguration"]["allowOrigins"] == ["*"]


def test_urls():
    assert api_url("https://abc.execute-api.us-east-1.amazonaws.com", "rest") == \
        "https://abc.execute-api.us-east-1.amazonaws.com"
    assert api_url("https://abc.execute-api.us-east-1.amazonaws.com/", "graphql") == \
        "https://abc.execute-api.us-east-1.amazonaws.com/graphql"
    assert issuer_url("eu-west-1", "eu-west-1_AbC") == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
