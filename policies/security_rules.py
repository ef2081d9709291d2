"""The security guardrails (issue 14) as pure functions, registered in policies/rules.py beside the cost rules.

Same contract as policies/rules.py: a resource rule takes (type token, camelCase properties, settings) and returns
messages; a stack rule takes every resource and returns (resource or None, message) pairs; a value only known
after the deploy (``UNKNOWN``) is never a violation. Each rule judges what a stack setting produced
(docs/design.md, "Security"), so the fix named in a message is the stack-config key to set.
"""
from __future__ import annotations

import shlex
from typing import Any, Mapping, Sequence

import yaml

from catalog.resources import (
    CODEBUILD, DEFAULT_SECURITY_GROUP, DYNAMODB_TABLE, ECR_REPOSITORY, FLOW_LOG, HTTP_API, HTTP_STAGE, PIPELINE,
    S3_BUCKET_POLICY, S3_BUCKETS, SAMPLE_VALUE_TAG, SECRET, SECURITY_GROUP_EGRESS, UNKNOWN, USER_POOL, Resource,
    as_list, block, json_document, known, number, of_type)
from policies.secret_values import name_reason, secret_kinds

VPC = "aws:ec2/vpc:Vpc"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
MFA_ORDER = {"OFF": 0, "OPTIONAL": 1, "ON": 2}
MFA_SETTING = {"off": "OFF", "optional": "OPTIONAL", "required": "ON"}
THREAT_ORDER = {"OFF": 0, "AUDIT": 1, "ENFORCED": 2}
THREAT_SETTING = {"off": "OFF", "audit": "AUDIT", "enforced": "ENFORCED"}
StackFindings = list[tuple[Resource | None, str]]


# ---------------------------------------------------------------------------------------------- resource rules


def user_pool_sign_up(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Who may create accounts, and how strong sign-in is (userPool: {selfSignUp, mfa})."""
    if resource_type != USER_POOL:
        return []
    found = []
    config = props.get("adminCreateUserConfig")
    admin_only = UNKNOWN if config is UNKNOWN else block(config).get("allowAdminCreateUserOnly")
    if not settings.get("allowSelfSignUp") and admin_only is not UNKNOWN and admin_only is not True:
        found.append("lets anyone create an account (self sign-up), and the app client id is public, so every API "
                     "with auth: true is open to strangers. Set userPool.selfSignUp: false in the stack config and "
                     "create users as an administrator (aws cognito-idp admin-create-user).")
    mfa = props.get("mfaConfiguration") or "OFF"
    wanted = MFA_SETTING[settings.get("minimumMfa", "off")]
    if known(mfa) and MFA_ORDER.get(str(mfa), 0) < MFA_ORDER[wanted]:
        found.append(f"has MFA {str(mfa).lower()}, and this environment asks for at least "
                     f"{settings.get('minimumMfa')}. Set userPool.mfa: {settings.get('minimumMfa')} (TOTP).")
    add_ons = props.get("userPoolAddOns")
    mode = "OFF" if add_ons is None else (UNKNOWN if add_ons is UNKNOWN else block(add_ons).get("advancedSecurityMode"))
    wanted = settings.get("minimumThreatProtection", "off")
    if known(mode) and THREAT_ORDER.get(str(mode or "OFF"), 0) < THREAT_ORDER[THREAT_SETTING[wanted]]:
        found.append(f"has Cognito threat protection {str(mode or 'OFF').lower()}, and this environment asks for at "
                     f"least {wanted}. Set userPool.threatProtection: {wanted} (the Plus feature plan, billed per "
                     f"monthly active user).")
    return found


def deletion_protection(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Tables and the user pool survive a `pulumi destroy` by mistake where the environment requires it."""
    if not settings.get("required"):
        return []
    if resource_type == DYNAMODB_TABLE:
        protected = props.get("deletionProtectionEnabled")
        if protected is not UNKNOWN and protected is not True:
            return ["can be deleted (with its data) by `pulumi destroy` or a replacement. Set "
                    "storage.<table>.deletionProtection: true in the stack config."]
    if resource_type == USER_POOL:
        protected = props.get("deletionProtection")
        if known(protected) and protected != "ACTIVE":
            return ["can be deleted with every user account. Set userPool.deletionProtection: true."]
    return []


def point_in_time_recovery(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Tables can be restored to any second of the last 35 days where the environment requires it: deletion
    protection stops a `destroy`, but not a bad write or a delete by the app (issue 23)."""
    if not settings.get("required") or resource_type != DYNAMODB_TABLE:
        return []
    recovery = props.get("pointInTimeRecovery")
    enabled = UNKNOWN if recovery is UNKNOWN else block(recovery).get("enabled")
    if enabled is UNKNOWN or enabled is True:
        return []
    return ["has no point-in-time recovery, so a bad write or a deleted item cannot be undone. Set "
            "storage.<table>.pointInTimeRecovery: true in the stack config (billed per GB of table data)."]


def no_force_destroy(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """`pulumi destroy` must not empty the artifact bucket or the image repositories (forceDestroy: false)."""
    if not settings.get("forbidForceDestroy"):
        return []
    key = "forceDestroy" if resource_type in S3_BUCKETS else "forceDelete" if resource_type == ECR_REPOSITORY else ""
    if key and props.get(key) is True:
        what = "objects" if key == "forceDestroy" else "images"
        return [f"is deleted with all its {what} by `pulumi destroy` ({key}). Set forceDestroy: false in the stack "
                f"config."]
    return []


def secret_recovery_window(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != SECRET:
        return []
    days = number(props.get("recoveryWindowInDays"))
    minimum = settings["minRecoveryWindowDays"]
    if props.get("recoveryWindowInDays") is UNKNOWN or minimum <= 0:
        return []
    days = 30 if days is None else days       # AWS's default when the property is not set
    if days < minimum:
        return [f"is deleted {'at once' if days == 0 else f'after {days:g} days'} when removed; this environment "
                f"keeps deleted secrets restorable for at least {minimum} days. Set secretRecoveryWindowDays: "
                f"{max(minimum, 7)} (7 to 30) in the stack config."]
    return []


def no_sample_secrets(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """A secret created with the value of a committed `apps/secrets/.secret-*` sample: known to anyone with the
    repository. The program tags it (the value itself reaches the pack as a Pulumi secret)."""
    if resource_type != SECRET:
        return []
    tags = props.get("tags")
    sample = tags.get(SAMPLE_VALUE_TAG) if isinstance(tags, Mapping) else None
    if not known(sample) or not sample:
        return []
    return [f"holds the value of the committed sample {sample}, which anyone with this repository knows. Put a real "
            f"value in the secret's .secret- file, or give it with secretValues (pulumi config set --secret) or "
            f"secretArns in the stack config."]


def pipeline_approval(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """A manual approval stands before every stage that deploys (approval: true)."""
    if resource_type != PIPELINE or not settings.get("requireApproval"):
        return []
    stages = props.get("stages")
    if not known(stages):
        return []
    approved = False
    for stage in as_list(stages):
        actions = as_list(stage.get("actions"))
        if any(a.get("category") == "Approval" for a in actions):
            approved = True
        if any(a.get("category") == "Deploy" for a in actions) and not approved:
            return [f"deploys (stage {stage.get('name')!r}) with no manual approval before it, and this environment "
                    f"requires one. Set approval: true on the API in the stack config."]
    return []


# Origins a production page is never served from: a local development server, or plain HTTP (a network
# attacker can inject script into such a page and call the API with the user's token).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0")


def _weak_origin(origin: str) -> str:
    """Why a CORS origin has no place in an environment that forbids the wildcard ("" when it is fine)."""
    if origin == "*":
        return "any origin (\"*\")"
    host = origin.split("://", 1)[-1].split("/", 1)[0].lower()
    host = host if host.startswith("[") else host.split(":", 1)[0]
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return f"the local address {origin}"
    if origin.lower().startswith("http://"):
        return f"the plain-HTTP origin {origin}"
    return ""


def cors_origins(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Where the wildcard is forbidden (prod), so are localhost and http:// origins: names, not weaker stand-ins."""
    if resource_type != HTTP_API or not settings.get("forbidWildcard"):
        return []
    origins = block(props.get("corsConfiguration")).get("allowOrigins")
    if not known(origins):
        return []
    weak = [reason for reason in (_weak_origin(str(o)) for o in origins or [] if known(o)) if reason]
    if weak:
        return [f"lets web pages from {', '.join(weak)} call it from a browser. Name only the HTTPS origins your "
                f"app is served from in corsOrigins in the stack config, e.g. [https://app.example.com]."]
    return []


def api_access_logs(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != HTTP_STAGE:
        return []
    settings_block = props.get("accessLogSettings")
    if settings_block is UNKNOWN or block(settings_block).get("destinationArn") is UNKNOWN:
        return []
    if not block(settings_block).get("destinationArn"):
        return ["writes no access log: who called which route, from where, with what result, is not recorded. "
                "Set accessLogSettings with a JSON format (components/api.py does)."]
    return []


def ecr_tag_immutability(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    if resource_type != ECR_REPOSITORY:
        return []
    mode = props.get("imageTagMutability") or "MUTABLE"
    if not known(mode):
        return []
    allowed = set(settings.get("mutableTags") or [])
    if mode == "MUTABLE":
        return ["lets any tag be pushed again with another image. Make tags immutable, excluding only the moving "
                "tags (imageTagMutability IMMUTABLE_WITH_EXCLUSION)."]
    if mode in ("IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"):
        filters = [f.get("filter") for f in as_list(props.get("imageTagMutabilityExclusionFilters"))]
        mutable = set(filters) if mode == "IMMUTABLE_WITH_EXCLUSION" else {"everything but " + ", ".join(filters)}
        extra = sorted(t for t in mutable if known(t) and t not in allowed)
        if extra:
            return [f"lets tag(s) {', '.join(extra)} move; only {', '.join(sorted(allowed)) or 'none'} may "
                    f"(mutableTags)."]
    return []


def no_secrets_in_build_args(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """`--build-arg` values end up in the buildspec (the Pulumi state), the build log and the image's history.
    Judged by name here; a value shaped like a live credential is `no-credentials-in-values`'."""
    if resource_type != CODEBUILD:
        return []
    text = block(props.get("source")).get("buildspec")
    if not known(text) or not isinstance(text, str):
        return []
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    commands = [c for phase in (spec or {}).get("phases", {}).values() if isinstance(phase, Mapping)
                for c in phase.get("commands") or [] if isinstance(c, str)]
    allowed = set(settings.get("allowedNames") or [])
    found = []
    for command in commands:
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        for flag, argument in zip(words, words[1:]):
            if flag != "--build-arg" or "=" not in argument:
                continue
            name, value = argument.split("=", 1)
            if name in allowed or secret_kinds(value):    # a credential's shape: no-credentials-in-values
                continue
            reason = name_reason(name, value, settings["secretWords"])
            if reason:
                found.append(f"passes build arg {name} on the docker build command line and {reason}: it lands in "
                             f"the buildspec, the Pulumi state, the build log and the image history. Pass build-time "
                             f"credentials as BuildKit secrets (compose build.secrets, `RUN --mount=type=secret`), "
                             f"or list {name} in allowedNames.")
    return found


# ------------------------------------------------------------------------------------------------- stack rules


def _denies_plain_http(policy: Any) -> bool:
    for statement in (policy or {}).get("Statement", []) if isinstance(policy, Mapping) else []:
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


def s3_tls_only(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    policies = of_type(resources, S3_BUCKET_POLICY)
    found: StackFindings = []
    for bucket in of_type(resources, *S3_BUCKETS):
        names = {str(bucket.props.get(k)) for k in ("bucket", "id") if known(bucket.props.get(k))}
        attached = [p for p in policies if (known(p.props.get("bucket")) and str(p.props.get("bucket")) in names)
                    or (not known(p.props.get("bucket")) and p.parent_urn == bucket.parent_urn)]
        documents = [json_document(p.props.get("policy")) for p in attached]
        if any(d is UNKNOWN for d in documents):
            continue
        if not any(_denies_plain_http(d) for d in documents):
            found.append((bucket, "accepts requests over plain HTTP: no bucket policy denies aws:SecureTransport "
                                  "false (FSBP S3.5)."))
    return found


def default_security_group(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    """A VPC the stack creates has its default security group managed with no rules (CIS 5.4, FSBP EC2.2)."""
    groups = of_type(resources, DEFAULT_SECURITY_GROUP)
    found: StackFindings = []
    for vpc in of_type(resources, VPC):
        mine = [g for g in groups if g.props.get("vpcId") in (vpc.props.get("id"), UNKNOWN)
                or g.parent_urn == vpc.parent_urn]
        if not mine:
            found.append((vpc, "leaves its default security group as AWS made it (all traffic within the group "
                               "allowed). Manage it with no rules (aws.ec2.DefaultSecurityGroup)."))
        for group in mine:
            rules = [r for key in ("ingress", "egress") for r in as_list(group.props.get(key))]
            if rules:
                found.append((group, "has rules; the default security group should deny everything."))
    return found


def _used_vpc_ids(resources: Sequence[Resource]) -> set[Any]:
    """The VPCs the stack's resources live in: the VPCs it creates, and the one its security groups name (an
    `existingVpc` is not a resource of the stack). ``UNKNOWN`` when an id is only known after the deploy."""
    ids = {vpc.props.get("id", UNKNOWN) for vpc in of_type(resources, VPC)}
    ids |= {group.props.get("vpcId", UNKNOWN) for group in of_type(resources, SECURITY_GROUP)}
    return {i if known(i) else UNKNOWN for i in ids if i is not None}


def vpc_flow_logs(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    """Each VPC the stack uses, created or `existingVpc`, has a flow log of the stack's, when required."""
    if not settings.get("required"):
        return []
    logs = of_type(resources, FLOW_LOG)
    logged = {log.props.get("vpcId") if known(log.props.get("vpcId")) else UNKNOWN for log in logs}
    used = _used_vpc_ids(resources)
    if not logs:
        missing = sorted(str(i) for i in used if i is not UNKNOWN) or ["the stack's VPC"]
    elif UNKNOWN in logged:
        missing = []       # a flow log whose VPC is only known after the deploy: never a violation we cannot prove
    else:
        missing = sorted(str(i) for i in used if i is not UNKNOWN and i not in logged)
    return [(None, f"{vpc} has no flow log, and this environment requires one. Set vpcFlowLogs: true in the stack "
                   f"config (the plan shows its cost; with existingVpc the stack creates the flow log for that VPC).")
            for vpc in missing]


def task_egress(resources: Sequence[Resource], settings: Mapping[str, Any]) -> StackFindings:
    """Tasks may call out only on HTTPS where the environment says so (taskEgress: https)."""
    if settings.get("allowedEgress", "all") == "all":
        return []
    found: StackFindings = []
    for rule in of_type(resources, SECURITY_GROUP_EGRESS):
        props = rule.props
        if not known(props.get("cidrIpv4")) or props.get("cidrIpv4") is None:
            continue      # a rule to another security group (the VPC link's) is not egress to the internet
        protocol, low, high = props.get("ipProtocol"), number(props.get("fromPort")), number(props.get("toPort"))
        if not known(protocol):
            continue
        if str(protocol) in ("-1", "all") or not (str(protocol) == "tcp" and low == 443 and high == 443):
            found.append((rule, f"lets tasks call {props.get('cidrIpv4')} on protocol {protocol}"
                                f"{'' if str(protocol) in ('-1', 'all') else f' ports {low:g}-{high:g}'}; this "
                                f"environment allows HTTPS (TCP 443) only. Set taskEgress: https in the stack config."))
    return found
