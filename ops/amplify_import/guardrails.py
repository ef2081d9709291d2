"""The target stack's mandatory policies (policies/config/<stack>.json), followed where the import can.

Amplify ran on-demand Fargate, kept nothing after a delete and had no approval step; this project's sample stacks
make some of that mandatory (dev: Fargate Spot; prod: no force destroy, a secret recovery window, a manual approval,
named CORS origins). A setting that needs no decision is set, and said (with what it changes); one that needs a
decision (which origins) is named for the user to set. The offline plan judges the result with the same policy file.
"""
from __future__ import annotations

from pathlib import Path

from ops.amplify_import.report import ImportReport


def mandatory(stack: str, project_dir: Path) -> tuple[dict, str | None]:
    """The stack's mandatory policies by name, and the file they come from (the plan's own choice of file)."""
    from policies import settings as policy_settings

    local = policy_settings.config_file(stack, project_dir / "policies" / "config")
    policies, chosen = policy_settings.for_stack(stack, local if local.is_file() else None)
    shown = None
    if chosen:
        for base in (project_dir, Path(policy_settings.__file__).resolve().parents[1]):
            try:
                shown = str(Path(chosen).resolve().relative_to(base.resolve()))
                break
            except ValueError:
                shown = str(chosen)
    return {name: p for name, p in policies.items() if p.level == "mandatory"}, shown


def follow(stack: str, project_dir: Path, config: dict, apis: dict[str, dict], report: ImportReport,
           namespace: str) -> None:
    required, source = mandatory(stack, project_dir)
    applied: list[str] = []
    spot = required.get("fargate-spot")
    if spot and spot.settings.get("fargateSpot") == "required":
        config[f"{namespace}fargateSpot"] = True
        applied.append("fargateSpot: true (Amplify ran on-demand; AWS may stop a Spot task with two minutes' notice "
                       "and ECS starts another)")
    destroy = required.get("no-force-destroy")
    if destroy and destroy.settings.get("forbidForceDestroy", True):
        config[f"{namespace}forceDestroy"] = False
        applied.append("forceDestroy: false")
    window = required.get("secret-recovery-window")
    if window and window.settings.get("minRecoveryWindowDays"):
        config[f"{namespace}secretRecoveryWindowDays"] = int(window.settings["minRecoveryWindowDays"])
        applied.append(f"secretRecoveryWindowDays: {int(window.settings['minRecoveryWindowDays'])}")
    approval = required.get("pipeline-approval")
    if approval and approval.settings.get("requireApproval", True):
        built = [name for name, entry in apis.items() if entry.get("build") != "manual"]
        for name in built:
            apis[name]["approval"] = True
        if built:
            applied.append("approval: true on " + ", ".join(built) + " (a person approves each deploy)")
    if applied:
        report.warnings.append(f"{source} makes policies mandatory for stack {stack}, so the stack sets: "
                               + "; ".join(applied) + ".")
    cors = required.get("cors-origins")
    if cors and cors.settings.get("forbidWildcard", True):
        report.warnings.append(f"{source} requires named CORS origins for stack {stack} (Amplify allowed any): set "
                               "corsOrigins to the front end's origins, e.g. [https://app.example.com], before the plan "
                               "passes.")
