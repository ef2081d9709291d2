"""From what pulumi_policy hands a validation to what the pure rules take (policies/rules.py).

``ResourceValidationArgs.props`` and ``PolicyResource.props`` are read-only proxies that raise
``UnknownValueError`` when a value is not known during preview; the rules want plain dicts and lists
in which such a value is ``rules.UNKNOWN``. The provider's ``region`` (when the SDK gives the provider)
lets the cost estimate price the right region.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalog.resources import UNKNOWN, Resource


def plain(value: Any) -> Any:
    """A deep copy of ``value`` without proxies; an unknown value becomes ``UNKNOWN``."""
    from pulumi_policy.proxy import UnknownValueError, _is_unknown

    def read(get):
        try:
            return plain(get())
        except UnknownValueError:
            return UNKNOWN

    if isinstance(value, str):
        return UNKNOWN if _is_unknown(value) else value
    if isinstance(value, Mapping):
        return {key: read(lambda key=key: value[key]) for key in value}
    if isinstance(value, Sequence):
        return [read(lambda i=i: value[i]) for i in range(len(value))]
    return value


def provider_region(provider: Any) -> str:
    if provider is None:
        return ""
    region = plain(provider.props).get("region")
    return region if isinstance(region, str) else ""


def resource_from_args(args: Any) -> Resource:
    """A ``ResourceValidationArgs`` (the inputs of one resource) as a rules.Resource."""
    return Resource(type=args.resource_type, name=args.name, props=plain(args.props), urn=args.urn,
                    parent_urn=(args.opts.parent or "") if args.opts else "",
                    region=provider_region(args.provider), protect=bool(args.opts.protect) if args.opts else False)


def resources_from_stack(args: Any) -> list[Resource]:
    """A ``StackValidationArgs`` (every resource, with its outputs) as rules.Resources."""
    return [Resource(type=r.resource_type, name=r.name, props=plain(r.props), urn=r.urn,
                     parent_urn=r.parent.urn if r.parent is not None else ((r.opts.parent or "") if r.opts else ""),
                     region=provider_region(r.provider), protect=bool(r.opts.protect) if r.opts else False)
            for r in args.resources]
