"""Helpers for the compose loader tests: write a source folder, load it, find warnings."""
from __future__ import annotations

import textwrap
from pathlib import Path

from components.compose import load_app
from components.compose.model import App


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(folder: Path, compose: str | None = None, *, name: str = "compose.yaml", environ=None, **kwargs) -> App:
    """Write ``compose`` (if given) as the folder's compose file and load the folder."""
    if compose is not None:
        write(folder, name, compose)
    return load_app(folder, environ={} if environ is None else environ, **kwargs)


def warnings_for(app: App, key: str | None = None, service: str | None = None) -> list[str]:
    return [w.message for w in app.warnings
            if (key is None or (w.key or "").startswith(key)) and (service is None or w.service == service)]
