"""The routed port and the entrypoint when nothing publishes a port (issue 13): apis.NAME.port, Traefik labels,
expose, TCP before UDP, and the warnings."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.compose import load_app
from components.errors import ConfigError
from ops.plan import mockrun

program = pytest.importorskip("components.program")


def write(root: Path, text: str, name: str = "compose.yaml") -> Path:
    (root / name).write_text(text)
    return root


PROXIED = """\
services:
  proxy:
    image: traefik:v3
  app:
    image: louislam/uptime-kuma:1
    labels:
      traefik.enable: "true"
      traefik.http.routers.kuma.rule: Host(`status.example.com`)
      traefik.http.services.kuma.loadbalancer.server.port: "3001"
  db:
    image: mariadb:11
    expose: ["3306"]
"""


def test_traefik_router_labels_pick_the_entrypoint_and_its_port(tmp_path):
    app = load_app(write(tmp_path, PROXIED))
    assert (app.entrypoint, app.routed_port) == ("app", 3001)
    assert [(p.container_port, p.protocol) for p in app.container("app").ports] == [(3001, "tcp")]
    assert not [w for w in app.warnings if w.key == "ports"]


def test_several_traefik_routed_services_must_be_named(tmp_path):
    text = PROXIED + "  admin:\n    image: adminer:4\n    labels: [\"traefik.http.routers.adm.rule=Host(`a`)\"]\n"
    with pytest.raises(ConfigError) as raised:
        load_app(write(tmp_path, text))
    assert raised.value.key == "entrypoint" and "app, admin" in raised.value.fix
    assert (load_app(tmp_path, entrypoint="admin").entrypoint) == "admin"


def test_traefik_disabled_service_is_not_routed(tmp_path):
    text = PROXIED.replace('traefik.enable: "true"', 'traefik.enable: "false"')
    with pytest.raises(ConfigError, match="no container publishes a TCP port"):
        load_app(write(tmp_path, text))


def test_stack_port_wins(tmp_path):
    app = load_app(write(tmp_path, PROXIED), port=8443)
    assert (app.entrypoint, app.routed_port) == ("app", 8443)
    assert (8443, "tcp") in [(p.container_port, p.protocol) for p in app.container("app").ports]
    app = load_app(write(tmp_path, "services:\n  web:\n    image: x\n    ports: ['80:80', '9000:9000']\n"), port=9000)
    assert app.routed_port == 9000 and [p.container_port for p in app.container("web").ports] == [80, 9000]


def test_expose_is_used_when_no_label_names_a_port(tmp_path):
    app = load_app(write(tmp_path, "services:\n  web:\n    image: actualbudget/actual-server:24\n"
                                   "    expose: ['5006']\n"))
    assert app.routed_port == 5006 and not [w for w in app.warnings if w.key == "ports"]


def test_port_80_is_the_last_resort_with_a_warning(tmp_path):
    app = load_app(write(tmp_path, "services:\n  web:\n    image: x\n"))
    assert app.routed_port == 80
    warning = next(w for w in app.warnings if w.key == "ports")
    assert "port 80" in warning.message and "apis.<api>.port" in warning.message


def test_the_routed_port_is_the_first_tcp_entry(tmp_path):
    app = load_app(write(tmp_path, "services:\n  web:\n    image: x\n    ports: ['53:53/udp', '8080:8080']\n"))
    assert app.routed_port == 8080


def test_routing_to_a_database_image_warns(tmp_path):
    app = load_app(write(tmp_path, "services:\n  db:\n    image: postgres:16\n    ports: ['5432:5432']\n"))
    warning = next(w for w in app.warnings if w.key == "entrypoint")
    assert "database image postgres" in warning.message and warning.service == "db"


def test_dockerfile_app_takes_the_stack_port(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCMD [\"/app\"]\n")
    app = load_app(tmp_path, port=3000)
    assert app.routed_port == 3000 and not app.warnings


@pytest.mark.parametrize("value", [0, 70000, "80", True])
def test_port_key_must_be_a_tcp_port(tmp_path, value):
    write(tmp_path, "services:\n  web:\n    image: x\n    ports: ['80:80']\n")
    with pytest.raises(ConfigError) as raised:
        mockrun.run(program.main, config={"apis": {"web": {"source": str(tmp_path), "auth": False, "port": value}}},
                    stack="dev")
    assert raised.value.key == "serverless-containers:apis.web.port"


def test_stack_port_reaches_cloud_map_and_the_firewall(tmp_path):
    write(tmp_path, PROXIED)
    result = mockrun.run(program.main, config={"apis": {"kuma": {"source": str(tmp_path), "auth": False,
                                                                 "port": 3002}}}, stack="dev")
    service = result.one("aws:ecs/service:Service")
    assert service.inputs["serviceRegistries"]["containerName"] == "app"
    assert service.inputs["serviceRegistries"]["containerPort"] == 3002
    rule = result.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "kuma-firewall-task-from-vpc-link")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (3002, 3002)
