"""Issue 23, items 2 and 3, and issue 24, item 4: the managed source zip.

2. It is written into a fresh private folder (never a shared, predictable path another local user can pre-create),
   S3's SHA-256 of the upload is compared with the bytes the program wrote (a mismatch stops the run), and the
   folder is gone when the program ends.
3. Credential folders and names stay out (every file the review found), the app's .dockerignore is respected, and
   what stays is scanned for live credentials (policy no-secrets-in-source: a warning in dev, mandatory in prod).
24.4 A compose .env that only feeds interpolation gets one calm line; files a build or service reads get a warning.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from catalog.resources import Resource
from components.pipeline.buildspec import ImageBuild
from components.pipeline.sensitive_files import copy_sources, is_sensitive
from components.pipeline.source_bundle import listing, private_folder, upload_checksums, write_bundle
from components.providers.pipeline_run import PipelineRunError, run_pipeline
from ops.plan import mockrun
from policies import rules, settings
from policies.source_secrets import zip_findings
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")

ROOT = Path(__file__).resolve().parent.parent
PROD = settings.read_config_file(ROOT / "policies" / "config" / "prod.json")
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


# --- 2. where the zip is written, the hash at upload, the clean-up ------------------------------------------------

def test_the_zip_goes_into_a_fresh_private_folder_not_a_predictable_shared_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / "serverless-containers"          # what another local user could create before us
    planted.mkdir(mode=0o777)
    (planted / "decoy").write_text("x")
    source = write_dockerfile_app(tmp_path, "web")
    one = write_bundle(source, builds=[ImageBuild("web", ".", "Dockerfile")])
    other = write_bundle(source, builds=[ImageBuild("web", ".", "Dockerfile")])
    for bundle in (one, other):
        folder = bundle.path.parent
        assert folder.parent == tmp_path and folder != planted and folder.name.startswith("serverless-containers-source-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
        assert stat.S_IMODE(bundle.path.stat().st_mode) == 0o600
    assert one.path.parent != other.path.parent and [p.name for p in planted.iterdir()] == ["decoy"]


def test_upload_checksums_are_what_s3_reports_for_one_part_and_for_parts():
    data = b"0123456789" * 3
    whole = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert upload_checksums(data, part_size=100) == {whole}
    parts = [data[0:10], data[10:20], data[20:30]]
    composite = base64.b64encode(hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()).decode()
    assert upload_checksums(data, part_size=10) == {whole, f"{composite}-3"}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def _run(web, extra_outputs=None):
    return mockrun.run(program.main, config={"apis": {"web": {"source": str(web), "auth": False}}},
                       extra_outputs=extra_outputs)


def test_s3_checksums_the_upload_and_the_waiter_gets_no_mismatch(web):
    result = _run(web)
    upload = result.one(OBJECT)
    assert upload.inputs["checksumAlgorithm"] == "SHA256"
    written = Path(upload.inputs["source"].path).read_bytes()
    assert upload.outputs["checksumSha256"] == base64.b64encode(hashlib.sha256(written).digest()).decode()
    run = result.one("pulumi-python:dynamic/serverless-containers:PipelineRun")
    assert run.inputs["sourceMismatch"] == ""


def test_a_zip_swapped_before_the_upload_stops_its_run(web):
    tampered = base64.b64encode(hashlib.sha256(b"someone else's zip").digest()).decode()
    result = _run(web, extra_outputs=lambda typ, name, inputs: {"checksumSha256": tampered} if typ == OBJECT else {})
    mismatch = result.one("pulumi-python:dynamic/serverless-containers:PipelineRun").inputs["sourceMismatch"]
    assert mismatch.startswith("API web: the source zip S3 received (SHA-256 " + tampered)
    assert "changed between writing and upload" in mismatch and "stopped" in mismatch


def test_the_waiter_stops_the_run_of_a_swapped_upload():
    codepipeline = boto3.client("codepipeline", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(codepipeline) as stub:
        stub.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": "11111111-2222-3333-4444-555555555555", "status": "InProgress",
             "sourceRevisions": [{"actionName": "Source", "revisionId": "v-swapped"}]},
            {"pipelineExecutionId": "66666666-2222-3333-4444-555555555555", "status": "InProgress",
             "sourceRevisions": [{"actionName": "Source", "revisionId": "v-older"}]}]},
            {"pipelineName": "p", "maxResults": 25})
        stub.add_response("stop_pipeline_execution", {"pipelineExecutionId": "11111111-2222-3333-4444-555555555555"},
                          {"pipelineName": "p", "pipelineExecutionId": "11111111-2222-3333-4444-555555555555",
                           "abandon": True, "reason": "the uploaded source is not what pulumi up zipped"})
        with pytest.raises(PipelineRunError) as error:
            run_pipeline(codepipeline, None, {"pipelineName": "p", "region": "us-east-1", "sourceRevision": "v-swapped",
                                              "sourceMismatch": "API web: the source zip S3 received ..."})
        stub.assert_no_pending_responses()
    assert "Stopped: 11111111-2222-3333-4444-555555555555" in str(error.value)


def test_the_program_leaves_no_zip_behind_when_it_ends(web, tmp_path):
    script = ("import json, sys\n"
              "from ops.plan import mockrun\n"
              "import components.program as program\n"
              f"result = mockrun.run(program.main, config={{'apis': {{'web': {{'source': {str(web)!r}, 'auth': False}}}}}})\n"
              f"print(json.dumps(result.one({OBJECT!r}).inputs['source'].path))\n")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    zip_path = Path(json.loads(done.stdout.strip().splitlines()[-1]))
    assert zip_path.parent.parent == tmp_path          # it was written there ...
    assert not zip_path.parent.exists() and list(tmp_path.iterdir()) == []      # ... and is gone


# --- 3. what stays out, and what is scanned ----------------------------------------------------------------------

REVIEW_FOUND = [  # issue 23, item 3: every file the review found in a zip
    ".aws/sso/cache/0123abcd.json", ".aws/cli/cache/fedc.json", ".envrc", ".env-production", ".env_prod", ".ENV",
    "terraform.tfstate", ".kube/config", ".yarnrc", ".pgpass", "auth.json", "gcp-service-account.json", ".htpasswd",
    "release.jks", "AuthKey_ABC123DEFG.p8", ".npmrc.bak",
]
CREDENTIAL_FOLDERS = [".docker/config.json", ".gnupg/private-keys-v1.d/key.key", ".ssh/known_hosts",
                      ".config/gcloud/application_default_credentials.json", "nested/.aws/credentials",
                      "infra/terraform.tfstate.backup", "deploy/prod.env"]
KEPT = ["Dockerfile", "server", "src/app.js", ".env.example", "config/settings.json", ".config/app.json"]


def test_every_credential_file_the_review_found_stays_out(tmp_path):
    source = write_dockerfile_app(tmp_path, "web")
    tree(source, {name: "x\n" for name in REVIEW_FOUND + CREDENTIAL_FOLDERS + KEPT if name not in ("Dockerfile", "server")})
    kept, left_out = listing(source, [ImageBuild("web", ".", "Dockerfile")])
    assert sorted(left_out) == sorted(REVIEW_FOUND + CREDENTIAL_FOLDERS)
    assert sorted(kept) == sorted(KEPT)
    assert not any(is_sensitive(name) for name in KEPT)


def test_the_apps_dockerignore_decides_too(tmp_path):
    source = tree(tmp_path / "multi", {
        "compose.yaml": "services: {api: {build: ./api, ports: ['8080:8080']}}\n",
        "api/Dockerfile": "FROM scratch\nCOPY . /app\n", "api/app.js": "x\n",
        ".dockerignore": "local-data/\n*.sqlite\n", "local-data/dump.sql": "x\n", "cache.sqlite": "x\n",
        "README.md": "x\n"})
    kept, _ = listing(source, [ImageBuild("api", "api", "api/Dockerfile")])
    assert kept == [".dockerignore", "README.md", "api/Dockerfile", "api/app.js", "compose.yaml"]


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    source = write_dockerfile_app(tmp_path_factory.mktemp("leaky"), "web")
    tree(source, {"src/config.js": f"const region = 'us-east-1';\nconst key = '{AWS_KEY}';\n",
                  "src/fixture.js": f"const sample = '{AWS_KEY}'; // pragma: allowlist secret\n",
                  "src/db.js": "module.exports = 'postgres://app:s3cr3tPassw0rd@db.example.com/app';\n"})
    return mockrun.run(program.main, config={"apis": {"web": {"source": str(source), "auth": False}}})


def _source_findings(result, document):
    resources = [Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]
    return [f for f in rules.evaluate(resources, settings.effective(document)) if f.policy == "no-secrets-in-source"]


def test_a_live_credential_in_the_zip_is_named_by_file_and_line(leaky):
    path = Path(leaky.one(OBJECT).inputs["source"].path)
    assert zip_findings(path) == [("src/config.js", 2, ("AWS Access Key",)),
                                  ("src/db.js", 1, ("URL with a password",))]
    dev = _source_findings(leaky, {})
    assert [f.level for f in dev] == [settings.ADVISORY] * 2
    assert "src/config.js, line 2" in dev[0].message and "AWS Access Key" in dev[0].message
    prod = _source_findings(leaky, PROD)
    assert [f.level for f in prod] == [settings.MANDATORY] * 2


def test_a_clean_zip_passes(web):
    assert _source_findings(_run(web), PROD) == []


# --- issue 24, item 4: who reads a left-out file -------------------------------------------------------------------

def test_copy_sources_reads_every_form():
    assert copy_sources("FROM x\nCOPY --chown=1:1 a.txt b/ /app/\nADD [\"c d\", \"/x\"]\n"
                        "COPY --from=build /out /app\nCOPY \\\n  .env.local ./\n") == [
        ("COPY --chown=1:1 a.txt b/ /app/", "a.txt"), ("COPY --chown=1:1 a.txt b/ /app/", "b/"),
        ('ADD ["c d", "/x"]', "c d"), ("COPY    .env.local ./", ".env.local")]


def _messages(folder: Path):
    result = mockrun.run(program.main, config={"apis": {"app": {"source": str(folder), "auth": False}}})
    return ([m for m in result.warnings if "credential" in m],
            [m for level, m in result.logs if level == "info" and "stays on this machine" in m])


def test_a_compose_env_that_only_feeds_interpolation_gets_one_calm_line(tmp_path):
    folder = tree(tmp_path / "app", {
        ".env": "PORT=8080\nIMAGE_TAG=3\n",
        "compose.yaml": "services:\n  api:\n    build: ./api\n    ports: ['${PORT}:${PORT}']\n",
        "api/Dockerfile": "FROM scratch\nCOPY server.js /app/\n", "api/server.js": "x\n"})
    warnings, notes = _messages(folder)
    assert warnings == []
    assert notes == ["API app: .env stays on this machine (not in the source zip); it only fills in the compose "
                     "file's ${...} values, which are already in the task definition."]


@pytest.mark.parametrize("files, reader", [
    ({"Dockerfile": "FROM scratch\nCOPY . /app\n"}, "the build of app copies it (COPY . /app)"),
    ({"Dockerfile": "FROM scratch\nCOPY server /app/\n",
      "package.json": '{"scripts": {"start": "node --env-file=.env server.js"}}'}, "a command reads it with --env-file"),
])
def test_a_file_the_build_reads_keeps_the_strong_warning(tmp_path, files, reader):
    folder = tree(tmp_path / "app", {"server": "x\n", ".env": "TOKEN=abc\n", **files})
    warnings, notes = _messages(folder)
    assert notes == [] and len(warnings) == 1
    assert warnings[0].startswith(f"API app: .env looks like a credentials file and {reader}, but the source zip "
                                  "leaves it out") and "apis.app.includeSensitiveFiles" in warnings[0]


def test_an_env_file_a_service_loads_keeps_the_strong_warning(tmp_path):
    folder = tree(tmp_path / "app", {
        ".env.production": "TOKEN=abc\n",
        "compose.yaml": "services:\n  api:\n    build: ./api\n    ports: ['8080:8080']\n    env_file: .env.production\n",
        "api/Dockerfile": "FROM scratch\nCOPY server.js /app/\n", "api/server.js": "x\n"})
    warnings, notes = _messages(folder)
    assert notes == [] and len(warnings) == 1
    assert "API app: .env.production looks like a credentials file and service api loads it (env_file)" in warnings[0]


# --- the bucket: an older source version cannot be made current again ----------------------------------------------

def test_only_the_deployer_may_delete_a_source_version():
    from components.pipeline.access import bucket_policy
    from tests.infra_helpers import botocore_errors

    document = bucket_policy("arn:aws:s3:::b", deployer_arn="arn:aws:iam::1:role/deployer",
                             pipeline_role_arn="arn:aws:iam::1:role/pipeline", build_role_arn="arn:aws:iam::1:role/build")
    sources = {s["Sid"]: s for s in document["Statement"]}["OnlyTheDeployerWritesSources"]
    assert sources["Effect"] == "Deny" and sources["Resource"] == ["arn:aws:s3:::b/source/*"]
    # deleting the newest version would make the older zip current, and the next run would build it
    assert sources["Action"] == ["s3:PutObject", "s3:DeleteObjectVersion"]
    assert sources["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::1:role/deployer"]}}
    assert botocore_errors("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": json.dumps(document)}) == ""


def test_zips_earlier_versions_left_in_the_shared_folder_are_removed(tmp_path, monkeypatch):
    from components.pipeline.source_bundle import remove_legacy_zips

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    legacy = tmp_path / "serverless-containers"
    legacy.mkdir()
    old = legacy / "dev-web-1671c2da-source.zip"
    old.write_bytes(b"PK old source")
    os.chmod(old, 0o644)
    (legacy / "dev-web-1671c2da-source.4242.tmp").write_bytes(b"half")
    recent = legacy / "dev-api-0a1b2c3d-source.zip"   # an older checkout's `pulumi up` may still read it
    recent.write_bytes(b"PK in use")
    other = legacy / "notes.txt"                       # not ours to judge: kept, and so is the folder
    other.write_text("x")
    day_ago = time.time() - 25 * 3600
    for stale in (old, legacy / "dev-web-1671c2da-source.4242.tmp", other):
        os.utime(stale, (day_ago, day_ago))
    source = write_dockerfile_app(tmp_path, "web")
    write_bundle(source, builds=[ImageBuild("web", ".", "Dockerfile")])
    assert sorted(p.name for p in legacy.iterdir()) == ["dev-api-0a1b2c3d-source.zip", "notes.txt"]
    other.unlink()
    assert remove_legacy_zips(tmp_path, now=time.time() + 25 * 3600) == [recent]
    assert remove_legacy_zips(tmp_path) == [] and not legacy.exists()
