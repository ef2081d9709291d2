"""The behaviours tests/test_compose_corpus.py checks on ../shared/compose-corpus, on fixtures written here.

The corpus lives outside the repository, so on a fresh clone its tests skip. Each test below writes a
small compose project of the same shape into tmp_path (the corpus file it mirrors is named), so every
behaviour stays covered without it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from components.compose import LoaderBugError, load_app
from components.compose.dockerfile import container_name_for
from components.compose.model import PortMapping
from components.errors import ConfigError


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def load(folder: Path, file: str = "compose.yaml", **kwargs):
    return load_app(folder, [file], environ=kwargs.pop("environ", {}), **kwargs)


def refused(folder: Path, file: str = "compose.yaml", **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as error:
        load(folder, file, **kwargs)
    assert not isinstance(error.value, LoaderBugError)
    return error.value


def warned(app, text: str, key: str | None = None) -> bool:
    return any(text in w.message and (key is None or (w.key or "").startswith(key)) for w in app.warnings)


def test_unnormalized_folder_name_gives_a_normalized_name(tmp_path):        # spec/cli/testdata/UNNORMALIZED PATH
    folder = write(tmp_path / "UNNORMALIZED PATH", {"compose.yaml": "services:\n  nginx:\n    image: nginx\n"})
    assert container_name_for(folder) == "unnormalizedpath"
    assert [c.name for c in load(folder).containers] == ["nginx"]


def test_env_files_in_order_and_dotenv_ports(tmp_path):                    # spec/cli/testdata/env-file
    folder = write(tmp_path, {
        ".env": "COMPOSE_FILE=compose-with-env-file.yaml\nPORT=8000\n",
        "simple-env": "DEFAULT_PORT=8080\n", "second-env": "DEFAULT_PORT=9090\n", "override.env": "PORT=9000\n",
        "compose-with-env-file.yaml": "services:\n  simple:\n    image: nginx\n    env_file: simple-env\n"
                                      "    ports: ['${PORT}:80']\n",
        "compose-with-env-files.yaml": "services:\n  simple:\n    image: nginx\n    env_file: [simple-env, second-env]\n"
                                       "    ports: ['${PORT}:80']\n"})
    app = load_app(folder, environ={})
    assert app.compose_files == [folder / "compose-with-env-file.yaml"]     # found through .env's COMPOSE_FILE
    assert app.container("simple").environment == {"DEFAULT_PORT": "8080"}
    app = load(folder, "compose-with-env-files.yaml")
    assert app.container("simple").environment == {"DEFAULT_PORT": "9090"}  # the later env_file wins
    assert app.container("simple").ports == [PortMapping(80, host_port=8000)]
    app = load(folder, "compose-with-env-files.yaml", environ={"PORT": "9000"})   # --env-file override.env
    assert app.container("simple").ports == [PortMapping(80, host_port=9000)]


def test_name_interpolation_and_several_publishers_need_an_entrypoint(tmp_path):   # compose-name.yaml, amplify
    folder = write(tmp_path, {"compose.yaml": "name: test-${TEST}-test\nservices:\n  simple:\n    image: nginx\n"})
    assert [c.name for c in load(folder, environ={"TEST": "expected"}).containers] == ["simple"]
    both = write(tmp_path / "two", {"compose.yaml": "services:\n  express:\n    image: a\n    ports: ['8080:8080']\n"
                                                    "  python:\n    image: b\n    ports: ['5000:5000']\n"})
    assert "express, python" in refused(both).fix
    app = load(both, entrypoint="express")
    assert (app.entrypoint, app.routed_port) == ("express", 8080)
    assert app.container("python").ports == [PortMapping(5000, host_port=5000)]


def test_missing_build_context_warns_and_a_secret_outside_the_folder_loads(tmp_path):  # amplify samples
    folder = write(tmp_path / "src", {"docker-compose.yml": (
        "services:\n  express:\n    build: ./express\n    ports: ['8080:8080']\n    secrets: [PASSWORD]\n"
        "secrets:\n  PASSWORD:\n    file: ../secrets/.secret-password\n")})
    error = refused(folder, "docker-compose.yml")
    assert error.key == "secrets.PASSWORD.file" and str(tmp_path / "secrets" / ".secret-password") in str(error)
    write(tmp_path / "secrets", {".secret-password": "hunter2\n"})
    app = load(folder, "docker-compose.yml")
    assert app.secrets["PASSWORD"].value == "hunter2" and app.container("express").secrets == ["PASSWORD"]
    assert warned(app, "does not exist", "build.context")


def test_secret_file_inside_the_folder_or_misnamed_is_refused(tmp_path):     # conformance simple_secretfile
    folder = write(tmp_path, {"test_secret.txt": "MYSECRET\n", "compose.yaml": (
        "services:\n  entry:\n    image: a\n    ports: ['8080:8080']\n    secrets:\n      - source: test_secret\n"
        "        target: /run/secrets/test_secret\nsecrets:\n  test_secret:\n    file: ./test_secret.txt\n")})
    assert "must be named .secret-" in str(refused(folder))


@pytest.mark.parametrize("text, words", [
    # spec/loader/testdata/compose-depends-on-cycle.yaml and -self.yaml
    ("services:\n  service1:\n    image: a\n    depends_on: [service2]\n  service2:\n    image: a\n"
     "    depends_on: [service3]\n  service3:\n    image: a\n    depends_on: [service1]\n",
     "dependency cycle detected: service1 -> service2 -> service3 -> service1"),
    ("services:\n  service1:\n    image: a\n    depends_on: [service1]\n", "dependency cycle detected: service1 -> service1"),
    ("# nothing but a comment\n", "empty compose file"),                                     # empty.yaml
    ("include: [compose.yaml]\nservices:\n  a:\n    image: a\n", "include cycle detected"),  # compose-include-cycle
    ("services:\n  foo:\n    extends:\n      file: remote:cycle/compose-cycle.yaml\n      service: bar\n",
     "remote file"),                                                                         # remote/cycle
    ("services:\n  a:\n    image: foo\n  b:\n    image: foo\n    ipc: 'service:a'\n", "impossible on Fargate"),
    ("services:\n  foo:\n    image: a\n    deploy:\n      resources:\n        reservations:\n          devices:\n"
     "            - capabilities: [gpu]\n", "Fargate has no GPUs"),                            # using-variables
    ("services:\n  foo:\n    image: a\n    cap_add: [ALL]\n", "Fargate cannot add the capabilities ALL"),  # full-example
    ("services:\n  nil:\n  ok:\n    image: a\n", "service 'nil'"),                             # extends/base.yaml
])
def test_corpus_refusals(tmp_path, text, words):
    folder = write(tmp_path, {"compose.yaml": text})
    assert words in str(refused(folder, entrypoint="service1" if "service2" in text else None))


def test_include_with_project_directory_and_inline_dockerfile(tmp_path):     # include/project-directory.yaml
    folder = write(tmp_path / "project", {
        "compose.yaml": "include:\n  - project_directory: ../subdir\n    path: ./dir/compose.yaml\n",
        "dir/compose.yaml": ("services:\n  service:\n    build:\n      context: .\n      dockerfile_inline: |\n"
                             "        FROM busybox\n    env_file: ./extra.env\n"),
        "../subdir/extra.env": "SOURCE=extends\n"})   # tmp_path/subdir
    app = load(folder)
    service = app.container("service")
    assert service.build.context == str(tmp_path / "subdir")
    assert service.build.dockerfile_inline.startswith("FROM busybox")
    assert service.environment == {"SOURCE": "extends"}
    # Alone, the included file's paths resolve against its own folder, where extra.env is not.
    assert "extra.env does not exist" in str(refused(folder / "dir"))


def test_extends_other_file_reset_and_git_context(tmp_path):                 # compose-test-extends*.yaml, reset.yaml
    folder = write(tmp_path, {
        "compose.yaml": ("services:\n  importer:\n    extends:\n      file: sub/base.yaml\n      service: imported\n"
                         "  git:\n    build: https://github.com/docker/compose.git\n"),
        "sub/base.yaml": ("services:\n  imported:\n    image: nginx\n    container_name: fixed\n"
                          "    env_file: extra.env\n    volumes: ['/host:/data']\n"),
        "sub/extra.env": "SOURCE=extends\n",
        "reset.yaml": ("services:\n  base:\n    image: alpine:latest\n  init:\n    extends: base\n"
                       "    command: [sleep, infinity]\n  other:\n    extends: init\n    command: !reset null\n")})
    app = load(folder, entrypoint="importer")
    assert app.container("importer").image == "nginx"
    assert app.container("importer").environment == {"SOURCE": "extends"}     # relative to the extended file
    assert warned(app, "container_name") and warned(app, "bind mount", "volumes")
    assert app.container("git").build.context == "https://github.com/docker/compose.git"
    app = load(folder, "reset.yaml", entrypoint="base")
    assert app.container("init").command == ["sleep", "infinity"] and app.container("other").command is None


def test_version_volumes_from_scaling_configs_and_udp(tmp_path):   # with-version, scaling, configfile, udp_port
    folder = write(tmp_path, {
        "test_config.txt": "config\n",
        "compose.yaml": ("version: '3.7'\nservices:\n  server:\n    image: s\n    ports: ['8080:8080', '10001:10001/udp']\n"
                         "    configs:\n      - source: test_config\n        target: /volumes/test_config.txt\n"
                         "  client:\n    image: c\n    volumes_from: [server]\n    deploy:\n      replicas: 3\n"
                         "configs:\n  test_config:\n    file: ./test_config.txt\n")})
    app = load(folder)
    assert warned(app, "obsolete", "version") and warned(app, "volumes_from") and warned(app, "config", "configs")
    assert app.replicas == 3 and warned(app, "replica")
    assert app.container("server").ports == [PortMapping(8080, host_port=8080), PortMapping(10001, "udp", 10001)]
    assert (app.entrypoint, app.routed_port) == ("server", 8080)


def test_loading_writes_nothing(tmp_path):                                   # test_corpus_is_not_written_to
    folder = write(tmp_path, {".env": "PORT=8000\n", "compose.yaml": "services:\n  a:\n    image: a\n    ports: ['${PORT}:80']\n"})
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    load(folder)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
