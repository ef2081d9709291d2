"""Broken stack files and configs AWS would reject: every command ends in one message and exit 2.

The table is the one issue 17 asks for (YAML error, tab, binary, duplicate key, unknown region, oversized task
definition). Each case runs through every command that reads a stack file; each must name the file, say where
(the line, or the key) and how to fix it, and never show a traceback.
"""
from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.errors import ConfigError
from components.settings.regions import check_region, known_regions
from components.task_plan import TASK_DEFINITION_MAX_BYTES, plan_task
from ops.__main__ import main
from ops.project import PROJECT_DIR
from ops.stack import stack_file

APPS = PROJECT_DIR / "apps"
GOOD = f"""\
config:
  aws:region: us-east-1
  serverless-containers:apis:
    posts:
      source: {APPS / 'posts'}
"""


def oversized_app(folder: Path, variables: int = 2000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    environment = "".join(f"      VARIABLE_{i:04d}: value-{i}\n" for i in range(variables))
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:8080']\n    environment:\n" + environment)
    return folder


@dataclass
class Broken:
    content: bytes | None          # None: written by the test (needs tmp_path)
    words: tuple[str, ...]         # all in the message


CASES = {
    "yaml-error": Broken(
        GOOD.replace("source:", "source: [").encode(), ("line 5", "not valid YAML", "Fix:")),
    "tab": Broken(b"config:\n  aws:region: us-east-1\n\tserverless-containers:fargateSpot: true\n",
                  ("line 3", "tabs", "Fix:")),
    "binary": Broken(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ("line 1", "not text", "git checkout", "Fix:")),
    "duplicate-key": Broken((GOOD + "  aws:region: eu-west-1\n").encode(),
                            ("line 6", "already set on line 2", "aws:region", "Fix:")),
    "unknown-region": Broken(GOOD.replace("us-east-1", "mars-east-1").encode(),
                             ("'mars-east-1' is not an AWS region", "aws:region", "Fix:")),
    "oversized-task-definition": Broken(None, ("64 KiB", "2000 environment variables", "'web'", "Task definition size",
                                               "Fix:")),
}

COMMANDS = {
    "plan": ["plan"],
    "up": ["up"],
    "preview": ["preview"],
    "local build": ["local", "build", "--api", "posts"],
    "local up": ["local", "up", "--api", "posts"],
    "client-config": ["client-config", "--out", "OUT", "--outputs-json", "OUTPUTS"],
}
# What each command reads: `add` edits the file with its own YAML library, but checks it the same way first.
ADD = ["add", "storage", "--name", "things", "--yes"]
FILE_CASES = ("yaml-error", "tab", "binary", "duplicate-key")


def write_case(project: Path, case: str) -> Path:
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    content = CASES[case].content
    if content is None:
        source = oversized_app(project / "apps" / "posts")
        content = GOOD.replace(str(APPS / "posts"), str(source)).encode()
    path.write_bytes(content)
    return path


def run_cli(argv: list[str], project: Path, capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    outputs = project / "outputs.json"
    outputs.write_text(json.dumps({"apis": {"posts": {"url": "https://x.execute-api.us-east-1.amazonaws.com",
                                                      "type": "rest", "auth": True}}, "region": "us-east-1"}))
    argv = [str(outputs) if a == "OUTPUTS" else str(project / "client") if a == "OUT" else a for a in argv]
    code = main([*argv, "--stack", "dev", "--project-dir", str(project)])
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_command_refuses_a_broken_stack_file_in_one_message(tmp_path, capsys, monkeypatch, case, command):
    project = tmp_path / "project"
    path = write_case(project, case)
    if case == "oversized-task-definition" and command == "client-config":
        pytest.skip("client-config reads only the auth flags of a stack file; the task definition is not its concern")
    code, err = run_cli(COMMANDS[command], project, capsys, monkeypatch)
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip()
    assert message.startswith("error: ") and message.count("error: ") == 1, message
    assert str(path) in message or (case == "oversized-task-definition" and "compose.yaml" in message), message
    for words in CASES[case].words:
        assert words in message, message


@pytest.mark.parametrize("case", FILE_CASES + ("unknown-region",))
def test_add_refuses_a_broken_stack_file_in_the_same_words(tmp_path, capsys, monkeypatch, case):
    project = tmp_path / "project"
    path = write_case(project, case)
    before = path.read_bytes()
    code, err = run_cli(ADD, project, capsys, monkeypatch)
    assert code == 2 and "Traceback" not in err
    assert str(path) in err
    for words in CASES[case].words:
        assert words in err, err
    assert path.read_bytes() == before          # nothing written


def test_the_good_file_passes_the_same_reader(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(GOOD + "  serverless-containers:storage: {}\n")
    assert stack_file.read(path)["config"]["aws:region"] == "us-east-1"
    path.write_text("")
    assert stack_file.read(path) == {}


@pytest.mark.parametrize("text, words", [
    ("- just\n- a list\n", "not a map with a 'config:' key"),
    ("config: [a, b]\n", "'config:' should hold a map"),
    ("config:\n  serverless-containers:apis:\n    posts: {source: a}\n    posts: {source: b}\n",
     "the key 'posts' is already set on line 3"),
    ("config:\n  a: 'unclosed\n", "not valid YAML"),
])
def test_other_shapes_are_refused_with_the_line(tmp_path, text, words):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        stack_file.read(path)
    assert words in str(error.value) and str(path) in str(error.value) and error.value.fix


def test_regions_come_from_botocore_and_new_looking_ones_get_the_upgrade_hint():
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"} <= known_regions()
    assert check_region("eu-central-1", "f") == "eu-central-1"
    with pytest.raises(ConfigError) as error:
        check_region("eu-central-9", "stacks/Pulumi.dev.yaml")
    assert "botocore" in str(error.value) and "upgrade" in error.value.fix
    with pytest.raises(ConfigError) as error:
        check_region("us-east-l", "stacks/Pulumi.dev.yaml")
    assert "us-east-1" in error.value.fix and error.value.key == "aws:region"
    with pytest.raises(ConfigError):
        check_region(42, "f")


def test_the_size_limit_is_exact_and_counts_what_ecs_receives(tmp_path):
    from components.compose import load_app

    small = load_app(oversized_app(tmp_path / "small", variables=100), environ={})
    plan_task(small)                                    # far under the limit
    big = load_app(oversized_app(tmp_path / "big", variables=2000), environ={})
    with pytest.raises(ConfigError) as error:
        plan_task(big)
    assert error.value.service == "web" and error.value.key == "environment"
    assert TASK_DEFINITION_MAX_BYTES == 65536
    # Just under and just over: the check is the rendered size, not a count of variables.
    from components.task_plan import TASK_LEVEL_BYTES, task_definition_size

    definitions = [{"name": "web", "environment": []}]
    base = task_definition_size(definitions)
    assert base == len(json.dumps({"containerDefinitions": definitions}, separators=(",", ":"))) + TASK_LEVEL_BYTES


def test_the_program_refuses_an_unknown_region_before_any_resource(tmp_path):
    from ops.plan.mockrun import run_stack

    with pytest.raises(Exception) as error:
        run_stack("dev", overrides={"aws:region": "mars-east-1"})
    assert "mars-east-1" in str(error.value)
