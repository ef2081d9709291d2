"""`plan`: the offline plan of a stack (no AWS account, no Pulumi CLI): resources, warnings, policies, idle cost."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ops.cli_args import add_stack_args, note, say
from ops.plan import report as offline_plan


def register(subparsers) -> None:
    text = ("the offline plan: run the program under Pulumi's mock runtime with the stack's config and show its "
            "resources, compose warnings, policy results, idle monthly cost and architecture picture; "
            "no cloud is contacted")
    parser = subparsers.add_parser("plan", help=text, description=text)
    add_stack_args(parser)
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also list every resource by component, each policy with its level, each cost item's "
                             "detail and the usage-priced items the estimate leaves out")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the report as JSON to FILE")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="write the architecture picture (.dot, .svg, .png) here (default: build/plan/STACK)")
    parser.add_argument("--policy-config", metavar="FILE", type=Path,
                        help="policy settings, the file `pulumi preview --policy-pack-config` takes "
                             "(default: policies/config/STACK.json when it exists)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan = offline_plan.make_plan(args.stack, project_dir=args.project_dir, policy_config=args.policy_config,
                                  out_dir=args.out)
    for line in offline_plan.report_lines(plan, verbose=args.verbose):
        say(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(plan.as_json(), indent=2) + "\n")
        say(f"JSON report: {args.json}")
    if plan.mandatory:
        note(f"plan failed: {len(plan.mandatory)} mandatory policy violation(s):")
        for finding in plan.mandatory:
            note(f"  {finding.policy}: {finding.resource or 'stack'}: {finding.message}")
        return 1
    say(f"plan ok: no mandatory policy is violated. Still offline: run `pulumi preview --stack {args.stack}` "
        f"for the real changes.")
    return 0
