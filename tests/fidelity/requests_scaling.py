"""Mappers for Application Auto Scaling, CloudWatch alarms and SNS: recorded Pulumi inputs -> the AWS API requests (see
aws_requests.py)."""
from __future__ import annotations

from typing import Any

from tests.fidelity.request_shapes import Inputs, compact, pascal, tag_list

# --- Application Auto Scaling, CloudWatch alarms, SNS ---------------------------------------------

def _scalable_target(i: Inputs) -> list:
    suspended = i.get("suspendedState")
    return [("application-autoscaling", "RegisterScalableTarget", compact({
        "ServiceNamespace": i.get("serviceNamespace"), "ResourceId": i.get("resourceId"),
        "ScalableDimension": i.get("scalableDimension"), "MinCapacity": i.get("minCapacity"),
        "MaxCapacity": i.get("maxCapacity"), "RoleARN": i.get("roleArn"),
        "SuspendedState": pascal(suspended) if suspended else None, "Tags": i.get("tags") or None}), True)]


def _bound(value: Any) -> Any:
    """Step bounds are strings in the provider's schema and numbers in the API ("" means unbounded)."""
    return None if value in (None, "") else float(value)


def _scaling_policy(i: Inputs) -> list:
    step = i.get("stepScalingPolicyConfiguration")
    if step:
        step = dict(step)
        adjustments = [compact({"MetricIntervalLowerBound": _bound(a.get("metricIntervalLowerBound")),
                                "MetricIntervalUpperBound": _bound(a.get("metricIntervalUpperBound")),
                                "ScalingAdjustment": a.get("scalingAdjustment")})
                       for a in step.pop("stepAdjustments", None) or []]
        step = {**pascal(step), "StepAdjustments": adjustments} if adjustments else pascal(step)
    tracking = i.get("targetTrackingScalingPolicyConfiguration")
    if tracking:
        tracking = pascal(tracking, {"customizedMetricSpecification": "CustomizedMetricSpecification"})
    return [("application-autoscaling", "PutScalingPolicy", compact({
        "PolicyName": i.name(prefix_key=None), "ServiceNamespace": i.get("serviceNamespace"),
        "ResourceId": i.get("resourceId"), "ScalableDimension": i.get("scalableDimension"),
        "PolicyType": i.get("policyType"), "StepScalingPolicyConfiguration": step or None,
        "TargetTrackingScalingPolicyConfiguration": tracking or None,
        "PredictiveScalingPolicyConfiguration": pascal(i.get("predictiveScalingPolicyConfiguration"))}), True)]


def _scheduled_action(i: Inputs) -> list:
    return [("application-autoscaling", "PutScheduledAction", compact({
        "ServiceNamespace": i.get("serviceNamespace"), "Schedule": i.get("schedule"), "Timezone": i.get("timezone"),
        "ScheduledActionName": i.name(prefix_key=None), "ResourceId": i.get("resourceId"),
        "ScalableDimension": i.get("scalableDimension"), "StartTime": i.get("startTime"), "EndTime": i.get("endTime"),
        "ScalableTargetAction": pascal(i.get("scalableTargetAction"))}), True)]


def _dimensions(dimensions: dict | None) -> list | None:
    return [{"Name": k, "Value": v} for k, v in dimensions.items()] if dimensions else None


def _metric_query(query: dict) -> dict:
    metric = query.get("metric")
    stat = None
    if metric:
        stat = compact({"Metric": compact({"Namespace": metric.get("namespace"), "MetricName": metric.get("metricName"),
                                           "Dimensions": _dimensions(metric.get("dimensions"))}),
                        "Period": metric.get("period"), "Stat": metric.get("stat"), "Unit": metric.get("unit")})
    return compact({"Id": query.get("id"), "MetricStat": stat, "Expression": query.get("expression"),
                    "Label": query.get("label"), "ReturnData": query.get("returnData"), "Period": query.get("period"),
                    "AccountId": query.get("accountId")})


def _metric_alarm(i: Inputs) -> list:
    queries = i.get("metricQueries")
    return [("cloudwatch", "PutMetricAlarm", compact({
        "AlarmName": i.name(prefix_key=None), "AlarmDescription": i.get("alarmDescription"),
        "ActionsEnabled": i.get("actionsEnabled"), "OKActions": i.get("okActions"),
        "AlarmActions": i.get("alarmActions"), "InsufficientDataActions": i.get("insufficientDataActions"),
        "MetricName": i.get("metricName"), "Namespace": i.get("namespace"), "Statistic": i.get("statistic"),
        "ExtendedStatistic": i.get("extendedStatistic"), "Dimensions": _dimensions(i.get("dimensions")),
        "Period": i.get("period"), "Unit": i.get("unit"), "EvaluationPeriods": i.get("evaluationPeriods"),
        "DatapointsToAlarm": i.get("datapointsToAlarm"), "Threshold": i.get("threshold"),
        "ComparisonOperator": i.get("comparisonOperator"), "TreatMissingData": i.get("treatMissingData"),
        "EvaluateLowSampleCountPercentile": i.get("evaluateLowSampleCountPercentiles"),
        "Metrics": [_metric_query(q) for q in queries] if queries else None,
        "ThresholdMetricId": i.get("thresholdMetricId"), "Tags": tag_list(i.get("tags"))}), True)]


def _sns_topic(i: Inputs) -> list:
    attributes = {member: str(i.get(key)) for key, member in (
        ("displayName", "DisplayName"), ("policy", "Policy"), ("deliveryPolicy", "DeliveryPolicy"),
        ("kmsMasterKeyId", "KmsMasterKeyId"), ("fifoTopic", "FifoTopic"), ("signatureVersion", "SignatureVersion"),
        ("tracingConfig", "TracingConfig")) if i.get(key) is not None}
    return [("sns", "CreateTopic", compact({"Name": i.name(), "Attributes": attributes or None,
                                            "Tags": tag_list(i.get("tags"))}), True)]


def _sns_subscription(i: Inputs) -> list:
    i.provider_only("confirmationTimeoutInMinutes", "endpointAutoConfirms")
    attributes = {member: str(i.get(key)) for key, member in (
        ("filterPolicy", "FilterPolicy"), ("rawMessageDelivery", "RawMessageDelivery"),
        ("redrivePolicy", "RedrivePolicy"), ("deliveryPolicy", "DeliveryPolicy"),
        ("subscriptionRoleArn", "SubscriptionRoleArn")) if i.get(key) is not None}
    return [("sns", "Subscribe", compact({"TopicArn": i.get("topic"), "Protocol": i.get("protocol"),
                                          "Endpoint": i.get("endpoint"), "Attributes": attributes or None,
                                          "ReturnSubscriptionArn": True}), True)]


def _sns_topic_policy(i: Inputs) -> list:
    return [("sns", "SetTopicAttributes", {"TopicArn": i.get("arn"), "AttributeName": "Policy",
                                           "AttributeValue": i.get("policy")}, True)]
