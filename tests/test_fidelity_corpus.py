"""Cloud fidelity for the compose corpus: every corpus file the loader accepts, deployed as the one API of
the dev stack, produces payloads botocore's models accept (and, when it builds images, that moto accepts).

The corpus has compose files only, so each runs on a copy with stub Dockerfiles where a build context is
missing. A case is skipped only when the program refuses the app with a ConfigError (by design, e.g. a
build context outside the API's folder); the skip says why.
"""
from __future__ import annotations

import pytest

from components.errors import ConfigError
from tests.conftest import CORPUS_DIR, requires_corpus
from tests.fidelity import aws_requests, cases, moto_smoke
from tests.fidelity.checks import findings, new_findings, operations

CORPUS = cases.corpus_cases()
pytestmark = requires_corpus


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus") / "corpus"


@pytest.mark.parametrize("relative", sorted(CORPUS))
def test_corpus_app_payloads_are_valid(relative, corpus_copy):
    case = CORPUS[relative]
    compose = cases.prepare_corpus_app(CORPUS_DIR, corpus_copy, relative, case)
    try:
        with cases.environment(case.environ):
            result = cases.run_config("dev", cases.corpus_overrides(compose, case))
    except ConfigError as error:
        pytest.skip(f"the program refuses this app by design: {error}")
    found, translation = findings(result)
    found = new_findings(found)
    assert not found, "\n".join(found)
    made = operations(translation)
    assert {("ecs", "RegisterTaskDefinition"), ("ecs", "CreateService"), ("apigatewayv2", "CreateRoute")} <= made
    if ("codepipeline", "CreatePipeline") in made:
        # Apps that build images get the whole pipeline: deploy them to moto too.
        report = moto_smoke.smoke_deploy(result, translation)
        assert not report.failures, "\n".join(report.failures)


def test_most_corpus_apps_run():
    """The skip above is for the odd refusal, not a way to pass: nearly every loadable file must run."""
    assert len(CORPUS) >= 30
