"""`ops local up` says "running" only when the API answers (issue 24, item 1), driven with a fake docker CLI.

The engine-backed counterpart (a container that crashes, a server that starts slowly) is in
tests/test_local_docker_readiness.py.
"""
from __future__ import annotations

import http.server
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from components.compose.model import App, BuildSpec, Container, Dependency, HealthCheck, PortMapping
from ops import __main__ as cli
from ops.commands import local as local_command
from ops.errors import OpsError
from ops.local.readiness import http_answers
from ops.local.runner import LocalOptions, LocalRunner, plan_task


def app_of(tmp_path: Path, *, healthcheck: bool = False, with_job: bool = False, with_sidecar: bool = False) -> App:
    api = Container(name="api", build=BuildSpec(context=str(tmp_path)), ports=[PortMapping(3000, host_port=3000)],
                    healthcheck=HealthCheck(test=("CMD", "true"), interval=5, timeout=2, retries=2, start_period=0)
                    if healthcheck else None,
                    depends_on=[Dependency("migrate", "service_completed_successfully")] if with_job else [])
    containers = [api]
    if with_job:
        containers.append(Container(name="migrate", image="busybox"))
    if with_sidecar:
        containers.append(Container(name="sidecar", image="busybox"))
    return App(source_dir=tmp_path, compose_files=[tmp_path / "compose.yaml"], containers=containers,
               entrypoint="api", routed_port=3000)


class ScriptedDocker:
    """Containers are running once started, except those told to exit (after some inspections) or be healthy."""

    def __init__(self, exits: dict[str, tuple[int, int]] | None = None, healthy_after: int | None = None):
        self.exits = exits or {}                  # container -> (inspections before it shows as exited, exit code)
        self.healthy_after = healthy_after
        self.running: list[str] = []
        self.inspections: dict[str, int] = {}
        self.calls: list[list[str]] = []

    def run(self, argv, *, env=None, check=True, capture=True, input=None):
        self.calls.append(list(argv))
        if argv[1] == "run":
            self.running.append(argv[argv.index("--name") + 1])
        if argv[1] == "rm":
            self.running = [n for n in self.running if n != argv[-1]]
        return subprocess.CompletedProcess(argv, 0, "", "")

    def inspect_state(self, name):
        if name not in self.running:
            return {}
        seen = self.inspections[name] = self.inspections.get(name, 0) + 1
        container = name.rsplit(".", 1)[-1]
        if container in self.exits and seen > self.exits[container][0]:
            return {"Status": "exited", "ExitCode": self.exits[container][1]}
        state = {"Status": "running"}
        if self.healthy_after is not None and container == "api":
            state["Health"] = {"Status": "healthy" if seen >= self.healthy_after else "starting"}
        return state

    def logs_tail(self, name, lines=20):
        return f"{name} says hello\nError: Cannot find module 'express'"

    def labelled_volumes(self, label):
        return []

    def labelled(self, label):
        return sorted(reversed(self.running), key=lambda n: "." not in n)


class Probe:
    def __init__(self, answers_after: int | None):
        self.answers_after = answers_after
        self.ports: list[int] = []

    def __call__(self, port: int) -> bool:
        self.ports.append(port)
        return self.answers_after is not None and len(self.ports) >= self.answers_after


def runner(docker, probe, said=None, clock=None) -> LocalRunner:
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    return LocalRunner(docker, say=(said.append if said is not None else lambda _: None), sleep=sleep,
                       clock=clock or (lambda: now[0]), probe=probe)


def test_without_a_health_check_up_waits_until_the_port_answers_http(tmp_path):
    task = plan_task(app_of(tmp_path), options=LocalOptions(stack="dev", api="shop", host_port=4321), region="eu-west-1")
    docker, probe, said = ScriptedDocker(), Probe(answers_after=4), []
    runner(docker, probe, said).up(task, wait_timeout=60)
    assert probe.ports == [4321] * 4                   # the loopback port, asked until it answered
    assert "waiting until http://127.0.0.1:4321 answers HTTP (at most 60 s" in "\n".join(said)
    assert f"{task.family}.api" in docker.running


def test_a_container_that_exits_first_fails_up_with_its_name_exit_code_and_output(tmp_path):
    task = plan_task(app_of(tmp_path), options=LocalOptions(stack="dev", api="shop"), region="eu-west-1")
    docker, probe = ScriptedDocker(exits={"api": (1, 3)}), Probe(answers_after=None)
    with pytest.raises(OpsError) as failure:
        runner(docker, probe).up(task)
    message = str(failure.value)
    assert "container 'api' exited with code 3 before the API was ready" in message
    assert "Cannot find module 'express'" in message
    assert docker.running == []                        # everything started was removed again


def test_an_essential_sidecar_that_exits_fails_up_but_a_finished_one_shot_job_does_not(tmp_path):
    task = plan_task(app_of(tmp_path, with_sidecar=True), options=LocalOptions(stack="dev", api="shop"),
                     region="eu-west-1")
    with pytest.raises(OpsError, match="container 'sidecar' exited with code 0 before the API was ready"):
        runner(ScriptedDocker(exits={"sidecar": (2, 0)}), Probe(answers_after=None)).up(task)

    task = plan_task(app_of(tmp_path, with_job=True), options=LocalOptions(stack="dev", api="shop"),
                     region="eu-west-1")
    assert not next(step for step in task.runs if step.container == "migrate").essential
    docker = ScriptedDocker(exits={"migrate": (0, 0)})
    runner(docker, Probe(answers_after=3)).up(task)    # the job exited 0 as the api's dependsOn asks: ready
    assert f"{task.family}.api" in docker.running


def test_up_gives_up_after_the_stated_timeout(tmp_path):
    task = plan_task(app_of(tmp_path), options=LocalOptions(stack="dev", api="shop", host_port=4321), region="eu-west-1")
    docker, probe = ScriptedDocker(), Probe(answers_after=None)
    with pytest.raises(OpsError) as failure:
        runner(docker, probe).up(task, wait_timeout=20)
    message = str(failure.value)
    assert "'api' was not ready within 20 s (nothing answered HTTP on http://127.0.0.1:4321" in message
    assert "--wait-timeout" in message and docker.running == []
    assert 35 <= len(probe.ports) <= 45                 # polled every half second of the 20


def test_with_a_health_check_up_waits_for_healthy_and_does_not_need_http(tmp_path):
    task = plan_task(app_of(tmp_path, healthcheck=True), options=LocalOptions(stack="dev", api="shop"),
                     region="eu-west-1")
    docker, probe, said = ScriptedDocker(healthy_after=3), Probe(answers_after=None), []
    runner(docker, probe, said).up(task)
    assert docker.inspections[f"{task.family}.api"] == 3 and probe.ports == []
    assert "waiting until its health check passes" in "\n".join(said)
    with pytest.raises(OpsError, match="'api' exited with code 137"):
        runner(ScriptedDocker(healthy_after=5, exits={"api": (2, 137)}), probe).up(task)


def test_the_cli_exits_non_zero_and_never_says_running_for_a_crashed_container(monkeypatch, capsys):
    """The issue's case: a plain Dockerfile app (no health check) that exits 3 right after it starts."""
    docker = ScriptedDocker(exits={"posts": (0, 3)})
    docker.require_engine = lambda: None
    docker.port_holders = lambda: ""
    monkeypatch.setattr(local_command, "Docker", lambda: docker)
    monkeypatch.setattr(local_command, "LocalRunner",
                        lambda docker, say: runner(docker, Probe(answers_after=None), said=None))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = cli.main(["local", "up", "--stack", "dev", "--api", "posts", "--no-build", "--no-storage",
                     "--port", str(port)])
    captured = capsys.readouterr()
    assert code == 1
    assert "container 'posts' exited with code 3 before the API was ready" in captured.err
    assert "Cannot find module 'express'" in captured.err and "is running" not in captured.out


# ---------------------------------------------------------------- the HTTP probe, against real sockets

def test_http_answers_counts_any_status_but_not_a_bare_connection():
    class Failing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(500)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert http_answers(server.server_address[1])          # a 500 is an answer: a server is there
    finally:
        server.shutdown()
        server.server_close()

    # What Docker's port proxy does while nothing listens inside the container: accept, then close.
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()
        port = proxy.getsockname()[1]

        def accept_and_close():
            connection, _ = proxy.accept()
            connection.close()

        closer = threading.Thread(target=accept_and_close, daemon=True)
        closer.start()
        assert not http_answers(port, timeout=5)
        closer.join(5)
    assert not http_answers(port, timeout=1)                  # nothing listens at all
