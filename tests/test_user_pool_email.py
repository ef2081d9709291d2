"""Issue 23, item 6: a signed-in user cannot rewrite their own `email` claim.

Before: no `userAttributeUpdateSettings` and no client `writeAttributes`, so UpdateUserAttributes through the public web
client changed `email` at once, unverified, and the next ID token carried whatever address the user typed.
docs/design.md, "Tokens: which one to send, what to trust"."""
from __future__ import annotations

import pytest

from components.auth import CLIENT_WRITABLE_ATTRIBUTES
from ops.plan import mockrun
from tests.infra_helpers import botocore_errors, write_dockerfile_app

program = pytest.importorskip("components.program")

# Cognito's standard user attributes (the OpenID Connect set Cognito documents for every pool).
STANDARD_ATTRIBUTES = {"address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name",
                       "name", "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at",
                       "website", "zoneinfo"}


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    app = write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")
    return mockrun.run(program.main, config={"apis": {"web": {"source": str(app), "auth": True}}})


def test_an_email_change_waits_for_the_new_address_to_be_verified(signed_in):
    pool = signed_in.one("aws:cognito/userPool:UserPool").inputs
    assert pool["userAttributeUpdateSettings"] == {"attributesRequireVerificationBeforeUpdates": ["email"]}
    # Cognito accepts the setting only for attributes it verifies automatically
    assert "email" in pool["autoVerifiedAttributes"]


def test_the_web_client_cannot_write_email(signed_in):
    client = signed_in.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    writable = client["writeAttributes"]
    # an empty or missing list would let the client write every standard attribute, email included
    assert writable and "email" not in writable and "phone_number" not in writable
    assert set(writable) <= STANDARD_ATTRIBUTES
    assert sorted(writable) == sorted(CLIENT_WRITABLE_ATTRIBUTES)


def test_the_attribute_settings_are_valid_cognito_requests(signed_in):
    pool = signed_in.one("aws:cognito/userPool:UserPool").inputs
    client = signed_in.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert botocore_errors("cognito-idp", "UpdateUserPool", {
        "UserPoolId": "us-east-1_abc", "AutoVerifiedAttributes": pool["autoVerifiedAttributes"],
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate":
                                        pool["userAttributeUpdateSettings"]["attributesRequireVerificationBeforeUpdates"]}}) == ""
    assert botocore_errors("cognito-idp", "CreateUserPoolClient", {
        "UserPoolId": "us-east-1_abc", "ClientName": client["name"], "WriteAttributes": client["writeAttributes"]}) == ""
