"""`alerts`: where the stack's alerts go (components/alerts.py sends them).

Pure Python (no Pulumi import).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ALERTS_KEYS = ("email",)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class AlertSettings:
    """`alerts`: one SNS topic with an e-mail subscription."""

    email: str


def parse_alerts(check: Any, path: str, value: Any) -> AlertSettings:
    """``check``: the stack's Checker (components/settings/checks.py)."""
    spec = check.mapping(path, value, ALERTS_KEYS)
    email = spec.get("email")
    if not isinstance(email, str) or not EMAIL_PATTERN.match(email.strip()):
        raise check.error(f"{path}.email", f"{email!r} is not an e-mail address.",
                          "set alerts: {email: ops@example.com}; AWS sends a confirmation link to it first.")
    return AlertSettings(email=email.strip())
