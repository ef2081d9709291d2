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


@pytest.fixture(autouse=True, scope="session")
def _no_source_zips_left_behind():
    """The program removes its private source-zip folders when its process ends; a pytest worker may end without
    running exit handlers, so the session removes them too (components/pipeline/source_bundle.py)."""
    yield
    from components.pipeline.source_bundle import remove_private_folders

    remove_private_folders()


# The end of a run: one line of skip reasons, and no traceback for an interrupt inside a gc callback.
from tests.run_output import pytest_configure, pytest_unconfigure, quiet_gc_interrupts  # noqa: E402,F401  (hooks)

sys.unraisablehook = quiet_gc_interrupts(sys.unraisablehook)   # also after pytest restores the hook it replaced
