"""The AWS session of the dynamic providers: the stack's own credentials, role and region.

The dynamic providers (``LatestImage``, ``PipelineRun``) run in Pulumi's dynamic-provider process, not in the
AWS provider, so they do not inherit its settings. Pulumi hands a dynamic provider the stack's configuration
in ``configure`` (pulumi.dynamic.ConfigureRequest: "the stack's configuration"); ``settings_from_config`` reads
the same keys the AWS provider reads, and ``session`` builds a boto3 session from them:

* ``aws:region`` (else the resource's own ``region`` input, else boto3's default chain);
* explicit keys ``aws:accessKey`` / ``aws:secretKey`` / ``aws:token``, else ``aws:profile``, else the default
  chain (environment, shared files, instance role), exactly as the AWS provider falls back;
* ``aws:assumeRoles`` (a list, assumed in order) or the older ``aws:assumeRole``: ``roleArn``, ``sessionName``,
  ``externalId``, ``duration`` (seconds, or a Go duration such as ``1h``).

The settings are read at every start of the provider process and never stored in the stack's state.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from pulumi.dynamic import ResourceProvider

AWS_CONFIG_KEYS = ("aws:region", "aws:profile", "aws:accessKey", "aws:secretKey", "aws:token",
                   "aws:assumeRole", "aws:assumeRoles")
DEFAULT_SESSION_NAME = "serverless-containers"


@dataclass(frozen=True)
class AwsSettings:
    region: str = ""
    profile: str = ""
    access_key: str = ""
    secret_key: str = ""
    token: str = ""
    assume_roles: tuple[dict, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """For messages: how the providers sign in (never a secret)."""
        how = "explicit keys" if self.access_key else (f"profile {self.profile}" if self.profile else "default chain")
        roles = " -> ".join(r.get("roleArn", "?") for r in self.assume_roles)
        return how + (f", then {roles}" if roles else "")


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def settings_from_config(get: Callable[[str], Any]) -> AwsSettings:
    """``get`` is ``ConfigureRequest.config.get`` (full keys such as ``aws:region``)."""
    roles = _parsed(get("aws:assumeRoles")) or []
    single = _parsed(get("aws:assumeRole"))
    if isinstance(roles, dict):
        roles = [roles]
    if not roles and isinstance(single, dict):
        roles = [single]
    return AwsSettings(region=str(get("aws:region") or ""), profile=str(get("aws:profile") or ""),
                       access_key=str(get("aws:accessKey") or ""), secret_key=str(get("aws:secretKey") or ""),
                       token=str(get("aws:token") or ""),
                       assume_roles=tuple(r for r in roles if isinstance(r, dict) and r.get("roleArn")))


def _seconds(duration: Any) -> int | None:
    if duration in (None, ""):
        return None
    if isinstance(duration, (int, float)):
        return int(duration)
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", str(duration))
    return sum(int(n) * units[u] for n, u in parts) if parts else int(str(duration))


def session(settings: AwsSettings, props: dict[str, Any], boto3_module: Any = None):
    """A boto3 session signed in as the stack's AWS provider is."""
    if boto3_module is None:
        import boto3 as boto3_module  # imported here: the provider runs in Pulumi's dynamic-provider process
    region = settings.region or props.get("region") or None
    if settings.access_key and settings.secret_key:
        current = boto3_module.Session(aws_access_key_id=settings.access_key,
                                       aws_secret_access_key=settings.secret_key,
                                       aws_session_token=settings.token or None, region_name=region)
    else:
        current = boto3_module.Session(profile_name=settings.profile or props.get("profile") or None,
                                       region_name=region)
    for role in settings.assume_roles:
        request: dict[str, Any] = {"RoleArn": role["roleArn"],
                                   "RoleSessionName": role.get("sessionName") or DEFAULT_SESSION_NAME}
        if role.get("externalId"):
            request["ExternalId"] = role["externalId"]
        seconds = _seconds(role.get("duration"))
        if seconds:
            request["DurationSeconds"] = seconds
        credentials = current.client("sts").assume_role(**request)["Credentials"]
        current = boto3_module.Session(aws_access_key_id=credentials["AccessKeyId"],
                                       aws_secret_access_key=credentials["SecretAccessKey"],
                                       aws_session_token=credentials["SessionToken"], region_name=region)
    return current


class StackAwsProvider(ResourceProvider):
    """Base of the dynamic providers that call AWS: ``self.aws`` is the stack's AWS settings, set by ``configure``
    in the provider process (so they are never pickled into the state with the provider)."""

    serialize_as_secret_always = False
    aws = AwsSettings()

    def configure(self, req) -> None:
        self.aws = settings_from_config(req.config.get)
