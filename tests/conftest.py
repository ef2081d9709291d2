import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR.parent / "shared" / "compose-corpus"
sys.path.insert(0, str(PROJECT_DIR))

# The compose corpus lives beside the repository (../shared/compose-corpus), not in it. On a clone without it the
# tests that read it skip, saying so; tests/test_compose_corpus_fixtures.py covers the same behaviours on fixtures
# written by the tests themselves.
requires_corpus = pytest.mark.skipif(
    not CORPUS_DIR.is_dir(),
    reason=f"the compose corpus is not at {CORPUS_DIR} (it lives outside the repository); "
           "tests/test_compose_corpus_fixtures.py covers the same behaviours without it")
