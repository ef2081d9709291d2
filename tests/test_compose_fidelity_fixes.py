"""Where the loader now agrees with Docker Compose 2.40 (issue 13): override builds with only args, repeated list
entries, links, cleaned volume targets, COMPOSE_PROJECT_NAME, healthcheck NONE, and readable warnings."""
from __future__ import annotations

import pytest

from components.errors import ConfigError, LoadWarning, group_warnings
from tests.compose_helpers import load, warnings_for, write


def test_override_build_with_only_args_keeps_the_base_context_and_dockerfile(tmp_path):
    write(tmp_path, "app/Dockerfile.prod", "FROM scratch\n")
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    build:\n      args: {A: '1'}\n")
    app = load(tmp_path, "services:\n  web:\n    build: {context: ./app, dockerfile: Dockerfile.prod}\n"
                         "    ports: [80]\n")
    build = app.container("web").build
    assert (build.context, build.dockerfile, build.args) == (str(tmp_path / "app"), "Dockerfile.prod", {"A": "1"})


def test_build_without_context_still_means_the_files_folder(tmp_path):
    write(tmp_path, "Dockerfile", "FROM scratch\n")
    app = load(tmp_path, "services:\n  web:\n    build: {args: {A: '1'}}\n    ports: [80]\n")
    assert app.container("web").build.context == str(tmp_path)
    assert not warnings_for(app, "build")


def test_include_with_project_directory_keeps_its_context(tmp_path):
    write(tmp_path, "other/svc/Dockerfile", "FROM scratch\n")
    write(tmp_path, "other/compose.yaml", "services:\n  api:\n    build: ./svc\n    ports: [80]\n")
    app = load(tmp_path, "include:\n  - path: other/compose.yaml\n    project_directory: other\n")
    assert app.container("api").build.context == str(tmp_path / "other" / "svc")


def test_repeated_environment_and_ports_entries_are_accepted_with_a_warning(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    environment: [A=1, B=2, A=3, B=2]\n"
                         "    ports: ['80:80', '80:80']\n")
    web = app.container("web")
    assert web.environment == {"A": "3", "B": "2"}
    assert [(p.container_port, p.protocol) for p in web.ports] == [(80, "tcp")]
    assert "last value ('A=3') wins" in warnings_for(app, "environment.A", "web")[0]
    assert any("'80:80' twice" in m for m in warnings_for(app, "ports", "web"))
    assert any("'B=2' twice" in m for m in warnings_for(app, "environment", "web"))


def test_links_order_start_up(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    links: ['db:database', cache]\n"
                         "    depends_on: {cache: {condition: service_healthy}}\n"
                         "  db: {image: y}\n  cache: {image: z, healthcheck: {test: [CMD, 'true']}}\n")
    assert {(d.service, d.condition) for d in app.container("web").depends_on} == {
        ("db", "service_started"), ("cache", "service_healthy")}
    with pytest.raises(ConfigError, match="'nope'"):
        load(tmp_path, "services:\n  web:\n    image: x\n    links: [nope]\n")


def test_volume_targets_are_cleaned_so_overrides_replace_by_target(tmp_path):
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    volumes: ['other:/data']\n")
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    volumes: ['data:/data/', 'logs:/a/./b/../c']\n"
                         "volumes: {data: {}, other: {}, logs: {}}\n")
    assert sorted((m.volume, m.target) for m in app.container("web").mounts) == [("logs", "/a/c"), ("other", "/data")]


def test_compose_project_name_comes_from_name_or_the_folder(tmp_path):
    folder = tmp_path / "My_App"
    folder.mkdir()
    compose = "services:\n  web:\n    image: x\n    ports: [80]\n    environment: {P: '${COMPOSE_PROJECT_NAME}'}\n"
    assert load(folder, compose).container("web").environment["P"] == "my_app"
    assert load(folder, "name: shop\n" + compose).container("web").environment["P"] == "shop"
    assert load(folder, compose, environ={"COMPOSE_PROJECT_NAME": "env"}).container("web").environment["P"] == "env"
    assert not [w for w in load(folder, compose).warnings if "COMPOSE_PROJECT_NAME" in w.message]


def test_healthcheck_none_as_a_string_is_disabled_with_a_warning(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    healthcheck: {test: NONE}\n")
    assert app.container("web").healthcheck is None
    assert "CMD-SHELL NONE" in warnings_for(app, "healthcheck.test", "web")[0]
    quiet = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    healthcheck: {test: [NONE]}\n")
    assert not warnings_for(quiet, "healthcheck")


@pytest.mark.parametrize("variable, value, warns", [
    ("POSTGRES_USER", "db", False), ("CACHE_DRIVER", "redis", False), ("KC_DB", "postgres", False),
    ("DB_HOST", "db", True), ("DATABASE_URL", "postgres://u:p@db:5432/app", True), ("REDIS", "redis:6379", True),
])
def test_service_name_warning_only_for_host_like_values(tmp_path, variable, value, warns):
    other = value.split("://")[-1].split("@")[-1].split(":")[0]
    app = load(tmp_path, f"services:\n  web:\n    image: x\n    ports: [80]\n    environment: {{{variable}: '{value}'}}\n"
                         f"  {other}:\n    image: y\n")
    assert bool(warnings_for(app, f"environment.{variable}", "web")) is warns


def test_a_warning_for_many_services_is_one_line():
    warnings = [LoadWarning("same thing", file="c.yaml", service=s, key="ports") for s in ("a", "b", "c")]
    warnings.append(LoadWarning("other", file="c.yaml", service="a"))
    assert group_warnings(warnings) == ["c.yaml, services 'a', 'b', 'c', key 'ports': same thing",
                                        "c.yaml, service 'a': other"]


def test_messages_never_say_none(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    healthcheck: {test: [CMD, curl], retries: ~}\n"
                       "    cpus: [1]\n")
    assert "None" not in str(raised.value)


def test_warnings_gathered_before_an_error_are_shown_with_it(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, "services:\n  web:\n    image: x\n    ports: ['${CALLS_PORT}:${CALLS_PORT}/udp']\n")
    text = str(raised.value)
    assert "Warnings before this error" in text and "CALLS_PORT is not set" in text
    assert raised.value.service == "web"


def test_env_file_lines_load_as_compose_loads_them(tmp_path):
    write(tmp_path, ".env", 'A="\\$B"\nK: colon value\nQ="x"y\nB=bee\nC="c" # a comment\nexport E: e\n')
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n"
                         "    environment: {A: '${A}', K: '${K}', Q: '${Q}', C: '${C}', E: '${E}'}\n")
    assert app.container("web").environment == {"A": "$B", "K": "colon value", "Q": "x", "C": "c", "E": "e"}


@pytest.mark.parametrize("scalar, expected", [("1_000", "1000"), (".inf", "+Inf"), ("-.inf", "-Inf"), ("017", "15"),
                                              ("0x1F", "31"), ("1e3", "1000"), ("on", "on"), ("yes", "yes")])
def test_yaml_scalars_come_out_as_compose_reads_them(tmp_path, scalar, expected):
    app = load(tmp_path, f"services:\n  web:\n    image: x\n    ports: [80]\n    environment: {{V: {scalar}}}\n")
    assert app.container("web").environment["V"] == expected
