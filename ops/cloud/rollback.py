"""Roll an API back to an earlier build, and prove that the service really runs it.

A task-definition revision equal to the current one, with the built images pinned to ``repo:HASH``, is
rolled out and awaited. Only when the service really runs it does the moving tag ``deployed`` move to that
build in every built container's repository (docs/design.md, "Who moves which tag"), so the next
``pulumi up`` keeps it; a rollback that fails leaves ``deployed`` where it was.

ECS can report a finished deployment while the old images still run: the deployment circuit
breaker rolls a failing deployment back and the service settles "successfully" on the previous
revision (pulumi-awsx#1848 is the same trap in awsx's wait). So success here means: the PRIMARY
deployment uses the new revision, and every running task runs it, with each built container on
the image digest that the hash names.

An API that may sleep (issue 22) is rolled back the way a deploy to it is checked: at 0 tasks the rollout would
prove nothing. So before UpdateService the API is held at its awake count with components/providers/
deploy_wake.py's hold (the scalable target's minimum and the desired count go up, and a one-time scheduled action
``<service>-rollback-check-end`` puts the minimum back at a deadline should this process die); the rollout is awaited
on running tasks (RUNNING, and HEALTHY where a container has a health check: service_rollout.ready_tasks), and the
hold is let go in every outcome, after which the API may sleep again. A failure reports the stopped tasks' reasons,
exit codes and last log lines, as a failed first deploy does. A paused API (`ops pause`) stays paused, as the
pipeline's deploy check leaves it: the revision is put in place at 0 tasks, unchecked until `ops resume` starts it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from components.pipeline.access import REPOSITORY_WRITERS_SID as WRITERS_SID
from components.providers.deploy_wake import ROLLBACK, Hold, deadline_action_name, hold_awake, release
from components.providers.service_rollout import stopped_task_report
from ops.cloud import ecs as ecs_view
from ops.errors import OpsError
from ops.stack.outputs import ApiOutputs

DEPLOYED_TAG = "deployed"                     # components/providers/image_lookup.py, the moving tag
MOVING_TAGS = (DEPLOYED_TAG, "latest")        # latest: the legacy moving tag of stacks from before `deployed`
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")   # Docker's rule for image tags
MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


@dataclass(frozen=True)
class BuildImage:
    container: str
    repository: str          # ECR repository name
    uri: str                 # repo URL:HASH, the image pinned in the task definition
    digest: str              # what the tag points at
    manifest: str
    media_type: str | None


@dataclass
class RollbackResult:
    api: str
    build_hash: str
    task_definition: str = ""
    outcome: str = ""
    paused: bool = False             # desired count 0: the revision is in place, no task runs it yet
    held_at: int = 0                 # the awake count a sleeping API was held at for the check (0: not held)
    problems: list[str] = field(default_factory=list)
    stopped_tasks: list[str] = field(default_factory=list)   # a failure's stopped tasks, reasons and last log lines

    @property
    def verified(self) -> bool:
        return self.outcome == "steady" and not self.problems


def find_build(ecr, api: ApiOutputs, build_hash: str) -> list[BuildImage]:
    """Every built container's image at ``build_hash``; an error listing recent tags when one is missing."""
    if not TAG_PATTERN.match(build_hash):
        raise OpsError(f"'{build_hash}' is not an image tag. Give the build hash the pipeline tagged the images "
                       "with (python -m ops status shows recent deploys; ECR lists the tags).")
    if not api.repositories:
        raise OpsError(f"API '{api.name}' has no containers built into ECR (build: {api.build or 'manual'} with "
                       "ready-made images), so there is no build to roll back to. Change the image in the stack "
                       "config and run python -m ops up instead.")
    images, missing = [], []
    for container in sorted(api.repositories):
        repository = api.repository_name(container)
        response = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": build_hash}],
                                       acceptedMediaTypes=MANIFEST_TYPES)
        found = response.get("images") or []
        if not found:
            missing.append((container, repository))
            continue
        image = found[0]
        images.append(BuildImage(
            container=container, repository=repository, uri=f"{api.repositories[container]}:{build_hash}",
            digest=image["imageId"].get("imageDigest", ""), manifest=image["imageManifest"],
            media_type=image.get("imageManifestMediaType")))
    if missing:
        lines = [f"build '{build_hash}' is not in ECR for API '{api.name}':"]
        for container, repository in missing:
            recent = recent_tags(ecr, repository)
            lines.append(f"  {container} ({repository}): recent tags, newest first: {', '.join(recent) or '(none)'}")
        lines.append("Images older than 7 days are removed by the lifecycle policy; pick a listed hash.")
        raise OpsError("\n".join(lines))
    return images


def recent_tags(ecr, repository: str, count: int = 10) -> list[str]:
    details = []
    for page in ecr.get_paginator("describe_images").paginate(repositoryName=repository):
        details += page.get("imageDetails", [])
    details.sort(key=lambda d: d.get("imagePushedAt") or 0, reverse=True)
    tags = []
    for detail in details:
        tags += [tag for tag in detail.get("imageTags", []) if tag not in MOVING_TAGS]
    return tags[:count]


def _same_principal(caller_arn: str, allowed_arn: str) -> bool:
    """Is the caller (STS's ARN: a user, or an assumed-role session) the IAM principal ``allowed_arn`` names?"""
    if caller_arn == allowed_arn:
        return True
    caller, allowed = caller_arn.split(":"), allowed_arn.split(":")
    if len(caller) < 6 or len(allowed) < 6 or caller[4] != allowed[4]:
        return False
    resource = caller[5].split("/")
    # an assumed role's session (assumed-role/NAME/SESSION) is the role NAME, whatever its path
    return (resource[0] == "assumed-role" and len(resource) > 1 and allowed[5].startswith("role/")
            and allowed[5].split("/")[-1] == resource[1])


def may_move_deployed(ecr, caller_arn: str, images: list[BuildImage]) -> None:
    """OpsError, before anything changes, when a repository's policy denies the caller moving ``deployed``.

    Each built repository lets only the build role and the principal that ran `pulumi up` push or delete
    (components/pipeline/access.py ``repository_policy``); anyone else's rollback would roll the service out and then
    fail to move the tag, so the next `pulumi up` would roll forward again."""
    for image in images:
        try:
            text = ecr.get_repository_policy(repositoryName=image.repository)["policyText"]
        except ecr.exceptions.RepositoryPolicyNotFoundException:
            continue
        statements = json.loads(text).get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Sid") != WRITERS_SID:
                continue
            allowed = (statement.get("Condition") or {}).get("ArnNotEquals", {}).get("aws:PrincipalArn") or []
            allowed = [allowed] if isinstance(allowed, str) else allowed
            if not any(_same_principal(caller_arn, arn) for arn in allowed):
                raise OpsError(f"the policy of ECR repository {image.repository} lets only {', '.join(allowed)} move "
                               f"'{DEPLOYED_TAG}', and you are {caller_arn}. Run the rollback as the principal that "
                               "runs `pulumi up` (docs/design.md, \"Security, second pass\"). Nothing was changed.")


def retag_deployed(ecr, image: BuildImage) -> bool:
    """Point ``deployed`` at the build; False when it already did."""
    kwargs = {"repositoryName": image.repository, "imageManifest": image.manifest, "imageTag": DEPLOYED_TAG}
    if image.digest:
        kwargs["imageDigest"] = image.digest         # exactly that build: ECR refuses a changed manifest
    if image.media_type:
        kwargs["imageManifestMediaType"] = image.media_type
    try:
        ecr.put_image(**kwargs)
    except ecr.exceptions.ImageAlreadyExistsException:
        return False
    except ecr.exceptions.ImageTagAlreadyExistsException:
        raise OpsError(f"ECR repository {image.repository} has immutable tags, so '{DEPLOYED_TAG}' cannot move. "
                       "The pipeline needs mutable tags; set imageTagMutability to MUTABLE.") from None
    return True


def register_pinned_revision(ecs, task_definition_arn: str, images: list[BuildImage]) -> str:
    """A revision equal to ``task_definition_arn`` except that the built containers use ``images``."""
    described = ecs.describe_task_definition(taskDefinition=task_definition_arn, include=["TAGS"])
    current = described["taskDefinition"]
    allowed = set(ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members)
    request = {key: value for key, value in current.items() if key in allowed}
    if described.get("tags"):
        request["tags"] = described["tags"]
    by_container = {image.container: image for image in images}
    names = {definition["name"] for definition in request.get("containerDefinitions", [])}
    absent = sorted(set(by_container) - names)
    if absent:
        raise OpsError(f"the service's task definition {ecs_view.revision_label(task_definition_arn)} has no "
                       f"container named {', '.join(absent)}; the stack outputs and the service disagree. "
                       "Run python -m ops refresh, then python -m ops up.")
    for definition in request["containerDefinitions"]:
        if definition["name"] in by_container:
            definition["image"] = by_container[definition["name"]].uri
    return ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]


def verify_running(ecs, cluster: str, service: str, task_definition_arn: str,
                   images: list[BuildImage]) -> list[str]:
    """What differs between the service as it runs and the rollback we asked for (empty: all good)."""
    problems = []
    current = ecs_view.describe_service(ecs, cluster, service)
    primary = ecs_view.primary_deployment(current)
    if primary is None or primary.get("taskDefinition") != task_definition_arn:
        running = ecs_view.revision_label(primary.get("taskDefinition") if primary else None)
        problems.append(f"the service's PRIMARY deployment uses {running}, not the rollback's "
                        f"{ecs_view.revision_label(task_definition_arn)}")
    desired = current.get("desiredCount", 0)
    tasks = ecs_view.tasks_of(ecs, cluster, service, "RUNNING")
    if desired and not tasks:
        problems.append(f"no task is running (desired {desired})")
    expected = {image.container: image for image in images}
    for task in tasks:
        task_id = task.get("taskArn", "").rsplit("/", 1)[-1]
        if task.get("taskDefinitionArn") != task_definition_arn:
            problems.append(f"task {task_id} runs {ecs_view.revision_label(task.get('taskDefinitionArn'))}")
        for container in task.get("containers", []):
            want = expected.get(container.get("name"))
            if want is None:
                continue
            digest, image = container.get("imageDigest"), container.get("image", "")
            if digest and digest != want.digest:
                problems.append(f"task {task_id}, container {want.container}: runs image {digest}, "
                                f"but build {want.uri.rsplit(':', 1)[-1]} is {want.digest}")
            elif not digest and image != want.uri:
                problems.append(f"task {task_id}, container {want.container}: runs {image or 'an unknown image'}, "
                                f"not {want.uri}")
    return problems


# After the rollout timeout, a hold nobody let go of (the process was killed) lasts this long before its deadline action
# lets the API sleep again.
HOLD_MARGIN_SECONDS = 300
UtcClock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def awake_count(api: ApiOutputs) -> int:
    """How many tasks the API runs when awake (the scaling output's ``awakeCount``; the replicas before it existed)."""
    value = api.scaling.get("awakeCount", api.replicas)
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def hold_for_check(ecs, autoscaling, api: ApiOutputs, *, timeout: float,
                   report: Callable[[str], None], utc: UtcClock) -> Hold | None:
    """Hold an API that may sleep at its awake count for the rollback (deploy_wake.hold_awake as ``ROLLBACK``); None
    when it has no scalable target (the stack sets its count: 0 means `ops pause`d), is paused (`ops pause` suspended
    its scaling: the operator chose 0 tasks, and a rollback starts none), or its minimum already keeps it awake."""
    count = awake_count(api)
    if autoscaling is None or count < 1:
        return None
    now = utc()
    return hold_awake(ecs, autoscaling, api.cluster, api.service, count,
                      deadline=now + timedelta(seconds=timeout + HOLD_MARGIN_SECONDS), report=report,
                      holder=ROLLBACK, now=now)


def let_go(autoscaling, hold: Hold, report: Callable[[str], None], utc: UtcClock) -> None:
    """Release the hold; when that fails (a network error, a denied call), say so and when the deadline action puts
    the minimum back instead. Never raises: it runs in ``finally``, where it must not hide why the rollback ended."""
    try:
        release(autoscaling, hold, report=report, now=utc())
    except Exception as error:      # noqa: BLE001 - reported; the deadline action is the way back
        report(f"could not put the minimum of service {hold.service} back ({error}); the scheduled action "
               f"{deadline_action_name(hold.service, hold.holder)} puts it back to {hold.previous_min} at its deadline")


def rollback(*, ecs, ecr, codepipeline, api: ApiOutputs, build_hash: str, timeout: float, poll: float,
             report: Callable[[str], None], sleep: ecs_view.Sleep | None = None,
             clock: ecs_view.Clock | None = None, caller_arn: str | None = None, autoscaling=None, logs=None,
             utc: UtcClock = _utc_now) -> RollbackResult:
    """``caller_arn``: who runs the rollback (STS GetCallerIdentity); checked against the repositories' policies.
    ``autoscaling``: Application Auto Scaling, to hold an API that may sleep awake for the check; ``logs``: CloudWatch
    Logs, for a failure's last log lines; ``utc``: the current UTC time (the hold's deadline)."""
    result = RollbackResult(api=api.name, build_hash=build_hash)
    images = find_build(ecr, api, build_hash)          # every image checked before anything changes
    if caller_arn:
        may_move_deployed(ecr, caller_arn, images)
    _warn_about_running_pipeline(codepipeline, api, report)

    current = ecs_view.describe_service(ecs, api.cluster, api.service)
    result.task_definition = register_pinned_revision(ecs, current["taskDefinition"], images)
    report(f"registered {ecs_view.revision_label(result.task_definition)} "
           f"(from {ecs_view.revision_label(current['taskDefinition'])})")
    hold = hold_for_check(ecs, autoscaling, api, timeout=timeout, report=report, utc=utc)
    try:
        result.held_at = hold.awake_count if hold else 0
        _roll_out(ecs, api, images, result, timeout=timeout, poll=poll, report=report, sleep=sleep, clock=clock)
        if not result.verified:
            result.stopped_tasks = stopped_task_report(ecs, logs, api.cluster, api.service,
                                                       log_groups=dict(api.log_groups))
            return result
        # only now: `deployed` names what ECS really runs (a failed rollback leaves it where it was)
        for image in images:
            moved = retag_deployed(ecr, image)
            report(f"{image.container}: {DEPLOYED_TAG} -> {build_hash} ({image.digest})"
                   + ("" if moved else ", already"))
        return result
    finally:
        if hold is not None:        # success, failure or Ctrl-C: the API may sleep again
            let_go(autoscaling, hold, report, utc)


def _roll_out(ecs, api: ApiOutputs, images: list[BuildImage], result: RollbackResult, *, timeout: float,
              poll: float, report: Callable[[str], None], sleep: ecs_view.Sleep | None,
              clock: ecs_view.Clock | None) -> None:
    """UpdateService to the pinned revision, wait for the rollout, and note in ``result`` what differs."""
    updated = ecs.update_service(cluster=api.cluster, service=api.service, taskDefinition=result.task_definition,
                                 forceNewDeployment=True)["service"]
    ours = ecs_view.primary_deployment(updated)
    result.paused = updated.get("desiredCount", 0) == 0
    rollout = ecs_view.wait_for_rollout(ecs, api.cluster, api.service, ours.get("id") if ours else None,
                                        timeout=timeout, poll=poll, report=report, sleep=sleep, clock=clock)
    result.outcome = rollout.outcome
    if rollout.outcome != "steady":
        result.problems.append(f"rollout {rollout.outcome}: {rollout.message}")
        result.problems += [f"service event: {message}" for message in ecs_view.recent_events(rollout.service, 3)]
    result.problems += verify_running(ecs, api.cluster, api.service, result.task_definition, images)


def _warn_about_running_pipeline(codepipeline, api: ApiOutputs, report: Callable[[str], None]) -> None:
    if not api.pipeline_name or codepipeline is None:
        return
    from botocore.exceptions import ClientError

    try:
        executions = codepipeline.list_pipeline_executions(pipelineName=api.pipeline_name, maxResults=1)
    except ClientError as error:       # a courtesy check; it must not block a rollback
        report(f"note: could not check pipeline {api.pipeline_name} for a running build ({error}).")
        return
    latest = (executions.get("pipelineExecutionSummaries") or [None])[0]
    if latest and latest.get("status") == "InProgress":
        report(f"warning: pipeline {api.pipeline_name} is running ({latest.get('pipelineExecutionId')}); when it "
               "finishes it deploys its own build over this rollback. Stop it in the console if that is not wanted.")
