"""`client-config`: aws-exports.js and amplifyconfiguration.json, checked field by field."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from ops.stack import workspace
from ops.__main__ import main
from tests.ops_fixtures import (REGION, FakeWorkspace, api_outputs, project, stack_outputs,  # noqa: F401
                                write_outputs_json)

POOL = f"{REGION}_AbCdEfGhI"
CLIENT = "4lq1abcdefghijklmnopqrstuv"


def _exports_object(text: str) -> dict:
    head, body = text.split("const awsmobile = ", 1)
    body, tail = body.split(";\n\nexport default awsmobile;", 1)
    return json.loads(body)


def _write(project, tmp_path, capsys, outputs: dict, *extra):
    source = write_outputs_json(tmp_path / "outputs.json", outputs)
    out = tmp_path / "app" / "src"
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source),
                 "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return out, captured


def _set_apis(project, yaml_apis: str):
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text().split("  serverless-containers:apis:")[0]
    path.write_text(text + "  serverless-containers:apis:\n" + yaml_apis)


def test_rest_api_with_auth(project, tmp_path, capsys):
    out, captured = _write(project, tmp_path, capsys, stack_outputs())
    exports_text = (out / "aws-exports.js").read_text()
    exports = _exports_object(exports_text)
    assert exports == {
        "aws_project_region": REGION,
        "aws_cognito_region": REGION,
        "aws_user_pools_id": POOL,
        "aws_user_pools_web_client_id": CLIENT,
        "aws_cognito_username_attributes": ["EMAIL"],
        "aws_cognito_signup_attributes": ["EMAIL"],
        "aws_cognito_verification_mechanisms": ["EMAIL"],
        "aws_cloud_logic_custom": [
            {"name": "posts", "endpoint": f"https://posts123.execute-api.{REGION}.amazonaws.com", "region": REGION},
        ],
    }
    assert "Cognito access token in the Authorization header: posts" in exports_text
    native = json.loads((out / "amplifyconfiguration.json").read_text())
    assert native["api"]["plugins"]["awsAPIPlugin"] == {
        "posts": {"endpointType": "REST", "endpoint": f"https://posts123.execute-api.{REGION}.amazonaws.com",
                  "region": REGION, "authorizationType": "AMAZON_COGNITO_USER_POOLS"},
    }
    cognito = native["auth"]["plugins"]["awsCognitoAuthPlugin"]
    assert cognito["CognitoUserPool"] == {"Default": {"PoolId": POOL, "AppClientId": CLIENT, "Region": REGION}}
    assert cognito["Auth"]["Default"] == {"authenticationFlowType": "USER_SRP_AUTH", "usernameAttributes": ["EMAIL"],
                                          "signupAttributes": ["EMAIL"], "verificationMechanisms": ["EMAIL"]}
    assert set(native) == {"UserAgent", "Version", "api", "auth"}
    assert f"wrote {out / 'aws-exports.js'}" in captured.out


def test_graphql_and_an_open_rest_api(project, tmp_path, capsys):
    (project / "apps" / "gql").mkdir()
    (project / "apps" / "gql" / "Dockerfile").write_text("FROM scratch\n")
    _set_apis(project, "    posts:\n      source: apps/posts\n      auth: false\n"
                       "    gql:\n      source: apps/gql\n      type: graphql\n")
    outputs = stack_outputs({"posts": api_outputs("posts"), "gql": api_outputs("gql", type_="graphql")})
    out, _ = _write(project, tmp_path, capsys, outputs)
    exports = _exports_object((out / "aws-exports.js").read_text())
    assert exports["aws_appsync_graphqlEndpoint"] == f"https://gql123.execute-api.{REGION}.amazonaws.com/graphql"
    assert exports["aws_appsync_region"] == REGION
    assert exports["aws_appsync_authenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert exports["aws_cloud_logic_custom"] == [
        {"name": "posts", "endpoint": f"https://posts123.execute-api.{REGION}.amazonaws.com", "region": REGION}]
    assert exports["aws_user_pools_id"] == POOL
    plugin = json.loads((out / "amplifyconfiguration.json").read_text())["api"]["plugins"]["awsAPIPlugin"]
    assert plugin["gql"] == {"endpointType": "GraphQL",
                             "endpoint": f"https://gql123.execute-api.{REGION}.amazonaws.com/graphql",
                             "region": REGION, "authorizationType": "AMAZON_COGNITO_USER_POOLS"}
    assert plugin["posts"]["authorizationType"] == "NONE"


def test_no_auth_anywhere_means_no_auth_sections(project, tmp_path, capsys):
    _set_apis(project, "    posts:\n      source: apps/posts\n      auth: false\n")
    out, _ = _write(project, tmp_path, capsys, stack_outputs(user_pool=False))
    exports = _exports_object((out / "aws-exports.js").read_text())
    assert set(exports) == {"aws_project_region", "aws_cloud_logic_custom"}
    native = json.loads((out / "amplifyconfiguration.json").read_text())
    assert "auth" not in native
    assert native["api"]["plugins"]["awsAPIPlugin"]["posts"]["authorizationType"] == "NONE"


def test_graphql_path_option_and_an_url_that_already_has_it(project, tmp_path, capsys):
    api = api_outputs("gql", type_="graphql")
    out, _ = _write(project, tmp_path, capsys, stack_outputs({"gql": api}), "--graphql-path", "/api/graphql")
    assert _exports_object((out / "aws-exports.js").read_text())["aws_appsync_graphqlEndpoint"] == \
        f"https://gql123.execute-api.{REGION}.amazonaws.com/api/graphql"
    api["url"] += "/graphql"
    out, _ = _write(project, tmp_path, capsys, stack_outputs({"gql": api}))
    assert _exports_object((out / "aws-exports.js").read_text())["aws_appsync_graphqlEndpoint"] == \
        f"https://gql123.execute-api.{REGION}.amazonaws.com/graphql"


def test_two_graphql_apis_share_the_one_aws_exports_slot_with_a_note(project, tmp_path, capsys):
    outputs = stack_outputs({"a": api_outputs("a", type_="graphql"), "b": api_outputs("b", type_="graphql")})
    out, captured = _write(project, tmp_path, capsys, outputs)
    assert "b are only in amplifyconfiguration.json" in captured.err
    assert set(json.loads((out / "amplifyconfiguration.json").read_text())["api"]["plugins"]["awsAPIPlugin"]) == {"a", "b"}


def test_outputs_from_the_workspace(project, tmp_path, capsys, monkeypatch):
    fake = FakeWorkspace()
    monkeypatch.setattr(workspace, "stack_factory", fake)
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--out", str(tmp_path / "o")])
    assert code == 0
    assert fake.opened == [("dev", project, False)] and fake.stacks["dev"].calls == [("outputs", {})]
    assert _exports_object((tmp_path / "o" / "aws-exports.js").read_text())["aws_user_pools_id"] == POOL


def test_auth_required_but_no_user_pool_is_a_clear_error(project, tmp_path, capsys):
    source = write_outputs_json(tmp_path / "outputs.json", stack_outputs(user_pool=False))
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "requires sign-in" in err and "userPoolId" in err
    assert not (tmp_path / "o").exists()


def test_a_missing_or_broken_outputs_file_says_how_to_make_one(project, tmp_path, capsys):
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json",
                 str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")])
    assert code == 1 and "pulumi stack output --json --stack dev" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json",
                 str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")])
    assert code == 1 and "not valid JSON" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed; the syntax check needs it")
def test_aws_exports_is_an_es_module_node_can_import(project, tmp_path, capsys):
    out, _ = _write(project, tmp_path, capsys, stack_outputs({"posts": api_outputs(),
                                                              "gql": api_outputs("gql", type_="graphql")}))
    module = tmp_path / "aws-exports.mjs"
    module.write_text((out / "aws-exports.js").read_text())
    done = subprocess.run(["node", "--input-type=module", "-e",
                           f"import c from {json.dumps(module.as_uri())}; console.log(JSON.stringify(c));"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["aws_cloud_logic_custom"][0]["name"] == "posts"
    assert loaded["aws_appsync_graphqlEndpoint"].endswith("/graphql")


@pytest.mark.parametrize("existing", ["aws-exports.js", "notes.txt"])
def test_out_onto_an_existing_file_is_one_clear_error(project, tmp_path, capsys, existing):
    source = write_outputs_json(tmp_path / "outputs.json", stack_outputs())
    folder = tmp_path / "app" / "src"
    folder.mkdir(parents=True)
    (folder / existing).write_text("keep me\n")
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source),
                 "--out", str(folder / existing)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert f"{folder / existing} is a file" in err
    assert (f"Pass --out {folder}." in err) == (existing == "aws-exports.js")
    assert (folder / existing).read_text() == "keep me\n"
    # A file on the way to the folder is caught the same way.
    code = main(["client-config", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source),
                 "--out", str(folder / existing / "deeper")])
    assert code == 2 and "is a file" in capsys.readouterr().err
