"""`storage.NAME.replaces` and `userPool.replaces`: a new table or pool that takes over from an older one (Amplify's,
with `ops import amplify --new-resources`). The keys change no resource; the plan and the deploy warn, one line
each, that the new one starts empty, what it replaces and how the items or users can come across."""
from __future__ import annotations

import io
import json

import pytest
import yaml

from components.errors import ConfigError
from components.prepare import replacement_warnings
from components.program import main as program
from components.settings import load_settings
from ops.__main__ import main
from ops.plan import mockrun
from tests.amplify_projects import ACCOUNT, POOL_ID, AmplifyFolder
from tests.infra_helpers import write_dockerfile_app

OLD_POOL = "us-east-1_OldPool42"
OLD_TABLE_ARN = "arn:aws:dynamodb:us-east-1:210987654321:table/postsTable-dev"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def config(source, *, table: dict | None = None, pool: dict | None = None, auth: bool = True) -> dict:
    raw = {"storage": {"posts": {"partitionKey": {"name": "id", "type": "S"}, **(table or {})},
                       "plain": {"partitionKey": {"name": "id", "type": "S"}}},
           "apis": {"web": {"source": str(source), "auth": auth, "access": {"storage": {"posts": ["read"]}}}}}
    if pool is not None:
        raw["userPool"] = pool
    return raw


def settings(source, **kwargs):
    return load_settings(config(source, **kwargs), source.parent, "dev")


def refused(source, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        settings(source, **kwargs)
    return caught.value


# --- validation ---------------------------------------------------------------------------------------------------

def test_replaces_takes_a_table_name_or_arn_and_a_pool_id(source):
    loaded = settings(source, table={"replaces": "postsTable-dev"}, pool={"replaces": OLD_POOL})
    assert loaded.storage["posts"].replaces == "postsTable-dev"
    assert loaded.storage["plain"].replaces is None
    assert loaded.security.user_pool.replaces == OLD_POOL
    assert settings(source, table={"replaces": OLD_TABLE_ARN}).storage["posts"].replaces == OLD_TABLE_ARN
    # the new table keeps its own name: `replaces` does not rename it
    assert loaded.storage["posts"].physical_name("dev") == "serverless-containers-dev-posts"


@pytest.mark.parametrize("table, pool, key, words", [
    ({"replaces": "no spaces allowed"}, None, "storage.posts.replaces", "not a DynamoDB table name or table ARN"),
    ({"replaces": 42}, None, "storage.posts.replaces", "non-empty string"),
    ({"replaces": "serverless-containers-dev-posts"}, None, "storage.posts.replaces", "the table this stack creates"),
    ({"replaces": "arn:aws:dynamodb:us-east-1:123456789012:table/serverless-containers-dev-posts"}, None,
     "storage.posts.replaces", "the table this stack creates"),
    (None, {"replaces": "not-a-pool-id"}, "userPool.replaces", "is not valid"),
    (None, {"replaces": ["us-east-1_A"]}, "userPool.replaces", "non-empty string"),
])
def test_a_bad_replaces_names_the_file_and_key(source, table, pool, key, words):
    error = refused(source, table=table, pool=pool)
    assert error.file == "stacks/Pulumi.dev.yaml"
    assert error.key == f"serverless-containers:{key}"
    assert words in error.problem + error.fix


def test_replaces_with_existing_table_is_refused(source):
    assert settings(source, table={"replaces": "old"}).storage["posts"].replaces == "old"   # a created table may
    raw = config(source)
    raw["storage"]["posts"] = {"existingTable": "postsTable-dev", "replaces": "postsTable-dev"}
    with pytest.raises(ConfigError) as caught:
        load_settings(raw, source.parent, "dev")
    assert caught.value.key == "serverless-containers:storage.posts.replaces"
    assert "existingTable uses the old table itself" in caught.value.problem


def test_pool_replaces_needs_a_pool_the_stack_creates(source):
    error = refused(source, pool={"replaces": OLD_POOL}, auth=False)
    assert error.key == "serverless-containers:userPool.replaces"
    assert "no API has auth: true" in error.problem
    raw = config(source, pool={"replaces": OLD_POOL})
    raw["existingUserPool"] = {"userPoolId": "us-east-1_Kept1", "clientId": "abc123"}
    with pytest.raises(ConfigError) as caught:
        load_settings(raw, source.parent, "dev")
    assert caught.value.key == "serverless-containers:userPool"


# --- the warnings ---------------------------------------------------------------------------------------------------

def test_one_warning_line_per_replaced_table_and_pool(source):
    lines = replacement_warnings(settings(source, table={"replaces": OLD_TABLE_ARN}, pool={"replaces": OLD_POOL}))
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    table, pool = lines
    assert table.startswith(f"table posts (serverless-containers-dev-posts) starts EMPTY: it replaces {OLD_TABLE_ARN}")
    assert "BatchWriteItem" in table and "DynamoDB data export to Amazon S3" in table
    assert "storage.posts.existingTable" in table
    assert pool.startswith(f"the user pool this stack creates starts EMPTY: it replaces {OLD_POOL}")
    assert "cannot be copied with their passwords" in pool
    assert "Importing users with a user migration Lambda trigger" in pool and "Importing users from a CSV file" in pool
    assert replacement_warnings(settings(source)) == []


def test_the_keys_change_no_resource_and_the_deploy_warns(source):
    plain = mockrun.run(program, config=config(source))
    marked = mockrun.run(program, config=config(source, table={"replaces": OLD_TABLE_ARN},
                                                pool={"replaces": OLD_POOL}))

    def graph(result):     # keyed by URN: the mock registers in whatever order the outputs resolve
        return {r.urn: json.dumps([r.inputs, r.options, sorted(r.dependencies), r.parent_urn], sort_keys=True,
                                  default=lambda asset: type(asset).__name__)   # the source zip: a new temp file
                for r in result.resources}
    assert graph(marked) == graph(plain)
    assert len(marked.of_type("aws:dynamodb/table:Table")) == 2
    assert len(marked.of_type("aws:cognito/userPool:UserPool")) == 1
    assert [w for w in marked.warnings if "starts EMPTY" in w] == replacement_warnings(
        settings(source, table={"replaces": OLD_TABLE_ARN}, pool={"replaces": OLD_POOL}))
    assert not [w for w in plain.warnings if "starts EMPTY" in w]


# --- the import and the plan ----------------------------------------------------------------------------------------

def imported(tmp_path, capsys, *extra) -> tuple[dict, object]:
    here = tmp_path / "here"
    (here / "stacks").mkdir(parents=True)
    folder = AmplifyFolder(tmp_path / "amp").add_auth().add_table("posts", "postsTable")
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"posts": ["create", "read"]}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(""))
        code = main(["import", "amplify", "--project", str(folder.save()), "--env", "dev", "--project-dir", str(here),
                     *extra])
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    return yaml.safe_load((here / "stacks" / "Pulumi.dev.yaml").read_text())["config"], here


def test_new_resources_writes_replaces_and_the_plan_warns(tmp_path, capsys):
    written, here = imported(tmp_path, capsys, "--new-resources")
    amplify_table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/postsTable-dev"
    assert written["serverless-containers:storage"]["posts"]["replaces"] == amplify_table
    assert written["serverless-containers:userPool"] == {"replaces": POOL_ID}
    code = main(["plan", "--stack", "dev", "--project-dir", str(here), "--out", str(here / "build")])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line.strip() for line in out.splitlines()]
    assert (f"- table posts (serverless-containers-dev-posts) starts EMPTY: it replaces {amplify_table}, whose "
            "items stay there and are not copied.") in " ".join(lines)
    assert sum(line.startswith("- table posts (serverless-containers-dev-posts) starts EMPTY") for line in lines) == 1
    assert sum(line.startswith(f"- the user pool this stack creates starts EMPTY: it replaces {POOL_ID}")
               for line in lines) == 1


def test_without_new_resources_nothing_is_replaced_and_the_plan_does_not_warn(tmp_path, capsys):
    written, here = imported(tmp_path, capsys)
    assert "replaces" not in written["serverless-containers:storage"]["posts"]
    assert "serverless-containers:userPool" not in written
    code = main(["plan", "--stack", "dev", "--project-dir", str(here), "--out", str(here / "build")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "starts EMPTY" not in out
