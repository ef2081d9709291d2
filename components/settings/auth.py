"""`existingUserPool`: sign-in with a Cognito user pool and app client the stack does not own.

Pure Python (no Pulumi import). With it, no pool or client is created: every API with `auth: true` trusts this pool
and client (components/auth.py ``TrustedUserPool``), and the stack outputs name them. The stack never changes or
deletes them. The patterns are CreateUserPool's and CreateUserPoolClient's id shapes (botocore's cognito-idp model).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

USER_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")     # UserPoolIdType, 1-55 characters: <region>_<id>
CLIENT_ID = re.compile(r"^[\w+]+$")                      # ClientIdType, 1-128 characters
EXISTING_USER_POOL_KEYS = ("userPoolId", "clientId")
STACK_KEYS = {"existingUserPool": "{userPoolId, clientId}: an existing Cognito pool and web client, never changed"}


@dataclass(frozen=True)
class ExistingUserPool:
    user_pool_id: str
    client_id: str

    @property
    def region(self) -> str:
        """A pool id starts with its region (us-east-1_AbC123): the JWT issuer's host names it."""
        return self.user_pool_id.split("_", 1)[0]


def parse_existing_user_pool(check: Any, raw: dict[str, Any]) -> ExistingUserPool | None:
    value = raw.get("existingUserPool")
    if value is None:
        return None
    spec = check.mapping("existingUserPool", value, EXISTING_USER_POOL_KEYS)
    for key in EXISTING_USER_POOL_KEYS:
        if spec.get(key) is None:
            raise check.error(f"existingUserPool.{key}", f"existingUserPool needs {key}.",
                              "set existingUserPool: {userPoolId: us-east-1_AbC123, clientId: <web client id>}.")
    pool_id = check.string("existingUserPool.userPoolId", spec["userPoolId"], pattern=USER_POOL_ID,
                           what="a Cognito user pool id like us-east-1_AbC123 (the console's User pool ID)")
    client_id = check.string("existingUserPool.clientId", spec["clientId"], pattern=CLIENT_ID,
                             what="the pool's web app client id (letters and digits, no secret)")
    if len(pool_id) > 55 or len(client_id) > 128:
        raise check.error("existingUserPool", "an id is longer than Cognito allows (pool 55, client 128 characters).",
                          "copy the ids again from the Cognito console.")
    if raw.get("userPool") is not None:
        raise check.error("userPool", "userPool configures a pool the stack creates, but existingUserPool names one it "
                                      "does not own.", "remove userPool (the existing pool keeps its own settings).")
    return ExistingUserPool(user_pool_id=pool_id, client_id=client_id)
