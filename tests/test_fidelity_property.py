"""Property: whatever compose app and stack config a user writes, the program either refuses it with a
ConfigError or produces payloads that stay valid against botocore's models (tests/fidelity).

Hypothesis builds a compose file (1-3 services, built or pulled, ports, environment, health checks,
dependencies, replicas, resource limits) and a stack config (HA, architecture, Spot, retention, CORS,
tables and grants, API type, auth, build mode), writes the app to a fresh folder with its Dockerfiles and
secret, and runs the real program under mockrun.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from components.errors import ConfigError
from tests.fidelity import cases
from tests.fidelity.checks import findings, new_findings

NS = cases.NS
SERVICE_NAMES = ["web", "api", "worker", "cache", "auth-proxy", "py_app"]
IMAGES = ["nginx:1.27", "public.ecr.aws/docker/library/redis:7", "busybox", "ghcr.io/org/app@sha256:" + "a" * 64]
DURATIONS = ["1s", "5s", "10s", "30s", "1m", "1m30s", "5m", "500ms"]
NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)


@st.composite
def services(draw):
    names = draw(st.lists(st.sampled_from(SERVICE_NAMES), min_size=1, max_size=3, unique=True))
    document: dict = {}
    for index, name in enumerate(names):
        service: dict = {}
        if draw(st.booleans()):
            service["build"] = {"context": f"./{name}"}
        else:
            service["image"] = draw(st.sampled_from(IMAGES))
        if index == 0 or draw(st.booleans()):
            port = draw(st.one_of(st.integers(1, 65535), st.sampled_from([80, 3000, 8080])))
            protocol = draw(st.sampled_from(["", "/tcp", "/udp"])) if index else ""
            service["ports"] = [f"{port}:{port}{protocol}"]
        if draw(st.booleans()):
            service["environment"] = draw(st.dictionaries(
                st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), st.text(
                    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20), max_size=3))
        if draw(st.booleans()):
            service["healthcheck"] = {
                "test": draw(st.sampled_from([["CMD", "true"], ["CMD-SHELL", "curl -f http://localhost || exit 1"],
                                              "wget -q -O- localhost"])),
                "interval": draw(st.sampled_from(DURATIONS)), "timeout": draw(st.sampled_from(DURATIONS)),
                "retries": draw(st.integers(0, 12)), "start_period": draw(st.sampled_from(DURATIONS))}
        earlier = names[:index]
        if earlier and draw(st.booleans()):
            service["depends_on"] = {draw(st.sampled_from(earlier)): {"condition": draw(st.sampled_from(
                ["service_started", "service_healthy", "service_completed_successfully"]))}}
        if draw(st.booleans()):
            limits = {}
            if draw(st.booleans()):
                limits["cpus"] = draw(st.sampled_from(["0.25", "0.5", "1", "2", "4", "16", "0.25", "0.5", "1", "64"]))
            if draw(st.booleans()):
                limits["memory"] = draw(st.sampled_from(["128m", "512m", "1g", "3g", "30g", "128m", "512m", "1g", "200g"]))
            service["deploy"] = {"replicas": draw(st.sampled_from([1, 1, 2, 3, 5, 0])), "resources": {"limits": limits}}
        if draw(st.booleans()):
            service["secrets"] = ["token"]
        document[name] = service
    return document


@st.composite
def stack_configs(draw, container_names):
    tables = draw(st.dictionaries(NAMES, st.fixed_dictionaries({
        "partitionKey": st.fixed_dictionaries({"name": st.sampled_from(["id", "pk"]),
                                               "type": st.sampled_from(["S", "N", "B"])})},
        optional={"sortKey": st.fixed_dictionaries({"name": st.just("sk"), "type": st.sampled_from(["S", "N"])}),
                  "pointInTimeRecovery": st.booleans()}), max_size=2))
    api: dict = {"type": draw(st.sampled_from(["rest", "graphql"])), "auth": draw(st.booleans()),
                 "build": draw(st.sampled_from(["managed", "managed", "manual"]))}
    if tables and draw(st.booleans()):
        api["access"] = {"storage": {t: draw(st.lists(st.sampled_from(["create", "read", "update", "delete"]),
                                                      min_size=1, unique=True)) for t in tables}}
    if api["build"] == "manual" and draw(st.booleans()):
        api["images"] = {container_names[0]: draw(st.sampled_from(["v1", "nginx:1.27"]))}
    config = {
        f"{NS}:highAvailability": draw(st.booleans()),
        f"{NS}:cpuArchitecture": draw(st.sampled_from(["X86_64", "ARM64"])),
        f"{NS}:fargateSpot": draw(st.booleans()),
        f"{NS}:logRetentionDays": draw(st.sampled_from([1, 7, 7, 14, 30, 365, 3653, 1, 7, 8])),
        f"{NS}:corsOrigins": draw(st.sampled_from([["*"], ["https://app.example.com"],
                                                    ["https://a.example.com", "http://localhost:3000"]])),
        f"{NS}:storage": tables,
    }
    name = draw(st.sampled_from(["api", "orders", "a" * 40, "v2-service"]))
    return config, name, api


def _write_app(root: Path, compose: dict) -> Path:
    folder = root / "app"
    folder.mkdir(parents=True)
    for name, service in compose.items():
        if "build" in service:
            (folder / name).mkdir()
            (folder / name / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    document = {"services": compose}
    if any("secrets" in s for s in compose.values()):
        document["secrets"] = {"token": {"file": "../.secret-token"}}
        (root / ".secret-token").write_text("s3cret-token-value")
    (folder / "compose.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


# No shrinking: each example is a whole program run, and shrinking one failure took minutes. The failing
# example is printed as drawn.
@settings(max_examples=25, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_apps_and_configs_refuse_or_stay_valid(data):
    compose = data.draw(services())
    config, name, api = data.draw(stack_configs(list(compose)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write_app(Path(tmp), compose)
        ported = [n for n, s in compose.items() if s.get("ports")]
        api = {**api, "source": str(folder)}
        if len(ported) > 1:
            api["entrypoint"] = ported[0]
        config[f"{NS}:apis"] = {name: api}
        try:
            result = cases.run_config("dev", config)
        except ConfigError as error:
            event(f"refused: {error.key or error.file}: {error.problem[:80]}")
            # A clear refusal is a valid outcome, when it names the file (the stack file or the app's compose
            # file) and the key.
            text = str(error)
            assert error.file and text.startswith(error.file), text
            assert error.file == "stacks/Pulumi.dev.yaml" or Path(error.file).resolve().is_relative_to(
                Path(tmp).resolve()), f"names a foreign file: {text}"
            assert error.key and f"key '{error.key}'" in text, f"names no key: {text}"
            return
        event("deployed")
        found, _ = findings(result)
        found = new_findings(found)
        assert not found, "\n".join(found)
