"""Questions for the `add` walkthroughs, answered on a terminal or by a script through stdin.

A flag always wins over a question; ``--yes`` takes each unanswered question's default. When
stdin ends before a needed answer, the error names the flag that would have answered it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence, TextIO

from components.errors import ConfigError

MAX_TRIES = 3


@dataclass
class Prompter:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    assume_defaults: bool = False

    def _read(self, question: str, flag: str) -> str:
        self.out.write(question)
        self.out.flush()
        line = self.stdin.readline()
        if line == "":
            self.out.write("\n")
            asked = question.strip().lstrip("?").strip().rstrip(":").strip()
            raise ConfigError(f"no answer to '{asked}' (input ended).",
                              fix=f"answer it, pass {flag}, or pass --yes to take the defaults.")
        if not getattr(self.stdin, "isatty", lambda: False)():
            self.out.write(line if line.endswith("\n") else line + "\n")   # a scripted answer, echoed
        return line.strip()

    def ask(self, question: str, *, flag: str, default: str | None = None,
            check: Callable[[str], str | None] | None = None) -> str:
        """Free text; ``check`` returns a problem, or None when the answer is fine."""
        if self.assume_defaults and default is not None:
            return default
        suffix = f" ({default})" if default else ""
        for _ in range(MAX_TRIES):
            answer = self._read(f"? {question}{suffix}: ", flag) or (default or "")
            problem = check(answer) if check else (None if answer else "an answer is needed")
            if problem is None:
                return answer
            self.out.write(f"  {problem}\n")
        raise ConfigError(f"no valid answer to '{question}' after {MAX_TRIES} tries.", fix=f"pass {flag}.")

    def confirm(self, question: str, *, flag: str, default: bool) -> bool:
        if self.assume_defaults:
            return default
        hint = "Y/n" if default else "y/N"
        for _ in range(MAX_TRIES):
            answer = self._read(f"? {question} ({hint}): ", flag).lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.out.write("  answer y or n\n")
        raise ConfigError(f"no valid answer to '{question}' after {MAX_TRIES} tries.", fix=f"pass {flag}.")

    def choose(self, question: str, choices: Sequence[tuple[str, str]], *, flag: str, default: str) -> str:
        """One of ``choices`` (key, label): by number or by key."""
        if self.assume_defaults or len(choices) == 1:
            return default if len(choices) > 1 else choices[0][0]
        self.out.write(f"? {question}\n")
        for number, (key, label) in enumerate(choices, 1):
            marker = ">" if key == default else " "
            self.out.write(f"  {marker} {number}) {label}\n")
        keys = [key for key, _ in choices]
        for _ in range(MAX_TRIES):
            answer = self._read(f"  choice (1-{len(choices)}, Enter for {default}): ", flag)
            if not answer:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return keys[int(answer) - 1]
            if answer in keys:
                return answer
            self.out.write(f"  choose a number from 1 to {len(choices)} or one of: {', '.join(keys)}\n")
        raise ConfigError(f"no valid answer to '{question}' after {MAX_TRIES} tries.", fix=f"pass {flag}.")

    def choose_many(self, question: str, choices: Sequence[str], *, flag: str, default: Sequence[str]) -> list[str]:
        """Several of ``choices``: numbers or names separated by commas or spaces; Enter keeps the default."""
        if self.assume_defaults:
            return list(default)
        self.out.write(f"? {question}\n")
        for number, key in enumerate(choices, 1):
            self.out.write(f"  {'◉' if key in default else '◯'} {number}) {key}\n")
        for _ in range(MAX_TRIES):
            answer = self._read(f"  choices (comma-separated, Enter for {', '.join(default) or 'none'}): ", flag)
            if not answer:
                return list(default)
            picked, bad = [], []
            for token in answer.replace(",", " ").split():
                if token.isdigit() and 1 <= int(token) <= len(choices):
                    token = choices[int(token) - 1]
                if token in choices:
                    if token not in picked:
                        picked.append(token)
                else:
                    bad.append(token)
            if not bad and picked:
                return [key for key in choices if key in picked]
            self.out.write(f"  pick from: {', '.join(choices)}\n")
        raise ConfigError(f"no valid answer to '{question}' after {MAX_TRIES} tries.", fix=f"pass {flag}.")
