"""boto3 sessions and clients for one stack, and AWS failures turned into one clear sentence.

The region (and an optional named profile) come from the stack's config, ``aws:region`` and
``aws:profile``, so the CLI talks to the same account and region that ``pulumi up`` deployed to.
Tests swap the session factory (``session_factory``) or run everything under moto.
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ops.errors import OpsError
from ops.project import PROJECT_DIR

# (region, profile) -> a boto3.Session; replace it to hand the CLI a prepared session.
SessionFactory = Callable[[str, "str | None"], Any]


def _boto3_session(region: str, profile: str | None):
    import boto3

    try:
        return boto3.Session(region_name=region, profile_name=profile)
    except Exception as error:  # botocore.exceptions.ProfileNotFound and friends
        raise OpsError(f"AWS profile '{profile}' (from aws:profile in the stack config) cannot be used: {error}. "
                       "Fix the profile name, or remove aws:profile to use the default credentials.") from None


session_factory: SessionFactory = _boto3_session


@dataclass(frozen=True)
class StackAws:
    """Where one stack lives in AWS."""

    stack: str
    region: str
    profile: str | None = None

    def session(self):
        # One session per command: botocore loads each service model once per session.
        if self.__dict__.get("_session") is None:
            object.__setattr__(self, "_session", session_factory(self.region, self.profile))
        return self.__dict__["_session"]

    def client(self, service: str):
        return self.session().client(service, region_name=self.region)

    def require_credentials(self) -> None:
        """Stop early, with the fix, when boto3 finds no credentials at all."""
        if self.session().get_credentials() is None:
            where = f"profile '{self.profile}'" if self.profile else "the environment, ~/.aws or an instance role"
            raise OpsError(f"no AWS credentials found in {where}. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY), or run `aws configure`, then try again.")


def _stack_config_if_any(stack: str, project_dir: Path) -> dict:
    from ops.stack.stack_config import load_stack_config
    from ops.stack.stack_config import path_of

    if not path_of(stack, project_dir).is_file():
        return {}
    config, _secret_keys = load_stack_config(stack, project_dir)
    return config


def for_stack(stack: str, *, project_dir: Path = PROJECT_DIR, region: str | None = None) -> StackAws:
    """The AWS location of ``stack``: ``region`` if given (e.g. the stack's ``region`` output), else ``aws:region``."""
    config = _stack_config_if_any(stack, project_dir)
    profile = config.get("aws:profile") or None
    region = region or config.get("aws:region")
    if not region:
        import boto3

        region = boto3.Session(profile_name=profile).region_name if profile else boto3.Session().region_name
    if not region:
        raise OpsError(f"no AWS region for stack '{stack}'. Set it in stacks/Pulumi.{stack}.yaml with "
                       f"`pulumi config set aws:region us-east-1 --stack {stack}` (or set AWS_REGION).")
    return StackAws(stack=stack, region=str(region), profile=str(profile) if profile else None)


@contextlib.contextmanager
def clear_aws_errors(action: str) -> Iterator[None]:
    """Turn botocore's exceptions into an ``OpsError`` that says what we were doing and what to check."""
    from botocore import exceptions as bx

    try:
        yield
    except OpsError:
        raise
    except bx.NoCredentialsError:
        raise OpsError(f"{action}: no AWS credentials. Set AWS_PROFILE or run `aws configure`.") from None
    except bx.NoRegionError:
        raise OpsError(f"{action}: no AWS region. Set aws:region in the stack config or AWS_REGION.") from None
    except bx.ClientError as error:
        info = error.response.get("Error", {})
        code, message = info.get("Code", "Error"), info.get("Message", str(error))
        hint = ""
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            hint = " Your credentials lack this permission; use a role allowed to operate the stack."
        elif code in ("ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException",
                      "InvalidClientTokenId"):
            hint = " Your credentials are expired or invalid; refresh them (e.g. `aws sso login`)."
        elif code in ("ClusterNotFoundException", "ServiceNotFoundException", "RepositoryNotFoundException",
                      "ResourceNotFoundException", "PipelineNotFoundException"):
            hint = " Is the stack deployed (`python -m ops up`), and are the stack and region right?"
        raise OpsError(f"{action}: AWS said {code}: {message}.{hint}") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as error:
        raise OpsError(f"{action}: cannot reach AWS ({error}). Check the network and the region.") from None
    except bx.WaiterError as error:
        raise OpsError(f"{action}: {error}") from None


def aws_command(action: str) -> Callable:
    """Decorate a command function so every AWS failure inside it becomes one clear message."""
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with clear_aws_errors(action):
                return func(*args, **kwargs)
        return wrapper
    return decorate
