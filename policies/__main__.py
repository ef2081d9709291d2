"""The cost-guardrail policy pack: `pulumi preview --policy-pack policies [--policy-pack-config policies/config/<stack>.json]`.

The rules are the pure functions of policies/rules.py (the offline plan runs the same ones); this file
only wraps them in pulumi_policy's classes. ``build_policies()`` is importable: constructing the
``PolicyPack`` starts the analyzer server and never returns, so it only happens when Pulumi runs this file.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

# Pulumi runs this file from policies/; the rules and the cost estimate import from the repository root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import EnforcementLevel, Policy, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy  # noqa: E402

from policies import adapter, rules, settings  # noqa: E402

PACK_NAME = "serverless-containers-cost-guardrails"
LEVELS = {settings.ADVISORY: EnforcementLevel.ADVISORY, settings.MANDATORY: EnforcementLevel.MANDATORY,
          settings.DISABLED: EnforcementLevel.DISABLED}


def _settings(spec: settings.PolicySpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's documented defaults under whatever the --policy-pack-config file sets.

    The engine sends the file through a protobuf Struct, so 4 arrives as 4.0; whole numbers go back to int."""
    chosen = {k: v for k, v in dict(given or {}).items() if k != "enforcementLevel"}
    chosen = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in chosen.items()}
    return {**spec.defaults(), **chosen}


def _resource_policy(spec: settings.PolicySpec, rule: rules.ResourceRule) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        resource = adapter.resource_from_args(args)
        for message in rule(resource.type, resource.props, _settings(spec, args.get_config())):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=spec.name, description=spec.description, validate=validate,
        enforcement_level=LEVELS[spec.default_level], config_schema=_schema(spec))


def _stack_policy(spec: settings.PolicySpec, rule: rules.StackRule) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = adapter.resources_from_stack(args)
        for resource, message in rule(resources, _settings(spec, args.get_config())):
            report_violation(f"{resource.name}: {message}" if resource else message,
                             resource.urn if resource else None)

    return StackValidationPolicy(
        name=spec.name, description=spec.description, validate=validate,
        enforcement_level=LEVELS[spec.default_level], config_schema=_schema(spec))


def _schema(spec: settings.PolicySpec) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=dict(spec.properties)) if spec.properties else None


def build_policies() -> list[Policy]:
    """One pulumi_policy Policy per entry of settings.POLICIES, in that order."""
    built: list[Policy] = []
    for spec in settings.POLICIES:
        if spec.name in rules.RESOURCE_RULES:
            built.append(_resource_policy(spec, rules.RESOURCE_RULES[spec.name]))
        else:
            built.append(_stack_policy(spec, rules.STACK_RULES[spec.name]))
    return built


if __name__ == "__main__":
    from pulumi_policy import PolicyPack

    PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.ADVISORY,
               description="Cost guardrails for serverless-containers stacks: replicas, task size, NAT gateways, "
                           "retention, Fargate Spot, an idle-cost budget, and safe-deploy checks.")
