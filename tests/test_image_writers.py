"""Issue 23, item 1: nobody but the build role and the deploying principal may push to or delete from an API's ECR
repositories, so no other principal of the account can make ``:deployed`` (what the next ECS deployment runs and the
next build uses as its layer cache) name an image of its own. docs/design.md, "Who may push"."""
from __future__ import annotations

import json

import pytest

from components.pipeline.access import REPOSITORY_WRITE_ACTIONS, repository_policy
from ops.plan import mockrun
from tests.fidelity.iam_checks import policy_problems
from tests.infra_helpers import botocore_errors, policy, write_compose_app
from tests.ops_fixtures import fake_credentials, project  # noqa: F401 - fixtures

program = pytest.importorskip("components.program")

POLICY_TYPE = "aws:ecr/repositoryPolicy:RepositoryPolicy"
DEPLOYER = f"arn:aws:iam::{mockrun.ACCOUNT_ID}:user/mock"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return write_compose_app(tmp_path_factory.mktemp("apps"), "multi")


def run(app, **api):
    return mockrun.run(program.main, config={"apis": {"multi": {"source": str(app), "entrypoint": "express",
                                                                  "auth": False, **api}}})


@pytest.fixture(scope="module")
def managed(app):
    return run(app)


def _denied(document: dict, principal: str, action: str) -> bool:
    """IAM's reading of this policy: an explicit Deny whose ArnNotEquals leaves ``principal`` out."""
    for statement in document["Statement"]:
        if statement["Effect"] != "Deny" or action not in statement["Action"]:
            continue
        if principal not in statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]:
            return True
    return False


def test_every_built_repository_lets_only_the_build_role_and_the_deployer_push(managed):
    repositories = {r.name: r for r in managed.of_type("aws:ecr/repository:Repository")}
    policies = managed.of_type(POLICY_TYPE)
    assert len(repositories) == 2 and len(policies) == 2
    build_role = managed.one("aws:iam/role:Role", "multi-pipeline-build").outputs["arn"]
    named = {p.inputs["repository"]: p for p in policies}
    assert set(named) == {r.inputs["name"] for r in repositories.values()}
    for repository in repositories.values():
        guard = named[repository.inputs["name"]]
        statement, = policy(guard)["Statement"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Action"] == REPOSITORY_WRITE_ACTIONS
        assert statement["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted([DEPLOYER, build_role])}}
        # the policy is set on the repository the engine created first, and names it by its output
        assert repository.urn in guard.property_dependencies["repository"]
        assert managed.depends_on(guard, repository)


def test_the_pipeline_starts_only_after_the_repositories_are_closed(managed):
    pipeline = managed.one("aws:codepipeline/pipeline:Pipeline")
    for guard in managed.of_type(POLICY_TYPE):
        assert managed.depends_on(pipeline, guard), guard.name


def test_an_outsider_cannot_move_deployed_but_the_pipeline_and_rollback_can():
    build, deployer, outsider = ("arn:aws:iam::1:role/build", "arn:aws:iam::1:role/deployer",
                                 "arn:aws:iam::1:role/admin-with-ecr-full-access")
    document = repository_policy(deployer_arn=deployer, build_role_arn=build)
    for action in ("ecr:PutImage", "ecr:BatchDeleteImage", "ecr:InitiateLayerUpload"):
        assert _denied(document, outsider, action)
        assert not _denied(document, build, action) and not _denied(document, deployer, action)
    # pulls are IAM's business: ECS, the build's layer cache and `ops rollback` read images
    assert not _denied(document, outsider, "ecr:BatchGetImage")


def test_repository_policy_is_a_valid_set_repository_policy_request():
    document = repository_policy(deployer_arn=DEPLOYER, build_role_arn="arn:aws:iam::1:role/build")
    assert botocore_errors("ecr", "SetRepositoryPolicy",
                           {"repositoryName": "serverless-containers-dev-multi-express",
                            "policyText": json.dumps(document)}) == ""
    assert policy_problems(json.dumps(document), kind="resource") == []


def test_build_manual_has_no_pipeline_and_no_repository_policy(app):
    manual = run(app, build="manual")
    assert manual.of_type(POLICY_TYPE) == []


# --- `ops rollback` runs as a principal the policy lets move `deployed`, or changes nothing ------------------------

def test_rollback_by_a_principal_the_policy_denies_changes_nothing(fake_credentials, project, tmp_path, capsys,
                                                                    monkeypatch):
    from moto import mock_aws

    from ops.__main__ import main
    from tests.ops_fixtures import write_outputs_json
    from tests.ops_moto import API, FAMILY, HASHES, World, patch_moto, repository

    with mock_aws():
        patch_moto(monkeypatch)
        world = World().deploy()
        caller = boto3_caller()
        for container in world.containers:
            world.ecr.set_repository_policy(repositoryName=repository(container), policyText=json.dumps(
                repository_policy(deployer_arn="arn:aws:iam::123456789012:role/deployer",
                                  build_role_arn="arn:aws:iam::123456789012:role/build")))
        outputs = write_outputs_json(tmp_path / "outputs.json", world.outputs())
        code = main(["rollback", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(outputs),
                     "--api", API, "--to", HASHES[0]])
        err = capsys.readouterr().err
        assert code == 1 and f"you are {caller}" in err and "Nothing was changed" in err
        assert "arn:aws:iam::123456789012:role/deployer" in err
        assert len(world.ecs.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]) == 1


def boto3_caller() -> str:
    import boto3

    return boto3.client("sts", region_name="us-east-1").get_caller_identity()["Arn"]


@pytest.mark.parametrize("caller, allowed, same", [
    ("arn:aws:sts::1:assumed-role/deployer/alice", "arn:aws:iam::1:role/ops/deployer", True),
    ("arn:aws:sts::1:assumed-role/deployer/alice", "arn:aws:iam::2:role/deployer", False),
    ("arn:aws:sts::1:assumed-role/other/alice", "arn:aws:iam::1:role/deployer", False),
    ("arn:aws:iam::1:user/alice", "arn:aws:iam::1:user/alice", True),
    ("arn:aws:iam::1:user/alice", "arn:aws:iam::1:user/bob", False),
])
def test_a_session_is_the_role_it_assumed(caller, allowed, same):
    from ops.cloud.rollback import _same_principal

    assert _same_principal(caller, allowed) is same
