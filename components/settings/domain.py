"""The `domain` and `disableDefaultEndpoint` keys of an API, validated (pure Python, no Pulumi).

``apis.NAME.domain: {name, hostedZoneId?, certificateArn?, validationTimeoutMinutes?}`` and
``apis.NAME.disableDefaultEndpoint`` (docs/design.md, "Custom domains"). Checks that need AWS (is there a
public zone, which region is the stack in, what does the certificate cover) are made by components/domain.py
and components/providers/certificate_wait.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DOMAIN_KEYS = ("name", "hostedZoneId", "certificateArn", "validationTimeoutMinutes")
DEFAULT_VALIDATION_TIMEOUT_MINUTES = 30
MAX_VALIDATION_TIMEOUT_MINUTES = 24 * 60

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TOP_LEVEL = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^xn--[a-z0-9-]+$")
ZONE_ID_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")
CERTIFICATE_ARN_PATTERN = re.compile(
    r"^arn:aws[-a-z]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d+):\d{12}:certificate/[0-9a-f-]{10,}$")


@dataclass(frozen=True)
class DomainSettings:
    """One API's custom domain."""

    name: str                                   # lowercase host name, no trailing dot
    hosted_zone_id: str | None = None           # a public Route 53 zone in this account; None: look one up
    certificate_arn: str | None = None          # an ACM certificate in the stack's region; None: request one
    validation_timeout_minutes: int = DEFAULT_VALIDATION_TIMEOUT_MINUTES

    @property
    def url(self) -> str:
        return f"https://{self.name}"


def host_name_problem(name: str) -> str | None:
    """Why ``name`` (lowercase, no trailing dot) cannot be a custom domain name, or None."""
    if len(name) > 253:
        return f"it has {len(name)} characters; a host name has at most 253"
    labels = name.split(".")
    if len(labels) < 2:
        return "it has no parent domain (write the full name, e.g. api.example.com)"
    if "*" in name:
        return "wildcard names are not supported (one custom domain is one host name)"
    for label in labels:
        if not label:
            return "it has an empty label (two dots in a row, or a leading dot)"
        if not _LABEL.match(label):
            return (f"the label {label!r} is not valid: use letters, digits and hyphens, at most 63 characters, "
                    "not starting or ending with a hyphen")
    if not _TOP_LEVEL.match(labels[-1]):
        return f"{labels[-1]!r} is not a top-level domain (an IP address is no host name)"
    return None


def zone_candidates(name: str) -> list[str]:
    """Zones that could hold ``name``'s records, most specific first: the name itself, then each parent
    with at least two labels (api.eu.example.com -> api.eu.example.com, eu.example.com, example.com)."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def certificate_region(arn: str) -> str:
    match = CERTIFICATE_ARN_PATTERN.match(arn)
    return match.group("region") if match else ""


def parse_domain(check: Any, path: str, value: Any) -> DomainSettings:
    """``check`` is the stack's Checker (checks.py) (error/mapping/string). Raises its ConfigError."""
    spec = check.mapping(path, value, DOMAIN_KEYS)
    if spec.get("name") is None:
        raise check.error(f"{path}.name", "the custom domain has no name.",
                          "set domain: {name: api.example.com}.")
    raw = check.string(f"{path}.name", spec["name"], what="a host name like api.example.com")
    name = raw.strip().lower()
    name = name[:-1] if name.endswith(".") else name
    if name.startswith(("http://", "https://")) or "/" in name or ":" in name:
        raise check.error(f"{path}.name", f"{raw!r} is a URL, not a host name.",
                          "write only the host name, e.g. api.example.com (no scheme, port or path).")
    problem = host_name_problem(name)
    if problem:
        raise check.error(f"{path}.name", f"{raw!r} is not a valid host name: {problem}.",
                          "use a host name like api.example.com.")
    values: dict[str, Any] = {}
    if spec.get("hostedZoneId") is not None:
        zone = check.string(f"{path}.hostedZoneId", spec["hostedZoneId"], what="a Route 53 hosted zone id").strip()
        zone = zone.rsplit("/", 1)[-1]           # "/hostedzone/Z123" as the API prints it
        if not ZONE_ID_PATTERN.match(zone):
            raise check.error(f"{path}.hostedZoneId", f"{spec['hostedZoneId']!r} is not a Route 53 hosted zone id.",
                              "use the id of a public hosted zone, like Z0123456789ABCDEFGHIJ "
                              "(aws route53 list-hosted-zones-by-name), or leave it out to look the zone up.")
        values["hosted_zone_id"] = zone
    if spec.get("certificateArn") is not None:
        arn = check.string(f"{path}.certificateArn", spec["certificateArn"], what="an ACM certificate ARN").strip()
        if not CERTIFICATE_ARN_PATTERN.match(arn):
            raise check.error(f"{path}.certificateArn", f"{arn!r} is not an ACM certificate ARN.",
                              "use arn:aws:acm:<region>:<account>:certificate/<id> of a certificate in the stack's "
                              "region covering the name, or leave it out to have one requested.")
        values["certificate_arn"] = arn
    timeout = spec.get("validationTimeoutMinutes")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_VALIDATION_TIMEOUT_MINUTES:
            raise check.error(f"{path}.validationTimeoutMinutes", f"{timeout!r} is not a number of minutes.",
                              f"use a whole number from 1 to {MAX_VALIDATION_TIMEOUT_MINUTES} "
                              f"(default {DEFAULT_VALIDATION_TIMEOUT_MINUTES}).")
        values["validation_timeout_minutes"] = timeout
    return DomainSettings(name=name, **values)


def parse_api_domain(check: Any, path: str, spec: dict) -> dict[str, Any]:
    """An API's `domain` and `disableDefaultEndpoint` as ApiSettings fields (``path`` is `apis.NAME`)."""
    values: dict[str, Any] = {}
    if spec.get("domain") is not None:
        values["domain"] = parse_domain(check, f"{path}.domain", spec["domain"])
    if spec.get("disableDefaultEndpoint") is not None:
        disable = check.boolean(f"{path}.disableDefaultEndpoint", spec["disableDefaultEndpoint"])
        if disable and "domain" not in values:
            raise check.error(f"{path}.disableDefaultEndpoint", "without a custom domain the API would be unreachable.",
                              "set domain: {name: api.example.com} too, or remove disableDefaultEndpoint.")
        values["disable_default_endpoint"] = disable
    return values


def check_unique(check: Any, domains: dict[str, DomainSettings]) -> None:
    """The same host name on two APIs: API Gateway would refuse the second custom domain name."""
    seen: dict[str, str] = {}
    for api, domain in domains.items():
        if domain.name in seen:
            raise check.error(f"apis.{api}.domain.name",
                              f"{domain.name} is already the domain of API {seen[domain.name]!r}.",
                              "give each API its own host name, e.g. posts.example.com and users.example.com.")
        seen[domain.name] = api
