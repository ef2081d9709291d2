"""The stages of an API's pipeline and their actions, as pulumi-aws's `stages` input: pure Python, no Pulumi.

Source -> Build -> (Approve) -> Deploy -> Promote. A failed action ends the run, so each stage runs only when the one
before it succeeded. For an API that may sleep, the Deploy stage holds three actions in run order: the deploy
check's ``wake`` step, ECS's deploy action, and its ``verify`` step (components/pipeline/deploy_check.py), so
Promote moves ``deployed`` only to a build seen running healthy. They share one stage on purpose: in SUPERSEDED mode
CodePipeline lets one run at a time into a stage, so no newer run can deploy between another run's wake and verify.
"""
from __future__ import annotations

import json
from typing import Any

from components.pipeline.buildspec import IMAGE_DEFINITIONS_FILE

ECS_DEPLOY_TIMEOUT_MINUTES = 30
# The CodeBuild variable the deploy check's buildspec passes to the script (components/pipeline/deploy_check.py).
CHECK_STEP_VARIABLE = "CHECK_STEP"


def check_action(name: str, category: str, step: str, run_order: int, project_name: Any) -> dict:
    """One step of the deploy check: the check's CodeBuild project run with ``CHECK_STEP=step``. Its input is this
    run's ``imagedefinitions.json``: verify checks that the service runs those images."""
    return {"name": name, "category": category, "owner": "AWS", "provider": "CodeBuild", "version": "1",
            "run_order": run_order, "input_artifacts": ["imagedefinitions"],
            "configuration": {"ProjectName": project_name, "EnvironmentVariables": json.dumps(
                [{"name": CHECK_STEP_VARIABLE, "value": step, "type": "PLAINTEXT"}], separators=(",", ":"))}}


def deploy_actions(*, cluster_name: Any, service_name: Any, deploy_timeout_minutes: int,
                   deploy_check_project: Any = None) -> list[dict]:
    deploy = {"name": "Deploy", "category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1",
              "input_artifacts": ["imagedefinitions"],
              "configuration": {"ClusterName": cluster_name, "ServiceName": service_name,
                                "FileName": IMAGE_DEFINITIONS_FILE, "DeploymentTimeout": str(deploy_timeout_minutes)}}
    if deploy_check_project is None:
        return [deploy]
    return [check_action("WakeForDeploy", "Build", "wake", 1, deploy_check_project),
            {**deploy, "run_order": 2},
            check_action("VerifyDeploy", "Test", "verify", 3, deploy_check_project)]


def pipeline_stages(source: dict, *, project_name: Any, cluster_name: Any, service_name: Any,
                    promote_project_name: Any = None, approval: dict | None = None,
                    deploy_timeout_minutes: int = ECS_DEPLOY_TIMEOUT_MINUTES,
                    deploy_check_project: Any = None) -> list[dict]:
    """Source -> Build -> (``approval``: a manual approval stage) -> Deploy -> Promote. Promote runs only when
    Deploy succeeded (a failed stage ends the run): it moves the ``deployed`` tag to the build ECS just rolled
    out (docs/design.md, "Who moves which tag"). ``deploy_check_project``: the deploy check's CodeBuild project, for
    an API that may sleep (wake before the ECS deploy, verify after it)."""
    stages = [
        {"name": "Source", "actions": [source]},
        {"name": "Build", "actions": [{
            "name": "BuildImages", "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1",
            "input_artifacts": ["source"], "output_artifacts": ["imagedefinitions"],
            "configuration": {"ProjectName": project_name}}]},
        {"name": "Deploy", "actions": deploy_actions(
            cluster_name=cluster_name, service_name=service_name, deploy_timeout_minutes=deploy_timeout_minutes,
            deploy_check_project=deploy_check_project)},
    ]
    if approval is not None:
        stages.insert(2, approval)
    if promote_project_name is not None:
        stages.append({"name": "Promote", "actions": [{
            "name": "TagDeployed", "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1",
            "input_artifacts": ["imagedefinitions"], "configuration": {"ProjectName": promote_project_name}}]})
    return stages
