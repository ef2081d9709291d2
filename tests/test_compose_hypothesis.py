"""Mutated compose documents never make load_app raise anything but ConfigError.

Each example takes a realistic compose document, applies a few random mutations (drop a key,
replace a value with junk of any type, add a junk key, mangle the YAML text or its bytes), writes
it to a fresh folder next to an env file, a secret and a Dockerfile, and loads it. A load must
either return a consistent App or raise ConfigError - and never LoaderBugError, the wrapper for
exceptions the loader did not expect.
"""
from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.compose import LoaderBugError, load_app
from components.errors import ConfigError
from components.compose.model import FARGATE_SIZES

BASES = [
    {
        "services": {
            "web": {
                "build": {"context": "./web", "args": {"A": "1"}, "target": "run"},
                "image": "web:${TAG:-latest}",
                "ports": ["8080:80", {"target": 9000, "published": "9000", "protocol": "udp"}, "3000-3001"],
                "environment": {"DB_HOST": "db", "N": 1, "EMPTY": None},
                "env_file": ["web.env", {"path": "missing.env", "required": False}],
                "healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost"], "interval": "1m30s",
                                "timeout": "500ms", "retries": 3, "start_period": "10s"},
                "depends_on": {"db": {"condition": "service_healthy"}},
                "secrets": ["pw", {"source": "pw", "target": "/run/secrets/pw"}],
                "deploy": {"replicas": 2, "resources": {"limits": {"cpus": "0.5", "memory": "512m"}}},
                "command": "serve --port 80",
                "volumes": ["data:/data", "./static:/static:ro"],
                "restart": "always",
                "user": "node",
                "working_dir": "/app",
            },
            "db": {
                "image": "postgres:16",
                "healthcheck": {"test": "pg_isready", "interval": "5s"},
                "mem_limit": "1g",
                "profiles": ["default"],
                "extends": {"service": "base"},
            },
            "base": {"image": "busybox", "entrypoint": ["/bin/sh", "-c"], "cpus": 0.25},
        },
        "secrets": {"pw": {"file": "../.secret-pw"}},
        "volumes": {"data": {}},
        "x-common": {"a": 1},
    },
    {
        "version": "3.8",
        "include": ["other.yaml"],
        "services": {
            "api": {"image": "api", "ports": [80], "environment": ["A=1", "B"], "scale": 1,
                    "extends": {"file": "other.yaml", "service": "side"}},
        },
    },
    {
        "services": {
            "a": {"image": "x", "ports": ["127.0.0.1:81:8081/tcp"], "depends_on": ["b"],
                  "healthcheck": {"disable": True}, "networks": ["front"]},
            "b": {"image": "y", "command": ["run", "1"], "cap_add": ["SYS_PTRACE"], "network_mode": "bridge"},
        },
        "networks": {"front": None},
    },
]

INTERESTING = st.sampled_from([
    "${", "${X}", "${X:?boom}", "$$", "$", "8000:80", "1-65535", "70000", "host", "service:db", "NONE", "CMD",
    "CMD-SHELL", "../.secret-pw", "./web", "0", "-1", "1e309", "1m30s", "500ms", "true", "on", "", " ", "\x00",
    "a" * 300, "web", "db", "0.001", "999999", "udp", "sctp", "[::1]:80:80", "~", "https://example.com/x.git",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    INTERESTING)
JUNK = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.one_of(st.text(max_size=8), INTERESTING), children, max_size=3)),
    max_leaves=8)


def _paths(value, prefix=()):
    """Every (container, key) position in the document."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(prefix + (key,))
            found.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append(prefix + (index,))
            found.extend(_paths(item, prefix + (index,)))
    return found


def _parent(document, path):
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated_documents(draw):
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        action = draw(st.sampled_from(["drop", "replace", "replace", "add", "wrap", "string", "string"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "string":      # what interpolation can turn any value into: it passes the schema
            parent[path[-1]] = draw(st.one_of(INTERESTING, st.text(max_size=12), st.integers().map(str)))
        elif action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]] if draw(st.booleans()) else {"x": parent[path[-1]]}
        elif isinstance(parent, dict):
            parent[draw(st.one_of(st.text(max_size=10), INTERESTING))] = draw(JUNK)
        else:
            parent.append(draw(JUNK))
    return document


@st.composite
def leaf_string_mutations(draw):
    """Scalars replaced by strings only: mostly schema-valid, so the Fargate and model checks run."""
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    leaves = [path for path in _paths(document)
              if not isinstance(_parent(document, path)[path[-1]], (dict, list))]
    for path in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=3)):
        _parent(document, path)[path[-1]] = draw(st.one_of(INTERESTING, st.text(max_size=12),
                                                           st.integers(-2, 70000).map(str)))
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")


@st.composite
def compose_bytes(draw):
    document = draw(mutated_documents())
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    mode = draw(st.sampled_from(["plain", "plain", "plain", "text", "bytes", "tags"]))
    if mode == "text" and text:
        position = draw(st.integers(0, len(text)))
        text = text[:position] + draw(st.sampled_from(["{", "]", ":", "\t", "&a", "*a", "!reset ", "!override ",
                                                        "---\n", "- ", "'", "\n  x: 1\n", "<<: *a\n"])) + text[position:]
    if mode == "tags":
        text = text.replace("image:", draw(st.sampled_from(["image: !reset", "image: !override", "image: !!str"])), 1)
    data = text.encode("utf-8", "surrogatepass")
    if mode == "bytes" and data:
        position = draw(st.integers(0, len(data) - 1))
        data = data[:position] + draw(st.binary(min_size=1, max_size=3)) + data[position + 1:]
    return data


def _workspace(root: Path, data: bytes) -> Path:
    source = root / "src"
    (source / "web").mkdir(parents=True)
    (source / "web" / "Dockerfile").write_text("FROM scratch\nEXPOSE 80\n")
    (source / "web.env").write_text("FROM_FILE=1\n")
    (source / ".env").write_text("TAG=v1\nCOMPOSE_PROFILES=default\n")
    (source / "other.yaml").write_text("services:\n  side:\n    image: side\n    environment: {S: '1'}\n")
    (root / ".secret-pw").write_text("hunter2\n")
    (source / "compose.yaml").write_bytes(data)
    return source


# Errors about a whole file that cannot be read as YAML name the position instead of a key.
POSITION = re.compile(r"\(line \d+, column \d+\)|not UTF-8 text \(byte \d+\)|position \d+|line \d+")


def assert_names_file_and_key(error: ConfigError, source: Path) -> None:
    """The message names the file (one of the app's) and the key, or the position when the file is no YAML."""
    text = str(error)
    assert error.file, f"no file named: {text}"
    assert text.startswith(error.file), text
    assert Path(error.file).resolve().is_relative_to(source.parent.resolve()), f"names a foreign file: {text}"
    if error.key:
        assert f"key '{error.key}'" in text, text
    else:
        assert POSITION.search(error.problem), f"names neither a key nor a position: {text}"
    assert error.problem.strip(), text


def _check_consistent(app) -> None:
    names = [c.name for c in app.containers]
    assert app.entrypoint in names
    entry = app.container(app.entrypoint)
    assert app.routed_port in [p.container_port for p in entry.ports if p.protocol == "tcp"]
    assert app.memory in FARGATE_SIZES[app.cpu] and app.replicas >= 1
    for container in app.containers:
        assert all(1 <= p.container_port <= 65535 and p.protocol in ("tcp", "udp") for p in container.ports)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in container.environment.items())
        assert all(secret in app.secrets for secret in container.secrets)
        assert container.image is not None or container.build is not None
        assert container.command is None or all(isinstance(word, str) for word in container.command)
    for secret in app.secrets.values():
        assert "hunter2" not in repr(secret)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=compose_bytes(), entrypoint=st.sampled_from([None, None, "web", "api", "a", "nope"]))
def test_mutated_compose_documents_raise_only_config_errors(data, entrypoint):
    with tempfile.TemporaryDirectory() as root:
        source = _workspace(Path(root), data)
        try:
            app = load_app(source, entrypoint=entrypoint, environ={"HOME": root})
        except LoaderBugError as error:
            raise AssertionError(f"unexpected failure inside the loader: {error}") from error.__cause__
        except ConfigError as error:
            assert_names_file_and_key(error, source)
            return
        _check_consistent(app)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=leaf_string_mutations(), entrypoint=st.sampled_from([None, "web", "api", "a"]))
def test_schema_valid_mutations_raise_only_config_errors(data, entrypoint):
    test_mutated_compose_documents_raise_only_config_errors.hypothesis.inner_test(data, entrypoint)


def test_unmutated_bases_load():
    """The bases themselves are valid, so mutations start from something that loads."""
    for index, base in enumerate(BASES):
        with tempfile.TemporaryDirectory() as root:
            source = _workspace(Path(root), yaml.safe_dump(base).encode())
            app = load_app(source, entrypoint={0: "web", 1: "api", 2: "a"}[index], environ={})
            _check_consistent(app)
