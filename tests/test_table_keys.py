"""DynamoDB key changes never fail halfway (issue 12): the table is replaced delete-first (its name is fixed), a
key change is refused at preview unless the stack config opts in, and protected tables are never deleted."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.settings.stack import load_settings
from components.errors import ConfigError
from components.program import main
from components.providers.table_keys import DYNAMIC_TYPE, KeyChangeRefused, TableKeysProvider
from ops.plan import mockrun
from ops.stack import stack_config
from tests.infra_helpers import write_dockerfile_app

OLD = {"table": "posts", "physicalName": "serverless-containers-prod-posts",
       "partitionKey": {"name": "id", "type": "N"}, "sortKey": None, "replaceOnKeyChange": False}


def test_same_keys_pass_and_other_changes_are_plain_updates():
    provider = TableKeysProvider()
    assert provider.diff("t", OLD, dict(OLD)).changes is False
    assert provider.create(dict(OLD)).id == "serverless-containers-prod-posts"


@pytest.mark.parametrize("change", [{"partitionKey": {"name": "postId", "type": "N"}},
                                    {"partitionKey": {"name": "id", "type": "S"}},
                                    {"sortKey": {"name": "createdAt", "type": "S"}}])
def test_a_key_change_is_refused_naming_the_loss_and_the_opt_in(change):
    with pytest.raises(KeyChangeRefused) as refused:
        TableKeysProvider().diff("t", OLD, {**OLD, **change})
    message = str(refused.value)
    assert "DynamoDB table serverless-containers-prod-posts" in message and "Nothing was changed" in message
    assert "serverless-containers:storage.posts.replaceOnKeyChange: true" in message
    assert "all its items" in message


def test_the_opt_in_lets_the_replacement_through():
    news = {**OLD, "partitionKey": {"name": "postId", "type": "S"}, "replaceOnKeyChange": True}
    assert TableKeysProvider().diff("t", OLD, news).changes is True


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def graph(app: Path, **table):
    return mockrun.run(main, config={"storage": {"posts": {"partitionKey": {"name": "id", "type": "N"}, **table}},
                                     "apis": {"web": {"source": str(app), "auth": False}}})


def test_the_table_is_replaced_delete_first_and_only_after_its_key_guard(app):
    result = graph(app)
    table = result.one("aws:dynamodb/table:Table")
    guard = result.one(DYNAMIC_TYPE)
    assert table.options.get("deleteBeforeReplace") is True and not table.options.get("protect")
    assert guard.urn in table.dependencies
    assert guard.inputs["partitionKey"] == {"name": "id", "type": "N"} and guard.inputs["replaceOnKeyChange"] is False
    assert table.inputs["deletionProtectionEnabled"] is False


def test_the_opt_in_is_a_warning_in_the_plan_and_at_preview(app):
    result = graph(app, replaceOnKeyChange=True)
    assert any("replaceOnKeyChange is on" in w and "with all its items" in w for w in result.warnings)
    assert result.one(DYNAMIC_TYPE).inputs["replaceOnKeyChange"] is True
    assert not any("replaceOnKeyChange" in w for w in graph(app).warnings)


def test_a_protected_table_cannot_be_deleted_by_aws_or_pulumi(app):
    table = graph(app, deletionProtection=True).one("aws:dynamodb/table:Table")
    assert table.options["protect"] is True and table.inputs["deletionProtectionEnabled"] is True


def test_protection_and_the_replacement_opt_in_exclude_each_other(tmp_path: Path):
    (tmp_path / "app").mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings({"storage": {"posts": {"partitionKey": {"name": "id"}, "deletionProtection": True,
                                             "replaceOnKeyChange": True}},
                       "apis": {"web": {"source": "app"}}}, tmp_path, "prod")
    assert error.value.key == "serverless-containers:storage.posts.replaceOnKeyChange"


def test_the_prod_stack_protects_its_tables():
    config, _ = stack_config.load_stack_config("prod")
    tables = config["serverless-containers:storage"]
    assert tables and all(spec.get("deletionProtection") is True for spec in tables.values())
