"""What a test run prints at its end (issue 24, item 7); tests/conftest.py installs these hooks.

* One last line says why tests skipped, grouped by reason, so a run with 100 skips says at once whether they
  are the expected ones (no Docker engine, no compose corpus) or something new.
* An interrupt that lands in a garbage-collection callback prints one line instead of a traceback. pytest-xdist
  ends a run by telling each worker to stop; a worker still busy 5 s later gets a SIGINT from execnet
  (``gateway_base._terminate_execution``). When that SIGINT arrives while hypothesis's gc callback
  (``junkdrawer.gc_cumulative_time``) runs, Python cannot raise it there: it reports the KeyboardInterrupt as
  "Exception ignored in garbage collection callback" with a traceback, and carries on. Nothing failed and
  nothing is lost (execnet ends the worker 10 s later), so a traceback only alarms.
"""
from __future__ import annotations

import gc
import re
import sys
from collections import Counter
from typing import Callable, Iterable

import pytest

REASON_LIMIT = 90
GC_CALLBACK = "garbage collection callback"      # newer CPythons' err_msg for an exception raised in one


def short_reason(longrepr) -> str:
    """A skip report's reason, without pytest's "Skipped: " and cut at its first aside."""
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = re.sub(r"^Skipped: ", "", reason.strip())
    reason = re.split(r"; | \(", reason, maxsplit=1)[0].strip()
    return reason if len(reason) <= REASON_LIMIT else reason[:REASON_LIMIT - 1].rstrip() + "…"


def skip_summary(reports: Iterable) -> str | None:
    """``104 skipped: 80 × SC_NO_DOCKER is set...; 24 × the compose corpus is not at ...``, most common first."""
    reasons = Counter(short_reason(report.longrepr) for report in reports)
    if not reasons:
        return None
    parts = "; ".join(f"{count} × {reason}" for reason, count in reasons.most_common())
    return f"{sum(reasons.values())} skipped: {parts} (pytest -rs lists each)"


def _is_gc_callback(thing) -> bool:
    try:
        return any(thing is callback for callback in gc.callbacks)
    except Exception:                            # an unraisable hook must never raise
        return False


def quiet_gc_interrupts(previous: Callable) -> Callable:
    """An unraisable-exception hook that turns a KeyboardInterrupt in a gc callback into one line."""
    if getattr(previous, "quiets_gc_interrupts", False):
        return previous

    def hook(unraisable) -> None:
        if (unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt)
                and (GC_CALLBACK in (unraisable.err_msg or "") or _is_gc_callback(unraisable.object))):
            sys.stderr.write("note: an interrupt arrived during garbage collection and was ignored there (pytest-xdist "
                             "interrupts a worker still busy after the run ends); nothing failed because of it\n")
            return
        previous(unraisable)

    hook.quiets_gc_interrupts = True
    return hook


@pytest.hookimpl(trylast=True)
def pytest_configure(config) -> None:
    # After pytest's own unraisable hook is in place (it turns unraisable exceptions into warnings).
    sys.unraisablehook = quiet_gc_interrupts(sys.unraisablehook)


def pytest_unconfigure(config) -> None:
    if hasattr(config, "workerinput"):          # an xdist worker: the controller reports for everyone
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    line = skip_summary(report for report in reporter.stats.get("skipped", []) if report.skipped)
    if line:
        reporter.write_line(line)
