"""`existingUserPool` and `storage.NAME.existingTable`: nothing is created for them, and the authorizer, grants and
variables point at the given pool, client and table (docs/design.md, "Moving from Amplify Gen1")."""
from __future__ import annotations

import json

import pytest

from components.errors import ConfigError
from components.program import main
from components.settings import load_settings
from ops.plan import mockrun
from tests.infra_helpers import policy, write_dockerfile_app

POOL = {"userPoolId": "eu-west-1_AbCdEf123", "clientId": "3n4b5c6d7e8f9g0h1i2j3k4l5m"}
TABLE_ARN = "arn:aws:dynamodb:us-east-1:210987654321:table/postsTable-dev"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def config(source, **storage_access) -> dict:
    return {"existingUserPool": POOL,
            "storage": {"posts": {"existingTable": "postsTable-dev"}, "legacy": {"existingTable": TABLE_ARN},
                        "fresh": {"partitionKey": {"name": "id", "type": "S"}}},
            "apis": {"web": {"source": str(source),
                             "access": {"storage": {"posts": ["read"], "legacy": ["create", "delete"],
                                                    "fresh": ["read"]}}}}}


@pytest.fixture(scope="module")
def result(source):
    return mockrun.run(main, config=config(source))


def test_no_pool_and_no_client_are_created_and_the_authorizer_trusts_the_given_ones(result):
    assert result.of_type("aws:cognito/userPool:UserPool") == []
    assert result.of_type("aws:cognito/userPoolClient:UserPoolClient") == []
    authorizer = result.one("aws:apigatewayv2/authorizer:Authorizer").inputs
    assert authorizer["jwtConfiguration"] == {
        "audiences": [POOL["clientId"]],
        # the pool's own region (its id's prefix), not the stack's
        "issuer": f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL['userPoolId']}"}
    assert (result.outputs["userPoolId"], result.outputs["userPoolClientId"]) == (POOL["userPoolId"], POOL["clientId"])


def test_no_table_and_no_key_guard_for_existing_tables(result):
    tables = result.of_type("aws:dynamodb/table:Table")
    assert [t.inputs["name"] for t in tables] == ["serverless-containers-dev-fresh"]
    guards = [r for r in result.resources if r.name.endswith("-keys")]
    assert [g.name for g in guards] == ["storage-fresh-keys"]


def test_grants_and_variables_name_the_existing_tables(result):
    grants = policy(result.by_name("web-storage"))["Statement"]
    resources = {tuple(s["Resource"]): s["Action"] for s in grants}
    by_name = f"arn:aws:dynamodb:us-east-1:{mockrun.ACCOUNT_ID}:table/postsTable-dev"
    assert resources[(by_name, f"{by_name}/index/*")] == [
        "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
        "dynamodb:Query", "dynamodb:Scan"]
    assert resources[(TABLE_ARN, f"{TABLE_ARN}/index/*")] == [
        "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
    task = result.one("aws:ecs/taskDefinition:TaskDefinition")
    environment = {e["name"]: e["value"] for e in json.loads(task.inputs["containerDefinitions"])[0]["environment"]}
    assert environment["STORAGE_POSTS_NAME"] == "postsTable-dev" and environment["STORAGE_POSTS_ARN"] == by_name
    assert environment["STORAGE_LEGACY_NAME"] == "postsTable-dev" and environment["STORAGE_LEGACY_ARN"] == TABLE_ARN
    assert environment["REGION"] == "us-east-1"


def test_the_shipped_contract_checks_the_new_keys(source, tmp_path):
    raw = config(source)
    settings = load_settings(raw, tmp_path, "dev")
    assert settings.existing_user_pool.user_pool_id == POOL["userPoolId"]
    assert settings.storage["legacy"].existing_table == TABLE_ARN
    assert settings.storage["legacy"].partition_key is None

    def refused(change: dict, key: str, words: str):
        bad = json.loads(json.dumps(raw))
        bad.update(change)
        with pytest.raises(ConfigError) as error:
            load_settings(bad, tmp_path, "dev")
        assert error.value.key == f"serverless-containers:{key}" and words in error.value.problem, error.value

    refused({"existingUserPool": {"userPoolId": "not a pool", "clientId": "x"}}, "existingUserPool.userPoolId",
            "is not valid")
    refused({"existingUserPool": {"userPoolId": POOL["userPoolId"]}}, "existingUserPool.clientId", "needs clientId")
    refused({"userPool": {"selfSignUp": True}}, "userPool", "does not own")
    refused({"storage": {"posts": {"existingTable": "postsTable-dev", "partitionKey": {"name": "id"}}}},
            "storage.posts.partitionKey", "never changes")
    refused({"storage": {"posts": {"existingTable": "bad name!"}}}, "storage.posts.existingTable", "is not")


def test_an_existing_table_in_another_region_is_refused(source):
    raw = config(source)
    raw["storage"]["legacy"]["existingTable"] = TABLE_ARN.replace("us-east-1", "eu-central-1")
    with pytest.raises(Exception) as error:
        mockrun.run(main, config=raw)
    assert "eu-central-1" in str(error.value) and "storage.legacy.existingTable" in str(error.value)


def test_ops_local_reaches_an_existing_table_by_its_own_name(source, tmp_path):
    from ops.local.runner import LocalOptions, load_api, storage_environment

    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  serverless-containers:storage:\n"
        f"    legacy: {{existingTable: {TABLE_ARN}}}\n"
        f"  serverless-containers:apis:\n    web: {{source: {source}, auth: false, access: {{storage: {{legacy: [read]}}}}}}\n")
    existing: dict[str, str] = {}
    api, _app, region = load_api("dev", "web", tmp_path, existing_tables=existing)
    assert existing == {"legacy": "postsTable-dev"}
    environment = storage_environment(LocalOptions(stack="dev", api="web", tables=existing), sorted(api.storage_access), region)
    assert environment["STORAGE_LEGACY_NAME"] == "postsTable-dev"
