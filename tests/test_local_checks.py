"""`ops local up` says what cannot work before it builds: storage nobody can reach, a taken port, no network."""
from __future__ import annotations

import socket
import subprocess

import pytest

from ops import __main__ as cli
from ops.commands import local as local_command
from ops.local import checks
from ops.local.runner import LABEL_API, LABEL_STACK, LocalOptions, plan_task, load_api
from ops.project import PROJECT_DIR
from tests.docker_support import base_image, docker_engine  # noqa: F401  (fixtures)


class FakeDocker:
    """An engine that answers, holds the given ports, and builds with the given result."""

    def __init__(self, holders: str = "", build_exit: int = 0, build_output: str = ""):
        self.holders = holders
        self.build_exit = build_exit
        self.build_output = build_output
        self.calls: list[list[str]] = []

    def require_engine(self):
        pass

    def port_holders(self):
        return self.holders

    def run(self, argv, *, env=None, check=True, capture=True, input=None):
        self.calls.append(list(argv))
        if argv[1] == "build":
            return subprocess.CompletedProcess(argv, self.build_exit, self.build_output, "")
        return subprocess.CompletedProcess(argv, 0, "", "")

    def builds(self):
        return [argv for argv in self.calls if argv[1] == "build"]


@pytest.fixture
def fake_docker(monkeypatch):
    def install(**kwargs) -> FakeDocker:
        fake = FakeDocker(**kwargs)
        monkeypatch.setattr(local_command, "Docker", lambda: fake)
        return fake
    return install


def _local(capsys, *argv):
    code = cli.main(["local", *argv, "--stack", "dev"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_storage_without_a_way_to_reach_dynamodb_is_warned_at_up(fake_docker, capsys):
    fake = fake_docker(build_exit=1)           # stop right after the checks
    code, out, err = _local(capsys, "up", "--api", "posts", "--quiet", "--port", str(_free_port()))
    assert "warning: API 'posts' gets STORAGE_POSTS_NAME, but nothing to reach DynamoDB with" in err
    assert "CredentialsProviderError" in err and "--no-storage" in err and "172.17.0.1" in err
    assert fake.builds()
    for extra in (["--no-storage"], ["--dynamodb-endpoint", "http://172.17.0.1:8000"],
                  ["--pass-env", "AWS_PROFILE"], ["--env", "AWS_ENDPOINT_URL=http://172.17.0.1:4566"]):
        fake_docker(build_exit=1)
        code, out, err = _local(capsys, "up", "--api", "posts", "--quiet", "--port", str(_free_port()), *extra)
        assert "nothing to reach DynamoDB" not in err, extra


def test_an_api_without_tables_gets_no_storage_warning(fake_docker, capsys):
    fake_docker(build_exit=1)
    code, out, err = _local(capsys, "up", "--api", "multi", "--quiet", "--port", str(_free_port()))
    assert "nothing to reach DynamoDB" not in err


def test_a_port_held_by_another_local_api_is_refused_before_the_build(fake_docker, capsys):
    fake = fake_docker(holders="serverless-containers-dev-multi\tdev\tmulti\t127.0.0.1:8080->8080/tcp\n")
    code, out, err = _local(capsys, "up", "--api", "posts", "--no-storage")
    assert code == 2 and not fake.builds()
    assert "port 8080 on 127.0.0.1 is taken by API 'multi' of stack 'dev'" in err
    assert "-m ops local down --stack dev --api multi" in err and "--port 8081" in err
    # The API's own earlier run is not in the way: `up` replaces it.
    fake = fake_docker(holders="serverless-containers-dev-posts\tdev\tposts\t127.0.0.1:8080->8080/tcp\n",
                       build_exit=1)
    code, out, err = _local(capsys, "up", "--api", "posts", "--no-storage", "--quiet")
    assert "is taken" not in err and fake.builds()


def test_a_port_held_by_another_program_is_refused_before_the_build(fake_docker, capsys):
    fake = fake_docker()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = _local(capsys, "up", "--api", "posts", "--no-storage", "--port", str(port))
    assert code == 2 and not fake.builds()
    assert f"port {port} on 127.0.0.1 is already in use by another program" in err and f"--port {port + 1}" in err


def test_a_build_that_fails_offline_suggests_the_local_base_image(fake_docker, capsys):
    offline = "ERROR: failed to resolve source metadata: dial tcp: lookup public.ecr.aws: no such host"
    fake_docker(build_exit=1, build_output=offline)
    code, out, err = _local(capsys, "build", "--api", "multi", "--quiet")
    assert code == 1 and "--base-image serverless-containers/base:local" in err and "no network" in err
    fake_docker(build_exit=1, build_output="npm ERR! missing script: start")
    code, out, err = _local(capsys, "build", "--api", "multi", "--quiet")
    assert code == 1 and "--base-image" not in err            # not a network problem: no such advice


def test_the_namespace_container_carries_the_stack_and_api(tmp_path):
    settings, app, region = load_api("dev", "multi", PROJECT_DIR)
    task = plan_task(app, options=LocalOptions(stack="dev", api="multi"), region=region)
    argv = task.pause.argv
    assert f"{LABEL_STACK}=dev" in argv and f"{LABEL_API}=multi" in argv


def test_parse_holders_reads_docker_ps():
    holders = checks.parse_holders("a\tdev\tposts\t127.0.0.1:8080->8080/tcp, 127.0.0.1:9000->9000/tcp\n"
                                   "b\t\t\t\n\n")
    assert [(h.family, h.api, sorted(h.ports)) for h in holders] == [("a", "posts", [8080, 9000]), ("b", "", [])]
    assert checks.port_problem(8080, "x", holders, free=True).startswith("port 8080 on 127.0.0.1 is taken by API")
    assert checks.port_problem(8081, "x", holders, free=True) is None


def test_help_explains_localhost_inside_the_task(capsys):
    with pytest.raises(SystemExit):
        cli.main(["local", "up", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "localhost inside the task is the task itself" in text and "172.17.0.1" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Debian's Node.js major version per suite (packages.debian.org: bookworm 18.x, trixie 20.x).
DEBIAN_NODE = {"bookworm": 18, "trixie": 20}


def _suite() -> str:
    import re

    return re.search(r"^SUITE=(\w+)", (PROJECT_DIR / "docker" / "base" / "build.sh").read_text(), re.M).group(1)


@pytest.mark.parametrize("sample", ["posts", "graphql", "multi/express"])
def test_the_local_base_image_has_the_node_the_samples_declare(sample):
    import json
    import re

    folder = PROJECT_DIR / "apps" / sample
    dockerfile_major = int(re.search(r"node:(\d+)", (folder / "Dockerfile").read_text()).group(1))
    assert DEBIAN_NODE[_suite()] == dockerfile_major
    if (folder / "package.json").is_file():
        engines = json.loads((folder / "package.json").read_text())["engines"]["node"]
        assert engines == f">={dockerfile_major}"
        lock = json.loads((folder / "package-lock.json").read_text())
        needed = {int(m) for p in lock["packages"].values()
                  for m in re.findall(r">=\s*(\d+)", (p.get("engines") or {}).get("node", "") if isinstance(
                      p.get("engines"), dict) else "")}
        assert max(needed) <= dockerfile_major, f"a dependency needs Node {max(needed)}"


def test_the_built_base_image_runs_node_20(base_image):
    from tests.docker_support import docker

    version = docker("run", "--rm", base_image, "node", "--version").stdout.strip()
    assert version.startswith(f"v{DEBIAN_NODE[_suite()]}."), version
