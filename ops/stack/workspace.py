"""The Pulumi Automation API, wrapped for the operator CLI.

One place knows how to open a stack of this project folder (``LocalWorkspace`` through
``create_or_select_stack``/``select_stack``), how to stream the engine's output with progress,
and how to turn the Automation API's failures into one clear message. The CLI needs the Pulumi
CLI on PATH; without it every command here stops with the install instructions, never a
``FileNotFoundError`` traceback.

Tests replace ``stack_factory`` with a function returning a recorded fake stack object.
"""
from __future__ import annotations

import contextlib
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from ops.errors import OpsError
from ops.project import PROJECT_DIR
from ops.stack import outputs as stack_outputs

INSTALL_PULUMI = ("the Pulumi CLI is not installed (no `pulumi` on PATH). Install it with "
                  "`curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi/tap/pulumi`), open a new "
                  "shell, run `pulumi login`, then try again. See https://www.pulumi.com/docs/install/")

# (stack name, project folder, create if missing) -> an object with the pulumi.automation.Stack methods we use.
StackFactory = Callable[[str, Path, bool], Any]
stack_factory: StackFactory | None = None


def require_pulumi_cli() -> str:
    path = shutil.which("pulumi")
    if not path:
        raise OpsError(INSTALL_PULUMI)
    return path


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n  ".join(lines[-count:])


@contextlib.contextmanager
def clear_automation_errors(action: str, stack: str) -> Iterator[None]:
    """The Automation API's exceptions, as one message that says what to do."""
    from pulumi.automation import errors as auto_errors

    try:
        yield
    except OpsError:
        raise
    except FileNotFoundError as error:
        if "pulumi" in str(error):
            raise OpsError(INSTALL_PULUMI) from None
        raise
    except auto_errors.StackNotFoundError:
        raise OpsError(f"stack '{stack}' does not exist in your Pulumi backend. Create it by deploying: "
                       f"python -m ops up --stack {stack}  (check `pulumi whoami` if you expected it).") from None
    except auto_errors.ConcurrentUpdateError:
        raise OpsError(f"{action}: another update of stack '{stack}' is running. Wait for it, or if it was "
                       f"interrupted, run `pulumi cancel --stack {stack}` in {PROJECT_DIR}.") from None
    except auto_errors.CommandError as error:
        text = str(error)
        stderr = text.split(" stderr:", 1)[1] if " stderr:" in text else text
        hint = ""
        if "pulumi login" in stderr or "PULUMI_ACCESS_TOKEN" in stderr:
            hint = " Run `pulumi login` (or `pulumi login --local`) first."
        elif "passphrase" in stderr.lower():
            hint = " Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for this stack's secrets."
        raise OpsError(f"{action} failed for stack '{stack}':\n  {_last_lines(stderr) or 'no output'}{hint}") from None
    except auto_errors.InvalidVersionError as error:
        raise OpsError(f"{action}: your Pulumi CLI is too old for this SDK ({error}). Upgrade it: "
                       "https://www.pulumi.com/docs/install/") from None


def open_stack(stack: str, *, project_dir: Path = PROJECT_DIR, create: bool = False):
    """The stack of this project folder; ``create`` makes it when it does not exist yet."""
    if stack_factory is not None:
        return stack_factory(stack, project_dir, create)
    require_pulumi_cli()
    from pulumi import automation as auto

    with clear_automation_errors("opening the stack", stack):
        if create:
            return auto.create_or_select_stack(stack_name=stack, work_dir=str(project_dir))
        return auto.select_stack(stack_name=stack, work_dir=str(project_dir))


@dataclass
class EngineProgress:
    """Streams the engine's own display and keeps a count of finished resource steps.

    ``on_output`` gets the engine's text lines; ``on_event`` its structured events, from which the
    progress lines, the failures and the policy violations are taken.
    """

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    started: int = 0
    finished: int = 0
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    policy_violations: list[str] = field(default_factory=list)

    def on_output(self, line: str) -> None:
        self.out.write(line if line.endswith("\n") else line + "\n")
        self.out.flush()

    def on_event(self, event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None and not getattr(pre, "planning", False) and _is_step(pre.metadata):
            self.started += 1
        done = getattr(event, "res_outputs_event", None)
        if done is not None and not getattr(done, "planning", False) and _is_step(done.metadata):
            self.finished += 1
            self._progress(f"{_op(done.metadata)} {_short(done.metadata.urn)}")
        failed = getattr(event, "res_op_failed_event", None)
        if failed is not None:
            self.failed.append(_short(failed.metadata.urn))
            self._progress(f"FAILED {_op(failed.metadata)} {_short(failed.metadata.urn)}")
        diagnostic = getattr(event, "diagnostic_event", None)
        if diagnostic is not None and diagnostic.severity == "error":
            self.errors.append(diagnostic.message.strip())
        policy = getattr(event, "policy_event", None)
        if policy is not None:
            self.policy_violations.append(
                f"[{policy.enforcement_level}] {policy.policy_pack_name}/{policy.policy_name}: "
                f"{policy.message.strip()}")

    def _progress(self, what: str) -> None:
        total = max(self.started, self.finished + len(self.failed))
        self.err.write(f"progress: {self.finished + len(self.failed)}/{total} steps done ({what})\n")
        self.err.flush()

    def summary(self) -> list[str]:
        lines = []
        if self.policy_violations:
            lines.append("policy findings:")
            lines += [f"  {violation}" for violation in self.policy_violations]
        if self.failed:
            lines.append(f"failed resources: {', '.join(self.failed)}")
        if self.errors:
            lines.append("errors:")
            lines += [f"  {message}" for message in self.errors]
        return lines


def _is_step(metadata: Any) -> bool:
    # "same" steps change nothing; counting them would make a no-op update look busy.
    op = getattr(metadata, "op", "")
    return str(getattr(op, "value", op)) not in ("same", "read")


def _op(metadata: Any) -> str:
    op = getattr(metadata, "op", "")
    return str(getattr(op, "value", op))


def _short(urn: str) -> str:
    """`urn:pulumi:dev::proj::a$aws:ecs/service:Service::posts` -> `aws:ecs/service:Service posts`."""
    parts = urn.split("::")
    if len(parts) >= 4:
        return f"{parts[2].split('$')[-1]} {parts[3]}"
    return urn


def policy_packs(project_dir: Path) -> list[str]:
    """The project's cost-guardrail pack, when it is a runnable local policy pack."""
    pack = project_dir / "policies"
    return [str(pack)] if (pack / "PulumiPolicy.yaml").is_file() else []


def run(operation: str, stack: str, *, project_dir: Path = PROJECT_DIR, progress: EngineProgress | None = None,
        use_policies: bool = True, handle: Any = None) -> Any:
    """Run ``up``, ``preview``, ``refresh`` or ``destroy`` on ``stack``, streaming the engine's output.

    handle: the stack, when the caller opened it already (ops/automation.py sets config on it first)."""
    progress = progress or EngineProgress()
    handle = handle or open_stack(stack, project_dir=project_dir, create=operation in ("up", "preview"))
    color = "always" if getattr(progress.out, "isatty", lambda: False)() else "never"
    kwargs: dict[str, Any] = {"on_output": progress.on_output, "on_event": progress.on_event, "color": color}
    if operation in ("up", "preview") and use_policies:
        packs = policy_packs(project_dir)
        if packs:
            kwargs["policy_packs"] = packs
            # Per-stack limits (policies/config/<stack>.json), as `--policy-pack-config` takes them.
            stack_limits = project_dir / "policies" / "config" / f"{stack}.json"
            if stack_limits.is_file():
                kwargs["policy_pack_configs"] = [str(stack_limits)]
    with clear_automation_errors(f"pulumi {operation}", stack):
        try:
            return getattr(handle, operation)(**kwargs)
        except Exception:
            for line in progress.summary():
                progress.err.write(line + "\n")
            raise


def read_outputs(stack: str, *, project_dir: Path = PROJECT_DIR, outputs_json: str | Path | None = None,
                 handle: Any = None) -> stack_outputs.StackOutputs:
    """The stack's outputs: from ``outputs_json`` when given (offline), else from the Pulumi backend."""
    if outputs_json:
        return stack_outputs.load_json(stack, outputs_json)
    handle = handle or open_stack(stack, project_dir=project_dir, create=False)
    with clear_automation_errors("reading the stack outputs", stack):
        raw = handle.outputs()
    return stack_outputs.parse(stack, raw)
