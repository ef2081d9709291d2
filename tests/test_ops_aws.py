"""ops/cloud/aws.py: where a stack lives, and AWS failures as one sentence with the fix."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from ops.cloud import aws
from ops.errors import OpsError
from tests.ops_fixtures import fake_credentials, no_credentials, project  # noqa: F401


def test_region_comes_from_the_stack_config_unless_given(project, fake_credentials):
    assert aws.for_stack("dev", project_dir=project).region == "eu-west-1"
    assert aws.for_stack("dev", project_dir=project, region="ap-south-1").region == "ap-south-1"
    assert aws.for_stack("dev", project_dir=project).client("ecs").meta.region_name == "eu-west-1"


def test_no_region_anywhere_names_the_config_command(project, fake_credentials, tmp_path):
    (project / "stacks" / "Pulumi.bare.yaml").write_text("config: {}\n")
    with pytest.raises(OpsError, match=r"pulumi config set aws:region us-east-1 --stack bare"):
        aws.for_stack("bare", project_dir=project)


def test_a_profile_that_does_not_exist(project, fake_credentials):
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("aws:region: eu-west-1", "aws:region: eu-west-1\n  aws:profile: nobody"))
    location = aws.for_stack("dev", project_dir=project)
    assert location.profile == "nobody"
    with pytest.raises(OpsError, match="AWS profile 'nobody' .* cannot be used"):
        location.session()


def test_missing_credentials(project, no_credentials):
    with pytest.raises(OpsError, match="no AWS credentials found .* run `aws configure`"):
        aws.for_stack("dev", project_dir=project).require_credentials()


@pytest.mark.parametrize("code, hint", [
    ("AccessDeniedException", "lack this permission"),
    ("ExpiredTokenException", "expired or invalid"),
    ("ClusterNotFoundException", "Is the stack deployed"),
    ("ThrottlingException", ""),
])
def test_client_errors_become_one_message(code, hint):
    error = ClientError({"Error": {"Code": code, "Message": "nope"}}, "DescribeServices")
    with pytest.raises(OpsError) as caught:
        with aws.clear_aws_errors("reading the status"):
            raise error
    assert str(caught.value).startswith(f"reading the status: AWS said {code}: nope.")
    assert hint in str(caught.value)


def test_no_credentials_mid_command():
    @aws.aws_command("pausing")
    def command():
        raise NoCredentialsError()
    with pytest.raises(OpsError, match="pausing: no AWS credentials. Set AWS_PROFILE"):
        command()
