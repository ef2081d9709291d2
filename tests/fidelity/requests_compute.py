"""Mappers for ECS, IAM, CloudWatch Logs and Events, ECR, CodeBuild and CodePipeline: recorded Pulumi inputs -> the AWS
API requests (see aws_requests.py)."""
from __future__ import annotations

import json

from tests.fidelity.request_shapes import AUTONAME_SUFFIX, Inputs, camel, compact, pascal, tag_list

# --- ECS -----------------------------------------------------------------------------------------

def _ecs_tags(tags: dict | None) -> list | None:
    return tag_list(tags, "key", "value")


def _cluster(i: Inputs) -> list:
    return [("ecs", "CreateCluster", compact({
        "clusterName": i.name(), "settings": i.get("settings"), "configuration": i.get("configuration"),
        "serviceConnectDefaults": i.get("serviceConnectDefaults"), "tags": _ecs_tags(i.get("tags"))}), True)]


def _capacity_strategy(items: list | None) -> list | None:
    return [compact({"capacityProvider": s.get("capacityProvider"), "weight": s.get("weight"),
                     "base": s.get("base")}) for s in items] if items else None


def _cluster_capacity_providers(i: Inputs) -> list:
    return [("ecs", "PutClusterCapacityProviders", {
        "cluster": i.get("clusterName"), "capacityProviders": i.get("capacityProviders") or [],
        "defaultCapacityProviderStrategy": _capacity_strategy(i.get("defaultCapacityProviderStrategies")) or []},
        True)]


def _task_volume(volume: dict) -> dict:
    out = {k: v for k, v in volume.items() if k not in ("hostPath",)}
    if volume.get("hostPath"):
        out["host"] = {"sourcePath": volume["hostPath"]}
    return out


def _task_definition(i: Inputs) -> list:
    i.provider_only("skipDestroy", "trackLatest")
    definitions = i.get("containerDefinitions")
    return [("ecs", "RegisterTaskDefinition", compact({
        "family": i.get("family"),
        "containerDefinitions": json.loads(definitions) if isinstance(definitions, str) else definitions,
        "taskRoleArn": i.get("taskRoleArn"), "executionRoleArn": i.get("executionRoleArn"),
        "networkMode": i.get("networkMode"), "cpu": i.get("cpu"), "memory": i.get("memory"),
        "requiresCompatibilities": i.get("requiresCompatibilities"), "runtimePlatform": i.get("runtimePlatform"),
        "volumes": [_task_volume(v) for v in i.get("volumes") or []] or None,
        "ephemeralStorage": i.get("ephemeralStorage"), "pidMode": i.get("pidMode"), "ipcMode": i.get("ipcMode"),
        "proxyConfiguration": i.get("proxyConfiguration"), "placementConstraints": i.get("placementConstraints"),
        "tags": _ecs_tags(i.get("tags"))}), True)]


def _ecs_service(i: Inputs) -> list:
    i.provider_only("waitForSteadyState", "forceNewDeployment", "triggers", "forceDelete")
    network = i.get("networkConfiguration")
    awsvpc = None
    if network:
        awsvpc = {"awsvpcConfiguration": compact({
            "subnets": network.get("subnets"), "securityGroups": network.get("securityGroups"),
            "assignPublicIp": None if network.get("assignPublicIp") is None
            else ("ENABLED" if network["assignPublicIp"] else "DISABLED")})}
    registries = i.get("serviceRegistries")
    deployment = compact({
        "deploymentCircuitBreaker": i.get("deploymentCircuitBreaker"),
        "maximumPercent": i.get("deploymentMaximumPercent"),
        "minimumHealthyPercent": i.get("deploymentMinimumHealthyPercent"),
        "alarms": i.get("alarms")})
    return [("ecs", "CreateService", compact({
        "cluster": i.get("cluster"), "serviceName": i.name(prefix_key=None), "taskDefinition": i.get("taskDefinition"),
        "desiredCount": i.get("desiredCount"), "launchType": i.get("launchType"),
        "capacityProviderStrategy": _capacity_strategy(i.get("capacityProviderStrategies")),
        "platformVersion": i.get("platformVersion"), "networkConfiguration": awsvpc,
        "serviceRegistries": [registries] if registries else None,
        "loadBalancers": i.get("loadBalancers"),
        "deploymentConfiguration": deployment or None,
        "deploymentController": i.get("deploymentController"),
        "healthCheckGracePeriodSeconds": i.get("healthCheckGracePeriodSeconds"),
        "enableECSManagedTags": i.get("enableEcsManagedTags"), "propagateTags": i.get("propagateTags"),
        "enableExecuteCommand": i.get("enableExecuteCommand"), "schedulingStrategy": i.get("schedulingStrategy"),
        "placementConstraints": i.get("placementConstraints"),
        "placementStrategy": i.get("orderedPlacementStrategies"),
        "availabilityZoneRebalancing": i.get("availabilityZoneRebalancing"),
        "serviceConnectConfiguration": i.get("serviceConnectConfiguration"),
        "tags": _ecs_tags(i.get("tags"))}), True)]


# --- IAM -----------------------------------------------------------------------------------------

def _iam_role(i: Inputs) -> list:
    i.provider_only("forceDetachPolicies")
    role = i.name()
    out = [("iam", "CreateRole", compact({
        "RoleName": role, "Path": i.get("path"), "AssumeRolePolicyDocument": i.get("assumeRolePolicy"),
        "Description": i.get("description"), "MaxSessionDuration": i.get("maxSessionDuration"),
        "PermissionsBoundary": i.get("permissionsBoundary"), "Tags": tag_list(i.get("tags"))}), True)]
    for policy in i.get("inlinePolicies") or []:
        out.append(("iam", "PutRolePolicy", {"RoleName": role, "PolicyName": policy.get("name"),
                                             "PolicyDocument": policy.get("policy")}))
    for arn in i.get("managedPolicyArns") or []:
        out.append(("iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": arn}))
    return out


def _iam_role_policy(i: Inputs) -> list:
    return [("iam", "PutRolePolicy", {"RoleName": i.get("role"), "PolicyName": i.name(),
                                      "PolicyDocument": i.get("policy")}, True)]


def _iam_role_policy_attachment(i: Inputs) -> list:
    return [("iam", "AttachRolePolicy", {"RoleName": i.get("role"), "PolicyArn": i.get("policyArn")}, True)]


def _iam_policy(i: Inputs) -> list:
    return [("iam", "CreatePolicy", compact({
        "PolicyName": i.name(), "Path": i.get("path"), "PolicyDocument": i.get("policy"),
        "Description": i.get("description"), "Tags": tag_list(i.get("tags"))}), True)]


# --- CloudWatch Logs / Events ---------------------------------------------------------------------

def _log_group(i: Inputs) -> list:
    i.provider_only("skipDestroy")
    name = i.name()
    out = [("logs", "CreateLogGroup", compact({
        "logGroupName": name, "kmsKeyId": i.get("kmsKeyId"), "logGroupClass": i.get("logGroupClass"),
        "tags": i.get("tags") or None}), True)]
    if i.get("retentionInDays"):
        out.append(("logs", "PutRetentionPolicy", {"logGroupName": name, "retentionInDays": i.data["retentionInDays"]}))
    return out


def _event_rule(i: Inputs) -> list:
    state = i.get("state") or (None if i.get("isEnabled") is None else ("ENABLED" if i.data["isEnabled"] else "DISABLED"))
    return [("events", "PutRule", compact({
        "Name": i.name(), "EventPattern": i.get("eventPattern"), "ScheduleExpression": i.get("scheduleExpression"),
        "Description": i.get("description"), "RoleArn": i.get("roleArn"), "State": state,
        "EventBusName": i.get("eventBusName"), "Tags": tag_list(i.get("tags"))}), True)]


def _event_target(i: Inputs) -> list:
    target = compact({"Id": i.get("targetId") or i.resource.name + AUTONAME_SUFFIX, "Arn": i.get("arn"),
                      "RoleArn": i.get("roleArn"), "Input": i.get("input"), "InputPath": i.get("inputPath"),
                      "InputTransformer": pascal(i.get("inputTransformer"), {"inputPaths": "InputPathsMap"})})
    return [("events", "PutTargets", compact({"Rule": i.get("rule"), "EventBusName": i.get("eventBusName"),
                                              "Targets": [target]}), True)]


# --- ECR -----------------------------------------------------------------------------------------

def _repository(i: Inputs) -> list:
    i.provider_only("forceDelete")
    encryption = i.get("encryptionConfigurations")
    return [("ecr", "CreateRepository", compact({
        "repositoryName": i.name(prefix_key=None), "imageTagMutability": i.get("imageTagMutability"),
        "imageTagMutabilityExclusionFilters": [
            {"filterType": f.get("filterType"), "filter": f.get("filter")}
            for f in i.get("imageTagMutabilityExclusionFilters")] if i.get("imageTagMutabilityExclusionFilters") else None,
        "imageScanningConfiguration": i.get("imageScanningConfiguration"),
        "encryptionConfiguration": encryption[0] if encryption else None,
        "tags": tag_list(i.get("tags"))}), True)]


def _lifecycle_policy(i: Inputs) -> list:
    return [("ecr", "PutLifecyclePolicy", {"repositoryName": i.get("repository"),
                                           "lifecyclePolicyText": i.get("policy")}, True)]


def _repository_policy(i: Inputs) -> list:
    return [("ecr", "SetRepositoryPolicy", {"repositoryName": i.get("repository"), "policyText": i.get("policy")},
             True)]


# --- CodeBuild / CodePipeline / CodeStar connections ---------------------------------------------

def _codebuild_project(i: Inputs) -> list:
    keys = ("description", "source", "artifacts", "environment", "serviceRole", "encryptionKey", "vpcConfig",
            "badgeEnabled", "cache", "concurrentBuildLimit", "sourceVersion", "secondarySources",
            "secondaryArtifacts", "secondarySourceVersions", "fileSystemLocations", "buildBatchConfig",
            "autoRetryLimit")
    params = camel(compact({k: i.get(k) for k in keys}))
    logs = i.get("logsConfig")
    if logs:
        params["logsConfig"] = camel(logs, {"cloudwatchLogs": "cloudWatchLogs"})
    if "vpcConfig" in params:
        params["vpcConfig"] = camel(params["vpcConfig"], {"securityGroupIds": "securityGroupIds"})
    i.get("projectVisibility")   # a separate UpdateProjectVisibility call; PRIVATE by default
    return [("codebuild", "CreateProject", compact({
        "name": i.name(prefix_key=None), **params, "timeoutInMinutes": i.get("buildTimeout"),
        "queuedTimeoutInMinutes": i.get("queuedTimeout"), "tags": tag_list(i.get("tags"), "key", "value")}), True)]


def _pipeline_action(action: dict) -> dict:
    type_id = {k: action.get(k) for k in ("category", "owner", "provider", "version")}
    rest = {k: v for k, v in action.items() if k not in type_id}
    out = compact({
        "name": rest.pop("name", None), "actionTypeId": type_id, "runOrder": rest.pop("runOrder", None),
        "configuration": rest.pop("configuration", None),
        "outputArtifacts": [{"name": n} for n in rest.pop("outputArtifacts", None) or []] or None,
        "inputArtifacts": [{"name": n} for n in rest.pop("inputArtifacts", None) or []] or None})
    out.update(rest)   # roleArn, region, namespace, timeoutInMinutes, commands, outputVariables: same names
    return out


def _pipeline(i: Inputs) -> list:
    stores = i.get("artifactStores") or []
    pipeline: dict = {"name": i.get("name"), "roleArn": i.get("roleArn")}
    if len(stores) == 1 and not stores[0].get("region"):
        pipeline["artifactStore"] = {k: v for k, v in stores[0].items() if k != "region"}
    else:
        pipeline["artifactStores"] = {s["region"]: {k: v for k, v in s.items() if k != "region"} for s in stores}
    pipeline["stages"] = []
    for stage in i.get("stages") or []:
        declared = {k: v for k, v in stage.items() if k != "actions"}
        declared["actions"] = [_pipeline_action(a) for a in stage.get("actions") or []]
        pipeline["stages"].append(declared)
    for key in ("pipelineType", "executionMode", "variables"):
        if i.get(key) is not None:
            pipeline[key] = i.data[key]
    if i.get("triggers"):    # Pulumi pluralizes the provider's list blocks
        pipeline["triggers"] = camel(i.data["triggers"], {"pushes": "push", "pullRequests": "pullRequest"})
    return [("codepipeline", "CreatePipeline", compact({
        "pipeline": pipeline, "tags": tag_list(i.get("tags"), "key", "value")}), True)]
