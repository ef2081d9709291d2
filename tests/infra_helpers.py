"""Shared fixtures for the infrastructure tests: hand-built apps, sample app folders, config dicts,
and a check of generated payloads against botocore's service models."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from components.compose.model import App, BuildSpec, Container, Dependency, HealthCheck, PortMapping, Secret

SECRET_VALUE = "s3cr3t-Value-that-must-never-leak"


def web_app(source: Path | None = None, *, port: int = 8080, healthcheck: HealthCheck | None = None) -> App:
    """A Dockerfile-only app: one built container."""
    source = source or Path("/srv/web")
    return App(source_dir=source, compose_files=[], entrypoint="web", routed_port=port, containers=[
        Container(name="web", build=BuildSpec(context=str(source)), ports=[PortMapping(port)],
                  healthcheck=healthcheck)])


def two_container_app(source: Path | None = None, *, secret_value: str = SECRET_VALUE) -> App:
    """express (entrypoint, built, with a secret) waits for a healthy python container (`image:`)."""
    source = source or Path("/srv/multi")
    return App(
        source_dir=source, compose_files=[source / "docker-compose.yml"], entrypoint="express", routed_port=8080,
        replicas=2, cpu=512, memory=1024,
        secrets={"API_TOKEN": Secret("API_TOKEN", source.parent / ".secret-api-token", secret_value)},
        containers=[
            Container(name="express", build=BuildSpec(context=str(source / "express")), ports=[PortMapping(8080)],
                      environment={"PORT": "8080", "PYTHON_URL": "http://localhost:5000"}, secrets=["API_TOKEN"],
                      depends_on=[Dependency("python", "service_healthy")], user="node", working_dir="/app",
                      command=["node", "server.js"],
                      healthcheck=HealthCheck(("CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"),
                                              interval=10, timeout=5, retries=3, start_period=5)),
            Container(name="python", image="public.ecr.aws/docker/library/python:3.12-slim",
                      ports=[PortMapping(5000)], entrypoint=["python3"], command=["server.py"],
                      environment={"PORT": "5000"},
                      healthcheck=HealthCheck(("CMD", "python3", "-c", "print(1)"), interval=10, timeout=5)),
        ])


def write_dockerfile_app(root: Path, name: str = "web", port: int = 8080) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(f"FROM scratch\nCOPY server /server\nEXPOSE {port}\nCMD [\"/server\"]\n")
    (folder / "server").write_text("binary\n")
    return folder


def write_compose_app(root: Path, name: str = "multi", *, secret_value: str = SECRET_VALUE,
                      entrypoint_ports: bool = False) -> Path:
    """express + python in one compose file, one secret outside the folder.

    entrypoint_ports=True makes python publish a port too, so the app needs an `entrypoint`."""
    folder = root / name
    for service in ("express", "python"):
        (folder / service).mkdir(parents=True)
        (folder / service / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (root / ".secret-api-token").write_text(secret_value)
    python_ports = '    ports: ["5000:5000"]\n' if entrypoint_ports else ""
    (folder / "docker-compose.yml").write_text(
        "services:\n"
        "  express:\n"
        "    build: ./express\n"
        "    ports: [\"8080:8080\"]\n"
        "    environment: {PORT: \"8080\", PYTHON_URL: \"http://localhost:5000\"}\n"
        "    secrets: [API_TOKEN]\n"
        "    depends_on: {python: {condition: service_healthy}}\n"
        "    healthcheck: {test: [CMD-SHELL, \"curl -f http://localhost:8080/ || exit 1\"], interval: 10s,"
        " timeout: 5s, retries: 3, start_period: 5s}\n"
        "  python:\n"
        "    build: ./python\n"
        f"{python_ports}"
        "    environment: {PORT: \"5000\"}\n"
        "    healthcheck: {test: [CMD, python3, -c, \"print(1)\"], interval: 10s, timeout: 5s}\n"
        "secrets:\n"
        "  API_TOKEN:\n"
        "    file: ../.secret-api-token\n")
    return folder


def policy(resource) -> dict:
    value = resource.inputs["policy"]
    return json.loads(value) if isinstance(value, str) else value


def all_strings(value: Any):
    """Every string inside a nested inputs structure (JSON strings are opened too)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
    elif isinstance(value, str):
        yield value
        if value[:1] in "[{":
            try:
                yield from all_strings(json.loads(value))
            except ValueError:
                pass


_SESSION = botocore.session.get_session()


def botocore_errors(service: str, operation: str, params: dict) -> str:
    """'' when ``params`` is a valid request for the operation, else botocore's report."""
    model = _SESSION.get_service_model(service)
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""
