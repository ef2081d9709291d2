"""Compose keys ECS honours on Fargate (issue 13): restart, labels, read_only, init, stop_grace_period, ulimits,
cap_drop/cap_add and network_mode service:X, from the compose file to the container definition botocore accepts."""
from __future__ import annotations

import pytest

from components.compose.runtime import DEFAULT_CAPABILITIES, capability_changes
from components.errors import ConfigError
from components.task_plan import container_definitions
from tests.compose_helpers import load, warnings_for
from tests.infra_helpers import botocore_errors

FULL = """\
services:
  web:
    image: nginx:1.27
    ports: ['80:80']
    restart: unless-stopped
    labels:
      traefik.enable: "true"
      com.example.team: web
    read_only: true
    init: true
    stop_grace_period: 1m30s
    ulimits:
      nofile: {soft: 20000, hard: 40000}
    cap_drop: [ALL]
    cap_add: [CHOWN, SETUID, SETGID, NET_BIND_SERVICE]
  worker:
    image: busybox:1
    network_mode: "service:web"
    restart: on-failure
    ulimits: {nofile: 2048}
    cap_add: [SYS_PTRACE]
    cap_drop: [NET_RAW]
"""


def definitions(app) -> dict[str, dict]:
    rendered = container_definitions(app, images={c.name: c.image or "img" for c in app.containers},
                                     log_groups={c.name: f"/g/{c.name}" for c in app.containers}, region="us-east-1")
    return {d["name"]: d for d in rendered.definitions}


@pytest.fixture
def app(tmp_path):
    return load(tmp_path, FULL)


def test_keys_become_the_container_definition(app):
    web = definitions(app)["web"]
    assert web["restartPolicy"] == {"enabled": True, "restartAttemptPeriod": 60}
    assert web["dockerLabels"] == {"traefik.enable": "true", "com.example.team": "web"}
    assert web["readonlyRootFilesystem"] is True
    assert web["stopTimeout"] == 90
    assert web["ulimits"] == [{"name": "nofile", "softLimit": 20000, "hardLimit": 40000}]
    assert web["linuxParameters"]["initProcessEnabled"] is True
    kept = {"CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE"}
    assert web["linuxParameters"]["capabilities"] == {"drop": [c for c in DEFAULT_CAPABILITIES if c not in kept]}
    worker = definitions(app)["worker"]
    assert worker["restartPolicy"] == {"enabled": True, "restartAttemptPeriod": 60, "ignoredExitCodes": [0]}
    assert worker["ulimits"] == [{"name": "nofile", "softLimit": 2048, "hardLimit": 2048}]
    assert worker["linuxParameters"] == {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}}
    assert "readonlyRootFilesystem" not in worker and "stopTimeout" not in worker and "dockerLabels" not in worker


def test_definitions_pass_the_ecs_model(app):
    request = {"family": "f", "containerDefinitions": list(definitions(app).values()), "networkMode": "awsvpc",
               "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512"}
    assert botocore_errors("ecs", "RegisterTaskDefinition", request) == ""


def test_honoured_keys_do_not_warn_and_network_mode_of_a_sibling_is_a_note(app):
    keys = {w.key for w in app.warnings if w.service == "web"}
    assert not keys & {"restart", "labels", "read_only", "init", "stop_grace_period", "ulimits", "cap_drop", "cap_add"}
    note = warnings_for(app, "network_mode", "worker")
    assert len(note) == 1 and "shares one network namespace with 'web' already" in note[0]


def test_stop_grace_period_is_capped_at_the_fargate_maximum(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    stop_grace_period: 5m\n")
    assert definitions(app)["web"]["stopTimeout"] == 120
    assert "120 s" in warnings_for(app, "stop_grace_period", "web")[0]


def test_ulimits_other_than_nofile_warn_and_nofile_is_capped(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n"
                         "    ulimits: {nproc: 65535, nofile: {soft: 10, hard: 2000000}}\n")
    assert definitions(app)["web"]["ulimits"] == [{"name": "nofile", "softLimit": 10, "hardLimit": 1048576}]
    assert "only nofile" in warnings_for(app, "ulimits.nproc", "web")[0]
    assert "1048576" in warnings_for(app, "ulimits.nofile", "web")[0]


@pytest.mark.parametrize("fragment, key", [
    ("ulimits: {nofile: {soft: 9, hard: 5}}", "ulimits.nofile"),
    ("restart: sometimes", "restart"),
    ("cap_add: [NET_ADMIN]", "cap_add"),
    ("stop_grace_period: soon", "stop_grace_period"),
])
def test_bad_values_are_errors(tmp_path, fragment, key):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f"services:\n  web:\n    image: x\n    ports: [80]\n    {fragment}\n")
    assert (raised.value.service, raised.value.key) == ("web", key) and raised.value.fix


def test_restart_retry_limit_and_deploy_restart_policy(tmp_path):
    app = load(tmp_path, "services:\n  web:\n    image: x\n    ports: [80]\n    restart: on-failure:5\n"
                         "  job:\n    image: x\n    deploy: {restart_policy: {condition: any}}\n"
                         "  off:\n    image: x\n    restart: 'no'\n")
    rendered = definitions(app)
    assert rendered["web"]["restartPolicy"]["ignoredExitCodes"] == [0]
    assert "limit 5 is not applied" in warnings_for(app, "restart", "web")[0]
    assert rendered["job"]["restartPolicy"] == {"enabled": True, "restartAttemptPeriod": 60}
    assert "restartPolicy" not in rendered["off"]


@pytest.mark.parametrize("add, drop, expected", [
    ([], ["ALL"], ([], ["ALL"], [])),
    (["CHOWN"], [], ([], [], [])),                      # a default capability is already there
    (["cap_sys_ptrace"], ["ALL"], (["SYS_PTRACE"], ["ALL"], [])),
    (["ALL"], [], ([], [], ["ALL"])),
    (["NET_RAW"], ["NET_RAW"], ([], [], [])),            # dropped and added back: kept
])
def test_capability_changes(add, drop, expected):
    assert capability_changes(add, drop) == expected
