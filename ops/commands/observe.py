"""`logs` and `status`: what an API prints, and how its deployment is doing."""
from __future__ import annotations

import argparse
import time

from ops.cli_args import add_outputs_args, add_stack_args, aws_for, say, stack_outputs_for
from ops.cloud import logs as log_reader
from ops.cloud import status as status_report
from ops.cloud.aws import aws_command


def register(subparsers) -> None:
    text = "print an API's container logs from CloudWatch Logs"
    parser = subparsers.add_parser("logs", help=text, description=text)
    add_stack_args(parser)
    add_outputs_args(parser)
    parser.add_argument("--api", required=True, help="the API")
    parser.add_argument("--container", help="only this container (default: every container, merged by time)")
    parser.add_argument("--since", default="10m", help="how far back: 30s, 10m, 1h, 2d (default 10m)")
    parser.add_argument("--filter", metavar="PATTERN", help="a CloudWatch Logs filter pattern, e.g. ERROR")
    parser.add_argument("--follow", action="store_true", help="keep printing new lines")
    parser.add_argument("--follow-for", default="30m", metavar="DURATION",
                        help="stop following after this long (default 30m)")
    parser.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.set_defaults(func=show_logs)

    text = ("show an API's deployments, its last pipeline run, and its stopped tasks with stop reasons, "
            "exit codes and the failing container's last log lines")
    parser = subparsers.add_parser("status", help=text, description=text)
    add_stack_args(parser)
    add_outputs_args(parser)
    parser.add_argument("--api", action="append", metavar="NAME",
                        help="the API (repeatable; default: every API of the stack)")
    parser.add_argument("--stopped", type=int, default=5, metavar="N", help="stopped tasks to show (default 5)")
    parser.add_argument("--log-lines", type=int, default=10, metavar="N",
                        help="log lines per failing container (default 10)")
    parser.set_defaults(func=show_status)


@aws_command("reading logs")
def show_logs(args: argparse.Namespace) -> int:
    since = log_reader.parse_duration(args.since)
    follow_for = log_reader.parse_duration(args.follow_for) if args.follow else 0
    outputs = stack_outputs_for(args)
    api = outputs.api(args.api)
    groups = log_reader.log_groups(api, args.container)
    logs = aws_for(args, outputs).client("logs")
    start_ms = int((time.time() - since) * 1000)
    if args.follow:
        log_reader.follow(logs, groups, start_ms, emit=lambda line: say(line.render()), pattern=args.filter,
                          poll=args.poll, duration=follow_for)
        return 0
    lines = log_reader.fetch(logs, groups, start_ms, args.filter)
    if not lines:
        say(f"no log lines from {', '.join(sorted(groups))} in the last {args.since}.")
    for line in lines:
        say(line.render())
    return 0


@aws_command("reading the status")
def show_status(args: argparse.Namespace) -> int:
    outputs = stack_outputs_for(args)
    aws = aws_for(args, outputs)
    ecs, logs, codepipeline = aws.client("ecs"), aws.client("logs"), aws.client("codepipeline")
    selected = outputs.select(args.api)
    managed = any(api.scaling.get("managedBy", "stack") != "stack" for api in selected)
    autoscaling = aws.client("application-autoscaling") if managed else None
    for index, api in enumerate(selected):
        if index:
            say()
        for line in status_report.api_status(ecs=ecs, logs=logs, codepipeline=codepipeline, api=api,
                                             region=aws.region, stopped=args.stopped, log_lines=args.log_lines,
                                             autoscaling=autoscaling):
            say(line)
    return 0
