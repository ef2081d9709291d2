"""Issue 23, item 4: `secretValues` and `githubToken` are accepted only as Pulumi secrets.

`pulumi config set --path` without `--secret`, or a hand edit, leaves a credential in plain text in a committed stack
file; before, it was accepted silently. How the raw config marks secrets: the stack file writes an encrypted value as
`{secure: v1:...}`; the engine decrypts it for the program and lists the top-level key among the config's secret keys
(`pulumi.runtime.config.is_config_secret`); a map with any encrypted value is listed whole, so a plain value beside an
encrypted one shows only in the file. The program, `ops plan` and `ops add` refuse both, exit 2 with how to fix it."""
from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

from components.settings.secrets import plain_text_leaves, refuse_plain_text_secrets
from components.errors import ConfigError
from ops.__main__ import main as ops_main
from ops.plan import mockrun
from tests.infra_helpers import write_compose_app, write_dockerfile_app

program = pytest.importorskip("components.program")
NS = "serverless-containers"


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    return write_compose_app(tmp_path_factory.mktemp("apps"), "multi")


def _run(multi, secret_keys=(), **config):
    return mockrun.run(program.main, secret_keys=list(secret_keys), config={
        "apis": {"multi": {"source": str(multi), "entrypoint": "express", "auth": False}}, **config})


def test_plain_secret_values_are_refused_by_the_program(multi):
    with pytest.raises(ConfigError) as error:
        _run(multi, secretValues={"multi": {"API_TOKEN": "hunter2-plain"}})
    assert error.value.file == "stacks/Pulumi.dev.yaml"
    assert "plain text" in error.value.problem and "hunter2" not in str(error.value)
    assert error.value.key == f"{NS}:secretValues.multi.API_TOKEN"
    assert "pulumi config set --secret --path 'secretValues.multi.API_TOKEN' <value> --stack dev" in error.value.fix
    # the same value as a Pulumi secret is accepted
    accepted = _run(multi, secret_keys=[f"{NS}:secretValues"], secretValues={"multi": {"API_TOKEN": "hunter2-plain"}})
    assert accepted.of_type("aws:secretsmanager/secretVersion:SecretVersion")


def test_a_plain_github_token_is_refused_by_the_program(multi):
    github = {"build": "github", "github": {"owner": "octo", "repo": "shop"}}
    with pytest.raises(ConfigError) as error:
        mockrun.run(program.main, config={"githubToken": "ghp_plain", "apis": {"multi": {
            "source": str(multi), "entrypoint": "express", "auth": False, **github}}})
    assert error.value.key == f"{NS}:githubToken"
    assert "pulumi config set --secret githubToken <value> --stack dev" in error.value.fix


def test_each_plain_value_in_the_file_is_named_even_beside_encrypted_ones():
    written = {f"{NS}:secretValues": {"multi": {"API_TOKEN": {"secure": "v1:abc"}, "DB_PASSWORD": "plain"}},
               f"{NS}:githubToken": {"secure": "v1:def"}}
    assert plain_text_leaves(written[f"{NS}:secretValues"], "secretValues") == ["secretValues.multi.DB_PASSWORD"]
    with pytest.raises(ConfigError) as error:
        # the engine marks the whole map secret, so only the file shows the plain value
        refuse_plain_text_secrets({"secretValues": {}, "githubToken": "x"}, is_secret=lambda key: True,
                                  stack_file_config=written, config_file="stacks/Pulumi.prod.yaml", stack="prod")
    assert error.value.key == f"{NS}:secretValues.multi.DB_PASSWORD"
    assert "pulumi config set --secret --path 'secretValues.multi.DB_PASSWORD' <value> --stack prod" in error.value.fix
    refuse_plain_text_secrets({"githubToken": "x"}, is_secret=lambda key: True, stack_file_config={
        f"{NS}:githubToken": {"secure": "v1:def"}}, config_file="f", stack="prod")     # all encrypted: fine


def _project(root: Path, secret_lines: str) -> Path:
    app = write_dockerfile_app(root, "web")
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text(textwrap.dedent(f"""\
        config:
          aws:region: us-east-1
          serverless-containers:apis:
            web:
              source: {app}
              auth: false
        """) + textwrap.indent(textwrap.dedent(secret_lines), "  "))
    return root


def test_ops_plan_exits_2_naming_the_plain_value(tmp_path, capsys):
    project = _project(tmp_path / "project", """\
          serverless-containers:secretValues:
            web:
              API_TOKEN:
                secure: v1:AAAA
              DB_PASSWORD: hunter2
        """)
    code = ops_main(["plan", "--stack", "dev", "--project-dir", str(project), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "secretValues.web.DB_PASSWORD is stored in plain text" in err
    assert "pulumi config set --secret --path 'secretValues.web.DB_PASSWORD' <value> --stack dev" in err
    assert "hunter2" not in err and "Traceback" not in err


def test_ops_add_refuses_to_edit_a_stack_with_a_plain_secret_and_leaves_it_untouched(tmp_path, capsys, monkeypatch):
    project = _project(tmp_path / "project", """\
          serverless-containers:githubToken: ghp_plain
        """)
    before = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = ops_main(["add", "storage", "--stack", "dev", "--name", "notes", "--partition-key", "id",
                     "--partition-key-type", "S", "--no-sort-key", "--yes", "--project-dir", str(project)])
    err = capsys.readouterr().err
    assert code == 2 and "githubToken is stored in plain text" in err
    assert (project / "stacks" / "Pulumi.dev.yaml").read_text() == before


def test_the_language_hosts_secret_keys_are_read_too(multi, monkeypatch):
    # the Python language host hands the secret keys over in PULUMI_CONFIG_SECRET_KEYS
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps([f"{NS}:secretValues"]))
    accepted = _run(multi, secretValues={"multi": {"API_TOKEN": "hunter2-encrypted"}})
    assert accepted.of_type("aws:secretsmanager/secretVersion:SecretVersion")


def test_commands_that_read_the_stack_offline_accept_encrypted_values(tmp_path, multi):
    # load_stack_config puts a placeholder where a secure: value was; ops local validates that config
    from ops.local.runner import load_api

    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "stacks" / "Pulumi.dev.yaml").write_text(textwrap.dedent(f"""\
        config:
          aws:region: us-east-1
          serverless-containers:apis:
            multi:
              source: {multi}
              entrypoint: express
              auth: false
          serverless-containers:secretValues:
            multi:
              API_TOKEN:
                secure: v1:AAAA
        """))
    settings = load_api("dev", "multi", root)[0]
    assert settings.name == "multi"
