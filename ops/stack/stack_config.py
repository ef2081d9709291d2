"""Reading, validating and editing ``stacks/Pulumi.<stack>.yaml``.

Edits are round-trip (ruamel.yaml): the user's comments, key order and other keys survive an
``add api``. Validation is the program's own (``components.settings.load_settings``), so the CLI
refuses exactly the configs that ``pulumi up`` would refuse.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from components.errors import ConfigError
from components.settings import load_settings
from components.settings.regions import REGION_KEY, check_region
from components.settings.secrets import refuse_plain_text_secrets
from ops.project import PROJECT, PROJECT_DIR
from ops.stack import stack_file

NAMESPACE = f"{PROJECT}:"

# What an encrypted (`secure:`) value reads as offline: only the Pulumi CLI can decrypt it.
MOCK_SECRET_PLACEHOLDER = "mock-secret-value"


def path_of(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / "stacks" / f"Pulumi.{stack}.yaml"


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode: keeps comments, order and quoting
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_document(stack: str, project_dir: Path = PROJECT_DIR):
    """The whole file as a round-trip document (a new one when the file does not exist)."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    path = path_of(stack, project_dir)
    if not path.is_file():
        document = CommentedMap()
        document["config"] = CommentedMap()
        return document
    # The same checks and messages as every other command (line, fix; binary content; duplicate keys) first.
    stack_file.read(path)
    try:
        document = _yaml().load(path.read_text())
    except YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=str(path), fix="repair the file, then run the command again.")
    if document is None:
        document = CommentedMap()
    if not isinstance(document, dict):
        raise ConfigError("the file should be a map with a 'config:' key.", file=str(path))
    if document.get("config") is None:
        document["config"] = CommentedMap()
    return document


def dump_document(document) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def write_document(stack: str, document, project_dir: Path = PROJECT_DIR) -> Path:
    """Write atomically, so an interrupted write never leaves half a config behind."""
    path = path_of(stack, project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(dump_document(document))
    temporary.replace(path)
    return path


def plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists; encrypted values as a placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return MOCK_SECRET_PLACEHOLDER
        return {str(k): _plain_child(v, value) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_child(v, value) for v in value]
    return value


def _plain_child(child: Any, parent: Any) -> Any:
    """ruamel reads YAML 1.2, where an unquoted `yes` is text; the Pulumi CLI reads YAML 1.1 and hands the program
    a boolean. Only ruamel's own containers tell a quoted scalar (a str subclass, text for both) from a plain one."""
    from ruamel.yaml.comments import CommentedBase

    child = plain(child)
    return stack_file.go_yaml_scalar(child) if isinstance(parent, CommentedBase) else child


def project_values(config: dict[str, Any]) -> dict[str, Any]:
    """The project's own keys without the namespace, as ``pulumi.Config`` hands them to the program."""
    values = {}
    for key, value in config.items():
        if key.startswith(NAMESPACE):
            values[key[len(NAMESPACE):]] = value
        elif ":" not in key:
            values[key] = value
    return values


def _as_written(value: Any) -> Any:
    """``value`` with the offline placeholder of an encrypted value turned back into ``{secure: ...}``: a file
    holding the placeholder in plain text was refused when it was read (load_stack_config)."""
    if value == MOCK_SECRET_PLACEHOLDER:
        return {"secure": MOCK_SECRET_PLACEHOLDER}
    if isinstance(value, dict):
        return {k: _as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_written(v) for v in value]
    return value


def validate(config: dict[str, Any], *, stack: str, project_dir: Path = PROJECT_DIR) -> Any:
    """Check a full ``config:`` map the way the program will; returns the typed ``StackSettings``."""
    if config.get(REGION_KEY) is not None:
        check_region(config[REGION_KEY], str(path_of(stack, project_dir)))
    # what the file says is encrypted ({secure: ...}, or the placeholder plain() and load_stack_config put there) is
    # what the engine will hand the program as a secret
    refuse_plain_text_secrets(project_values(config), is_secret=lambda key: True,
                              stack_file_config=_as_written(config), stack=stack,
                              config_file=f"stacks/Pulumi.{stack}.yaml")
    return load_settings(project_values(plain(config)), project_dir, stack)


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], list[str]]:
    """The ``config:`` map of ``stacks/Pulumi.<stack>.yaml``, and the keys that were encrypted.

    Encrypted (``secure:``) values cannot be read without the Pulumi CLI; they become a placeholder.
    """
    path = path_of(stack, project_dir)
    if not path.is_file():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (project_dir / "stacks").glob("Pulumi.*.yaml"))
        raise ConfigError(f"no stack config for stack '{stack}'.", file=str(path),
                          fix=f"use one of: {', '.join(available) or '(none)'}, or create the file.")
    document = stack_file.read(path)     # a ConfigError naming the line for broken YAML, binary or duplicate keys
    written = document.get("config") or {}
    # a credential key in plain text is refused as the program refuses it (issue 23), naming each plain value
    refuse_plain_text_secrets(project_values(written), is_secret=lambda key: True, stack_file_config=written,
                              stack=stack, config_file=f"stacks/Pulumi.{stack}.yaml")
    config, secret_keys = {}, []
    for key, value in (document.get("config") or {}).items():
        found: list[bool] = []
        value = _placeholders(value, found)     # nested too: `pulumi config set --secret --path a.b.c`
        if found:
            secret_keys.append(key)
        config[key] = value
    if config.get(REGION_KEY) is not None:
        check_region(config[REGION_KEY], str(path))
    return config, secret_keys


def _placeholders(value: Any, found: list[bool]) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        found.append(True)
        return MOCK_SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, found) for v in value]
    return value
