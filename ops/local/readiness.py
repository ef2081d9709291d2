"""When `ops local up` may say "running": the API answers, and every essential container still runs.

A container that is merely *started* proves nothing: a plain Dockerfile app without a health check may exit
a second later (a missing module, a bad variable), and the published port then resets every connection.
So `up` waits, up to a stated timeout, until either

* the entrypoint's health check passes, where it has one (Docker runs the check ECS would run), or
* the routed port answers HTTP: any status line, even 404 or 500, shows a server is there. A bare TCP
  connect is not enough, since Docker's port proxy accepts connections before anything listens inside.

Meanwhile it watches every essential container (and the one holding the network namespace): when one exits,
as ECS would stop the task, `up` fails at once with that container's name, exit code and last output.
Containers others wait for to exit (``SUCCESS``/``COMPLETE``) are not essential and may exit.
"""
from __future__ import annotations

import http.client
from typing import Any

from ops.errors import OpsError

# `runner` below is an ops.local.runner.LocalRunner and `task` its LocalTask; runner.py imports this module, so
# naming those types here would make an import circle.
LocalRunner = LocalTask = Any

POLL_SECONDS = 0.5
PROBE_TIMEOUT = 5.0                   # one request; a server that takes longer still counts on the next try
STOPPED = ("exited", "dead", "missing")


def http_answers(port: int, host: str = "127.0.0.1", timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether an HTTP server answers ``GET /`` on ``host:port`` with any status."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"User-Agent": "serverless-containers-local-up"})
        connection.getresponse().read(0)
        return True
    except (OSError, http.client.HTTPException):   # refused, reset, closed early, timed out, not HTTP
        return False
    finally:
        connection.close()


def _exited(runner: LocalRunner, name: str, container: str, state: dict) -> OpsError:
    status = state.get("Status", "missing")
    how = (f"exited with code {state.get('ExitCode')}" if status == "exited" else
           "is gone (removed while starting)" if status == "missing" else f"stopped ({status})")
    return runner._failure(name, container, f"{how} before the API was ready")


def wait_until_ready(runner: LocalRunner, task: LocalTask, timeout: float) -> None:
    """Return once the API is ready (see the module's docstring); raise ``OpsError`` on an exit or the timeout."""
    entry = next(step for step in task.runs if step.container == task.entrypoint)
    watched = [(task.family, "(the task's network namespace)"),
               *((step.name, step.container) for step in task.runs if step.essential)]
    how = "its health check passes" if entry.has_healthcheck else f"{task.url} answers HTTP"
    runner.say(f"waiting until {how} (at most {timeout:g} s; --wait-timeout changes it)")
    deadline = runner.clock() + timeout
    while True:
        for name, container in watched:
            state = runner.docker.inspect_state(name)
            if state.get("Status", "missing") in STOPPED:
                raise _exited(runner, name, container, state)
            if name == entry.name and entry.has_healthcheck:
                health = (state.get("Health") or {}).get("Status")
                if health == "healthy":
                    return
                if health == "unhealthy":
                    raise runner._failure(name, container, "did not become healthy (its health check fails)")
        if not entry.has_healthcheck and runner.probe(task.host_port):
            return
        if runner.clock() > deadline:
            what = "its health check did not pass" if entry.has_healthcheck else f"nothing answered HTTP on {task.url}"
            raise runner._failure(entry.name, task.entrypoint,
                                  f"was not ready within {timeout:g} s ({what}; raise --wait-timeout if it starts "
                                  f"slowly)")
        runner.sleep(POLL_SECONDS)
