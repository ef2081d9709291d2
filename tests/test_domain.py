"""Custom domains with TLS (issue 16): config checks, the resource graph of each DNS case, the certificate
wait against moto, and what the outputs, `ops client-config`, `ops status`, the plan and its picture show."""
from __future__ import annotations

import datetime

import boto3
import pytest
from moto import mock_aws

from components.settings.stack import load_settings
from components.errors import ConfigError
from components.providers import certificate_wait
from components.providers.certificate_wait import CertificateError, covers, wait_for_certificate
from ops.plan import mockrun
from tests.infra_helpers import write_dockerfile_app

program = pytest.importorskip("components.program")

NS = "serverless-containers"
ZONE_ID = "Z0123456789EXAMPLE"
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
DOMAIN_NAME = "aws:apigatewayv2/domainName:DomainName"
API_MAPPING = "aws:apigatewayv2/apiMapping:ApiMapping"
RECORD = "aws:route53/record:Record"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
WAIT = "pulumi-python:dynamic/serverless-containers:CertificateWait"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    return write_dockerfile_app(tmp_path_factory.mktemp("apps"), "web")


def settings(web, **api):
    return load_settings({"apis": {"web": {"source": str(web), "auth": False, **api}}}, web.parent, "dev")


def run(web, domain: dict | None, *, zones: dict | None = None, api_type: str = "rest", **api):
    spec = {"source": str(web), "auth": False, "type": api_type, **api}
    if domain is not None:
        spec["domain"] = domain
    return mockrun.run(program.main, config={"apis": {"web": spec}}, hosted_zones=zones or {})


# --- config -----------------------------------------------------------------------------------------

def test_domain_settings_are_parsed(web):
    api = settings(web, domain={"name": "API.Example.com.", "hostedZoneId": f"/hostedzone/{ZONE_ID}",
                                "certificateArn": CERT_ARN, "validationTimeoutMinutes": 5},
                   disableDefaultEndpoint=True).apis["web"]
    assert api.domain.name == "api.example.com" and api.domain.hosted_zone_id == ZONE_ID
    assert api.domain.certificate_arn == CERT_ARN and api.domain.validation_timeout_minutes == 5
    assert api.disable_default_endpoint is True
    plain = settings(web, domain={"name": "api.example.com"}).apis["web"]
    assert plain.domain.validation_timeout_minutes == 30 and plain.domain.hosted_zone_id is None
    assert settings(web).apis["web"].domain is None


@pytest.mark.parametrize("name, words", [
    ("localhost", "no parent domain"), ("api..example.com", "empty label"), ("-api.example.com", "label '-api'"),
    ("api_x.example.com", "label 'api_x'"), ("*.example.com", "wildcard"), ("10.0.0.1", "top-level"),
    ("https://api.example.com", "URL"), ("a" * 64 + ".example.com", "63 characters"),
    ("api.example.com/v1", "URL"),
])
def test_an_invalid_host_name_is_a_config_error_naming_the_key(web, name, words):
    with pytest.raises(ConfigError) as error:
        settings(web, domain={"name": name})
    assert error.value.key == f"{NS}:apis.web.domain.name" and words in str(error.value)
    assert error.value.file == "stacks/Pulumi.dev.yaml"


@pytest.mark.parametrize("domain, key, words", [
    ({"hostedZoneId": ZONE_ID}, "domain.name", "no name"),
    ({"name": "api.example.com", "hostedZoneId": "example.com"}, "domain.hostedZoneId", "hosted zone id"),
    ({"name": "api.example.com", "certificateArn": "arn:aws:iam::123456789012:server-certificate/x"},
     "domain.certificateArn", "not an ACM certificate ARN"),
    ({"name": "api.example.com", "validationTimeoutMinutes": 0}, "domain.validationTimeoutMinutes", "1 to 1440"),
    ({"name": "api.example.com", "disableDefaultEndpoint": True}, "domain", "unknown key"),
    ("api.example.com", "domain", "expected a map"),
])
def test_bad_domain_values_name_their_key(web, domain, key, words):
    with pytest.raises(ConfigError) as error:
        settings(web, domain=domain)
    assert error.value.key == f"{NS}:apis.web.{key}"
    assert words in str(error.value)


def test_the_same_domain_on_two_apis_is_a_config_error(web):
    apis = {name: {"source": str(web), "auth": False, "domain": {"name": "api.example.com"}} for name in ("a", "b")}
    with pytest.raises(ConfigError) as error:
        load_settings({"apis": apis}, web.parent, "dev")
    assert error.value.key == f"{NS}:apis.b.domain.name" and "API 'a'" in str(error.value)


def test_disabling_the_default_endpoint_needs_a_domain(web):
    with pytest.raises(ConfigError) as error:
        settings(web, disableDefaultEndpoint=True)
    assert error.value.key == f"{NS}:apis.web.disableDefaultEndpoint" and "unreachable" in str(error.value)
    with pytest.raises(ConfigError):
        settings(web, domain={"name": "api.example.com"}, disableDefaultEndpoint="yes")


# --- the resource graph ----------------------------------------------------------------------------------

def _mapping_and_domain(result):
    domain, mapping = result.one(DOMAIN_NAME), result.one(API_MAPPING)
    api = result.one("aws:apigatewayv2/api:Api")
    stage = result.one("aws:apigatewayv2/stage:Stage")
    assert domain.inputs["domainName"] == "api.example.com"
    assert domain.inputs["domainNameConfiguration"]["endpointType"] == "REGIONAL"
    assert domain.inputs["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2"
    assert domain.inputs["domainNameConfiguration"]["ipAddressType"] == "dualstack"
    assert mapping.inputs["apiId"] == api.id and mapping.inputs["stage"] == stage.outputs["name"] == "$default"
    assert mapping.inputs["domainName"] == domain.id
    assert result.depends_on(mapping, stage) and result.depends_on(mapping, domain)
    assert domain.inputs["tags"]["api"] == "web"
    return domain


def test_zone_here_found_by_lookup(web):
    result = run(web, {"name": "api.example.com", "validationTimeoutMinutes": 12},
                 zones={"example.com": ZONE_ID, "other.com": "ZOTHER"})
    looked_up = [args["name"] for token, args in result.invokes if token == "aws:route53/getZone:getZone"]
    assert looked_up == ["api.example.com", "example.com"]      # most specific first
    certificate = result.one(CERTIFICATE)
    assert certificate.inputs["domainName"] == "api.example.com" and certificate.inputs["validationMethod"] == "DNS"
    records = {r.name: r for r in result.of_type(RECORD)}
    assert set(records) == {"web-domain-validation", "web-domain-a", "web-domain-aaaa"}
    assert all(r.inputs["zoneId"] == ZONE_ID for r in records.values())
    option = certificate.outputs["domainValidationOptions"][0]
    validation_record = records["web-domain-validation"]
    assert validation_record.inputs["name"] == option["resourceRecordName"]
    assert validation_record.inputs["records"] == [option["resourceRecordValue"]]
    assert validation_record.inputs["type"] == "CNAME"
    validation = result.one(VALIDATION)
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [validation_record.outputs["fqdn"]]
    assert validation.options["customTimeouts"] == {"create": "12m"}
    domain = _mapping_and_domain(result)
    # API Gateway refuses a certificate that is not issued yet: the domain name waits for the validation.
    assert result.depends_on(domain, validation) and result.depends_on(validation, validation_record)
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == certificate.outputs["arn"]
    target = domain.outputs["domainNameConfiguration"]
    for kind in ("a", "aaaa"):
        alias = records[f"web-domain-{kind}"]
        assert alias.inputs["type"] == kind.upper() and alias.inputs["name"] == "api.example.com"
        assert alias.inputs["aliases"] == [{"name": target["targetDomainName"], "zoneId": target["hostedZoneId"],
                                            "evaluateTargetHealth": False}]
    assert result.of_type(WAIT) == []
    outputs = result.outputs["apis"]["web"]
    assert outputs["url"] == "https://api.example.com"
    assert outputs["domain"]["dnsRecords"] == [] and outputs["domain"]["hostedZoneId"] == ZONE_ID
    assert outputs["domain"]["defaultUrl"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert not result.one("aws:apigatewayv2/api:Api").inputs.get("disableExecuteApiEndpoint")


def test_zone_elsewhere_creates_no_record_and_outputs_what_to_add(web):
    result = run(web, {"name": "api.example.com"}, api_type="graphql")
    assert result.of_type(RECORD) == [] and result.of_type(VALIDATION) == []
    certificate = result.one(CERTIFICATE)
    wait = result.one(WAIT)
    assert wait.inputs["certificateArn"] == certificate.outputs["arn"]
    assert wait.inputs["timeoutSeconds"] == 30 * 60 and wait.inputs["domainName"] == "api.example.com"
    domain = _mapping_and_domain(result)
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == certificate.outputs["arn"]
    assert result.depends_on(domain, wait) and result.depends_on(wait, certificate)
    option = certificate.outputs["domainValidationOptions"][0]
    outputs = result.outputs["apis"]["web"]
    assert outputs["url"] == "https://api.example.com/graphql"
    assert outputs["domain"]["hostedZoneId"] == ""
    assert outputs["domain"]["dnsRecords"] == [
        {"type": "CNAME", "name": option["resourceRecordName"], "value": option["resourceRecordValue"],
         "purpose": "certificate validation"},
        {"type": "CNAME", "name": "api.example.com",
         "value": domain.outputs["domainNameConfiguration"]["targetDomainName"],
         "purpose": "custom domain -> API Gateway"}]
    assert any(option["resourceRecordName"] in w and "DNS provider" in w for w in result.warnings)


def test_own_certificate_and_given_zone(web):
    result = run(web, {"name": "api.example.com", "hostedZoneId": ZONE_ID, "certificateArn": CERT_ARN},
                 disableDefaultEndpoint=True)
    assert result.of_type(CERTIFICATE) == [] and result.of_type(VALIDATION) == []
    assert not [token for token, _ in result.invokes if token == "aws:route53/getZone:getZone"]
    wait = result.one(WAIT)
    assert wait.inputs["certificateArn"] == CERT_ARN
    domain = _mapping_and_domain(result)
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == CERT_ARN
    assert sorted(r.inputs["type"] for r in result.of_type(RECORD)) == ["A", "AAAA"]
    assert result.one("aws:apigatewayv2/api:Api").inputs["disableExecuteApiEndpoint"] is True
    outputs = result.outputs["apis"]["web"]
    assert outputs["url"] == "https://api.example.com" and outputs["domain"]["defaultUrl"] == ""
    assert outputs["domain"]["dnsRecords"] == []


def test_own_certificate_with_zone_elsewhere_lists_only_the_gateway_cname(web):
    result = run(web, {"name": "api.example.com", "certificateArn": CERT_ARN})
    records = result.outputs["apis"]["web"]["domain"]["dnsRecords"]
    assert [r["name"] for r in records] == ["api.example.com"] and result.of_type(RECORD) == []


def test_certificate_from_another_region_is_a_config_error(web):
    arn = CERT_ARN.replace("us-east-1", "eu-west-1")
    with pytest.raises(ConfigError) as error:
        run(web, {"name": "api.example.com", "certificateArn": arn})
    assert error.value.key == f"{NS}:apis.web.domain.certificateArn"
    assert "eu-west-1" in str(error.value) and "us-east-1" in str(error.value)


def test_invalid_name_stops_the_program_before_any_resource(web):
    with pytest.raises(ConfigError) as error:
        run(web, {"name": "api..example.com"})
    assert error.value.key == f"{NS}:apis.web.domain.name"


def test_no_domain_changes_nothing(web):
    result = run(web, None)
    assert not result.of_type(DOMAIN_NAME) and not result.of_type(CERTIFICATE)
    assert not [t for t, _ in result.invokes if t == "aws:route53/getZone:getZone"]
    outputs = result.outputs["apis"]["web"]
    assert "domain" not in outputs and ".execute-api." in outputs["url"]


# --- the certificate wait (moto) -------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.time = 0.0

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.time += seconds


@pytest.mark.parametrize("pattern, name, expected", [
    ("api.example.com", "api.example.com", True), ("API.example.com.", "api.example.com", True),
    ("*.example.com", "api.example.com", True), ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False), ("example.com", "api.example.com", False),
])
def test_covers(pattern, name, expected):
    assert covers(pattern, name) is expected


@pytest.fixture
def acm(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield boto3.client("acm", region_name="us-east-1")


def test_wait_returns_once_issued(acm, monkeypatch):
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 0)
    arn = acm.request_certificate(DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    clock = FakeClock()
    certificate = wait_for_certificate(acm, arn, "api.example.com", timeout_seconds=600, clock=clock)
    assert certificate["Status"] == "ISSUED"


def test_timeout_repeats_the_records_to_add(acm, monkeypatch):
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 10 ** 6)
    arn = acm.request_certificate(DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
    clock, reported = FakeClock(), []
    with pytest.raises(CertificateError) as error:
        wait_for_certificate(acm, arn, "api.example.com", timeout_seconds=120, poll_seconds=15, clock=clock,
                             extra="then the CNAME to API Gateway", report=reported.append)
    message = str(error.value)
    assert record["Name"] in message and record["Value"] in message and "CNAME" in message
    assert "2 minute(s)" in message and "then the CNAME to API Gateway" in message
    assert clock.time == 120 and len(reported) == 1 and record["Name"] in reported[0]


def test_a_certificate_that_does_not_cover_the_name_is_refused(acm, monkeypatch):
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 0)
    arn = acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS",
                                  SubjectAlternativeNames=["www.example.com", "*.example.org"])["CertificateArn"]
    with pytest.raises(CertificateError) as error:
        wait_for_certificate(acm, arn, "api.example.com", timeout_seconds=60, clock=FakeClock())
    assert "covers www.example.com, *.example.org, not api.example.com" in str(error.value)
    assert wait_for_certificate(acm, arn, "x.example.org", timeout_seconds=60, clock=FakeClock())["Status"] == "ISSUED"


def test_a_missing_certificate_is_refused(acm):
    with pytest.raises(CertificateError) as error:
        wait_for_certificate(acm, CERT_ARN, "api.example.com", timeout_seconds=60, clock=FakeClock())
    assert "does not exist" in str(error.value)


def test_the_dynamic_provider_fails_the_update_with_the_message(acm, monkeypatch):
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 10 ** 6)
    arn = acm.request_certificate(DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    provider = certificate_wait.CertificateWaitProvider(client_factory=lambda props: acm, clock=FakeClock())
    props = {"certificateArn": arn, "domainName": "api.example.com", "region": "us-east-1", "timeoutSeconds": 60,
             "pollSeconds": 15, "note": ""}
    with pytest.raises(Exception, match="was not issued within 1 minute"):
        provider.create(props)
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 0)
    created = provider.create(props)
    assert created.outs["status"] == "ISSUED" and created.outs["certificateArn"] == arn
    assert not provider.diff(created.id, created.outs, props).changes
    assert provider.diff(created.id, created.outs, {**props, "certificateArn": CERT_ARN}).replaces == ["certificateArn"]


def test_the_provider_signs_in_with_the_stack_settings(monkeypatch):
    used = []
    monkeypatch.setattr(certificate_wait, "session", lambda settings, props: used.append((settings, props)) or
                        type("S", (), {"client": staticmethod(lambda name: name)})())
    provider = certificate_wait.CertificateWaitProvider()
    config = {"aws:region": "eu-west-1", "aws:profile": "deployer"}
    provider.configure(type("Req", (), {"config": config})())
    assert certificate_wait._acm_client({"region": "us-east-1"}, provider.aws) == "acm"
    assert used[0][0].region == "eu-west-1" and used[0][0].profile == "deployer"


def test_zone_lookup_skips_only_missing_zones(monkeypatch):
    from components import domain as domain_module

    asked = []

    def get_zone(name, private_zone):
        asked.append((name, private_zone))
        if name == "eu.example.com":
            return type("Zone", (), {"zone_id": "ZEU", "name": "eu.example.com."})()
        raise Exception("invoke of aws:route53/getZone:getZone failed: no matching Route 53 Hosted Zone found")

    monkeypatch.setattr(domain_module.aws.route53, "get_zone", get_zone)
    assert domain_module.find_zone("api.eu.example.com") == ("ZEU", "eu.example.com")
    assert asked == [("api.eu.example.com", False), ("eu.example.com", False)]
    assert domain_module.find_zone("api.example.net") is None

    def denied(name, private_zone):
        raise Exception("AccessDenied: not authorized to perform route53:ListHostedZonesByName")

    monkeypatch.setattr(domain_module.aws.route53, "get_zone", denied)
    with pytest.raises(Exception, match="AccessDenied"):
        domain_module.find_zone("api.example.com")
