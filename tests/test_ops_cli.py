"""The CLI as a newcomer meets it: commands in the order of use, a help line for every command and flag,
and hints that run as printed (the interpreter that works, never a bare `python`)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from ops import cli_args
from ops.__main__ import COMMAND_ORDER, build_parser, main
from ops.project import PROJECT_DIR


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield ("command", (*path, name), helps.get(name))
                yield from _walk(sub, (*path, name))
        elif action.dest != "help":
            yield ("flag", (*path, "/".join(action.option_strings) or action.dest), action.help)


def test_every_command_and_flag_has_a_help_line():
    missing = [f"{kind} {' '.join(path)}" for kind, path, text in _walk(build_parser()) if not text]
    assert not missing, missing


def test_commands_come_in_the_order_a_user_meets_them():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    listed = [action.dest for action in subparsers._choices_actions]
    assert listed[:len(COMMAND_ORDER)] == list(COMMAND_ORDER)
    assert set(listed) == set(subparsers.choices)
    help_text = parser.format_help()
    positions = [help_text.index(f"\n    {name} ") if f"\n    {name} " in help_text else help_text.index(f"\n    {name}\n")
                 for name in COMMAND_ORDER]
    assert positions == sorted(positions)


def test_hints_name_the_interpreter_that_works(monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    command = cli_args.ops_command()
    assert command == f"{os.path.relpath(sys.executable, PROJECT_DIR)} -m ops"
    assert cli_args.runnable("stop: python -m ops local down --stack dev") == f"stop: {command} local down --stack dev"
    already = f"{command} up"
    assert cli_args.runnable(already) == already                      # never rewritten twice
    monkeypatch.chdir("/")
    assert cli_args.ops_command() == f"cd {PROJECT_DIR} && {sys.executable} -m ops"


def test_a_printed_hint_runs_as_printed(tmp_path):
    """The `next:` hint of a command, pasted into a shell with no venv activated, runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run([sys.executable, "-m", "ops", "rollback", "--stack", "dev", "--api", "posts", "--to", "x"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    usage = done.stderr.splitlines()[0]
    printed = usage.split("usage: ", 1)[1].split(" rollback", 1)[0]          # `.venv/bin/python -m ops`
    assert "python -m ops" in printed and printed != "python -m ops"
    again = subprocess.run(f"{printed} --help", shell=True, cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "plan" in again.stdout


def test_errors_print_the_working_interpreter_too(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    (tmp_path / "stacks").mkdir()
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"apis": {}, "region": "us-east-1"}')
    code = main(["status", "--stack", "dev", "--project-dir", str(tmp_path), "--outputs-json", str(outputs)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert f"Deploy it first: {cli_args.interpreter()} -m ops up --stack dev" in err, err


@pytest.mark.parametrize("argv", [["add", "--help"], ["add", "access", "--help"], ["local", "up", "--help"]])
def test_help_pages_print(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0 and "usage:" in capsys.readouterr().out
