"""The imported stack: its `config:` map, the user pool it keeps, what else cannot come across, and the YAML."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from components.errors import ConfigError
from ops.amplify_import import guardrails
from ops.amplify_import.apis import ImportedApi, container_apis, import_api
from ops.amplify_import.project import AmplifyProject
from ops.amplify_import.report import ImportReport
from ops.amplify_import.secrets import Lookup
from ops.amplify_import.storage import import_tables

NAMESPACE = "serverless-containers:"
USER_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
CLIENT_ID = re.compile(r"^[\w+]+$")
# What each other Amplify category is, for the "cannot come across" lines.
OTHER_CATEGORIES = {"function": "Lambda function", "analytics": "analytics (Pinpoint/Kinesis)",
                    "notifications": "notifications (Pinpoint)", "geo": "geo (Location Service)",
                    "predictions": "predictions (AI services)", "interactions": "interactions (Lex bot)",
                    "custom": "custom CloudFormation/CDK resource", "hosting": "hosting"}
API_SERVICES = {"AppSync": "GraphQL API on AppSync", "API Gateway": "REST API on API Gateway and Lambda"}

AskPool = Callable[[str], tuple[str, str]]
"""(why the ids are needed) -> (user pool id, app client id); raises ConfigError when it cannot ask."""


@dataclass
class ImportedStack:
    stack: str
    config: dict
    report: ImportReport
    apis: list[ImportedApi] = field(default_factory=list)
    needs_github_token: bool = False


def build(project: AmplifyProject, stack: str, stack_dir: Path, *, new_resources: bool, lookup: Lookup,
          ask_pool: AskPool, pool: tuple[str, str] | None = None) -> ImportedStack:
    report = ImportReport()
    env = project.env
    report.found.append(f"Amplify project {project.root} (env {env.name}, {env.region}, root stack "
                        f"{env.root_stack or 'unknown'}):")
    stack_file = f"stacks/Pulumi.{stack}.yaml"
    tables = import_tables(project, report, new_resources=new_resources)
    apis: list[ImportedApi] = []
    for name in container_apis(project):
        apis.append(import_api(project, name, tables, stack_dir, stack_file, report, lookup, {a.name for a in apis}))
    if apis:
        report.warnings.append("Amplify ran every task at 512 CPU units and 1024 MiB whatever the compose file said; this "
                               "stack sizes each task from its compose deploy.resources (the plan shows the sizes).")
    config: dict = {"aws:region": env.region}
    restricted = [api for api in apis if api.entry["auth"]]
    if restricted and not new_resources:
        pool_id, client_id = pool or _user_pool(project, restricted, ask_pool)
        config[f"{NAMESPACE}existingUserPool"] = {"userPoolId": pool_id, "clientId": client_id}
        report.found.append(f"user pool {pool_id} with web client {client_id}: kept (existingUserPool); its users sign "
                            "in as before, and the stack never changes or deletes it.")
    elif restricted:
        report.warnings.append("--new-resources: a NEW, EMPTY user pool; every user must be created again (users and "
                               "passwords cannot be copied out of a Cognito pool).")
        old_pool = pool or _pool_in_files(project, restricted)
        if old_pool:
            config[f"{NAMESPACE}userPool"] = {"replaces": old_pool[0]}
            report.found.append(f"user pool {old_pool[0]}: replaced by a new, empty pool (userPool.replaces); its "
                                "users stay in it.")
        else:
            report.warnings.append(f"the files name no user pool of env {env.name}, so userPool.replaces is not set "
                                   "and the plan cannot say which pool's users to bring across.")
    if new_resources and tables:
        report.warnings.append("--new-resources: the new tables start EMPTY; copy the items over (e.g. DynamoDB export "
                               "to S3 and import) before switching traffic.")
    if tables:
        config[f"{NAMESPACE}storage"] = {t.key: t.entry for t in tables.values()}
    config[f"{NAMESPACE}apis"] = {api.name: api.entry for api in apis}
    guardrails.follow(stack, stack_dir, config, config[f"{NAMESPACE}apis"], report, NAMESPACE)
    arns = {api.name: api.secret_arns for api in apis if api.secret_arns}
    if arns:
        config[f"{NAMESPACE}secretArns"] = arns
    _other_categories(project, report)
    return ImportedStack(stack=stack, config=config, report=report, apis=apis,
                         needs_github_token=any(api.entry["build"] == "github" for api in apis))


def _user_pool(project: AmplifyProject, restricted: list[ImportedApi], ask_pool: AskPool) -> tuple[str, str]:
    """The env's pool and web client: amplify-meta.json's auth outputs when it holds this env, an imported pool's
    ids from team-provider-info.json, else asked for."""
    found = _pool_in_files(project, restricted)
    if found:
        return found
    why = (f"the APIs {', '.join(a.name for a in restricted)} require sign-in, and the files hold no user pool of env "
           f"{project.env.name} (amplify-meta.json holds {'another env' if project.meta else 'nothing: it is absent'})")
    return ask_pool(why)


def _pool_in_files(project: AmplifyProject, restricted: list[ImportedApi]) -> tuple[str, str] | None:
    names = sorted({api.auth_name for api in restricted if api.auth_name} or set(project.resources("auth")))
    for name in names:
        outputs = project.outputs("auth", name)
        if outputs.get("UserPoolId") and outputs.get("AppClientIDWeb"):
            return check_pool_ids(outputs["UserPoolId"], outputs["AppClientIDWeb"], "amplify/backend/amplify-meta.json")
        params = project.env_parameters("auth", name)
        if params.get("userPoolId") and params.get("webClientId"):
            return check_pool_ids(params["userPoolId"], params["webClientId"], "amplify/team-provider-info.json")
    return None


def check_pool_ids(pool_id: str, client_id: str, source: str) -> tuple[str, str]:
    if not isinstance(pool_id, str) or not USER_POOL_ID.match(pool_id):
        raise ConfigError(f"{pool_id!r} is not a Cognito user pool id (like us-east-1_AbC123).", file=source,
                          fix="pass --user-pool-id with the pool's id.")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ConfigError(f"{client_id!r} is not a Cognito app client id.", file=source,
                          fix="pass --client-id with the web client's id.")
    return pool_id, client_id


def _other_categories(project: AmplifyProject, report: ImportReport) -> None:
    for name, spec in project.resources("api").items():
        service = spec.get("service")
        if service != "ElasticContainer":
            report.cannot.append(f"api {name}: a {API_SERVICES.get(service, str(service))}, not a container.")
    for category, what in OTHER_CATEGORIES.items():
        for name, spec in project.resources(category).items():
            container = category == "hosting" and spec.get("service") == "ElasticContainer"
            report.cannot.append(f"{category} {name}: {'container hosting (ALB + CloudFront)' if container else what}.")
    for name, spec in project.resources("auth").items():
        if spec.get("service") == "Cognito-UserPool-Groups":
            report.cannot.append(f"auth {name}: user pool groups stay in the pool, but the JWT authorizer does not check "
                                 "them; check the cognito:groups claim in the app.")
        elif spec.get("service") == "Cognito":
            report.cannot.append(f"auth {name}: its identity pool (AWS credentials for signed-in users) is not in the new "
                                 "aws-exports.js; copy aws_cognito_identity_pool_id from the old one if the front end "
                                 "uses it.")


def render(imported: ImportedStack, project: AmplifyProject) -> str:
    import yaml

    header = [f"# Imported from the Amplify Gen1 project {project.root}, env {project.env.name}, by",
              f"# `python -m ops import amplify --project {project.root} --env {project.env.name}`.",
              "# Every key is described in docs/design.md (\"Stack config contract\"); README.md, \"Moving from",
              "# Amplify Gen1\", walks through the move. No secret value is in this file."]
    body = yaml.safe_dump({"config": imported.config}, sort_keys=False, default_flow_style=None, width=120)
    return "\n".join(header) + "\n" + body
