"""Set an ECS service's desired count when the stack takes the count back from Application Auto Scaling.

While `scaling` or `sleep` is set, the ECS service ignores its desired count in Pulumi (components/service.py) and
Application Auto Scaling moves it, down to 0 for a sleeping API. When the stack config drops `sleep` and `scaling`,
the service's state still holds the count it was created with, so Pulumi sees no change and sends no UpdateService:
an API that was asleep would stay at 0 tasks, with its scalable target and alarms deleted and nothing to wake it.

``StackCount`` exists exactly while the stack owns the count. When it is created or its count changes (both shown by
`pulumi preview`, with the count) and the service still has a scalable target, the stack is taking the count back in
this update (Pulumi deletes the target and its alarms only after creating and updating): it sets the service's
desired count. It leaves alone:

* a service with no scalable target: the stack already owned the count, the ECS service sets it, and a desired
  count of 0 there is `ops pause` (a stack that gets this resource for the first time changes nothing);
* a paused API (its scalable target's scaling suspended by `ops pause`): paused stays paused, `ops resume` ends it;
* a count of 0: no image exists yet, and the first deploy's PipelineRun starts the tasks once one does.

Deleting it changes nothing in AWS. Its module path and class names never change (they are in deployed state).
"""
from __future__ import annotations

from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, UpdateResult

from components.providers.aws_session import AwsSettings, StackAwsProvider, session
from components.providers.deploy_wake import resource_id

DIMENSION = "ecs:service:DesiredCount"
SUSPENSION_FLAGS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")
INPUTS = ("cluster", "service", "count")


def apply_count(ecs, autoscaling, cluster: str, service: str, count: int,
                report: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    """Set the desired count when autoscaling still has it, unless that is paused or the count is 0 (no image yet);
    returns what was done."""
    if count < 1:
        return {"outcome": "no-image-yet"}
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id(cluster, service)],
        ScalableDimension=DIMENSION).get("ScalableTargets") or []
    if not targets:
        return {"outcome": "stack-owned"}
    state = targets[0].get("SuspendedState") or {}
    if any(state.get(flag) for flag in SUSPENSION_FLAGS):
        report(f"{service}: paused (ops pause): the desired count stays as it is; `ops resume` sets {count}")
        return {"outcome": "paused"}
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    before = int(found[0].get("desiredCount", 0)) if found else 0
    if before == count:
        return {"outcome": "unchanged", "from": before, "to": count}
    ecs.update_service(cluster=cluster, service=service, desiredCount=count)
    report(f"{service}: desired count {before} -> {count} (the stack sets the count again)")
    return {"outcome": "set", "from": before, "to": count}


def _clients(props: dict[str, Any], settings: AwsSettings):
    current = session(settings, props)
    return current.client("ecs"), current.client("application-autoscaling")


class StackCountProvider(StackAwsProvider):
    def __init__(self, client_factory=None):
        self._factory = client_factory

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        ecs, autoscaling = (self._factory or (lambda p: _clients(p, self.aws)))(props)
        done = apply_count(ecs, autoscaling, props["cluster"], props["service"], int(props["count"]), print)
        return {**props, "outcome": done["outcome"]}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['cluster']}/{props['service']}", outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k != "count"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))


class StackCount(Resource, module="serverless-containers", name="StackCount"):
    """The desired count of a service whose count the stack owns, set when it takes the count back."""

    def __init__(self, name: str, *, cluster: pulumi.Input[str], service: pulumi.Input[str],
                 count: pulumi.Input[int], region: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(StackCountProvider(), name, {
            "cluster": cluster, "service": service, "count": count, "region": region, "outcome": None}, opts)
