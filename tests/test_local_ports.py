"""`ops local up` judges a loopback port the way Docker will bind it (issue 24, item 2).

Docker's port proxy listens with SO_REUSEADDR (Go sets it on every listener), so the TIME-WAIT connections an
earlier run leaves for about 60 s do not stop it publishing the port again; a socket that listens does.
"""
from __future__ import annotations

import socket

import pytest

from ops.local.checks import port_is_free


def loopback_port_in_time_wait() -> int:
    """A loopback port no socket listens on any more, as after `ops local down`: the last connection through the
    earlier run's docker-proxy was closed by the server side first (as HTTP servers do), so the proxy's end of
    it, on this port, stays in TIME-WAIT. It keeps the proxy's SO_REUSEADDR (Linux lets a new socket share the
    port only when both sides set it)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()                 # the server closes first ...
        client.recv(1)                   # ... the client sees the end ...
        client.close()                   # ... and closes too: the server's socket waits in TIME-WAIT
    return port


def plain_bind_fails(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_a_port_whose_last_connections_linger_in_time_wait_is_free():
    port = loopback_port_in_time_wait()
    if not plain_bind_fails(port):
        pytest.skip("this kernel lets a plain bind reuse a TIME-WAIT port, so there is nothing to tell apart")
    assert port_is_free(port)
    # ... because Docker can bind it: a listener with SO_REUSEADDR, as Go's (docker-proxy's) are.
    with socket.socket() as docker_proxy:
        docker_proxy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        docker_proxy.bind(("127.0.0.1", port))
        docker_proxy.listen()


@pytest.mark.parametrize("reuse", [False, True], ids=["plain listener", "listener with SO_REUSEADDR"])
def test_a_port_another_program_listens_on_is_still_taken(reuse):
    with socket.socket() as other:
        if reuse:                        # e.g. another container's docker-proxy
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        assert not port_is_free(other.getsockname()[1])


def test_a_listener_on_every_address_takes_the_loopback_port_too():
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("0.0.0.0", 0))
        other.listen()
        assert not port_is_free(other.getsockname()[1])
