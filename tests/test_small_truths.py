"""Small truths a new user trips over (issue 24, item 9): what the READMEs promise, the limits `add` states,
hints that name the API, a YAML error placed where the quote opens, and booleans read as Pulumi reads them."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from components.errors import ConfigError
from ops.stack import scaffold

PROJECT_DIR = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the READMEs

def test_the_readme_says_which_script_installs_docker_and_that_script_does():
    first = (PROJECT_DIR / "README.md").read_text().split("## What it is")[0]
    setup = (PROJECT_DIR / "scripts" / "setup.sh").read_text()
    engine = (PROJECT_DIR / "scripts" / "docker-engine.sh").read_text()
    assert "docker.io" not in setup                    # set-up installs Graphviz and the venv, not Docker ...
    assert "set-up can install Graphviz and Docker" not in first
    assert "scripts/docker-engine.sh" in first and "docker.io" in engine   # ... the engine script does


def test_apps_readme_names_the_debian_release_the_base_image_is_built_from():
    suite = re.search(r"^SUITE=(\w+)", (PROJECT_DIR / "docker" / "base" / "build.sh").read_text(), re.M).group(1)
    text = (PROJECT_DIR / "apps" / "README.md").read_text()
    assert f"Debian {suite}" in text
    assert not [name for name in ("buster", "bullseye", "bookworm", "trixie", "forky") if name != suite and name in text]


def test_no_readme_tells_to_run_plain_python_m_ops():
    """The project's own Python is .venv/bin/python; a plain `python` lacks the packages (or is not there)."""
    offenders = []
    for readme in [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "apps").rglob("README.md"))]:
        for number, line in enumerate(readme.read_text().splitlines(), start=1):
            if re.search(r"(?<![/\w.])python3? -m ops\b", line):
                offenders.append(f"{readme.relative_to(PROJECT_DIR)}:{number}: {line.strip()}")
    assert offenders == []


# ---------------------------------------------------------------- `add` states the program's limits

def test_add_states_and_applies_the_name_limits_the_program_applies():
    from components.settings.checks import MAX_NAME_LENGTH

    longest = "a" * MAX_NAME_LENGTH
    assert scaffold.check_name(longest, "API") is None
    for kind in ("API", "table"):
        problem = scaffold.check_name(longest + "b", kind)
        assert problem and f"1 to {MAX_NAME_LENGTH} lowercase letters" in problem
    assert scaffold.check_name("s" * 40, "stack") is None
    assert "1 to 40" in scaffold.check_name("s" * 41, "stack")
    assert "1 to 38" in scaffold.check_name("Shop", "API")


# ---------------------------------------------------------------- hints name the API

def test_local_hints_name_the_api_instead_of_a_placeholder(tmp_path):
    from ops.local.runner import load_api

    app = tmp_path / "web"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\nCOPY server /server\nCMD [\"/server\"]\n")   # no EXPOSE
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        f"config:\n  aws:region: eu-west-1\n  serverless-containers:apis:\n    shop:\n      source: {app}\n")
    _settings, loaded, _region = load_api("dev", "shop", tmp_path)
    texts = " ".join(str(warning) for warning in loaded.warnings)
    assert "apis.shop.port" in texts and "<api>" not in texts


def test_naming_api_fills_every_placeholder_of_an_error_and_a_warning():
    from components.errors import LoadWarning, naming_api

    error = naming_api(ConfigError("x", file="f", key="apis.<api>.port",
                                   fix="set apis.<api>.port, or run `ops pause --stack <stack> --api <api>`."),
                       "shop", "dev")
    assert error.key == "apis.shop.port" and error.fix == "set apis.shop.port, or run `ops pause --stack dev --api shop`."
    assert str(naming_api(LoadWarning("set apis.<api>.port"), "shop")) == "set apis.shop.port"


# ---------------------------------------------------------------- a compose YAML error, where the quote opens

def compose_error(tmp_path: Path, text: str) -> ConfigError:
    from components.compose import load_app

    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as failure:
        load_app(tmp_path, ["compose.yaml"])
    return failure.value


def test_an_unclosed_quote_at_the_end_is_placed_where_it_opens(tmp_path):
    error = compose_error(tmp_path, """\
        services:
          web:
            image: nginx
            command: "echo hi
            environment:
              A: b
        """)
    assert "(line 4, column 14): a quoted value opens there and is never closed" in error.problem
    assert error.fix.startswith("close the quote on line 4")


def test_an_unclosed_quote_mid_file_is_named_though_the_parser_stops_later(tmp_path):
    error = compose_error(tmp_path, """\
        services:
          web:
            image: "nginx
            ports:
              - "8080:80"
        """)
    assert "line 3 opens a quote it does not close" in error.problem and "close the quote on line 3" in error.fix


# ---------------------------------------------------------------- booleans as the Pulumi CLI reads them

STACK_WITH_AUTH = """\
config:
  aws:region: eu-west-1
  serverless-containers:apis:
    web:
      source: {source}
      auth: {auth}
"""


@pytest.mark.parametrize("written, read", [("yes", True), ("y", True), ("Y", True), ("on", True), ("no", False),
                                           ("n", False), ("Off", False), ("true", True)])
def test_unquoted_yaml_1_1_booleans_reach_the_program_as_booleans_as_with_pulumi(tmp_path, written, read):
    """The Pulumi CLI reads stack files with gopkg.in/yaml.v2 (YAML 1.1: y, yes, on... are booleans) and hands a
    structured value to the program as JSON, so `auth: y` arrives as true. The plan (PyYAML) and `add` (ruamel,
    YAML 1.2) must read the same."""
    from ops.plan.mockrun import load_stack_config, encode_config
    from ops.stack import stack_config

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\nEXPOSE 80\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(STACK_WITH_AUTH.format(source=tmp_path / "web", auth=written))
    config, _ = load_stack_config("dev", tmp_path)
    assert '"auth": %s' % ("true" if read else "false") in encode_config(config)["serverless-containers:apis"]
    document = stack_config.load_document("dev", tmp_path)                     # what `add` validates
    settings = stack_config.validate(stack_config.plain(document["config"]), stack="dev", project_dir=tmp_path)
    assert settings.apis["web"].auth is read


@pytest.mark.parametrize("written", ['"yes"', "'y'", "yep"])
def test_a_quoted_yes_or_another_word_stays_text_and_is_refused_naming_the_key(tmp_path, written):
    from ops.plan.mockrun import load_stack_config
    from ops.stack import stack_config

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\nEXPOSE 80\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(STACK_WITH_AUTH.format(source=tmp_path / "web", auth=written))
    config, _ = load_stack_config("dev", tmp_path)
    with pytest.raises(ConfigError, match=r"apis\.web\.auth.*expected true or false"):
        stack_config.validate(config, stack="dev", project_dir=tmp_path)
    document = stack_config.load_document("dev", tmp_path)
    with pytest.raises(ConfigError, match=r"apis\.web\.auth"):
        stack_config.validate(stack_config.plain(document["config"]), stack="dev", project_dir=tmp_path)


def test_an_unquoted_key_type_n_reaches_the_program_as_false_and_is_taken_as_n(tmp_path):
    """`type: N` is what the README and `add storage` write; YAML 1.1 (the Pulumi CLI's reader) makes it false."""
    from ops.plan.mockrun import encode_config, load_stack_config
    from ops.stack import stack_config

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\nEXPOSE 80\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  serverless-containers:storage:\n"
        "    posts:\n      partitionKey: {name: id, type: N}\n      sortKey: {name: at, type: \"N\"}\n"
        f"  serverless-containers:apis:\n    web:\n      source: {tmp_path / 'web'}\n")
    config, _ = load_stack_config("dev", tmp_path)
    assert '"type": false' in encode_config(config)["serverless-containers:storage"]     # as the engine sends it
    table = stack_config.validate(config, stack="dev", project_dir=tmp_path).storage["posts"]
    assert (table.partition_key.type, table.sort_key.type) == ("N", "N")
    document = stack_config.load_document("dev", tmp_path)
    table = stack_config.validate(document["config"], stack="dev", project_dir=tmp_path).storage["posts"]
    assert (table.partition_key.type, table.sort_key.type) == ("N", "N")


def test_the_deploy_preparation_names_the_api_in_errors_too(tmp_path):
    """The entrypoint publishes no port while another does: the fix names `apis.shop.port`."""
    from components.prepare import prepare
    from components.settings import load_settings

    app = tmp_path / "app"
    app.mkdir()
    (app / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n  side:\n    image: nginx\n"
                                      "    ports: ['8080:80']\n")
    settings = load_settings({"apis": {"shop": {"source": str(app), "entrypoint": "web"}}}, tmp_path, "dev")
    with pytest.raises(ConfigError) as failure:
        prepare(settings)
    assert "set apis.shop.port in the stack config" in str(failure.value) and "<api>" not in str(failure.value)
