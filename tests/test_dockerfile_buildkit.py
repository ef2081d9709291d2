"""The hand-written Dockerfile reader against BuildKit's own parser (docs/design.md, "The Dockerfile reader").

BuildKit's parser comes from the PyPI package ``dockerfile`` (requirements.txt, tests only, Linux x86_64: the
platforms its wheels cover). It splits a Dockerfile into instructions as `docker build` does; the reader must find
the same instructions on the same lines (continuations, comments, blank lines, heredocs, the escape directive) and
read HEALTHCHECK as BuildKit does. The behaviour tests at the top run everywhere; the agreement tests skip, saying
why, where the package is not installed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.compose.dockerfile import _logical_lines, read_dockerfile
from components.compose.model import HealthCheck
from components.compose.values import parse_duration

ROOT = Path(__file__).resolve().parent.parent


def ports(text: str) -> list[tuple[int, str]]:
    return [(p.container_port, p.protocol) for p in read_dockerfile(Path("Dockerfile"), text=text).ports]


def test_a_blank_line_inside_a_continued_instruction_does_not_end_it():
    # BuildKit skips blank lines inside a continuation (docker build warns "empty continuation line").
    assert ports("FROM x\nEXPOSE 8080 \\\n\n    9090\n") == [(8080, "tcp"), (9090, "tcp")]
    assert ports("FROM x\nEXPOSE 1 \\\n\n# note\n   \n 2\nEXPOSE 5\n") == [(1, "tcp"), (2, "tcp"), (5, "tcp")]


def test_a_heredoc_ends_only_at_its_exact_end_word():
    # Indented "EOT" is heredoc content unless the marker is <<- (which drops tabs, not spaces).
    assert ports("FROM x\nRUN <<EOT\n  EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n") == [(3, "tcp")]
    assert ports("FROM x\nRUN <<-EOT\n  EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n") == [(3, "tcp")]
    assert ports("FROM x\nRUN <<-EOT\nEXPOSE 9\n\t\tEOT\nEXPOSE 3\n") == [(3, "tcp")]
    assert ports("FROM x\nRUN <<EOT\nEXPOSE 9\nEOT  \nEOT\nEXPOSE 3\n") == [(3, "tcp")]


def test_a_space_after_the_marker_is_no_heredoc():
    assert ports("FROM x\nRUN << EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n") == [(9, "tcp"), (3, "tcp")]


CASES = {
    "blank line in a continuation": "FROM x\nEXPOSE 8080 \\\n\n    9090\n",
    "comment in a continuation": "FROM x\nEXPOSE 8080 \\\n# c\n  9090\n",
    "blank, comment, blank": "FROM x\nEXPOSE 1 \\\n\n# c\n\n 2\nEXPOSE 5\n",
    "white space only in a continuation": "FROM x\nEXPOSE 1 \\\n   \n 2\n",
    "indented comment": "FROM x\n   # hi\nEXPOSE 1\n",
    "white space after the escape": "FROM x\nEXPOSE 1 \\   \n 2\n",
    "continuation at the end": "FROM x\nEXPOSE 1 \\\n",
    "CRLF": "FROM x\r\nEXPOSE 1 \\\r\n 2\r\n",
    "heredoc": "FROM x\nRUN <<EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "heredoc, lower case": "FROM x\nrun <<EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "heredoc, quoted": "FROM x\nRUN <<'EOT'\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "heredoc, <<- with tabs": "FROM x\nRUN <<-EOT\n\tEXPOSE 9\n\tEOT\nEXPOSE 3\n",
    "heredoc, <<- with spaces": "FROM x\nRUN <<-EOT\nEXPOSE 9\n  EOT\nEXPOSE 3\nEOT\nEXPOSE 4\n",
    "heredoc, indented end without <<-": "FROM x\nRUN <<EOT\n  EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "heredoc, end word with trailing space": "FROM x\nRUN <<EOT\nEXPOSE 9\nEOT  \nEXPOSE 3\nEOT\nEXPOSE 4\n",
    "heredoc, space after <<": "FROM x\nRUN << EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "two heredocs": "FROM x\nRUN <<A <<B\na\nA\nb\nB\nEXPOSE 3\n",
    "heredoc after a continuation": "FROM x\nRUN cat \\\n <<EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "heredoc with a flag": "FROM x\nRUN --mount=type=cache,target=/x <<EOT\nEXPOSE 9\nEOT\nEXPOSE 3\n",
    "COPY heredoc": "FROM x\nCOPY <<-EOT /a\n\tx\n\tEOT\nEXPOSE 3\n",
    "no heredoc outside RUN/COPY/ADD": "FROM x\nENV A=<<EOT\nEXPOSE 3\n",
    "escape directive": "# escape=`\nFROM x\nEXPOSE 1 `\n 2\n",
    "escape directive after syntax": "# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nEXPOSE 1 `\n 2\n",
    "escape directive after a blank line": "\n# escape=`\nFROM x\nEXPOSE 1 `\n 2\n",
}
SAMPLES = {str(path.relative_to(ROOT)): path.read_text() for path in sorted((ROOT / "apps").rglob("Dockerfile*"))}

HEALTHCHECKS = [
    "HEALTHCHECK --interval=5s --timeout=3s --retries=4 --start-period=1m30s CMD curl -f http://localhost/ || exit 1",
    'HEALTHCHECK --interval=1m CMD ["wget", "-q", "-O-", "http://localhost:8080/health"]',
    "HEALTHCHECK CMD node healthcheck.js",
    "healthcheck --timeout=10s cmd true",
    "HEALTHCHECK NONE",
]


@pytest.fixture(scope="module")
def buildkit():
    return pytest.importorskip("dockerfile", reason="BuildKit's parser (PyPI `dockerfile`) has wheels for Linux "
                               "x86_64 and macOS only; requirements.txt installs it on Linux x86_64")


@pytest.mark.parametrize("name", [*CASES, *SAMPLES])
def test_the_reader_finds_the_instructions_buildkit_finds(buildkit, name):
    text = CASES.get(name) or SAMPLES[name]
    theirs = [(command.start_line, command.cmd.upper()) for command in buildkit.parse_string(text)]
    ours = [(line, instruction.split(None, 1)[0].upper()) for line, instruction in _logical_lines(text)]
    assert ours == theirs


@pytest.mark.parametrize("line", HEALTHCHECKS)
def test_the_reader_reads_healthcheck_as_buildkit_parses_it(buildkit, line):
    (command,) = [c for c in buildkit.parse_string(f"FROM x\n{line}\n") if c.cmd.upper() == "HEALTHCHECK"]
    ours = read_dockerfile(Path("Dockerfile"), text=f"FROM x\n{line}\n").healthcheck
    if command.value[0].upper() == "NONE":
        assert ours is None
        return
    flags = dict(flag[2:].split("=", 1) for flag in command.flags)
    expected_test = ("CMD", *command.value[1:]) if command.json else ("CMD-SHELL", command.value[1])
    assert ours.test == expected_test
    # An unset flag keeps Docker's default (30 s, 30 s, 0 s, 3 retries), which HealthCheck's defaults are.
    for flag, field in (("interval", "interval"), ("timeout", "timeout"), ("start-period", "start_period")):
        default = HealthCheck.__dataclass_fields__[field].default
        assert getattr(ours, field) == (parse_duration(flags[flag]) if flag in flags else default)
    assert ours.retries == (int(flags["retries"]) if "retries" in flags else 3)
    assert json.dumps(ours.test)     # an ECS healthCheck.command is a list of strings
