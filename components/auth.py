"""Cognito sign-in: one user pool and one web client per stack, shared by every API with `auth: true`."""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


# userPool.mfa -> Cognito's MfaConfiguration
MFA_CONFIGURATION = {"off": "OFF", "optional": "OPTIONAL", "required": "ON"}
# What a signed-in user may change about themselves through the web client (UpdateUserAttributes). Not `email`:
# it is the sign-in name and a claim apps key on, so only an administrator changes it (and Cognito still asks the
# user to verify a new address before using it). Not `phone_number` either (a contact attribute nothing verifies).
# Cognito's standard attributes; without this list a client may write all of them (docs/design.md, "Tokens").
CLIENT_WRITABLE_ATTRIBUTES = ("address", "birthdate", "family_name", "gender", "given_name", "locale", "middle_name",
                              "name", "nickname", "picture", "profile", "updated_at", "website", "zoneinfo")
# Attributes whose change takes effect only once the user confirmed the code sent to the new value.
VERIFY_BEFORE_UPDATE = ("email",)

# userPool.threatProtection -> UserPoolAddOns.AdvancedSecurityMode; audit and enforced need the PLUS feature plan
ADVANCED_SECURITY_MODE = {"audit": "AUDIT", "enforced": "ENFORCED"}
THREAT_PROTECTION_TIER = "PLUS"


def threat_protection_inputs(mode: str) -> dict:
    """The UserPool inputs of userPool.threatProtection: the Plus plan and the add-on's mode; none when off."""
    if mode not in ADVANCED_SECURITY_MODE:
        return {}
    return {"user_pool_tier": THREAT_PROTECTION_TIER,
            "user_pool_add_ons": {"advanced_security_mode": ADVANCED_SECURITY_MODE[mode]}}


def issuer_url(region: str, user_pool_id: str) -> str:
    """The JWT issuer API Gateway checks tokens against."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@dataclass
class AuthArgs:
    stack: str
    region: str
    password_minimum_length: int = 12
    """Cognito's default is 8; 12 with mixed character classes resists guessing far better."""
    deletion_protection: bool = False
    """False: the pool (and its users) are deleted with the stack. Turn on for a production pool you keep."""
    self_sign_up: bool = False
    """False: only administrators create users (the app client id is public, so self sign-up would let
    anyone create an account and call every API with `auth: true`). True: anyone may sign up."""
    mfa: str = "off"
    """off | optional | required: TOTP MFA (an authenticator app). SMS is not offered: it needs an SNS
    role and is billed per message."""
    threat_protection: str = "off"
    """off | audit | enforced: Cognito threat protection on the Plus feature plan (billed per active user). off
    leaves the pool's feature plan and add-ons unset, as before."""
    access_token_validity_minutes: int = 60
    refresh_token_validity_days: int = 30
    tags: dict[str, str] = field(default_factory=dict)


class Auth(pulumi.ComponentResource):
    """Email sign-in; the client has no secret (a browser or phone app cannot keep one) and uses SRP. The client
    cannot write `email`, and an email change waits for the new address to be verified."""

    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    client_id: pulumi.Output[str]
    issuer: pulumi.Output[str]

    def __init__(self, name: str, args: AuthArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:auth:Auth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool = aws.cognito.UserPool(
            f"{name}-users",
            name=f"serverless-containers-{args.stack}",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration={"case_sensitive": False},
            password_policy={"minimum_length": args.password_minimum_length, "require_lowercase": True,
                             "require_uppercase": True, "require_numbers": True, "require_symbols": False,
                             "temporary_password_validity_days": 7},
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            # an address change (by an administrator) keeps the old, verified email until the new one is confirmed
            user_attribute_update_settings={"attributes_require_verification_before_updates": list(VERIFY_BEFORE_UPDATE)},
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            admin_create_user_config={"allow_admin_create_user_only": not args.self_sign_up},
            mfa_configuration=MFA_CONFIGURATION[args.mfa],
            software_token_mfa_configuration={"enabled": True} if args.mfa != "off" else None,
            **threat_protection_inputs(args.threat_protection),
            tags=args.tags, opts=child)
        client = aws.cognito.UserPoolClient(
            f"{name}-web",
            name=f"serverless-containers-{args.stack}-web",
            user_pool_id=pool.id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            # email is read-only for the user: the ID token's email claim is the one an administrator set and
            # the user verified, never one the user typed (issue 23)
            write_attributes=list(CLIENT_WRITABLE_ATTRIBUTES),
            enable_token_revocation=True,
            access_token_validity=args.access_token_validity_minutes,
            id_token_validity=args.access_token_validity_minutes,
            refresh_token_validity=args.refresh_token_validity_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=child)
        self.user_pool_id = pool.id
        self.user_pool_arn = pool.arn
        self.client_id = client.id
        self.issuer = pool.id.apply(lambda pool_id: issuer_url(args.region, pool_id))
        self.register_outputs({"userPoolId": pool.id, "userPoolClientId": client.id, "issuer": self.issuer})


@dataclass(frozen=True)
class TrustedUserPool:
    """A pool and web client the stack does not own (`existingUserPool`): nothing is created, never changed or
    deleted; the APIs' JWT authorizers trust it. Offers what the program reads of ``Auth``."""

    user_pool_id: str
    client_id: str
    region: str
    """The pool's own region (its id's prefix): the issuer's host."""

    @property
    def issuer(self) -> str:
        return issuer_url(self.region, self.user_pool_id)
