"""The waker: a Lambda function that starts a sleeping API on its first request (components/waker.py deploys it).

A CloudWatch Logs subscription filter on the API stage's access log sends it the requests API Gateway answered with
503 (what a caller gets while Cloud Map has no instance). It then raises the ECS service's desired count to the
API's awake count, but only when all of these hold:

* the desired count is 0 (an API that is awake or already waking is left alone: it never lowers a count);
* the service's scalable target exists and its scaling is not suspended (`ops pause` suspends it: a paused API stays
  paused; with no target the stack owns the count and nothing sleeps).

The count is kept within the target's min..max. Each outcome is one JSON log line; `ops status` reads the last
`"outcome": "woke"` line to say when the API last woke. This file runs on AWS's Python runtime alone (boto3 only),
so it imports nothing of the project. Its settings come from the environment: CLUSTER, SERVICE, AWAKE_COUNT.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
from typing import Any

DIMENSION = "ecs:service:DesiredCount"
# The flags `ops pause` sets (ops/cloud/scaling.py, SUSPENDED): any of them means paused.
SUSPENSION_FLAGS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


def matched_requests(event: dict[str, Any]) -> int:
    """How many access-log lines the subscription delivered (base64 + gzip JSON); 0 for a direct test invoke."""
    data = (event or {}).get("awslogs", {}).get("data")
    if not data:
        return 0
    payload = json.loads(gzip.decompress(base64.b64decode(data)))
    return len(payload.get("logEvents") or [])


def wake(ecs, autoscaling, cluster: str, service: str, awake_count: int) -> dict[str, Any]:
    """Raise the service from 0 to ``awake_count`` unless it is awake, waking or paused; returns what happened."""
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    if not found or found[0].get("status") != "ACTIVE":
        return {"outcome": "no-service", "cluster": cluster, "service": service}
    desired = int(found[0].get("desiredCount", 0))
    if desired > 0:
        return {"outcome": "already-awake", "desiredCount": desired}
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{service}"],
        ScalableDimension=DIMENSION).get("ScalableTargets") or []
    if not targets:
        return {"outcome": "not-sleeping", "reason": "no scalable target: the stack sets the count"}
    target = targets[0]
    state = target.get("SuspendedState") or {}
    if any(state.get(flag) for flag in SUSPENSION_FLAGS):
        return {"outcome": "paused", "reason": "scaling is suspended (ops pause); ops resume starts it"}
    count = max(1, min(awake_count, int(target.get("MaxCapacity", awake_count))))
    count = max(count, int(target.get("MinCapacity", 0)))
    ecs.update_service(cluster=cluster, service=service, desiredCount=count)
    return {"outcome": "woke", "from": desired, "to": count}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3   # on AWS's runtime; imported here so tests can call wake() with their own clients

    result = wake(boto3.client("ecs"), boto3.client("application-autoscaling"), os.environ["CLUSTER"],
                  os.environ["SERVICE"], int(os.environ["AWAKE_COUNT"]))
    result["requests"] = matched_requests(event)
    print(json.dumps(result, sort_keys=True))
    return result
