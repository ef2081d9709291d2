"""An imported Amplify project end to end: the offline plan of the written stack runs clean, trusts the env's pool
and client, grants exactly the imported operations on the env's tables, and `client-config` hands the front end the
same pool and client."""
from __future__ import annotations

import io
import json

import pytest

from ops.__main__ import main
from ops.plan import mockrun
from tests.amplify_projects import ACCOUNT, CLIENT_ID, POOL_ID, AmplifyFolder
from tests.infra_helpers import policy

POSTS_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/postsTable-dev"
LEGACY_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/legacy-comments"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("move")
    here = tmp / "here"
    (here / "stacks").mkdir(parents=True)
    folder = AmplifyFolder(tmp / "amp").add_auth().add_table("posts", "postsTable")
    folder.add_imported_table("legacy", "legacy-comments")
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"posts": ["create", "read"], "legacy": ["read"]}})
    folder.add_api("open", kind="dockerfile", restrict=False)
    project = folder.save()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(""))
        assert main(["import", "amplify", "--project", str(project), "--env", "dev", "--project-dir", str(here)]) == 0
    return here


def test_the_offline_plan_of_an_imported_stack_runs_clean(imported, capsys):
    code = main(["plan", "--stack", "dev", "--project-dir", str(imported), "--out", str(imported / "build")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "plan ok" in out


def test_the_authorizer_trusts_the_envs_pool_and_client_and_nothing_is_created(imported):
    result = mockrun.run_stack("dev", project_dir=imported)
    assert result.of_type("aws:cognito/userPool:UserPool") == []
    assert result.of_type("aws:dynamodb/table:Table") == []
    authorizer, = result.of_type("aws:apigatewayv2/authorizer:Authorizer")     # only the signed-in API has one
    assert authorizer.inputs["jwtConfiguration"] == {
        "audiences": [CLIENT_ID], "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"}
    grants = {s["Resource"][0]: s["Action"] for s in policy(result.by_name("postsapi-storage"))["Statement"]}
    assert set(grants) == {POSTS_ARN, LEGACY_ARN}
    assert "dynamodb:PutItem" in grants[POSTS_ARN] and "dynamodb:GetItem" in grants[POSTS_ARN]
    assert "dynamodb:DeleteItem" not in grants[POSTS_ARN] and "dynamodb:UpdateItem" not in grants[POSTS_ARN]
    assert "dynamodb:PutItem" not in grants[LEGACY_ARN]


def test_client_config_writes_the_same_pool_and_client(imported, tmp_path, capsys):
    outputs = mockrun.run_stack("dev", project_dir=imported).outputs
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    code = main(["client-config", "--stack", "dev", "--project-dir", str(imported), "--outputs-json",
                 str(tmp_path / "outputs.json"), "--out", str(tmp_path / "src")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = (tmp_path / "src" / "aws-exports.js").read_text()
    exports = json.loads(text.split("const awsmobile = ", 1)[1].split(";\n\nexport default", 1)[0])
    assert (exports["aws_user_pools_id"], exports["aws_user_pools_web_client_id"]) == (POOL_ID, CLIENT_ID)
    assert exports["aws_cognito_region"] == "us-east-1"
    assert "aws_cognito_username_attributes" not in exports      # the pool's own sign-in attributes apply
    assert "existingUserPool" in captured.err
