"""Issue 23 item 7 (and issue 24 item 10's false positives): what policies/secret_values.py calls a credential,
and where policies/credential_rules.py looks for one: every literal of a task definition and of a build."""
from __future__ import annotations

import json

import pytest

from components.pipeline.buildspec import ImageBuild, buildspec_yaml
from ops.plan import mockrun
from policies import credential_rules, rules, settings
from policies.secret_values import judge, looks_secret, name_reason, secret_kinds, value_reason

program = pytest.importorskip("components.program")

WORDS = settings.SECRET_WORDS
CREDENTIALS = settings.effective({})["no-credentials-in-values"].settings
TASK, CODEBUILD = rules.TASK_DEFINITION, "aws:codebuild/project:Project"
GOOGLE_KEY = "AIzaSy" + "D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T"    # 39 characters, as Google issues them
NPM_TOKEN = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9_Yw8-Vu7" * 8 + "Tt6s5AA"


# --- names ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["DB_PASS", "MYSQL_PWD", "AUTH", "BASIC_AUTH", "PASSWORD_SALT", "SALT",
                                  "SIGNING_KEY", "JWT_SIGNING", "COOKIE_SIGNING_SECRET"])
def test_the_new_name_words_count(name):
    assert looks_secret(name, WORDS)
    assert name_reason(name, "correct-horse-battery", WORDS) == "its name looks like a secret's"


@pytest.mark.parametrize("name, value", [
    # issue 24 item 10: names that point at a secret, with the values they really carry
    ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"),
    ("STORAGE_AUTH_TOKENS_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/serverless-containers-dev-tokens"),
    ("SIGNING_KEY_PATH", "/run/secrets/signing_key"),
    ("AUTH_SECRET_PATH", "/etc/app/auth/secret.pem"),
    ("STORAGE_PASSWORDS_NAME", "serverless-containers-dev-passwords"),
    ("TOKEN_NAME", "api-token"),
    ("API_KEY_FILE", "/run/secrets/api_key"),
    # the shell's working directory, and switches or small numbers under secret-sounding names
    ("PWD", "/app"), ("OLDPWD", "/"), ("AUTH_ENABLED", "true"), ("SALT_ROUNDS", "10"), ("TOKEN_TTL", "3600"),
])
def test_pointers_and_harmless_values_are_not_secrets(name, value):
    assert judge(name, value, WORDS) == ""
    assert secret_kinds(value) == ()


# --- values -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [
    ("Server=db.internal;Database=app;User Id=app;Password=Tr0ub4dor&3x;", "a password= setting"),
    ("Host=db;Username=app;Pwd=hunter2hunter2", "a password= setting"),
    ("mysql:host=db;dbname=app;user=app;password=hunter2hunter2", "a password= setting"),
    ("jdbc:mysql://db:3306/app?user=app&password=hunter2hunter2", "a password= setting"),
    ("app:hunter2hunter2@tcp(db:3306)/app?parseTime=true", "MySQL DSN with a password"),
    ("app:hunter2hunter2@unix(/run/mysqld/mysqld.sock)/app", "MySQL DSN with a password"),
    ("mysql://app:hunter2hunter2@db/app", "URL with a password"),
    (GOOGLE_KEY, "Google API Key"),
    (NPM_TOKEN, "npm Token"),
    (ANTHROPIC_KEY, "Anthropic API Key"),
])
def test_the_new_credential_shapes_are_recognised(value, kind):
    assert kind in secret_kinds(value)
    assert value_reason(value).startswith("its value looks like a live credential")
    assert "live credential" in judge("HARMLESS_SOUNDING", value, WORDS)


@pytest.mark.parametrize("value", [
    "Server=db;Database=app;Password=${DB_PASSWORD};", "Password=<password>;Server=db", "Server=db;Password=;",
    "app:${MYSQL_PASSWORD}@tcp(db:3306)/app", "app@tcp(db:3306)/app", "nginx:1.27@sha256:0a1b2c3d4e5f",
    "AIza-too-short", "npm_install", "sk-ant-short", "mysql --password-stdin", "git@github.com:org/repo.git",
    # source code that passes a password along (the source zip's lines are judged too: policies/source_secrets.py)
    "db = connect(host=h, password=pw)", "password=pw,", 'engine(password=os.environ["DB_PASSWORD"])',
    # a whole line of code that reads the password from elsewhere: in prod the zip scan would block the deploy
    "password=self.password", 'password = os.environ["DB_PASSWORD"]', "password=config.db.password",
    "pwd = settings['db']['password'];",
])
def test_placeholders_and_lookalikes_are_not_credentials(value):
    assert secret_kinds(value) == ()


@pytest.mark.parametrize("value", ["password=hunter2xyz", 'password = "hunter2xyz"', "PWD=s3cr3t.pass!"])
def test_a_written_password_still_counts_next_to_code_references(value):
    assert secret_kinds(value) == ("a password= setting",)


# --- where the rule looks: every literal of a task definition -----------------------------------------------------

def _definitions(**container) -> dict:
    return {"containerDefinitions": json.dumps([{"name": "web", "environment": [], **container}])}


@pytest.mark.parametrize("field, value, where", [
    ("command", ["sh", "-c", f"curl -H 'x-goog-api-key: {GOOGLE_KEY}' https://example.com"], "command"),
    ("entryPoint", ["mysql", "--password=Tr0ub4dor3x", "-h", "db"], "entryPoint"),
    ("dockerLabels", {"traefik.auth": f"{NPM_TOKEN}"}, "docker label traefik.auth"),
    ("healthCheck", {"command": ["CMD-SHELL", f"curl -f https://u:Tr0ub4dor3x@localhost/health"]}, "health check"),
    ("environment", [{"name": "PLAIN", "value": ANTHROPIC_KEY}], "environment variable PLAIN"),
])
def test_every_literal_of_a_task_definition_is_scanned(field, value, where):
    [message] = credential_rules.no_credentials_in_values(TASK, _definitions(**{field: value}), CREDENTIALS)
    assert f"container 'web': {where} holds a literal" in message and "`secrets:`" in message


def test_a_scanned_field_without_a_credential_passes():
    clean = _definitions(command=["node", "server.js"], dockerLabels={"team": "posts"},
                         healthCheck={"command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]})
    assert credential_rules.no_credentials_in_values(TASK, clean, CREDENTIALS) == []


# --- ...and of a build, on the buildspec the program really writes ----------------------------------------------

def test_inline_dockerfiles_build_args_and_plain_build_variables_are_scanned():
    dockerfile = f"FROM node:22\nENV GOOGLE_MAPS={GOOGLE_KEY}\nRUN npm ci\n"
    builds = [ImageBuild("web", ".", "Dockerfile", args={"NODE_ENV": "production"}, dockerfile_inline=dockerfile),
              ImageBuild("worker", "worker", "worker/Dockerfile", args={"REGISTRY_TOKEN": NPM_TOKEN})]
    props = {"source": {"buildspec": buildspec_yaml(builds)},
             "environment": {"environmentVariables": [
                 {"name": "REPOSITORY_WEB", "type": "PLAINTEXT", "value": "1.dkr.ecr.us-east-1.amazonaws.com/web"},
                 {"name": "SENTRY", "type": "PLAINTEXT", "value": "https://k:Tr0ub4dor3x@sentry.example.com/1"},
                 {"name": "FROM_SM", "type": "SECRETS_MANAGER", "value": "arn:aws:secretsmanager:x:1:secret:y"}]}}
    found = credential_rules.no_credentials_in_values(CODEBUILD, props, CREDENTIALS)
    assert len(found) == 3, found
    assert "build environment variable SENTRY" in found[0] and "URL with a password" in found[0]
    assert found[1].startswith("the inline Dockerfile of container web") and "Google API Key" in found[1]
    assert found[2].startswith("build arg REGISTRY_TOKEN") and "npm Token" in found[2]
    assert credential_rules.no_credentials_in_values(CODEBUILD, props, {"allowedNames": ["SENTRY", "REGISTRY_TOKEN"]})


def test_the_generated_buildspec_alone_has_no_credential():
    builds = [ImageBuild("web", ".", "Dockerfile", dockerfile_inline="FROM scratch\n", secrets=("NPM_TOKEN",))]
    text = buildspec_yaml(builds, docker_hub_credentials="arn:aws:secretsmanager:us-east-1:1:secret:hub",
                          build_secret_ids={"NPM_TOKEN": "arn:aws:secretsmanager:us-east-1:1:secret:npm"})
    assert credential_rules.no_credentials_in_values(CODEBUILD, {"source": {"buildspec": text}}, CREDENTIALS) == []


# --- on a recorded program: a hit blocks in dev too ----------------------------------------------------------------

def test_a_credential_in_a_compose_command_label_or_health_check_blocks_the_dev_stack(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: .\n"
        f"      dockerfile_inline: \"FROM node:22\\nENV MAPS={GOOGLE_KEY}\\n\"\n"
        "    ports: [\"8080:8080\"]\n"
        "    command: [node, server.js, --db, \"Server=db;Password=Tr0ub4dor3x;\"]\n"
        f"    labels: {{registry: {NPM_TOKEN}}}\n"
        "    healthcheck: {test: [CMD-SHELL, \"curl -f https://u:Tr0ub4dor3x@localhost:8080/\"]}\n")
    result = mockrun.run(program.main, config={"apis": {"web": {"source": str(folder), "auth": False}}})
    resources = [rules.Resource(r.type, r.name, r.outputs, r.urn, r.parent_urn, "us-east-1") for r in result.resources]
    findings = [f for f in rules.evaluate(resources, settings.effective({})) if f.policy == "no-credentials-in-values"]
    assert {f.level for f in findings} == {settings.MANDATORY}
    messages = " | ".join(f.message for f in findings)
    for where in ("command holds", "docker label registry", "health check holds",
                  "the inline Dockerfile of container web"):
        assert where in messages, messages
