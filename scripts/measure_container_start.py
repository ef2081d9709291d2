"""Measure how long a sample API takes from `docker run` to its first HTTP 200, and how big its image is.

The wake-time arithmetic in docs/design.md ("Wake time") needs the container-start part from a measurement, not a
guess. This builds the sample's image (with --build-arg BASE_IMAGE, e.g. the local base image of docker/base/), then
starts a fresh container RUNS times and polls the published port until it answers 200. Each container is removed
before the next run. The image's size is printed uncompressed and gzip-compressed (what a registry stores and a
Fargate task pulls is the compressed layers).

Run it holding the Docker lock: flock /work/locks/docker.lock .venv/bin/python scripts/measure_container_start.py
"""
from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def docker(*args: str, capture: bool = True) -> str:
    done = subprocess.run(["docker", *args], check=True, text=True, capture_output=capture)
    return done.stdout.strip() if capture else ""


def first_200(url: str, deadline_s: float) -> float | None:
    """Seconds until ``url`` answers 200 (polled every 50 ms), or None at the deadline."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    return None


def compressed_size(image: str) -> int:
    """Bytes of the image's layers as one gzip stream (docker save | gzip): close to what ECR stores."""
    process = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    total = 0

    class Counter:
        def write(self, data: bytes) -> int:
            nonlocal total
            total += len(data)
            return len(data)

        def flush(self) -> None:
            pass

    with gzip.GzipFile(fileobj=Counter(), mode="wb", compresslevel=6) as out:   # type: ignore[arg-type]
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read(1 << 20), b""):
            out.write(chunk)
    process.wait()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="apps/posts")
    parser.add_argument("--base-image", default="serverless-containers/base:local")
    parser.add_argument("--port", type=int, default=8080, help="the container port the app listens on")
    parser.add_argument("--path", default="/", help="the path that answers 200 once the app is up")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--env", action="append", default=["LOCAL=1"], help="KEY=VALUE for the container")
    args = parser.parse_args()

    image = "sc-measure/" + Path(args.app).name + ":local"
    docker("build", "-q", "--build-arg", f"BASE_IMAGE={args.base_image}", "-t", image, str(ROOT / args.app))
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image))
    print(f"image {image}: {size / 1e6:.0f} MB uncompressed, {compressed_size(image) / 1e6:.0f} MB gzip-compressed")

    timings = []
    for run in range(1, args.runs + 1):
        name = f"sc-measure-{Path(args.app).name}-{run}"
        env = [flag for pair in args.env for flag in ("-e", pair)]
        start = time.monotonic()
        docker("run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1::{args.port}", *env, image)
        try:
            host_port = docker("port", name, f"{args.port}/tcp").splitlines()[0].rsplit(":", 1)[-1]
            waited = first_200(f"http://127.0.0.1:{host_port}{args.path}", deadline_s=60)
            elapsed = time.monotonic() - start if waited is not None else None
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        if elapsed is None:
            print(f"run {run}: no 200 within 60 s", file=sys.stderr)
            return 1
        timings.append(elapsed)
        print(f"run {run}: docker run -> first 200 in {elapsed:.2f} s")
    print(f"{len(timings)} runs: min {min(timings):.2f} s, median {statistics.median(timings):.2f} s, "
          f"max {max(timings):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
