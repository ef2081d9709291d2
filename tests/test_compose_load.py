"""load_app on compose sources: discovery, merging, interpolation, the model it fills, the errors."""
from __future__ import annotations

import pytest

from components.compose import LoaderBugError, load_app
from components.errors import ConfigError
from components.compose.model import BuildSpec, Dependency, HealthCheck, PortMapping, VolumeMount
from tests.compose_helpers import load, warnings_for, write

SIMPLE = """
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
"""


# ---- discovery ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"])
def test_each_default_file_name_is_found(tmp_path, name):
    app = load(tmp_path, SIMPLE, name=name)
    assert app.compose_files == [tmp_path / name]
    assert app.container("web").image == "nginx:1.27"


def test_two_default_files_are_an_error_naming_both(tmp_path):
    write(tmp_path, "compose.yaml", SIMPLE)
    write(tmp_path, "docker-compose.yml", SIMPLE)
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    assert "compose.yaml" in str(error.value) and "docker-compose.yml" in str(error.value)


def test_override_file_is_picked_up_and_merged_after_the_main_file(tmp_path):
    write(tmp_path, "docker-compose.yml", SIMPLE)
    write(tmp_path, "docker-compose.override.yml", """
        services:
          web:
            image: nginx:override
            environment: {A: "1"}
    """)
    app = load(tmp_path)
    assert app.compose_files == [tmp_path / "docker-compose.yml", tmp_path / "docker-compose.override.yml"]
    assert app.container("web").image == "nginx:override"
    assert app.container("web").environment == {"A": "1"}


def test_override_of_the_other_main_name_is_not_picked_up(tmp_path):
    write(tmp_path, "compose.yaml", SIMPLE)
    write(tmp_path, "docker-compose.override.yml", "services: {web: {image: wrong}}")
    assert load(tmp_path).container("web").image == "nginx:1.27"


def test_explicit_files_merge_in_order_and_may_be_absolute(tmp_path):
    write(tmp_path, "a.yml", SIMPLE)
    second = write(tmp_path, "b.yml", "services: {web: {image: second, environment: [B=2]}}")
    write(tmp_path, "c.yml", "services: {web: {environment: {B: '3', C: x}}}")
    app = load(tmp_path, compose_files=["a.yml", second, "c.yml"])
    assert app.container("web").image == "second"
    assert app.container("web").environment == {"B": "3", "C": "x"}


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path, compose_files=["nope.yml"])


def test_compose_file_from_dotenv(tmp_path):
    write(tmp_path, "other.yml", SIMPLE)
    write(tmp_path, ".env", "COMPOSE_FILE=other.yml\n")
    assert load(tmp_path).compose_files == [tmp_path / "other.yml"]


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no compose file and no Dockerfile"):
        load(tmp_path)


def test_missing_source_folder_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_app(tmp_path / "nope", environ={})


def test_dockerfile_only_source(tmp_path):
    folder = tmp_path / "My API"
    write(folder, "Dockerfile", "FROM node:20\nEXPOSE 3000\n")
    app = load(folder)
    assert [c.name for c in app.containers] == ["myapi"]
    assert app.container("myapi").build == BuildSpec(context=str(folder.resolve()))
    assert (app.entrypoint, app.routed_port, app.compose_files) == ("myapi", 3000, [])


# ---- interpolation and env ---------------------------------------------------------------------

def test_interpolation_forms_with_dotenv_under_the_environment(tmp_path):
    write(tmp_path, ".env", "PORT=3000\nTAG=from-dotenv\nEMPTY=\nREF=${TAG}-ref\n")
    app = load(tmp_path, """
        services:
          web:
            image: "nginx:${TAG}"
            ports: ["${PORT}"]
            environment:
              A: "${UNSET:-dflt}"
              B: "${EMPTY:-colon}"
              C: "${EMPTY-dash}"
              D: "${TAG:+alt}"
              E: "$$literal"
              F: "${UNSET:-${TAG:-x}}"
              G: "$TAG"
              H: "${REF}"
    """, environ={"TAG": "from-env"})
    web = app.container("web")
    assert web.image == "nginx:from-env"
    assert web.ports == [PortMapping(3000)]
    assert web.environment == {"A": "dflt", "B": "colon", "C": "", "D": "alt", "E": "$literal",
                               "F": "from-env", "G": "from-env", "H": "from-env-ref"}


def test_required_variable_error_names_the_service_and_key(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: 'x:${TAG:?set TAG first}'}}")
    assert error.value.service == "web" and error.value.key == "image"
    assert "set TAG first" in str(error.value)


def test_unset_variable_warns_once(tmp_path):
    app = load(tmp_path, "services: {web: {image: 'x${NOPE}', environment: {A: '${NOPE}'}}}")
    assert len([w for w in app.warnings if "NOPE" in w.message]) == 1


def test_invalid_interpolation_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="invalid interpolation"):
        load(tmp_path, "services: {web: {image: 'x${'}}")


def test_env_file_forms_and_precedence(tmp_path):
    write(tmp_path, "base.env", "A=from-file\nB='single $NOT'\nC=\"double ${TAG}\"\nexport D=4\n# comment\nE=1 # inline\n")
    write(tmp_path, "more.env", "A=second-file\nF\n")
    app = load(tmp_path, """
        services:
          web:
            image: nginx
            env_file:
              - base.env
              - path: more.env
              - path: missing.env
                required: false
            environment:
              E: from-environment
    """, environ={"TAG": "t", "F": "from-shell"})
    assert app.container("web").environment == {
        "A": "second-file", "B": "single $NOT", "C": "double t", "D": "4", "E": "from-environment", "F": "from-shell"}


def test_env_file_as_string(tmp_path):
    write(tmp_path, "web.env", "A=1\n")
    assert load(tmp_path, "services: {web: {image: x, env_file: web.env}}").container("web").environment == {"A": "1"}


def test_missing_required_env_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: x, env_file: [nope.env]}}")
    assert error.value.key == "env_file[0]" and "required: false" in error.value.fix


def test_malformed_env_file_line_is_an_error(tmp_path):
    write(tmp_path, "bad.env", "A=1\nthis is not an assignment\n")
    with pytest.raises(ConfigError, match="line 2"):
        load(tmp_path, "services: {web: {image: x, env_file: bad.env}}")


def test_environment_without_value_comes_from_the_environment_or_warns(tmp_path):
    app = load(tmp_path, "services: {web: {image: x, environment: [FROM_SHELL, MISSING, NUM=1]}}",
               environ={"FROM_SHELL": "yes"})
    assert app.container("web").environment == {"FROM_SHELL": "yes", "NUM": "1"}
    assert any("MISSING" in m for m in warnings_for(app, "environment.MISSING"))


def test_environment_scalars_become_strings(tmp_path):
    app = load(tmp_path, "services: {web: {image: x, environment: {I: 1, F: 1.5, B: true}}}")
    assert app.container("web").environment == {"I": "1", "F": "1.5", "B": "true"}


def test_yaml_1_2_scalars_ports_are_not_base_60(tmp_path):
    app = load(tmp_path, "services: {web: {image: x, ports: [8000:80], environment: {A: on}}}")
    assert app.container("web").ports == [PortMapping(80, host_port=8000)]
    assert app.container("web").environment == {"A": "on"}


# ---- service fields -----------------------------------------------------------------------------

def test_build_long_form(tmp_path):
    write(tmp_path, "api/Dockerfile.prod", "FROM scratch AS runtime\n")
    app = load(tmp_path, """
        services:
          api:
            build:
              context: ./api
              dockerfile: Dockerfile.prod
              args: [VERSION=1.2, FROM_ENV]
              target: runtime
            image: my/api
            ports: [80]
    """, environ={"FROM_ENV": "e"})
    api = app.container("api")
    assert api.build == BuildSpec(context=str((tmp_path / "api").resolve()), dockerfile="Dockerfile.prod",
                                  args={"VERSION": "1.2", "FROM_ENV": "e"}, target="runtime")
    assert api.image == "my/api" and api.is_built
    assert not warnings_for(app, "build")


def test_missing_build_context_is_a_warning_naming_the_path(tmp_path):
    app = load(tmp_path, "services: {api: {build: ./nowhere}}")
    assert app.container("api").build.context == str((tmp_path / "nowhere").resolve())
    assert any(str(tmp_path / "nowhere") in m for m in warnings_for(app, "build.context"))


def test_remote_build_context_is_kept(tmp_path):
    app = load(tmp_path, "services: {api: {build: 'https://github.com/docker/compose.git#main'}}")
    assert app.container("api").build.context == "https://github.com/docker/compose.git#main"


def test_other_build_options_are_warned_about(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    app = load(tmp_path, "services: {api: {build: {context: ., cache_from: [x], platforms: [linux/arm64]}}}")
    assert {w.key for w in app.warnings if w.key and w.key.startswith("build.")} == {"build.cache_from", "build.platforms"}


def test_service_without_image_or_build_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {environment: {A: b}}}")
    assert error.value.service == "web" and error.value.key == "image"


def test_command_and_entrypoint_forms(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            command: bundle exec "thin server" -p 3000
            entrypoint: ["/bin/sh", "-c"]
            working_dir: /app
            user: "1000"
    """)
    web = app.container("web")
    assert web.command == ["bundle", "exec", "thin server", "-p", "3000"]
    assert web.entrypoint == ["/bin/sh", "-c"]
    assert (web.working_dir, web.user) == ("/app", "1000")


def test_unbalanced_quotes_in_command_are_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: x, command: 'echo \"oops'}}")
    assert error.value.key == "command"


@pytest.mark.parametrize("spec, expected", [
    ({"test": ["CMD", "curl", "-f", "http://localhost"], "interval": "1m30s", "timeout": "500ms",
      "retries": 5, "start_period": "1h"},
     HealthCheck(("CMD", "curl", "-f", "http://localhost"), 90.0, 0.5, 5, 3600.0)),
    ({"test": ["CMD-SHELL", "curl -f localhost || exit 1"]}, HealthCheck(("CMD-SHELL", "curl -f localhost || exit 1"))),
    ({"test": "curl -f localhost"}, HealthCheck(("CMD-SHELL", "curl -f localhost"))),
    ({"test": ["NONE"]}, None),
    ({"test": "NONE"}, None),
    ({"test": ["CMD", "true"], "disable": True}, None),
    ({"test": ["CMD", "true"], "interval": "1.5s", "timeout": "2m"}, HealthCheck(("CMD", "true"), 1.5, 120.0)),
])
def test_healthcheck_forms(tmp_path, spec, expected):
    import yaml
    app = load(tmp_path, yaml.safe_dump({"services": {"web": {"image": "x", "healthcheck": spec}}}))
    assert app.container("web").healthcheck == expected


@pytest.mark.parametrize("spec, key, words", [
    ({"test": ["curl", "x"]}, "test", "CMD"),
    ({"test": ["CMD", "x"], "interval": "10"}, "interval", "unit"),
    ({"test": ["CMD", "x"], "timeout": "soon"}, "timeout", "duration"),
    ({"test": ["CMD", "x"], "retries": "-1"}, "retries", "less than 0"),
    ({"test": ["CMD", "x"], "disable": "maybe"}, "disable", "true or false"),
])
def test_bad_healthcheck_is_an_error(tmp_path, spec, key, words):
    import yaml
    with pytest.raises(ConfigError) as error:
        load(tmp_path, yaml.safe_dump({"services": {"web": {"image": "x", "healthcheck": spec}}}))
    assert error.value.key == f"healthcheck.{key}" and words in str(error.value)


def test_healthcheck_without_test_warns_that_none_runs(tmp_path):
    app = load(tmp_path, "services: {web: {image: x, healthcheck: {interval: 10s}}}")
    assert app.container("web").healthcheck is None
    assert warnings_for(app, "healthcheck.test")


def test_depends_on_forms(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            ports: [80]
            depends_on:
              db: {condition: service_healthy}
              migrate: {condition: service_completed_successfully}
          db: {image: postgres, depends_on: [cache]}
          cache: {image: redis}
          migrate: {image: x}
    """)
    assert app.container("web").depends_on == [Dependency("db", "service_healthy"),
                                               Dependency("migrate", "service_completed_successfully")]
    assert app.container("db").depends_on == [Dependency("cache")]


def test_depends_on_unknown_service_is_an_error_unless_optional(tmp_path):
    with pytest.raises(ConfigError, match="'ghost'"):
        load(tmp_path, "services: {web: {image: x, depends_on: [ghost]}}")
    app = load(tmp_path, "services: {web: {image: x, depends_on: {ghost: {condition: service_started, required: false}}}}")
    assert app.container("web").depends_on == [] and warnings_for(app, "depends_on.ghost")


def test_depends_on_cycle_shows_the_cycle(tmp_path):
    with pytest.raises(ConfigError, match="dependency cycle detected: a -> b -> c -> a"):
        load(tmp_path, """
            services:
              a: {image: x, depends_on: [b]}
              b: {image: x, depends_on: [c]}
              c: {image: x, depends_on: [a]}
        """, entrypoint="a")


def test_cpu_and_memory_sources_and_task_size(tmp_path):
    app = load(tmp_path, """
        services:
          web:
            image: x
            ports: [80]
            deploy: {resources: {limits: {cpus: "0.5", memory: 1g}, reservations: {cpus: "0.25"}}}
          worker: {image: x, cpus: 0.75, mem_limit: 1536m}
          side: {image: x, deploy: {resources: {reservations: {memory: 100M}}}}
          tiny: {image: x, mem_reservation: 64k}
    """)
    assert (app.container("web").cpu, app.container("web").memory) == (512, 1024)
    assert (app.container("worker").cpu, app.container("worker").memory) == (768, 1536)
    assert (app.container("side").cpu, app.container("side").memory) == (None, 100)
    assert app.container("tiny").memory == 6 and warnings_for(app, "mem_reservation", "tiny")
    # 1280 CPU units and 2666 MiB in total -> the smallest Fargate size holding both.
    assert (app.cpu, app.memory) == (2048, 4096)


def test_default_task_size(tmp_path):
    app = load(tmp_path, SIMPLE)
    assert (app.cpu, app.memory) == (256, 512)


def test_impossible_task_size_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no Fargate task size"):
        load(tmp_path, "services: {web: {image: x, cpus: 32}}")


def test_replicas_scale_and_disagreement(tmp_path):
    assert load(tmp_path, "services: {web: {image: x, deploy: {replicas: 3}}}").replicas == 3
    assert load(tmp_path, "services: {web: {image: x, scale: '2'}}").replicas == 2
    app = load(tmp_path, """
        services:
          web: {image: x, ports: [80], deploy: {replicas: 2}}
          worker: {image: x, deploy: {replicas: 4}}
    """)
    assert app.replicas == 4
    assert any("web: 2" in m and "worker: 4" in m for m in warnings_for(app, "deploy.replicas"))


def test_zero_replicas_is_an_error_pointing_at_pause(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "services: {web: {image: x, deploy: {replicas: 0}}}")
    assert error.value.key == "deploy.replicas" and "ops pause" in error.value.fix


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
