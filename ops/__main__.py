"""`python -m ops COMMAND`: the operator CLI.

Each module in ``ops/commands/`` contributes its subcommands through ``register(subparsers)``;
a subcommand sets ``func(args) -> int``. Bad input and operational problems end in one clear
message and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from components.errors import ConfigError
from ops import commands
from ops.cli_args import interpreter, runnable
from ops.errors import OpsError


# The commands in the order a user meets them: try offline, shape the stack, run locally, deploy, connect an app,
# operate, clean up. Commands not listed (new ones) follow in the order they registered.
COMMAND_ORDER = ("plan", "import", "add", "local", "preview", "up", "outputs", "client-config", "status", "logs", "pause",
                 "resume", "rollback", "refresh", "destroy")


def _in_order(subparsers: argparse._SubParsersAction) -> None:
    rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
    subparsers._choices_actions.sort(key=lambda action: rank.get(action.dest, len(rank)))
    subparsers.choices = dict(sorted(subparsers.choices.items(), key=lambda item: rank.get(item[0], len(rank))))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{interpreter()} -m ops",
        description="The operator CLI: plan offline, shape, run locally, deploy and operate this project's stacks.",
        epilog="Run it from the project folder with the project's Python (.venv/bin/python -m ops; plain `python` "
               "lacks the packages). Every hint the commands print uses the interpreter that works. "
               "COMMAND --help describes each command and its flags.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ops.commands.{module_info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    _in_order(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(runnable(f"error: {error}"), file=sys.stderr)
        return 2
    except OpsError as error:
        print(runnable(f"error: {error}"), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
