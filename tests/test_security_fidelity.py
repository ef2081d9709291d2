"""Issue 23's new payloads, through the fidelity suite (tests/fidelity/): each is produced by the sample stacks'
programs, translated into the request the AWS provider (or a dynamic provider) sends, and validated against
botocore's models and the document checks."""
from __future__ import annotations

import json

import pytest

from components.providers.pipeline_run import stop_runs_of
from tests.fidelity import aws_requests, cases, validate
from tests.fidelity.request_shapes import ApiRequest

CASES = {c.id: c for c in cases.STACK_CASES}


@pytest.fixture(scope="module")
def prod_requests():
    return aws_requests.translate(cases.run_case(CASES["prod"]).resources).requests


def _made(requests, service, operation):
    found = [r for r in requests if (r.service, r.operation) == (service, operation)]
    assert found, f"no {service}.{operation} request"
    for request in found:
        assert validate.problems(request) == [], request.where
    return found


def test_every_built_repository_gets_a_valid_repository_policy(prod_requests):
    repositories = {r.params["repositoryName"] for r in _made(prod_requests, "ecr", "CreateRepository")}
    policies = _made(prod_requests, "ecr", "SetRepositoryPolicy")
    assert {p.params["repositoryName"] for p in policies} == repositories
    for request in policies:
        statement, = json.loads(request.params["policyText"])["Statement"]
        assert statement["Effect"] == "Deny" and "ecr:PutImage" in statement["Action"]


def test_the_user_pool_and_client_requests_carry_the_email_settings(prod_requests):
    pool, = _made(prod_requests, "cognito-idp", "CreateUserPool")
    assert pool.params["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    client, = _made(prod_requests, "cognito-idp", "CreateUserPoolClient")
    assert client.params["WriteAttributes"] and "email" not in client.params["WriteAttributes"]


def test_the_source_upload_asks_for_a_checksum_and_the_bucket_guards_source_versions(prod_requests):
    for upload in _made(prod_requests, "s3", "PutObject"):
        assert upload.params["ChecksumAlgorithm"] == "SHA256"
    for request in _made(prod_requests, "s3", "PutBucketPolicy"):
        sources = {s["Sid"]: s for s in json.loads(request.params["Policy"])["Statement"]}["OnlyTheDeployerWritesSources"]
        assert "s3:DeleteObjectVersion" in sources["Action"]


def test_tables_have_point_in_time_recovery_in_prod(prod_requests):
    recovery = _made(prod_requests, "dynamodb", "UpdateContinuousBackups")
    assert all(r.params["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True for r in recovery)


class _Recorder:
    """A CodePipeline client that records the requests the waiter sends."""

    def __init__(self, summaries):
        self.summaries, self.sent = summaries, []

    def list_pipeline_executions(self, **params):
        self.sent.append(ApiRequest("codepipeline", "ListPipelineExecutions", params))
        return {"pipelineExecutionSummaries": self.summaries}

    def stop_pipeline_execution(self, **params):
        self.sent.append(ApiRequest("codepipeline", "StopPipelineExecution", params))
        return {"pipelineExecutionId": params["pipelineExecutionId"]}


def test_the_waiters_stop_request_for_a_swapped_upload_is_valid():
    client = _Recorder([{"pipelineExecutionId": "11111111-2222-3333-4444-555555555555", "status": "InProgress",
                         "sourceRevisions": [{"actionName": "Source", "revisionId": "v1"}]}])
    assert stop_runs_of(client, "serverless-containers-prod-posts", "v1",
                        "the uploaded source is not what pulumi up zipped " * 10) == [
        "11111111-2222-3333-4444-555555555555"]
    assert [r.operation for r in client.sent] == ["ListPipelineExecutions", "StopPipelineExecution"]
    for request in client.sent:
        assert validate.problems(request) == [], request.where
