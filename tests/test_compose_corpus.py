"""Every file of ../shared/compose-corpus, handled as its README says.

Valid files load (some need an entrypoint: several or no services publish ports); invalid ones
raise ConfigError with the README's reason; fragments raise a ConfigError that says why they
cannot load alone; files that are valid compose but impossible on Fargate raise the Fargate
error. Support files (env files, secrets, labels) are checked through the compose file that reads
them. The corpus is read-only: tests that need extra files work on a copy in tmp_path.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Callable

import pytest

from components.compose import LoaderBugError, load_app
from components.compose.dockerfile import container_name_for
from components.errors import ConfigError
from components.compose.model import App, PortMapping
from tests.conftest import CORPUS_DIR, requires_corpus

pytestmark = requires_corpus


@dataclass
class Case:
    error: str | None = None                   # expected text of the ConfigError; None: loads
    entrypoint: str | None = None
    environ: dict[str, str] = field(default_factory=dict)
    check: Callable[[App], None] | None = None
    why: str = ""


def names(app: App) -> list[str]:
    return [c.name for c in app.containers]


def has_warning(app: App, text: str, key: str | None = None) -> bool:
    return any(text in w.message and (key is None or (w.key or "").startswith(key)) for w in app.warnings)


def _amplify_express(app: App) -> None:
    assert names(app) == ["express", "python"] and (app.entrypoint, app.routed_port) == ("express", 8080)
    assert app.container("python").ports == [PortMapping(5000, host_port=5000)]
    folder = CORPUS_DIR / "amplify" / "dockercompose-rest-express"
    assert app.container("express").build.context == str(folder / "express")
    assert has_warning(app, "does not exist", "build.context")


def _amplify_secrets(app: App) -> None:
    secret_file = CORPUS_DIR / "amplify" / "e2e-api-container-secrets" / "secrets" / ".secret-password"
    assert app.secrets["PASSWORD"].file == secret_file
    assert app.secrets["PASSWORD"].value == secret_file.read_text().rstrip("\n")
    assert app.container("express").secrets == ["PASSWORD"] == app.container("python").secrets


def _single(name: str, image: str | None = None, port: int = 80) -> Callable[[App], None]:
    def check(app: App) -> None:
        assert names(app) == [name] and app.routed_port == port
        if image:
            assert app.container(name).image == image
    return check


def _env_files(app: App) -> None:
    assert app.container("simple").environment == {"DEFAULT_PORT": "9090"}     # second-env wins over simple-env
    assert app.container("simple").ports == [PortMapping(80, host_port=8000)]  # ${PORT} from .env


def _extends_imported(app: App) -> None:
    imported = app.container("importer")
    assert imported.image == "nginx"
    assert imported.environment == {"SOURCE": "extends"}       # env_file relative to the extended file
    assert has_warning(app, "container_name") and has_warning(app, "bind mount", "volumes")


def _version_file(app: App) -> None:
    assert app.container("web").build.context == str(CORPUS_DIR / "spec/loader/testdata/Dockerfile")
    assert app.container("other").command == ["top"]
    assert has_warning(app, "obsolete", "version") and has_warning(app, "volumes_from")


def _reset(app: App) -> None:
    assert app.container("init").command == ["sleep", "infinity"]
    assert app.container("base").command is None and app.container("base").image == "alpine:latest"


def _project_directory(app: App) -> None:
    service = app.container("service")
    assert service.build.context == str(CORPUS_DIR / "spec/loader/testdata/subdir")
    assert service.build.dockerfile_inline.startswith("FROM busybox")
    assert service.environment == {"SOURCE": "extends"}


CASES: dict[str, Case] = {
    "amplify/dockercompose-rest-express/docker-compose.yml": Case(entrypoint="express", check=_amplify_express),
    "amplify/e2e-api-container-secrets/src/docker-compose.yml": Case(entrypoint="express", check=_amplify_secrets),
    "spec/cli/testdata/UNNORMALIZED PATH/compose.yaml": Case(check=_single("nginx", "nginx")),
    "spec/cli/testdata/env-file/compose-with-env-file.yaml": Case(
        check=lambda app: app.container("simple").environment == {"DEFAULT_PORT": "8080"} or pytest.fail("env")),
    "spec/cli/testdata/env-file/compose-with-env-files.yaml": Case(check=_env_files),
    "spec/cli/testdata/simple/compose-name.yaml": Case(environ={"TEST": "expected"}, check=_single("simple", "nginx")),
    "spec/cli/testdata/simple/compose-with-overrides.yaml": Case(check=_single("simple", "haproxy")),
    "spec/cli/testdata/simple/compose-with-paths.yaml": Case(
        check=lambda app: (len([w for w in app.warnings if "bind mount" in w.message]) == 3) or pytest.fail("binds")),
    "spec/cli/testdata/simple/compose-with-variables.yaml": Case(
        check=lambda app: app.container("simple").ports == [PortMapping(80, host_port=8000)] or pytest.fail("port")),
    "spec/cli/testdata/simple/compose.yaml": Case(check=_single("simple", "nginx")),
    "spec/conformance-tests/tests/different_networks/compose.yaml": Case(
        check=lambda app: (app.entrypoint, app.routed_port) == ("entry", 8080) or pytest.fail("entry")),
    "spec/conformance-tests/tests/scaling/compose.yaml": Case(
        check=lambda app: (app.replicas == 3 and has_warning(app, "replica")) or pytest.fail("replicas")),
    "spec/conformance-tests/tests/simple_configfile/compose.yaml": Case(
        check=lambda app: has_warning(app, "config", "configs") or pytest.fail("configs")),
    "spec/conformance-tests/tests/simple_lifecycle/compose.yaml": Case(check=_single("test1")),
    "spec/conformance-tests/tests/simple_network/compose.yaml": Case(
        check=lambda app: names(app) == ["entry", "target"] or pytest.fail("names")),
    "spec/conformance-tests/tests/simple_secretfile/compose.yaml": Case(
        error="must be named .secret-", why="valid compose, but the seed's rule needs ../.secret-* files"),
    "spec/conformance-tests/tests/simple_volume/compose.yaml": Case(
        check=lambda app: has_warning(app, "bind mount", "volumes") or pytest.fail("bind")),
    "spec/conformance-tests/tests/udp_port/compose.yaml": Case(
        check=lambda app: (app.container("entry").ports == [PortMapping(8080, host_port=8080),
                                                             PortMapping(10001, "udp", 10001)]
                           and app.routed_port == 8080) or pytest.fail("ports")),
    "spec/loader/full-example.yml": Case(
        error="device_cgroup_rules cannot work on Fargate", why="valid compose with privileged, devices, ipc: host..."),
    "spec/loader/testdata/combined/compose.yaml": Case(
        check=lambda app: app.container("service").build.context == str(CORPUS_DIR / "spec/loader/testdata/combined/dir")
        or pytest.fail("context")),
    "spec/loader/testdata/combined/dir/extended.yaml": Case(check=_single("service")),
    "spec/loader/testdata/combined/dir/included.yaml": Case(check=_single("service")),
    "spec/loader/testdata/compose-depends-on-cycle.yaml": Case(
        error="dependency cycle detected: service1 -> service2 -> service3 -> service1", entrypoint="service1"),
    "spec/loader/testdata/compose-depends-on-profile-no-cycle.yaml": Case(
        error="dependency cycle detected: service1 -> service2 -> service3 -> service1", entrypoint="service1",
        why="byte-identical to the cycle file"),
    "spec/loader/testdata/compose-depends-on-self.yaml": Case(error="dependency cycle detected: service1 -> service1"),
    "spec/loader/testdata/compose-include-cycle.yaml": Case(error="include cycle detected"),
    "spec/loader/testdata/compose-include.yaml": Case(
        entrypoint="bar",
        check=lambda app: (names(app) == ["bar", "imported"] and app.container("bar").environment == {"FOO": "BAR"}
                           and app.container("imported").environment == {"SOURCE": "extends"}) or pytest.fail("incl")),
    "spec/loader/testdata/compose-test-extends-with-context-url-imported.yaml": Case(
        check=lambda app: app.containers[0].build.context == "https://github.com/docker/compose.git" or pytest.fail("url")),
    "spec/loader/testdata/compose-test-extends-with-context-url.yaml": Case(
        check=lambda app: app.container("importer-with-https-url").build.context == "https://github.com/docker/compose.git"
        or pytest.fail("url")),
    "spec/loader/testdata/compose-test-extends.yaml": Case(check=_extends_imported),
    "spec/loader/testdata/compose-test-with-version.yaml": Case(entrypoint="web", check=_version_file),
    "spec/loader/testdata/empty.yaml": Case(error="empty compose file"),
    "spec/loader/testdata/extends/base.yaml": Case(
        error="service 'nil'", why="fragment: the null service 'nil' fails the schema (compose-go skips validation)"),
    "spec/loader/testdata/extends/depends_on.yaml": Case(
        error="impossible on Fargate", why="ipc/network_mode: service:zot cannot work on Fargate"),
    "spec/loader/testdata/extends/interpolated.yaml": Case(
        check=lambda app: has_warning(app, "/dev/null", "volumes") or pytest.fail("default")),
    "spec/loader/testdata/extends/nested.yaml": Case(
        check=lambda app: app.container("with-build").build.context == str(CORPUS_DIR / "spec/loader/testdata/extends")
        or pytest.fail("context")),
    "spec/loader/testdata/extends/ports.yaml": Case(check=_single("test", "test", 8080)),
    "spec/loader/testdata/extends/reset.yaml": Case(entrypoint="base", check=_reset),
    "spec/loader/testdata/extends/sibling.yaml": Case(check=_single("test")),
    "spec/loader/testdata/extends/withdir/compose.yaml": Case(check=_single("test", "hello-world")),
    "spec/loader/testdata/extends/withdir/dir/base.yaml": Case(check=_single("test", "hello-world")),
    "spec/loader/testdata/extends/withdir/dir/compose.yaml": Case(check=_single("test", "hello-world")),
    "spec/loader/testdata/include/compose.yaml": Case(check=_single("included")),
    "spec/loader/testdata/include/dir/compose.yaml": Case(
        error="extra.env does not exist", why="fragment: its paths resolve only with project_directory ../subdir"),
    "spec/loader/testdata/include/included.yaml": Case(check=_single("included")),
    "spec/loader/testdata/include/project-directory.yaml": Case(check=_project_directory),
    "spec/loader/testdata/remote/compose.yaml": Case(
        check=lambda app: app.container("foo").environment == {"FOO": "BAR"} or pytest.fail("env")),
    "spec/loader/testdata/remote/cycle/compose-cycle.yaml": Case(error="remote file", why="test-only remote: scheme"),
    "spec/loader/testdata/remote/cycle/compose.yaml": Case(error="remote file", why="test-only remote: scheme"),
    "spec/loader/testdata/remote/nested/compose-nested.yaml": Case(check=_single("bar", "bar")),
    "spec/loader/testdata/remote/nested/compose.yaml": Case(error="remote file", why="test-only remote: scheme"),
    "spec/loader/testdata/subdir/compose-test-extends-imported.yaml": Case(
        check=lambda app: app.container("imported").environment == {"SOURCE": "extends"} or pytest.fail("env")),
    "spec/schema/using-variables.yaml": Case(
        error="Fargate has no GPUs", why="schema-only example: every value is ${VARIABLE}, unset here"),
}

# Files the compose files read; each is checked by the compose test named here.
SUPPORT_FILES = {
    "README.md": None,
    "amplify/e2e-api-container-secrets/secrets/.secret-password": "amplify/e2e-api-container-secrets/src/docker-compose.yml",
    "spec/cli/testdata/env-file/.env": "spec/cli/testdata/env-file/compose-with-env-files.yaml",
    "spec/cli/testdata/env-file/override.env": None,    # test_override_env_file below
    "spec/cli/testdata/env-file/second-env": "spec/cli/testdata/env-file/compose-with-env-files.yaml",
    "spec/cli/testdata/env-file/simple-env": "spec/cli/testdata/env-file/compose-with-env-file.yaml",
    "spec/cli/testdata/simple/.env": "spec/cli/testdata/simple/compose-with-variables.yaml",
    "spec/conformance-tests/tests/simple_configfile/test_config.txt": "spec/conformance-tests/tests/simple_configfile/compose.yaml",
    "spec/conformance-tests/tests/simple_secretfile/test_secret.txt": None,   # test_conformance_secret_renamed
    "spec/conformance-tests/tests/simple_volume/test_volume.txt": "spec/conformance-tests/tests/simple_volume/compose.yaml",
    "spec/loader/example1.env": None,       # tests/test_compose_fargate.py::test_full_example_without_impossible_keys...
    "spec/loader/example2.env": None,
    "spec/loader/example1.label": None,
    "spec/loader/example2.label": None,
    "spec/loader/testdata/subdir/extra.env": "spec/loader/testdata/compose-test-extends.yaml",
    "spec/loader/testdata/remote/env": "spec/loader/testdata/remote/compose.yaml",
}


def corpus_files() -> set[str]:
    assert CORPUS_DIR.is_dir(), f"the compose corpus is missing at {CORPUS_DIR}"
    return {path.relative_to(CORPUS_DIR).as_posix() for path in CORPUS_DIR.rglob("*") if path.is_file()}


def test_every_corpus_file_has_an_expectation():
    files = corpus_files()
    assert files == set(CASES) | set(SUPPORT_FILES), (
        f"no expectation for: {sorted(files - set(CASES) - set(SUPPORT_FILES))}; "
        f"expected but missing: {sorted(set(CASES) | set(SUPPORT_FILES) - files)}")
    for support, user in SUPPORT_FILES.items():
        if user is not None:
            assert user in CASES and CASES[user].error is None


def _load(relative: str, case: Case) -> App:
    path = CORPUS_DIR / relative
    return load_app(path.parent, [path.name], entrypoint=case.entrypoint, environ=case.environ)


@pytest.mark.parametrize("relative", sorted(CASES))
def test_corpus_file(relative):
    case = CASES[relative]
    if case.error is None:
        app = _load(relative, case)
        assert app.entrypoint in names(app)
        assert app.routed_port in [p.container_port for p in app.container(app.entrypoint).ports]
        if case.check:
            case.check(app)
    else:
        with pytest.raises(ConfigError) as error:
            _load(relative, case)
        assert not isinstance(error.value, LoaderBugError)
        assert case.error in str(error.value)


def test_unnormalized_path_gives_a_normalized_name():
    assert container_name_for(CORPUS_DIR / "spec/cli/testdata/UNNORMALIZED PATH") == "unnormalizedpath"


def test_env_file_folder_discovers_compose_file_from_dotenv():
    app = load_app(CORPUS_DIR / "spec/cli/testdata/env-file", environ={})
    assert app.compose_files == [CORPUS_DIR / "spec/cli/testdata/env-file/compose-with-env-file.yaml"]


def test_override_env_file():
    """override.env is what compose-go's CLI test passes with --env-file: its PORT replaces .env's."""
    from components.compose.interpolate import read_env_file
    folder = CORPUS_DIR / "spec/cli/testdata/env-file"
    environ = {k: v for k, v in read_env_file(folder / "override.env", {}).items() if v is not None}
    app = load_app(folder, ["compose-with-env-files.yaml"], environ=environ)
    assert app.container("simple").ports == [PortMapping(80, host_port=9000)]


def test_amplify_sample_needs_an_entrypoint():
    with pytest.raises(ConfigError) as error:
        load_app(CORPUS_DIR / "amplify/dockercompose-rest-express", environ={})
    assert "express, python" in error.value.fix


def test_amplify_secrets_sample_without_the_secret_file(tmp_path):
    shutil.copytree(CORPUS_DIR / "amplify/e2e-api-container-secrets/src", tmp_path / "src")
    with pytest.raises(ConfigError) as error:
        load_app(tmp_path / "src", entrypoint="express", environ={})
    assert str(tmp_path / "secrets" / ".secret-password") in str(error.value)
    assert error.value.key == "secrets.PASSWORD.file"
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / ".secret-password").write_text("hunter2\n")
    app = load_app(tmp_path / "src", entrypoint="express", environ={})
    assert app.secrets["PASSWORD"].value == "hunter2"
    # With the build contexts present the only remaining warnings are the Fargate ones.
    for name in ("express", "python"):
        (tmp_path / "src" / name).mkdir()
        (tmp_path / "src" / name / "Dockerfile").write_text("FROM scratch\n")
    app = load_app(tmp_path / "src", entrypoint="express", environ={})
    assert not [w for w in app.warnings if w.key and w.key.startswith("build")]


def test_conformance_secret_renamed_loads(tmp_path):
    source = CORPUS_DIR / "spec/conformance-tests/tests/simple_secretfile"
    shutil.copytree(source, tmp_path / "app")
    (tmp_path / ".secret-test").write_bytes((source / "test_secret.txt").read_bytes())
    compose = tmp_path / "app" / "compose.yaml"
    compose.write_text(compose.read_text().replace("./test_secret.txt", "../.secret-test"))
    app = load_app(tmp_path / "app", environ={})
    assert app.secrets["test_secret"].value == "MYSECRET"
    assert has_warning(app, "not a file", "secrets[0]")


def test_corpus_is_not_written_to():
    before = {p: p.stat().st_mtime_ns for p in CORPUS_DIR.rglob("*")}
    for relative, case in CASES.items():
        try:
            _load(relative, case)
        except ConfigError:
            pass
    assert {p: p.stat().st_mtime_ns for p in CORPUS_DIR.rglob("*")} == before
