"""A custom domain for one HTTP API: an ACM certificate, an API Gateway custom domain name (REGIONAL,
TLS 1.2, dual-stack) mapped to the API's `$default` stage, and the DNS records.

Two DNS cases (docs/design.md, "Custom domains"):

* **zone here**: the domain's public Route 53 zone is in this account (``hostedZoneId``, or found by
  ``find_zone``). The component writes the certificate's validation record, waits for the certificate
  (``aws.acm.CertificateValidation``), and points alias A and AAAA records at the API Gateway domain.
* **zone elsewhere**: no record is written. ``dns_records`` lists what the user adds at their DNS provider (the
  validation CNAME, then the CNAME to API Gateway), the program logs them as soon as ACM publishes them, and
  ``CertificateWait`` (components/providers/certificate_wait.py) waits a bounded time for the certificate.

With ``certificate_arn`` no certificate is requested; ``CertificateWait`` checks that it covers the name and is
issued. What is checkable before any resource exists (the certificate's region, the zone lookup) is in
``check_certificate_region`` and ``find_zone``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.api import api_url
from components.settings.checks import NAMESPACE
from components.settings.stack import StackSettings
from components.settings.domain import DomainSettings, certificate_region, zone_candidates
from components.errors import ConfigError
from components.providers.certificate_wait import CertificateWait

VALIDATION_RECORD_TTL = 300
# What the Route 53 data source says when no zone matches (the Terraform AWS provider's message).
_NO_ZONE = re.compile(r"no matching route ?53", re.IGNORECASE)


def find_zone(name: str) -> tuple[str, str] | None:
    """The public Route 53 zone of this account that holds ``name``'s records: (zone id, zone name), or None.

    The most specific zone wins, as in DNS: the name itself, then its parents (api.example.com, then
    example.com). Any error other than "no such zone" (credentials, throttling) is raised."""
    for candidate in zone_candidates(name):
        try:
            zone = aws.route53.get_zone(name=candidate, private_zone=False)
        except Exception as error:  # noqa: BLE001 - the invoke raises a plain Exception
            if _NO_ZONE.search(str(error)):
                continue
            raise
        return zone.zone_id, zone.name.rstrip(".")
    return None


def resolve_zones(settings: StackSettings, region: str) -> dict[str, str | None]:
    """API name -> the Route 53 zone id of its custom domain (None: the zone is elsewhere), for every API with a
    domain. Raises ConfigError for a certificate from another region: a REGIONAL API Gateway domain name takes
    only a certificate of its own region."""
    zones: dict[str, str | None] = {}
    for api in settings.apis.values():
        domain = api.domain
        if domain is None:
            continue
        if domain.certificate_arn and certificate_region(domain.certificate_arn) != region:
            raise ConfigError(
                f"the certificate {domain.certificate_arn} is in {certificate_region(domain.certificate_arn)}, but "
                f"the stack deploys to {region}; a regional API Gateway domain takes only a certificate of its own "
                "region.", file=settings.config_file, key=f"{NAMESPACE}:apis.{api.name}.domain.certificateArn",
                fix=f"request or import a certificate for {domain.name} in {region}, or leave certificateArn out "
                    "to have one requested.")
        if domain.hosted_zone_id:
            zones[api.name] = domain.hosted_zone_id
        else:
            found = find_zone(domain.name)
            zones[api.name] = found[0] if found else None
            if found:
                pulumi.log.info(f"API {api.name}: {domain.name} goes into the Route 53 zone {found[1]} ({found[0]}).")
    return zones


@dataclass
class CustomDomainArgs:
    stack: str
    api: str
    domain: DomainSettings
    """Host name, zone, certificate and how long to wait for the certificate (components/settings/domain.py)."""
    api_id: pulumi.Input[str]
    stage: pulumi.Input[str]
    """The stage to map: the API's `$default` stage (its name output, so the mapping waits for the stage)."""
    region: str
    type: str = "rest"
    """rest | graphql: the published URL of a GraphQL API ends in /graphql (components/api.py api_url)."""
    zone_id: str | None = None
    """Public Route 53 zone that holds the name (given or found); None: the zone is elsewhere, create no record."""
    profile: str | None = None
    """AWS profile of the certificate wait (it runs out of process); default: the stack's `aws:profile`."""
    tags: dict[str, str] = field(default_factory=dict)


def _record(record_type: str, name: pulumi.Input[str], value: pulumi.Input[str], purpose: str) -> pulumi.Output:
    return pulumi.Output.all(name, value).apply(
        lambda nv: {"type": record_type, "name": nv[0], "value": nv[1], "purpose": purpose})


class CustomDomain(pulumi.ComponentResource):
    url: str
    target_domain_name: pulumi.Output[str]
    dns_records: pulumi.Output[list]
    """Records the user must add at their DNS provider ([] when the zone is here): {type, name, value, purpose}."""
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CustomDomainArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:domain:CustomDomain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        domain = args.domain
        timeout = domain.validation_timeout_minutes
        profile = args.profile if args.profile is not None else (pulumi.Config("aws").get("profile") or "")
        records: list[pulumi.Output] = []

        if domain.certificate_arn is None:
            certificate = aws.acm.Certificate(
                f"{name}-certificate", domain_name=domain.name, validation_method="DNS", tags=args.tags,
                opts=child)
            option = certificate.domain_validation_options.apply(lambda options: options[0])
            validation_name = option.apply(lambda o: o.resource_record_name)
            validation_type = option.apply(lambda o: o.resource_record_type)
            validation_value = option.apply(lambda o: o.resource_record_value)
            if args.zone_id:
                record = aws.route53.Record(
                    f"{name}-validation", zone_id=args.zone_id, name=validation_name, type=validation_type,
                    records=[validation_value], ttl=VALIDATION_RECORD_TTL,
                    # ACM gives the same record to every certificate of one name in one account; a
                    # replacement certificate must be able to write it again.
                    allow_overwrite=True, opts=child)
                validation = aws.acm.CertificateValidation(
                    f"{name}-issued", certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn],
                    opts=pulumi.ResourceOptions(parent=self, custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{timeout}m")))
                certificate_arn = validation.certificate_arn
            else:
                records.append(_record("CNAME", validation_name, validation_value, "certificate validation"))
                pulumi.Output.all(validation_name, validation_value).apply(lambda nv: pulumi.log.warn(
                    f"API {args.api}: add this DNS record at your DNS provider so that ACM issues the certificate "
                    f"of {domain.name} (`pulumi up` waits up to {timeout} minute(s)): CNAME {nv[0]} -> {nv[1]}",
                    resource=self))
                wait = CertificateWait(
                    f"{name}-issued", certificate_arn=certificate.arn, domain_name=domain.name, region=args.region,
                    timeout_seconds=timeout * 60, profile=profile, opts=child,
                    note=f"Once it is issued, `pulumi up` creates the API Gateway domain and prints the CNAME "
                         f"{domain.name} -> <API Gateway target> to add as well.")
                certificate_arn = wait.certificateArn
        else:
            # The user's certificate: check (where only ACM knows) that it covers the name and is issued.
            wait = CertificateWait(
                f"{name}-issued", certificate_arn=domain.certificate_arn, domain_name=domain.name,
                region=args.region, timeout_seconds=timeout * 60, profile=profile, opts=child)
            certificate_arn = wait.certificateArn

        gateway_domain = aws.apigatewayv2.DomainName(
            f"{name}-name", domain_name=domain.name,
            domain_name_configuration={"certificate_arn": certificate_arn, "endpoint_type": "REGIONAL",
                                       "security_policy": "TLS_1_2", "ip_address_type": "dualstack"},
            tags=args.tags, opts=child)
        aws.apigatewayv2.ApiMapping(f"{name}-mapping", api_id=args.api_id, domain_name=gateway_domain.id,
                                    stage=args.stage, opts=child)
        configuration = gateway_domain.domain_name_configuration
        target = configuration.apply(lambda c: c.target_domain_name)
        target_zone = configuration.apply(lambda c: c.hosted_zone_id)
        if args.zone_id:
            # Dual-stack domain name: IPv4 and IPv6 clients both find it.
            for record_type in ("A", "AAAA"):
                aws.route53.Record(
                    f"{name}-{record_type.lower()}", zone_id=args.zone_id, name=domain.name, type=record_type,
                    aliases=[{"name": target, "zone_id": target_zone, "evaluate_target_health": False}], opts=child)
        else:
            records.append(_record("CNAME", domain.name, target, "custom domain -> API Gateway"))

        self.domain_name = domain.name
        self.url = api_url(domain.url, args.type)
        self.zone_id = args.zone_id or ""
        self.target_domain_name = target
        self.certificate_arn = pulumi.Output.from_input(certificate_arn)
        self.dns_records = pulumi.Output.all(*records).apply(list) if records else pulumi.Output.from_input([])
        self.register_outputs({"url": self.url, "targetDomainName": target, "dnsRecords": self.dns_records})

    def outputs(self, default_url: pulumi.Input[str], default_disabled: bool) -> dict:
        """The `domain` entry of the API's stack output (docs/design.md, "Stack outputs")."""
        return {"name": self.domain_name, "url": self.url, "hostedZoneId": self.zone_id,
                "certificateArn": self.certificate_arn, "targetDomainName": self.target_domain_name,
                "dnsRecords": self.dns_records, "defaultUrl": "" if default_disabled else default_url}
