"""`pause` and `resume`: desired count 0 and back to the configured replicas."""
from __future__ import annotations

import argparse

from ops.cli_args import add_outputs_args, add_stack_args, aws_for, say, stack_outputs_for
from ops.cloud import scaling
from ops.cloud.aws import aws_command


def register(subparsers) -> None:
    for name, text in (("pause", "stop every task of an API (desired count 0): ends a crash loop, saves money"),
                       ("resume", "start an API's tasks again, with the replicas from the stack")):
        parser = subparsers.add_parser(name, help=text, description=text)
        add_stack_args(parser)
        add_outputs_args(parser)
        parser.add_argument("--api", action="append", metavar="NAME",
                            help="the API (repeatable; default: every API of the stack)")
        if name == "resume":
            parser.add_argument("--replicas", type=int, metavar="N",
                                help="run N tasks instead of the stack's replicas")
        parser.set_defaults(func=run, action=name)


@aws_command("changing the desired count")
def run(args: argparse.Namespace) -> int:
    outputs = stack_outputs_for(args)
    apis = outputs.select(args.api)
    ecs = aws_for(args, outputs).client("ecs")
    for api in apis:
        if args.action == "pause":
            scaling.pause(ecs, api, say)
        else:
            scaling.resume(ecs, api, say, getattr(args, "replicas", None))
    if args.action == "pause":
        names = " ".join(f"--api {api.name}" for api in apis)
        say(f"paused. Resume with: python -m ops resume --stack {args.stack} {names}")
        say("note: the next `python -m ops up` may also set the desired count back.")
    return 0
