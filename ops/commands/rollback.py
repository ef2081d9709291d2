"""`rollback`: run an earlier build of an API again, and check that it really runs."""
from __future__ import annotations

import argparse
import re

from ops.cli_args import add_outputs_args, add_stack_args, aws_for, say, stack_outputs_for
from ops.cloud import rollback as rollback_logic
from ops.cloud.aws import aws_command
from ops.cloud.ecs import revision_label
from ops.errors import OpsError


BUILD_HASH = re.compile(r"^[0-9a-f]{7}$")     # docs/design.md: a build hash is 7 lowercase hex characters


def build_hash(value: str) -> str:
    """--to, checked before anything is read: argparse turns the error into a usage message and exit 2."""
    if not BUILD_HASH.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a build hash: the pipeline tags each build with 7 lowercase hex characters, e.g. "
            "a1b2c3d (`status` shows recent deploys; ECR lists the tags)")
    return value


def register(subparsers) -> None:
    text = ("deploy an earlier build of an API: roll out a task definition pinned to its hash, wait, verify the "
            "running tasks use it, then move the `deployed` tag in ECR to it")
    parser = subparsers.add_parser("rollback", help=text, description=text)
    add_stack_args(parser)
    add_outputs_args(parser)
    parser.add_argument("--api", required=True, help="the API to roll back")
    parser.add_argument("--to", required=True, metavar="HASH", type=build_hash,
                        help="the build hash to run again: the 7 lowercase hex characters the pipeline tagged the "
                             "images with (status shows recent deploys)")
    parser.add_argument("--timeout", type=float, default=900, metavar="SECONDS",
                        help="how long to wait for the service to settle (default 900)")
    parser.add_argument("--poll", type=float, default=15, metavar="SECONDS", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


@aws_command("rollback")
def run(args: argparse.Namespace) -> int:
    outputs = stack_outputs_for(args)
    api = outputs.api(args.api)
    aws = aws_for(args, outputs)
    say(f"rolling {api.name} (stack {args.stack}, {aws.region}) back to build {args.to}")
    result = rollback_logic.rollback(
        ecs=aws.client("ecs"), ecr=aws.client("ecr"),
        codepipeline=aws.client("codepipeline") if api.pipeline_name else None,
        api=api, build_hash=args.to, timeout=args.timeout, poll=args.poll, report=lambda line: say(f"  {line}"),
        caller_arn=aws.client("sts").get_caller_identity()["Arn"],
        autoscaling=aws.client("application-autoscaling"), logs=aws.client("logs"))
    if result.verified and result.paused:
        say(f"done: {api.name} is set to build {args.to} ({revision_label(result.task_definition)}), but the "
            "service is paused, so nothing runs it yet and it is not checked until it runs: "
            f"python -m ops resume --stack {args.stack} --api {api.name}")
        return 0
    if result.verified:
        held = (f" (checked on {result.held_at} task(s) it was woken for; it may sleep again)"
                if result.held_at else "")
        say(f"done: {api.name} runs build {args.to} ({revision_label(result.task_definition)}){held}; "
            "`deployed` points at it, so the next `up` keeps it.")
        return 0
    problems = "\n".join(f"  - {problem}" for problem in result.problems)
    held = (f" on the {result.held_at} task(s) it was woken for (it may sleep again)" if result.held_at else "")
    stopped = "".join(f"\n{line}" for line in result.stopped_tasks)
    raise OpsError(f"rollback of {api.name} to {args.to} is NOT running as asked{held} "
                   f"(ECS may still report success); `deployed` stays where it was:\n{problems}{stopped}\n"
                   f"`python -m ops status --stack {args.stack} --api {api.name}` shows the same details.")
