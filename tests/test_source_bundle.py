"""components/pipeline/source_bundle.py: what the managed-build zip holds, and that it is byte-for-byte stable."""
from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

from components.pipeline.buildspec import SOURCE_HASH_FILE, ImageBuild
from components.pipeline.source_bundle import bundle_bytes, dockerignore_spec, included_files, write_bundle


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


APP = {
    "Dockerfile": "FROM scratch\n",
    "server.js": "console.log(1)\n",
    ".secret-api-token": "s3cr3t\n",
    "nested/.secret-db": "s3cr3t\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/objects/aa/bb": "blob\n",
    "node_modules/x/index.js": "x\n",
    "debug.log": "log\n",
    "nested/debug.log": "log\n",
    "docs/keep.md": "keep\n",
    "docs/drop.md": "drop\n",
    ".dockerignore": "# comment\nnode_modules\n*.log\ndocs/*\n!docs/keep.md\n/.dockerignore\nDockerfile\n",
}


def test_secrets_git_and_dockerignored_files_are_left_out(tmp_path):
    source = make_tree(tmp_path / "app", APP)
    files = included_files(source, [ImageBuild("web", ".", "Dockerfile")])
    assert files == [".dockerignore", "Dockerfile", "docs/keep.md", "nested/debug.log", "server.js"]


def test_dockerignore_patterns_are_anchored_at_the_context_root():
    spec = dockerignore_spec("*.log\n**/*.tmp\n/build/\n")
    assert spec.match_file("a.log") and not spec.match_file("sub/a.log")
    assert spec.match_file("sub/deep/x.tmp") and spec.match_file("x.tmp")
    assert spec.match_file("build/out.bin") and not spec.match_file("src/build/out.bin")


def test_each_context_uses_its_own_dockerignore(tmp_path):
    source = make_tree(tmp_path / "multi", {
        "docker-compose.yml": "services: {}\n",
        "express/Dockerfile.prod": "FROM scratch\n", "express/.dockerignore": "node_modules\nDockerfile.prod\n",
        "express/node_modules/a.js": "a\n", "express/app.js": "a\n",
        "python/Dockerfile": "FROM scratch\n", "python/node_modules/keep.txt": "python has no .dockerignore\n",
        "README.md": "readme\n", ".dockerignore": "README.md\n",
    })
    builds = [ImageBuild("express", "express", "express/Dockerfile.prod"), ImageBuild("python", "python", "python/Dockerfile")]
    assert included_files(source, builds) == [
        ".dockerignore", "docker-compose.yml", "express/.dockerignore", "express/Dockerfile.prod", "express/app.js",
        "python/Dockerfile", "python/node_modules/keep.txt"]


def test_a_file_stays_when_one_of_its_contexts_needs_it(tmp_path):
    source = make_tree(tmp_path / "app", {
        "Dockerfile": "FROM scratch\n", ".dockerignore": "lib\n",
        "lib/Dockerfile": "FROM scratch\n", "lib/code.py": "x\n"})
    builds = [ImageBuild("root", ".", "Dockerfile"), ImageBuild("lib", "lib", "lib/Dockerfile")]
    assert "lib/code.py" in included_files(source, builds)
    assert "lib/code.py" not in included_files(source, builds[:1])


def test_zip_is_deterministic_and_carries_its_content_hash(tmp_path):
    source = make_tree(tmp_path / "app", APP)
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    builds = [ImageBuild("web", ".", "Dockerfile")]
    first, content_hash, files = bundle_bytes(source, builds)
    os.utime(source / "server.js", (time.time() + 1000, time.time() + 1000))   # timestamps do not matter
    second, same_hash, _ = bundle_bytes(source, builds)
    assert first == second and content_hash == same_hash
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = archive.namelist()
    assert names[0] == SOURCE_HASH_FILE and names[1:] == files
    assert archive.read(SOURCE_HASH_FILE).decode() == content_hash + "\n"
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    assert (archive.getinfo("run.sh").external_attr >> 16) & 0o777 == 0o755
    assert (archive.getinfo("server.js").external_attr >> 16) & 0o777 == 0o644
    assert not any(".secret-" in n or n.startswith(".git/") for n in names)

    (source / "server.js").write_text("console.log(2)\n")
    changed, changed_hash, _ = bundle_bytes(source, builds)
    assert changed != first and changed_hash != content_hash
    # an ignored file's change does not make a new bundle
    (source / "debug.log").write_text("other\n")
    assert bundle_bytes(source, builds)[1] == changed_hash


def test_write_bundle_writes_the_same_bytes_for_the_same_source(tmp_path):
    source = make_tree(tmp_path / "app", APP)
    out = tmp_path / "out.zip"
    bundle = write_bundle(source, out, [ImageBuild("web", ".", "Dockerfile")])
    assert bundle.path == out and out.is_file()
    assert bundle.build_hash == bundle.sha256[:7] and len(bundle.build_hash) == 7
    first = out.read_bytes()
    again = write_bundle(source, out, [ImageBuild("web", ".", "Dockerfile")])
    assert again.sha256 == bundle.sha256 and out.read_bytes() == first and again.checksums == bundle.checksums
    assert hashlib.sha256(first).hexdigest() != bundle.sha256   # the hash is of content, not the zip


def test_a_stale_hash_file_in_the_source_is_replaced(tmp_path):
    source = make_tree(tmp_path / "app", {"Dockerfile": "FROM scratch\n", SOURCE_HASH_FILE: "0000000\n"})
    data, content_hash, files = bundle_bytes(source, [ImageBuild("web", ".", "Dockerfile")])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == [SOURCE_HASH_FILE, "Dockerfile"]
    assert archive.read(SOURCE_HASH_FILE).decode().strip() == content_hash


