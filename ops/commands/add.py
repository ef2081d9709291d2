"""`add api` and `add storage`: walkthroughs like `amplify add api`, each question also a flag."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from components.errors import ConfigError
from ops.cli_args import note, say
from ops.project import PROJECT_DIR
from ops.prompts import Prompter
from ops.stack import scaffold, stack_config


def register(subparsers) -> None:
    add = subparsers.add_parser("add", help="add an API, a DynamoDB table, or an API's access to tables (asks, or takes flags)",
                                description="add an API, a DynamoDB table, or an API's access to tables to a "
                                            "stack's config")
    kinds = add.add_subparsers(dest="kind", metavar="WHAT")

    api = kinds.add_parser("api", help="add a container API, starting from a sample or your own folder")
    _common(api)
    api.add_argument("--type", choices=("rest", "graphql"), help="REST or GraphQL")
    api.add_argument("--template", choices=[*scaffold.TEMPLATES, scaffold.OWN_FOLDER],
                     help="express: the ExpressJS REST sample; compose: the two-container compose sample; "
                          "graphql: the GraphQL sample; existing: use the --source folder as it is")
    api.add_argument("--source", metavar="DIR", help="the API's folder (default apps/NAME)")
    auth = api.add_mutually_exclusive_group()
    auth.add_argument("--auth", dest="auth", action="store_const", const=True,
                      help="require sign-in with Amazon Cognito (the default)")
    auth.add_argument("--no-auth", dest="auth", action="store_const", const=False, help="leave the API open")
    access = api.add_mutually_exclusive_group()
    access.add_argument("--access", action="append", metavar="TABLE[=OPS]",
                        help="grant access to a table: posts=create,read (repeatable; TABLE alone grants all four)")
    access.add_argument("--no-access", action="store_true", help="access no other resources")
    api.add_argument("--build", choices=scaffold.BUILD_MODES,
                     help="managed: CodePipeline builds every `up` (default); github: builds every push; "
                          "manual: you push images")
    api.add_argument("--github-owner", metavar="OWNER", help="build: github: the GitHub user or organisation")
    api.add_argument("--github-repo", metavar="REPO", help="build: github: the repository")
    api.add_argument("--github-branch", metavar="BRANCH", help="build: github: the branch to build (default main)")
    api.add_argument("--github-connection-arn", metavar="ARN",
                     help="a CodeStar connection to GitHub (else a githubToken secret is needed)")
    api.set_defaults(func=add_api)

    table = kinds.add_parser("storage", help="add a DynamoDB table")
    _common(table)
    table.add_argument("--partition-key", metavar="NAME", help="partition key attribute (default id)")
    table.add_argument("--partition-key-type", choices=scaffold.KEY_TYPES, help="S string, N number, B binary")
    sort = table.add_mutually_exclusive_group()
    sort.add_argument("--sort-key", metavar="NAME[:TYPE]", help="a sort key attribute, e.g. createdAt:S")
    sort.add_argument("--no-sort-key", action="store_true", help="no sort key")
    pitr = table.add_mutually_exclusive_group()
    pitr.add_argument("--point-in-time-recovery", dest="pitr", action="store_const", const=True,
                      help="keep 35 days of continuous backups (costs extra)")
    pitr.add_argument("--no-point-in-time-recovery", dest="pitr", action="store_const", const=False,
                      help="no continuous backups (the default)")
    table.set_defaults(func=add_storage)

    grant = kinds.add_parser("access", help="let an existing API use existing tables (create, read, update, delete)",
                             description="let an existing API use existing DynamoDB tables: the API's containers "
                                         "get STORAGE_<TABLE>_NAME/_ARN and IAM permission for exactly these "
                                         "operations")
    grant.add_argument("--stack", metavar="NAME", help="the stack config to change (asked; with --yes: dev)")
    grant.add_argument("--project-dir", type=Path, default=PROJECT_DIR, metavar="DIR", help=argparse.SUPPRESS)
    grant.add_argument("--api", metavar="NAME", help="the API that gets access")
    grant.add_argument("--access", action="append", metavar="TABLE[=OPS]",
                       help="a table and its operations: posts=create,read (repeatable; TABLE alone grants all "
                            "four); replaces what the API had on that table")
    grant.add_argument("--yes", "-y", action="store_true",
                       help="take the default for every question not answered by a flag")
    grant.set_defaults(func=add_access)
    add.set_defaults(func=lambda args: add.print_help() or 2)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="NAME", help="the stack config to change (asked; with --yes: dev)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--name", help="the name (lowercase letters, digits, hyphens)")
    parser.add_argument("--region", help="AWS region, when the stack config does not exist yet")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="take the default for every question not answered by a flag")


def _stack_and_region(args: argparse.Namespace, ask: Prompter):
    stacks = sorted(p.name[len("Pulumi."):-len(".yaml")]
                    for p in (args.project_dir / "stacks").glob("Pulumi.*.yaml"))
    default_stack = "dev" if "dev" in stacks or not stacks else stacks[0]
    stack = args.stack or ask.ask("Which stack (environment)", flag="--stack", default=default_stack,
                                  check=lambda s: scaffold.check_name(s, "stack"))
    if args.stack is None and ask.assume_defaults:
        note(f"editing stack '{stack}' ({stack_config.path_of(stack, args.project_dir).relative_to(args.project_dir)}),"
             f" the default; pass --stack NAME for another.")
    document = stack_config.load_document(stack, args.project_dir)
    if not hasattr(args, "region"):
        return stack, None
    if document["config"].get("aws:region"):
        return stack, None
    default = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return stack, args.region or ask.ask("AWS region for this stack", flag="--region", default=default)


def add_api(args: argparse.Namespace) -> int:
    ask = Prompter(assume_defaults=args.yes)
    stack, region = _stack_and_region(args, ask)
    document = stack_config.load_document(stack, args.project_dir)
    taken = scaffold.existing_names(document, scaffold.APIS_KEY)
    default_name = next(n for n in ("api", *(f"api{i}" for i in range(2, 100))) if n not in taken)

    def check_new_name(name: str):
        return scaffold.check_name(name, "API") or (f"'{name}' is taken" if name in taken else None)

    if args.name and check_new_name(args.name):           # refused now, not after every question
        problem = (f"the stack already has an API named '{args.name}'" if args.name in taken
                   else check_new_name(args.name))
        raise ConfigError(problem + ".", file=str(stack_config.path_of(stack, args.project_dir)),
                          key="--name", fix="choose another name, or edit the existing entry.")
    name = args.name or ask.ask("Name of the API", flag="--name", default=default_name, check=check_new_name)
    api_type = args.type or (scaffold.TEMPLATES[args.template].api_type if args.template in scaffold.TEMPLATES
                             else ask.choose("Which kind of API", [("rest", "REST"), ("graphql", "GraphQL")],
                                             flag="--type", default="rest"))
    source = args.source or f"apps/{name}"
    template = args.template
    if template in scaffold.TEMPLATES and scaffold.TEMPLATES[template].api_type != api_type:
        fitting = ", ".join(t.key for t in scaffold.templates_for(api_type))
        raise ConfigError(f"the {template} template is a {scaffold.TEMPLATES[template].api_type} sample, "
                          f"not {api_type}.", key="--template", fix=f"use --template {fitting} or existing.")
    if template is None:
        own = (args.source is not None and (Path(args.source) if Path(args.source).is_absolute()
                                             else args.project_dir / args.source).is_dir())
        choices = [(t.key, t.label) for t in scaffold.templates_for(api_type)]
        choices.append((scaffold.OWN_FOLDER, f"My own folder ({source}) with a Dockerfile or docker-compose.yml"))
        template = ask.choose("Start from", choices, flag="--template",
                              default=scaffold.OWN_FOLDER if own else choices[0][0])
    auth = args.auth if args.auth is not None else ask.confirm(
        "Require sign-in (Amazon Cognito user pool)?", flag="--auth/--no-auth", default=True)

    tables = scaffold.existing_names(document, scaffold.STORAGE_KEY)
    if args.access:
        access = scaffold.parse_access(args.access, tables)
    elif args.no_access or not tables:
        access = {}
    elif ask.confirm("Do you want to access other resources (DynamoDB tables)?", flag="--access/--no-access",
                     default=False):
        picked = ask.choose_many("Which tables", tables, flag="--access", default=tables)
        access = {table: ask.choose_many(f"What may the API do with {table}", list(scaffold.OPERATIONS),
                                         flag="--access", default=list(scaffold.OPERATIONS))
                  for table in picked}
    else:
        access = {}

    build = args.build or ask.choose("How are the images built", [
        ("managed", "managed: CodePipeline builds the folder on every `up` (no Docker needed)"),
        ("github", "github: CodePipeline builds every push to a GitHub branch"),
        ("manual", "manual: you push images to ECR yourself")], flag="--build", default="managed")
    github = None
    if build == "github":
        walked_through = not (args.github_owner and args.github_repo)
        github = {
            "owner": args.github_owner or ask.ask("GitHub owner (user or organisation)", flag="--github-owner"),
            "repo": args.github_repo or ask.ask("GitHub repository", flag="--github-repo"),
            "branch": args.github_branch or ask.ask("Branch", flag="--github-branch", default="main"),
        }
        connection = args.github_connection_arn
        if connection is None and walked_through and not ask.assume_defaults:
            connection = ask.ask("CodeStar connection ARN (Enter to use a personal access token instead)",
                                 flag="--github-connection-arn", default="", check=lambda _answer: None)
        if connection:
            github["connectionArn"] = connection

    plan = scaffold.ApiPlan(stack=stack, name=name, api_type=api_type, template=template, source=source,
                            auth=auth, access=access, build=build, github=github, region=region)
    path, notes = scaffold.add_api(plan, args.project_dir)
    what = "your folder" if template == scaffold.OWN_FOLDER else f"the {template} sample, copied to {source}"
    say(f"added API '{name}' ({api_type}, {what}) to {path}")
    _print_notes(notes)
    say(f"next: python -m ops up --stack {stack}   then   python -m ops client-config --stack {stack} --out <app>/src")
    return 0


def _print_notes(notes: list[str]) -> None:
    for line in notes:
        if line.startswith("warning:"):
            note(line)
        else:
            say(f"note: {line}")


def add_storage(args: argparse.Namespace) -> int:
    ask = Prompter(assume_defaults=args.yes)
    stack, region = _stack_and_region(args, ask)
    document = stack_config.load_document(stack, args.project_dir)
    taken = scaffold.existing_names(document, scaffold.STORAGE_KEY)

    def check_new_name(name: str):
        return scaffold.check_name(name, "table") or (f"'{name}' is taken" if name in taken else None)

    path = str(stack_config.path_of(stack, args.project_dir))
    if args.name and check_new_name(args.name):           # refused now, not after every question
        problem = (f"the stack already has a table named '{args.name}'" if args.name in taken
                   else check_new_name(args.name))
        raise ConfigError(problem + ".", file=path, key="--name", fix="choose another name.")
    name = args.name or ask.ask("Name of the table", flag="--name", check=check_new_name)
    key_types = [("S", "S: string"), ("N", "N: number"), ("B", "B: binary")]
    partition = args.partition_key or ask.ask("Partition key attribute", flag="--partition-key", default="id")
    sort_flag = (args.sort_key or "").partition(":")[0]
    if sort_flag and sort_flag == partition:
        raise ConfigError(f"the sort key has the partition key's name ('{sort_flag}').", key="--sort-key",
                          fix="give the sort key another attribute name, e.g. createdAt.")

    def check_sort_key(answer: str):
        if not answer:
            return "an attribute name is needed"
        return f"'{answer}' is the partition key; the sort key needs another name" if answer == partition else None

    partition_type = args.partition_key_type or ask.choose(f"Type of {partition}", key_types,
                                                           flag="--partition-key-type", default="S")
    sort_key, sort_type = None, "S"
    if args.sort_key:
        sort_key, _, given_type = args.sort_key.partition(":")
        sort_type = given_type or "S"
    elif not args.no_sort_key and ask.confirm("Add a sort key?", flag="--sort-key/--no-sort-key", default=False):
        sort_key = ask.ask("Sort key attribute", flag="--sort-key", check=check_sort_key)
        sort_type = ask.choose(f"Type of {sort_key}", key_types, flag="--sort-key", default="S")
    pitr = args.pitr if args.pitr is not None else ask.confirm(
        "Keep continuous backups (point-in-time recovery, costs extra)?", flag="--point-in-time-recovery",
        default=False)
    path = scaffold.add_table(scaffold.TablePlan(stack=stack, name=name, partition_key=partition,
                                                 partition_type=partition_type, sort_key=sort_key,
                                                 sort_type=sort_type, point_in_time_recovery=pitr,
                                                 region=region),
                              args.project_dir)
    say(f"added table '{name}' to {path}")
    apis = scaffold.existing_names(stack_config.load_document(stack, args.project_dir), scaffold.APIS_KEY)
    api = apis[0] if len(apis) == 1 else "API"
    if apis:
        say(f"next: let an API use it: python -m ops add access --stack {stack} --api {api} "
            f"--access {name}=create,read,update,delete" + (f"  (APIs: {', '.join(apis)})" if len(apis) > 1 else ""))
    else:
        say(f"next: add an API that uses it: python -m ops add api --stack {stack} --access {name}")
    return 0


def add_access(args: argparse.Namespace) -> int:
    ask = Prompter(assume_defaults=args.yes)
    stack, _region = _stack_and_region(args, ask)
    document = stack_config.load_document(stack, args.project_dir)
    path = stack_config.path_of(stack, args.project_dir)
    apis = scaffold.existing_names(document, scaffold.APIS_KEY)
    tables = scaffold.existing_names(document, scaffold.STORAGE_KEY)
    if not apis or not tables:
        missing = "an API (python -m ops add api)" if not apis else "a table (python -m ops add storage)"
        raise ConfigError(f"stack '{stack}' has no {'API' if not apis else 'table'} yet.", file=str(path),
                          fix=f"add {missing} first.")
    if args.api is not None and args.api not in apis:
        raise ConfigError(f"the stack has no API named '{args.api}'.", file=str(path), key="--api",
                          fix=f"use one of: {', '.join(apis)}.")
    api = args.api or ask.choose("Which API", [(a, a) for a in apis], flag="--api", default=apis[0])
    if args.access:
        access = scaffold.parse_access(args.access, tables)
    else:
        picked = ask.choose_many("Which tables", tables, flag="--access", default=tables)
        access = {table: ask.choose_many(f"What may {api} do with {table}", list(scaffold.OPERATIONS),
                                         flag="--access", default=list(scaffold.OPERATIONS))
                  for table in picked}
    written, notes = scaffold.add_access(scaffold.AccessPlan(stack=stack, api=api, access=access), args.project_dir)
    for table, operations in access.items():
        say(f"API '{api}' may now {', '.join(operations)} on table '{table}' ({written}, stack {stack})")
    _print_notes(notes)
    say(f"next: python -m ops up --stack {stack}")
    return 0
