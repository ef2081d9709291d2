"""One call for the tests: every finding about a mock run's payloads."""
from __future__ import annotations

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
