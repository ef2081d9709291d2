"""`pulumi up` waits, for a bounded time, until an ACM certificate for a custom domain is issued.

Used when the domain's DNS zone is not in this account (the user adds the validation record at their DNS
provider) and when the stack config names its own certificate. ``wait_for_certificate`` is pure logic over
an injected boto3 ACM client and clock (tested against moto); ``CertificateWait`` is the Pulumi dynamic
resource around it. It checks, where only AWS knows: that the certificate covers the domain name, and
that it gets issued. On timeout the error repeats the DNS records to add, read from ACM itself.

The module path and class names are part of deployed state (dynamic providers are pickled by
reference): never move or rename them.
"""
from __future__ import annotations

from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, UpdateResult

from components.providers.aws_session import AwsSettings, StackAwsProvider, session

# The waiting clock and the progress line of the pipeline wait serve this wait too.
from components.providers.pipeline_run import Clock, _stderr

DYNAMIC_TYPE = "pulumi-python:dynamic/serverless-containers:CertificateWait"
ISSUED = "ISSUED"
PENDING = "PENDING_VALIDATION"
DEFAULT_POLL_SECONDS = 15


class CertificateError(Exception):
    """The certificate does not fit the domain, failed, or was not issued in time. The message says what to do."""


def covers(pattern: str, name: str) -> bool:
    """Does a certificate name (``api.example.com`` or ``*.example.com``) cover host ``name``?

    A wildcard covers exactly one label: ``*.example.com`` covers ``api.example.com``, not ``example.com``
    and not ``a.b.example.com``."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def validation_records(certificate: dict) -> list[dict]:
    """The DNS validation records ACM asks for: [{type, name, value}] (empty until ACM has made them)."""
    records = []
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord") or {}
        if record.get("Name") and record not in records:
            records.append(record)
    return [{"type": r.get("Type", "CNAME"), "name": r["Name"], "value": r.get("Value", "")} for r in records]


def records_text(records: list[dict]) -> str:
    return "\n".join(f"  {r['type']:<5} {r['name']}  ->  {r['value']}" for r in records)


def _pending_message(domain: str, arn: str, certificate: dict, waited_minutes: float, extra: str) -> str:
    records = validation_records(certificate)
    lines = [f"the certificate for {domain} ({arn}) was not issued within {waited_minutes:g} minute(s); "
             f"it is still {certificate.get('Status', '?')}."]
    if records:
        lines += ["Add this DNS record at your DNS provider (ACM checks it and then issues the certificate):",
                  records_text(records)]
    else:
        lines.append("ACM has not published its validation record yet; run `pulumi up` again in a minute.")
    if extra:
        lines.append(extra)
    lines.append("Then run `pulumi up` again: it waits again (apis.<name>.domain.validationTimeoutMinutes sets "
                 "for how long).")
    return "\n".join(lines)


def wait_for_certificate(acm, arn: str, domain: str, *, timeout_seconds: float,
                         poll_seconds: float = DEFAULT_POLL_SECONDS, clock: Clock = Clock(),
                         extra: str = "", report: Callable[[str], None] = lambda _m: None) -> dict:
    """Poll DescribeCertificate until ``arn`` is ISSUED; the certificate description then.

    Raises CertificateError when it does not cover ``domain``, when ACM gave up on it (FAILED, VALIDATION_TIMED_OUT,
    REVOKED, EXPIRED, INACTIVE), or when ``timeout_seconds`` pass first (repeating the records to add)."""
    deadline = clock.now() + timeout_seconds
    reported = False
    while True:
        try:
            certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except acm.exceptions.ResourceNotFoundException:
            raise CertificateError(f"the certificate {arn} does not exist (in this account and region). "
                                   "Set apis.<name>.domain.certificateArn to a certificate in the stack's region, "
                                   "or leave it out to have one requested.") from None
        names = [certificate.get("DomainName", "")] + list(certificate.get("SubjectAlternativeNames") or [])
        names = list(dict.fromkeys(n for n in names if n))
        if not any(covers(n, domain) for n in names):
            raise CertificateError(f"the certificate {arn} covers {', '.join(names) or 'no name'}, not {domain}. "
                                   f"Use a certificate for {domain} (or *.{domain.split('.', 1)[1]}), or leave "
                                   "certificateArn out to have one requested.")
        status = certificate.get("Status", "")
        if status == ISSUED:
            return certificate
        if status != PENDING:
            reason = certificate.get("FailureReason") or ""
            raise CertificateError(f"the certificate {arn} for {domain} is {status}"
                                   f"{' (' + reason + ')' if reason else ''} and will not be issued. Request a new "
                                   "one: leave certificateArn out (or delete the failed certificate and run "
                                   "`pulumi up` again).")
        records = validation_records(certificate)
        if records and not reported:
            report(f"waiting for the certificate of {domain}; ACM checks this DNS record:\n{records_text(records)}")
            reported = True
        if clock.now() >= deadline:
            raise CertificateError(_pending_message(domain, arn, certificate, timeout_seconds / 60, extra))
        clock.sleep(poll_seconds)


# --- the Pulumi dynamic resource ---------------------------------------------------------------------------

def _acm_client(props: dict[str, Any], settings: AwsSettings | None = None):
    """ACM, signed in as the stack's AWS provider (components/providers/aws_session.py)."""
    return session(settings or AwsSettings(), props).client("acm")


OUTPUTS = ("status", "notAfter")


class CertificateWaitProvider(StackAwsProvider):

    def __init__(self, client_factory=_acm_client, clock: Clock | None = None):
        self.client_factory = client_factory
        self.clock = clock

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        acm = _acm_client(props, self.aws) if self.client_factory is _acm_client else self.client_factory(props)
        try:
            certificate = wait_for_certificate(
                acm, props["certificateArn"], props["domainName"],
                timeout_seconds=float(props.get("timeoutSeconds") or 1800),
                poll_seconds=float(props.get("pollSeconds") or DEFAULT_POLL_SECONDS),
                clock=self.clock or Clock(), extra=props.get("note") or "", report=_stderr)
        except CertificateError as error:
            # Raised from create/update, Pulumi fails the update with this message and keeps no state,
            # so the next `pulumi up` checks and waits again.
            raise Exception(str(error)) from None
        return {**props, "status": certificate.get("Status", ""), "notAfter": str(certificate.get("NotAfter") or "")}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['domainName']}-certificate", outs=self._wait(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("certificateArn", "domainName", "region")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys),
                          replaces=[k for k in ("certificateArn", "domainName") if olds.get(k) != news.get(k)])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._wait(news))


class CertificateWait(Resource, module="serverless-containers", name="CertificateWait"):
    """An issued certificate that covers the domain: created once the wait succeeded."""

    # outputs keep the provider's property names
    certificateArn: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(self, name: str, *, certificate_arn: pulumi.Input[str], domain_name: str, region: str,
                 timeout_seconds: int, note: str = "", profile: str | None = None,
                 poll_seconds: int = DEFAULT_POLL_SECONDS, opts: pulumi.ResourceOptions | None = None):
        super().__init__(CertificateWaitProvider(), name, {
            "certificateArn": certificate_arn, "domainName": domain_name, "region": region,
            "profile": profile or "", "timeoutSeconds": timeout_seconds, "pollSeconds": poll_seconds,
            "note": note, "status": None, "notAfter": None,
        }, opts)
