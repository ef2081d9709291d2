"""ops/automation.py and the example script scripts/deploy_and_promote.py, with the Automation API's own objects
mocked: `pulumi.automation.create_or_select_stack` hands out recording stacks whose `up` returns a real
``UpResult`` of ``OutputValue``s, and a local HTTP server stands in for the deployed API.
"""
from __future__ import annotations

import http.server
import importlib.util
import shutil
import threading
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation import ConfigValue, OutputValue, UpResult

from ops import automation
from ops.__main__ import main as ops_main
from ops.automation import ConfigError
from ops.errors import OpsError
from ops.stack import workspace
from tests.ops_fixtures import fake_credentials, stack_outputs  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class AutoStack:
    """Stands in for pulumi.automation.Stack: records set_config and up."""

    name: str
    url: str
    log: list
    config: dict[str, tuple[ConfigValue, bool]] = field(default_factory=dict)
    api_extra: dict = field(default_factory=dict)
    """Merged into every API's outputs (e.g. the `scaling` of an API that sleeps)."""

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.log.append(("set_config", self.name, key))
        self.config[key] = (value, path)

    def up(self, **kwargs: Any) -> UpResult:
        self.log.append(("up", self.name, {k: v for k, v in kwargs.items() if k not in ("on_output", "on_event")}))
        kwargs["on_output"](f"Updating ({self.name})")
        outputs = stack_outputs()
        for api in outputs["apis"].values():
            api.update(url=self.url, **self.api_extra)
        return UpResult(stdout="", stderr="", summary=None,
                        outputs={k: OutputValue(v, secret=False) for k, v in outputs.items()})


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 401
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server name
        type(self).hits.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):   # quiet
        pass


@pytest.fixture
def server():
    """The deployed API, played by a local HTTP server: 401 to everyone (an API with sign-in, no token)."""
    handler = type("Handler", (_Handler,), {"status": 401, "hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.handler = handler
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def automation_api(monkeypatch, server):
    """Every stack the code opens through pulumi.automation, by name; and the calls in order."""
    log: list = []
    stacks: dict[str, AutoStack] = {}

    def create_or_select_stack(stack_name: str, work_dir: str | None = None, **_: Any) -> AutoStack:
        log.append(("open", stack_name, work_dir))
        return stacks.setdefault(stack_name, AutoStack(stack_name, server.url, log))

    monkeypatch.setattr(auto, "create_or_select_stack", create_or_select_stack)
    monkeypatch.setattr(workspace, "stack_factory", None)
    monkeypatch.setattr(workspace, "require_pulumi_cli", lambda: "/usr/local/bin/pulumi")
    return stacks, log, server


def _script():
    spec = importlib.util.spec_from_file_location("deploy_and_promote", ROOT / "scripts" / "deploy_and_promote.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deploy_selects_the_stack_of_this_folder_sets_config_and_secrets_runs_up_and_returns_outputs(automation_api):
    stacks, log, server = automation_api
    outputs = automation.deploy("dev", config={"aws:region": "eu-west-1", "fargateSpot": True,
                                               "corsOrigins": ["https://app.example.com"]},
                                secrets={"secretValues.multi.API_TOKEN": "s3cret"})
    assert log[0] == ("open", "dev", str(ROOT))
    assert [entry[0] for entry in log] == ["open", "set_config", "set_config", "set_config", "set_config", "up"]
    config = {key: (value.value, value.secret, path) for key, (value, path) in stacks["dev"].config.items()}
    assert config == {"aws:region": ("eu-west-1", False, False),
                      "serverless-containers:fargateSpot": ("true", False, False),
                      "serverless-containers:corsOrigins": ('["https://app.example.com"]', False, False),
                      "serverless-containers:secretValues.multi.API_TOKEN": ("s3cret", True, True)}
    up = log[-1][2]
    assert up["policy_packs"] == [str(ROOT / "policies")]
    assert up["policy_pack_configs"] == [str(ROOT / "policies" / "config" / "dev.json")]
    assert outputs["apis"]["posts"]["url"] == server.url and outputs["region"] == "eu-west-1"
    assert not isinstance(outputs["apis"], OutputValue)


def test_deploy_refuses_an_empty_secret_before_anything_runs(automation_api):
    _, log, _ = automation_api
    with pytest.raises(OpsError, match="secretValues.multi.API_TOKEN: expected its value"):
        automation.deploy("dev", secrets={"secretValues.multi.API_TOKEN": ""})
    assert not [entry for entry in log if entry[0] == "up"]


@pytest.fixture
def no_pulumi_cli(monkeypatch):
    """The machine of a new user: no Pulumi CLI. Records whether anything looked for it."""
    looked: list[bool] = []

    def require_pulumi_cli():
        looked.append(True)
        raise OpsError(workspace.INSTALL_PULUMI)

    monkeypatch.setattr(workspace, "stack_factory", None)
    monkeypatch.setattr(workspace, "require_pulumi_cli", require_pulumi_cli)
    return looked


@pytest.mark.parametrize("config, problem", [
    ({"fargateSpot": "maybe"}, "fargateSpot"),
    ({"apis": {"posts": {"source": "apps/nowhere"}}}, "apps/nowhere"),
    ({"aws:region": "mars-north-1"}, "mars-north-1"),
])
def test_deploy_checks_the_config_before_it_looks_for_the_pulumi_cli(no_pulumi_cli, config, problem):
    before = (ROOT / "stacks" / "Pulumi.dev.yaml").read_bytes()
    with pytest.raises(ConfigError, match=problem) as raised:
        automation.deploy("dev", config=config)
    assert no_pulumi_cli == [], "the CLI was looked for before the config was checked"
    assert "Pulumi.dev.yaml" in str(raised.value)
    assert (ROOT / "stacks" / "Pulumi.dev.yaml").read_bytes() == before


def test_deploy_checks_a_secret_path_against_the_apps_then_needs_the_cli(no_pulumi_cli):
    # secretValues.multi.API_TOKEN fills the multi app's compose secret: the merged config is valid, so the
    # next stop is the missing CLI, with its install instructions.
    with pytest.raises(OpsError, match="the Pulumi CLI is not installed"):
        automation.deploy("dev", config={"fargateSpot": True}, secrets={"secretValues.multi.API_TOKEN": "t0ken"})
    assert no_pulumi_cli == [True]
    with pytest.raises(ConfigError, match="nope"):
        automation.deploy("dev", secrets={"secretValues.nope.API_TOKEN": "t0ken"})


def test_deploy_of_a_stack_without_a_file_is_checked_on_what_is_passed(no_pulumi_cli):
    with pytest.raises(ConfigError, match="no stack config for stack 'prdo'.*use one of: .*dev"):
        automation.deploy("prdo", config={"fargateSpot": True})
    assert not (ROOT / "stacks" / "Pulumi.staging.yaml").exists()
    with pytest.raises(ConfigError, match="apps/nowhere"):
        automation.deploy("staging", config={"apis": {"web": {"source": "apps/nowhere"}}})
    with pytest.raises(OpsError, match="the Pulumi CLI is not installed"):
        automation.deploy("staging", config={"aws:region": "eu-west-1", "apis": {"web": {"source": "apps/posts"}}})
    assert no_pulumi_cli == [True]


def test_deploy_from_a_copy_without_the_project_says_to_install_editable(no_pulumi_cli, tmp_path):
    # What a non-editable install would do: the modules' folder has no Pulumi.yaml and no stacks/.
    with pytest.raises(OpsError, match=r"is not this Pulumi project \(no Pulumi.yaml\).*pip install -e \."):
        automation.deploy("dev", project_dir=tmp_path)
    assert no_pulumi_cli == []


def test_an_encrypted_secret_in_the_stack_file_passes_the_check(no_pulumi_cli, tmp_path, capsys):
    # `pulumi config set --secret --path secretValues.multi.API_TOKEN` wrote it: a secret, not plain text.
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copytree(ROOT / "apps" / "multi", project / "apps" / "multi")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  serverless-containers:apis:\n    multi: {source: apps/multi}\n"
        "  serverless-containers:secretValues:\n    multi:\n      API_TOKEN:\n        secure: v1:c2VjcmV0\n")
    with pytest.raises(OpsError, match="the Pulumi CLI is not installed"):
        automation.deploy("dev", project_dir=project)
    with pytest.raises(OpsError, match="the Pulumi CLI is not installed"):     # and one passed in secrets= too
        automation.deploy("dev", project_dir=project, secrets={"secretValues.multi.API_TOKEN": "new"})
    assert ops_main(["up", "--stack", "dev", "--project-dir", str(project)]) == 1
    assert "the Pulumi CLI is not installed" in capsys.readouterr().err
    assert no_pulumi_cli == [True, True, True]


@pytest.mark.parametrize("config", [
    {"githubToken": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"},
    {"secretValues": {"multi": {"API_TOKEN": "plain"}}},
    {"secretValues.multi.API_TOKEN": "plain"},
    {"alerts": {"email": "https://admin:hunter2@hooks.example.com/x"}},
])
def test_deploy_never_writes_a_secret_into_the_stack_file_in_plain_text(automation_api, config):
    stacks, log, _ = automation_api
    key = next(iter(config))
    with pytest.raises(ConfigError, match="secrets") as raised:
        automation.deploy("dev", config=config)
    assert key in str(raised.value)
    assert log == [], "nothing may be opened or written before the refusal"


def test_ops_up_is_a_client_of_the_same_function(automation_api, fake_credentials, monkeypatch, capsys):
    stacks, log, server = automation_api
    called = []
    real = automation.deploy
    monkeypatch.setattr(automation, "deploy", lambda *a, **k: called.append((a, k)) or real(*a, **k))
    assert ops_main(["up", "--stack", "dev"]) == 0
    assert called and called[0][0] == ("dev",)
    assert [entry[0] for entry in log] == ["open", "up"]
    assert f"API posts (rest): {server.url}" in capsys.readouterr().out


def test_the_example_deploys_dev_smoke_calls_it_then_promotes_to_prod(automation_api, capsys):
    stacks, log, server = automation_api
    assert _script().main(["--path", "/health"]) == 0
    assert [(entry[0], entry[1]) for entry in log] == [("open", "dev"), ("up", "dev"), ("open", "prod"), ("up", "prod")]
    assert server.handler.hits == ["/health"]          # called before prod was touched
    printed = capsys.readouterr().out
    assert f"smoke check dev/posts: GET {server.url}/health -> 401" in printed
    assert f"promoted to prod: posts {server.url}" in printed
    prod_up = log[-1][2]
    assert prod_up["policy_pack_configs"] == [str(ROOT / "policies" / "config" / "prod.json")]


def test_the_example_does_not_promote_when_the_smoke_call_fails(automation_api, capsys):
    stacks, log, server = automation_api
    server.handler.status = 503
    script = _script()
    code = script.main(["--api", "posts"], smoke=lambda url, patience_seconds: script.smoke_call(
        url, patience_seconds=10, sleep=lambda s: None))
    assert code == 1
    assert ("open", "prod", str(ROOT)) not in log and [e[1] for e in log if e[0] == "up"] == ["dev"]
    err = capsys.readouterr().err
    assert "did not answer below 500 within 10 s (2 tries; last: HTTP 503)" in err and "Not promoted to prod." in err


def test_the_smoke_call_waits_at_least_the_wake_time_the_stack_states(automation_api, capsys):
    """Issue 24 item 6: a sleeping API answers 503 while it wakes; the script keeps calling it for its stated wake
    time (the `scaling.wakeSeconds` output the plan prints), not a fixed minute."""
    stacks, log, server = automation_api
    script = _script()
    wake = {"managedBy": "sleep", "wakeSeconds": [60, 170]}
    assert script.stated_wake_seconds({"scaling": wake}) == 170 and script.stated_wake_seconds({}) == 0
    assert script.smoke_patience({"scaling": wake}) == 180
    assert script.smoke_patience({"scaling": {"wakeSeconds": 20}}) == script.DEFAULT_PATIENCE_SECONDS
    answers = iter([503] * 17 + [200])
    waited = []

    def opener(url, timeout):
        status = next(answers)
        if status >= 500:
            raise urllib.error.HTTPError(url, status, "Service Unavailable", {}, None)
        return _Response(status)
    assert script.smoke_call("http://x", patience_seconds=180, opener=opener, sleep=waited.append) == 200
    assert sum(waited) == 170                     # the old fixed 6 tries (50 s of waiting) would have given up
    with pytest.raises(script.SmokeCheckFailed, match=r"within 60 s \(7 tries"):
        script.smoke_call("http://x", patience_seconds=60, opener=lambda url, timeout: (_ for _ in ()).throw(
            urllib.error.HTTPError(url, 503, "Service Unavailable", {}, None)), sleep=lambda s: None)
    # the script reads the figure from the deployed stack's outputs and waits that long
    stacks["dev"] = AutoStack("dev", server.url, log, api_extra={"scaling": wake})
    seen = []
    code = script.main(["--api", "posts"], smoke=lambda url, patience_seconds: seen.append(patience_seconds) or 200)
    assert code == 0 and seen == [180]
    assert "the API may be asleep (it wakes in about 170 s): calling it for up to 180 s" in capsys.readouterr().out


def test_the_example_names_an_unknown_api(automation_api, capsys):
    assert _script().main(["--api", "nope"]) == 1
    assert "stack dev has no API nope; it has posts." in capsys.readouterr().err


def test_the_smoke_call_retries_until_the_service_answers():
    answers = iter([ConnectionRefusedError("refused"), _Response(502), _Response(200)])
    waited = []

    def opener(url, timeout):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _script().smoke_call("http://x", opener=opener, sleep=waited.append, wait_seconds=3) == 200
    assert waited == [3, 3]


class _Response:
    def __init__(self, status):
        self.status = status

    def __enter__(self):
        if self.status >= 400:
            import urllib.error
            raise urllib.error.HTTPError("http://x", self.status, "error", {}, None)
        return self

    def __exit__(self, *args):
        return False
