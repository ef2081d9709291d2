"""`up`, `preview`, `refresh`, `destroy`, `outputs`: without the Pulumi CLI, without credentials, and
against a recorded fake Automation API stack."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ops.stack import workspace
from ops.__main__ import main
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError, ConcurrentUpdateError
from tests.conftest import PROJECT_DIR
from tests.ops_fixtures import FakeWorkspace, fake_credentials, no_credentials, project, stack_outputs  # noqa: F401

OPERATIONS = ["up", "preview", "refresh", "destroy", "outputs"]


@pytest.fixture
def fake_workspace(monkeypatch):
    fake = FakeWorkspace()
    monkeypatch.setattr(workspace, "stack_factory", fake)
    return fake


@pytest.fixture
def no_pulumi(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("operation", OPERATIONS)
def test_without_the_pulumi_cli_every_stack_command_says_how_to_install_it(
        operation, project, no_pulumi, fake_credentials, capsys):
    extra = ["--yes"] if operation == "destroy" else []
    code, out, err = _run(capsys, operation, "--stack", "dev", "--project-dir", str(project), *extra)
    assert code == 1
    assert "Pulumi CLI is not installed" in err and "get.pulumi.com" in err
    assert err.count("\n") == 1, err          # one message, nothing else
    assert "Traceback" not in out + err


def test_without_the_pulumi_cli_the_process_prints_no_traceback(project, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PATH=str(tmp_path), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true")
    done = subprocess.run([sys.executable, "-m", "ops", "up", "--stack", "dev", "--project-dir", str(project)],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: the Pulumi CLI is not installed")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("operation", ["up", "preview", "refresh", "destroy"])
def test_without_aws_credentials_nothing_runs_and_the_fix_is_named(operation, project, fake_workspace,
                                                                   no_credentials, capsys):
    extra = ["--yes"] if operation == "destroy" else []
    code, out, err = _run(capsys, operation, "--stack", "dev", "--project-dir", str(project), *extra)
    assert code == 1
    assert "no AWS credentials" in err and "AWS_PROFILE" in err and "aws configure" in err
    assert "Traceback" not in err
    assert fake_workspace.opened == []


def test_up_streams_engine_output_reports_progress_and_prints_the_urls(project, fake_workspace, fake_credentials,
                                                                      capsys):
    code, out, err = _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err
    assert fake_workspace.opened == [("dev", project, True)]
    stack = fake_workspace.stacks["dev"]
    assert [name for name, _ in stack.calls] == ["up"]
    assert stack.calls[0][1] == {"color": "never"}       # no policy pack in this project; not a TTY
    lines = out.splitlines()
    assert lines[:5] == ["Updating (dev)", "     Type                 Name   Status",
                         " +   aws:ecs:Cluster  cluster  created", "Resources:", "    + 2 created"]
    assert "  API posts (rest): https://posts123.execute-api.eu-west-1.amazonaws.com" in lines
    assert ("    pipeline: https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
            "serverless-containers-dev-posts/view?region=eu-west-1") in lines
    assert "  Cognito user pool: eu-west-1_AbCdEfGhI (app client 4lq1abcdefghijklmnopqrstuv)" in lines
    # progress counts real steps only: the unchanged provider ("same") is not one
    assert err.splitlines() == [
        "progress: 1/1 steps done (create aws:ecs/cluster:Cluster cluster)",
        "progress: 2/2 steps done (create aws:ecs/service:Service posts)",
    ]


def test_up_passes_the_projects_policy_pack_unless_told_not_to(project, fake_workspace, fake_credentials, capsys):
    (project / "policies").mkdir()
    (project / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\n")
    assert _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))[0] == 0
    assert _run(capsys, "up", "--stack", "dev", "--project-dir", str(project), "--no-policy")[0] == 0
    (project / "policies" / "config").mkdir()
    (project / "policies" / "config" / "dev.json").write_text("{}")
    assert _run(capsys, "preview", "--stack", "dev", "--project-dir", str(project))[0] == 0
    calls = fake_workspace.stacks["dev"].calls
    assert calls[0][1]["policy_packs"] == [str(project / "policies")] and "policy_pack_configs" not in calls[0][1]
    assert "policy_packs" not in calls[1][1]
    assert calls[2][0] == "preview"
    assert calls[2][1]["policy_pack_configs"] == [str(project / "policies" / "config" / "dev.json")]


def test_a_failed_up_shows_the_engine_error_once_without_traceback(project, fake_workspace, fake_credentials, capsys):
    fake_workspace.stacks["dev"] = stack = fake_workspace("dev", project, True)
    fake_workspace.opened.clear()
    stack.fail_with = CommandError(CommandResult(
        stdout="", stderr="error: update failed\n  aws:ecs:Service posts: AccessDeniedException", code=255))
    code, out, err = _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))
    assert code == 1
    assert "error: pulumi up failed for stack 'dev':" in err
    assert "AccessDeniedException" in err
    assert "errors:\n  creating ECS Service (posts): AccessDeniedException: not allowed" in err
    assert "Traceback" not in err


def test_a_concurrent_update_names_pulumi_cancel(project, fake_workspace, fake_credentials, capsys):
    stack = fake_workspace("dev", project, True)
    stack.fail_with = ConcurrentUpdateError(CommandResult(stdout="", stderr="[409] Conflict", code=255))
    code, out, err = _run(capsys, "refresh", "--stack", "dev", "--project-dir", str(project))
    assert code == 1 and "pulumi cancel --stack dev" in err


def test_up_refuses_an_invalid_stack_config_before_the_engine_starts(project, fake_workspace, fake_credentials,
                                                                    capsys):
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "  serverless-containers:fargateSpotty: true\n")
    code, out, err = _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))
    assert code == 2
    assert "fargateSpotty" in err and "Pulumi.dev.yaml" in err
    assert fake_workspace.opened == []


def test_up_of_a_stack_without_a_config_file_lists_the_stacks(project, fake_workspace, fake_credentials, capsys):
    code, out, err = _run(capsys, "up", "--stack", "prod", "--project-dir", str(project))
    assert code == 2 and "no stack config for stack 'prod'" in err and "use one of: dev" in err


def test_preview_creates_or_selects_and_prints_the_change_summary(project, fake_workspace, fake_credentials, capsys):
    code, out, err = _run(capsys, "preview", "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err
    assert fake_workspace.opened[0] == ("dev", project, True)
    assert [name for name, _ in fake_workspace.stacks["dev"].calls] == ["preview", "outputs"]
    assert "would change: 2 create, 1 same" in out
    assert "currently deployed:" in out and "API posts (rest)" in out


def test_refresh_selects_an_existing_stack_and_prints_the_urls(project, fake_workspace, fake_credentials, capsys):
    code, out, err = _run(capsys, "refresh", "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err
    assert fake_workspace.opened[0] == ("dev", project, False)
    assert [name for name, _ in fake_workspace.stacks["dev"].calls] == ["refresh", "outputs"]
    assert "API posts (rest): https://posts123" in out


def test_destroy_needs_confirmation_when_not_interactive(project, fake_workspace, fake_credentials, capsys,
                                                         monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    code, out, err = _run(capsys, "destroy", "--stack", "dev", "--project-dir", str(project))
    assert code == 1 and "--yes" in err and "DynamoDB" in err
    assert fake_workspace.opened == []
    code, out, err = _run(capsys, "destroy", "--stack", "dev", "--project-dir", str(project), "--yes")
    assert code == 0, err
    assert fake_workspace.opened == [("dev", project, False)]
    assert [name for name, _ in fake_workspace.stacks["dev"].calls] == ["destroy"]
    assert "stack 'dev' destroyed" in out


def test_outputs_prints_urls_and_json(project, fake_workspace, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)       # reading outputs needs no AWS credentials
    code, out, err = _run(capsys, "outputs", "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err
    assert out.splitlines()[0] == "API posts (rest): https://posts123.execute-api.eu-west-1.amazonaws.com"
    code, out, err = _run(capsys, "outputs", "--stack", "dev", "--project-dir", str(project), "--json")
    import json
    assert json.loads(out) == stack_outputs()


def test_a_manual_build_api_says_there_is_no_pipeline(project, fake_workspace, capsys):
    from tests.ops_fixtures import api_outputs
    fake_workspace("dev", project, False).outputs_value = stack_outputs(
        {"posts": api_outputs(build="manual")}, user_pool=False)
    code, out, err = _run(capsys, "outputs", "--stack", "dev", "--project-dir", str(project))
    assert out.splitlines() == ["API posts (rest): https://posts123.execute-api.eu-west-1.amazonaws.com",
                                "  pipeline: none (build: manual; push images yourself)"]


def test_up_refuses_a_broken_app_before_the_engine_starts(project, fake_workspace, fake_credentials, capsys):
    (project / "apps" / "posts" / "Dockerfile").unlink()
    code, out, err = _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))
    assert code == 2 and "apps/posts" in err and "Traceback" not in err
    assert fake_workspace.opened == []


def test_policy_findings_and_failures_are_summarised():
    import io

    from pulumi.automation.events import EngineEvent, PolicyEvent
    from tests.ops_fixtures import engine_events

    progress = workspace.EngineProgress(out=io.StringIO(), err=io.StringIO())
    for event in engine_events(failing=True):
        progress.on_event(event)
    progress.on_event(EngineEvent(9, 0, policy_event=PolicyEvent(
        message="replicas 12 exceed the stack's limit of 4\n", color="never", policy_name="max-replicas",
        policy_pack_name="serverless-containers-cost", policy_pack_version="1", policy_pack_version_tag="v1",
        enforcement_level="mandatory", resource_urn="urn:pulumi:dev::p::aws:ecs/service:Service::posts")))
    assert progress.summary() == [
        "policy findings:",
        "  [mandatory] serverless-containers-cost/max-replicas: replicas 12 exceed the stack's limit of 4",
        "errors:",
        "  creating ECS Service (posts): AccessDeniedException: not allowed",
    ]


def test_destroy_checks_for_the_pulumi_cli_before_asking_for_the_stack_name(project, no_pulumi, fake_credentials,
                                                                           capsys, monkeypatch):
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "dev")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    code, out, err = _run(capsys, "destroy", "--stack", "dev", "--project-dir", str(project))
    assert code == 1 and "Pulumi CLI is not installed" in err
    assert asked == []


def test_up_does_not_refresh_so_a_paused_api_stays_paused_as_the_readme_says(project, fake_workspace,
                                                                           fake_credentials, capsys):
    """`ops pause` changes the desired count outside Pulumi; `up` compares with the last state, not with AWS."""
    assert _run(capsys, "up", "--stack", "dev", "--project-dir", str(project))[0] == 0
    operation, options = fake_workspace.stacks["dev"].calls[0]
    assert operation == "up" and not options.get("refresh")
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "`resume` is the way back: `up` leaves a paused API paused" in readme
