"""Fargate facts: the key table covers the schema; impossible keys are errors; the rest warns."""
from __future__ import annotations

import pytest


from components.compose import describe_fargate_handling
from components.compose.fargate import HONORED, REJECTED, SERVICE_KEYS, TOP_LEVEL_KEYS, WARNED
from components.compose.schema import compose_schema, service_properties
from components.errors import ConfigError
from tests.compose_helpers import load, warnings_for
from tests.conftest import requires_corpus


def test_every_service_key_of_the_schema_has_a_rule():
    missing = service_properties() - set(SERVICE_KEYS)
    assert not missing, f"compose keys with no Fargate rule: {sorted(missing)}"
    assert not set(SERVICE_KEYS) - service_properties(), "rules for keys the schema does not have"


def test_every_top_level_key_of_the_schema_has_a_rule():
    assert set(compose_schema()["properties"]) == set(TOP_LEVEL_KEYS)


def test_description_lists_every_key_once():
    table = describe_fargate_handling()
    for key, rule in SERVICE_KEYS.items():
        assert table.count(f"| `{key}` | {rule.handling} |") == 1
    assert {rule.handling for rule in SERVICE_KEYS.values()} == {HONORED, WARNED, REJECTED}


@pytest.mark.parametrize("fragment, key", [
    ("privileged: true", "privileged"),
    ("privileged: 'yes'", "privileged"),
    ("network_mode: host", "network_mode"),
    ("network_mode: 'service:elsewhere'", "network_mode"),
    ("network_mode: 'container:abc'", "network_mode"),
    ("ipc: host", "ipc"),
    ("ipc: shareable", "ipc"),
    ("pid: host", "pid"),
    ("uts: host", "uts"),
    ("cap_add: [NET_ADMIN]", "cap_add"),
    ("cap_add: [ALL]", "cap_add"),
    ("devices: ['/dev/ttyUSB0:/dev/ttyUSB0']", "devices"),
    ("device_cgroup_rules: ['c 1:3 mr']", "device_cgroup_rules"),
    ("gpus: all", "gpus"),
    ("use_api_socket: true", "use_api_socket"),
    ("deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}", "deploy.resources.reservations"),
])
def test_impossible_keys_are_errors_naming_the_key(tmp_path, fragment, key):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, f"services:\n  db: {{image: pg}}\n  web:\n    image: x\n    ports: [80]\n    {fragment}\n")
    assert (error.value.service, error.value.key) == ("web", key)
    assert error.value.fix


@pytest.mark.parametrize("fragment", ["privileged: false", "cap_add: [SYS_PTRACE]", "cap_add: [CAP_SYS_PTRACE]",
                                      "network_mode: bridge", "ipc: private", "devices: []"])
def test_harmless_values_of_those_keys_load(tmp_path, fragment):
    load(tmp_path, f"services:\n  web:\n    image: x\n    {fragment}\n")


@pytest.mark.parametrize("fragment, key", [
    ("networks: [front]", "networks"),
    ("container_name: my-web", "container_name"),
    ("expose: ['3000']", "expose"),
    ("logging: {driver: syslog}", "logging"),
    ("hostname: web", "hostname"),
    ("extra_hosts: ['a:1.2.3.4']", "extra_hosts"),
    ("configs: [cfg]", "configs"),
    ("tmpfs: [/run]", "tmpfs"),
    ("platform: linux/arm64", "platform"),
    ("network_mode: bridge", "network_mode"),
    ("deploy: {restart_policy: {condition: on-failure}}", "deploy.restart_policy"),
    ("ulimits: {nproc: 1024}", "ulimits.nproc"),
    ("restart: on-failure:3", "restart"),
    ("stop_grace_period: 5m", "stop_grace_period"),
    ("deploy: {mode: global}", "deploy.mode"),
    ("deploy: {update_config: {parallelism: 2}}", "deploy.update_config"),
])
def test_keys_fargate_handles_differently_warn(tmp_path, fragment, key):
    app = load(tmp_path, f"services:\n  web:\n    image: x\n    {fragment}\nnetworks: {{front: {{}}}}\n"
                         "configs: {cfg: {file: ./c.txt}}\n")
    messages = warnings_for(app, key, "web")
    assert messages, [str(w) for w in app.warnings]
    assert all(len(message) > 30 for message in messages)     # says what happens, not just the key name


@pytest.mark.parametrize("fragment", ["tty: false", "read_only: false", "init: false", "labels: {}"])
def test_default_values_do_not_warn(tmp_path, fragment):
    app = load(tmp_path, f"services:\n  web:\n    image: x\n    ports: [80]\n    {fragment}\n")
    assert app.warnings == []


@requires_corpus
def test_full_example_without_impossible_keys_loads_and_warns_for_every_ignored_key(tmp_path):
    """compose-go's all-attributes example, minus what Fargate refuses: nothing is silently dropped."""
    import shutil

    import yaml

    from tests.conftest import CORPUS_DIR

    source = CORPUS_DIR / "spec" / "loader"
    work = tmp_path / "loader"
    work.mkdir()
    for name in ("example1.env", "example2.env", "example1.label", "example2.label"):
        shutil.copy(source / name, work / name)
    document = yaml.safe_load((source / "full-example.yml").read_text())
    foo = document["services"]["foo"]
    impossible = ["cap_add", "devices", "device_cgroup_rules", "ipc", "pid", "uts", "network_mode", "privileged"]
    for key in impossible + ["depends_on", "links"]:      # they name services the example does not define
        del foo[key]
    del foo["deploy"]["resources"]["reservations"]["generic_resources"]
    document["volumes"]["datavolume"] = None           # the example uses it without declaring it
    foo["secrets"] = ["secret1"]
    # build.secrets reach BuildKit (issue 14): every secret the build names must be defined, as in Docker Compose
    document["secrets"] = {"secret1": {"file": "../.secret-one"}, "secret2": {"file": "../.secret-two"}}
    (tmp_path / ".secret-one").write_text("value")
    (tmp_path / ".secret-two").write_text("value")
    (work / "compose.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    app = load(work, environ={"COMPOSE_PROJECT_NAME": "p"}, entrypoint="foo")
    foo_container = app.container("foo")
    assert foo_container.environment["FOO"] == "foo_from_env_file"
    assert foo_container.environment["BAR"] == "bar_from_env_file_2"
    assert foo_container.environment["BAZ"] == "baz_from_service_def"
    assert foo_container.command == ["bundle", "exec", "thin", "-p", "3000"]
    assert foo_container.healthcheck.test == ("CMD-SHELL", 'echo "hello world"')
    assert app.replicas == 6 and (foo_container.cpu, foo_container.memory) == (2, 50)
    assert app.container("bar").build.dockerfile_inline.startswith("FROM alpine")
    warned = {w.key.split(".")[0].split("[")[0] for w in app.warnings if w.service == "foo" and w.key}
    service_keys = {key for key in foo if not key.startswith("x-")}
    honored_quietly = {"build", "command", "entrypoint", "env_file", "environment", "image", "user", "working_dir",
                       "healthcheck", "ports", "cap_drop", "labels", "read_only", "restart", "stop_grace_period"}
    assert service_keys - honored_quietly <= warned, sorted(service_keys - honored_quietly - warned)
