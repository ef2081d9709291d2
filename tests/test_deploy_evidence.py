"""The evidence behind docs/design.md "Questionable settings" (issue 12, item 8): pinned, so a newer SDK or
botocore model that changes the facts fails here and sends us back to the decision."""
from __future__ import annotations

from pathlib import Path

import botocore.session
import pulumi.dynamic

from components.providers.image_lookup import LatestImageProvider
from components.providers.pipeline_run import PipelineRunProvider


def test_the_grace_period_also_covers_container_health_checks():
    """Kept without a load balancer: ECS applies it to container health checks too (CreateService docs)."""
    model = botocore.session.get_session().get_service_model("ecs")
    doc = model.operation_model("CreateService").input_shape.members["healthCheckGracePeriodSeconds"].documentation
    assert "container health checks" in doc


def test_the_dynamic_provider_process_has_four_worker_threads():
    """Why several long pipeline waits queue (docs/design.md): pulumi's dynamic-provider server."""
    server = Path(pulumi.dynamic.__file__).with_name("__main__.py").read_text()
    assert "ThreadPoolExecutor(max_workers=4)" in server


class Request:
    def __init__(self, values: dict):
        self.config = type("Config", (), {"get": staticmethod(values.get)})()


def test_both_waiters_take_the_stacks_aws_settings_from_configure():
    values = {"aws:region": "eu-central-1", "aws:profile": "deployer",
              "aws:assumeRole": '{"roleArn": "arn:aws:iam::123456789012:role/deploy"}'}
    for provider in (LatestImageProvider(), PipelineRunProvider()):
        provider.configure(Request(values))
        assert provider.aws.region == "eu-central-1" and provider.aws.profile == "deployer"
        assert provider.aws.assume_roles[0]["roleArn"].endswith("role/deploy")
        assert "deployer" in provider.aws.describe()


def test_a_new_capacity_provider_strategy_needs_a_forced_deployment():
    """Why the service carries force_new_deployment (docs/design.md, "Fargate and Fargate Spot")."""
    model = botocore.session.get_session().get_service_model("ecs")
    doc = model.operation_model("UpdateService").input_shape.members["capacityProviderStrategy"].documentation
    assert "doesn't trigger a new service deployment" in doc
    assert "Update the Fargate launch type to an Auto Scaling group capacity provider" in doc


def test_failed_tasks_count_consecutive_failures_until_one_runs():
    """Why a first deploy's wait ends after FAILED_TASKS_LIMIT failed tasks (components/providers/service_rollout.py)."""
    model = botocore.session.get_session().get_service_model("ecs")
    doc = model.shape_for("Deployment").members["failedTasks"].documentation
    assert "consecutively failed tasks" in doc and "resets to zero" in doc
