"""The Amplify client libraries' configuration files, built from the stack's outputs.

Two files, two audiences, the same content:

* ``aws-exports.js``: the flat ``aws_*`` keys that Amplify JS (``Amplify.configure(awsExports)``)
  reads in web apps.
* ``amplifyconfiguration.json``: the per-category plugin layout that Amplify Android, Swift and
  Flutter read (``api.plugins.awsAPIPlugin``, ``auth.plugins.awsCognitoAuthPlugin``).

REST APIs are named by their API name; a GraphQL API is served by its container at
``<url><graphql_path>`` (the GraphQL sample answers on ``/graphql``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ops.errors import OpsError
from ops.stack.outputs import ApiOutputs, StackOutputs

COGNITO = "AMAZON_COGNITO_USER_POOLS"
# components/auth.py signs users in with their email address (username_attributes=["email"]).
SIGN_IN_ATTRIBUTES = ["EMAIL"]
NO_AUTH = "NONE"


@dataclass(frozen=True)
class ClientApi:
    name: str
    kind: str                  # "REST" | "GraphQL", as the Amplify plugin's endpointType spells it
    endpoint: str
    region: str
    authorization: str         # COGNITO | NO_AUTH


def graphql_endpoint(url: str, graphql_path: str) -> str:
    if not graphql_path or url.rstrip("/").endswith(graphql_path.rstrip("/")):
        return url
    return url.rstrip("/") + "/" + graphql_path.lstrip("/")


def client_apis(outputs: StackOutputs, auth_by_api: dict[str, bool], graphql_path: str = "/graphql") -> list[ClientApi]:
    region = outputs.region
    apis = []
    for api in outputs.select(None):
        if not api.url:
            raise OpsError(f"API '{api.name}' has no URL in the outputs of stack '{outputs.stack}'. "
                           f"Deploy it first: python -m ops up --stack {outputs.stack}")
        uses_auth = _uses_auth(api, auth_by_api, outputs)
        is_graphql = api.type.lower() == "graphql"
        apis.append(ClientApi(
            name=api.name,
            kind="GraphQL" if is_graphql else "REST",
            endpoint=graphql_endpoint(api.url, graphql_path) if is_graphql else api.url.rstrip("/"),
            region=region,
            authorization=COGNITO if uses_auth else NO_AUTH))
    return apis


def _uses_auth(api: ApiOutputs, auth_by_api: dict[str, bool], outputs: StackOutputs) -> bool:
    if api.auth is not None:
        uses = api.auth
    elif api.name in auth_by_api:
        uses = auth_by_api[api.name]
    else:
        uses = bool(outputs.user_pool_id)      # the config's default is auth: true
    if uses and not (outputs.user_pool_id and outputs.user_pool_client_id):
        raise OpsError(f"API '{api.name}' requires sign-in but stack '{outputs.stack}' has no userPoolId/"
                       "userPoolClientId output. Deploy the stack again (python -m ops up) so the user pool exists.")
    return uses


def pool_region(outputs: StackOutputs) -> str:
    """A user pool id starts with its region (us-east-1_AbC123); an `existingUserPool` may live elsewhere."""
    prefix = outputs.user_pool_id.split("_", 1)[0] if "_" in outputs.user_pool_id else ""
    return prefix or outputs.region


def aws_exports(outputs: StackOutputs, apis: list[ClientApi], own_pool: bool = True) -> tuple[dict, list[str]]:
    """The ``awsmobile`` object of aws-exports.js, and notes for what it cannot hold.

    own_pool: False for an `existingUserPool`, whose sign-in attributes the stack does not know: they are left out
    (the Amplify UI then asks for a username, which such a pool accepts)."""
    notes = []
    config: dict = {"aws_project_region": outputs.region}
    if outputs.user_pool_id:
        config["aws_cognito_region"] = pool_region(outputs)
        config["aws_user_pools_id"] = outputs.user_pool_id
        config["aws_user_pools_web_client_id"] = outputs.user_pool_client_id
        if own_pool:
            config["aws_cognito_username_attributes"] = SIGN_IN_ATTRIBUTES
            config["aws_cognito_signup_attributes"] = SIGN_IN_ATTRIBUTES
            config["aws_cognito_verification_mechanisms"] = SIGN_IN_ATTRIBUTES
        else:
            notes.append(f"the user pool {outputs.user_pool_id} is an existingUserPool: its sign-in attributes are "
                         "its own, so aws-exports.js leaves aws_cognito_username_attributes out; copy them from the "
                         "app's previous aws-exports.js if its sign-in screen needs them.")
    rest = [api for api in apis if api.kind == "REST"]
    if rest:
        config["aws_cloud_logic_custom"] = [{"name": api.name, "endpoint": api.endpoint, "region": api.region}
                                            for api in rest]
    graphql = [api for api in apis if api.kind == "GraphQL"]
    if graphql:
        # aws-exports.js has one GraphQL slot; the rest are in amplifyconfiguration.json.
        first = graphql[0]
        config["aws_appsync_graphqlEndpoint"] = first.endpoint
        config["aws_appsync_region"] = first.region
        config["aws_appsync_authenticationType"] = first.authorization
        if len(graphql) > 1:
            notes.append(f"aws-exports.js holds one GraphQL endpoint ({first.name}); "
                         f"{', '.join(api.name for api in graphql[1:])} are only in amplifyconfiguration.json.")
    return config, notes


def amplify_configuration(outputs: StackOutputs, apis: list[ClientApi], own_pool: bool = True) -> dict:
    """The native libraries' amplifyconfiguration.json."""
    document: dict = {"UserAgent": "aws-amplify-cli/2.0", "Version": "1.0"}
    if apis:
        document["api"] = {"plugins": {"awsAPIPlugin": {
            api.name: {"endpointType": api.kind, "endpoint": api.endpoint, "region": api.region,
                       "authorizationType": api.authorization}
            for api in apis}}}
    if outputs.user_pool_id:
        document["auth"] = {"plugins": {"awsCognitoAuthPlugin": {
            "UserAgent": "aws-amplify-cli/0.1.0",
            "Version": "0.1.0",
            "IdentityManager": {"Default": {}},
            "CognitoUserPool": {"Default": {"PoolId": outputs.user_pool_id,
                                            "AppClientId": outputs.user_pool_client_id,
                                            "Region": pool_region(outputs)}},
            "Auth": {"Default": {"authenticationFlowType": "USER_SRP_AUTH",
                                 **({"usernameAttributes": SIGN_IN_ATTRIBUTES,
                                     "signupAttributes": SIGN_IN_ATTRIBUTES,
                                     "verificationMechanisms": SIGN_IN_ATTRIBUTES} if own_pool else {})}},
        }}}
    return document


def render_aws_exports(config: dict, apis: list[ClientApi]) -> str:
    signed = [api.name for api in apis if api.authorization == COGNITO and api.kind == "REST"]
    lines = ["/* eslint-disable */",
             "// Generated by `python -m ops client-config`; regenerate it instead of editing it."]
    if signed:
        # the access token, not the ID token: docs/design.md, "Tokens: which one to send, what to trust"
        lines.append("// REST APIs that need the user's Cognito access token in the Authorization header: "
                     + ", ".join(signed))
    body = json.dumps(config, indent=4)
    lines += ["", f"const awsmobile = {body};", "", "export default awsmobile;", ""]
    return "\n".join(lines)


def render_amplify_configuration(document: dict) -> str:
    return json.dumps(document, indent=4) + "\n"
