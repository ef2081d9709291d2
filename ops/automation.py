"""Deploy this project from your own Python script, through the Pulumi Automation API.

The design's second way in (besides `pulumi up` per environment): one function that selects the stack of this
project folder (creating it the first time), sets the config you pass, runs `pulumi up` with the project's cost
guardrails, and returns the stack outputs as plain values. `python -m ops up` is one client of it;
``scripts/deploy_and_promote.py`` is another (deploy dev, smoke-call its URL, then promote to prod)::

    from ops.automation import deploy

    outputs = deploy("dev", config={"aws:region": "eu-west-1", "fargateSpot": True},
                     secrets={"secretValues.multi.API_TOKEN": os.environ["API_TOKEN"]})
    print(outputs["apis"]["posts"]["url"])

Needs the Pulumi CLI on PATH and a logged-in backend (`pulumi login`), like `pulumi up` itself, and AWS credentials
for the engine. Failures raise ``ops.errors.OpsError`` with one clear message (no Automation API traceback);
a bad stack config raises ``components.errors.ConfigError`` naming the file and key.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from ops.errors import OpsError
from ops.project import PROJECT, PROJECT_DIR
from ops.stack import workspace


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
            if not isinstance(value, str) or not value:
                raise OpsError(f"secret {key}: expected its value as a non-empty string.")
            handle.set_config(config_key(key), ConfigValue(value=value, secret=True), path="." in key)


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
    """
    handle = workspace.open_stack(stack, project_dir=project_dir, create=True)
    set_config(handle, stack, config, secrets)
    result = workspace.run("up", stack, project_dir=project_dir, progress=progress, use_policies=policies,
                           handle=handle)
    return plain_outputs(result.outputs)


__all__ = ["deploy", "set_config", "plain_outputs", "config_key"]
