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
    aws = aws_for(args, outputs)
    ecs = aws.client("ecs")
    managed = any(api.scaling.get("managedBy", "stack") != "stack" for api in apis)
    autoscaling = aws.client("application-autoscaling") if managed else None
    for api in apis:
        if args.action == "pause":
            scaling.pause(ecs, api, say, autoscaling)
        else:
            scaling.resume(ecs, api, say, getattr(args, "replicas", None), autoscaling)
    if args.action == "pause":
        names = " ".join(f"--api {api.name}" for api in apis)
        say(f"paused. Resume with: python -m ops resume --stack {args.stack} {names}")
        if managed:
            say("note: APIs whose count Application Auto Scaling sets stay paused through `python -m ops up` "
                "(it leaves the desired count alone) until resume.")
        say("note: `python -m ops up` and `pulumi up` leave a paused API paused (they compare the program with the "
            "last deployed state, not with AWS); only `resume` starts it again, or a changed replica count in the "
            "stack config, or `pulumi up --refresh`.")
    return 0
