"""`ops local up` with a real Docker engine tells the truth about readiness (issue 24, items 1 and 2).

Two tiny APIs on the local base image, neither with a health check (as every plain Dockerfile app):
one crashes right after it starts, one serves HTTP only after a few seconds. `up` must fail for the
first, naming the container, its exit code and its output, and return for the second only once a request
gets an answer. After `down`, the same port must be usable again at once, though the connections through
Docker's port proxy still linger in TIME-WAIT.
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from ops import __main__ as cli
from ops.local.checks import port_is_free
from ops.local.runner import LABEL_TASK, task_family
from tests.docker_support import base_image, docker, docker_engine, free_port, run_id  # noqa: F401

STACK = "readytest-" + run_id()
CRASH = ("echo starting; echo \"Error: Cannot find module 'express'\" >&2; exit 3")
SLOW = "sleep 3; exec python3 -m http.server 3000"


@pytest.fixture(scope="module")
def project(tmp_path_factory, base_image) -> Path:
    root = tmp_path_factory.mktemp("readiness-project")
    apis = []
    for api, script in (("crash", CRASH), ("slow", SLOW)):
        (root / api).mkdir()
        (root / api / "compose.yaml").write_text(
            "services:\n"
            "  web:\n"
            f"    image: {base_image}\n"
            f"    command: {json.dumps(['sh', '-c', script])}\n"
            "    ports: [\"3000:3000\"]\n")
        apis.append(f"    {api}:\n      source: {root / api}\n")
    (root / "stacks").mkdir()
    (root / "stacks" / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  serverless-containers:apis:\n" + "".join(apis))
    return root


def local(project: Path, action: str, api: str, *extra: str) -> int:
    return cli.main(["local", action, "--stack", STACK, "--api", api, "--project-dir", str(project), *extra])


def left_over(api: str) -> str:
    return docker("ps", "-a", "-q", "--filter", f"label={LABEL_TASK}={task_family(STACK, api)}").stdout.strip()


def test_a_container_that_exits_first_fails_up_with_its_name_exit_code_and_output(project, capsys):
    try:
        code = local(project, "up", "crash", "--port", str(free_port()), "--wait-timeout", "60")
        captured = capsys.readouterr()
        assert code == 1, captured.out
        assert "container 'web' exited with code 3 before the API was ready" in captured.err
        assert "Cannot find module 'express'" in captured.err
        assert "is running" not in captured.out
        assert left_over("crash") == ""                 # the failed start removed what it started
    finally:
        local(project, "down", "crash")


def test_up_returns_once_the_api_answers_and_the_port_is_free_again_right_after_down(project, capsys):
    port = free_port()
    try:
        assert local(project, "up", "slow", "--port", str(port), "--wait-timeout", "60") == 0
        for _ in range(3):                              # the very first requests get answers, not resets
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
                assert answer.status == 200
        assert f"waiting until http://127.0.0.1:{port} answers HTTP" in capsys.readouterr().out
        assert local(project, "down", "slow") == 0
        # The proxy's ends of those connections wait in TIME-WAIT on the port now; Docker can bind it anyway.
        assert port_is_free(port)
        assert local(project, "up", "slow", "--port", str(port), "--wait-timeout", "60") == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            assert answer.status == 200
    finally:
        local(project, "down", "slow")
    assert left_over("slow") == ""
