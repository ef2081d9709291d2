"""Arguments shared by the operator commands, and the lookups they lead to."""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from ops.cloud import aws
from ops.errors import OpsError
from ops.project import PROJECT_DIR
from ops.stack import workspace
from ops.stack.outputs import StackOutputs


def add_stack_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, metavar="NAME",
                        help="the stack (environment), e.g. dev; its config is stacks/Pulumi.NAME.yaml")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, metavar="DIR",
                        help="the project folder holding Pulumi.yaml (default: this repository)")


def add_outputs_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outputs-json", metavar="FILE",
                        help="read the stack outputs from this file (`pulumi stack output --json` prints it) "
                             "instead of the Pulumi backend; no Pulumi CLI needed")


def stack_outputs_for(args: argparse.Namespace) -> StackOutputs:
    outputs_json = getattr(args, "outputs_json", None)
    try:
        return workspace.read_outputs(args.stack, project_dir=args.project_dir, outputs_json=outputs_json)
    except OpsError as error:
        if outputs_json is None and str(error) == workspace.INSTALL_PULUMI:
            raise OpsError(f"{error} Or, on a machine that has it, save the outputs with `pulumi stack output "
                           f"--json --stack {args.stack} > outputs.json` and pass --outputs-json outputs.json.") from None
        raise


def aws_for(args: argparse.Namespace, outputs: StackOutputs | None = None) -> aws.StackAws:
    return aws.for_stack(args.stack, project_dir=args.project_dir, region=(outputs.region if outputs else None))


def interpreter() -> str:
    """The Python that runs this CLI, as a user can type it: relative inside the project (`.venv/bin/python`).

    Plain `python` on a fresh machine lacks the project's packages (pulumi, boto3), so no hint says it."""
    executable = Path(sys.executable)
    try:
        shown = str(executable.relative_to(PROJECT_DIR)) if Path.cwd().resolve() == PROJECT_DIR.resolve() else ""
    except ValueError:
        shown = ""
    return shown or shlex.quote(str(executable))


def ops_command() -> str:
    """The command that runs the CLI from here: ``.venv/bin/python -m ops`` in the project folder (``-m ops``
    finds the package there), else with a ``cd`` to it first."""
    if Path.cwd().resolve() == PROJECT_DIR.resolve():
        return f"{interpreter()} -m ops"
    return f"cd {shlex.quote(str(PROJECT_DIR))} && {interpreter()} -m ops"


_OPS_HINT = re.compile(r"(?<![\w/.-])python -m ops\b")


def runnable(text: str) -> str:
    """``text`` with every ``python -m ops`` hint replaced by the command that works here (``ops_command``).

    Hints are written as ``python -m ops ...`` everywhere (messages, errors, notes); this is the one place that
    turns them into what runs as printed."""
    return _OPS_HINT.sub(lambda _match: ops_command(), text) if "python -m ops" in text else text


def say(message: str = "") -> None:
    print(runnable(message), file=sys.stdout, flush=True)


def note(message: str) -> None:
    print(runnable(message), file=sys.stderr, flush=True)


def endpoint_lines(outputs: StackOutputs) -> list[str]:
    """Each API's URL and pipeline console URL, the way the operator wants to see them after a deploy."""
    lines = []
    for api in outputs.select(None) if outputs.apis else []:
        lines.append(f"API {api.name} ({api.type}): {api.url or '(no URL yet)'}")
        for record in api.dns_records:      # a custom domain whose zone is elsewhere (components/domain.py)
            lines.append(f"  add at your DNS provider: {record.type} {record.name} -> {record.value}")
        if api.pipeline_url:
            lines.append(f"  pipeline: {api.pipeline_url}")
        elif api.build in ("", "manual"):
            lines.append("  pipeline: none (build: manual; push images yourself)")
        else:
            lines.append(f"  pipeline: not in the stack outputs (build: {api.build})")
    if outputs.user_pool_id:
        lines.append(f"Cognito user pool: {outputs.user_pool_id} (app client {outputs.user_pool_client_id})")
    return lines
