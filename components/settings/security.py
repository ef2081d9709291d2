"""The security settings of the stack config (issue 14): who may sign up, egress, flow logs, recovery
windows, what `pulumi destroy` may delete, and the per-API approval and source-zip opt-ins.

Pure Python, like the rest of components/settings/: stack.py and apis.py call ``parse_stack`` and ``parse_api``
with the stack's Checker (checks.py). Defaults are the dev
defaults: cheap and simple; the sample prod stack (stacks/Pulumi.prod.yaml) turns the controls on, and
the policy pack (policies/config/prod.json) insists on them. docs/design.md, "Security settings".
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.settings.auth import USER_POOL_ID

MFA_MODES = ("off", "optional", "required")
THREAT_PROTECTION = ("off", "audit", "enforced")
TASK_EGRESS = ("all", "https")
# Secrets Manager: 0 (delete at once) or a recovery window of 7 to 30 days.
RECOVERY_WINDOWS = (0, *range(7, 31))
USER_POOL_KEYS = ("selfSignUp", "mfa", "deletionProtection", "threatProtection", "replaces")
# On the access-log and flow-log groups: policy max-log-retention caps them with maxSecurityLogRetentionDays instead
# of the cost cap (catalog/resources.py LOG_KIND_TAG, SECURITY_LOGS; tests check they agree).
SECURITY_LOG_TAGS = {"serverless-containers:logs": "security"}

# key -> (what it is, default), merged into components.settings.stack.TOP_LEVEL_KEYS for messages.
STACK_KEYS = {
    "userPool": "{selfSignUp: false, mfa: off|optional|required, deletionProtection: false, "
                "threatProtection: off|audit|enforced, replaces: OLD_POOL_ID}",
    "taskEgress": "all | https, default all",
    "vpcFlowLogs": "bool, default false",
    "secretRecoveryWindowDays": "0 or 7-30, default 0",
    "forceDestroy": "bool, default true",
    "securityLogRetentionDays": "days for the access and flow logs, default logRetentionDays",
}
API_KEYS = ("approval", "includeSensitiveFiles")


@dataclass(frozen=True)
class UserPoolSettings:
    """`userPool`: the Cognito pool shared by every API with `auth: true`."""

    self_sign_up: bool = False
    """False (default): only administrators create users (AdminCreateUser); the public client id cannot
    be used to sign up. True: anyone who knows the client id can create an account."""
    mfa: str = "off"
    """off | optional | required: TOTP (authenticator app) MFA; no SMS, so no SMS bill."""
    deletion_protection: bool = False
    """True: Cognito refuses to delete the pool (and its users), `pulumi destroy` included."""
    threat_protection: str = "off"
    """off | audit | enforced: Cognito threat protection (compromised-credential and account-takeover checks) for
    password sign-in. audit only logs risk; enforced acts on it (Security Hub Cognito.1). Either needs the Plus
    feature plan, billed per monthly active user with no free tier (docs/design.md, "Cognito threat protection")."""
    replaces: str | None = None
    """The id of an older pool (e.g. Amplify's) whose users the new pool does not have. It changes no resource: the
    plan and the deploy warn that the new pool starts empty and say how users can come across."""


@dataclass(frozen=True)
class SecuritySettings:
    """The stack-wide security settings, validated."""

    user_pool: UserPoolSettings = UserPoolSettings()
    task_egress: str = "all"
    """all: tasks may call anything (any protocol, any port). https: TCP 443 only (AWS APIs, ECR, most
    web APIs); DNS to the VPC resolver is never filtered by security groups."""
    vpc_flow_logs: bool = False
    """True: the created VPC's flow logs (all traffic) go to a CloudWatch log group with the stack's
    retention. Billed per GB ingested (catalog/pricing.json); off in dev."""
    secret_recovery_window_days: int = 0
    """0: a deleted secret is gone at once (the name is free again). 7-30: it can be restored that long."""
    security_log_retention_days: int | None = None
    """Retention of the API access logs and the VPC flow logs (who called what, which traffic flowed): None keeps
    them `logRetentionDays`. Security Hub's CloudWatch.16 asks for at least 365; the sample prod stack keeps 365."""
    force_destroy: bool = True
    """True: `pulumi destroy` empties and deletes the artifact bucket and the ECR repositories. False:
    they are deleted only when empty, so a destroy by mistake stops before the images and sources go."""


def parse_stack(check: Any, raw: dict[str, Any], retention_days: tuple[int, ...] = ()) -> SecuritySettings:
    """``retention_days``: the CloudWatch retention values (components/settings/stack.py owns the list)."""
    values: dict[str, Any] = {}
    if raw.get("userPool") is not None:
        values["user_pool"] = _user_pool(check, raw["userPool"])
    if raw.get("taskEgress") is not None:
        values["task_egress"] = check.choice("taskEgress", raw["taskEgress"], TASK_EGRESS)
    if raw.get("vpcFlowLogs") is not None:
        values["vpc_flow_logs"] = check.boolean("vpcFlowLogs", raw["vpcFlowLogs"])
    if raw.get("secretRecoveryWindowDays") is not None:
        window = raw["secretRecoveryWindowDays"]
        if isinstance(window, bool) or window not in RECOVERY_WINDOWS:
            raise check.error("secretRecoveryWindowDays", f"{window!r} is not a Secrets Manager recovery window.",
                              "use 0 (delete at once) or a number of days from 7 to 30.")
        values["secret_recovery_window_days"] = int(window)
    if raw.get("forceDestroy") is not None:
        values["force_destroy"] = check.boolean("forceDestroy", raw["forceDestroy"])
    if raw.get("securityLogRetentionDays") is not None:
        values["security_log_retention_days"] = check.choice("securityLogRetentionDays",
                                                             raw["securityLogRetentionDays"], retention_days)
    return SecuritySettings(**values)


def _user_pool(check: Any, value: Any) -> UserPoolSettings:
    spec = check.mapping("userPool", value, USER_POOL_KEYS)
    values: dict[str, Any] = {}
    if spec.get("selfSignUp") is not None:
        values["self_sign_up"] = check.boolean("userPool.selfSignUp", spec["selfSignUp"])
    if spec.get("mfa") is not None:
        mfa = spec["mfa"]
        # YAML 1.1 reads a bare `off` as false
        mfa = "off" if mfa is False else mfa
        values["mfa"] = check.choice("userPool.mfa", mfa, MFA_MODES)
    if spec.get("deletionProtection") is not None:
        values["deletion_protection"] = check.boolean("userPool.deletionProtection", spec["deletionProtection"])
    if spec.get("threatProtection") is not None:
        mode = "off" if spec["threatProtection"] is False else spec["threatProtection"]   # YAML 1.1: bare off
        values["threat_protection"] = check.choice("userPool.threatProtection", mode, THREAT_PROTECTION)
    if spec.get("replaces") is not None:
        values["replaces"] = check.string("userPool.replaces", spec["replaces"], pattern=USER_POOL_ID,
                                          what="the old pool's id like us-east-1_AbC123 (the console's User pool ID)")
        if len(values["replaces"]) > 55:
            raise check.error("userPool.replaces", "the id is longer than Cognito allows (55 characters).",
                              "copy the old pool's id again from the Cognito console.")
    return UserPoolSettings(**values)


def parse_api(check: Any, path: str, spec: dict[str, Any], source_dir: Path | None = None,
              build: str = "managed") -> dict[str, Any]:
    """The ApiSettings fields of `approval` and `includeSensitiveFiles` (files must exist in ``source_dir``)."""
    values: dict[str, Any] = {}
    if spec.get("approval") is not None:
        values["approval"] = check.boolean(f"{path}.approval", spec["approval"])
    if spec.get("includeSensitiveFiles") is not None:
        files = check.string_list(f"{path}.includeSensitiveFiles", spec["includeSensitiveFiles"],
                                  what="paths relative to the API folder, e.g. .env.example")
        for i, item in enumerate(files):
            normal = posixpath.normpath(item.strip())
            if item.startswith("/") or normal.startswith(".."):
                raise check.error(f"{path}.includeSensitiveFiles[{i}]", f"{item!r} is not inside the API folder.",
                                  "use a path relative to the API's source folder, e.g. .env.example.")
        if build != "managed":
            raise check.error(f"{path}.includeSensitiveFiles", f"only the managed source zip leaves files out (this "
                              f"API has build: {build}).", "remove includeSensitiveFiles.")
        for i, item in enumerate(files):
            if source_dir is not None and not (Path(source_dir) / posixpath.normpath(item.strip())).is_file():
                raise check.error(f"{path}.includeSensitiveFiles[{i}]", f"{item!r} is not a file in {source_dir}.",
                                  "list files of the API's source folder, relative to it.")
        values["include_sensitive_files"] = tuple(posixpath.normpath(f.strip()) for f in files)
    return values
