"""Reading compose YAML the way Docker Compose reads it.

PyYAML is the parser: it is the best-kept pure-Python YAML library and its ``SafeLoader`` never
builds arbitrary objects. Docker Compose (Go, yaml.v3) reads YAML 1.2, PyYAML reads YAML 1.1, and
the difference matters for compose files: ``8000:80`` is a base-60 integer in YAML 1.1 but the
string ``"8000:80"`` in YAML 1.2, and ``on``/``yes``/``no`` are booleans only in 1.1. So the loader
below is a ``SafeLoader`` subclass with YAML 1.2 core-schema resolvers, duplicate-key detection
(yaml.v3 rejects duplicate keys too), and the two compose tags:

* ``!reset`` removes the value inherited from an earlier file or an ``extends`` base;
* ``!override`` replaces it instead of merging.

Both are kept as marker objects (:class:`Reset`, :class:`Override`) until the merge applies them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from components.errors import ConfigError

# Alias expansion can make a small file describe an enormous tree ("billion laughs"); nothing
# legitimate comes near this many nodes.
MAX_NODES = 200_000
MAX_DEPTH = 200


class Reset:
    """``!reset``: drop whatever an earlier file or an extends base set for this key."""

    def __repr__(self) -> str:
        return "!reset"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reset)

    def __hash__(self) -> int:
        return hash("!reset")


class Override:
    """``!override VALUE``: replace the earlier value instead of merging into it."""

    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        return f"!override {self.value!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Override) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("!override", repr(self.value)))


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class ComposeYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars, duplicate-key errors and the compose tags."""


# YAML 1.2 core schema: only true/false are booleans, no base-60 numbers, no timestamps.
ComposeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ComposeYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
# Docker Compose's parser (yaml.v3) also reads 1_000 as 1000, and refuses an unquoted date where a string belongs.
ComposeYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"))
ComposeYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
               r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$"),
    list("0123456789"))
ComposeYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if len(text.lstrip("+-")) > 1 and text.lstrip("+-").startswith("0"):
        return int(text, 8) if re.fullmatch(r"[-+]?0[0-7]+", text) else int(text.lstrip("0") or "0")
    return int(text)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"the unquoted date {node.value!r} is a timestamp to Docker Compose's YAML parser, which refuses "
                    f"it where text belongs; quote it: \"{node.value}\"", node.start_mark)


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    # Keys written in this mapping may override keys merged in with `<<: *anchor`, but not each other.
    explicit = {id(key_node) for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    result: dict[str, Any] = {}
    written: set[str] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if isinstance(key, (list, dict)):
            raise _DuplicateKey("while reading a mapping", node.start_mark,
                                "a mapping key must be a plain value, not a list or mapping", key_node.start_mark)
        text = _key_text(key)
        if id(key_node) in explicit:
            if text in written:
                raise _DuplicateKey("while reading a mapping", node.start_mark,
                                    f"the key {text!r} appears twice", key_node.start_mark)
            written.add(text)
        result[text] = loader.construct_object(value_node, deep=False)
    return result


def _construct_mapping_lazy(loader: yaml.SafeLoader, node: yaml.MappingNode):
    data: dict = {}
    yield data
    data.update(_construct_mapping(loader, node))


def _construct_reset(loader: yaml.SafeLoader, node: yaml.Node) -> Reset:
    return Reset()


def _construct_override(loader: yaml.SafeLoader, node: yaml.Node) -> Override:
    if isinstance(node, yaml.MappingNode):
        return Override(_construct_mapping(loader, node))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_object(_retag(loader, node)))


def _retag(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> yaml.ScalarNode:
    """The plain scalar under ``!override`` resolved as if it had no tag."""
    tag = loader.resolve(yaml.ScalarNode, node.value, (node.style is None, False))
    return yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)


ComposeYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
ComposeYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
ComposeYamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping_lazy)
ComposeYamlLoader.add_constructor("!reset", _construct_reset)
ComposeYamlLoader.add_constructor("!override", _construct_override)


def _yaml_problem(error: yaml.YAMLError, source: str) -> tuple[str, str]:
    """What is wrong and where, and the fix. A quote left open is found only where the scanner gives up (often
    the end of the file), so that one is placed where the quote opens."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    opened = getattr(error, "context_mark", None)
    if context and "quoted scalar" in context and opened is not None:
        found = f" at line {mark.line + 1}" if mark is not None else ""
        return (f"is not valid YAML (line {opened.line + 1}, column {opened.column + 1}): a quoted value opens "
                f"there and is never closed ({problem}{found})",
                f"close the quote on line {opened.line + 1} (or escape the quote inside the value).")
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    text = f"{context}: {problem}" if context else str(problem)
    # A quote left open mid-file swallows the lines after it, up to the next quote: the error shows up later.
    suspect = _open_quote_line(source, mark.line) if mark is not None else None
    if suspect is not None:
        return (f"is not valid YAML{where}: {text}; line {suspect} opens a quote it does not close",
                f"close the quote on line {suspect}, or fix the YAML syntax at line {mark.line + 1}.")
    return f"is not valid YAML{where}: {text}", "fix the YAML syntax at that line."


def _open_quote_line(source: str, last: int) -> int | None:
    """The first line up to index ``last`` with an odd number of double quotes (after removing escaped ones)."""
    for number, line in enumerate(source.splitlines()[:last + 1], start=1):
        code = line.split(" #", 1)[0].replace('\\"', "")
        if code.lstrip().startswith("#") or "'" in code:
            continue
        if code.count('"') % 2:
            return number
    return None


def _probe(path: Path, test) -> bool:
    """``Path.is_file()`` and friends raise for names that are too long or hold NUL bytes."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def is_file(path: Path) -> bool:
    return _probe(path, Path.is_file)


def is_dir(path: Path) -> bool:
    return _probe(path, Path.is_dir)


def exists(path: Path) -> bool:
    return _probe(path, Path.exists)


def real_path(path: Path) -> Path:
    """``path.resolve()`` that never raises (symlink loops, NUL bytes): the plain path then."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path


def read_text(path: Path, *, what: str = "compose file") -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"the {what} does not exist.", file=str(path),
                          fix="check the file name and the folder it is relative to.") from None
    except IsADirectoryError:
        raise ConfigError(f"the {what} is a folder, not a file.", file=str(path)) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"the {what} cannot be read: {getattr(error, 'strerror', None) or error}.",
                          file=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"the {what} is not UTF-8 text (byte {error.start}).", file=str(path),
                          fix="save it as UTF-8.") from None


def check_tree(value: Any, file: str) -> None:
    """Refuse self-referencing aliases, absurd nesting and alias bombs before anything walks the tree."""
    count = 0
    stack: list[tuple[Any, int, frozenset]] = [(value, 0, frozenset())]
    while stack:
        item, depth, parents = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ConfigError(f"the document expands to more than {MAX_NODES} values (YAML aliases?).", file=file,
                              fix="write the values out instead of nesting aliases.")
        if depth > MAX_DEPTH:
            raise ConfigError(f"the document is nested more than {MAX_DEPTH} levels deep.", file=file)
        if isinstance(item, Override):
            item = item.value
        if isinstance(item, (dict, list)):
            if id(item) in parents:
                raise ConfigError("a YAML alias refers to itself (a recursive structure).", file=file,
                                  fix="remove the self-referencing anchor/alias.")
            inner = parents | {id(item)}
            children = item.values() if isinstance(item, dict) else item
            for child in children:
                stack.append((child, depth + 1, inner))


def _flow_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting outside quotes. PyYAML's scanner slows down quadratically with
    flow nesting, so absurd depths are refused before parsing."""
    depth = deepest = 0
    quote = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            quote = None
    return deepest


def parse_documents(text: str, file: str) -> list[Any]:
    """Every YAML document of a compose file (Compose merges several in one file in order)."""
    if _flow_depth(text) > MAX_DEPTH:
        raise ConfigError(f"the document is nested more than {MAX_DEPTH} levels deep.", file=file)
    try:
        documents = list(yaml.load_all(text, Loader=ComposeYamlLoader))
    except yaml.YAMLError as error:
        message, fix = _yaml_problem(error, text)
        raise ConfigError(message, file=file, fix=fix) from None
    except (ValueError, TypeError, OverflowError) as error:   # e.g. a float too large for a float
        raise ConfigError(f"is not valid YAML: {error}.", file=file) from None
    documents = [document for document in documents if document is not None]
    for document in documents:
        check_tree(document, file)
    return documents
