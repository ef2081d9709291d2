"""load_app on what spans services and files: ports and the entrypoint, secrets, extends/include/profiles,
malformed input."""
from __future__ import annotations

import pytest

from components.compose import LoaderBugError, load_app
from components.errors import ConfigError
from components.compose.model import HealthCheck, PortMapping, VolumeMount
from tests.compose_helpers import load, warnings_for, write

SIMPLE = """
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
"""


# ---- ports and the entrypoint -------------------------------------------------------------------

def test_port_syntaxes_use_the_container_side(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            ports:
              - 3000
              - "8080:80"
              - "127.0.0.1:8001:8001"
              - "[::1]:9000:9001/tcp"
              - "5353:53/udp"
              - target: 7000
                published: "17000"
                protocol: tcp
                mode: host
    """)
    assert app.container("web").ports == [
        PortMapping(3000), PortMapping(80, host_port=8080), PortMapping(8001, host_port=8001),
        PortMapping(9001, host_port=9000), PortMapping(53, "udp", 5353), PortMapping(7000, host_port=17000)]
    assert app.routed_port == 3000
    published = warnings_for(app, "ports")
    assert any("8080->80" in m for m in published)


def test_port_ranges_expand_and_are_reported(tmp_path):
    app = load(tmp_path, "services: {web: {image: x, ports: ['3000-3002', '9090-9091:8080-8081']}}")
    assert [p.container_port for p in app.container("web").ports] == [3000, 3001, 3002, 8080, 8081]
    ranges = [w for w in app.warnings if "range" in w.message]
    assert len(ranges) == 2 and "3000-3002" in ranges[0].message


@pytest.mark.parametrize("port, words", [("70000", "outside"), ("80/sctp", "SCTP"), ("a:b", "not a port"),
                                         ("3005-3000", "backwards"), ("80/xyz", "tcp or udp")])
def test_bad_ports_are_errors(tmp_path, port, words):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, f"services: {{web: {{image: x, ports: ['{port}']}}}}")
    assert error.value.key == "ports[0]" and words in str(error.value)


def test_same_container_port_in_two_services_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {a: {image: x, ports: ['80:8080']}, b: {image: x, ports: ['81:8080']}}",
             entrypoint="a")
    assert "'a'" in str(error.value) and "'b'" in str(error.value) and "8080" in str(error.value)


def test_same_port_different_protocols_is_fine(tmp_path):
    app = load(tmp_path, "services: {a: {image: x, ports: ['53:53']}, b: {image: x, ports: ['53:53/udp']}}")
    assert app.entrypoint == "a"


def test_single_publishing_container_is_the_entrypoint(tmp_path):
    app = load(tmp_path, "services: {db: {image: pg}, web: {image: x, ports: ['8080:3000', 4000]}}")
    assert (app.entrypoint, app.routed_port) == ("web", 3000)


def test_several_publishing_containers_need_an_entrypoint(tmp_path):
    compose = "services: {a: {image: x, ports: [80]}, b: {image: x, ports: [81]}, c: {image: x}}"
    with pytest.raises(ConfigError) as error:
        load(tmp_path, compose)
    assert error.value.key == "entrypoint" and "a, b" in error.value.fix
    app = load(tmp_path, compose, entrypoint="b")
    assert (app.entrypoint, app.routed_port) == ("b", 81)


def test_unknown_entrypoint_lists_the_containers(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, SIMPLE, entrypoint="api")
    assert "web" in error.value.fix


def test_entrypoint_without_ports_while_others_publish_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="publishes no TCP port"):
        load(tmp_path, "services: {a: {image: x, ports: [80]}, b: {image: x}}", entrypoint="b")


def test_no_ports_single_service_routes_to_80_with_a_warning(tmp_path):
    app = load(tmp_path, "services: {web: {image: x}}")
    assert (app.entrypoint, app.routed_port, app.container("web").ports) == ("web", 80, [PortMapping(80)])
    assert any("port 80" in m for m in warnings_for(app, "ports"))


def test_no_ports_several_services_needs_an_entrypoint(tmp_path):
    with pytest.raises(ConfigError, match="no container publishes"):
        load(tmp_path, "services: {a: {image: x}, b: {image: y}}")
    assert load(tmp_path, "services: {a: {image: x}, b: {image: y}}", entrypoint="b").routed_port == 80


def test_udp_only_is_not_routable(tmp_path):
    app = load(tmp_path, "services: {dns: {image: x, ports: ['53/udp', 8080]}}")
    assert app.routed_port == 8080


# ---- secrets --------------------------------------------------------------------------------------

def _secret_project(tmp_path, value="s3cret\n", name=".secret-db"):
    source = tmp_path / "src"
    source.mkdir()
    if value is not None:
        (tmp_path / name).write_text(value)
    return source


def test_secret_is_read_and_never_shown(tmp_path):
    source = _secret_project(tmp_path)
    app = load(source, f"""
        services:
          web: {{image: x, secrets: [DB_PASSWORD]}}
          worker: {{image: y, secrets: [{{source: DB_PASSWORD, target: /run/secrets/pw}}]}}
        secrets:
          DB_PASSWORD: {{file: ../.secret-db}}
    """, entrypoint="web")
    secret = app.secrets["DB_PASSWORD"]
    assert secret.value == "s3cret" and secret.file == tmp_path / ".secret-db"
    assert app.container("web").secrets == ["DB_PASSWORD"] == app.container("worker").secrets
    assert "s3cret" not in repr(app) and "s3cret" not in str(secret)
    assert "s3cret" not in " ".join(str(w) for w in app.warnings)
    assert warnings_for(app, "secrets[0]", "worker")     # target is not applied


@pytest.mark.parametrize("spec, words", [
    ("{file: ../secret.txt}", ".secret-"),
    ("{file: ./.secret-inside}", "inside the source folder"),
    ("{file: ../.secret-missing}", "does not exist"),
    ("{external: true}", "external"),
    ("{environment: DB_PASSWORD}", "environment variable"),
])
def test_secret_rules(tmp_path, spec, words):
    source = _secret_project(tmp_path, name="secret.txt")
    (source / ".secret-inside").write_text("x")
    with pytest.raises(ConfigError) as error:
        load(source, f"services: {{web: {{image: x, secrets: [pw]}}}}\nsecrets: {{pw: {spec}}}\n")
    assert words in str(error.value) and error.value.key.startswith("secrets.pw")


def test_empty_secret_file_is_an_error(tmp_path):
    source = _secret_project(tmp_path, value="\n")
    with pytest.raises(ConfigError, match="empty"):
        load(source, "services: {web: {image: x, secrets: [pw]}}\nsecrets: {pw: {file: ../.secret-db}}\n")


def test_unknown_service_secret_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: x, secrets: [nope]}}")
    assert error.value.service == "web" and error.value.key == "secrets[0]"


def test_unused_secret_is_not_stored_and_warned(tmp_path):
    source = _secret_project(tmp_path)
    app = load(source, "services: {web: {image: x}}\nsecrets: {pw: {file: ../.secret-db}}\n")
    assert app.secrets == {} and warnings_for(app, "secrets.pw")


# ---- extends, include, profiles, tags ------------------------------------------------------------

def test_extends_same_file_and_other_file_with_relative_paths(tmp_path):
    write(tmp_path, "common/base.yml", """
        services:
          base:
            build: ./app
            env_file: base.env
            environment: {A: base, B: base}
    """)
    write(tmp_path, "common/base.env", "FROM_BASE_FILE=1\n")
    app = load(tmp_path, """
        services:
          web:
            extends: {file: common/base.yml, service: base}
            environment: {B: web}
            ports: [80]
          worker:
            extends: web
            command: work
            ports: !reset []
    """)
    web = app.container("web")
    assert web.build.context == str(tmp_path / "common" / "app")
    assert web.environment == {"FROM_BASE_FILE": "1", "A": "base", "B": "web"}
    assert app.container("worker").command == ["work"] and app.container("worker").environment == web.environment


def test_extends_cycle_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="extends cycle"):
        load(tmp_path, "services: {a: {image: x, extends: b}, b: {image: x, extends: a}}")


def test_extends_unknown_service_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="'ghost'"):
        load(tmp_path, "services: {a: {image: x, extends: ghost}}")


def test_reset_and_override_tags(tmp_path):
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: x
            command: serve
            ports: ["8080:80", "9000:9000"]
            environment: {A: "1", B: "2"}
    """)
    write(tmp_path, "compose.override.yaml", """
        services:
          web:
            command: !reset null
            ports: !override ["8443:443"]
            environment:
              B: !reset
              C: "3"
    """)
    web = load(tmp_path).container("web")
    assert web.command is None
    assert web.ports == [PortMapping(443, host_port=8443)]
    assert web.environment == {"A": "1", "C": "3"}


def test_lists_merge_and_command_replaces(tmp_path):
    write(tmp_path, "compose.yaml", "services: {web: {image: x, command: [a], ports: ['80'], dns: [1.1.1.1]}}")
    write(tmp_path, "compose.override.yaml", "services: {web: {command: [b], ports: ['81', '80']}}")
    web = load(tmp_path).container("web")
    assert web.command == ["b"] and [p.container_port for p in web.ports] == [80, 81]


def test_include_with_its_own_folder(tmp_path):
    write(tmp_path, "db/compose.yaml", "services: {db: {image: 'postgres:${PG}', env_file: db.env}}")
    write(tmp_path, "db/db.env", "POSTGRES_DB=app\n")
    write(tmp_path, "db/.env", "PG=16\n")
    app = load(tmp_path, "include: [db/compose.yaml]\nservices: {web: {image: x, ports: [80]}}\n")
    assert app.container("db").image == "postgres:16"
    assert app.container("db").environment == {"POSTGRES_DB": "app"}


def test_include_conflicting_service_is_an_error(tmp_path):
    write(tmp_path, "other.yaml", "services: {web: {image: y}}")
    with pytest.raises(ConfigError, match="also defines the service 'web'"):
        load(tmp_path, "include: [other.yaml]\nservices: {web: {image: x}}\n")


def test_include_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "include: [b.yaml]\nservices: {a: {image: x}}\n")
    write(tmp_path, "b.yaml", "include: [a.yaml]\nservices: {b: {image: x}}\n")
    with pytest.raises(ConfigError, match="include cycle detected: a.yaml -> b.yaml -> a.yaml"):
        load(tmp_path, compose_files=["a.yaml"])


def test_profiles(tmp_path):
    compose = "services: {web: {image: x, ports: [80]}, debug: {image: y, profiles: [debug]}}"
    app = load(tmp_path, compose)
    assert [c.name for c in app.containers] == ["web"] and warnings_for(app, "profiles", "debug")
    app = load(tmp_path, compose, environ={"COMPOSE_PROFILES": "debug"})
    assert [c.name for c in app.containers] == ["web", "debug"]


def test_dependency_on_inactive_profile_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="profiles"):
        load(tmp_path, "services: {web: {image: x, depends_on: [dbg]}, dbg: {image: y, profiles: [d]}}")


def test_multiple_documents_in_one_file_merge(tmp_path):
    app = load(tmp_path, "services: {web: {image: x}}\n---\nservices: {web: {image: y}}\n")
    assert app.container("web").image == "y"


def test_obsolete_version_is_ignored_with_a_warning(tmp_path):
    app = load(tmp_path, "version: '3.8'\n" + SIMPLE)
    assert warnings_for(app, "version")


# ---- malformed input ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("", "empty compose file"),
    ("# only a comment\n", "empty compose file"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("services: {web: {image: x}\n", "not valid YAML"),
    ("services: {web: {image: x, image: y}}\n", "appears twice"),
    ("services: {web: {image: x, portz: [80]}}\n", "did you mean 'ports'"),
    ("services: {web: {image: [x]}}\n", "should be of type string"),
    ("services: {}\n", "no services"),
    ("a: &a [*a]\n", "refers to itself"),
    ("services:\n  web:\n    image: x\n    command: !!python/object:os.system ls\n", "not valid YAML"),
])
def test_malformed_files_are_config_errors(tmp_path, text, words):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, text)
    assert not isinstance(error.value, LoaderBugError)
    assert words in str(error.value)


def test_schema_error_names_service_and_key(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: x, deploy: {replicas: [1]}}}")
    assert (error.value.service, error.value.key) == ("web", "deploy.replicas")


def test_non_utf8_file_is_an_error(tmp_path):
    (tmp_path / "compose.yaml").write_bytes(b"services:\n  web:\n    image: \xff\xfe\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_app(tmp_path, environ={})


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append("services: {web: {image: x, command: *a7}}")
    with pytest.raises(ConfigError, match="expands to more than"):
        load(tmp_path, "\n".join(lines) + "\n")


def test_named_volume_becomes_a_persistent_mount_and_the_rest_warn(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            volumes: ["data:/var/data:ro", "./src:/src", "/anon", {type: tmpfs, target: /tmp}]
        volumes: {data: {}}
    """)
    assert app.container("web").mounts == [VolumeMount("data", "/var/data", True, persistent=True)]
    messages = warnings_for(app, "volumes", "web")
    assert not any("'data'" in m for m in messages)           # on EFS: nothing to warn about
    assert any("bind mount" in m and "not deployed" in m for m in messages)
    assert any("anonymous volume" in m and "lost" in m for m in messages)
    assert len(messages) == 3


def test_undeclared_named_volume_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not declared"):
        load(tmp_path, "services: {web: {image: x, volumes: ['data:/d']}}")


def test_env_value_naming_another_service_warns(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            ports: [80]
            environment: {DATABASE_HOST: db, URL: "http://cache:6379/0", OK: "dbx", LOCAL: localhost}
          db: {image: pg}
          cache: {image: redis}
    """)
    keys = {w.key for w in app.warnings if "shared" in w.message or "localhost" in w.message and w.key.startswith("environment")}
    assert keys == {"environment.DATABASE_HOST", "environment.URL"}


@pytest.mark.parametrize("path", ["a" * 300, "x\x00y", "~nosuchuser/x", "../" * 40 + "etc"])
def test_odd_paths_are_warnings_or_config_errors(tmp_path, path):
    import yaml
    compose = yaml.safe_dump({"services": {"web": {"build": path, "env_file": [{"path": path, "required": False}],
                                                   "volumes": [f"./{path}:/x"], "ports": [80]}}})
    app = load(tmp_path, compose)
    assert warnings_for(app, "build.")
    with pytest.raises(ConfigError) as error:
        load(tmp_path, yaml.safe_dump({"services": {"web": {"image": "x", "env_file": path, "secrets": ["s"]}},
                                       "secrets": {"s": {"file": path}}}))
    assert not isinstance(error.value, LoaderBugError)


@pytest.mark.parametrize("depth", [300, 3000])
def test_deep_nesting_is_a_config_error(tmp_path, depth):
    with pytest.raises(ConfigError, match="nested more than") as error:
        load(tmp_path, "services: {web: {image: x, labels: {a: " + "[" * depth + "]" * depth + "}}}")
    assert not isinstance(error.value, LoaderBugError)


def test_dockerfile_healthcheck_of_a_built_service_reaches_the_model(tmp_path):
    write(tmp_path, "api/Dockerfile", "FROM x AS base\nEXPOSE 1/sctp\nHEALTHCHECK --interval=5s CMD curl -f localhost\n"
                                      "FROM base AS dev\nHEALTHCHECK NONE\nFROM base AS prod\n")
    app = load(tmp_path, """
        services:
          prod: {build: {context: api, target: prod}, ports: [80]}
          dev: {build: {context: api, target: dev}}
          last: {build: api}
          tuned: {build: api, healthcheck: {retries: 9}}
          own: {build: api, healthcheck: {test: [CMD, "true"]}}
          inline:
            build:
              dockerfile_inline: "FROM x\\nHEALTHCHECK CMD [\\"ping\\"]\\n"
    """)
    assert app.container("prod").healthcheck == HealthCheck(("CMD-SHELL", "curl -f localhost"), interval=5.0)
    assert app.container("dev").healthcheck is None
    assert app.container("last").healthcheck == HealthCheck(("CMD-SHELL", "curl -f localhost"), interval=5.0)
    assert app.container("tuned").healthcheck == HealthCheck(("CMD-SHELL", "curl -f localhost"), 5.0, retries=9)
    assert app.container("own").healthcheck == HealthCheck(("CMD", "true"))
    assert app.container("inline").healthcheck == HealthCheck(("CMD", "ping"))


def test_unknown_build_target_is_an_error(tmp_path):
    write(tmp_path, "api/Dockerfile", "FROM x AS base\n")
    with pytest.raises(ConfigError, match="not a stage"):
        load(tmp_path, "services: {api: {build: {context: api, target: prod}}}")
