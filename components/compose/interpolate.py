"""Variable interpolation and env files, as the Compose specification defines them.

Interpolation (``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``,
``${VAR:+alt}``, ``${VAR+alt}``, ``$VAR`` and ``$$``) is a small recursive-descent parser rather
than a regular expression, because defaults may nest (``${A:-${B:-x}}``). No maintained Python
library implements Compose's exact grammar (python-dotenv's expander knows only ``:-``).

Env files (``.env`` and ``env_file:``) are parsed by python-dotenv, whose parser follows the same
quoting rules as Compose's (single quotes are literal, double quotes take escapes, ``export``
prefixes, inline comments). Its parser is used directly, so a malformed line becomes a
``ConfigError`` instead of a logged-and-ignored line, and single-quoted values are kept literal.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from typing import Any

from dotenv.parser import parse_stream

from components.compose.documents import Override, Reset, read_text
from components.compose.values import short
from components.errors import ConfigError

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(Exception):
    """Raised inside the parser; the caller turns it into a ConfigError with a location."""


class _Template:
    def __init__(self, text: str, lookup: Callable[[str], str | None], unset: Callable[[str], None]):
        self.text = text
        self.lookup = lookup
        self.unset = unset

    def render(self) -> str:
        value, position = self._sequence(0, stop_at_brace=False)
        return value

    def _sequence(self, position: int, *, stop_at_brace: bool) -> tuple[str, int]:
        text = self.text
        out: list[str] = []
        while position < len(text):
            char = text[position]
            if char == "}" and stop_at_brace:
                return "".join(out), position
            if char != "$":
                out.append(char)
                position += 1
                continue
            following = text[position + 1:position + 2]
            if following == "$":
                out.append("$")
                position += 2
            elif following == "{":
                value, position = self._braced(position + 2)
                out.append(value)
            else:
                match = _NAME.match(text, position + 1)
                if not match:   # Compose leaves a '$' that starts no variable as it is
                    out.append("$")
                    position += 1
                    continue
                out.append(self._value(match.group(0)))
                position = match.end()
        if stop_at_brace:
            raise InterpolationError("a '${' without its closing '}'")
        return "".join(out), position

    def _value(self, name: str) -> str:
        value = self.lookup(name)
        if value is None:
            self.unset(name)
            return ""
        return value

    def _braced(self, position: int) -> tuple[str, int]:
        text = self.text
        match = _NAME.match(text, position)
        if not match:
            raise InterpolationError(f"'${{' must be followed by a variable name (at position {position})")
        name = match.group(0)
        position = match.end()
        if position >= len(text):
            raise InterpolationError("a '${' without its closing '}'")
        if text[position] == "}":
            return self._value(name), position + 1
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is None:
            raise InterpolationError(f"unexpected {text[position]!r} after ${{{name}")
        argument, end = self._sequence(position + len(operator), stop_at_brace=True)
        value = self.lookup(name)
        colon = operator.startswith(":")
        missing = value is None or (colon and value == "")
        kind = operator[-1]
        if kind == "-":
            result = argument if missing else value
        elif kind == "+":
            result = "" if missing else argument
        else:  # "?"
            if missing:
                reason = argument or f"variable {name} is {'unset or empty' if colon else 'unset'}"
                raise _RequiredVariable(name, reason)
            result = value
        return result, end + 1


class _RequiredVariable(InterpolationError):
    def __init__(self, name: str, reason: str):
        super().__init__(reason)
        self.name = name
        self.reason = reason


def interpolate_string(text: str, variables: Mapping[str, str], on_unset: Callable[[str], None]) -> str:
    """One string, with the parser's errors as ``InterpolationError``."""
    if "$" not in text:
        return text
    return _Template(text, variables.get, on_unset).render()


def interpolate_tree(value: Any, variables: Mapping[str, str], *, file: str,
                     on_unset: Callable[[str, str], None], path: tuple = ()) -> Any:
    """Interpolate every string value (never keys) of a parsed compose document."""
    if isinstance(value, str):
        try:
            return interpolate_string(value, variables, lambda name: on_unset(name, _dotted(path)))
        except _RequiredVariable as error:
            service, key = _service_and_key(path)
            raise ConfigError(f"required variable {error.name} is missing: {error.reason}.", file=file,
                              service=service, key=key,
                              fix=f"set {error.name} in the environment or in the .env file.") from None
        except InterpolationError as error:
            service, key = _service_and_key(path)
            raise ConfigError(f"invalid interpolation in {short(value)}: {error}.", file=file, service=service, key=key,
                              fix="write a literal '$' as '$$'; use ${NAME}, ${NAME:-default} or ${NAME:?message}.") from None
    if isinstance(value, dict):
        return {key: interpolate_tree(item, variables, file=file, on_unset=on_unset, path=path + (key,))
                for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate_tree(item, variables, file=file, on_unset=on_unset, path=path + (index,))
                for index, item in enumerate(value)]
    if isinstance(value, Override):
        return Override(interpolate_tree(value.value, variables, file=file, on_unset=on_unset, path=path))
    return value


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _service_and_key(path: tuple) -> tuple[str | None, str | None]:
    if len(path) >= 2 and path[0] == "services":
        return str(path[1]), _dotted(path[2:]) or None
    return None, _dotted(path) or None


_COLON_LINE = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*)\s*:\s(.*)$")
_QUOTED_LINE = re.compile(r'^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*)"((?:[^"\\]|\\.)*)"(.*)$')


def compose_dotenv_text(text: str) -> str:
    """An env file's lines as Docker Compose's dotenv parser reads them, rewritten for python-dotenv's:
    ``KEY: value`` is ``KEY=value``; in a double-quoted value ``\\$`` is a literal ``$`` (``$$`` for our
    interpolation); text after the closing quote (``Q="x"y``) is dropped, as Compose drops it."""
    lines = []
    for line in text.split("\n"):
        colon = _COLON_LINE.match(line)
        if colon and "=" not in colon.group(1):
            line = f"{colon.group(1)}={colon.group(2)}"
        quoted = _QUOTED_LINE.match(line)
        if quoted:
            value = quoted.group(2).replace("\\$", "$$")
            rest = quoted.group(3)
            rest = rest if not rest.strip() or rest.lstrip().startswith("#") else ""
            line = f'{quoted.group(1)}"{value}"{rest}'
        lines.append(line)
    return "\n".join(lines)


def read_env_file(path, variables: Mapping[str, str], *, what: str = "env file",
                  on_unset: Callable[[str], None] | None = None) -> dict[str, str | None]:
    """Parse an env file with python-dotenv's parser and interpolate its values.

    Values may refer to the given variables and to lines above them; single-quoted values are
    literal, as in Compose. A line without ``=`` (``NAME``) yields ``None``: the caller looks the
    name up in the environment.
    """
    text = compose_dotenv_text(read_text(path, what=what))
    result: dict[str, str | None] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise ConfigError(f"line {line} of the {what} is not NAME=value: {binding.original.string.strip()[:80]!r}.",
                              file=str(path), fix="write one NAME=value per line; quote values with spaces.")
        if binding.key is None:
            continue
        value = binding.value
        if value is not None and not _single_quoted(binding.original.string):
            scope = {**{k: v for k, v in result.items() if v is not None}, **variables}
            try:
                value = interpolate_string(value, scope, on_unset or (lambda name: None))
            except _RequiredVariable as error:
                raise ConfigError(f"required variable {error.name} is missing: {error.reason}.", file=str(path),
                                  key=binding.key, fix=f"set {error.name} in the environment.") from None
            except InterpolationError as error:
                raise ConfigError(f"invalid interpolation on line {binding.original.line}: {error}.",
                                  file=str(path), key=binding.key,
                                  fix="write a literal '$' as '$$', or single-quote the value.") from None
        result[binding.key] = value
    return result


def _single_quoted(original: str) -> bool:
    _, _, rest = original.partition("=")
    return rest.lstrip().startswith("'")


def strip_markers_for_validation(value: Any) -> Any:
    """The document as the schema sees it: ``!reset`` keys removed, ``!override`` unwrapped."""
    if isinstance(value, Override):
        return strip_markers_for_validation(value.value)
    if isinstance(value, dict):
        return {key: strip_markers_for_validation(item) for key, item in value.items() if not isinstance(item, Reset)}
    if isinstance(value, list):
        return [strip_markers_for_validation(item) for item in value if not isinstance(item, Reset)]
    return value
