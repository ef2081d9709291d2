"""The routed port needs a TCP mapping, and any TCP entry for that port will do (issue 24, item 8).

A DNS server publishes port 53 twice, UDP and TCP, often UDP first. API Gateway reaches the entrypoint over TCP,
so the program must find the TCP entry wherever it stands, and refuse only a port that has no TCP entry at all.
"""
from __future__ import annotations

import json

import pytest

from components import prepare, program
from components.errors import ConfigError
from ops.plan import mockrun

COMPOSE = """\
services:
  dns:
    image: technitium/dns-server:13.2
    ports: [{ports}]
"""


def _app(tmp_path, ports: str):
    folder = tmp_path / "dns"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE.format(ports=ports))
    return folder


def _run(folder, **api):
    return mockrun.run(program.main, config={"apis": {"dns": {"source": str(folder), "auth": False, **api}}})


def test_a_tcp_entry_after_a_udp_entry_for_the_same_port_is_routed(tmp_path):
    result = _run(_app(tmp_path, '"53:53/udp", "53:53/tcp", "5380:5380/tcp"'))
    (task,) = result.of_type("aws:ecs/taskDefinition:TaskDefinition")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert [(m["containerPort"], m["protocol"]) for m in container["portMappings"]] == \
        [(53, "udp"), (53, "tcp"), (5380, "tcp")]
    (service,) = result.of_type("aws:ecs/service:Service")
    assert service.inputs["serviceRegistries"]["containerPort"] == 53
    assert service.inputs["serviceRegistries"]["containerName"] == "dns"
    (ingress,) = result.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == ("tcp", 53, 53)


def test_the_stack_can_route_to_the_other_tcp_port(tmp_path):
    result = _run(_app(tmp_path, '"53:53/udp", "53:53/tcp", "5380:5380/tcp"'), port=5380)
    (service,) = result.of_type("aws:ecs/service:Service")
    assert service.inputs["serviceRegistries"]["containerPort"] == 5380


def test_a_port_published_only_as_udp_is_still_refused(tmp_path, monkeypatch):
    # The loader never picks a UDP-only port; an App that routes to one anyway is refused by the program.
    from components.compose.model import App, Container, PortMapping

    folder = _app(tmp_path, '"53:53/udp"')
    udp_only = App(source_dir=folder, compose_files=[folder / "compose.yaml"], entrypoint="dns", routed_port=53,
                   containers=[Container(name="dns", image="x", ports=[PortMapping(53, "udp"), PortMapping(5380)])])
    monkeypatch.setattr(prepare, "load_app", lambda *args, **kwargs: udp_only)
    with pytest.raises(ConfigError) as raised:
        _run(folder)
    assert raised.value.service == "dns" and raised.value.key == "ports" and "TCP" in raised.value.problem
