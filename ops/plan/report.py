"""The offline plan: run the program under Pulumi's mock runtime with a stack's config, then check it.

It answers "what would `pulumi up` create, does it pass the guardrails, and what will it cost while idle?"
without an AWS account or the Pulumi CLI. Nothing here talks to a cloud: ids and ARNs are the mocks'.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from catalog import cost
from catalog.resources import Resource
from components.errors import ConfigError
from ops.errors import OpsError
from ops.plan import diagram, mockrun, summary
from ops.plan.domains import domain_lines, domains_of
from ops.project import PROJECT_DIR
from ops.stack import stack_config
from ops.stack.stack_config import path_of
from policies import rules, settings

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class PlannedResource:
    type: str
    name: str
    parent_type: str
    parent_name: str
    urn: str
    parent_urn: str


@dataclass
class Plan:
    stack: str
    region: str
    config_file: Path
    policy_file: Path | None
    encrypted_keys: list[str]
    resources: list[PlannedResource]
    warnings: list[str]
    policies: dict[str, settings.EffectivePolicy]
    findings: list[rules.Finding]
    cost: cost.CostReport
    pictures: list[Path] = field(default_factory=list)
    cost_awake: cost.CostReport | None = None     # every API at its desired count, 730 h
    cost_full: cost.CostReport | None = None      # every API at its autoscaling maximum, 730 h
    apis: list[summary.ApiSummary] = field(default_factory=list)
    project_dir: Path | None = None
    domains: dict[str, dict] = field(default_factory=dict)   # API -> its `domain` output (ops/plan/domains.py)
    region_assumed: bool = False                  # the stack sets no aws:region: the plan used the default

    @property
    def mandatory(self) -> list[rules.Finding]:
        return [f for f in self.findings if f.level == settings.MANDATORY]

    def as_json(self) -> dict[str, Any]:
        return whole_numbers({
            "stack": self.stack,
            "offline": True,
            "note": "offline plan under Pulumi's mock runtime: no cloud was contacted; ids and ARNs are made up",
            "region": self.region,
            "apis": [api.as_json() for api in self.apis],
            "resources": [{"type": r.type, "name": r.name, "parent": r.parent_name if r.parent_type != STACK_TYPE else "",
                           "parentType": r.parent_type if r.parent_type != STACK_TYPE else ""}
                          for r in self.resources],
            "warnings": list(self.warnings),
            "policies": [{"name": f.policy, "level": f.level, "resource": f.resource, "message": f.message}
                         for f in self.findings],
            "policyConfig": {name: {"level": p.level, "settings": p.settings} for name, p in self.policies.items()},
            "policyConfigFile": str(self.policy_file) if self.policy_file else None,
            "cost": self.cost.as_json(),
            "costAwake": self.cost_awake.as_json() if self.cost_awake else None,
            "costFullScale": self.cost_full.as_json() if self.cost_full else None,
            "pictures": [str(p) for p in self.pictures],
            "domains": self.domains,
            "regionAssumed": self.region_assumed,
        })


def whole_numbers(value: Any) -> Any:
    """``value`` with every whole float as an int. Resource properties come back from the mock runtime as protobuf
    numbers, all floats: a port would read 8080.0 in the JSON, which no reader of a port expects."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [whole_numbers(item) for item in value]
    return value


def _program():
    try:
        from components.program import main
    except ImportError as error:   # a partial tree: say what is missing instead of a traceback
        raise OpsError(f"the program cannot be loaded ({error}); the plan needs components/program.py.") from None
    return main


def make_plan(stack: str, *, project_dir: Path = PROJECT_DIR, policy_config: Path | None = None,
              out_dir: Path | None = None, picture: bool = True) -> Plan:
    """Run the program with ``<project_dir>/stacks/Pulumi.<stack>.yaml`` and check it. ConfigError passes through."""
    if policy_config is None and settings.config_file(stack, project_dir / "policies" / "config").is_file():
        policy_config = settings.config_file(stack, project_dir / "policies" / "config")
    policies, policy_file = settings.for_stack(stack, policy_config)
    config, encrypted = stack_config.load_stack_config(stack, project_dir)
    region_assumed = not config.get("aws:region")
    region = str(config.get("aws:region") or cost.DEFAULT_REGION)
    try:
        result = mockrun.run(_program(), stack=stack, config=config, secret_keys=encrypted)
    except (OpsError, ConfigError):
        raise
    except Exception as error:  # noqa: BLE001 - the program's own bug: one line, not a traceback
        raise OpsError(f"the program failed under the mock runtime: {type(error).__name__}: {error}") from None
    resources = [Resource(type=r.type, name=r.name, props=r.outputs, urn=r.urn, parent_urn=r.parent_urn,
                          region=region, protect=bool(r.options.get("protect"))) for r in result.resources]
    findings = rules.evaluate(resources, policies)
    report = cost.estimate(resources, region)
    planned = [PlannedResource(r.type, r.name, r.parent_type, r.parent_name, r.urn, r.parent_urn)
               for r in result.resources]
    warnings = ([region_warning(stack, path_of(stack, project_dir), region)] if region_assumed else []) + \
        list(result.warnings)
    plan = Plan(stack=stack, region=region, config_file=path_of(stack, project_dir), region_assumed=region_assumed,
                policy_file=policy_file, encrypted_keys=encrypted, resources=planned, warnings=warnings,
                policies=policies, findings=findings, cost=report, project_dir=project_dir,
                domains=domains_of(result.outputs),
                cost_awake=cost.estimate(resources, region, scenario="awake"),
                cost_full=cost.estimate(resources, region, scenario="full"),
                apis=summary.summarize(resources, result.outputs, _table_access(config, stack, project_dir)))
    if picture:
        target = out_dir if out_dir is not None else project_dir / "build" / "plan" / stack
        plan.pictures = diagram.render(diagram.build_graph(resources, stack), target, f"architecture-{stack}")
    return plan


def _table_access(config: dict[str, Any], stack: str, project_dir: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    """API -> table -> granted operations, from the validated stack config (the program already accepted it)."""
    from components.settings.stack import load_settings
    from ops.stack.stack_config import plain, project_values

    try:
        settings_ = load_settings(project_values(plain(config)), project_dir, stack)
    except ConfigError:
        return {}
    return {name: dict(api.storage_access) for name, api in settings_.apis.items()}


# ------------------------------------------------------------------------------------------------- the report


def banner(plan: Plan) -> list[str]:
    rule = "=" * 78
    return [rule,
            f" OFFLINE PLAN of stack '{plan.stack}'. This is NOT a Pulumi preview: no cloud was contacted.",
            f" Pulumi's mock runtime ran the program with {plan.config_file.name}; ids and ARNs are made up.",
            f" `pulumi preview --stack {plan.stack}` shows the real changes.",
            rule]


def stack_line(plan: Plan, verbose: bool = False) -> list[str]:
    cloud = sum(1 for r in plan.resources if not _is_component(r))
    components = sum(1 for r in plan.resources if _is_component(r))
    where = f"{plan.region}, assumed: the stack sets no aws:region" if plan.region_assumed else plan.region
    return [f"Stack '{plan.stack}' in {where}: {cloud} cloud resources in {components} components "
            f"({'listed under Resources below' if verbose else '--verbose lists them'})."]


def region_warning(stack: str, config_file: Path, region: str) -> str:
    return (f"{config_file.name} sets no aws:region, so this plan assumed {region}. A deploy takes the region from "
            f"your AWS environment instead (AWS_REGION, AWS_DEFAULT_REGION or the profile's region) and stops without "
            f"one: set it in the stack file (e.g. `pulumi config set aws:region {region} --stack {stack}`) so the "
            f"plan and the deploy agree.")


def resource_tree(plan: Plan) -> list[str]:
    by_parent: dict[str, list[PlannedResource]] = {}
    for resource in plan.resources:
        by_parent.setdefault(resource.parent_urn, []).append(resource)
    findings_by_urn: dict[str, list[rules.Finding]] = {}
    for finding in plan.findings:
        findings_by_urn.setdefault(finding.urn, []).append(finding)
    lines = [f"Resources ({sum(1 for r in plan.resources if not _is_component(r))} cloud resources in "
             f"{sum(1 for r in plan.resources if _is_component(r))} components), by component:"]

    def walk(parent_urn: str, depth: int) -> None:
        children = sorted(by_parent.get(parent_urn, []), key=lambda r: (not _is_component(r), r.type, r.name))
        for child in children:
            marks = "".join(f"  <- {f.policy} ({f.level})" for f in findings_by_urn.get(child.urn, []))
            if _is_component(child):
                lines.append(f"{'  ' * depth}{child.name}  [{child.type}]{marks}")
                walk(child.urn, depth + 1)
            else:
                lines.append(f"{'  ' * depth}- {child.type}  {child.name}{marks}")

    roots = {r.parent_urn for r in plan.resources if r.parent_type in ("", STACK_TYPE)}
    for root in sorted(roots):
        walk(root, 1)
    return lines


def _is_component(resource: PlannedResource) -> bool:
    return not resource.type.startswith(("aws:", "pulumi-python:dynamic", "random:", "pulumi:providers:"))


def policy_lines(plan: Plan, verbose: bool = False) -> list[str]:
    """Failures one by one; passes folded into one line (``verbose``: the whole table with each level)."""
    source = _short(plan, plan.policy_file) if plan.policy_file else \
        f"default settings: no policies/config/{plan.stack}.json"
    if verbose:
        lines = [f"Policies (the pack in policies/, {source}):"]
        for name, policy in plan.policies.items():
            found = [f for f in plan.findings if f.policy == name]
            status = "disabled" if policy.level == settings.DISABLED else \
                ("pass" if not found else f"{len(found)} violation(s)")
            lines.append(f"  {name:<28} {policy.level:<9} {status}")
            lines.extend(_finding_line(finding, "      ") for finding in found)
        return lines
    enabled = [n for n, p in plan.policies.items() if p.level != settings.DISABLED]
    failing = [n for n in enabled if any(f.policy == n for f in plan.findings)]
    disabled = len(plan.policies) - len(enabled)
    counts = f"{len(enabled) - len(failing)} of {len(enabled)} pass" + (f", {disabled} disabled" if disabled else "")
    lines = [f"Policies ({source}): {counts}" + (":" if failing else ".")]
    lines.extend(_finding_line(finding, "  ") for finding in plan.findings)
    return lines


def _finding_line(finding: rules.Finding, indent: str) -> str:
    level = "MANDATORY" if finding.level == settings.MANDATORY else "advisory"
    return f"{indent}{level} {finding.policy}: {finding.resource or 'stack'}: {finding.message}"


def _short(plan: Plan, path: Path | str) -> str:
    """A path relative to the project folder when it lies inside it (shorter lines, same meaning)."""
    text = str(path)
    root = str(plan.project_dir or "")
    return text[len(root) + 1:] if root and text.startswith(root + "/") else text


def cost_lines(plan: Plan, verbose: bool = False) -> list[str]:
    report = plan.cost
    lines = [f"Estimated idle monthly cost in {report.region} (no requests: desired tasks run 730 h, sleeping APIs "
             f"run 0 outside their awake hours, autoscaled ones their minimum):"]
    for item in report.items:
        lines.append(f"  {item.name:<40} {item.quantity:>9.6g} {item.unit:<16} x ${item.unit_usd:<10g} "
                     f"= ${item.monthly_usd:>8.2f}")
        if item.detail and verbose:
            lines.append(f"      {item.detail}")
    lines.append(f"  {'TOTAL':<40} {'':>9} {'':<16}   {'':<10}  = ${report.monthly_usd:>8.2f} a month")
    if plan.cost_awake and plan.cost_full:
        lines.append(f"  awake (every API at its desired count, 730 h): ${plan.cost_awake.monthly_usd:.2f} a month; "
                     f"full scale (autoscaling maximum): ${plan.cost_full.monthly_usd:.2f}")
    lines.append(f"  prices: {report.source}")
    for note in (n for n in report.notes if n):
        lines.append(f"  note: {note}")
    if verbose:
        lines.append("  not included (usage-priced):")
        lines.extend(f"    - {text}" for text in report.excluded)
    else:
        lines.append(f"  not included: {len(report.excluded)} usage-priced items (requests, logs, builds; "
                     "--verbose lists them)")
    return lines


def warning_lines(plan: Plan, verbose: bool = False) -> list[str]:
    lines = [f"Warnings ({len(plan.warnings)}):" if plan.warnings else "Warnings: none."]
    root = f"{plan.project_dir}/" if plan.project_dir else None
    lines.extend(f"  - {w.replace(root, '') if root else w}" for w in plan.warnings)
    return lines


def api_lines(plan: Plan, verbose: bool = False) -> list[str]:
    return summary.lines(plan.apis)


def dns_lines(plan: Plan, verbose: bool = False) -> list[str]:
    return domain_lines(plan.domains, plan.region)


def resource_lines(plan: Plan, verbose: bool = False) -> list[str]:
    return resource_tree(plan) if verbose else []


def picture_lines(plan: Plan, verbose: bool = False) -> list[str]:
    if not plan.pictures:
        return []
    shown = [p for p in plan.pictures if p.suffix == ".svg"] or plan.pictures
    lines = ["Architecture picture: " + ", ".join(_short(plan, p) for p in (plan.pictures if verbose else shown))]
    if not any(p.suffix == ".svg" for p in plan.pictures):
        lines.append("  (Graphviz's `dot` is not installed, so only the .dot file was written: "
                     "`apt-get install graphviz` draws the SVG and PNG.)")
    return lines


# The report, section by section, in reading order. Each section takes (plan, verbose) and returns its lines
# ([] to stay silent); a feature that adds to the plan adds a section here (or lines to an existing one).
# The default view must stay on one screen for the sample dev stack (tests/test_plan.py checks it).
Section = Callable[[Plan, bool], list[str]]
SECTIONS: list[Section] = [api_lines, dns_lines, warning_lines, policy_lines, cost_lines, resource_lines, picture_lines]


def report_lines(plan: Plan, verbose: bool = False) -> list[str]:
    lines = banner(plan) + stack_line(plan, verbose)
    if plan.encrypted_keys:
        lines.append(f"Encrypted config values ({', '.join(plan.encrypted_keys)}) cannot be read without the Pulumi "
                     f"CLI; the plan used a placeholder.")
    for section in SECTIONS:
        part = section(plan, verbose)
        if part:
            lines += [""] + part
    return lines
