"""Dockerfile-only sources: EXPOSE in its forms, multi-stage builds, variables, HEALTHCHECK."""
from __future__ import annotations

import pytest

from components.compose import load_app
from components.compose.dockerfile import container_name_for, read_dockerfile
from components.errors import ConfigError
from components.compose.model import HealthCheck, PortMapping
from tests.compose_helpers import write


def facts(tmp_path, text):
    return read_dockerfile(write(tmp_path, "Dockerfile", text))


def ports(tmp_path, text):
    return [(p.container_port, p.protocol) for p in facts(tmp_path, text).ports]


def test_several_ports_per_line_and_protocols(tmp_path):
    assert ports(tmp_path, "FROM x\nEXPOSE 8080 9090/tcp\nexpose 8080/udp\n") == [(8080, "tcp"), (9090, "tcp"), (8080, "udp")]


def test_port_range(tmp_path):
    found = facts(tmp_path, "FROM x\nEXPOSE 7000-7002\n")
    assert [p.container_port for p in found.ports] == [7000, 7001, 7002]
    assert any("range" in w.message for w in found.warnings)


def test_duplicates_are_dropped(tmp_path):
    assert ports(tmp_path, "FROM x\nEXPOSE 80\nEXPOSE 80/tcp 81\n") == [(80, "tcp"), (81, "tcp")]


def test_final_stage_only(tmp_path):
    text = "FROM node AS build\nEXPOSE 9999\nRUN npm ci\nFROM node:slim\nEXPOSE 3000\n"
    assert ports(tmp_path, text) == [(3000, "tcp")]


def test_stage_inherits_from_a_named_stage(tmp_path):
    text = "FROM node AS base\nEXPOSE 3000\nENV PORT=4000\nFROM base AS final\nEXPOSE $PORT\n"
    assert ports(tmp_path, text) == [(3000, "tcp"), (4000, "tcp")]


def test_arg_and_env_substitution(tmp_path):
    text = ("ARG GLOBAL=1\nFROM x\nARG PORT=8080\nARG GLOBAL\nENV ADMIN_PORT=9000 OTHER=x\nENV LEGACY 7000\n"
            "EXPOSE ${PORT} $ADMIN_PORT ${LEGACY}/udp ${MISSING:-5000} 600${GLOBAL}\n")
    assert ports(tmp_path, text) == [(8080, "tcp"), (9000, "tcp"), (7000, "udp"), (5000, "tcp"), (6001, "tcp")]


def test_arg_without_default_is_skipped_with_a_warning(tmp_path):
    found = facts(tmp_path, "FROM x\nARG PORT\nEXPOSE $PORT 80\n")
    assert [p.container_port for p in found.ports] == [80]
    assert any("$PORT" in w.message for w in found.warnings)


def test_global_arg_is_not_visible_without_redeclaring(tmp_path):
    found = facts(tmp_path, "ARG PORT=1234\nFROM x\nEXPOSE $PORT\n")
    assert found.ports == [] and found.warnings


def test_continuations_comments_and_heredocs(tmp_path):
    text = ("# syntax=docker/dockerfile:1\nFROM x\nRUN <<EOF\nEXPOSE 1111\nEOF\nEXPOSE 80 \\\n"
            "  # a comment inside\n  81\n")
    assert ports(tmp_path, text) == [(80, "tcp"), (81, "tcp")]


def test_escape_directive(tmp_path):
    assert ports(tmp_path, "# escape=`\nFROM x\nEXPOSE 80 `\n 81\n") == [(80, "tcp"), (81, "tcp")]


@pytest.mark.parametrize("line", ["EXPOSE abc", "EXPOSE 80/sctp", "EXPOSE 70000"])
def test_bad_expose_is_an_error(tmp_path, line):
    with pytest.raises(ConfigError) as error:
        facts(tmp_path, f"FROM x\n{line}\n")
    assert error.value.key == "EXPOSE" and "line 2" in str(error.value)


def test_no_from_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="FROM"):
        facts(tmp_path, "EXPOSE 80\n")


@pytest.mark.parametrize("line, expected", [
    ("HEALTHCHECK --interval=5s --timeout=3s --retries=4 --start-period=1m CMD curl -f http://localhost/ || exit 1",
     HealthCheck(("CMD-SHELL", "curl -f http://localhost/ || exit 1"), 5.0, 3.0, 4, 60.0)),
    ('HEALTHCHECK CMD ["wget", "-q", "localhost"]', HealthCheck(("CMD", "wget", "-q", "localhost"))),
    ("HEALTHCHECK NONE", None),
])
def test_healthcheck_becomes_the_ecs_health_check(tmp_path, line, expected):
    assert facts(tmp_path, f"FROM x\n{line}\n").healthcheck == expected


def test_bad_healthcheck_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="HEALTHCHECK"):
        facts(tmp_path, "FROM x\nHEALTHCHECK --interval=5 CMD true\n")


def test_dockerfile_app_routes_the_first_tcp_port(tmp_path):
    write(tmp_path, "Dockerfile", "FROM x\nEXPOSE 5353/udp 8080 9090\n")
    app = load_app(tmp_path, environ={})
    container = app.containers[0]
    assert container.ports == [PortMapping(5353, "udp"), PortMapping(8080), PortMapping(9090)]
    assert app.routed_port == 8080 and app.entrypoint == container.name
    assert (app.cpu, app.memory, app.replicas) == (256, 512, 1)


def test_no_expose_means_port_80_with_a_warning(tmp_path):
    write(tmp_path, "Dockerfile", "FROM x\nCMD [\"serve\"]\n")
    app = load_app(tmp_path, environ={})
    assert app.routed_port == 80 and app.containers[0].ports == [PortMapping(80)]
    assert any("80" in w.message and w.key == "EXPOSE" for w in app.warnings)


def test_udp_only_is_an_error(tmp_path):
    write(tmp_path, "Dockerfile", "FROM x\nEXPOSE 53/udp\n")
    with pytest.raises(ConfigError, match="TCP"):
        load_app(tmp_path, environ={})


def test_lowercase_dockerfile_name(tmp_path):
    write(tmp_path, "dockerfile", "FROM x\nEXPOSE 81\n")
    app = load_app(tmp_path, environ={})
    assert app.routed_port == 81 and app.containers[0].build.dockerfile == "dockerfile"


def test_entrypoint_must_match_the_one_container(tmp_path):
    folder = tmp_path / "api"
    write(folder, "Dockerfile", "FROM x\n")
    assert load_app(folder, entrypoint="api", environ={}).entrypoint == "api"
    with pytest.raises(ConfigError, match="'api'"):
        load_app(folder, entrypoint="web", environ={})


def test_compose_file_wins_over_dockerfile(tmp_path):
    write(tmp_path, "Dockerfile", "FROM x\nEXPOSE 1\n")
    write(tmp_path, "compose.yaml", "services: {web: {build: ., ports: [8080]}}")
    app = load_app(tmp_path, environ={})
    assert app.entrypoint == "web" and app.routed_port == 8080


@pytest.mark.parametrize("folder, name", [("UNNORMALIZED PATH", "unnormalizedpath"), ("My_App-2", "my_app-2"),
                                          ("---", "app"), ("Über", "ber")])
def test_container_name_from_the_folder(tmp_path, folder, name):
    assert container_name_for(tmp_path / folder) == name


def test_non_utf8_dockerfile_is_an_error(tmp_path):
    (tmp_path / "Dockerfile").write_bytes(b"FROM x\nEXPOSE \xff\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_app(tmp_path, environ={})
