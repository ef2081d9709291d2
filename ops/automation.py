"""Deploy this project from your own Python script, through the Pulumi Automation API.

The design's second way in (besides `pulumi up` per environment): one function that selects the stack of this
project folder (creating it the first time), sets the config you pass, runs `pulumi up` with the project's cost
guardrails, and returns the stack outputs as plain values. `python -m ops up` is one client of it;
``scripts/deploy_and_promote.py`` is another (deploy dev, smoke-call its URL, then promote to prod)::

    from ops.automation import deploy

    outputs = deploy("dev", config={"aws:region": "eu-west-1", "fargateSpot": True},
                     secrets={"secretValues.multi.API_TOKEN": os.environ["API_TOKEN"]})
    print(outputs["apis"]["posts"]["url"])

From a script outside this folder, install the checkout once (``.venv/bin/python -m pip install -e .``,
pyproject.toml) and run the script with that Python.

Needs the Pulumi CLI on PATH and a logged-in backend (`pulumi login`), like `pulumi up` itself, and AWS credentials
for the engine. A caller catches two exception types, both importable from here, each with one clear message
(no Automation API traceback):

- ``ConfigError`` (components.errors): the stack config, merged with what you pass, is invalid, or a secret was
  passed as plain ``config``. Raised before the Pulumi CLI is even looked for, as `ops up` does; nothing ran.
- ``OpsError`` (ops.errors): no Pulumi CLI, not logged in, another update running, the deploy failed.
  ``error.exit_code`` is the exit code `ops` itself would use.

``config`` and ``secrets`` are written into ``stacks/Pulumi.<stack>.yaml`` (`pulumi config set` does that), so a later
`pulumi up` or `ops plan` sees them; ``secrets`` encrypted (``secure:``), never in plain text.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from components.errors import ConfigError
from components.settings.secrets import ENCRYPTED_KEYS
from ops.errors import OpsError
from ops.project import PROJECT, PROJECT_DIR
from ops.stack import stack_config, stack_file, workspace
from ops.stack.stack_config import MOCK_SECRET_PLACEHOLDER, load_stack_config



def config_key(key: str) -> str:
    """`fargateSpot` -> `serverless-containers:fargateSpot`; keys with a namespace (`aws:region`) stay as they are."""
    return key if ":" in key.split(".", 1)[0] else f"{PROJECT}:{key}"


def config_text(value: Any) -> str:
    """A config value as the engine hands it to the program: text, structured values (and booleans) as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise OpsError(f"config value {value!r} cannot be written to the stack config (use text, numbers, "
                       "booleans, lists or maps).") from None


def set_config(handle: Any, stack: str, config: Mapping[str, Any] | None = None,
               secrets: Mapping[str, str] | None = None) -> None:
    """Write ``config`` (plain) and ``secrets`` (encrypted) into the stack's config, key by key.

    A plain value replaces the whole key (maps and lists included). A secret key may be a path
    (`secretValues.multi.API_TOKEN`), as `pulumi config set --secret --path` takes it."""
    from pulumi.automation import ConfigValue

    with workspace.clear_automation_errors("setting the stack config", stack):
        for key, value in (config or {}).items():
            handle.set_config(config_key(key), ConfigValue(value=config_text(value), secret=False), path=False)
        for key, value in (secrets or {}).items():
            _require_secret_text(key, value)
            handle.set_config(config_key(key), ConfigValue(value=value, secret=True), path="." in key)


def _require_secret_text(key: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise OpsError(f"secret {key}: expected its value as a non-empty string.")


def _as_the_program_reads(value: Any) -> Any:
    """What the program gets for a passed value: the engine hands it text, which the program parses as JSON when
    it can (components/program.py, read_raw_config)."""
    text = config_text(value)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text_leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _text_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _text_leaves(item)]
    return [value] if isinstance(value, str) else []


def refuse_plain_secrets(stack: str, config: Mapping[str, Any] | None,
                         project_dir: Path = PROJECT_DIR) -> None:
    """A secret passed as plain ``config`` would land in the stack file in plain text: refuse it, by key (the
    program's secret keys) and by value (a live token format or a URL with a password, policies/secret_values.py)."""
    from policies.secret_values import secret_kinds

    file = str(stack_config.path_of(stack, project_dir))
    for key, value in (config or {}).items():
        name = config_key(key)
        short = name[len(f"{PROJECT}:"):] if name.startswith(f"{PROJECT}:") else ""
        if short.split(".", 1)[0] in ENCRYPTED_KEYS:   # the keys the program takes only as secrets
            raise ConfigError(f"deploy(config=...) would write the secret {key!r} into the stack file in plain text.",
                              file=file, key=key, fix=f"pass it as deploy(..., secrets={{{key!r}: ...}}): "
                              "secrets are stored encrypted.")
        for leaf in _text_leaves(value):
            kinds = secret_kinds(leaf)
            if kinds:
                raise ConfigError(f"deploy(config=...): the value of {key!r} looks like a live credential "
                                  f"({', '.join(kinds)}) and would be written into the stack file in plain text.",
                                  file=file, key=key, fix="pass it in secrets= (stored encrypted), or reference a "
                                  "Secrets Manager secret (secretArns).")


def _set_path(config: dict[str, Any], key: str, value: Any) -> None:
    """`serverless-containers:secretValues.multi.API_TOKEN` -> config["serverless-containers:secretValues"]["multi"]
    ["API_TOKEN"], as `pulumi config set --path` nests it."""
    first, *rest = key.split(".")
    if not rest:
        config[first] = value
        return
    def is_map(node: Any) -> bool:      # a whole encrypted map ({secure: ...}) is replaced, as the CLI does
        return isinstance(node, dict) and set(node) != {"secure"}

    node = config.get(first)
    if not is_map(node):
        node = config[first] = {}
    for part in rest[:-1]:
        child = node.get(part)
        if not is_map(child):
            child = node[part] = {}
        node = child
    node[rest[-1]] = value


def check_config(stack: str, *, config: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None,
                 project_dir: Path = PROJECT_DIR) -> Any:
    """The stack file with ``config`` and ``secrets`` applied, checked as the program will check it (every app
    loaded too): a ConfigError before any tool runs. Returns the typed settings.

    Secret values are not needed for the check: each stands in as an encrypted (``secure:``) value would."""
    refuse_plain_secrets(stack, config, project_dir)
    for key, value in (secrets or {}).items():
        _require_secret_text(key, value)
    # A stack without a file yet is checked on what is passed, when that names its APIs; otherwise the missing
    # file is the mistake (a misspelt stack name), and load_stack_config says which stacks exist.
    has_file = stack_config.path_of(stack, project_dir).is_file()
    if not has_file and not (project_dir / "Pulumi.yaml").is_file():
        # e.g. a non-editable install: the modules' folder is site-packages, with no project to deploy
        raise OpsError(f"{project_dir} is not this Pulumi project (no Pulumi.yaml). Install the checkout editable "
                       "(`.venv/bin/python -m pip install -e .` in it), or pass project_dir=<the checkout>.")
    if not has_file and any(config_key(key) == f"{PROJECT}:apis" for key in config or {}):
        merged: dict[str, Any] = {}
    else:
        load_stack_config(stack, project_dir)    # its checks and messages: YAML, duplicate keys, region, plain secrets
        # as written, so encrypted values stay `secure:` (validate() reads them as the engine would: secrets)
        merged = dict(stack_file.read(stack_config.path_of(stack, project_dir)).get("config") or {})
    for key, value in (config or {}).items():
        name = config_key(key)
        merged[name] = _as_the_program_reads(value) if name.startswith(f"{PROJECT}:") else config_text(value)
    for key in secrets or {}:
        _set_path(merged, config_key(key), {"secure": MOCK_SECRET_PLACEHOLDER})
    settings = stack_config.validate(merged, stack=stack, project_dir=project_dir)
    # Loading every app (compose files, Dockerfiles) is the program's own first step.
    from components.prepare import prepare

    prepare(settings)
    return settings


def plain_outputs(outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Automation API's ``OutputValue``s as plain values (this stack exports no secrets)."""
    return {key: getattr(value, "value", value) for key, value in (outputs or {}).items()}


def deploy(stack: str, *, config: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None,
           project_dir: Path = PROJECT_DIR, policies: bool = True,
           progress: workspace.EngineProgress | None = None) -> dict[str, Any]:
    """Select (or create) ``stack`` of the project in ``project_dir``, set config, `pulumi up`, return the outputs.

    config: short keys (`fargateSpot`) or namespaced ones (`aws:region`); values as in the stack file.
    secrets: keys (paths allowed) whose values are stored encrypted in the stack config.
    policies: run the project's cost-guardrail policy pack with `policies/config/<stack>.json` (default).
    progress: where the engine's output and progress go (default: stdout and stderr).
    Returns the stack outputs (`apis`, `region`, `userPoolId`, `userPoolClientId`; docs/design.md) as plain values.
    Raises ConfigError (bad config; before anything else, the Pulumi CLI included) or OpsError (everything else).
    """
    check_config(stack, config=config, secrets=secrets, project_dir=project_dir)
    handle = workspace.open_stack(stack, project_dir=project_dir, create=True)
    set_config(handle, stack, config, secrets)
    result = workspace.run("up", stack, project_dir=project_dir, progress=progress, use_policies=policies,
                           handle=handle)
    return plain_outputs(result.outputs)


__all__ = ["deploy", "check_config", "set_config", "plain_outputs", "config_key", "ConfigError", "OpsError"]
