"""The cost-guardrail policy pack: every rule passes and fails on purpose, and the pack loads with its schema.

The rules are pure (policies/rules.py); these tests feed them resources shaped like the wire properties
Pulumi's policy SDK and ops/plan/mockrun.py show (camelCase). The pack itself (policies/__main__.py) is
imported, never run: constructing a PolicyPack would start its server.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyResource, PolicyResourceOptions,
                           ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
                           StackValidationPolicy)
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.errors import ConfigError
from policies import adapter, rules, settings
from policies.__main__ import build_policies

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {p.name: p.defaults() for p in settings.POLICIES}
STACK_URN = "urn:pulumi:dev::serverless-containers::pulumi:pulumi:Stack::serverless-containers-dev"


def res(type_token: str, name: str, parent: str = "", /, **props) -> rules.Resource:
    return rules.Resource(type=type_token, name=name, props=props, urn=f"urn:{name}:{type_token}", parent_urn=parent)


def check(policy: str, type_token: str, props: dict, **overrides) -> list[str]:
    return rules.RESOURCE_RULES[policy](type_token, props, {**DEFAULTS[policy], **overrides})


def check_stack(policy: str, resources: list[rules.Resource], **overrides) -> list[tuple[str, str]]:
    found = rules.STACK_RULES[policy](resources, {**DEFAULTS[policy], **overrides})
    return [(r.name if r else "", message) for r, message in found]


def service(name="web-service", **props) -> rules.Resource:
    base = {"name": "web", "cluster": "serverless-containers-dev", "desiredCount": 1.0,
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/fam-web:1",
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "capacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}],
            "networkConfiguration": {"assignPublicIp": True, "subnets": ["subnet-1"]},
            "serviceRegistries": {"registryArn": "arn:aws:servicediscovery:::service/srv-1", "containerName": "web",
                                  "containerPort": 8080.0}}
    base.update(props)
    return res(rules.ECS_SERVICE, name, "urn:web", **base)


def task(cpu="256", memory="512", **props) -> rules.Resource:
    return res(rules.TASK_DEFINITION, "web-task", "urn:web", family="fam-web", cpu=cpu, memory=memory,
               runtimePlatform={"cpuArchitecture": "X86_64"}, **props)


# ----------------------------------------------------------------------------------------------- resource rules


def test_max_replicas_allows_the_limit_and_refuses_one_more():
    assert check("max-replicas", rules.ECS_SERVICE, {"desiredCount": 4.0}) == []
    [message] = check("max-replicas", rules.ECS_SERVICE, {"desiredCount": 5.0})
    assert "5 tasks" in message and "limit is 4" in message and "maxReplicas" in message
    assert check("max-replicas", rules.ECS_SERVICE, {"desiredCount": 5.0}, maxReplicas=6) == []


def test_max_replicas_sees_the_first_deploy_count_and_autoscaling():
    # A first deploy registers desiredCount 0 and lets the pipeline waiter scale to the replicas.
    run = "pulumi-python:dynamic/serverless-containers:PipelineRun"
    assert "scaleTo" in check("max-replicas", run, {"scaleTo": 50.0, "service": "web"})[0]
    assert check("max-replicas", run, {"scaleTo": 0.0}) == []
    target = rules.SCALING_TARGET
    assert check("max-replicas", target, {"serviceNamespace": "ecs", "maxCapacity": 10.0})
    assert check("max-replicas", target, {"serviceNamespace": "ecs", "maxCapacity": 3.0}) == []
    assert check("max-replicas", target, {"serviceNamespace": "dynamodb", "maxCapacity": 100.0}) == []


def test_max_task_size_reads_every_notation_ecs_accepts():
    assert check("max-task-size", rules.TASK_DEFINITION, {"cpu": "1024", "memory": "2048"}) == []
    assert check("max-task-size", rules.TASK_DEFINITION, {"cpu": "0.25 vCPU", "memory": "0.5 GB"}) == []
    [cpu] = check("max-task-size", rules.TASK_DEFINITION, {"cpu": "2 vCPU", "memory": "2048"})
    assert "2048 CPU units" in cpu and "maxTaskCpu" in cpu
    [memory] = check("max-task-size", rules.TASK_DEFINITION, {"cpu": 512.0, "memory": "4 GB"})
    assert "4096 MiB" in memory and "maxTaskMemory" in memory
    assert check("max-task-size", rules.TASK_DEFINITION, {"cpu": "4096", "memory": "8192"},
                 maxTaskCpu=4096, maxTaskMemory=8192) == []


def test_max_log_retention_refuses_never_expire_and_longer():
    assert check("max-log-retention", rules.LOG_GROUP, {"retentionInDays": 7.0}, maxLogRetentionDays=7) == []
    assert "forever" in check("max-log-retention", rules.LOG_GROUP, {"name": "/x"})[0]
    assert "forever" in check("max-log-retention", rules.LOG_GROUP, {"retentionInDays": 0.0})[0]
    [longer] = check("max-log-retention", rules.LOG_GROUP, {"retentionInDays": 30.0}, maxLogRetentionDays=7)
    assert "30 days" in longer and "limit is 7" in longer


def test_circuit_breaker_needs_enable_and_rollback():
    good = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    assert check("deployment-circuit-breaker", rules.ECS_SERVICE, good) == []
    assert "no deployment circuit breaker" in check("deployment-circuit-breaker", rules.ECS_SERVICE, {})[0]
    [no_rollback] = check("deployment-circuit-breaker", rules.ECS_SERVICE,
                          {"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    assert "does not roll back" in no_rollback
    # CodeDeploy blue/green rolls back by itself; the ECS breaker does not apply.
    assert check("deployment-circuit-breaker", rules.ECS_SERVICE,
                 {"deploymentController": {"type": "CODE_DEPLOY"}}) == []


def definitions(*containers: dict) -> dict:
    return {"containerDefinitions": json.dumps(list(containers))}


def test_secret_looking_environment_values_are_flagged():
    literal = definitions({"name": "api", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"},
                                                          {"name": "PORT", "value": "8080"},
                                                          {"name": "STRIPE_APIKEY", "value": "sk_live"}]})
    found = check("no-secrets-in-environment", rules.TASK_DEFINITION, literal)
    assert len(found) == 2
    assert "DB_PASSWORD" in found[0] and "'api'" in found[0] and "secrets:" in found[0]
    assert "STRIPE_APIKEY" in found[1]


def test_secrets_from_secrets_manager_and_harmless_names_pass():
    fine = definitions({"name": "api",
                        "environment": [{"name": "PORT", "value": "8080"}, {"name": "MONKEY", "value": "x"},
                                        {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db"},
                                        {"name": "EMPTY_TOKEN", "value": ""},
                                        {"name": "TOKENIZER_MODEL", "value": "bert"}],
                        "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:...:API_TOKEN"}]})
    assert check("no-secrets-in-environment", rules.TASK_DEFINITION, fine) == []
    allowed = definitions({"name": "api", "environment": [{"name": "PUBLIC_KEY", "value": "ssh-ed25519 AAAA"}]})
    assert check("no-secrets-in-environment", rules.TASK_DEFINITION, allowed)
    assert check("no-secrets-in-environment", rules.TASK_DEFINITION, allowed, allowedNames=["PUBLIC_KEY"]) == []


def test_ecr_scan_on_push():
    assert check("ecr-scan-on-push", rules.ECR_REPOSITORY, {"imageScanningConfiguration": {"scanOnPush": True}}) == []
    assert check("ecr-scan-on-push", rules.ECR_REPOSITORY, {"imageScanningConfiguration": {"scanOnPush": False}})
    assert check("ecr-scan-on-push", rules.ECR_REPOSITORY, {"name": "repo"})


def route(key: str, authorization: str | None = "NONE", api: object = "api-1") -> rules.Resource:
    props = {"routeKey": key, "apiId": api, **({"authorizationType": authorization} if authorization else {})}
    return res(rules.HTTP_ROUTE, f"route {key}", "urn:api", **props)


def test_api_auth_only_where_the_environment_requires_it():
    open_route = route("$default")
    assert check_stack("api-auth", [open_route]) == []          # default: not required
    [(_, message)] = check_stack("api-auth", [open_route], requireAuth=True)
    assert "'$default'" in message and "auth: true" in message
    assert check_stack("api-auth", [route("$default", "JWT")], requireAuth=True) == []
    assert check_stack("api-auth", [route("OPTIONS /{proxy+}")], requireAuth=True) == []   # no authorizer on the API
    assert check_stack("api-auth", [route("GET /health", None)], requireAuth=True, publicRoutes=["GET /health"]) == []


def test_api_auth_flags_an_options_route_beside_an_authorizer_in_every_environment():
    """The old fix for preflights (an unauthenticated OPTIONS route) forwarded plain OPTIONS requests unsigned."""
    authorizer = res(rules.AUTHORIZER, "jwt", "urn:api", apiId="api-1", authorizerType="JWT")
    preflight = route("OPTIONS /{proxy+}")
    for required in (False, True):
        stack = [authorizer, route("GET /", "JWT"), preflight]
        [(name, message)] = check_stack("api-auth", stack, requireAuth=required)
        assert name == "route OPTIONS /{proxy+}" and "without sign-in" in message and "publicRoutes" in message
    # another API's authorizer does not count; nor does an OPTIONS route the stack lists as public
    other = res(rules.AUTHORIZER, "jwt", "urn:other", apiId="api-2", authorizerType="JWT")
    assert check_stack("api-auth", [other, preflight]) == []
    assert check_stack("api-auth", [authorizer, preflight], publicRoutes=["OPTIONS /{proxy+}"]) == []
    # while ids are unknown (a first preview), the route and the authorizer of one API share their parent
    unknown = res(rules.HTTP_ROUTE, "pre", "urn:api", routeKey="OPTIONS /", apiId=rules.UNKNOWN,
                  authorizationType="NONE")
    unknown_authorizer = res(rules.AUTHORIZER, "jwt", "urn:api", apiId=rules.UNKNOWN)
    assert len(check_stack("api-auth", [unknown_authorizer, unknown])) == 1


def test_unknown_values_are_never_violations():
    assert check("max-replicas", rules.ECS_SERVICE, {"desiredCount": rules.UNKNOWN}) == []
    assert check("no-secrets-in-environment", rules.TASK_DEFINITION, {"containerDefinitions": rules.UNKNOWN}) == []
    assert check("max-log-retention", rules.LOG_GROUP, {"retentionInDays": rules.UNKNOWN}) == []


# -------------------------------------------------------------------------------------------------- stack rules


def ecr_policy(*rules_: dict) -> str:
    return json.dumps({"rules": [{"rulePriority": i + 1, "selection": r, "action": {"type": "expire"}}
                                 for i, r in enumerate(rules_)]})


KEEP_LATEST = {"tagStatus": "tagged", "tagPatternList": ["latest"], "countType": "imageCountMoreThan", "countNumber": 1}


def seven_days(status="any", days=7):
    return {"tagStatus": status, "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days}


def test_ecr_lifecycle_passes_with_a_7_day_rule_for_every_image():
    repository = res(rules.ECR_REPOSITORY, "images-web", "urn:images", name="sc-dev-web-web")
    policy = res(rules.ECR_LIFECYCLE, "images-web", "urn:images", repository="sc-dev-web-web",
                 policy=ecr_policy(KEEP_LATEST, seven_days()))
    assert check_stack("ecr-lifecycle", [repository, policy]) == []


def test_ecr_lifecycle_fails_when_missing_longer_or_partial():
    repository = res(rules.ECR_REPOSITORY, "images-web", "urn:images", name="sc-dev-web-web")
    [(name, missing)] = check_stack("ecr-lifecycle", [repository])
    assert name == "images-web" and "no lifecycle policy" in missing
    longer = res(rules.ECR_LIFECYCLE, "p", "urn:other", repository="sc-dev-web-web", policy=ecr_policy(seven_days(days=30)))
    messages = [m for _, m in check_stack("ecr-lifecycle", [repository, longer])]
    assert any("30 days" in m for m in messages) and any("tagStatus any" in m for m in messages)
    untagged_only = res(rules.ECR_LIFECYCLE, "p", "urn:other", repository="sc-dev-web-web",
                        policy=ecr_policy(seven_days("untagged", 1)))
    assert "tagStatus any" in check_stack("ecr-lifecycle", [repository, untagged_only])[0][1]
    # A policy on another repository does not count.
    elsewhere = res(rules.ECR_LIFECYCLE, "q", "urn:other", repository="another", policy=ecr_policy(seven_days()))
    assert "no lifecycle policy" in check_stack("ecr-lifecycle", [repository, elsewhere])[0][1]
    assert check_stack("ecr-lifecycle", [repository, longer], maxImageAgeDays=30) == []


def test_ecr_lifecycle_matches_by_parent_and_name_while_the_repository_name_is_unknown():
    repository = res(rules.ECR_REPOSITORY, "images-web", "urn:images", name=rules.UNKNOWN)
    policy = res(rules.ECR_LIFECYCLE, "images-web", "urn:images", repository=rules.UNKNOWN,
                 policy=ecr_policy(seven_days()))
    assert check_stack("ecr-lifecycle", [repository, policy]) == []


def bucket(**props) -> rules.Resource:
    return res("aws:s3/bucket:Bucket", "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234", **props)


def s3_rules(*rules_: dict) -> rules.Resource:
    return res(rules.S3_LIFECYCLES[0], "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234", rules=list(rules_))


def test_s3_lifecycle_passes_with_7_day_expiry_of_objects_and_versions():
    versioning = res(rules.S3_VERSIONINGS[0], "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234",
                     versioningConfiguration={"status": "Enabled"})
    config = s3_rules({"id": "artifacts", "status": "Enabled", "expiration": {"days": 7.0}},
                      {"id": "versions", "status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 7.0}})
    assert check_stack("s3-lifecycle", [bucket(), config, versioning]) == []
    # The deprecated inline rules on the bucket count too.
    inline = bucket(lifecycleRules=[{"enabled": True, "expiration": {"days": 3.0}}])
    assert check_stack("s3-lifecycle", [inline]) == []


def test_s3_lifecycle_fails_when_missing_longer_disabled_or_versions_kept():
    assert "no lifecycle rule" in check_stack("s3-lifecycle", [bucket()])[0][1]
    longer = s3_rules({"id": "slow", "status": "Enabled", "expiration": {"days": 30.0}})
    messages = [m for _, m in check_stack("s3-lifecycle", [bucket(), longer])]
    assert any("'slow'" in m and "30 days" in m for m in messages)
    disabled = s3_rules({"id": "off", "status": "Disabled", "expiration": {"days": 1.0}})
    assert "no enabled lifecycle rule" in check_stack("s3-lifecycle", [bucket(), disabled])[0][1]
    versioning = res(rules.S3_VERSIONINGS[0], "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234",
                     versioningConfiguration={"status": "Enabled"})
    current_only = s3_rules({"id": "a", "status": "Enabled", "expiration": {"days": 7.0}})
    assert "replaced versions" in check_stack("s3-lifecycle", [bucket(), current_only, versioning])[0][1]


def test_s3_public_access_block():
    full = res(rules.S3_PUBLIC_ACCESS_BLOCK, "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234",
               **{s: True for s in rules.PUBLIC_ACCESS_SETTINGS})
    assert check_stack("s3-public-access-block", [bucket(), full]) == []
    assert "no public access block" in check_stack("s3-public-access-block", [bucket()])[0][1]
    partial = res(rules.S3_PUBLIC_ACCESS_BLOCK, "artifacts", "urn:pipeline", bucket="dev-web-artifacts-1234",
                  **{**{s: True for s in rules.PUBLIC_ACCESS_SETTINGS}, "blockPublicPolicy": False})
    assert "blockPublicPolicy" in check_stack("s3-public-access-block", [bucket(), partial])[0][1]


def test_max_nat_gateways():
    nat = res(rules.NAT_GATEWAY, "network-nat-a", "urn:network", subnetId="subnet-1")
    assert check_stack("max-nat-gateways", []) == []
    [(name, message)] = check_stack("max-nat-gateways", [nat])
    assert name == "network-nat-a" and "1 NAT gateway;" in message and "limit is 0" in message
    assert check_stack("max-nat-gateways", [nat], maxNatGateways=1) == []


def test_fargate_spot_required_allowed_forbidden():
    spot = service()
    on_demand = service(capacityProviderStrategies=[{"capacityProvider": "FARGATE", "weight": 1.0}])
    mixed = service(capacityProviderStrategies=[{"capacityProvider": "FARGATE", "weight": 1.0, "base": 1.0},
                                                {"capacityProvider": "FARGATE_SPOT", "weight": 3.0}])
    assert check_stack("fargate-spot", [spot], fargateSpot="required") == []
    assert "requires Fargate Spot" in check_stack("fargate-spot", [on_demand], fargateSpot="required")[0][1]
    assert check_stack("fargate-spot", [mixed], fargateSpot="required")
    assert check_stack("fargate-spot", [on_demand], fargateSpot="forbidden") == []
    assert "forbids" in check_stack("fargate-spot", [mixed], fargateSpot="forbidden")[0][1]
    assert check_stack("fargate-spot", [on_demand, spot]) == []        # default: allowed


def test_fargate_spot_follows_the_cluster_default_strategy():
    plain_service = service(capacityProviderStrategies=[])
    default_spot = res(rules.CLUSTER_CAPACITY, "cluster-capacity", clusterName="serverless-containers-dev",
                       defaultCapacityProviderStrategies=[{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}])
    assert check_stack("fargate-spot", [plain_service, default_spot], fargateSpot="required") == []
    assert check_stack("fargate-spot", [plain_service, default_spot], fargateSpot="forbidden")
    launch_type = service(capacityProviderStrategies=[], launchType="FARGATE")
    assert check_stack("fargate-spot", [launch_type, default_spot], fargateSpot="required")


def test_monthly_idle_budget():
    stack = [service(desiredCount=2.0), task()]
    assert check_stack("monthly-idle-budget", stack) == []
    [(name, message)] = check_stack("monthly-idle-budget", stack, monthlyIdleBudgetUsd=1)
    assert name == "" and "over the budget of $1.00" in message and "Public IPv4" in message


def test_every_policy_has_exactly_one_rule():
    assert set(rules.RESOURCE_RULES) | set(rules.STACK_RULES) == set(settings.POLICY_NAMES)
    assert not set(rules.RESOURCE_RULES) & set(rules.STACK_RULES)


# ------------------------------------------------------------------------------------------ settings and files


def test_cost_ceilings_are_mandatory_and_the_rest_advisory_by_default():
    """...but for a literal shaped like a live credential, which is leaked in any stack (issue 23)."""
    always = {p.name for p in settings.CREDENTIAL_POLICIES}
    assert always == {"no-credentials-in-values"}
    for policy in settings.POLICIES:
        mandatory = policy.cost_ceiling or policy.name in always
        assert policy.default_level == (settings.MANDATORY if mandatory else settings.ADVISORY), policy.name
    ceilings = {p.name for p in settings.POLICIES if p.cost_ceiling}
    assert {"max-replicas", "max-task-size", "max-nat-gateways", "monthly-idle-budget"} <= ceilings
    assert DEFAULTS["max-replicas"] == {"maxReplicas": 4}
    assert DEFAULTS["max-nat-gateways"] == {"maxNatGateways": 0}
    assert DEFAULTS["ecr-lifecycle"] == {"maxImageAgeDays": 7} and DEFAULTS["s3-lifecycle"] == {"maxObjectAgeDays": 7}


def test_effective_settings_layer_defaults_all_and_each_policy():
    policies = settings.effective({"all": "advisory", "max-replicas": {"maxReplicas": 2},
                                   "api-auth": {"enforcementLevel": "mandatory", "requireAuth": True},
                                   "ecr-scan-on-push": "disabled"})
    assert policies["max-replicas"].level == "advisory" and policies["max-replicas"].settings == {"maxReplicas": 2}
    assert policies["api-auth"].level == "mandatory" and policies["api-auth"].settings["publicRoutes"] == []
    assert policies["ecr-scan-on-push"].level == "disabled"
    assert policies["max-task-size"].level == "advisory"
    assert settings.effective({})["max-task-size"].level == "mandatory"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_sample_stack_files_are_valid_policy_pack_config(stack):
    path = ROOT / "policies" / "config" / f"{stack}.json"
    document = settings.read_config_file(path)
    for name, value in document.items():
        properties = settings.spec(name).properties
        given = {k: v for k, v in value.items() if k != "enforcementLevel"} if isinstance(value, dict) else {}
        jsonschema.validate(given, {"type": "object", "properties": properties, "additionalProperties": False})


def test_dev_requires_spot_and_prod_requires_sign_in():
    dev, _ = settings.for_stack("dev")
    prod, _ = settings.for_stack("prod")
    assert dev["fargate-spot"].settings["fargateSpot"] == "required" and dev["fargate-spot"].level == "mandatory"
    assert prod["api-auth"].settings["requireAuth"] is True and prod["api-auth"].level == "mandatory"


@pytest.mark.parametrize("document, key", [
    ({"max-replica": {"maxReplicas": 2}}, "max-replica"),
    ({"max-replicas": {"maxReplicas": "two"}}, "max-replicas.maxReplicas"),
    ({"max-replicas": {"replicas": 2}}, "max-replicas.replicas"),
    ({"fargate-spot": {"fargateSpot": "always"}}, "fargate-spot.fargateSpot"),
    ({"max-replicas": "strict"}, "max-replicas"),
])
def test_a_bad_policy_config_file_is_a_config_error_naming_the_key(tmp_path, document, key):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as raised:
        settings.read_config_file(path)
    assert raised.value.key == key and raised.value.file == str(path) and raised.value.fix


# ----------------------------------------------------------------------------------------- the pack itself


def test_the_pack_definition_points_at_the_project_virtualenv():
    document = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert document["runtime"]["name"] == "python"
    assert (ROOT / "policies" / document["runtime"]["options"]["virtualenv"] / "bin" / "python").exists()
    assert (ROOT / "policies" / "__main__.py").is_file()


def test_the_pack_builds_one_policy_per_rule_with_its_level_and_schema():
    built = build_policies()
    assert [p.name for p in built] == list(settings.POLICY_NAMES)
    levels = {settings.MANDATORY: EnforcementLevel.MANDATORY, settings.ADVISORY: EnforcementLevel.ADVISORY}
    for policy, policy_spec in zip(built, settings.POLICIES):
        expected = ResourceValidationPolicy if policy.name in rules.RESOURCE_RULES else StackValidationPolicy
        assert isinstance(policy, expected), policy.name
        assert policy.enforcement_level == levels[policy_spec.default_level]
        assert policy.description
        if policy_spec.properties:
            assert isinstance(policy.config_schema, PolicyConfigSchema)
            assert policy.config_schema.properties == policy_spec.properties
            # Each schema is valid JSON schema, and its defaults satisfy it.
            schema = {"type": "object", "properties": policy.config_schema.properties}
            jsonschema.Draft7Validator.check_schema(schema)
            jsonschema.validate(policy_spec.defaults(), schema)
        else:
            assert policy.config_schema is None


def by_name(name: str):
    return next(p for p in build_policies() if p.name == name)


def resource_args(type_token: str, props: dict, config: dict | None = None, name: str = "web-service"):
    return ResourceValidationArgs(type_token, unknown_checking_proxy(props), f"urn:{name}", name,
                                  PolicyResourceOptions(False, [], False, [], None, [], "urn:parent"), None, config)


def test_a_pack_resource_policy_reports_through_the_sdk_with_defaults_and_config():
    reported: list[tuple[str, str | None]] = []
    policy = by_name("max-replicas")
    policy.validate(resource_args(rules.ECS_SERVICE, {"desiredCount": 50}), lambda m, urn=None: reported.append((m, urn)))
    assert len(reported) == 1 and "50 tasks" in reported[0][0] and "limit is 4" in reported[0][0]
    reported.clear()
    policy.validate(resource_args(rules.ECS_SERVICE, {"desiredCount": 50}, {"maxReplicas": 60}),
                    lambda m, urn=None: reported.append((m, urn)))
    assert reported == []


def test_a_value_unknown_during_preview_does_not_break_the_pack():
    reported = []
    props = {"desiredCount": UNKNOWN_NUMBER_VALUE, "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    for name in ("max-replicas", "deployment-circuit-breaker"):
        by_name(name).validate(resource_args(rules.ECS_SERVICE, props), lambda m, urn=None: reported.append(m))
    assert reported == []
    assert adapter.plain(unknown_checking_proxy({"a": [UNKNOWN_STRING_VALUE, "x"], "b": {"c": 1}})) == \
        {"a": [rules.UNKNOWN, "x"], "b": {"c": 1}}


def policy_resource(type_token: str, name: str, props: dict, parent: PolicyResource | None = None) -> PolicyResource:
    return PolicyResource(type_token, unknown_checking_proxy(props), f"urn:{name}:{type_token}", name,
                          PolicyResourceOptions(False, [], False, [], None, [], parent.urn if parent else None),
                          None, parent, [], {})


def test_a_pack_stack_policy_names_the_resource_urn():
    component = policy_resource("serverless-containers:registry:ImageRepositories", "images", {})
    repository = policy_resource(rules.ECR_REPOSITORY, "images-web", {"name": "repo-web"}, component)
    reported: list[tuple[str, str | None]] = []
    by_name("ecr-lifecycle").validate(StackValidationArgs([component, repository], None),
                                      lambda m, urn=None: reported.append((m, urn)))
    [(message, urn)] = reported
    assert message.startswith("images-web: has no lifecycle policy") and urn == repository.urn
    [converted] = [r for r in adapter.resources_from_stack(StackValidationArgs([component, repository]))
                   if r.name == "images-web"]
    assert converted.parent_urn == component.urn and converted.props == {"name": "repo-web"}


# ---------------------------------------------------- the pack behind the analyzer protocol the engine speaks


def servicer():
    """The analyzer the engine talks to over gRPC, without the server PolicyPack would start."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from policies.__main__ import PACK_NAME
    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", build_policies(), EnforcementLevel.ADVISORY)


def struct(props: dict):
    from google.protobuf import struct_pb2
    value = struct_pb2.Struct()
    value.update(props)
    return value


def configure(analyzer, document: dict) -> None:
    """What `--policy-pack-config FILE` becomes: every policy's level and properties."""
    from pulumi.runtime.proto import analyzer_pb2
    levels = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
              "disabled": analyzer_pb2.DISABLED}
    effective = settings.effective(document)
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=levels[p.level], properties=struct(p.settings))
        for name, p in effective.items()}), None)


def test_the_engine_protocol_reports_a_mandatory_replica_violation_and_honours_the_config_file():
    from pulumi.runtime.proto import analyzer_pb2

    analyzer = servicer()
    info = analyzer.GetAnalyzerInfo(None, None)
    assert [p.name for p in info.policies] == list(settings.POLICY_NAMES)
    replicas_info = next(p for p in info.policies if p.name == "max-replicas")
    assert replicas_info.enforcementLevel == analyzer_pb2.MANDATORY
    assert replicas_info.configSchema.properties["maxReplicas"]["default"] == 4

    request = analyzer_pb2.AnalyzeRequest(type=rules.ECS_SERVICE, name="big-service", urn="urn:big-service",
                                          properties=struct({"desiredCount": 50, "deploymentCircuitBreaker": {}}))
    diagnostics = {d.policyName: d for d in analyzer.Analyze(request, None).diagnostics}
    assert diagnostics["max-replicas"].enforcementLevel == analyzer_pb2.MANDATORY
    assert "50 tasks" in diagnostics["max-replicas"].message and "limit is 4 " in diagnostics["max-replicas"].message
    assert diagnostics["deployment-circuit-breaker"].enforcementLevel == analyzer_pb2.ADVISORY

    configure(analyzer, {"max-replicas": {"maxReplicas": 60}, "deployment-circuit-breaker": "disabled"})
    assert analyzer.Analyze(request, None).diagnostics == []


def test_the_engine_protocol_runs_the_stack_policies_with_unknown_values():
    from pulumi.runtime.proto import analyzer_pb2
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    analyzer = servicer()
    configure(analyzer, json.loads((ROOT / "policies" / "config" / "dev.json").read_text()))
    resources = [
        analyzer_pb2.AnalyzerResource(type=rules.ECR_REPOSITORY, name="images-web", urn="urn:repo",
                                      parent="urn:images", properties=struct({"name": "repo-web"})),
        # While its repository's name is unknown, a lifecycle policy is matched by parent and name.
        analyzer_pb2.AnalyzerResource(type=rules.ECR_LIFECYCLE, name="images-web", urn="urn:lifecycle",
                                      parent="urn:images", properties=struct({
                                          "repository": UNKNOWN_STRING_VALUE,
                                          "policy": ecr_policy(KEEP_LATEST, seven_days())})),
        analyzer_pb2.AnalyzerResource(type=rules.NAT_GATEWAY, name="network-nat", urn="urn:nat",
                                      properties=struct({"subnetId": UNKNOWN_STRING_VALUE})),
        analyzer_pb2.AnalyzerResource(type=rules.ECS_SERVICE, name="web-service", urn="urn:service", properties=struct(
            {"capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1}]})),
    ]
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), None)
    found = {(d.policyName, d.urn): d for d in response.diagnostics}
    # The NAT gateway alone (730 h x $0.045 = $32.85) is over dev's $25 budget.
    assert set(found) == {("max-nat-gateways", "urn:nat"), ("fargate-spot", "urn:service"),
                          ("monthly-idle-budget", "")}
    assert "NAT gateways $32.85" in found[("monthly-idle-budget", "")].message
    assert found[("max-nat-gateways", "urn:nat")].enforcementLevel == analyzer_pb2.MANDATORY
    assert found[("fargate-spot", "urn:service")].enforcementLevel == analyzer_pb2.MANDATORY   # dev.json
    assert "\nnetwork-nat: the stack has 1 NAT gateway" in found[("max-nat-gateways", "urn:nat")].message
