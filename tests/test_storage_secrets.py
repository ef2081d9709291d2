"""components/storage.py and components/secrets.py: tables, grants, environment, and secret values
that never appear in plaintext."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.settings.storage import KeyAttribute, TableSettings
from components.compose.model import Secret
from components.secrets import Secrets, SecretsArgs
from components.settings.storage import env_name, storage_environment
from components.storage import DYNAMODB_ACTIONS, Storage, StorageArgs, dynamodb_actions, dynamodb_statements
from ops.plan import mockrun
from tests.infra_helpers import SECRET_VALUE, all_strings, botocore_errors


def test_tables_are_on_demand_and_encrypted():
    tables = {"posts": TableSettings("posts", KeyAttribute("id", "N")),
              "events": TableSettings("events", KeyAttribute("pk", "S"), KeyAttribute("at", "N"),
                                      point_in_time_recovery=True)}
    result = mockrun.run(lambda: Storage("storage", StorageArgs(stack="dev", tables=tables, tags={"stack": "dev"})))
    by_name = {t.inputs["name"]: t.inputs for t in result.of_type("aws:dynamodb/table:Table")}
    posts, events = by_name["serverless-containers-dev-posts"], by_name["serverless-containers-dev-events"]
    assert posts["billingMode"] == "PAY_PER_REQUEST" and "readCapacity" not in posts
    assert posts["hashKey"] == "id" and "rangeKey" not in posts
    assert posts["attributes"] == [{"name": "id", "type": "N"}]
    assert posts["serverSideEncryption"] == {"enabled": True}
    assert posts["pointInTimeRecovery"] == {"enabled": False}
    assert (events["hashKey"], events["rangeKey"]) == ("pk", "at")
    assert events["attributes"] == [{"name": "pk", "type": "S"}, {"name": "at", "type": "N"}]
    assert events["pointInTimeRecovery"] == {"enabled": True}
    assert posts["tags"] == {"stack": "dev", "table": "posts"}
    request = {"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]}
                                        for a in events["attributes"]],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]}
    assert botocore_errors("dynamodb", "CreateTable", request) == ""


def test_grant_mapping_is_exact():
    assert dynamodb_actions(["read"]) == sorted(DYNAMODB_ACTIONS["read"])
    assert "dynamodb:DeleteItem" not in dynamodb_actions(["create", "read", "update"])
    assert "dynamodb:PutItem" in dynamodb_actions(["update"]) and "dynamodb:UpdateItem" not in dynamodb_actions(["create"])
    assert set(dynamodb_actions(list(DYNAMODB_ACTIONS))) == {a for acts in DYNAMODB_ACTIONS.values() for a in acts}
    assert not any("*" in action for actions in DYNAMODB_ACTIONS.values() for action in actions)
    arn = "arn:aws:dynamodb:us-east-1:1:table/t"
    statement, = dynamodb_statements([(arn, ("delete",))])
    assert statement["Resource"] == [arn, f"{arn}/index/*"]
    assert statement["Action"] == ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]


def test_storage_environment_names():
    assert env_name("my-posts") == "MY_POSTS"
    env = storage_environment({"my-posts": ("n", "a")}, "eu-west-1")
    assert env == {"REGION": "eu-west-1", "STORAGE_MY_POSTS_NAME": "n", "STORAGE_MY_POSTS_ARN": "a"}
    assert storage_environment({}, "eu-west-1") == {}


@pytest.fixture(scope="module")
def secrets_run():
    secrets = {"API_TOKEN": Secret("API_TOKEN", Path("/srv/.secret-api-token"), SECRET_VALUE),
               "DB_PASSWORD": Secret("DB_PASSWORD", Path("/srv/.secret-db"), "another-value-42")}
    return mockrun.run(lambda: Secrets("multi-secrets", SecretsArgs(stack="dev", api="multi", secrets=secrets)))


def test_one_secret_per_compose_secret_deleted_with_the_stack(secrets_run):
    secrets = {s.inputs["name"]: s for s in secrets_run.of_type("aws:secretsmanager/secret:Secret")}
    assert set(secrets) == {"serverless-containers/dev/multi/API_TOKEN", "serverless-containers/dev/multi/DB_PASSWORD"}
    assert all(s.inputs["recoveryWindowInDays"] == 0 for s in secrets.values())
    versions = secrets_run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert sorted(v.inputs["secretId"] for v in versions) == sorted(s.id for s in secrets.values())
    for version in versions:
        assert "secretString" in version.secret_paths


def test_secret_values_are_never_plaintext(secrets_run):
    for resource in secrets_run.resources:
        for path_value in _plain_strings(resource.inputs, "", resource.secret_paths):
            assert SECRET_VALUE not in path_value and "another-value-42" not in path_value, resource.name
    assert SECRET_VALUE not in repr(Secret("API_TOKEN", Path("/x"), SECRET_VALUE))


def _plain_strings(value, path, secret_paths):
    """Strings of ``value`` that are not under a path marked secret."""
    if path in secret_paths:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _plain_strings(item, f"{path}.{key}" if path else key, secret_paths)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plain_strings(item, f"{path}[{index}]", secret_paths)
    else:
        yield from all_strings(value)
