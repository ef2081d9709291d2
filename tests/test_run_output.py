"""The end of a test run says why tests skipped, without a flood of library warnings or a stray traceback
(issue 24, item 7; the hooks are in tests/run_output.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi_aws

from tests.run_output import short_reason, skip_summary

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_a_run_ends_with_one_line_of_skip_reasons_and_no_pulumi_aws_deprecation_flood():
    # Two Docker tests (skipped: SC_NO_DOCKER) and one program test, which imports pulumi_aws.s3: that import
    # is what warned about every deprecated *V2 class, 24 warnings a run.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/test_local_docker_readiness.py",
         "tests/test_program.py::test_dockerfile_only_app"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SC_NO_DOCKER": "1", "PYTEST_ADDOPTS": ""})
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout[-3000:]
    assert lines[-1] == "2 skipped: 2 × SC_NO_DOCKER is set: this run leaves the Docker engine alone " \
                        "(pytest -rs lists each)"
    assert "has been deprecated in favor of" not in result.stdout + result.stderr
    assert "warning" not in lines[-2]                   # "1 passed, 2 skipped in 3.2s": no warnings counted


def test_skip_reasons_are_grouped_most_common_first_and_cut_at_their_first_aside():
    class Report:
        def __init__(self, reason):
            self.longrepr = ("tests/x.py", 1, f"Skipped: {reason}")

    reports = [Report("the compose corpus is not at /x (it lives outside the repository); see y")] * 2 + \
        [Report("SC_NO_DOCKER is set: leave the engine alone")] * 3 + [Report("w" * 200)]
    line = skip_summary(reports)
    assert line == ("6 skipped: 3 × SC_NO_DOCKER is set: leave the engine alone; 2 × the compose corpus is not at "
                    f"/x; 1 × {'w' * 89}… (pytest -rs lists each)")
    assert skip_summary([]) is None
    assert short_reason("Skipped: plain text") == "plain text"


def test_the_program_uses_no_pulumi_aws_class_deprecated_in_favour_of_another():
    """The warning filter in pytest.ini hides pulumi_aws's import-time deprecation notices; this keeps it honest:
    no class it names as deprecated is used by the program."""
    library = Path(pulumi_aws.__file__).parent
    sources = [p for folder in ("components", "ops", "policies", "catalog") for p in (PROJECT_DIR / folder).rglob("*.py")]
    sources.append(PROJECT_DIR / "__main__.py")
    used = {match for path in sources
            for match in re.findall(r"\baws\.(\w+)\.([A-Z]\w+)", path.read_text(encoding="utf-8"))}
    assert used, "the program names pulumi_aws classes as aws.<module>.<Class>"
    deprecated = set()
    for module in sorted({module for module, _ in used}):
        for path in (library / module).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "has been deprecated in favor of" in text:
                deprecated |= {(module, name) for name in
                               re.findall(r'^class (\w+)\(pulumi\.CustomResource\):\n    warnings\.warn\("""[^"]*'
                                          r'has been deprecated in favor of', text, re.M)}
    assert ("s3", "BucketV2") in deprecated               # the scan finds what the library deprecates
    assert sorted(used & deprecated) == []


GC_INTERRUPT = textwrap.dedent("""
    import gc, sys
    sys.path.insert(0, {project!r})
    if {guard}:
        from tests.run_output import quiet_gc_interrupts
        sys.unraisablehook = quiet_gc_interrupts(sys.unraisablehook)
    from hypothesis.internal.conjecture import junkdrawer
    junkdrawer.gc_cumulative_time()                        # installs hypothesis's gc callback

    def interrupted():                                     # a SIGINT landing while the callback runs
        junkdrawer._perf_counter = real
        raise KeyboardInterrupt
    real, junkdrawer._perf_counter = junkdrawer._perf_counter, interrupted
    gc.collect()
    print("still running")
""")


def test_an_interrupt_inside_hypothesis_gc_callback_prints_one_line_not_a_traceback():
    def run(guard: bool) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", GC_INTERRUPT.format(project=str(PROJECT_DIR), guard=guard)],
                              capture_output=True, text=True, timeout=60)

    bare = run(guard=False)                               # what Python does on its own
    assert "KeyboardInterrupt" in bare.stderr and "Traceback" in bare.stderr and "gc_callback" in bare.stderr
    guarded = run(guard=True)
    assert guarded.stdout == "still running\n"
    assert "Traceback" not in guarded.stderr
    assert guarded.stderr.startswith("note: an interrupt arrived during garbage collection")
