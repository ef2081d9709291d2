"""`add api` / `add storage`: driven by scripted stdin and by flags; the configs they write keep the
user's comments and are accepted by the program's own validation and by an offline run of the program."""
from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from components.settings.stack import load_settings
from ops.__main__ import main
from ops.project import PROJECT_DIR
from ops.stack.stack_config import project_values

STACK_FILE = """\
# dev: shared development stack  (this comment must survive)
config:
  aws:region: eu-west-1   # Ireland
  serverless-containers:fargateSpot: true     # cheap
  serverless-containers:storage:
    posts:
      partitionKey: {name: id, type: N}
  serverless-containers:apis:
    posts:                 # the first API
      source: apps/posts
      access:
        storage:
          posts: [create, read, update, delete]
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder with the real sample apps and a commented stack config."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    shutil.copytree(PROJECT_DIR / "apps", root / "apps", ignore=shutil.ignore_patterns("node_modules"))
    (root / "stacks" / "Pulumi.dev.yaml").write_text(STACK_FILE)
    return root


def _add(monkeypatch, capsys, project, *argv, script: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    code = main(["add", *argv, "--project-dir", str(project)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _config(project, stack="dev") -> dict:
    return yaml.safe_load((project / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def _settings(project, stack="dev"):
    return load_settings(project_values(_config(project, stack)), project, stack)


def _offline_plan(project, monkeypatch, stack="dev"):
    """`python -m ops plan`'s own check of the written config: the program under the mock runtime, the
    cost guardrails and the idle estimate. Fails the test when the plan refuses the config."""
    from components import program
    from ops.plan import report as plan

    # The program resolves relative `source` folders against its project; here that is the test's copy.
    monkeypatch.setattr(program, "PROJECT_DIR", project)
    result = plan.make_plan(stack, project_dir=project, picture=False)
    assert result.mandatory == [], [f.message for f in result.mandatory]
    return result


def _outputs(result):
    """The APIs that got an ECS service in the plan (a service's logical name starts with its API's)."""
    services = [r.name for r in result.resources if r.type == "aws:ecs/service:Service"]
    apis = sorted({name.split("-")[0] for name in services})
    assert len(apis) == len(services), services
    return apis


def test_scripted_walkthroughs_like_the_seed(project, monkeypatch, capsys):
    # `amplify add storage` -> orders table, key id of type N, no sort key, no backups
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", script="orders\nid\n2\nn\nn\n")
    assert code == 0, err
    assert "added table 'orders'" in out
    # `amplify add api` -> REST, the ExpressJS sample, sign-in, access to orders with every operation
    script = "shop\n1\n1\ny\ny\norders\n\n1\n"
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", script=script)
    assert code == 0, err
    assert "? Require sign-in (Amazon Cognito user pool)? (Y/n): y" in out    # the scripted answers are echoed
    config = _config(project)
    assert config["serverless-containers:storage"]["orders"] == {"partitionKey": {"name": "id", "type": "N"}}
    assert config["serverless-containers:apis"]["shop"] == {
        "type": "rest", "source": "apps/shop", "auth": True,
        "access": {"storage": {"orders": ["create", "read", "update", "delete"]}}, "build": "managed"}
    assert (project / "apps" / "shop" / "Dockerfile").is_file()
    assert (project / "apps" / "shop" / "src" / "app.js").is_file()
    settings = _settings(project)
    assert settings.apis["shop"].storage_access == {"orders": ("create", "read", "update", "delete")}
    assert settings.apis["shop"].source_dir == project / "apps" / "shop"
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    for comment in ("# dev: shared development stack  (this comment must survive)", "aws:region: eu-west-1   # Ireland",
                    "# cheap", "posts:                 # the first API", "# added by `python -m ops add api` (express)"):
        assert comment in text
    assert text.startswith(STACK_FILE.split("  serverless-containers:apis:")[0].split("    posts:\n      partitionKey")[0])
    assert _outputs(_offline_plan(project, monkeypatch)) == ["posts", "shop"]


@pytest.mark.parametrize("template, api_type, containers", [
    ("express", "rest", ["posts"]), ("compose", "rest", ["express", "python"]), ("graphql", "graphql", ["graphql"])])
def test_flags_alone_for_every_template(template, api_type, containers, project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "svc", "--template", template,
                          "--no-auth", "--access", "posts=read", "--build", "managed")
    assert code == 0, err
    assert "?" not in out                                   # not one question asked
    entry = _config(project)["serverless-containers:apis"]["svc"]
    assert entry["type"] == api_type and entry["auth"] is False
    assert entry["access"] == {"storage": {"posts": ["read"]}}
    if template == "compose":
        assert entry["composeFiles"] == ["docker-compose.yml"] and entry["entrypoint"] == "express"
    result = _offline_plan(project, monkeypatch)
    assert _outputs(result) == ["posts", "svc"]
    families = [r.name for r in result.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert len(families) == 2


def test_yes_takes_every_default(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--yes")
    assert code == 0, err
    entry = _config(project)["serverless-containers:apis"]["api"]
    assert entry == {"type": "rest", "source": "apps/api", "auth": True, "build": "managed"}
    # posts exists already: the advice is to grant it, never to create it again (issue 17).
    assert "the 'posts' table, which the stack has" in out
    assert "-m ops add access --stack dev --api api --access posts`" in out and "add storage" not in out


def test_github_build_and_a_new_stack_file(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "staging", "--region", "eu-central-1",
                          "--name", "web", "--type", "graphql", "--template", "graphql", "--auth", "--build", "github",
                          "--github-owner", "octo", "--github-repo", "shop", "--no-access", "--github-branch", "release")
    assert code == 0, err
    config = _config(project, "staging")
    assert config["aws:region"] == "eu-central-1"
    assert config["serverless-containers:apis"]["web"]["github"] == {"owner": "octo", "repo": "shop",
                                                                      "branch": "release"}
    assert "pulumi config set --secret githubToken <token> --stack staging" in out
    # the program wants a token (or a connection) for build: github; with a placeholder it is accepted
    cfg = _config(project, "staging")
    cfg["serverless-containers:githubToken"] = "token"
    load_settings(project_values(cfg), project, "staging")


def test_existing_folder_and_the_compose_sample_outside_apps(project, monkeypatch, capsys, tmp_path):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "mine", "--template",
                          "existing", "--source", "apps/posts", "--yes")
    assert code == 0, err
    assert _config(project)["serverless-containers:apis"]["mine"]["source"] == "apps/posts"
    elsewhere = tmp_path / "services" / "duo"
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "duo", "--template",
                          "compose", "--source", str(elsewhere), "--yes")
    assert code == 0, err
    secret = tmp_path / "services" / "secrets" / ".secret-api-token"
    assert secret.is_file() and f"copied the sample secret {secret}" in out
    assert _outputs(_offline_plan(project, monkeypatch)) == ["duo", "mine", "posts"]


def test_scripted_input_that_ends_early_names_the_flag(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", script="shop\n")
    assert code == 2
    assert "no answer to '? Which kind of API" not in err     # the question text is clean
    assert "(input ended)" in err and "--type" in err and "--yes" in err
    assert "shop" not in _config(project)["serverless-containers:apis"]
    assert not (project / "apps" / "shop").exists()


def test_a_wrong_answer_is_asked_again(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", "--yes",
                          script="", )
    assert code == 2 and "--name" in err                       # a table has no default name
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev",
                          script="Bad_Name\nposts\nlikes\npk\n7\n1\nn\ny\n")
    assert code == 0, err
    assert out.count("names are 1 to 38 lowercase letters") == 1 and "'posts' is taken" in out
    assert "choose a number from 1 to 3" in out
    assert _config(project)["serverless-containers:storage"]["likes"] == {
        "partitionKey": {"name": "pk", "type": "S"}, "pointInTimeRecovery": True}


def test_refusals_leave_everything_as_it_was(project, monkeypatch, capsys):
    before = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "posts", "--yes")
    assert code == 2 and "already has an API named 'posts'" in err
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "x", "--access",
                          "nope=read", "--yes")
    assert code == 2 and "--access names table 'nope'" in err and "use one of: posts" in err
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "x", "--access",
                          "posts=write", "--yes")
    assert code == 2 and "unknown operation(s) write" in err
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "x", "--type", "graphql",
                          "--template", "express", "--yes")
    assert code == 2 and "the express template is a rest sample, not graphql" in err and "--template graphql" in err
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "x", "--source",
                          "apps/multi", "--template", "express", "--yes")
    assert code == 2 and "is not empty; the sample would overwrite it" in err
    # the program's own validation refuses this one after the copy: the copy is taken back
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "gh", "--yes",
                          "--build", "github", "--github-owner", "not an owner!", "--github-repo", "r")
    assert code == 2 and "apis.gh.github.owner" in err
    assert not (project / "apps" / "gh").exists()
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", "--name", "t", "--yes",
                          "--sort-key", "id:N", "--partition-key", "id")
    assert code == 2 and "sort key has the partition key's name" in err
    assert (project / "stacks" / "Pulumi.dev.yaml").read_text() == before
    assert "Traceback" not in err


def test_add_access_grants_an_existing_api_and_warns_for_what_the_express_sample_needs(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "shop", "--template",
                          "express", "--no-auth", "--no-access", "--build", "managed", "--yes")
    assert code == 0, err
    code, out, err = _add(monkeypatch, capsys, project, "access", "--stack", "dev", "--api", "shop",
                          "--access", "posts=read,create")
    assert code == 0, err
    entry = _config(project)["serverless-containers:apis"]["shop"]
    assert entry["access"] == {"storage": {"posts": ["create", "read"]}}
    assert _settings(project).apis["shop"].storage_access == {"posts": ("create", "read")}
    assert "API 'shop' may now create, read on table 'posts'" in out
    assert "warning: the express sample also does update: PUT /posts/:id; delete: DELETE /posts/:id" in err
    assert "AccessDeniedException" in err
    # Granting all four replaces the grant; the warning goes away. The user's comments survive.
    code, out, err = _add(monkeypatch, capsys, project, "access", "--stack", "dev", "--api", "shop", "--access", "posts")
    assert code == 0 and "warning" not in err
    assert _config(project)["serverless-containers:apis"]["shop"]["access"]["storage"]["posts"] == [
        "create", "read", "update", "delete"]
    assert "# dev: shared development stack  (this comment must survive)" in (
        project / "stacks" / "Pulumi.dev.yaml").read_text()


def test_add_access_refusals(project, monkeypatch, capsys):
    before = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    for argv, words in [
        (["--api", "nope", "--access", "posts"], "no API named 'nope'"),
        (["--api", "posts", "--access", "nope"], "names table 'nope'"),
        (["--api", "posts", "--access", "posts="], "names no operation for table 'posts'"),
        (["--api", "posts", "--access", "posts=drop"], "unknown operation(s) drop"),
    ]:
        code, out, err = _add(monkeypatch, capsys, project, "access", "--stack", "dev", *argv)
        assert code == 2 and words in err and "Traceback" not in err, err
    assert (project / "stacks" / "Pulumi.dev.yaml").read_text() == before


def test_express_with_a_partial_grant_warns_at_add_api(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "shop", "--template",
                          "express", "--access", "posts=read,create", "--yes")
    assert code == 0, err
    assert "warning: the express sample also does update" in err and "--api shop --access posts`" in err


def test_an_empty_operation_list_is_refused_not_widened(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "shop", "--template",
                          "express", "--access", "posts=", "--yes")
    assert code == 2 and "names no operation" in err
    assert "shop" not in _config(project)["serverless-containers:apis"]


def test_taken_names_and_a_sort_key_like_the_partition_key_are_refused_before_any_question(project, monkeypatch,
                                                                                           capsys):
    # No answers on stdin: a refusal that came after the questions would say "no answer" instead.
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", "--name", "posts")
    assert code == 2 and "already has a table named 'posts'" in err and "?" not in out
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "posts")
    assert code == 2 and "already has an API named 'posts'" in err and "?" not in out
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", "--name", "things",
                          "--partition-key", "id", "--sort-key", "id:N")
    assert code == 2 and "partition key's name" in err and "?" not in out
    # Typed at the prompt: asked again at once.
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--stack", "dev", "--name", "things",
                          "--partition-key", "id", "--partition-key-type", "S", "--no-point-in-time-recovery",
                          script="y\nid\ncreatedAt\n\n")
    assert code == 0, err
    assert "'id' is the partition key; the sort key needs another name" in out
    assert _config(project)["serverless-containers:storage"]["things"]["sortKey"] == {"name": "createdAt", "type": "S"}


def test_add_storage_advises_add_access_and_the_default_stack_is_said(project, monkeypatch, capsys):
    code, out, err = _add(monkeypatch, capsys, project, "storage", "--name", "things", "--yes")
    assert code == 0, err
    assert "editing stack 'dev' (stacks/Pulumi.dev.yaml), the default; pass --stack NAME for another." in err
    assert "-m ops add access --stack dev --api posts --access things=create,read,update,delete" in out
    assert "add api --access" not in out
