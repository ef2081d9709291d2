"""Live credentials inside the managed source zip (issue 23): policy ``no-secrets-in-source``.

The zip of a ``build: managed`` API (components/pipeline/source_bundle.py) is stored in S3 and read by every build.
Credential files are left out of it by name; what stays is read here line by line with the shared detection rule
(policies/secret_values.py, detect-secrets' pattern plugins and URLs with a password), and each hit is named with
its file and line. Advisory by default (a warning in dev), mandatory in prod (policies/config/prod.json).

The rule reads the zip the upload's ``source`` asset names; it exists while the program runs (the engine calls
resource rules at registration, and the offline plan judges before the program's process ends). A line that
carries ``pragma: allowlist secret`` (detect-secrets' own marker) is not judged: a test fixture, say.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Mapping

from catalog.resources import S3_OBJECT
from policies.secret_values import secret_kinds

ALLOWLIST_MARKER = "pragma: allowlist secret"
MAX_FILE_BYTES = 1024 * 1024          # larger files are data or bundles, not configuration
MAX_LINE_CHARACTERS = 4096            # minified code: no credential file looks like that
MAX_FINDINGS = 20                     # enough to act on; the rest are summed up
SOURCE_HASH_FILE = ".serverless-containers-source-hash"   # the zip's first entry (components/pipeline/buildspec.py)


def zip_findings(path: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    """(file in the zip, line number, what it looks like) for every line that holds a live credential."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename == SOURCE_HASH_FILE or info.file_size > MAX_FILE_BYTES:
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:     # a symbolic link: its target is no content
                continue
            data = archive.read(info)
            if b"\0" in data[:8192]:                                    # binary
                continue
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
                if len(line) > MAX_LINE_CHARACTERS or ALLOWLIST_MARKER in line:
                    continue
                kinds = secret_kinds(line.strip())
                if kinds:
                    found.append((info.filename, number, kinds))
    return found


def no_secrets_in_source(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != S3_OBJECT:
        return []
    path = getattr(props.get("source"), "path", None)
    if not isinstance(path, str) or not path.endswith(".zip") or not Path(path).is_file():
        return []
    tags = props.get("tags") if isinstance(props.get("tags"), Mapping) else {}
    api = tags.get("api") if isinstance(tags.get("api"), str) else "NAME"
    allowed = set(settings.get("allowedFiles") or [])
    hits = [hit for hit in zip_findings(Path(path)) if hit[0] not in allowed]
    messages = [f"holds what looks like a live credential ({', '.join(kinds)}) in {file}, line {line}, of the source "
                f"folder of API {api}. The zip is stored in S3 and read by every build: move the value to a compose "
                f"secret, or keep the file out (.dockerignore, or apis.{api} without includeSensitiveFiles), and rotate "
                f"it." for file, line, kinds in hits[:MAX_FINDINGS]]
    if len(hits) > MAX_FINDINGS:
        messages.append(f"and {len(hits) - MAX_FINDINGS} more lines like these in the source folder of API {api}.")
    return messages
