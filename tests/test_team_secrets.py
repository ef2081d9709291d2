"""Compose secrets in a team (issue 17): the value from an encrypted stack config secret (`secretValues`), or an
existing Secrets Manager secret by ARN (`secretArns`) that the stack never reads or rewrites; without the `.secret-`
file and with neither route, one error names all three.

The sample two-container app is copied to a folder without its `../secrets/` neighbour, as a CI checkout or a
teammate's clone would be.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from components.settings.stack import load_settings
from components.errors import ConfigError
from ops.plan import mockrun
from ops.stack import stack_config
from tests.fidelity.checks import findings, new_findings

ROOT = Path(__file__).resolve().parent.parent
NS = "serverless-containers"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/api-token-Ab12Cd"
VALUE = "team-token-value-7f3a9"
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
VERSION_TYPE = "aws:secretsmanager/secretVersion:SecretVersion"


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Path:
    """apps/multi without ../secrets/.secret-api-token beside it."""
    folder = tmp_path_factory.mktemp("checkout") / "multi"
    shutil.copytree(ROOT / "apps" / "multi", folder, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    assert not (folder.parent / "secrets").exists()
    return folder


def config(multi: Path, **extra) -> dict:
    return {"aws:region": "us-east-1", f"{NS}:apis": {"multi": {"source": str(multi), "entrypoint": "express",
                                                               "auth": False}},
            **{f"{NS}:{key}": value for key, value in extra.items()}}


def run(multi: Path, secret_keys=(), **extra) -> mockrun.RunResult:
    from components.program import main

    return mockrun.run(main, stack="dev", config=config(multi, **extra), secret_keys=list(secret_keys))


def container_secrets(result: mockrun.RunResult) -> dict[str, str]:
    task = result.one("aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task.inputs["containerDefinitions"])
    return {s["name"]: s["valueFrom"] for c in definitions for s in c.get("secrets") or []}


def execution_policy(result: mockrun.RunResult) -> dict:
    policy = result.one("aws:iam/rolePolicy:RolePolicy", "multi-execution")
    return json.loads(policy.inputs["policy"])


def test_without_the_file_and_without_a_route_the_error_names_all_three(multi):
    with pytest.raises(ConfigError) as caught:
        run(multi)
    error = caught.value
    assert error.key == "secrets.API_TOKEN.file" and error.file.endswith("multi/docker-compose.yml")
    text = str(error)
    assert "secrets/.secret-api-token does not exist" in text
    assert "create it with the secret's value" in text                                       # 1. the file
    assert "pulumi config set --secret --path 'secretValues.multi.API_TOKEN' <value>" in text  # 2. stack secret
    assert "secretArns: {multi: {API_TOKEN: <secret ARN>}}" in text                            # 3. existing ARN
    assert "stacks/Pulumi.dev.yaml" in text


def test_the_value_from_an_encrypted_stack_config_secret(multi):
    result = run(multi, secret_keys=[f"{NS}:secretValues"], secretValues={"multi": {"API_TOKEN": VALUE}})
    secret = result.one(SECRET_TYPE)
    assert secret.inputs["name"] == "serverless-containers/dev/multi/API_TOKEN"
    assert "stack config secretValues.multi.API_TOKEN" in secret.inputs["description"]
    version = result.one(VERSION_TYPE)
    assert version.inputs["secretString"] == VALUE and "secretString" in version.secret_paths
    assert container_secrets(result) == {"API_TOKEN": secret.outputs["arn"]}
    statement = next(s for s in execution_policy(result)["Statement"] if s["Sid"] == "ReadOwnSecrets")
    assert statement["Resource"] == [secret.outputs["arn"]]
    for resource in result.resources:       # the value only ever travels as a secret
        if resource is not version:
            assert VALUE not in json.dumps(resource.inputs, default=str), resource.name
    assert not new_findings(findings(result)[0])


def test_an_existing_secret_by_arn_is_used_but_never_read_or_rewritten(multi):
    result = run(multi, secretArns={"multi": {"API_TOKEN": SECRET}})
    assert result.of_type(SECRET_TYPE) == [] and result.of_type(VERSION_TYPE) == []     # nothing created or written
    assert container_secrets(result) == {"API_TOKEN": SECRET}
    statement = next(s for s in execution_policy(result)["Statement"] if s["Sid"] == "ReadOwnSecrets")
    assert statement == {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                         "Resource": [SECRET]}
    # The program never looks the secret up either (no invoke reads Secrets Manager).
    assert not [token for token, _ in result.invokes if "secretsmanager" in token]
    assert not new_findings(findings(result)[0])


def test_external_true_in_compose_is_fine_when_the_stack_provides_the_secret(multi, tmp_path):
    folder = tmp_path / "multi"
    shutil.copytree(multi, folder)
    compose = folder / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("file: ../secrets/.secret-api-token", "external: true"))
    result = run(folder, secretArns={"multi": {"API_TOKEN": SECRET}})
    assert container_secrets(result) == {"API_TOKEN": SECRET}
    with pytest.raises(ConfigError) as caught:
        run(folder)
    assert caught.value.key == "secrets.API_TOKEN.external" and "secretValues.multi.API_TOKEN" in str(caught.value)
    compose.write_text(compose.read_text().replace("external: true", "environment: API_TOKEN"))
    with pytest.raises(ConfigError) as caught:
        run(folder)
    assert caught.value.key == "secrets.API_TOKEN.environment" and "secretArns: {multi: {API_TOKEN:" in str(caught.value)


def test_a_file_still_works_and_the_stack_route_wins_over_it(multi, tmp_path):
    (multi.parent / "secrets").mkdir()
    try:
        (multi.parent / "secrets" / ".secret-api-token").write_text("from-the-file\n")
        from_file = run(multi)
        assert from_file.one(VERSION_TYPE).inputs["secretString"] == "from-the-file"
        from_arn = run(multi, secretArns={"multi": {"API_TOKEN": SECRET}})
        assert from_arn.of_type(VERSION_TYPE) == [] and container_secrets(from_arn) == {"API_TOKEN": SECRET}
    finally:
        shutil.rmtree(multi.parent / "secrets")


@pytest.mark.parametrize("extra,key,words", [
    ({"secretArns": {"nope": {"API_TOKEN": SECRET}}}, "secretArns.nope", "names API 'nope'"),
    ({"secretArns": {"multi": {"API_TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/x"}}},
     "secretArns.multi.API_TOKEN", "6 random characters"),
    ({"secretArns": {"multi": {"API_TOKEN": "not-an-arn"}}}, "secretArns.multi.API_TOKEN", "not a Secrets Manager"),
    ({"secretValues": {"multi": {"API_TOKEN": ""}}}, "secretValues.multi.API_TOKEN", "non-empty string"),
    ({"secretValues": {"multi": {"API_TOKEN": {"nested": 1}}}}, "secretValues.multi.API_TOKEN", "non-empty string"),
    ({"secretValues": {"multi": ["API_TOKEN"]}}, "secretValues.multi", "expected a map"),
    ({"secretValues": {"multi": {"API_TOKEN": "v"}}, "secretArns": {"multi": {"API_TOKEN": SECRET}}},
     "secretArns.multi.API_TOKEN", "both secretValues and secretArns"),
])
def test_bad_routes_are_config_errors_naming_the_key(multi, extra, key, words):
    raw = {"apis": {"multi": {"source": str(multi), "entrypoint": "express"}}, **extra}
    with pytest.raises(ConfigError) as caught:
        load_settings(raw, ROOT, "dev")
    assert caught.value.key == f"{NS}:{key}" and caught.value.file == "stacks/Pulumi.dev.yaml"
    assert words in str(caught.value)


def test_a_route_for_a_secret_the_app_does_not_use_is_refused(multi):
    with pytest.raises(ConfigError) as caught:
        run(multi, secretArns={"multi": {"API_TOKEN": SECRET, "DB_PASSWORD": SECRET.replace("api-token", "db")}})
    assert caught.value.key == f"{NS}:secretArns.multi.DB_PASSWORD"
    assert "no deployed service of API multi uses" in str(caught.value) and "API_TOKEN" in str(caught.value)


def test_the_offline_plan_reads_a_path_secret_as_a_placeholder(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.ci.yaml").write_text(
        "config:\n"
        "  serverless-containers:secretValues:\n"
        "    multi:\n"
        "      API_TOKEN:\n"
        "        secure: v1:AAAAbbbbCCCC\n"
        "  serverless-containers:fargateSpot: true\n")
    values, encrypted = stack_config.load_stack_config("ci", tmp_path)
    assert values[f"{NS}:secretValues"] == {"multi": {"API_TOKEN": stack_config.MOCK_SECRET_PLACEHOLDER}}
    assert encrypted == [f"{NS}:secretValues"] and values[f"{NS}:fargateSpot"] is True
