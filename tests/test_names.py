"""components/settings/names.py: one table of AWS name limits, checked before anything is created (issue 12)."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.settings import names
from components.settings.stack import load_settings
from components.errors import ConfigError
from components.pipeline.pipeline import build_log_group_name, pipeline_name, promote_project_name
from components.registry import repository_name
from components.service import cluster_name, log_group_name, namespace_name, task_family
from components.settings.storage import table_physical_name


def test_the_table_builds_the_names_the_components_use():
    listed = names.physical_names("dev", "posts", containers=("web",), tables=("posts",), secrets=("API_TOKEN",))
    physical = {name for _key, name in listed}
    for name in (cluster_name("dev"), namespace_name("dev"), table_physical_name("dev", "posts"),
                 task_family("dev", "posts"), pipeline_name("dev", "posts"), promote_project_name("dev", "posts"),
                 build_log_group_name("dev", "posts"), repository_name("dev", "posts", "web"),
                 log_group_name("dev", "posts", "web"), "serverless-containers/dev/posts/API_TOKEN"):
        assert name in physical, name
    assert ("pipeline", pipeline_name("dev", "posts")) in listed
    # the limits cited in the table are botocore's where its models state them
    assert names.NAME_LIMITS["pipeline"].maximum == 100 and names.NAME_LIMITS["iam-role"].maximum == 64
    assert names.NAME_LIMITS["codebuild"].maximum == 150 and names.NAME_LIMITS["event-rule"].maximum == 64


def test_the_longest_stack_and_api_names_each_allowed_alone_do_not_fit_together(tmp_path: Path):
    (tmp_path / "app").mkdir()
    stack, api = "s" * 40, "a" * 38            # each within its own pattern, 101 characters as a pipeline name
    with pytest.raises(ConfigError) as error:
        load_settings({"apis": {api: {"source": "app"}}}, tmp_path, stack)
    message = str(error.value)
    assert error.value.key == f"serverless-containers:apis.{api}" and error.value.file == f"stacks/Pulumi.{stack}.yaml"
    assert "CodePipeline pipeline name" in message and "(101 characters); AWS allows 100" in message
    assert "by 1 character(s)" in message
    assert load_settings({"apis": {"a" * 37: {"source": "app"}}}, tmp_path, stack).apis   # one shorter fits


def test_every_name_of_a_typical_stack_fits():
    assert names.too_long("prod", "orders", containers=("api", "worker"), tables=("orders",)) == []


def test_a_container_name_too_long_for_ecr_is_refused_before_anything_is_created(tmp_path: Path):
    from components.prepare import prepare

    folder = tmp_path / "app"
    folder.mkdir()
    service = "w" * 240
    (folder / "Dockerfile").write_text("FROM scratch\nEXPOSE 8080\n")
    (folder / "compose.yaml").write_text(f"services:\n  {service}:\n    build: .\n    ports: [\"8080:8080\"]\n")
    settings = load_settings({"apis": {"posts": {"source": "app"}}}, tmp_path, "dev")
    with pytest.raises(ConfigError) as error:
        prepare(settings)
    assert "ECR repository name" in str(error.value) and "AWS allows 256" in str(error.value)
    assert error.value.key == "serverless-containers:apis.posts"


def test_bucket_prefix_is_cut_the_same_way_every_time():
    long = names.bucket_prefix("s" * 40, "a" * 38)
    assert len(long) <= names.BUCKET_PREFIX_MAX and long == names.bucket_prefix("s" * 40, "a" * 38)
    assert names.bucket_prefix("dev", "posts") == "dev-posts-"
