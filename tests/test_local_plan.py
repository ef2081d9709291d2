"""`ops local`: the docker command lines it plans, and the runner's order, waits and clean-up.

No Docker engine here: the plan is pure, and the runner is driven with a fake docker CLI.
"""
from __future__ import annotations

import os

import shlex
from pathlib import Path

import pytest

from components.errors import ConfigError
from components.compose.model import App, BuildSpec, Container, Dependency, HealthCheck, PortMapping, Secret, VolumeMount
from ops import __main__ as cli
from ops.errors import OpsError
from ops.local.runner import (LABEL_TASK, LocalOptions, LocalRunner, health_flags, local_image, plan_task, start_order,
                       task_family)

SECRET_VALUE = "s3cr3t-value-never-on-argv"


def two_container_app(tmp_path: Path) -> App:
    secret_file = tmp_path / "secrets" / ".secret-api-token"
    front = Container(
        name="express",
        build=BuildSpec(context=str(tmp_path / "express"), dockerfile="Dockerfile.prod",
                        args={"NODE_ENV": "production", "BASE_IMAGE": "from-compose"}, target="runtime"),
        ports=[PortMapping(8080, host_port=8080)],
        environment={"PORT": "8080", "PYTHON_URL": "http://localhost:5000"},
        healthcheck=HealthCheck(test=("CMD", "node", "-e", "process.exit(require('x') ? 0 : 1)"),
                                interval=10, timeout=5, retries=3, start_period=5),
        secrets=["API_TOKEN"],
        depends_on=[Dependency("python", "service_healthy")],
    )
    back = Container(
        name="python",
        build=BuildSpec(context=str(tmp_path / "python")),
        environment={"PORT": "5000"},
        # 1 s is below ECS's 5 s minimum: the local run must use what ECS will use.
        healthcheck=HealthCheck(test=("CMD-SHELL", "python3 -c 'print(1)' || exit 1"),
                                interval=1, timeout=1, retries=2, start_period=0),
    )
    return App(source_dir=tmp_path, compose_files=[tmp_path / "docker-compose.yml"], containers=[front, back],
               entrypoint="express", routed_port=8080,
               secrets={"API_TOKEN": Secret("API_TOKEN", secret_file, SECRET_VALUE)})


def options(**overrides) -> LocalOptions:
    return LocalOptions(stack="dev", api="multi", **overrides)


def flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]


def env_words(step) -> list[str]:
    """What the container's environment gets: KEY=VALUE from the env file, NAME for what comes by name."""
    return [f"{k}={v}" for k, v in step.environment.items()] + flag_values(step.argv, "-e")


# ---------------------------------------------------------------- start order

def test_start_order_puts_dependencies_first_and_keeps_compose_order_otherwise(tmp_path):
    app = two_container_app(tmp_path)
    app.containers.append(Container(name="worker", image="busybox"))
    assert start_order(app) == ["python", "express", "worker"]


def test_start_order_refuses_a_cycle_and_names_it(tmp_path):
    app = two_container_app(tmp_path)
    app.container("python").depends_on.append(Dependency("express"))
    with pytest.raises(ConfigError, match="cycle among express, python"):
        start_order(app)


def test_start_order_refuses_an_unknown_dependency(tmp_path):
    app = two_container_app(tmp_path)
    app.container("python").depends_on.append(Dependency("db"))
    with pytest.raises(ConfigError, match="db"):
        start_order(app)


# ---------------------------------------------------------------- the plan

def test_only_the_entrypoint_port_is_published_and_only_on_loopback(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(host_port=18080), region="eu-west-1")
    assert task.pause.name == task_family("dev", "multi") == "serverless-containers-dev-multi"
    assert flag_values(task.pause.argv, "-p") == ["127.0.0.1:18080:8080"]
    assert task.url == "http://127.0.0.1:18080"
    for step in task.runs:
        assert "-p" not in step.argv and "--publish" not in step.argv
        assert flag_values(step.argv, "--network") == [f"container:{task.family}"]
        assert f"{LABEL_TASK}={task.family}" in flag_values(step.argv, "--label")


def test_host_port_defaults_to_the_routed_port(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    assert flag_values(task.pause.argv, "-p") == ["127.0.0.1:8080:8080"]


def test_containers_start_in_dependency_order_with_ecs_conditions(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    assert [s.container for s in task.runs] == ["python", "express"]
    assert task.runs[0].waits_for == []
    assert task.runs[1].waits_for == [("python", "HEALTHY")]


def test_secret_reaches_the_container_by_name_and_its_value_is_never_on_a_command_line(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    express = task.runs[1]
    assert express.secret_names == ["API_TOKEN"]
    assert "API_TOKEN" in flag_values(express.argv, "-e")
    every_word = [w for step in [task.pause, *task.runs, *task.builds] for w in step.argv]
    assert not any(SECRET_VALUE in word for word in every_word)
    assert task.secret_values == {"API_TOKEN": SECRET_VALUE}
    assert SECRET_VALUE not in repr(task)
    assert "API_TOKEN" not in flag_values(task.runs[0].argv, "-e")   # python was not given the secret


def test_environment_is_the_task_definitions(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(environment={"DEBUG": "1"}), region="us-east-1")
    assert set(env_words(task.runs[1])) == {
        "PORT=8080", "PYTHON_URL=http://localhost:5000", "DEBUG=1", "API_TOKEN"}
    assert set(env_words(task.runs[0])) == {"PORT=5000", "DEBUG=1"}
    # values never on a command line (`ps` shows every argv): only names
    assert flag_values(task.runs[1].argv, "-e") == ["API_TOKEN"] and flag_values(task.runs[0].argv, "-e") == []


def test_health_checks_are_the_ones_ecs_runs_including_its_limits(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    python, express = task.runs
    # ECS raises a 1 s interval to 5 s and a 1 s timeout to 2 s; the local run does the same.
    assert flag_values(python.argv, "--health-interval") == ["5s"]
    assert flag_values(python.argv, "--health-timeout") == ["2s"]
    assert flag_values(python.argv, "--health-retries") == ["2"]
    assert flag_values(python.argv, "--health-cmd") == ["python3 -c 'print(1)' || exit 1"]
    assert any("interval" in str(w) for w in task.warnings)
    assert flag_values(express.argv, "--health-start-period") == ["5s"]
    # The CMD form becomes one shell command that runs exactly the same words.
    (command,) = flag_values(express.argv, "--health-cmd")
    assert shlex.split(command) == ["node", "-e", "process.exit(require('x') ? 0 : 1)"]


def test_health_flags_round_every_time_up_to_whole_seconds():
    flags = health_flags({"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0})
    assert flags == ["--health-cmd", "true", "--health-interval", "30s", "--health-timeout", "5s",
                     "--health-retries", "3", "--health-start-period", "0s"]


def test_builds_use_context_dockerfile_target_and_args_with_the_base_image_and_cli_args_winning(tmp_path):
    task = plan_task(two_container_app(tmp_path),
                     options=options(base_image="serverless-containers/base:local", build_args={"NODE_ENV": "test"}),
                     region="us-east-1")
    assert [b.container for b in task.builds] == ["python", "express"]
    express = task.builds[1]
    assert express.image == "serverless-containers-dev-multi-express:local" == local_image("dev", "multi", "express")
    assert flag_values(express.argv, "-f") == [str(tmp_path / "express" / "Dockerfile.prod")]
    assert flag_values(express.argv, "--target") == ["runtime"]
    assert sorted(flag_values(express.argv, "--build-arg")) == ["BASE_IMAGE", "NODE_ENV"]
    assert express.build_args == {"BASE_IMAGE": "serverless-containers/base:local", "NODE_ENV": "test"}
    assert express.argv[-1] == str(tmp_path / "express")
    python = task.builds[0]
    assert "--target" not in python.argv
    assert sorted(flag_values(python.argv, "--build-arg")) == ["BASE_IMAGE", "NODE_ENV"]
    assert python.build_args == {"BASE_IMAGE": "serverless-containers/base:local", "NODE_ENV": "test"}
    # The run steps use exactly the images the builds tag.
    assert {s.container: s.image for s in task.runs} == {b.container: b.image for b in task.builds}


def test_without_a_base_image_compose_args_pass_unchanged(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    assert task.builds[1].build_args == {"BASE_IMAGE": "from-compose", "NODE_ENV": "production"}
    assert sorted(flag_values(task.builds[1].argv, "--build-arg")) == ["BASE_IMAGE", "NODE_ENV"]


def test_build_args_reach_docker_build_through_its_environment_never_its_command_line(tmp_path):
    """`ps` shows argv to every local user, and compose fills build args from `.env` (issue 23 item 14)."""
    token = "npm_" + "s3cr3t" * 6
    task = plan_task(two_container_app(tmp_path), options=options(build_args={"NPM_TOKEN": token}),
                     region="us-east-1")
    docker = FakeDocker(healthy_after=1)
    LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).build(task)
    builds = [(argv, env) for argv, env in docker.calls if argv[1] == "build"]
    assert len(builds) == 2
    for argv, env in builds:
        assert not any(token in word or "from-compose" in word for word in argv)
        assert "NPM_TOKEN" in flag_values(argv, "--build-arg")
        assert env["NPM_TOKEN"] == token
        assert env["PATH"] == os.environ["PATH"]        # the rest of the environment still reaches docker
    assert builds[1][1]["BASE_IMAGE"] == "from-compose" and "BASE_IMAGE" in flag_values(builds[1][0], "--build-arg")
    assert token not in repr(task)


def test_image_containers_are_not_built_and_run_their_image(tmp_path):
    app = two_container_app(tmp_path)
    app.containers.append(Container(name="cache", image="redis:7", command=["redis-server", "--save", ""],
                                    entrypoint=["docker-entrypoint.sh", "-x"]))
    task = plan_task(app, options=options(), region="us-east-1")
    assert "cache" not in [b.container for b in task.builds]
    cache = next(s for s in task.runs if s.container == "cache")
    image_at = cache.argv.index("redis:7")
    assert flag_values(cache.argv, "--entrypoint") == ["docker-entrypoint.sh"]
    assert cache.argv[image_at + 1:] == ["-x", "redis-server", "--save", ""]


def test_a_container_with_neither_build_nor_image_is_refused(tmp_path):
    app = two_container_app(tmp_path)
    app.containers.append(Container(name="ghost"))
    with pytest.raises(ConfigError, match="ghost|nothing to run"):
        plan_task(app, options=options(), region="us-east-1")


def test_storage_variables_default_to_the_stacks_tables(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="eu-west-1", granted_tables=["posts"])
    env = set(env_words(task.runs[0]))
    assert {"REGION=eu-west-1", "STORAGE_POSTS_NAME=serverless-containers-dev-posts",
            "STORAGE_POSTS_ARN=arn:aws:dynamodb:eu-west-1:000000000000:table/serverless-containers-dev-posts"} <= env


def test_storage_variables_point_where_the_user_says(tmp_path):
    task = plan_task(two_container_app(tmp_path),
                     options=options(tables={"posts": "my-posts"}, account_id="111122223333",
                                     dynamodb_endpoint="http://127.0.0.1:8000"),
                     region="us-east-1", granted_tables=["posts"])
    env = set(env_words(task.runs[1]))
    assert {"STORAGE_POSTS_NAME=my-posts", "STORAGE_POSTS_ARN=arn:aws:dynamodb:us-east-1:111122223333:table/my-posts",
            "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000"} <= env


def test_no_storage_sets_no_storage_variables(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(no_storage=True), region="us-east-1",
                     granted_tables=["posts"])
    env = env_words(task.runs[1])
    assert not [e for e in env if e.startswith(("STORAGE_", "REGION="))]


# ---------------------------------------------------------------- the runner, with a fake docker

class FakeDocker:
    """Records every docker call; containers become healthy after `healthy_after` inspections."""

    def __init__(self, healthy_after: int = 2, unhealthy: set[str] = frozenset()):
        self.calls: list[tuple[list[str], dict | None]] = []
        self.running: list[str] = []
        self.inspections: dict[str, int] = {}
        self.healthy_after = healthy_after
        self.unhealthy = set(unhealthy)
        self.events: list[tuple[str, str]] = []
        self.volumes: set[str] = set()
        self.volume_labels: dict[str, str] = {}
        self.inputs: list[str | None] = []

    def run(self, argv, *, env=None, check=True, capture=True, input=None):
        import subprocess

        self.calls.append((list(argv), env))
        self.inputs.append(input)
        if argv[1] == "run":
            self.events.append(("run", argv[argv.index("--name") + 1]))
            self.running.append(argv[argv.index("--name") + 1])
        if argv[1:3] == ["volume", "create"]:
            self.volumes.add(argv[-1])
            self.volume_labels[argv[-1]] = argv[argv.index("--label") + 1]
        if argv[1:3] == ["volume", "rm"]:
            self.volumes.discard(argv[-1])
        if argv[1] == "rm":
            self.running = [n for n in self.running if n != argv[-1]]
        return subprocess.CompletedProcess(argv, 0, "", "")

    def inspect_state(self, name):
        if name not in self.running:
            return {}
        self.inspections[name] = self.inspections.get(name, 0) + 1
        self.events.append(("inspect", name))
        container = name.rsplit(".", 1)[-1]
        if container in self.unhealthy:
            return {"Status": "running", "Health": {"Status": "unhealthy"}}
        healthy = self.inspections[name] >= self.healthy_after
        return {"Status": "running", "Health": {"Status": "healthy" if healthy else "starting"}}

    def logs_tail(self, name, lines=20):
        return "Traceback: the app crashed\nsecond line"

    def labelled_volumes(self, label):
        return sorted(v for v in self.volumes if self.volume_labels.get(v, "").endswith(f"task={label}"))

    def labelled(self, label):
        return sorted(reversed(self.running), key=lambda n: "." not in n)

    def started(self):
        return [argv[argv.index("--name") + 1] for argv, _ in self.calls if argv[1] == "run"]


def test_up_starts_the_namespace_first_then_waits_for_health_before_dependents(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    docker = FakeDocker(healthy_after=3)
    LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).up(task)
    assert docker.started() == [task.family, f"{task.family}.python", f"{task.family}.express"]
    # python was inspected until healthy before express was started; the entrypoint is awaited too.
    python, express = f"{task.family}.python", f"{task.family}.express"
    express_started = docker.events.index(("run", express))
    assert docker.events[:express_started].count(("inspect", python)) == 3
    after = docker.events[express_started + 1:]
    assert [event for event in after if event[1] == express] == [("inspect", express)] * 3
    # Meanwhile every essential container and the namespace holder are watched for an early exit.
    assert ("inspect", python) in after and ("inspect", task.family) in after


def test_secret_values_travel_in_the_environment_of_the_docker_call_only(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    docker = FakeDocker(healthy_after=1)
    LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).up(task)
    express_call = next((argv, env) for argv, env in docker.calls if f"{task.family}.express" in argv)
    assert express_call[1]["API_TOKEN"] == SECRET_VALUE
    python_call = next((argv, env) for argv, env in docker.calls if f"{task.family}.python" in argv)
    assert python_call[1].get("API_TOKEN") != SECRET_VALUE


class EnvFileReadingDocker(FakeDocker):
    """Also reads each `--env-file` while `docker run` runs, as the real CLI does, with its permissions."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.env_files: dict[str, tuple[str, int, int]] = {}

    def run(self, argv, **kwargs):
        if argv[1] == "run" and "--env-file" in argv:
            import os
            import stat

            path = argv[argv.index("--env-file") + 1]
            self.env_files[argv[argv.index("--name") + 1]] = (
                open(path).read(), stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode))
        return super().run(argv, **kwargs)


def test_environment_values_go_through_a_private_env_file_never_argv(tmp_path):
    """`ps` shows every process's argv to every local user (issue 14)."""
    import os

    task = plan_task(two_container_app(tmp_path), options=options(environment={"DB_URL": "postgres://a:pw@db/x",
                                                                               "PEM": "line1\nline2"}),
                     region="us-east-1")
    docker = EnvFileReadingDocker(healthy_after=1)
    LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).up(task)
    express = f"{task.family}.express"
    text, mode, folder_mode = docker.env_files[express]
    assert (mode, folder_mode) == (0o600, 0o700)
    assert "DB_URL=postgres://a:pw@db/x\n" in text and "PORT=8080\n" in text and "PEM" not in text
    argv, env = next((argv, env) for argv, env in docker.calls if express in argv)
    assert not any("postgres://" in word or "PORT=8080" in word for word in argv)
    assert argv.index("--env-file") < argv.index(task.runs[1].image)          # an option, before the image
    # a value with a line break cannot be an env-file line: it comes by name from the docker call's environment
    assert "PEM" in flag_values(argv, "-e") and env["PEM"] == "line1\nline2"
    assert not os.path.exists(argv[argv.index("--env-file") + 1])            # removed once docker has read it


def test_an_unhealthy_dependency_stops_the_run_removes_everything_and_shows_its_output(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    docker = FakeDocker(unhealthy={"python"})
    with pytest.raises(OpsError) as failure:
        LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).up(task)
    message = str(failure.value)
    assert "'python' did not become healthy" in message and "the app crashed" in message
    assert f"{task.family}.express" not in docker.started()
    assert docker.running == []


def test_waiting_gives_up_after_the_timeout(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    docker = FakeDocker(healthy_after=10 ** 6)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    runner = LocalRunner(docker, say=lambda _: None, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(OpsError, match="did not reach HEALTHY within 30 s"):
        runner.up(task, wait_timeout=30)
    assert docker.running == []


def test_down_removes_the_containers_before_the_namespace_holder(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")
    docker = FakeDocker(healthy_after=1)
    runner = LocalRunner(docker, say=lambda _: None, sleep=lambda _: None)
    runner.up(task)
    docker.calls.clear()
    removed = runner.down(task.label)
    assert removed == [f"{task.family}.express", f"{task.family}.python", task.family]
    assert [argv[-1] for argv, _ in docker.calls if argv[1] == "rm"] == removed
    # Each is stopped (SIGTERM first) before it is removed.
    assert [argv[1] for argv, _ in docker.calls if argv[1] != "volume"] == ["stop", "rm"] * 3
    assert [argv[-1] for argv, _ in docker.calls if argv[1] == "stop"] == removed
    assert docker.running == []


# ---------------------------------------------------------------- the CLI's input checks

def test_cli_rejects_a_malformed_pair_with_a_clear_message(capsys):
    code = cli.main(["local", "up", "--stack", "dev", "--api", "multi", "--env", "NOVALUE"])
    assert code == 2
    assert "--env takes KEY=VALUE" in capsys.readouterr().err


def test_cli_names_the_valid_apis_for_an_unknown_one(capsys, tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "apps" / "one").mkdir(parents=True)
    (tmp_path / "apps" / "one" / "Dockerfile").write_text("FROM scratch\nEXPOSE 80\n")
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  serverless-containers:apis:\n    one:\n      source: apps/one\n")
    code = cli.main(["local", "build", "--stack", "dev", "--api", "two", "--project-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "no API named 'two'" in err and "one" in err and "Traceback" not in err


def test_an_inline_dockerfile_is_fed_on_stdin(tmp_path):
    app = two_container_app(tmp_path)
    inline = "FROM serverless-containers/base:local\nCMD [\"sleep\", \"60\"]\n"
    app.containers.append(Container(name="sidecar", build=BuildSpec(context=str(tmp_path), dockerfile_inline=inline)))
    task = plan_task(app, options=options(), region="us-east-1")
    step = next(b for b in task.builds if b.container == "sidecar")
    assert flag_values(step.argv, "-f") == ["-"] and step.dockerfile_text == inline
    docker = FakeDocker()
    LocalRunner(docker, say=lambda _: None).build(task)
    fed = [text for (argv, _), text in zip(docker.calls, docker.inputs) if argv[1] == "build" and text]
    assert fed == [inline]


def test_ephemeral_named_volumes_are_task_scoped_shared_and_removed_by_down(tmp_path):
    app = two_container_app(tmp_path)
    app.container("express").mounts.append(VolumeMount("data", "/data", persistent=False))
    app.container("python").mounts.append(VolumeMount("data", "/srv/data", read_only=True, persistent=False))
    task = plan_task(app, options=options(), region="us-east-1")
    volume = f"{task.family}.data"
    assert task.volumes == [volume]
    assert flag_values(task.runs[1].argv, "-v") == [f"{volume}:/data"]
    assert flag_values(task.runs[0].argv, "-v") == [f"{volume}:/srv/data:ro"]
    docker = FakeDocker(healthy_after=1)
    runner = LocalRunner(docker, say=lambda _: None, sleep=lambda _: None)
    runner.up(task)
    assert docker.volumes == {volume}
    runner.down(task.label)
    assert docker.volumes == set()


def test_persistent_volumes_outlive_down_as_efs_outlives_the_task(tmp_path):
    app = two_container_app(tmp_path)
    app.container("express").mounts.append(VolumeMount("data", "/data"))
    app.container("express").mounts.append(VolumeMount("scratch", "/tmp/s", persistent=False))
    task = plan_task(app, options=options(), region="us-east-1")
    assert task.persistent_volumes == [f"{task.family}.data"]
    docker = FakeDocker(healthy_after=1)
    runner = LocalRunner(docker, say=lambda _: None, sleep=lambda _: None)
    runner.up(task)
    runner.down(task.label)
    assert docker.volumes == {f"{task.family}.data"}


def test_runtime_keys_become_docker_run_flags(tmp_path):
    app = two_container_app(tmp_path)
    web = app.container("express")
    web.restart, web.read_only, web.init, web.stop_timeout, web.nofile = "on-failure", True, True, 90, (10, 20)
    web.labels, web.cap_add, web.cap_drop = {"team": "web"}, ["SYS_PTRACE"], ["NET_RAW"]
    argv = plan_task(app, options=options(), region="us-east-1").runs[1].argv
    assert flag_values(argv, "--restart") == ["on-failure"] and "--read-only" in argv and "--init" in argv
    assert flag_values(argv, "--stop-timeout") == ["90"] and flag_values(argv, "--ulimit") == ["nofile=10:20"]
    assert "team=web" in flag_values(argv, "--label")
    assert flag_values(argv, "--cap-add") == ["SYS_PTRACE"] and flag_values(argv, "--cap-drop") == ["NET_RAW"]


def test_a_pause_container_that_cannot_start_is_explained_and_cleaned_up(tmp_path):
    task = plan_task(two_container_app(tmp_path), options=options(), region="us-east-1")

    class NoShell(FakeDocker):
        def run(self, argv, **kwargs):
            result = super().run(argv, **kwargs)
            if argv[1] == "run" and task.family in argv and "--network" not in argv:
                raise OpsError('`docker run -d ...` failed (exit 127): exec: "sh": executable file not found')
            return result

    docker = NoShell()
    with pytest.raises(OpsError, match="--pause-image") as failure:
        LocalRunner(docker, say=lambda _: None, sleep=lambda _: None).up(task)
    assert "executable file not found" in str(failure.value)
    assert docker.running == []
