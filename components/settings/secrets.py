"""Compose secrets that come from the stack instead of a `.secret-*` file: the team routes (issue 17).

In a team one person controls the secrets, and CI or a teammate without the `.secret-*` files must still be able to
deploy. A compose secret's value can therefore come from, per API and secret name:

* ``secretValues`` - an encrypted stack config secret, set with
  ``pulumi config set --secret --path 'secretValues.<api>.<SECRET>' <value>``. The stack stores it in its own
  Secrets Manager secret, as it stores a file's value.
* ``secretArns`` - the ARN of an existing Secrets Manager secret (plain text config). The stack never reads or
  rewrites it: the task definition points at it and the execution role may read exactly that ARN.

A `.secret-*` file is then not needed (and not read). Pure Python, like the rest of components/settings/.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from components.errors import ConfigError

SECRET_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
SECRET_ARN_PATTERN = re.compile(
    r"^arn:aws[-a-z]*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$")
# A complete secret ARN ends in "-" and 6 random characters. IAM policies match the complete ARN, so a
# partial one (the name without them) would be denied at the first pull.
SECRET_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class StackSecret:
    """Where one compose secret's value comes from when it is not a file."""

    api: str
    name: str
    value: Any = None            # secretValues: opaque (a Pulumi secret Output under Pulumi); never printed
    arn: str | None = None       # secretArns: an existing Secrets Manager secret, never read or rewritten

    @property
    def config_key(self) -> str:
        return f"{'secretArns' if self.arn else 'secretValues'}.{self.api}.{self.name}"

    def __repr__(self) -> str:   # never leak the value
        return f"StackSecret({self.config_key})"


def set_value_command(api: str, name: str) -> str:
    return f"pulumi config set --secret --path 'secretValues.{api}.{name}' <value>"


def stack_secrets(check: Any, raw: dict[str, Any], apis: dict[str, Any]) -> dict[str, dict[str, StackSecret]]:
    """API -> secret name -> StackSecret, from ``secretValues`` and ``secretArns``.

    ``check`` is the stack's Checker (checks.py) (it names the stack file and the key in every error)."""
    found: dict[str, dict[str, StackSecret]] = {}
    for key in ("secretValues", "secretArns"):
        if raw.get(key) is None:
            continue
        for api, secrets in check.mapping(key, raw[key]).items():
            if api not in apis:
                raise check.error(f"{key}.{api}", f"names API {api!r}, which apis does not define.",
                                  f"use one of: {', '.join(apis) or '(no APIs)'}.")
            for name, value in check.mapping(f"{key}.{api}", secrets).items():
                path = f"{key}.{api}.{name}"
                if not isinstance(name, str) or not SECRET_NAME_PATTERN.match(name):
                    raise check.error(path, f"{name!r} is not a compose secret name.",
                                      "use the name from the compose file's top-level secrets:.")
                if name in found.get(api, {}):
                    raise check.error(path, f"the secret {name} of API {api} is set in both secretValues and "
                                            "secretArns.", "keep one: the stack's own copy (secretValues) or the "
                                                           "existing secret (secretArns).")
                if key == "secretArns":
                    how = "the complete ARN of the existing Secrets Manager secret"
                    secret = StackSecret(api, name, arn=secret_arn(check, path, value, how))
                else:
                    if value is None or isinstance(value, (bool, int, float, dict, list)) or value == "":
                        raise check.error(path, "expected the secret's value, a non-empty string.",
                                          f"run `{set_value_command(api, name)}`.")
                    secret = StackSecret(api, name, value=value)
                found.setdefault(api, {})[name] = secret
    return found


def provided_hint(stack: str, api: str, name: str) -> str:
    """How to provide a compose secret from the stack instead of a file (the two team routes)."""
    return (f"or, without the file (CI, a teammate), store the value as an encrypted stack config secret: "
            f"`{set_value_command(api, name)}` (stack {stack}); or use an existing Secrets Manager secret, which "
            f"the stack never reads or rewrites: secretArns: {{{api}: {{{name}: <secret ARN>}}}} in "
            f"stacks/Pulumi.{stack}.yaml.")


def secret_arn(check: Any, path: str, value: Any, what: str | None = None) -> str:
    """A complete Secrets Manager secret ARN at ``path`` (dockerHubCredentials, secretArns.*), or ConfigError."""
    how = (what or "the complete ARN of a Secrets Manager secret holding {\"username\": ..., \"password\": ...}") + \
        ", as `aws secretsmanager describe-secret --secret-id NAME --query ARN` prints it"
    arn = check.string(path, value, what=how).strip()
    if not SECRET_ARN_PATTERN.match(arn):
        raise check.error(path, f"{arn!r} is not a Secrets Manager secret ARN "
                                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>).", f"use {how}.")
    if not SECRET_ARN_SUFFIX.search(arn):
        raise check.error(path, f"{arn!r} lacks the 6 random characters that end a complete secret ARN, so IAM "
                                "would not grant reading it.", f"use {how}.")
    return arn


# Stack config keys that hold credentials: accepted only as Pulumi secrets (issue 23). `pulumi config set --path`
# without `--secret`, or a hand edit, would otherwise leave the value in plain text in a committed stack file.
ENCRYPTED_KEYS = ("secretValues", "githubToken")
NAMESPACE_PREFIX = "serverless-containers:"


def plain_text_leaves(value: Any, path: str) -> list[str]:
    """The paths under ``value``, as a stack file holds it, that are not encrypted (``{secure: ...}`` is)."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return []
        return [leaf for key, item in value.items() for leaf in plain_text_leaves(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in plain_text_leaves(item, f"{path}[{index}]")]
    return [] if value is None else [path]


def _encrypt_command(path: str, stack: str) -> str:
    flag = "" if "." not in path else "--path "
    quoted = f"'{path}'" if flag else path
    return f"pulumi config set --secret {flag}{quoted} <value> --stack {stack}"


def refuse_plain_text_secrets(values: Mapping[str, Any], *, is_secret: Callable[[str], bool],
                              stack_file_config: Mapping[str, Any] | None, config_file: str, stack: str) -> None:
    """ConfigError when ``secretValues`` or ``githubToken`` is not a Pulumi secret.

    ``values``: the stack's values by key (as the program reads them); ``is_secret(key)``: whether the engine marked
    the key secret (it marks a map secret when any value in it is, so a plain value beside an encrypted one shows
    only in the file); ``stack_file_config``: the stack file's ``config:`` map as written (encrypted values
    ``{secure: ...}``), None when unknown."""
    for key in ENCRYPTED_KEYS:
        written = (stack_file_config or {}).get(NAMESPACE_PREFIX + key)
        leaves = plain_text_leaves(written, key) if written is not None else []
        if values.get(key) is not None and not is_secret(key) and not leaves:
            leaves = plain_text_leaves(values[key], key) or [key]
        if not leaves:
            continue
        commands = "; ".join(f"`{_encrypt_command(leaf, stack)}`" for leaf in leaves[:3])
        raise ConfigError(
            f"{', '.join(leaves)} {'is' if len(leaves) == 1 else 'are'} stored in plain text, so anyone who can read "
            f"the stack file (or its Git history) has {'it' if len(leaves) == 1 else 'them'}.",
            file=config_file, key=NAMESPACE_PREFIX + leaves[0],
            fix=f"store {'it' if len(leaves) == 1 else 'each'} encrypted, which replaces the plain value: {commands}"
                f"{' (and the rest alike)' if len(leaves) > 3 else ''}; then rotate the value if the file was ever "
                f"committed.")
