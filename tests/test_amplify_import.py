"""`python -m ops import amplify`: Amplify Gen1 project folders in, the stack file written, checked key by key."""
from __future__ import annotations

import io
import json

import pytest
import yaml

from ops.__main__ import main
from tests.amplify_projects import ACCOUNT, CLIENT_ID, POOL_ID, AmplifyFolder

TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/postsTable-dev"
GITHUB = "https://github.com/acme/shop/tree/release/services/api"


@pytest.fixture
def here(tmp_path):
    (tmp_path / "here" / "stacks").mkdir(parents=True)
    return tmp_path / "here"


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """No test reaches AWS: a secret lookup fails unless a test installs its own."""
    def refuse(name, region):
        raise RuntimeError("no AWS in tests")
    monkeypatch.setattr("ops.commands.import_amplify.describe_secret_arn", refuse)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def run_import(here, project, capsys, *extra, env="dev"):
    code = main(["import", "amplify", "--project", str(project), "--env", env, "--project-dir", str(here), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def written(here, stack="dev") -> dict:
    return yaml.safe_load((here / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def posts_project(tmp_path, **api) -> AmplifyFolder:
    folder = AmplifyFolder(tmp_path / "amp").add_auth().add_table("posts", "postsTable")
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"posts": ["create", "read"]}}, **api)
    return folder


def test_compose_api_with_sign_in_and_partial_table_access_keeps_pool_and_table(tmp_path, here, capsys):
    project = posts_project(tmp_path).save()
    code, out, err = run_import(here, project, capsys)
    assert code == 0, err
    config = written(here)
    assert config["aws:region"] == "us-east-1"
    assert config["serverless-containers:existingUserPool"] == {"userPoolId": POOL_ID, "clientId": CLIENT_ID}
    assert config["serverless-containers:storage"] == {"posts": {"existingTable": TABLE_ARN}}
    assert config["serverless-containers:apis"] == {"postsapi": {
        "type": "rest", "source": str(project / "amplify/backend/api/postsapi/src"),
        "composeFiles": ["docker-compose.yml"], "entrypoint": "express", "auth": True,
        "access": {"storage": {"posts": ["create", "read"]}}, "build": "managed"}}
    assert "serverless-containers:secretArns" not in config      # the local .secret- file is kept
    assert "secret API_TOKEN: the local file amplify/backend/api/postsapi/secrets/.secret-api-token" in out
    assert "Amplify set STORAGE_POSTS_STREAMARN; this stack does not" in out
    assert "STORAGE_POSTS_NAME;" not in out and "STORAGE_POSTS_ARN;" not in out    # this stack sets those
    assert "512 CPU units and 1024 MiB" in out
    # the dev stack's policy file makes Fargate Spot mandatory: the import follows it, and says so
    assert config["serverless-containers:fargateSpot"] is True
    assert "policies/config/dev.json makes policies mandatory for stack dev, so the stack sets: fargateSpot: true" in out
    assert f"wrote {here / 'stacks' / 'Pulumi.dev.yaml'}" in out
    assert out.rstrip().endswith(f"-m ops plan --stack dev --project-dir {here}")
    text = (here / "stacks" / "Pulumi.dev.yaml").read_text()
    assert "token-value-in-the-file" not in text and "token-value-in-the-file" not in out


def test_dockerfile_api_open_and_graphql(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp").add_auth()
    folder.add_api("open", kind="dockerfile", restrict=False)
    folder.add_api("gql", kind="dockerfile", restrict=False, api_type="GRAPHQL")
    code, out, err = run_import(here, folder.save(), capsys, "--stack", "moved")
    assert code == 0, err
    config = written(here, "moved")
    apis = config["serverless-containers:apis"]
    assert apis["open"] == {"type": "rest", "source": str(folder.root / "amplify/backend/api/open/src"),
                            "auth": False, "build": "managed"}
    assert apis["gql"]["type"] == "graphql" and apis["gql"]["auth"] is False
    assert "serverless-containers:existingUserPool" not in config     # no API signs in
    assert "Amplify named the Dockerfile's container `api`" in out


def test_amplify_update_api_values_in_amplify_meta_win_over_backend_config(tmp_path, here, capsys):
    """`amplify update api` writes restrictAccess and the permissions to amplify-meta.json only."""
    folder = posts_project(tmp_path)
    folder.update_in_meta("api", "postsapi", restrictAccess=False,
                          mutableParametersState={"permissions": {"storage": {"posts": ["read"]}}})
    code, _, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    api = written(here)["serverless-containers:apis"]["postsapi"]
    assert api["auth"] is False and api["access"] == {"storage": {"posts": ["read"]}}


def test_github_build(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp")
    folder.add_api("shop", kind="compose", restrict=False, mechanism="INDENPENDENTLY_MANAGED", github_path=GITHUB,
                   exposed={"name": "express", "port": 8080})
    code, out, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    api = written(here)["serverless-containers:apis"]["shop"]
    assert api["build"] == "github"
    assert api["github"] == {"owner": "acme", "repo": "shop", "branch": "release", "path": "services/api"}
    assert "pulumi config set --secret githubToken <token> --stack dev" in out
    assert "githubToken" not in (here / "stacks" / "Pulumi.dev.yaml").read_text()


def test_self_managed_is_manual_build(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp")
    folder.add_api("byo", kind="dockerfile", restrict=False, mechanism="SELF_MANAGED")
    code, out, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    assert written(here)["serverless-containers:apis"]["byo"]["build"] == "manual"
    assert "build: manual (Amplify's self-managed mode)" in out


def test_imported_table_uses_the_arn_amplify_recorded(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp").add_auth()
    folder.add_imported_table("legacy", "legacy-comments", arn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/legacy-comments")
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"legacy": ["read", "update"]}})
    code, out, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    config = written(here)
    assert config["serverless-containers:storage"] == {
        "legacy": {"existingTable": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/legacy-comments"}}
    assert config["serverless-containers:apis"]["postsapi"]["access"] == {"storage": {"legacy": ["read", "update"]}}
    assert "imported into Amplify" in out


def test_new_resources_declares_empty_tables_with_the_same_keys(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp").add_auth()
    folder.add_table("posts", "postsTable", ("id", "number"), ("createdAt", "string"))
    folder.add_table("old", "oldTable", ("pk", "binary"), legacy=True)
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"posts": ["create"], "old": ["read"]}})
    code, out, err = run_import(here, folder.save(), capsys, "--new-resources")
    assert code == 0, err
    config = written(here)
    assert config["serverless-containers:storage"] == {
        "posts": {"partitionKey": {"name": "id", "type": "N"}, "sortKey": {"name": "createdAt", "type": "S"},
                  "replaces": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/postsTable-dev"},
        "old": {"partitionKey": {"name": "pk", "type": "B"},
                "replaces": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/oldTable-dev"}}
    assert "serverless-containers:existingUserPool" not in config
    assert config["serverless-containers:userPool"] == {"replaces": POOL_ID}
    assert "NEW, EMPTY user pool" in out and "new tables start EMPTY" in out


def test_missing_secret_file_points_at_amplifys_secret_by_arn(tmp_path, here, capsys, monkeypatch):
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:amplify-postsapp-dev-123456-postsapi-API_TOKEN-Ab12Cd"
    asked = []
    monkeypatch.setattr("ops.commands.import_amplify.describe_secret_arn",
                        lambda name, region: asked.append((name, region)) or arn)
    code, out, err = run_import(here, posts_project(tmp_path, secret_file=False).save(), capsys)
    assert code == 0, err
    assert asked == [("amplify-postsapp-dev-123456-postsapi-API_TOKEN", "us-east-1")]
    assert written(here)["serverless-containers:secretArns"] == {"postsapi": {"API_TOKEN": arn}}
    assert "Amplify's secret amplify-postsapp-dev-123456-postsapi-API_TOKEN by ARN" in out


def test_missing_secret_file_without_aws_says_how_to_finish(tmp_path, here, capsys):
    code, out, err = run_import(here, posts_project(tmp_path, secret_file=False).save(), capsys)
    assert code == 0, err
    assert "serverless-containers:secretArns" not in written(here)
    assert ("secret API_TOKEN: NOT SET" in out and
            "aws secretsmanager describe-secret --secret-id amplify-postsapp-dev-123456-postsapi-API_TOKEN" in out)


def test_secret_lookup_with_moto_reads_metadata_only(tmp_path, monkeypatch):
    from moto import mock_aws

    from ops.amplify_import.secrets import describe_secret_arn
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3
        created = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
            Name="amplify-x-dev-1-api-TOKEN", SecretString="v")["ARN"]
        assert describe_secret_arn("amplify-x-dev-1-api-TOKEN", "eu-west-1") == created


def test_quirks_are_named(tmp_path, here, capsys):
    compose = ("services:\n  web:\n    build: {context: ., dockerfile: Dockerfile.prod, args: {NODE_ENV: production}}\n"
               "    container_name: webapp\n    ports: [\"80:8080\"]\n")
    folder = AmplifyFolder(tmp_path / "amp")
    folder.add_api("quirky", restrict=False, compose=compose)
    (folder.backend_dir / "api/quirky/src/Dockerfile.prod").write_text("FROM scratch\nEXPOSE 8080\n")
    code, out, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    assert "Amplify read ports \"80:8080\" as container port 80" in out and "apis.quirky.port: 80" in out
    assert "Amplify ignored build.dockerfile and args" in out
    assert "Amplify named the container webapp; this stack names it web" in out


def test_what_cannot_come_across_is_named_one_line_each(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp").add_table("posts", "postsTable")
    folder.add_api("postsapi", restrict=False, exposed={"name": "express", "port": 8080},
                   permissions={"storage": {"posts": ["read"]}, "function": {"resizer": ["read"]}},
                   custom_policies=[{"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::bucket/*"]}])
    folder.add_resource("function", "resizer", "Lambda").add_resource("storage", "images", "S3")
    folder.add_resource("api", "graph", "AppSync").add_resource("hosting", "site", "ElasticContainer")
    code, out, err = run_import(here, folder.save(), capsys)
    assert code == 0, err
    cannot = [line for line in out.split("cannot come across")[1].splitlines()[1:] if line.startswith("  - ")]
    assert cannot == [
        "  - storage images (S3 bucket): this stack has DynamoDB tables only; the bucket and its files stay where they are.",
        "  - API postsapi: its access to function resizer (read); this stack grants DynamoDB tables of its own storage only.",
        "  - API postsapi: custom IAM statement (s3:GetObject) from amplify/backend/api/postsapi/custom-policies.json; "
        "this stack's task role grants its tables only.",
        "  - api graph: a GraphQL API on AppSync, not a container.",
        "  - function resizer: Lambda function.",
        "  - hosting site: container hosting (ALB + CloudFront).",
    ]


def test_pool_of_another_env_is_not_taken_from_amplify_meta(tmp_path, here, capsys):
    """amplify-meta.json holds the outputs of the env last checked out (dev), not prod's."""
    folder = AmplifyFolder(tmp_path / "amp", envs=("dev", "prod")).add_auth().add_table("posts", "postsTable")
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080}, permissions={"storage": {"posts": ["read"]}})
    project = folder.save()
    code, out, err = run_import(here, project, capsys, "--env", "prod", "--yes", env="prod")
    assert code == 2 and "--user-pool-id" in err and not (here / "stacks" / "Pulumi.prod.yaml").exists()
    code, out, err = run_import(here, project, capsys, "--user-pool-id", "us-east-1_Prod123", "--client-id", "prodclient",
                                env="prod")
    assert code == 0, err
    config = written(here, "prod")
    assert config["serverless-containers:existingUserPool"] == {"userPoolId": "us-east-1_Prod123", "clientId": "prodclient"}
    assert config["serverless-containers:storage"]["posts"]["existingTable"].endswith(":table/postsTable-prod")


def test_imported_user_pool_ids_come_from_team_provider_info(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp", envs=("dev", "prod"))
    folder.add_auth(imported={"prod": {"userPoolId": "us-east-1_Imp0rted", "webClientId": "webclient9",
                                       "nativeClientId": "native9", "userPoolName": "shared"}})
    folder.add_api("api", kind="dockerfile")
    code, _, err = run_import(here, folder.save(), capsys, env="prod")
    assert code == 0, err
    assert written(here, "prod")["serverless-containers:existingUserPool"] == {
        "userPoolId": "us-east-1_Imp0rted", "clientId": "webclient9"}


STACK_BEFORE = "config:\n  aws:region: eu-west-1\n"


@pytest.mark.parametrize("case", ["not-amplify", "no-container-api", "unknown-env", "bad-json", "bad-meta-json"])
def test_bad_input_exits_2_with_one_message_and_leaves_the_stack_file(tmp_path, here, capsys, case):
    target = here / "stacks" / "Pulumi.dev.yaml"
    target.write_text(STACK_BEFORE)
    folder = posts_project(tmp_path)
    project = folder.save()
    expected = {
        "not-amplify": "is not an Amplify Gen1 project: it has no amplify/backend/backend-config.json",
        "no-container-api": "the project has no container API",
        "unknown-env": "the project has no env 'staging'",
        "bad-json": "amplify/backend/backend-config.json: the file is not valid JSON (line 1, column 2",
        "bad-meta-json": "amplify/backend/amplify-meta.json: the file is not valid JSON",
    }[case]
    env = "dev"
    if case == "not-amplify":
        project = tmp_path / "elsewhere"
        project.mkdir()
    elif case == "no-container-api":
        (folder.backend_dir / "backend-config.json").write_text(json.dumps({"api": {"g": {"service": "AppSync"}}}))
    elif case == "unknown-env":
        env = "staging"
    elif case == "bad-json":
        (folder.backend_dir / "backend-config.json").write_text("{,")
    else:
        (folder.backend_dir / "amplify-meta.json").write_text("not json")
    code, out, err = run_import(here, project, capsys, "--yes", "--stack", "dev", env=env)
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""
    assert target.read_text() == STACK_BEFORE


def test_an_existing_stack_file_is_overwritten_only_when_asked(tmp_path, here, capsys):
    target = here / "stacks" / "Pulumi.dev.yaml"
    target.write_text(STACK_BEFORE)
    project = posts_project(tmp_path).save()
    code, _, err = run_import(here, project, capsys)
    assert code == 2 and "--yes" in err and target.read_text() == STACK_BEFORE
    code, _, err = run_import(here, project, capsys, "--yes")
    assert code == 0, err
    assert written(here)["serverless-containers:storage"] == {"posts": {"existingTable": TABLE_ARN}}


def test_the_prod_stacks_mandatory_policies_are_followed_where_no_decision_is_needed(tmp_path, here, capsys):
    folder = AmplifyFolder(tmp_path / "amp", envs=("prod",)).add_auth()
    folder.add_api("postsapi", exposed={"name": "express", "port": 8080})
    folder.add_api("byo", kind="dockerfile", mechanism="SELF_MANAGED")
    code, out, err = run_import(here, folder.save(), capsys, env="prod")
    assert code == 0, err
    config = written(here, "prod")
    assert config["serverless-containers:forceDestroy"] is False
    assert config["serverless-containers:secretRecoveryWindowDays"] == 7
    assert config["serverless-containers:apis"]["postsapi"]["approval"] is True
    assert "approval" not in config["serverless-containers:apis"]["byo"]        # no pipeline to approve
    assert "serverless-containers:fargateSpot" not in config and "serverless-containers:corsOrigins" not in config
    assert "requires named CORS origins for stack prod (Amplify allowed any)" in out
