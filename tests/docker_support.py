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
TIMINGS: dict[str, float] = {}


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@pytest.fixture(scope="session")
def docker_engine() -> None:
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
    started = time.monotonic()
    result = subprocess.run(["bash", str(PROJECT_DIR / "docker" / "base" / "build.sh"), BASE_IMAGE],
                            capture_output=True, text=True, timeout=1200)
    TIMINGS["base image (build or cache check)"] = time.monotonic() - started
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
