"""Mappers for Lambda and CloudWatch Logs subscriptions (the sleeping APIs' wakers, components/waker.py): recorded
Pulumi inputs -> the AWS API requests (see aws_requests.py)."""
from __future__ import annotations

import io
import zipfile

from tests.fidelity.request_shapes import Inputs, compact, pascal


def _zip(archive) -> bytes:
    """The function's code as the provider uploads it: the archive's files in one zip (ZipFile is a blob)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, asset in archive.assets.items():
            bundle.write(asset.path, name)
    return buffer.getvalue()


def _lambda_function(i: Inputs) -> list:
    name = i.name(prefix_key=None)
    environment = i.get("environment")
    logging = i.get("loggingConfig")
    requests = [("lambda", "CreateFunction", compact({
        "FunctionName": name, "Runtime": i.get("runtime"), "Role": i.get("role"), "Handler": i.get("handler"),
        "Code": {"ZipFile": _zip(i.get("code"))}, "Description": i.get("description"), "Timeout": i.get("timeout"),
        "MemorySize": i.get("memorySize"), "Architectures": i.get("architectures"),
        "Environment": {"Variables": environment["variables"]} if environment else None,
        "LoggingConfig": pascal(logging) if logging else None, "Tags": i.get("tags") or None}), True)]
    if i.get("reservedConcurrentExecutions") is not None:
        requests.append(("lambda", "PutFunctionConcurrency", {
            "FunctionName": name, "ReservedConcurrentExecutions": i.data["reservedConcurrentExecutions"]}))
    return requests


def _lambda_permission(i: Inputs) -> list:
    return [("lambda", "AddPermission", compact({
        "FunctionName": i.get("function"), "StatementId": i.name("statementId", "statementIdPrefix"),
        "Action": i.get("action"), "Principal": i.get("principal"), "SourceArn": i.get("sourceArn"),
        "SourceAccount": i.get("sourceAccount")}), True)]


def _subscription_filter(i: Inputs) -> list:
    return [("logs", "PutSubscriptionFilter", compact({
        "logGroupName": i.get("logGroup"), "filterName": i.name(prefix_key=None),
        "filterPattern": i.get("filterPattern"), "destinationArn": i.get("destinationArn"),
        "roleArn": i.get("roleArn"), "distribution": i.get("distribution")}), True)]


MAPPERS = {
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/permission:Permission": _lambda_permission,
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": _subscription_filter,
}
