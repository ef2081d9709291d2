"""`python -m ops local build|up|down`: run one API on this machine as its Fargate task runs."""
from __future__ import annotations

import argparse

from ops.cli_args import add_stack_args, note, say
from ops.errors import OpsError
from ops.local import checks
from ops.local.runner import Docker, LocalOptions, LocalRunner, load_api, plan_task, task_family

LOCAL_BASE_IMAGE = "serverless-containers/base:local"   # what docker/base/build.sh tags
DESCRIPTION = ("Run one API's containers on this machine the way its Fargate task runs them: one shared "
               "network namespace (containers reach each other on localhost), the same environment, secrets "
               "from the .secret- files as environment variables, the same health checks and depends_on order. "
               "Only the entrypoint's port is published, on 127.0.0.1. Tables: containers with DynamoDB access get "
               "STORAGE_<TABLE>_NAME/_ARN; give them a way to reach DynamoDB (--dynamodb-endpoint, or AWS "
               "credentials with --pass-env) or pass --no-storage. localhost inside the task is the task itself: "
               "reach services on this machine at the host's address (e.g. 172.17.0.1, Docker's default bridge).")


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise OpsError(f"{flag} takes KEY=VALUE, not {value!r}.", exit_code=2)
        pairs[key] = rest
    return pairs


def register(subparsers) -> None:
    local = subparsers.add_parser("local", help="build and run an API locally, as a Fargate task runs it",
                                  description=DESCRIPTION)
    actions = local.add_subparsers(dest="local_command", metavar="ACTION")
    helps = {
        "build": "build the API's container images (tagged <ECR repository name>:local)",
        "up": ("build, then start the API's containers in the background and wait until the API is ready: the "
               "entrypoint's health check passes, or (without one) its port answers HTTP; fails, with the container's "
               "exit code and last output, if an essential container exits first"),
        "down": "stop and remove every container `up` started for the API (images are kept)",
    }
    for action, text in helps.items():
        parser = actions.add_parser(action, help=text, description=text)
        add_stack_args(parser)
        parser.add_argument("--api", required=True, metavar="NAME", help="the API (a key of the stack's apis)")
        if action in ("build", "up"):
            parser.add_argument("--base-image", metavar="IMAGE",
                                help="pass --build-arg BASE_IMAGE=IMAGE to every build (the samples' Dockerfiles "
                                     "take their base image that way), e.g. serverless-containers/base:local")
            parser.add_argument("--build-arg", action="append", metavar="KEY=VALUE",
                                help="an extra build argument for every build; wins over compose's args")
            parser.add_argument("--quiet", action="store_true", help="hide the build output unless a build fails")
        if action == "up":
            parser.add_argument("--no-build", action="store_true", help="run the images from the last build")
            parser.add_argument("--port", type=int, metavar="PORT",
                                help="loopback port for the entrypoint (default: its routed container port)")
            parser.add_argument("--region", metavar="REGION", help="REGION for the containers (default: the stack's)")
            parser.add_argument("--table", action="append", metavar="TABLE=NAME",
                                help="use this DynamoDB table name for TABLE (default: the deployed stack's table)")
            parser.add_argument("--account-id", default="000000000000", metavar="ID",
                                help="account id in the STORAGE_<TABLE>_ARN values (default: 000000000000)")
            parser.add_argument("--no-storage", action="store_true",
                                help="set no STORAGE_* or REGION variables, so apps use their local mode")
            parser.add_argument("--dynamodb-endpoint", metavar="URL",
                                help="set AWS_ENDPOINT_URL_DYNAMODB for every container (e.g. DynamoDB Local); "
                                     "localhost inside the task is the task itself, so a DynamoDB Local on this "
                                     "machine is at the host's address, e.g. http://172.17.0.1:8000")
            parser.add_argument("--env", action="append", metavar="KEY=VALUE",
                                help="an extra environment variable for every container")
            parser.add_argument("--pass-env", action="append", metavar="NAME",
                                help="pass this variable from your environment to every container "
                                     "(e.g. AWS_ACCESS_KEY_ID); the value stays off the command line")
            parser.add_argument("--pause-image", metavar="IMAGE",
                                help="image of the container that holds the shared network namespace; it needs sh "
                                     "and sleep (default: the first container's image)")
            parser.add_argument("--wait-timeout", type=float, default=180.0, metavar="SECONDS",
                                help="how long to wait for each depends_on condition, and then for the API to be "
                                     "ready (default: 180)")
        if action == "down":
            parser.add_argument("--stop-timeout", type=int, default=10, metavar="SECONDS",
                                help="seconds between SIGTERM and SIGKILL for each container (default: 10; "
                                     "ECS waits 30 unless the task definition says otherwise)")
        parser.set_defaults(func=run_local, local_action=action)
    local.set_defaults(func=lambda args: (local.print_help(), 2)[1])


def _options(args: argparse.Namespace) -> LocalOptions:
    return LocalOptions(
        stack=args.stack, api=args.api,
        base_image=getattr(args, "base_image", None),
        build_args=_pairs(getattr(args, "build_arg", None), "--build-arg"),
        host_port=getattr(args, "port", None),
        region=getattr(args, "region", None),
        tables=_pairs(getattr(args, "table", None), "--table"),
        account_id=getattr(args, "account_id", "000000000000"),
        no_storage=getattr(args, "no_storage", False),
        dynamodb_endpoint=getattr(args, "dynamodb_endpoint", None),
        environment=_pairs(getattr(args, "env", None), "--env"),
        pass_environment=list(getattr(args, "pass_env", None) or []),
        pause_image=getattr(args, "pause_image", None),
        wait_timeout=getattr(args, "wait_timeout", 180.0),
    )


def run_local(args: argparse.Namespace) -> int:
    docker = Docker()
    runner = LocalRunner(docker, say=say)
    if args.local_action == "down":
        docker.require_engine()
        removed = runner.down(task_family(args.stack, args.api), stop_timeout=args.stop_timeout)
        say(f"removed {len(removed)} container(s)" + (f": {', '.join(removed)}" if removed else ""))
        return 0

    options = _options(args)
    existing: dict[str, str] = {}
    api_settings, app, region = load_api(args.stack, args.api, args.project_dir, existing_tables=existing)
    unknown_tables = sorted(set(options.tables) - set(api_settings.storage_access))
    if unknown_tables:
        raise OpsError(f"--table names {', '.join(unknown_tables)}, but API '{args.api}' has access to "
                       f"{', '.join(sorted(api_settings.storage_access)) or 'no table'}.", exit_code=2)
    # an existingTable is reached under its own name, unless --table points elsewhere
    options.tables = {**{t: n for t, n in existing.items() if t in api_settings.storage_access}, **options.tables}
    task = plan_task(app, options=options, region=options.region or region,
                     granted_tables=sorted(api_settings.storage_access))
    for warning in task.warnings:
        note(f"warning: {warning}")
    storage = checks.storage_warning(args.api, [] if options.no_storage else sorted(api_settings.storage_access),
                                     no_storage=options.no_storage, dynamodb_endpoint=options.dynamodb_endpoint,
                                     environment=options.environment, pass_environment=options.pass_environment)
    if storage and args.local_action == "up":
        note(f"warning: {storage}")
    docker.require_engine()
    if args.local_action == "up":     # before the build: a taken port would only fail after it
        problem = checks.port_problem(task.host_port, task.family, checks.parse_holders(docker.port_holders()),
                                      free=checks.port_is_free(task.host_port))
        if problem:
            raise OpsError(problem, exit_code=2)
    if options.base_image == LOCAL_BASE_IMAGE and \
            docker.run(["docker", "image", "inspect", LOCAL_BASE_IMAGE], check=False).returncode != 0:
        raise OpsError(f"{LOCAL_BASE_IMAGE} is not on this machine yet; build it once with "
                       "`sudo docker/base/build.sh` (a few minutes), then run the command again.")
    if args.local_action == "build" or not args.no_build:
        try:
            runner.build(task, quiet=args.quiet)
        except OpsError as error:
            if options.base_image or (args.quiet and not checks.looks_offline(str(error))):
                raise
            raise OpsError(f"{error} {checks.offline_hint(LOCAL_BASE_IMAGE)}") from None
    if args.local_action == "build":
        say(f"built {len(task.builds)} image(s): {', '.join(b.image for b in task.builds) or '(none to build)'}")
        return 0
    runner.up(task, wait_timeout=options.wait_timeout)
    say(f"{args.api} is running: {task.url} (entrypoint '{task.entrypoint}', container port {task.routed_port})")
    say(f"logs: docker logs -f {task.family}.<container>    stop: python -m ops local down "
        f"--stack {args.stack} --api {args.api}")
    return 0
