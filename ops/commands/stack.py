"""`up`, `preview`, `refresh`, `destroy` and `outputs` for one stack, through the Automation API."""
from __future__ import annotations

import argparse
import json
import sys

from ops.cli_args import add_stack_args, endpoint_lines, note, say
from ops import automation
from ops.cloud import aws
from ops.errors import OpsError
from ops.stack import workspace
from ops.stack.outputs import parse as parse_outputs


def register(subparsers) -> None:
    helps = {
        "up": "deploy the stack (create or update every resource), then print the API and pipeline URLs",
        "preview": "show what `up` would change, without changing anything",
        "refresh": "read the real state of the stack's resources from AWS into the Pulumi state",
        "destroy": "delete every resource of the stack (asks for the stack name unless --yes)",
    }
    for operation, text in helps.items():
        parser = subparsers.add_parser(operation, help=text, description=text)
        add_stack_args(parser)
        if operation in ("up", "preview"):
            parser.add_argument("--no-policy", action="store_true",
                                help="skip the project's cost-guardrail policy pack")
        if operation == "destroy":
            parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.set_defaults(func=run_operation, operation=operation)

    parser = subparsers.add_parser("outputs", help="print the deployed stack's API and pipeline URLs",
                                   description="print the deployed stack's API and pipeline URLs")
    add_stack_args(parser)
    parser.add_argument("--json", action="store_true", help="print every output as JSON")
    parser.set_defaults(func=show_outputs)


def _check_config(args: argparse.Namespace) -> None:
    """Refuse a missing or invalid stack config before the engine starts (and maybe half-deploys)."""
    # The same check deploy() makes (ops/automation.py); `ops up` runs it before the credentials check too.
    automation.check_config(args.stack, project_dir=args.project_dir)


def _confirm_destroy(args: argparse.Namespace) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise OpsError(f"destroy deletes every resource of stack '{args.stack}', DynamoDB tables and their data "
                       "included. Run it from a terminal to confirm, or pass --yes.")
    answer = input(f"This deletes every resource of stack '{args.stack}', including DynamoDB tables and their "
                   f"data. Type the stack name to continue: ")
    if answer.strip() != args.stack:
        raise OpsError("destroy cancelled: the name did not match.")


def run_operation(args: argparse.Namespace) -> int:
    operation = args.operation
    if operation in ("up", "preview"):
        _check_config(args)
    # The CLI comes first: without it nothing else matters (not even destroy's question), and its message
    # says what to install.
    if workspace.stack_factory is None:
        workspace.require_pulumi_cli()
    if operation == "destroy":
        _confirm_destroy(args)
    aws.for_stack(args.stack, project_dir=args.project_dir).require_credentials()

    progress = workspace.EngineProgress()
    use_policies = not getattr(args, "no_policy", False)
    if operation == "up":   # the function a user's own script calls too (ops/automation.py)
        result, raw = None, automation.deploy(args.stack, project_dir=args.project_dir, progress=progress,
                                              policies=use_policies)
    else:
        result = workspace.run(operation, args.stack, project_dir=args.project_dir, progress=progress,
                               use_policies=use_policies)
    for line in progress.summary():
        say(line)

    if operation == "preview":
        changes = {getattr(op, "value", op): count for op, count in (result.change_summary or {}).items()}
        say("would change: " + (", ".join(f"{count} {op}" for op, count in sorted(changes.items())) or "nothing"))
    if operation == "destroy":
        say(f"stack '{args.stack}' destroyed: its resources are gone; the stack's history remains "
            f"(remove it with `pulumi stack rm {args.stack}`).")
        return 0

    if operation != "up":
        raw = _current_outputs(args)
    if raw is not None:
        outputs = parse_outputs(args.stack, raw)
        lines = endpoint_lines(outputs)
        if lines:
            say("currently deployed:" if operation == "preview" else "endpoints:")
            for line in lines:
                say(f"  {line}")
    return 0


def _current_outputs(args: argparse.Namespace):
    try:
        handle = workspace.open_stack(args.stack, project_dir=args.project_dir, create=False)
        with workspace.clear_automation_errors("reading the stack outputs", args.stack):
            return handle.outputs()
    except OpsError as error:
        note(f"note: no outputs to show ({error})")
        return None


def show_outputs(args: argparse.Namespace) -> int:
    if workspace.stack_factory is None:
        workspace.require_pulumi_cli()
    handle = workspace.open_stack(args.stack, project_dir=args.project_dir, create=False)
    with workspace.clear_automation_errors("reading the stack outputs", args.stack):
        raw = handle.outputs()
    if args.json:
        plain = {key: "[secret]" if getattr(value, "secret", False) else getattr(value, "value", value)
                 for key, value in raw.items()}
        say(json.dumps(plain, indent=2, sort_keys=True))
        return 0
    outputs = parse_outputs(args.stack, raw)
    lines = endpoint_lines(outputs)
    if not lines:
        say(f"stack '{args.stack}' has no APIs deployed yet.")
    for line in lines:
        say(line)
    return 0
