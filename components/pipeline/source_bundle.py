"""The zip of an API's source folder that `build: managed` uploads as the pipeline's source. Pure Python.

Left out: every ``.git`` folder, every ``.secret-*`` file (compose secrets stay on the machine; the
containers get them from Secrets Manager), what the build contexts' ``.dockerignore`` files ignore, and
credential-looking files and credential folders (components/pipeline/sensitive_files.py) unless the API's
``includeSensitiveFiles`` opts one back in; the program names each one left out.

``.dockerignore`` rules follow Docker: patterns are relative to the context's root (``*.log`` means
root-level ``*.log``; write ``**/*.log`` for any depth), ``!`` re-includes, and the Dockerfile and
``.dockerignore`` themselves always stay. A file inside several contexts is left out only when every
one of them ignores it; a file in no context follows the source folder's own ``.dockerignore``.

The zip is deterministic (sorted entries, fixed timestamps and permissions), so the same source gives
the same bytes: Pulumi sees no change and S3 gets no new version, hence no needless pipeline run. Its
first entry, ``.serverless-containers-source-hash``, holds the SHA-256 of the content; the buildspec
tags images with its first 7 characters (components/pipeline/buildspec.py).

Where it is written (issue 23): a fresh folder only this user can enter, removed when the program ends, never a
shared, predictable path. The program asks S3 for the uploaded object's SHA-256 and compares it with the bytes it
wrote (``SourceBundle.checksums``); a zip changed between writing and upload stops the update and its pipeline run.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import io
import os
import posixpath
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pathspec

from components.pipeline.buildspec import SOURCE_HASH_FILE, ImageBuild, is_remote_context
from components.pipeline.sensitive_files import SENSITIVE_PATTERNS, is_sensitive  # noqa: F401 - re-exported

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)   # the earliest time a zip can hold
ALWAYS_EXCLUDED_DIRS = frozenset({".git"})
SECRET_FILE_PREFIX = ".secret-"


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
    checksums: frozenset[str] = frozenset()
    """What S3 may report as the uploaded object's ChecksumSHA256 if it holds exactly these bytes (upload_checksums)."""

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


# The AWS provider uploads with the AWS SDK's upload manager: one PutObject up to its part size, else a multipart
# upload in parts of that size, for which S3 reports a checksum of the parts' checksums ("...-<parts>").
UPLOAD_PART_SIZE = 5 * 1024 * 1024


def upload_checksums(data: bytes, part_size: int = UPLOAD_PART_SIZE) -> frozenset[str]:
    """The ChecksumSHA256 values S3 reports for an object holding exactly ``data`` (base64, as S3 writes them)."""
    whole = base64.b64encode(hashlib.sha256(data).digest()).decode()
    if len(data) <= part_size:
        return frozenset({whole})
    parts = [hashlib.sha256(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    composite = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
    return frozenset({whole, f"{composite}-{len(parts)}"})


_PRIVATE_FOLDERS: list[Path] = []


def private_folder() -> Path:
    """A new folder only this user can enter (mkdtemp: 0700, a name nobody can guess or create first), removed when
    the process ends (the engine has read every zip by then: the program ends after its last registration)."""
    folder = Path(tempfile.mkdtemp(prefix="serverless-containers-source-"))
    if not _PRIVATE_FOLDERS:
        atexit.register(remove_private_folders)
    _PRIVATE_FOLDERS.append(folder)
    return folder


def remove_private_folders() -> None:
    """Delete every folder ``private_folder`` made in this process (and the zips in it)."""
    while _PRIVATE_FOLDERS:
        shutil.rmtree(_PRIVATE_FOLDERS.pop(), ignore_errors=True)


# Where versions before issue 23 left their zips: shared, predictable, 0644 and never deleted.
LEGACY_FOLDER = "serverless-containers"
# A zip untouched this long is no longer read by a `pulumi up` of an older checkout still running on this machine.
LEGACY_AGE_SECONDS = 24 * 3600


def remove_legacy_zips(temp_dir: Path | None = None, *, older_than: float = LEGACY_AGE_SECONDS,
                       now: float | None = None) -> list[Path]:
    """Delete the source zips earlier versions left in ``<tmp>/serverless-containers/`` (readable by every local
    user): only regular files of this user named like them and untouched for ``older_than`` seconds, and the folder
    when it is then empty and ours."""
    folder = Path(temp_dir or tempfile.gettempdir()) / LEGACY_FOLDER
    removed: list[Path] = []
    if folder.is_symlink() or not folder.is_dir():
        return removed
    now = time.time() if now is None else now
    for path in folder.iterdir():
        info = path.lstat()
        if (stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and now - info.st_mtime >= older_than
                and (path.name.endswith("-source.zip") or ".tmp" in path.suffixes)):
            path.unlink()
            removed.append(path)
    try:
        if folder.lstat().st_uid == os.getuid():
            folder.rmdir()          # only when empty
    except OSError:
        pass
    return removed


def write_bundle(source_dir: Path, output: Path | None = None, builds: list[ImageBuild] = (),
                 include_sensitive: Iterable[str] = ()) -> SourceBundle:
    """Write the zip, by default as ``source.zip`` in a fresh private folder (issue 23: a shared, predictable path
    let another local user swap the zip before the upload). The file is created new (never an existing one),
    readable by this user only."""
    data, content_hash, files = bundle_bytes(source_dir, builds, include_sensitive)
    left_out = listing(source_dir, builds, include_sensitive)[1]
    if output is None:
        remove_legacy_zips()
    output = Path(output) if output is not None else private_folder() / "source.zip"
    if output.exists():
        output.unlink()
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return SourceBundle(path=output, sha256=content_hash, files=files, left_out=left_out,
                        checksums=upload_checksums(data))
