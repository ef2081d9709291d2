"""One call for the tests: every finding about a mock run's payloads."""
from __future__ import annotations

import re

from tests.fidelity import aws_requests, validate


def findings(result) -> tuple[list[str], aws_requests.Translation]:
    """Mapping gaps, model/document problems of each request, and broken references between them."""
    translation = aws_requests.translate(result.resources)
    found = list(translation.problems)
    for request in translation.requests:
        found += validate.problems(request)
    found += validate.graph_problems(translation.requests, result.resources)
    return found, translation


def operations(translation: aws_requests.Translation) -> set[tuple[str, str]]:
    return {(r.service, r.operation) for r in translation.requests}


# Bugs found in other components' payloads. Each has its own test in tests/test_fidelity.py that asserts the correct
# behaviour (and fails until the owner fixes it); the per-stack tests leave those findings to it, so a
# new problem still shows up there.
OPEN_BUGS = {
    "security-group-rule-apostrophe": re.escape("characters not allowed: [\"'\"]"),
    "arm64-on-fargate-spot": "Fargate Spot does not run ARM64 tasks",
    "iam-role-autoname-too-long": r"iam\.(CreateRole|PutRolePolicy): RoleName: \d+ characters, the model allows at most 64",
}


def new_findings(found: list[str]) -> list[str]:
    return [f for f in found if not any(re.search(pattern, f) for pattern in OPEN_BUGS.values())]


def open_bug(name: str, found: list[str]) -> list[str]:
    return [f for f in found if re.search(OPEN_BUGS[name], f)]
