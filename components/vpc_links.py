"""Where API Gateway HTTP API VPC links can be placed: the availability-zone IDs AWS lists per region. Pure data.

Source: "Set up VPC links for HTTP APIs in API Gateway", section "Availability by Region"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html), read 2026-11. Only the
regions below could be read in full; for any other region nothing is refused (the check says so in the plan's
design notes, docs/design.md "Network"). Zone IDs (use1-az1), not names (us-east-1a): names differ per account.
"""
from __future__ import annotations

VPC_LINK_ZONE_IDS: dict[str, frozenset[str]] = {
    "us-east-1": frozenset({"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}),
    "us-east-2": frozenset({"use2-az1", "use2-az2", "use2-az3"}),
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
}
SOURCE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html"


def vpc_link_supported(region: str, zone_id: str) -> bool:
    """False only when the region is in the table and the zone is not listed for it."""
    supported = VPC_LINK_ZONE_IDS.get(region)
    return supported is None or zone_id in supported
