"""The zip of an API's source folder that `build: managed` uploads as the pipeline's source. Pure Python.

Left out: every ``.git`` folder, every ``.secret-*`` file (compose secrets stay on the machine; the
containers get them from Secrets Manager), what the build contexts' ``.dockerignore`` files ignore, and
credential-looking files (``.env``, ``*.env``, ``.npmrc``, keys: ``SENSITIVE_PATTERNS``) unless the API's
``includeSensitiveFiles`` opts one back in; the program warns naming each one left out.

``.dockerignore`` rules follow Docker: patterns are relative to the context's root (``*.log`` means
root-level ``*.log``; write ``**/*.log`` for any depth), ``!`` re-includes, and the Dockerfile and
``.dockerignore`` themselves always stay. A file inside several contexts is left out only when every
one of them ignores it; a file in no context follows the source folder's own ``.dockerignore``.

The zip is deterministic (sorted entries, fixed timestamps and permissions), so the same source gives
the same bytes: Pulumi sees no change and S3 gets no new version, hence no needless pipeline run. Its
first entry, ``.serverless-containers-source-hash``, holds the SHA-256 of the content; the buildspec
tags images with its first 7 characters (components/pipeline/buildspec.py).
"""
from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pathspec

from components.pipeline.buildspec import SOURCE_HASH_FILE, ImageBuild, is_remote_context

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)   # the earliest time a zip can hold
ALWAYS_EXCLUDED_DIRS = frozenset({".git"})
SECRET_FILE_PREFIX = ".secret-"
# Files that usually hold credentials (issue 14): left out of the zip, each named in a warning, unless the API's
# `includeSensitiveFiles` lists it. The zip is stored in S3 and read by every build; .dockerignore is about
# the image, not about what leaves the machine, so it is not trusted to catch these.
SENSITIVE_PATTERNS = (
    "**/.env", "**/.env.*", "**/*.env", "**/.npmrc", "**/.yarnrc.yml", "**/.pypirc", "**/.netrc",
    "**/.git-credentials", "**/.dockercfg", "**/.docker/config.json", "**/.aws/credentials", "**/.aws/config",
    "**/.ssh/**", "**/id_rsa", "**/id_dsa", "**/id_ecdsa", "**/id_ed25519", "**/*.pem", "**/*.key", "**/*.p12",
    "**/*.pfx", "**/*.tfvars",
    # templates people commit on purpose, without values
    "!**/.env.example", "!**/.env.sample", "!**/.env.template", "!**/.env.dist", "!**/example.env",
)
try:
    _SENSITIVE = pathspec.PathSpec.from_lines("gitignore", SENSITIVE_PATTERNS)      # pathspec >= 1.0
except KeyError:
    _SENSITIVE = pathspec.PathSpec.from_lines("gitwildmatch", SENSITIVE_PATTERNS)   # older pathspec


def is_sensitive(path: str) -> bool:
    """A path (relative, posix) that looks like a credentials file."""
    return _SENSITIVE.match_file(path)


def dockerignore_spec(text: str) -> pathspec.PathSpec:
    """A ``.dockerignore`` as a matcher of paths relative to its context."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        pattern = posixpath.normpath(pattern.lstrip("/")) if pattern.strip("/") else ""
        if pattern in ("", "."):
            continue
        # Docker anchors every pattern at the context root; gitwildmatch does so for a leading "/".
        lines.append(("!" if negate else "") + "/" + pattern)
    try:
        return pathspec.PathSpec.from_lines("gitignore", lines)       # pathspec >= 1.0
    except KeyError:
        return pathspec.PathSpec.from_lines("gitwildmatch", lines)    # older pathspec


@dataclass(frozen=True)
class _Context:
    root: str                              # relative to the source folder, posix; "" for the folder itself
    spec: pathspec.PathSpec | None
    kept: frozenset[str]                   # relative to the context: Dockerfile and .dockerignore

    def contains(self, path: str) -> bool:
        return not self.root or path == self.root or path.startswith(self.root + "/")

    def relative(self, path: str) -> str:
        return path[len(self.root) + 1:] if self.root else path

    def ignores(self, path: str) -> bool:
        relative = self.relative(path)
        return bool(self.spec and relative not in self.kept and self.spec.match_file(relative))


def _read_spec(folder: Path) -> pathspec.PathSpec | None:
    ignore = folder / ".dockerignore"
    return dockerignore_spec(ignore.read_text(errors="replace")) if ignore.is_file() else None


def _contexts(source_dir: Path, builds: list[ImageBuild]) -> tuple[list[_Context], set[str]]:
    contexts, dockerfiles = [], set()
    for build in builds:
        if is_remote_context(build.context):
            continue
        root = "" if build.context in (".", "") else posixpath.normpath(build.context)
        if build.dockerfile:
            dockerfiles.add(posixpath.normpath(build.dockerfile))
        kept = {".dockerignore"}
        if build.dockerfile:
            dockerfile = posixpath.normpath(build.dockerfile)
            kept.add(dockerfile[len(root) + 1:] if root and dockerfile.startswith(root + "/") else dockerfile)
        contexts.append(_Context(root=root, spec=_read_spec(source_dir / root), kept=frozenset(kept)))
    return contexts, dockerfiles


def included_files(source_dir: Path, builds: list[ImageBuild] = (), include_sensitive: Iterable[str] = ()) -> list[str]:
    """Paths (relative, posix, sorted) of what goes into the zip."""
    return listing(source_dir, builds, include_sensitive)[0]


def listing(source_dir: Path, builds: list[ImageBuild] = (),
            include_sensitive: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(what goes into the zip, the credential-looking files left out), both relative, posix and sorted.

    ``include_sensitive``: paths the user opted back in (`includeSensitiveFiles`)."""
    source_dir = Path(source_dir)
    opted_in = {posixpath.normpath(p) for p in include_sensitive}
    left_out: list[str] = []
    contexts, dockerfiles = _contexts(source_dir, list(builds))
    own = _Context(root="", spec=_read_spec(source_dir), kept=frozenset({".dockerignore"}))
    found = []
    for folder, dirs, files in os.walk(source_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in ALWAYS_EXCLUDED_DIRS)
        relative_folder = Path(folder).relative_to(source_dir).as_posix()
        # symlinked folders are stored as links, like Docker sends them, and not walked
        entries = list(files) + [d for d in dirs if (Path(folder) / d).is_symlink()]
        for name in entries:
            if name.startswith(SECRET_FILE_PREFIX) or (relative_folder == "." and name == SOURCE_HASH_FILE):
                continue
            path = name if relative_folder == "." else f"{relative_folder}/{name}"
            if path in dockerfiles:
                found.append(path)
                continue
            holders = [c for c in contexts if c.contains(path)]
            ignored = all(c.ignores(path) for c in holders) if holders else own.ignores(path)
            if ignored:
                continue
            if is_sensitive(path) and path not in opted_in:
                left_out.append(path)
                continue
            found.append(path)
    return sorted(found), sorted(left_out)


@dataclass(frozen=True)
class SourceBundle:
    path: Path
    sha256: str                            # of the content (the value in SOURCE_HASH_FILE)
    files: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)   # credential-looking files not uploaded

    @property
    def build_hash(self) -> str:
        return self.sha256[:7]


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
    info.create_system = 3                 # unix, so the permission bits below are honoured
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def bundle_bytes(source_dir: Path, builds: list[ImageBuild] = (),
                 include_sensitive: Iterable[str] = ()) -> tuple[bytes, str, list[str]]:
    """The zip's bytes, the content hash, and the files in it."""
    source_dir = Path(source_dir)
    files = included_files(source_dir, builds, include_sensitive)
    entries: list[tuple[str, int, bytes]] = []
    digest = hashlib.sha256()
    for relative in files:
        path = source_dir / relative
        if path.is_symlink():
            mode, data = stat.S_IFLNK | 0o777, os.readlink(path).encode()
        else:
            executable = os.access(path, os.X_OK)
            mode, data = stat.S_IFREG | (0o755 if executable else 0o644), path.read_bytes()
        entries.append((relative, mode, data))
        digest.update(f"{relative}\0{mode:o}\0".encode() + hashlib.sha256(data).digest())
    content_hash = digest.hexdigest()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry(SOURCE_HASH_FILE, stat.S_IFREG | 0o644), content_hash + "\n", compresslevel=6)
        for relative, mode, data in entries:
            archive.writestr(_entry(relative, mode), data, compresslevel=6)
    return buffer.getvalue(), content_hash, files


def default_bundle_path(stack: str, api: str, source_dir: Path | None = None) -> Path:
    """Outside the project (nothing to gitignore); the content, not the path, decides Pulumi's diff. The
    source folder is part of the name, so two checkouts deploying at once never share a file."""
    folder = hashlib.sha256(str(Path(source_dir).resolve()).encode()).hexdigest()[:8] if source_dir else "default"
    return Path(tempfile.gettempdir()) / "serverless-containers" / f"{stack}-{api}-{folder}-source.zip"


def write_bundle(source_dir: Path, output: Path, builds: list[ImageBuild] = (),
                 include_sensitive: Iterable[str] = ()) -> SourceBundle:
    data, content_hash, files = bundle_bytes(source_dir, builds, include_sensitive)
    left_out = listing(source_dir, builds, include_sensitive)[1]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.is_file() or output.read_bytes() != data:
        temporary = output.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(output)
    return SourceBundle(path=output, sha256=content_hash, files=files, left_out=left_out)
