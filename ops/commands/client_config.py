"""`client-config`: write aws-exports.js and amplifyconfiguration.json for a web or mobile app."""
from __future__ import annotations

import argparse
from pathlib import Path

from ops.errors import OpsError
from ops.cli_args import add_outputs_args, add_stack_args, note, say, stack_outputs_for
from ops.stack.stack_config import load_stack_config
from ops.stack import amplify_config
from ops.stack.stack_config import path_of, project_values


def register(subparsers) -> None:
    text = ("write aws-exports.js (Amplify JS) and amplifyconfiguration.json (Amplify Android/Swift/Flutter) "
            "with the stack's API endpoints and Cognito user pool")
    parser = subparsers.add_parser("client-config", help=text, description=text)
    add_stack_args(parser)
    add_outputs_args(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder to write the two files into, e.g. ../my-app/src")
    parser.add_argument("--graphql-path", default="/graphql", metavar="PATH",
                        help="path of the GraphQL endpoint on a GraphQL API's URL (default /graphql)")
    parser.set_defaults(func=write_client_config)


def auth_by_api(stack: str, project_dir: Path) -> dict[str, bool]:
    """Which APIs require sign-in, from the stack config (`auth`, default true)."""
    if not path_of(stack, project_dir).is_file():
        return {}
    config, _secret_keys = load_stack_config(stack, project_dir)
    apis = project_values(config).get("apis") or {}
    return {name: (spec or {}).get("auth", True) is not False for name, spec in apis.items()
            if isinstance(spec, dict) or spec is None}


def owns_user_pool(stack: str, project_dir: Path) -> bool:
    """False when the stack signs in with an `existingUserPool` (its sign-in attributes are not the stack's)."""
    if not path_of(stack, project_dir).is_file():
        return True
    config, _secret_keys = load_stack_config(stack, project_dir)
    return project_values(config).get("existingUserPool") is None


def _check_out(out: Path) -> None:
    """--out is a folder; a file (or a file on the way to it) gets one clear message, not a FileExistsError."""
    for part in (out, *out.parents):
        if part.exists() and not part.is_dir():
            hint = (f"--out {part.parent}" if part.name in ("aws-exports.js", "amplifyconfiguration.json")
                    else "a folder, e.g. --out ../my-app/src")
            raise OpsError(f"--out {out}: {part} is a file, but --out names the folder that gets aws-exports.js and "
                           f"amplifyconfiguration.json. Pass {hint}.", exit_code=2)


def write_client_config(args: argparse.Namespace) -> int:
    outputs = stack_outputs_for(args)
    apis = amplify_config.client_apis(outputs, auth_by_api(args.stack, args.project_dir), args.graphql_path)
    own_pool = owns_user_pool(args.stack, args.project_dir)
    exports, notes = amplify_config.aws_exports(outputs, apis, own_pool)
    native = amplify_config.amplify_configuration(outputs, apis, own_pool)

    _check_out(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("aws-exports.js", amplify_config.render_aws_exports(exports, apis)),
                       ("amplifyconfiguration.json", amplify_config.render_amplify_configuration(native))):
        target = args.out / name
        temporary = target.with_name(name + ".tmp")
        temporary.write_text(text)
        temporary.replace(target)
        written.append(target)
    for line in notes:
        note(f"note: {line}")
    for target in written:
        say(f"wrote {target}")
    for api in apis:
        auth = "Cognito sign-in" if api.authorization == amplify_config.COGNITO else "no sign-in"
        say(f"  {api.kind} API {api.name}: {api.endpoint} ({auth})")
    return 0
