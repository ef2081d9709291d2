"""Issue 22 payloads against botocore's models (tests/fidelity): the waker's CreateFunction (with its code zipped
from the repository), PutFunctionConcurrency, AddPermission, PutSubscriptionFilter and its role's policies; and
proof that the checks catch broken ones."""
from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest

from tests.fidelity import aws_requests, cases, checks, validate
from tests.ops_fixtures import fake_credentials  # noqa: F401

CASE = next(c for c in cases.STACK_CASES if c.id == "scaling-sleep-alerts")
NEW_OPERATIONS = {("lambda", "CreateFunction"), ("lambda", "PutFunctionConcurrency"), ("lambda", "AddPermission"),
                  ("logs", "PutSubscriptionFilter")}


@pytest.fixture(scope="module")
def translated():
    result = cases.run_case(CASE)
    return result, aws_requests.translate(result.resources)


def _requests(translation, operation):
    return [r for r in translation.requests if r.operation == operation]


def test_every_waker_payload_is_valid(translated):
    result, translation = translated
    assert not [p for p in translation.problems if "lambda" in p or "Subscription" in p], translation.problems
    found, _ = checks.findings(result)
    assert checks.new_findings(found) == []
    assert NEW_OPERATIONS <= checks.operations(translation)


def test_one_waker_per_sleeping_api_with_the_repositorys_code(translated):
    _, translation = translated
    functions = _requests(translation, "CreateFunction")
    assert {f.params["Environment"]["Variables"]["SERVICE"] for f in functions} == {"posts", "multi"}
    for function in functions:
        bundle = zipfile.ZipFile(io.BytesIO(function.params["Code"]["ZipFile"]))
        assert bundle.namelist() == ["waker.py"] and b"def handler(" in bundle.read("waker.py")
        assert function.params["Runtime"] == "python3.12" and function.params["Handler"] == "waker.handler"
    assert {r.params["ReservedConcurrentExecutions"] for r in _requests(translation, "PutFunctionConcurrency")} == {1}
    filters = _requests(translation, "PutSubscriptionFilter")
    assert {f.params["logGroupName"] for f in filters} == {
        "/aws/apigateway/serverless-containers-dev-posts", "/aws/apigateway/serverless-containers-dev-multi"}


def test_the_waker_roles_policies_are_valid_and_scoped(translated):
    _, translation = translated
    requests = [r for r in _requests(translation, "PutRolePolicy") if r.name.endswith("-waker-policy")]
    assert len(requests) == 2
    for request in requests:
        assert validate.problems(request) == []
        document = json.loads(request.params["PolicyDocument"])
        ecs = next(s for s in document["Statement"] if s["Sid"] == "ThisServiceCount")
        assert ecs["Resource"].startswith("arn:aws:ecs:us-east-1:") and ":service/serverless-containers-dev/" in \
            ecs["Resource"]


@pytest.mark.parametrize("operation, change, expected", [
    ("CreateFunction", lambda p: p.update(Runtime="python2"), "Runtime"),
    ("CreateFunction", lambda p: p.update(MemorySize=64), "MemorySize"),
    ("CreateFunction", lambda p: p.update(Timeout=0), "Timeout"),
    ("PutFunctionConcurrency", lambda p: p.update(ReservedConcurrentExecutions=-1), "ReservedConcurrentExecutions"),
    ("PutSubscriptionFilter", lambda p: p.update(filterPattern="x" * 1025), "filterPattern"),
    ("PutSubscriptionFilter", lambda p: p.pop("destinationArn"), "destinationArn"),
    ("AddPermission", lambda p: p.pop("Principal"), "Principal"),
])
def test_broken_waker_payloads_are_caught(translated, operation, change, expected):
    _, translation = translated
    request = copy.deepcopy(_requests(translation, operation)[0])
    change(request.params)
    found = validate.problems(request)
    assert found and any(expected in f for f in found), found


def test_a_waker_policy_naming_an_action_ecs_lacks_is_caught(translated):
    _, translation = translated
    request = copy.deepcopy(next(r for r in _requests(translation, "PutRolePolicy") if r.name.endswith("-waker-policy")))
    document = json.loads(request.params["PolicyDocument"])
    document["Statement"][0]["Action"] = ["ecs:DescribeServices", "ecs:UpdateServiceCount"]
    request.params["PolicyDocument"] = json.dumps(document)
    found = validate.problems(request)
    assert any("UpdateServiceCount" in f for f in found), found


def test_moto_accepts_the_function_its_permission_and_the_subscription_in_order(translated, fake_credentials):
    from tests.fidelity import moto_smoke
    result, translation = translated
    report = moto_smoke.smoke_deploy(result, translation)
    assert report.failures == []
    sent = {where.split(": ")[-1] for where in report.sent}
    assert {"lambda.CreateFunction", "lambda.PutFunctionConcurrency", "lambda.AddPermission",
            "logs.PutSubscriptionFilter"} <= sent
