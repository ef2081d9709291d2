"""Shared pieces of the tests that need a real Docker engine.

The engine is started by ``scripts/docker-engine.sh`` when none answers; the tests skip, saying
why, only when that fails. The local base image is built once per machine (the build script
caches it and serialises parallel builds), so every test session after the first finds it ready.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_IMAGE = "serverless-containers/base:local"


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@pytest.fixture(scope="session")
def docker_engine() -> None:
    if os.environ.get("SC_NO_DOCKER"):
        pytest.skip("SC_NO_DOCKER is set: this run leaves the Docker engine alone (another suite may be using it)")
    if _docker_answers():
        return
    script = PROJECT_DIR / "scripts" / "docker-engine.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not _docker_answers():
        reason = (result.stderr or result.stdout).strip().splitlines()
        pytest.skip("no Docker engine can start here: " + (reason[-1] if reason else "docker info fails"))


@pytest.fixture(scope="session")
def base_image(docker_engine) -> str:
    """serverless-containers/base:local, built by docker/base/build.sh unless it is already current."""
    present = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode == 0
    if os.geteuid() != 0 and not present:
        pytest.skip(f"building {BASE_IMAGE} needs root (debootstrap); run docker/base/build.sh as root once")
    result = subprocess.run(["bash", str(PROJECT_DIR / "docker" / "base" / "build.sh"), BASE_IMAGE],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"docker/base/build.sh failed:\n{result.stderr[-3000:]}"
    return BASE_IMAGE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed: {result.stderr[-2000:]}")
    return result


@pytest.fixture(scope="session")
def local_registry(docker_engine, tmp_path_factory):
    """Debian's docker-registry on a free loopback port; yields 'host:port'. Docker trusts registries
    on 127.0.0.0/8 over plain HTTP, so no daemon configuration is needed."""
    import urllib.request

    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed; scripts/docker-engine.sh installs it (apt-get install "
                    "docker-registry) when run as root.")
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n")
    log = open(root / "registry.log", "w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(100):
            if process.poll() is not None:
                pytest.fail(f"docker-registry exited at once: {(root / 'registry.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"docker-registry did not answer on {address}")
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def registry_tags(address: str, repository: str) -> list[str]:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=10) as answer:
            return sorted(json.loads(answer.read()).get("tags") or [])
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return []
        raise


def run_id() -> str:
    """Unique per test process: parallel workers, and other people's test runs on the same engine,
    never share a container, volume or image name."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER') or 'main'}-{os.getpid()}"


def remove_stack_images(stack: str) -> None:
    """Drop the images `ops local` tagged for ``stack`` (their base layers stay cached)."""
    listed = docker("image", "ls", "-q", "--filter", f"reference=serverless-containers-{stack}-*", check=False)
    ids = sorted(set(listed.stdout.split()))
    if ids:
        docker("rmi", "-f", *ids, check=False)
