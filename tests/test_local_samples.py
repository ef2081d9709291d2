"""The single-Dockerfile samples (`apps/posts`, `apps/graphql`) built on the local base image and run
with `python -m ops local up`, answering their documented routes.

Their builds run `npm install`, so they need the npm registry from inside `docker build`; when the
registry cannot be reached the tests skip and say so (the two-container sample needs no package).
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ops import __main__ as cli
from ops.local.runner import Docker, LocalOptions, LocalRunner, load_api, plan_task
from ops.errors import OpsError
from tests.docker_support import (PROJECT_DIR, base_image, docker_engine, free_port,  # noqa: F401
                                  remove_stack_images, run_id)

STACK = "samples-" + run_id()
NETWORK_TROUBLE = ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "network")


def call(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("samples-project")
    (root / "stacks").mkdir()
    (root / "stacks" / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  serverless-containers:storage:\n"
        "    posts: {partitionKey: {name: id, type: N}}\n"
        "  serverless-containers:apis:\n"
        "    posts:\n"
        f"      source: {PROJECT_DIR / 'apps' / 'posts'}\n"
        "      access: {storage: {posts: [create, read, update, delete]}}\n"
        "    graphql:\n"
        f"      type: graphql\n"
        f"      source: {PROJECT_DIR / 'apps' / 'graphql'}\n")
    return root


def run_sample(project: Path, api: str, base_image: str, extra: list[str]):
    """Build (skipping when npm cannot reach its registry), then `up`; yields the loopback port."""
    _settings, app, region = load_api(STACK, api, project)
    task = plan_task(app, options=LocalOptions(stack=STACK, api=api, base_image=base_image), region=region)
    try:
        LocalRunner(Docker(), say=lambda _: None).build(task, quiet=True)
    except OpsError as error:
        if any(word in str(error) for word in NETWORK_TROUBLE):
            pytest.skip(f"the npm registry is not reachable from docker build here: {str(error)[-300:]}")
        raise
    port = free_port()
    common = ["--stack", STACK, "--api", api, "--project-dir", str(project)]
    assert cli.main(["local", "up", *common, "--no-build", "--port", str(port), *extra]) == 0
    return port, common


@pytest.fixture(scope="module")
def posts(project, base_image):
    port, common = run_sample(project, "posts", base_image, ["--no-storage"])
    yield f"http://127.0.0.1:{port}"
    cli.main(["local", "down", *common, "--stop-timeout", "5"])


@pytest.fixture(scope="module", autouse=True)
def _drop_images():
    yield
    remove_stack_images(STACK)


@pytest.fixture(scope="module")
def graphql(project, base_image):
    port, common = run_sample(project, "graphql", base_image, [])
    yield f"http://127.0.0.1:{port}"
    cli.main(["local", "down", *common, "--stop-timeout", "5"])


def wait_ready(url: str) -> None:
    import time

    for _ in range(60):
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.5)


def test_posts_sample_does_crud_in_memory_without_storage_variables(posts):
    wait_ready(posts + "/")
    assert call("GET", posts + "/") == (200, {"status": "ok", "service": "posts", "store": "memory"})
    assert call("POST", posts + "/posts", {"id": 7, "title": "first", "content": "hello"}) == (
        201, {"id": 7, "title": "first", "content": "hello"})
    status, created = call("POST", posts + "/posts", {"title": "second"})
    assert status == 201 and isinstance(created["id"], int)
    assert call("PUT", posts + "/posts/7", {"title": "changed"}) == (
        200, {"id": 7, "title": "changed", "content": "hello"})
    assert call("GET", posts + "/posts/7")[1]["title"] == "changed"
    assert [p["id"] for p in call("GET", posts + "/posts")[1]] == sorted([7, created["id"]])
    assert call("DELETE", posts + "/posts/7") == (204, None)
    assert call("GET", posts + "/posts/7")[0] == 404
    assert call("PUT", posts + "/posts/7", {"title": "gone"})[0] == 404
    assert call("GET", posts + "/posts/seven")[0] == 400
    assert call("POST", posts + "/posts", {"content": "no title"})[0] == 400


def test_graphql_sample_answers_the_posts_query_and_the_mutation(graphql):
    wait_ready(graphql + "/")
    status, body = call("POST", graphql + "/graphql", {"query": "{ posts { id title } }"})
    assert status == 200 and body["data"]["posts"][0]["id"] == "1"
    status, body = call("POST", graphql + "/graphql", {
        "query": "mutation Add($t: String!) { createPost(title: $t) { id title } }", "variables": {"t": "new"}})
    assert status == 200 and body["data"]["createPost"]["title"] == "new"
    status, body = call("POST", graphql + "/graphql", {"query": "{ post(id: \"%s\") { title } }"
                                                       % body["data"]["createPost"]["id"]})
    assert body == {"data": {"post": {"title": "new"}}}
    status, body = call("POST", graphql + "/graphql", {"query": "{ nothing }"})
    assert status == 400 and "nothing" in body["errors"][0]["message"]


# ---------------------------------------------------------------- posts against a DynamoDB API

class _DynamoDBOverMoto:
    """DynamoDB's JSON protocol on a loopback port, answered by moto's in-memory DynamoDB.

    moto's own server needs Flask; this is the few lines the sample's AWS SDK calls need: the
    operation from X-Amz-Target, the body as the low-level client's parameters, errors as
    DynamoDB's `__type` documents.
    """

    def __init__(self, region: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import boto3
        from botocore import xform_name
        from botocore.exceptions import ClientError
        from moto import mock_aws

        self.mock = mock_aws()
        self.mock.start()
        client = boto3.client("dynamodb", region_name=region, aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        self.client = client
        self.operations: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                operation = self.headers["X-Amz-Target"].split(".", 1)[1]
                outer.operations.append(operation)
                params = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                try:
                    answer = getattr(client, xform_name(operation))(**params)
                    answer.pop("ResponseMetadata", None)
                    status, body = 200, answer
                except ClientError as error:
                    code = error.response["Error"]["Code"]
                    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
                    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                            "message": error.response["Error"].get("Message", "")}
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.0")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.mock.stop()


def test_posts_sample_keeps_posts_in_the_dynamodb_table_it_is_given(project, base_image, tmp_path):
    """The sample's DynamoDB store (the one deployed tasks use), run by Node on this machine with the
    dependencies its image installed, against a DynamoDB API on loopback."""
    import shutil
    import subprocess

    from tests.docker_support import docker

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on this machine to run the sample's DynamoDB store outside a container")
    _settings, app, region = load_api(STACK, "posts", project)
    task = plan_task(app, options=LocalOptions(stack=STACK, api="posts", base_image=base_image), region=region)
    try:
        LocalRunner(Docker(), say=lambda _: None).build(task, quiet=True)
    except OpsError as error:
        if any(word in str(error) for word in NETWORK_TROUBLE):
            pytest.skip(f"the npm registry is not reachable from docker build here: {str(error)[-300:]}")
        raise
    # The app and the exact node_modules its image installed.
    workdir = tmp_path / "posts"
    shutil.copytree(PROJECT_DIR / "apps" / "posts" / "src", workdir / "src")
    holder = docker("create", task.builds[0].image).stdout.strip()
    try:
        docker("cp", f"{holder}:/app/node_modules", str(workdir / "node_modules"))
    finally:
        docker("rm", holder)

    dynamodb = _DynamoDBOverMoto(region)
    server = None
    try:
        dynamodb.client.create_table(TableName="posts-local", BillingMode="PAY_PER_REQUEST",
                                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        port = free_port()
        environment = {"PATH": os.environ.get("PATH", ""), "HOST": "127.0.0.1", "PORT": str(port),
                       "STORAGE_POSTS_NAME": "posts-local", "REGION": region,
                       "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.url,
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        server = subprocess.Popen([node, "src/server.js"], cwd=workdir, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/")
        assert call("GET", base + "/") == (200, {"status": "ok", "service": "posts", "store": "dynamodb"})
        assert call("POST", base + "/posts", {"id": 1, "title": "in the table"})[0] == 201
        stored = dynamodb.client.get_item(TableName="posts-local", Key={"id": {"N": "1"}})["Item"]
        assert stored == {"id": {"N": "1"}, "title": {"S": "in the table"}}
        assert call("PUT", base + "/posts/1", {"content": "more"}) == (
            200, {"id": 1, "title": "in the table", "content": "more"})
        assert call("PUT", base + "/posts/2", {"title": "nobody"})[0] == 404      # the condition held
        assert call("GET", base + "/posts") == (200, [{"id": 1, "title": "in the table", "content": "more"}])
        assert call("DELETE", base + "/posts/1") == (204, None)
        assert call("DELETE", base + "/posts/1")[0] == 404
        assert dynamodb.client.scan(TableName="posts-local")["Items"] == []
        assert {"PutItem", "UpdateItem", "Scan", "DeleteItem"} <= set(dynamodb.operations)
    finally:
        if server is not None:
            server.terminate()
            output = server.communicate(timeout=10)[0]
            if server.returncode not in (0, -15, 143):
                print(output)
        dynamodb.close()
