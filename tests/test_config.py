"""components/settings/ (the stack config): every key validated, every error names file, key and the valid choices."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.settings.apis import API_KEYS
from components.settings.stack import LOG_RETENTION_DAYS, TOP_LEVEL_KEYS, ExistingVpc, load_settings
from components.settings.storage import KeyAttribute
from components.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "apps" / "posts").mkdir(parents=True)
    (tmp_path / "apps" / "posts" / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\n")
    (tmp_path / "apps" / "multi").mkdir()
    (tmp_path / "apps" / "multi" / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / "apps" / "multi" / "docker-compose.prod.yml").write_text("services: {}\n")
    return tmp_path


def minimal(**extra) -> dict:
    return {"apis": {"posts": {"source": "apps/posts"}}, **extra}


def error_for(raw: dict, project: Path, stack: str = "dev") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(raw, project, stack)
    return caught.value


def test_defaults_match_the_contract(project):
    settings = load_settings(minimal(), project, "dev")
    assert settings.config_file == "stacks/Pulumi.dev.yaml"
    assert (settings.high_availability, settings.cpu_architecture, settings.fargate_spot) == (False, "X86_64", False)
    assert settings.log_retention_days == 7
    assert settings.cors_origins == ("*",)
    assert settings.existing_vpc is None and settings.storage == {}
    api = settings.apis["posts"]
    assert api.source_dir == (project / "apps" / "posts").resolve()
    assert (api.type, api.auth, api.build, api.entrypoint) == ("rest", True, "managed", None)
    assert api.compose_files == () and api.storage_access == {} and api.images == {}
    assert settings.uses_auth


def test_full_config_is_typed(project):
    raw = {
        "highAvailability": True, "cpuArchitecture": "ARM64", "fargateSpot": False, "logRetentionDays": 30,
        "corsOrigins": ["https://app.example.com", "http://localhost:3000"],
        "existingVpc": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-01", "subnet-02"]},
        "storage": {"posts": {"partitionKey": {"name": "id", "type": "N"}, "sortKey": {"name": "at", "type": "S"},
                              "pointInTimeRecovery": True}},
        "apis": {
            "posts": {"type": "graphql", "source": str(project / "apps" / "posts"), "auth": False,
                      "access": {"storage": {"posts": ["delete", "read"]}}, "build": "manual",
                      "images": {"web": "nginx:1.27"}},
            "multi": {"source": "apps/multi", "composeFiles": ["docker-compose.yml", "docker-compose.prod.yml"],
                      "entrypoint": "express", "build": "github",
                      "github": {"owner": "me", "repo": "app", "connectionArn":
                                 "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"}},
        },
    }
    settings = load_settings(raw, project, "prod")
    assert settings.high_availability and settings.cpu_architecture == "ARM64"
    assert settings.existing_vpc == ExistingVpc("vpc-0abc", ("subnet-01", "subnet-02"))
    table = settings.storage["posts"]
    assert table.partition_key == KeyAttribute("id", "N") and table.sort_key == KeyAttribute("at", "S")
    assert table.point_in_time_recovery
    posts = settings.apis["posts"]
    assert posts.type == "graphql" and not posts.auth and posts.images == {"web": "nginx:1.27"}
    # operations come back in a fixed order, whatever order the user wrote
    assert posts.storage_access == {"posts": ("read", "delete")}
    multi = settings.apis["multi"]
    assert multi.compose_files == ((project / "apps/multi/docker-compose.yml").resolve(),
                                   (project / "apps/multi/docker-compose.prod.yml").resolve())
    assert multi.github.branch == "main" and multi.github.path == ""
    assert settings.uses_auth  # multi keeps the default auth: true


def test_unknown_top_level_key_lists_valid_keys(project):
    error = error_for(minimal(highAvailabilty=True), project)
    text = str(error)
    assert "stacks/Pulumi.dev.yaml" in text
    assert "serverless-containers:highAvailabilty" in text
    for key in TOP_LEVEL_KEYS:
        assert key in error.fix


def test_unknown_api_key_names_the_path_and_choices(project):
    error = error_for({"apis": {"posts": {"source": "apps/posts", "dockerfile": "x"}}}, project)
    assert error.key == "serverless-containers:apis.posts"
    assert "dockerfile" in error.problem
    assert all(key in error.fix for key in API_KEYS)


@pytest.mark.parametrize("path, value, key, choices", [
    (("build",), "codebuild", "serverless-containers:apis.posts.build", "managed, github, manual"),
    (("type",), "soap", "serverless-containers:apis.posts.type", "rest, graphql"),
    (("auth",), "yes", "serverless-containers:apis.posts.auth", "true or false"),
])
def test_bad_api_values_list_choices(project, path, value, key, choices):
    raw = minimal()
    raw["apis"]["posts"][path[0]] = value
    error = error_for(raw, project)
    assert error.key == key and error.file == "stacks/Pulumi.dev.yaml"
    assert choices in error.fix


@pytest.mark.parametrize("key, value, fragment", [
    ("cpuArchitecture", "arm", "X86_64, ARM64"),
    ("logRetentionDays", 10, "7, 14, 30"),
    ("logRetentionDays", 0, "1, 3, 5"),
    ("highAvailability", "true", "true or false"),
    ("fargateSpot", 1, "true or false"),
    ("corsOrigins", ["https://ok.example.com/path"], "scheme://host"),
    ("corsOrigins", "*", "list"),
    ("existingVpc", {"vpcId": "vpc-1"}, "vpcId and subnetIds"),
    ("existingVpc", {"vpcId": "my-vpc", "subnetIds": ["subnet-1"]}, "vpc-0abc123"),
    ("existingVpc", {"vpcId": "vpc-1", "subnetIds": []}, "subnet ids"),
])
def test_bad_top_level_values(project, key, value, fragment):
    error = error_for(minimal(**{key: value}), project)
    assert error.key.startswith(f"serverless-containers:{key}")
    assert fragment in str(error)


def test_arm64_with_fargate_spot_is_accepted(project):
    # FARGATE_SPOT runs ARM64 Linux tasks on platform 1.4.0 (ECS API reference, CapacityProviderStrategyItem).
    settings = load_settings(minimal(cpuArchitecture="ARM64", fargateSpot=True), project, "dev")
    assert (settings.cpu_architecture, settings.fargate_spot) == ("ARM64", True)


def test_missing_source_folder(project):
    error = error_for({"apis": {"posts": {"source": "apps/nope"}}}, project)
    assert error.key == "serverless-containers:apis.posts.source"
    assert str(project / "apps" / "nope") in error.problem
    assert "folder" in error.fix


def test_missing_source_key_and_missing_apis(project):
    assert error_for({"apis": {"posts": {}}}, project).key == "serverless-containers:apis.posts.source"
    assert error_for({}, project).key == "serverless-containers:apis"
    assert error_for({"apis": {}}, project).key == "serverless-containers:apis"


def test_missing_compose_file(project):
    error = error_for({"apis": {"multi": {"source": "apps/multi", "composeFiles": ["compose.yaml"]}}}, project)
    assert error.key == "serverless-containers:apis.multi.composeFiles[0]"


@pytest.mark.parametrize("name", ["Posts", "1posts", "my_api", "a" * 41, "-x"])
def test_bad_api_names(project, name):
    error = error_for({"apis": {name: {"source": "apps/posts"}}}, project)
    assert "lowercase letters, digits and hyphens" in error.fix


def test_bad_stack_name(project):
    error = error_for(minimal(), project, stack="Dev.1")
    assert error.file == "stacks/Pulumi.Dev.1.yaml" and "stack" in error.fix


def test_access_to_unknown_table_lists_tables(project):
    raw = minimal(storage={"posts": {"partitionKey": {"name": "id", "type": "S"}}})
    raw["apis"]["posts"]["access"] = {"storage": {"comments": ["read"]}}
    error = error_for(raw, project)
    assert error.key == "serverless-containers:apis.posts.access.storage.comments"
    assert "posts" in error.fix


def test_bad_access_operation(project):
    raw = minimal(storage={"posts": {"partitionKey": {"name": "id"}}})
    raw["apis"]["posts"]["access"] = {"storage": {"posts": ["read", "write"]}}
    error = error_for(raw, project)
    assert error.key == "serverless-containers:apis.posts.access.storage.posts[1]"
    assert "create, read, update, delete" in error.fix


@pytest.mark.parametrize("table, key, fragment", [
    ({}, "partitionKey", "partition key"),
    ({"partitionKey": {"name": "id", "type": "X"}}, "partitionKey.type", "S, N, B"),
    ({"partitionKey": {"type": "S"}}, "partitionKey.name", "attribute name"),
    ({"partitionKey": {"name": "id"}, "sortKey": {"name": "id"}}, "sortKey", "partition key"),
    ({"partitionKey": {"name": "id"}, "ttl": "x"}, "", "ttl"),
])
def test_bad_tables(project, table, key, fragment):
    error = error_for(minimal(storage={"posts": table}), project)
    assert error.key == "serverless-containers:storage.posts" + (f".{key}" if key else "")
    assert fragment in str(error)


def test_build_mode_specific_keys(project):
    raw = minimal()
    raw["apis"]["posts"]["images"] = {"web": "nginx"}
    assert error_for(raw, project).key == "serverless-containers:apis.posts.images"
    raw = minimal()
    raw["apis"]["posts"]["build"] = "github"
    assert error_for(raw, project).key == "serverless-containers:apis.posts.github"
    raw["apis"]["posts"]["github"] = {"owner": "me", "repo": "app"}
    error = error_for(raw, project)   # neither a connection nor a token
    assert "githubToken" in error.fix
    load_settings({**raw, "githubToken": "ghp_x"}, project, "dev")
    raw["apis"]["posts"]["github"]["path"] = "../up"
    assert error_for({**raw, "githubToken": "t"}, project).key == "serverless-containers:apis.posts.github.path"


def test_shipped_stack_files_are_valid():
    for stack in ("dev", "prod"):
        document = yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        raw = {k.split(":", 1)[1]: v for k, v in document["config"].items() if k.startswith("serverless-containers:")}
        if not all((PROJECT_DIR / api["source"]).is_dir() for api in raw["apis"].values()):
            pytest.skip("sample apps not in the tree yet")
        settings = load_settings(raw, PROJECT_DIR, stack)
        assert set(settings.apis) == {"posts", "multi"}
        assert settings.apis["posts"].storage_access == {"posts": ("create", "read", "update", "delete")}
        assert settings.high_availability == (stack == "prod")
        assert settings.fargate_spot == (stack == "dev")


def test_project_config_schema_matches_validator():
    """Pulumi.yaml's declared defaults must be values the validator accepts, and only known keys."""
    schema = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    assert set(schema) <= set(TOP_LEVEL_KEYS)
    assert schema["logRetentionDays"]["default"] in LOG_RETENTION_DAYS
    assert all("description" in spec and "type" in spec for spec in schema.values())


json_values = st.recursive(st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=8),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(TOP_LEVEL_KEYS)), value=json_values)
def test_any_value_is_accepted_or_a_config_error(project, key, value):
    raw = minimal()
    raw[key] = value
    try:
        load_settings(raw, project, "dev")
    except ConfigError as error:
        assert error.file == "stacks/Pulumi.dev.yaml" and error.key and error.fix
        assert str(error).startswith(f"stacks/Pulumi.dev.yaml, key '{error.key}'"), str(error)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api=st.dictionaries(st.sampled_from(API_KEYS + ("other",)), json_values, max_size=5))
def test_any_api_block_is_accepted_or_a_config_error(project, api):
    try:
        load_settings({"apis": {"posts": {"source": "apps/posts", **api}}}, project, "dev")
    except ConfigError as error:
        assert error.key.startswith("serverless-containers:apis.posts") and error.fix
        assert error.file == "stacks/Pulumi.dev.yaml" and f"key '{error.key}'" in str(error), str(error)
