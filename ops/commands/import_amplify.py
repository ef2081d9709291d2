"""`import amplify`: write a stack file from an Amplify Gen1 project with container APIs (ops/amplify_import/)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.errors import ConfigError
from ops.amplify_import import project as amplify_project
from ops.amplify_import.secrets import describe_secret_arn
from ops.amplify_import.stack import build, check_pool_ids, render
from ops.cli_args import note, say
from ops.project import PROJECT_DIR
from ops.prompts import Prompter
from ops.stack import stack_config
from ops.stack.stack_config import MOCK_SECRET_PLACEHOLDER


def register(subparsers) -> None:
    text = "write a stack file from another tool's project (amplify: an Amplify Gen1 project with container APIs)"
    parser = subparsers.add_parser("import", help=text, description=text)
    sources = parser.add_subparsers(dest="source", metavar="FROM")
    amplify = sources.add_parser(
        "amplify", help="an Amplify Gen1 project: keeps its user pool and tables, and its APIs' sources",
        description="Read an Amplify Gen1 project (the folder holding amplify/) and write stacks/Pulumi.STACK.yaml: "
                    "its container APIs, its DynamoDB tables and its user pool (kept, not copied), with every "
                    "difference named. No secret value passes through this command.")
    amplify.add_argument("--project", required=True, type=Path, metavar="DIR",
                         help="the Amplify project folder (the one holding amplify/)")
    amplify.add_argument("--env", required=True, metavar="ENV", help="the Amplify env to move, e.g. dev")
    amplify.add_argument("--stack", metavar="NAME", help="the stack to write (default: the env's name)")
    amplify.add_argument("--yes", action="store_true", help="overwrite an existing stack file without asking")
    amplify.add_argument("--new-resources", action="store_true",
                         help="declare a new, empty user pool and new, empty tables instead of keeping the env's")
    amplify.add_argument("--user-pool-id", metavar="ID",
                         help="the env's Cognito user pool, when the project's files do not hold it")
    amplify.add_argument("--client-id", metavar="ID", help="the web app client of that pool")
    amplify.add_argument("--project-dir", type=Path, default=PROJECT_DIR, metavar="DIR",
                         help="this project's folder, where stacks/ is (default: this repository)")
    amplify.set_defaults(func=import_amplify)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def import_amplify(args: argparse.Namespace) -> int:
    stack = args.stack or args.env
    if bool(args.user_pool_id) != bool(args.client_id):
        raise ConfigError("--user-pool-id and --client-id go together.", key="--client-id" if args.user_pool_id
                          else "--user-pool-id", fix="pass both, or neither (then the project's files are read).")
    pool = check_pool_ids(args.user_pool_id, args.client_id, "--user-pool-id/--client-id") if args.user_pool_id else None
    prompter = Prompter(assume_defaults=args.yes)
    project = amplify_project.load(args.project, args.env)
    project_dir = args.project_dir.resolve()

    def ask_pool(why: str) -> tuple[str, str]:
        if args.yes or not sys.stdin.isatty():
            raise ConfigError(f"{why}.", key="--user-pool-id",
                              fix=f"pass --user-pool-id and --client-id (`amplify env checkout {args.env}` writes "
                                  "them into amplify-meta.json), or --new-resources for a new, empty pool.")
        note(f"{why}.")
        pool_id = prompter.ask("The env's Cognito user pool id", flag="--user-pool-id")
        return check_pool_ids(pool_id, prompter.ask("Its web app client id", flag="--client-id"), "your answer")

    imported = build(project, stack, project_dir, new_resources=args.new_resources, lookup=describe_secret_arn,
                     ask_pool=ask_pool, pool=pool)
    # The program's own checks, before anything is written (a githubToken is set later, with `--secret`).
    checked = dict(imported.config)
    if imported.needs_github_token:
        # as `pulumi config set --secret` will write it: encrypted (a plain value is refused)
        checked.setdefault(f"{stack_config.NAMESPACE}githubToken", {"secure": MOCK_SECRET_PLACEHOLDER})
    stack_config.validate(checked, stack=stack, project_dir=project_dir)
    target = stack_config.path_of(stack, project_dir)
    if target.exists() and not args.yes and not prompter.confirm(f"{target} exists. Overwrite it?", flag="--yes",
                                                                 default=False):
        raise ConfigError("the stack file exists and was left as it is.", file=str(target),
                          fix="pass --yes to overwrite it, or --stack NAME to write another stack.")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(render(imported, project))
    temporary.replace(target)
    for line in imported.report.lines():
        say(line)
    say(f"wrote {target}")
    if imported.needs_github_token:
        say(f"then: pulumi config set --secret githubToken <token> --stack {stack} (or set github.connectionArn)")
    elsewhere = "" if project_dir == PROJECT_DIR.resolve() else f" --project-dir {project_dir}"
    say(f"next: python -m ops plan --stack {stack}{elsewhere}")
    return 0
