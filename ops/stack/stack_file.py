"""Reading ``stacks/Pulumi.<stack>.yaml`` safely: every way the file can be broken is one ``ConfigError``.

Every command that reads a stack file (``plan``, ``up``, ``local``, ``client-config``, ``add``) goes
through :func:`read`, so a YAML syntax error, a tab indent, binary content or a key written twice
ends in the same one-paragraph message naming the file, the line and the fix (exit 2), never a
traceback. A duplicate key is refused because YAML would silently keep only the last value (the
Pulumi CLI refuses it too).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from components.errors import ConfigError

RESTORE = "restore it from Git (`git checkout -- {path}`) or write it again as YAML text"


def _loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """PyYAML's safe loader, refusing a key written twice in one map."""

        def construct_mapping(self, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _value_node in node.value:
                key = self.construct_object(key_node, deep=deep)
                line = key_node.start_mark.line + 1
                try:
                    hash(key)
                except TypeError:
                    continue            # PyYAML itself reports unhashable keys
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    # The Pulumi CLI reads stack files with Go's gopkg.in/yaml.v2 (YAML 1.1), which also takes a plain y/Y/n/N as a
    # boolean, and hands the program that boolean (docs/design.md, "Stack config contract"). PyYAML's 1.1 list
    # lacks those four: without them the plan would refuse `auth: y` that a deploy accepts.
    UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
    UniqueKeyLoader.add_constructor("tag:yaml.org,2002:bool", _construct_go_yaml_bool)
    return UniqueKeyLoader


# gopkg.in/yaml.v2's booleans (resolve.go), spelled exactly as it takes them.
GO_YAML_BOOLEANS = {**dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
                    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False)}


def _construct_go_yaml_bool(loader, node) -> bool:
    text = loader.construct_scalar(node)
    return GO_YAML_BOOLEANS.get(text, text.lower() in ("yes", "true", "on", "y"))   # an explicit !!bool tag


def go_yaml_scalar(value):
    """A plain (unquoted) scalar ``value`` from a YAML 1.2 reader (ruamel), as the Pulumi CLI reads it."""
    return GO_YAML_BOOLEANS.get(value, value) if type(value) is str else value


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first: int, second: int):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


def parse(text: str, path: Path | str) -> Any:
    """``text`` as YAML; a ``ConfigError`` naming ``path`` and the line for anything YAML cannot read."""
    import yaml

    name = str(path)
    try:
        return yaml.load(text, Loader=_loader())   # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as duplicate:
        raise ConfigError(f"line {duplicate.second}: the key {duplicate.key!r} is already set on line "
                          f"{duplicate.first}; YAML would silently keep only the last one.", file=name,
                          key=str(duplicate.key),
                          fix="keep one of the two (merge their values), then run the command again.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context:
            problem += f" ({context}" + (f" that starts on line {context_mark.line + 1}"
                                         if context_mark is not None else "") + ")"
        if "'\\t'" in problem or "\t" in (text.splitlines()[mark.line] if mark is not None and
                                           mark.line < len(text.splitlines()) else ""):
            fix = "indent with spaces, not tabs (YAML does not allow tabs for indentation)."
        else:
            fix = "repair the YAML there (indentation, a missing ':' or an unclosed quote or bracket), then run the command again."
        raise ConfigError(f"{line}not valid YAML: {problem}.", file=name, fix=fix) from None


def read(path: Path) -> dict:
    """The stack file at ``path`` as a plain dict (``{}`` when empty); ``ConfigError`` when unreadable."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read the stack file: {error.strerror or error}.", file=name,
                          fix="check that it is a readable file.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"line {line}: this is not text (byte 0x{data[error.start]:02x} is not UTF-8); a stack "
                          "file is YAML text.", file=name, fix=RESTORE.format(path=name) + ".") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ConfigError(f"line {line}: the file holds binary data (a NUL byte); a stack file is YAML text.",
                          file=name, fix=RESTORE.format(path=name) + ".")
    document = parse(text, path)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"the file is {type(document).__name__} YAML, not a map with a 'config:' key.", file=name,
                          fix="write it as `config:` followed by indented `key: value` lines "
                              "(see stacks/Pulumi.dev.yaml).")
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise ConfigError("'config:' should hold a map of `key: value` lines.", file=name, key="config",
                          fix="indent the settings under config:, e.g. `  aws:region: us-east-1`.")
    return document
