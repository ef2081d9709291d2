"""Compose secrets of an Amplify container API: the local `.secret-` file, or Amplify's own secret by ARN.

Amplify read each top-level compose secret's `file:` (relative to the API's `src/`, named `.secret-*`, outside
`src/`) and stored the value in Secrets Manager as `<root stack name>-<api>-<secret>`, outside CloudFormation (so
it outlives the Amplify stack). The task definition then pointed at it.

The route, per secret:

1. **The file exists here**: keep it. The compose file already names it; `pulumi up` reads it, as `amplify push`
   did, into the stack's own secret. Nothing is written and the import stays offline.
2. **No file** (Amplify's `.gitignore` lists `.secret-*`, so a fresh clone has none): point `secretArns` at
   Amplify's secret. The stack never reads or rewrites it; the task definition names it and the execution role may
   read exactly it. A complete ARN ends in 6 random characters that only AWS knows, so it is looked up with
   `secretsmanager:DescribeSecret` (metadata only: the value is never fetched).
3. **Neither** (no file, and the lookup failed): a warning with the command that prints the ARN.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

Lookup = Callable[[str, str], str]
"""(secret name, region) -> the secret's complete ARN; raises with a reason when it cannot."""


@dataclass(frozen=True)
class SecretRoute:
    name: str                   # the compose secret (top-level key)
    file: Path | None           # kept: the local file
    arn: str | None = None      # or: Amplify's secret
    amplify_name: str = ""      # the Secrets Manager name Amplify gave it
    problem: str = ""           # neither: why the lookup failed


def describe_secret_arn(name: str, region: str) -> str:
    """The complete ARN of a Secrets Manager secret by name, from DescribeSecret (never GetSecretValue)."""
    import boto3
    from botocore.config import Config

    client = boto3.client("secretsmanager", region_name=region,
                          config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}))
    return client.describe_secret(SecretId=name)["ARN"]


def route(secret: str, file: Path | None, amplify_name: str | None, region: str, lookup: Lookup) -> SecretRoute:
    if file is not None and file.is_file():
        return SecretRoute(secret, file)
    if not amplify_name:
        return SecretRoute(secret, None, problem="the env's root stack name is unknown (team-provider-info.json)")
    try:
        return SecretRoute(secret, None, arn=lookup(amplify_name, region), amplify_name=amplify_name)
    except Exception as error:   # noqa: BLE001 - any failure (no credentials, not found, denied) is reported
        reason = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
        return SecretRoute(secret, None, amplify_name=amplify_name,
                           problem=reason or type(error).__name__ + (f": {error}" if str(error) else ""))


def describe(api: str, found: SecretRoute, shown_file: str, stack_file: str) -> str:
    """One report line: the route taken and why."""
    if found.file is not None:
        return (f"API {api}, secret {found.name}: the local file {shown_file} (it exists; `pulumi up` reads it into "
                "the stack's own secret, as `amplify push` did).")
    if found.arn:
        return (f"API {api}, secret {found.name}: Amplify's secret {found.amplify_name} by ARN (secretArns; no local "
                f"{shown_file}). The stack never reads or changes it.")
    command = (f"aws secretsmanager describe-secret --secret-id {found.amplify_name} --query ARN --output text"
               if found.amplify_name else "aws secretsmanager list-secrets")
    return (f"API {api}, secret {found.name}: NOT SET. There is no {shown_file}, and Amplify's secret could not be "
            f"looked up ({found.problem}). Run `{command}` and add secretArns: {{{api}: {{{found.name}: <ARN>}}}} to "
            f"{stack_file}, or put the value in {shown_file}.")
