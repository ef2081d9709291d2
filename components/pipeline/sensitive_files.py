"""Which files of an API folder look like credentials, and what the program says about leaving them out. Pure Python.

The managed source zip (components/pipeline/source_bundle.py) is stored in S3 and read by every build, so files
that usually hold credentials stay out of it unless the API's ``includeSensitiveFiles`` opts one back in (issues
14 and 23). ``.dockerignore`` is about the image, not about what leaves the machine, so it is not trusted to catch
them. Matching ignores case (``.ENV`` is ``.env``); whole credential folders (``.aws/``, ``.kube/``, ...) are left out
at any depth.

What the program then says depends on who would read the file (issue 24):

* a build reads it (a Dockerfile ``COPY``/``ADD`` that takes it, a ``--env-file`` naming it) or a service loads it
  (compose ``env_file:``): a warning per file, since the pipeline's image or the task sees something else than a
  local build;
* the compose folder's ``.env`` that only fills in ``${...}`` in the compose file: one calm line, since its values
  are already resolved into the task definition and nothing is missing;
* any other: one line listing them.
"""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pathspec

from components.compose.model import App
from components.pipeline.buildspec import ImageBuild, is_remote_context

# Folders that hold a tool's credentials or cached session keys: everything in them stays out.
CREDENTIAL_FOLDERS = (".aws", ".kube", ".docker", ".gnupg", ".ssh", ".config/gcloud", ".azure", ".terraform.d")
# Names that usually hold credentials (lower case; paths are matched lower-cased).
CREDENTIAL_NAMES = (
    ".env*", "*.env", ".npmrc*", ".yarnrc", ".yarnrc.yml", ".pypirc", ".netrc", ".pgpass", ".my.cnf", ".htpasswd",
    ".git-credentials", ".dockercfg", ".s3cfg", ".boto", ".passwd-s3fs", "auth.json", "credentials.json",
    "*service-account*.json", "*service_account*.json", "client_secret*.json", "*.tfstate", "*.tfstate.*",
    "*.tfvars", "*.tfvars.json", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "*.pem", "*.key", "*.p12", "*.pfx",
    "*.p8", "*.jks", "*.keystore", "*.kdbx", "*.ovpn",
)
# Templates people commit on purpose, without values.
TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "sample.env")
SENSITIVE_PATTERNS = (
    tuple(f"**/{folder}/**" for folder in CREDENTIAL_FOLDERS)
    + tuple(f"**/{name}" for name in CREDENTIAL_NAMES)
    + tuple(f"!**/{name}" for name in TEMPLATES)
)
try:
    _SENSITIVE = pathspec.PathSpec.from_lines("gitignore", SENSITIVE_PATTERNS)      # pathspec >= 1.0
except KeyError:
    _SENSITIVE = pathspec.PathSpec.from_lines("gitwildmatch", SENSITIVE_PATTERNS)   # older pathspec


def is_sensitive(path: str) -> bool:
    """A path (relative, posix) that looks like a credentials file or lies in a credential folder."""
    return _SENSITIVE.match_file(path.lower())


# --- who reads a left-out file ------------------------------------------------------------------------------------

_COPY = re.compile(r"^\s*(COPY|ADD)\s+(.*)$", re.IGNORECASE)
_ENV_FILE = re.compile(r"--env-file(?:=|\s+)([\"']?)([^\s\"']+)\1")


def _logical_lines(text: str) -> list[str]:
    """Dockerfile lines with backslash continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        if not current and raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        lines.append(current + raw)
        current = ""
    if current:
        lines.append(current)
    return lines


def copy_sources(dockerfile_text: str) -> list[tuple[str, str]]:
    """(instruction as written, source) for each source of each COPY/ADD that reads the build context
    (``--from=`` copies read another stage or image)."""
    found = []
    for line in _logical_lines(dockerfile_text):
        match = _COPY.match(line)
        if not match:
            continue
        rest = match.group(2).strip()
        if rest.startswith("["):
            try:
                words = [str(w) for w in json.loads(rest)]
            except ValueError:
                continue
        else:
            try:
                words = shlex.split(rest)
            except ValueError:
                words = rest.split()
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        for source in words[:-1]:
            found.append((line.strip(), source))
    return found


def _copied(relative: str, source: str) -> bool:
    """Does a COPY source (relative to the context) take the file at ``relative`` (relative to the context)?"""
    source = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
    if source == ".":
        return True
    return (relative == source or relative.startswith(source.rstrip("/") + "/") or fnmatch.fnmatchcase(relative, source)
            or any(fnmatch.fnmatchcase("/".join(relative.split("/")[:depth]), source)
                   for depth in range(1, relative.count("/") + 1)))


def _dockerfile_text(source_dir: Path, build: ImageBuild) -> str:
    if build.dockerfile_inline is not None:
        return build.dockerfile_inline
    path = source_dir / build.dockerfile
    return path.read_text(errors="replace") if path.is_file() else ""


def _env_file_flags(text: str) -> set[str]:
    return {posixpath.basename(match.group(2)) for match in _ENV_FILE.finditer(text)}


@dataclass
class LeftOutNotes:
    """What to tell the user about the files the zip leaves out."""

    read: dict[str, list[str]] = field(default_factory=dict)   # file -> who reads it
    interpolation_only: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def messages(self, api: str) -> tuple[list[str], list[str]]:
        """(warnings, calm notes) for the program to log."""
        warnings = [
            f"API {api}: {path} looks like a credentials file and {' and '.join(readers)}, but the source zip leaves "
            f"it out (it would be stored in S3 and readable by every build), so the pipeline does not see what a "
            f"local build sees. If the build needs it, list it in apis.{api}.includeSensitiveFiles; better, pass its "
            f"values as compose secrets."
            for path, readers in sorted(self.read.items())]
        if self.unread:
            warnings.append(f"API {api}: the source zip leaves out {len(self.unread)} credential-looking file(s) that "
                            f"no build reads: {', '.join(self.unread)} (apis.{api}.includeSensitiveFiles keeps one).")
        notes = [f"API {api}: {path} stays on this machine (not in the source zip); it only fills in the compose "
                 f"file's ${{...}} values, which are already in the task definition." for path in self.interpolation_only]
        return warnings, notes


def left_out_notes(app: App, builds: Iterable[ImageBuild], left_out: Iterable[str],
                   source_dir: Path | None = None) -> LeftOutNotes:
    """Sort the left-out files (relative, posix) by who would read them."""
    source_dir = Path(source_dir or app.source_dir)
    builds = [b for b in builds if not is_remote_context(b.context)]
    texts = {b.container: _dockerfile_text(source_dir, b) for b in builds}
    scripts = " ".join(texts.values())
    for folder in {source_dir} | {source_dir / b.context for b in builds}:
        if (folder / "package.json").is_file():
            scripts += " " + (folder / "package.json").read_text(errors="replace")
    for container in app.containers:
        scripts += " " + " ".join((container.entrypoint or []) + (container.command or []))
    env_flags = _env_file_flags(scripts)
    env_files = {Path(p).resolve(): c.name for c in app.containers for p in c.env_files}
    compose_folders = {Path(f).resolve().parent for f in app.compose_files}
    notes = LeftOutNotes()
    for path in sorted(left_out):
        readers = []
        for build in builds:
            root = "" if build.context in (".", "") else posixpath.normpath(build.context)
            if root and not path.startswith(root + "/"):
                continue
            relative = path[len(root) + 1:] if root else path
            for instruction, source in copy_sources(texts[build.container]):
                if _copied(relative, source):
                    readers.append(f"the build of {build.container} copies it ({instruction})")
                    break
        if posixpath.basename(path) in env_flags:
            readers.append("a command reads it with --env-file")
        service = env_files.get((source_dir / path).resolve())
        if service:
            readers.append(f"service {service} loads it (env_file), so its values are plain environment variables "
                           f"in the task definition")
        if readers:
            notes.read[path] = readers
        elif posixpath.basename(path) == ".env" and (source_dir / path).resolve().parent in compose_folders:
            notes.interpolation_only.append(path)
        else:
            notes.unread.append(path)
    return notes
