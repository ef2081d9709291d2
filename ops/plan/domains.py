"""The offline plan's "custom domains" section: per API with a domain, where its DNS records go and, when the zone
is not in the account, the records to add at the DNS provider (components/domain.py).

Offline, ACM has issued no token and API Gateway has assigned no target, so the values are shown as placeholders
of their real shape; `pulumi up` prints the real ones (and they are in the stack outputs and `ops status`).
"""
from __future__ import annotations

from typing import Any

VALIDATION = "certificate validation"


def domains_of(outputs: dict) -> dict[str, dict]:
    """API name -> its `domain` stack output, for the APIs that have one."""
    apis = outputs.get("apis") if isinstance(outputs, dict) else None
    return {name: api["domain"] for name, api in sorted((apis or {}).items())
            if isinstance(api, dict) and isinstance(api.get("domain"), dict)}


def _placeholder(record: dict, domain: str, region: str) -> tuple[str, str, str]:
    if record.get("purpose") == VALIDATION:
        return "CNAME", f"_<ACM token>.{domain}.", "_<ACM token>.acm-validations.aws."
    return record.get("type", "CNAME"), domain, f"d-<id>.execute-api.{region}.amazonaws.com"


def domain_lines(domains: dict[str, Any], region: str) -> list[str]:
    if not domains:
        return []
    lines = ["Custom domains (DNS):"]
    for api, domain in domains.items():
        name = domain.get("name", "")
        default = "execute-api address turned off" if not domain.get("defaultUrl") else "execute-api address kept"
        lines.append(f"  API {api}: {domain.get('url', '')}  (TLS 1.2, REGIONAL, dual-stack; {default})")
        if domain.get("hostedZoneId"):
            lines.append(f"    zone {domain['hostedZoneId']} in this account: `pulumi up` writes the certificate's "
                         "validation record and alias A/AAAA records there itself.")
            continue
        lines.append(f"    no hostedZoneId: `pulumi up` looks for a public Route 53 zone of {name} or a parent in the "
                     "account")
        lines.append("    (offline none is known) and writes the records there; without one, add these at your DNS "
                     "provider:")
        for record in domain.get("dnsRecords") or []:
            kind, record_name, value = _placeholder(record, name, region)
            lines.append(f"      {kind:<5} {record_name}  ->  {value}   ({record.get('purpose', '')})")
        lines.append("    (placeholders: `pulumi up` prints the real values as soon as AWS assigns them)")
    return lines
