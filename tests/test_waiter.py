"""components/providers/pipeline_run.py against botocore's Stubber: every response is checked against the real
CodePipeline and ECS models, and a fake clock stands in for waiting."""
from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from components.providers import pipeline_run as waiter
from components.providers.pipeline_run import (Clock, PipelineRunError, PipelineRunProvider, execution_console_url,
                                        pipeline_console_url, run_pipeline)

REGION = "us-east-1"
PIPELINE = "serverless-containers-dev-posts"
VERSION = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"
EXECUTION = "11111111-2222-3333-4444-555555555555"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class FakeClock(Clock):
    def __init__(self):
        object.__setattr__(self, "elapsed", [0.0])
        object.__setattr__(self, "now", lambda: self.elapsed[0])
        object.__setattr__(self, "sleep", lambda seconds: self.elapsed.__setitem__(0, self.elapsed[0] + seconds))


@pytest.fixture
def clients():
    codepipeline = boto3.client("codepipeline", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(codepipeline) as cp_stub, Stubber(ecs) as ecs_stub:
        yield codepipeline, ecs, cp_stub, ecs_stub
        cp_stub.assert_no_pending_responses()
        ecs_stub.assert_no_pending_responses()


def summary(execution_id: str, status: str, revision: str = VERSION) -> dict:
    return {"pipelineExecutionId": execution_id, "status": status, "startTime": NOW,
            "sourceRevisions": [{"actionName": "Source", "revisionId": revision}]}


def listing(stub, *summaries):
    stub.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": list(summaries)},
                      {"pipelineName": PIPELINE, "maxResults": 25})


def state(stub, execution_id: str, status: str, summary_text: str | None = None):
    execution = {"pipelineName": PIPELINE, "pipelineExecutionId": execution_id, "status": status}
    if summary_text:
        execution["statusSummary"] = summary_text
    stub.add_response("get_pipeline_execution", {"pipelineExecution": execution},
                      {"pipelineName": PIPELINE, "pipelineExecutionId": execution_id})


def props(**overrides) -> dict:
    return {"pipelineName": PIPELINE, "region": REGION, "sourceRevision": VERSION, "cluster": "serverless-containers-dev",
            "service": "posts", "scaleTo": 0, "timeoutSeconds": 600, "pollSeconds": 10, "startGraceSeconds": 30,
            **overrides}


def test_success_reports_the_console_url_first(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary("older", "Succeeded", "another-version"), summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "InProgress")
    state(stub, EXECUTION, "InProgress")
    state(stub, EXECUTION, "Succeeded")
    printed, clock = [], FakeClock()
    outcome = run_pipeline(codepipeline, ecs, props(), clock=clock, report=printed.append)
    url = execution_console_url(REGION, PIPELINE, EXECUTION)
    assert outcome.execution_id == EXECUTION and outcome.status == "Succeeded" and outcome.console_url == url
    assert printed == [f"pipeline {PIPELINE} is running: {url}"]
    assert url == (f"https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/{PIPELINE}/executions/"
                   f"{EXECUTION}/timeline?region=us-east-1")
    assert clock.now() == 20            # two polls of 10 s, no real waiting
    assert outcome.scaled_to is None


def test_failed_build_names_the_action_and_the_console(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "Failed")
    stub.add_response("list_action_executions", {"actionExecutionDetails": [
        {"pipelineExecutionId": EXECUTION, "stageName": "Source", "actionName": "Source", "status": "Succeeded",
         "startTime": NOW},
        {"pipelineExecutionId": EXECUTION, "stageName": "Build", "actionName": "BuildImages", "status": "Failed",
         "startTime": NOW + datetime.timedelta(seconds=30),
         "output": {"executionResult": {
             "externalExecutionId": "build-id", "externalExecutionSummary": "Build terminated with state: FAILED",
             "externalExecutionUrl": "https://console.aws.amazon.com/codebuild/home?region=us-east-1#/builds/x/view/new"},
             "outputArtifacts": []}},
    ]}, {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": EXECUTION}})
    with pytest.raises(PipelineRunError) as error:
        run_pipeline(codepipeline, ecs, props(scaleTo=2), clock=FakeClock())
    message = str(error.value)
    assert "action 'BuildImages' in stage 'Build' failed: Build terminated with state: FAILED" in message
    assert execution_console_url(REGION, PIPELINE, EXECUTION) in message
    assert "codebuild/home" in message          # the build's own page, with its logs
    # no scale-up after a failure (the ECS stub has no queued response; a call would raise)


def test_failed_deploy_without_action_details_still_explains(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "Stopped", "stopped by a user")
    stub.add_response("list_action_executions", {"actionExecutionDetails": []},
                      {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": EXECUTION}})
    with pytest.raises(PipelineRunError, match="ended Stopped: stopped by a user"):
        run_pipeline(codepipeline, ecs, props(), clock=FakeClock())


def test_timeout_leaves_the_run_going_and_says_where_it_is(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary(EXECUTION, "InProgress"))
    for _ in range(4):                  # at 0, 10, 20, 30 s; the deadline is 30 s
        state(stub, EXECUTION, "InProgress")
    clock = FakeClock()
    with pytest.raises(PipelineRunError) as error:
        run_pipeline(codepipeline, ecs, props(timeoutSeconds=30), clock=clock)
    assert "did not finish within 30 s" in str(error.value)
    assert execution_console_url(REGION, PIPELINE, EXECUTION) in str(error.value)
    assert clock.now() == 30


def test_starts_a_run_when_none_appears_for_the_uploaded_version(clients):
    codepipeline, ecs, stub, _ = clients
    for _ in range(4):                  # 0, 10, 20, 30 s of grace
        listing(stub, summary("old", "Succeeded", "previous-version"))
    stub.add_response("start_pipeline_execution", {"pipelineExecutionId": EXECUTION}, {"name": PIPELINE})
    state(stub, EXECUTION, "Succeeded")
    assert run_pipeline(codepipeline, ecs, props(), clock=FakeClock()).execution_id == EXECUTION


def test_follows_the_run_that_superseded_ours(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "Superseded")
    listing(stub, summary("newer", "InProgress"), summary(EXECUTION, "Superseded"))
    state(stub, "newer", "Succeeded")
    assert run_pipeline(codepipeline, ecs, props(), clock=FakeClock()).execution_id == "newer"


def test_first_deploy_scales_the_service_up_after_success(clients):
    codepipeline, ecs, stub, ecs_stub = clients
    listing(stub, summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "Succeeded")
    ecs_stub.add_response("update_service", {"service": {"serviceName": "posts", "desiredCount": 3}},
                          {"cluster": "serverless-containers-dev", "service": "posts", "desiredCount": 3})
    # then it waits for the rollout: validated against botocore's ECS model by the Stubber
    def described(state: str, running: int) -> dict:
        return {"services": [{"serviceName": "posts", "status": "ACTIVE", "desiredCount": 3, "deployments": [
            {"id": "ecs-svc/1", "status": "PRIMARY", "desiredCount": 3, "runningCount": running,
             "pendingCount": 3 - running, "rolloutState": state}]}]}
    request = {"cluster": "serverless-containers-dev", "services": ["posts"]}
    for state_, running in (("IN_PROGRESS", 0), ("IN_PROGRESS", 0), ("IN_PROGRESS", 2), ("COMPLETED", 3)):
        ecs_stub.add_response("describe_services", described(state_, running), request)
    # settled: the three tasks are read (ready means healthy); their definition has no health check
    cluster = "serverless-containers-dev"
    arns = [f"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/t{i}" for i in range(3)]
    definition = "arn:aws:ecs:us-east-1:123456789012:task-definition/serverless-containers-dev-posts:1"
    ecs_stub.add_response("list_tasks", {"taskArns": arns},
                          {"cluster": cluster, "serviceName": "posts", "desiredStatus": "RUNNING"})
    ecs_stub.add_response("describe_tasks", {"tasks": [
        {"taskArn": arn, "lastStatus": "RUNNING", "group": "service:posts", "taskDefinitionArn": definition,
         "healthStatus": "UNKNOWN"} for arn in arns]}, {"cluster": cluster, "tasks": arns})
    ecs_stub.add_response("describe_task_definition", {"taskDefinition": {"containerDefinitions": [{"name": "web"}]}},
                          {"taskDefinition": definition})
    printed, clock = [], FakeClock()
    outcome = run_pipeline(codepipeline, ecs, props(scaleTo=3), clock=clock, report=printed.append)
    assert outcome.scaled_to == 3
    assert printed[1] == ("service posts scaled to 3 task(s) after the first build; waiting until its tasks are "
                          "running and healthy")
    assert "service posts: rollout IN_PROGRESS, running 2/3, pending 1" in printed
    assert printed[-1] == "service posts is stable with 3 task(s)"
    assert clock.now() == 20


def test_github_follows_the_newest_run_and_retries_after_a_failure(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary("commit-run", "InProgress", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"))
    state(stub, "commit-run", "Succeeded")
    assert run_pipeline(codepipeline, ecs, props(sourceRevision=""), clock=FakeClock()).execution_id == "commit-run"

    listing(stub, summary("failed-run", "Failed", "9f86d08"))
    stub.add_response("start_pipeline_execution", {"pipelineExecutionId": "retry"}, {"name": PIPELINE})
    state(stub, "retry", "Succeeded")
    assert run_pipeline(codepipeline, ecs, props(sourceRevision=""), clock=FakeClock()).execution_id == "retry"


def test_pipeline_console_url():
    assert pipeline_console_url("eu-west-1", "p") == \
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/p/view?region=eu-west-1"


# --- the dynamic provider ---------------------------------------------------------------------------------------

def test_provider_waits_only_for_a_new_source(clients, monkeypatch):
    codepipeline, ecs, stub, _ = clients
    provider = PipelineRunProvider(clients=lambda _props: (codepipeline, ecs), clock=FakeClock())
    monkeypatch.setattr(waiter, "_stderr", lambda _m: None)
    listing(stub, summary(EXECUTION, "InProgress"))
    state(stub, EXECUTION, "Succeeded")
    created = provider.create(props())
    assert created.id == f"{PIPELINE}-run"
    assert created.outs["executionId"] == EXECUTION and created.outs["consoleUrl"].endswith("region=us-east-1")

    olds = created.outs
    unchanged = provider.diff(created.id, olds, props())
    assert unchanged.changes is False
    # scaleTo drops to 0 once images exist: recorded without waiting for anything (no stub queued)
    assert provider.diff(created.id, olds, props(scaleTo=0, timeoutSeconds=900)).changes is True
    kept = provider.update(created.id, olds, props(timeoutSeconds=900))
    assert kept.outs["executionId"] == EXECUTION and kept.outs["timeoutSeconds"] == 900

    listing(stub, summary("next", "InProgress", "new-version"))
    state(stub, "next", "Failed")
    stub.add_response("list_action_executions", {"actionExecutionDetails": [
        {"stageName": "Deploy", "actionName": "Deploy", "status": "Failed", "startTime": NOW,
         "output": {"executionResult": {"errorDetails": {"code": "JobFailed", "message": "circuit breaker"}}}}]},
        {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": "next"}})
    with pytest.raises(Exception, match="action 'Deploy' in stage 'Deploy' failed: circuit breaker"):
        provider.update(created.id, olds, props(sourceRevision="new-version"))


def test_a_failed_run_of_the_same_source_from_an_earlier_update_is_retried(clients):
    codepipeline, ecs, stub, _ = clients
    listing(stub, summary("earlier", "Failed"))           # same version: the last `pulumi up` failed on it
    stub.add_response("start_pipeline_execution", {"pipelineExecutionId": EXECUTION}, {"name": PIPELINE})
    state(stub, EXECUTION, "Succeeded")
    assert run_pipeline(codepipeline, ecs, props(), clock=FakeClock()).execution_id == EXECUTION
