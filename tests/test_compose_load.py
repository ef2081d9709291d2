"""load_app on compose sources: discovery, merging, interpolation, the model it fills, the errors."""
from __future__ import annotations

import pytest

from components.compose import load_app
from components.errors import ConfigError
from components.compose.model import BuildSpec, Dependency, HealthCheck, PortMapping
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
