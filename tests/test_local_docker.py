"""`python -m ops local` with a real Docker engine: the two-container sample, run like its Fargate task.

Builds the local base image (once per machine), builds the `multi` sample's two images on it, starts
them in one network namespace and checks, from the host and from the containers' own answers, that:
the entrypoint answers on loopback; express reaches python over localhost; the secret arrived as an
environment variable (compared by hash, never printed); python became healthy before express
started; only the entrypoint's port is published, on 127.0.0.1; and `down` leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ops import __main__ as cli
from ops.local.runner import LABEL_TASK, task_family
from tests.docker_support import (PROJECT_DIR, base_image, docker, docker_engine, free_port,  # noqa: F401
                                  remove_stack_images, run_id)

# pytest-xdist may spread this module's tests over workers; each runs its own task, by its own name.
STACK = "localtest-" + run_id()
FAMILY = task_family(STACK, "multi")
SECRET_FILE = PROJECT_DIR / "apps" / "secrets" / ".secret-api-token"


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder whose only stack points at the real `apps/multi` sample."""
    root = tmp_path_factory.mktemp("local-project")
    (root / "stacks").mkdir()
    (root / "stacks" / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  serverless-containers:apis:\n"
        "    multi:\n"
        f"      source: {PROJECT_DIR / 'apps' / 'multi'}\n"
        "      composeFiles: [docker-compose.yml]\n"
        "      entrypoint: express\n")
    return root


@pytest.fixture(scope="module")
def running_multi(project, base_image):
    port = free_port()
    common = ["--stack", STACK, "--api", "multi", "--project-dir", str(project)]
    code = cli.main(["local", "build", *common, "--base-image", base_image, "--quiet"])
    assert code == 0, "ops local build failed (see the captured stderr)"
    code = cli.main(["local", "up", *common, "--no-build", "--port", str(port), "--wait-timeout", "120"])
    try:
        assert code == 0, "ops local up failed (see the captured stderr)"
        yield port
    finally:
        cli.main(["local", "down", *common])
        remove_stack_images(STACK)


def started_at(details: dict) -> float:
    from datetime import datetime

    stamp = details["State"]["StartedAt"]            # RFC 3339 with nanoseconds, in UTC
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))


def inspect(name: str) -> dict:
    return json.loads(docker("inspect", name).stdout)[0]


def test_the_entrypoint_answers_on_localhost(running_multi):
    status, body = get_json(f"http://127.0.0.1:{running_multi}/")
    assert status == 200 and body["service"] == "express"


def test_express_reaches_python_over_localhost(running_multi):
    status, body = get_json(f"http://127.0.0.1:{running_multi}/python")
    assert status == 200, body
    assert body["via"] == "http://localhost:5000"
    assert body["python"]["service"] == "python"
    # python saw the call come from the loopback interface: both share one network namespace.
    assert body["python"]["client"] == "127.0.0.1"


def test_the_secret_arrived_as_an_environment_variable(running_multi):
    expected = SECRET_FILE.read_text()
    status, body = get_json(f"http://127.0.0.1:{running_multi}/secret")
    assert status == 200
    assert body["present"] is True and body["source"] == "environment"
    assert body["length"] == len(expected)
    assert body["sha256"] == hashlib.sha256(expected.encode()).hexdigest()
    # The value is in no command line docker recorded for the container.
    express = inspect(f"{FAMILY}.express")
    assert not any(expected in word for word in [*express["Config"]["Cmd"], *express["Args"]])
    python = inspect(f"{FAMILY}.python")
    assert not any(e.startswith("API_TOKEN=") for e in python["Config"]["Env"])


def test_containers_share_one_namespace_and_only_the_entrypoint_port_is_published_on_loopback(running_multi):
    pause = inspect(FAMILY)
    assert pause["HostConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(running_multi)}]}
    for container in ("express", "python"):
        details = inspect(f"{FAMILY}.{container}")
        assert details["HostConfig"]["NetworkMode"] == f"container:{pause['Id']}"
        assert not details["HostConfig"]["PortBindings"]
        assert details["Config"]["Labels"][LABEL_TASK] == FAMILY


def test_health_checks_ran_and_python_was_healthy_before_express_started(running_multi):
    python, express = inspect(f"{FAMILY}.python"), inspect(f"{FAMILY}.express")
    assert python["State"]["Health"]["Status"] == "healthy"
    assert express["State"]["Health"]["Status"] == "healthy"
    assert express["Config"]["Healthcheck"]["Test"][0] == "CMD-SHELL"
    assert "node -e" in express["Config"]["Healthcheck"]["Test"][1]
    # Docker's first probe runs one interval (5 s in the compose file) after the start, so python
    # cannot be healthy sooner; express started only after that, not right after python.
    waited = started_at(express) - started_at(python)
    assert waited >= 4.9, f"express started {waited:.1f} s after python, before python could be healthy"


def test_down_removes_everything_it_started(project, running_multi):
    assert docker("ps", "-aq", "--filter", f"label={LABEL_TASK}={FAMILY}").stdout.split()
    code = cli.main(["local", "down", "--stack", STACK, "--api", "multi", "--project-dir", str(project)])
    assert code == 0
    assert docker("ps", "-aq", "--filter", f"label={LABEL_TASK}={FAMILY}").stdout.split() == []


def read_when_listening(url: str, attempts: int = 60) -> str:
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode()
        except (ConnectionError, urllib.error.URLError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _project_with(tmp_path: Path, compose: str, stack: str, extra: str = "") -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "docker-compose.yml").write_text(compose)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  serverless-containers:apis:\n    app:\n      source: {source}\n      entrypoint: web\n{extra}")
    return tmp_path


def test_a_task_scoped_volume_is_shared_and_a_one_shot_container_finishes_first(tmp_path, base_image):
    """An `init` container writes into a named volume and exits 0; `web` waits for that
    (service_completed_successfully) and then serves the file from the same volume."""
    stack = STACK + "-volume"
    compose = f"""
services:
  web:
    build:
      context: .
      dockerfile_inline: |
        FROM {base_image}
        WORKDIR /data
    command: ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0", "--directory", "/data"]
    ports: ["8080:8080"]
    volumes: ["shared:/data:ro"]
    depends_on:
      init: {{condition: service_completed_successfully}}
  init:
    image: {base_image}
    command: ["sh", "-c", "echo written-by-init > /data/index.html"]
    volumes: ["shared:/data"]
volumes:
  shared: {{}}
"""
    # Marked ephemeral: task-scoped, removed with the task (a persistent one would outlive `down`).
    project = _project_with(tmp_path, compose, stack, "      volumes: {shared: ephemeral}\n")
    common = ["--stack", stack, "--api", "app", "--project-dir", str(project)]
    port = free_port()
    try:
        assert cli.main(["local", "up", *common, "--port", str(port), "--quiet", "--wait-timeout", "60"]) == 0
        # web has no health check, so `up` returns once it started; give the server a moment to listen.
        assert read_when_listening(f"http://127.0.0.1:{port}/index.html").strip() == "written-by-init"
        family = task_family(stack, "app")
        assert inspect(f"{family}.init")["State"]["ExitCode"] == 0
        assert docker("volume", "ls", "-q", "--filter", f"label={LABEL_TASK}={family}").stdout.split() == [
            f"{family}.shared"]
    finally:
        assert cli.main(["local", "down", *common, "--stop-timeout", "2"]) == 0
        remove_stack_images(stack)
    assert docker("volume", "ls", "-q", "--filter", f"label={LABEL_TASK}={task_family(stack, 'app')}").stdout == ""


def test_an_unhealthy_dependency_fails_up_with_its_output_and_leaves_nothing(tmp_path, base_image, capsys):
    stack = STACK + "-sick"
    compose = f"""
services:
  web:
    image: {base_image}
    command: ["python3", "-m", "http.server", "8080"]
    ports: ["8080:8080"]
    depends_on:
      db: {{condition: service_healthy}}
  db:
    image: {base_image}
    command: ["sh", "-c", "echo db-cannot-start-config-missing; sleep 600"]
    healthcheck:
      test: ["CMD-SHELL", "exit 1"]
      interval: 5s
      timeout: 2s
      retries: 1
"""
    project = _project_with(tmp_path, compose, stack)
    common = ["--stack", stack, "--api", "app", "--project-dir", str(project)]
    code = cli.main(["local", "up", *common, "--port", str(free_port()), "--wait-timeout", "60"])
    err = capsys.readouterr().err
    assert code == 1
    assert "'db' did not become healthy" in err and "db-cannot-start-config-missing" in err
    family = task_family(stack, "app")
    assert docker("ps", "-aq", "--filter", f"label={LABEL_TASK}={family}").stdout.split() == []
