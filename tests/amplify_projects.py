"""Small Amplify Gen1 project folders, laid out as the Amplify CLI writes them (docs/design.md, "Moving from
Amplify Gen1", cites the source of each file's shape), for the import tests."""
from __future__ import annotations

import json
from pathlib import Path

ACCOUNT = "123456789012"
REGION = "us-east-1"
POOL_ID = "us-east-1_AbCdEf123"
CLIENT_ID = "3n4b5c6d7e8f9g0h1i2j3k4l5m"
NETWORK_DEPENDENCY = {"category": "", "resourceName": "NetworkStack",
                      "attributes": ["ClusterName", "VpcId", "VpcCidrBlock", "SubnetIds", "VpcLinkId",
                                     "CloudMapNamespaceId"]}
EXPRESS_DOCKERFILE = "FROM node:18-alpine\nWORKDIR /app\nCOPY . .\nEXPOSE 8080\nCMD [\"node\", \"index.js\"]\n"
COMPOSE = """version: "3.8"
services:
  express:
    build:
      context: ./express
    ports:
      - "8080:8080"
    environment:
      - PYTHON_URL=http://localhost:5000
    secrets:
      - API_TOKEN
  python:
    build: ./python
    ports:
      - "5000:5000"
secrets:
  API_TOKEN:
    file: ../secrets/.secret-api-token
"""


class AmplifyFolder:
    """An Amplify project under ``root``: call the add_* methods, then ``save()``."""

    def __init__(self, root: Path, app: str = "postsapp", envs: tuple[str, ...] = ("dev",), region: str = REGION):
        self.root, self.app, self.region = root, app, region
        self.backend: dict = {}
        self.meta_resources: dict = {}
        self.team: dict = {env: {"awscloudformation": self.provider(env)} for env in envs}
        self.meta_env: str | None = envs[0]

    def provider(self, env: str) -> dict:
        stack = self.root_stack(env)
        return {"AuthRoleName": f"{stack}-authRole", "UnauthRoleName": f"{stack}-unauthRole",
                "AuthRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{stack}-authRole",
                "UnauthRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{stack}-unauthRole", "Region": self.region,
                "DeploymentBucketName": f"{stack}-deployment", "StackName": stack,
                "StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{stack}/0f1e2d3c-aaaa-bbbb-cccc-1234",
                "AmplifyAppId": "d1a2b3c4e5"}

    def root_stack(self, env: str) -> str:
        return f"amplify-{self.app}-{env}-123456"

    @property
    def backend_dir(self) -> Path:
        return self.root / "amplify" / "backend"

    def add_auth(self, name: str = "postsappauth", *, imported: dict[str, dict] | None = None) -> "AmplifyFolder":
        spec = {"service": "Cognito", "providerPlugin": "awscloudformation", "dependsOn": [], "customAuth": False}
        if imported:
            spec["serviceType"] = "imported"
            for env, params in imported.items():
                self.team[env].setdefault("categories", {}).setdefault("auth", {})[name] = params
        self.backend.setdefault("auth", {})[name] = spec
        self.meta_resources.setdefault("auth", {})[name] = {
            **spec, "output": {"UserPoolId": POOL_ID, "AppClientIDWeb": CLIENT_ID, "AppClientID": "nativeclient1"}}
        return self

    def add_table(self, name: str, table: str, partition=("id", "number"), sort=None, *, legacy: bool = False,
                  gsi: list | None = None) -> "AmplifyFolder":
        folder = self.backend_dir / "storage" / name
        folder.mkdir(parents=True)
        if legacy:   # before cli-inputs.json: parameters.json with DynamoDB attribute types
            types = {"string": "S", "number": "N", "binary": "B"}
            params = {"tableName": table, "partitionKeyName": partition[0], "partitionKeyType": types[partition[1]]}
            if sort:
                params.update(sortKeyName=sort[0], sortKeyType=types[sort[1]])
            (folder / "parameters.json").write_text(json.dumps(params))
        else:
            inputs = {"resourceName": name, "tableName": table,
                      "partitionKey": {"fieldName": partition[0], "fieldType": partition[1]}}
            if sort:
                inputs["sortKey"] = {"fieldName": sort[0], "fieldType": sort[1]}
            if gsi:
                inputs["gsi"] = gsi
            (folder / "cli-inputs.json").write_text(json.dumps(inputs))
        self.backend.setdefault("storage", {})[name] = {"service": "DynamoDB", "providerPlugin": "awscloudformation"}
        return self

    def add_imported_table(self, name: str, table: str, env: str = "dev", arn: str | None = None) -> "AmplifyFolder":
        """`amplify import storage`: the table's name, ARN and keys per env in team-provider-info.json."""
        self.backend.setdefault("storage", {})[name] = {"service": "DynamoDB", "serviceType": "imported",
                                                        "providerPlugin": "awscloudformation", "dependsOn": []}
        self.team[env].setdefault("categories", {}).setdefault("storage", {})[name] = {
            "tableName": table, "region": self.region,
            "arn": arn or f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{table}",
            "streamArn": f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{table}/stream/2024-01-01T00:00:00.000",
            "partitionKeyName": "pk", "partitionKeyType": "S", "sortKeyName": "sk", "sortKeyType": "S"}
        return self

    def add_resource(self, category: str, name: str, service: str) -> "AmplifyFolder":
        self.backend.setdefault(category, {})[name] = {"service": service, "providerPlugin": "awscloudformation"}
        return self

    def add_api(self, name: str, *, kind: str = "compose", restrict: bool = True, api_type: str = "REST",
                permissions: dict | None = None, mechanism: str = "FULLY_MANAGED", github_path: str | None = None,
                secret_file: bool = True, compose: str = COMPOSE, auth: str = "postsappauth",
                exposed: dict | None = None, custom_policies: list | None = None) -> "AmplifyFolder":
        """What `amplify add api` -> container writes (containers-handler.ts addResource)."""
        src = self.backend_dir / "api" / name / "src"
        src.mkdir(parents=True)
        if kind == "compose":
            (src / "docker-compose.yml").write_text(compose)
            for service in ("express", "python"):
                (src / service).mkdir()
                (src / service / "Dockerfile").write_text(EXPRESS_DOCKERFILE)
            if secret_file:
                (src.parent / "secrets").mkdir()
                (src.parent / "secrets" / ".secret-api-token").write_text("token-value-in-the-file\n")
        elif kind == "dockerfile":
            (src / "Dockerfile").write_text(EXPRESS_DOCKERFILE)
            (src / "index.js").write_text("console.log('hi')\n")
        permissions = permissions or {}
        depends = [{"category": "storage", "resourceName": table, "attributes": ["Name", "Arn", "StreamArn"]}
                   for table in permissions.get("storage", {})]
        depends.append(NETWORK_DEPENDENCY)
        if restrict:
            depends.append({"category": "auth", "resourceName": auth, "attributes": ["UserPoolId", "AppClientIDWeb"]})
        environment = {f"STORAGE_{table.upper()}_{attr.upper()}": {"Ref": f"storage{table}{attr}"}
                       for table in permissions.get("storage", {}) for attr in ("Name", "Arn", "StreamArn")}
        spec = {"service": "ElasticContainer", "providerPlugin": "awscloudformation", "build": mechanism == "FULLY_MANAGED",
                "deploymentMechanism": mechanism, "imageSource": {"type": "CUSTOM"}, "restrictAccess": restrict,
                "authName": auth if restrict else None, "apiType": api_type, "dependsOn": depends,
                "environmentMap": environment, "categoryPolicies": [],
                "mutableParametersState": {"permissions": permissions}, "skipHashing": False,
                "iamAccessUnavailable": True}
        if github_path:
            spec["gitHubInfo"] = {"path": github_path,
                                  "tokenSecretArn": f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:gh-AbCdEf"}
        self.backend.setdefault("api", {})[name] = spec
        self.meta_resources.setdefault("api", {})[name] = {**spec, **({"exposedContainer": exposed} if exposed else {})}
        statements = custom_policies if custom_policies is not None else [{"Action": [], "Resource": []}]
        (src.parent / "custom-policies.json").write_text(json.dumps(statements))
        return self

    def update_in_meta(self, category: str, name: str, **attributes) -> "AmplifyFolder":
        """What `amplify update api` does: these attributes change in amplify-meta.json only."""
        self.meta_resources[category][name].update(attributes)
        return self

    def save(self) -> Path:
        (self.root / "amplify" / ".config").mkdir(parents=True, exist_ok=True)
        self.backend_dir.mkdir(parents=True, exist_ok=True)
        (self.backend_dir / "backend-config.json").write_text(json.dumps(self.backend, indent=2))
        (self.root / "amplify" / "team-provider-info.json").write_text(json.dumps(self.team, indent=2))
        if self.meta_env:
            meta = {"providers": {"awscloudformation": self.provider(self.meta_env)}, **self.meta_resources}
            (self.backend_dir / "amplify-meta.json").write_text(json.dumps(meta, indent=2))
            (self.root / "amplify" / ".config" / "local-env-info.json").write_text(
                json.dumps({"projectPath": str(self.root), "defaultEditor": "code", "envName": self.meta_env}))
        return self.root
