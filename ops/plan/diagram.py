"""The architecture picture of a planned stack: the request path, the pipeline and the storage, drawn by Graphviz.

Built from the recorded resources alone (the ``api`` tag the program puts on everything of one API, and the
ARNs and names resources pass to each other), so it shows what would be deployed, not what we meant to deploy.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Iterable

import graphviz  # the Graphviz language binding; the `dot` binary renders SVG and PNG

from catalog.resources import (
    AUTHORIZER,
    CLOUD_MAP_SERVICE,
    CODEBUILD,
    DOMAIN_NAME,
    LAMBDA_FUNCTION,
    DYNAMODB_TABLE,
    ECR_REPOSITORY,
    ECS_SERVICE,
    EFS_FILE_SYSTEM,
    HTTP_API,
    PIPELINE,
    SECRET,
    TASK_DEFINITION,
    USER_POOL,
    VPC_LINK,
    as_list,
    block,
    json_document,
    known,
    number,
)
from components.pipeline.pipeline import PROMOTE_SUFFIX


def _id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _api_of(resource: Any) -> str:
    tags = resource.props.get("tags")
    return str(tags.get("api")) if isinstance(tags, dict) and known(tags.get("api")) else ""


def _of(resources: list[Any], type_token: str, api: str | None = None) -> list[Any]:
    return [r for r in resources if r.type == type_token and (api is None or _api_of(r) == api)]


def _containers(task: Any | None) -> list[dict]:
    document = json_document(task.props.get("containerDefinitions")) if task is not None else None
    return [c for c in document if isinstance(c, dict)] if isinstance(document, list) else []


def build_graph(resources: Iterable[Any], stack: str) -> graphviz.Digraph:
    resources = list(resources)
    graph = graphviz.Digraph(f"serverless-containers-{stack}", graph_attr={
        "rankdir": "LR", "compound": "true", "fontname": "Helvetica", "label": f"stack {stack} (offline plan)",
        "labelloc": "t"}, node_attr={"fontname": "Helvetica", "shape": "box", "style": "rounded"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    graph.node("client", "client", shape="ellipse")
    tables = {str(t.props.get("name")): t for t in _of(resources, DYNAMODB_TABLE) if known(t.props.get("name"))}
    secrets = {str(s.props.get("arn")): s for s in _of(resources, SECRET) if known(s.props.get("arn"))}
    pools = _of(resources, USER_POOL)
    file_systems = {str(f.props.get("id")): f for f in _of(resources, EFS_FILE_SYSTEM) if known(f.props.get("id"))}
    with graph.subgraph(name="cluster_storage", graph_attr={"label": "storage", "style": "dashed"}) as box:
        for file_system_id, file_system in file_systems.items():
            encrypted = "encrypted" if file_system.props.get("encrypted") is True else "NOT encrypted"
            box.node(_id("efs", file_system_id), f"EFS file system\n{file_system_id}\n(persistent volumes, {encrypted})",
                     shape="cylinder")
        for name, table in tables.items():
            box.node(_id("table", name), f"DynamoDB table\n{name}", shape="cylinder")
    # The user pool stands beside the client, left of every API: its "verifies tokens" edges then enter each API box
    # from the side, never across an API's title (a pool on the far right drew them through the titles).
    with graph.subgraph(name="cluster_sign_in", graph_attr={"label": "sign-in", "style": "dashed"}) as box:
        for pool in pools:
            box.node(_id("pool", pool.name), f"Cognito user pool\n{pool.props.get('name', pool.name)}")

    apis = sorted({_api_of(r) for r in _of(resources, ECS_SERVICE) + _of(resources, HTTP_API)} - {""})
    for api in apis:
        _draw_api(graph, resources, api, tables, secrets, pools)
        _draw_volumes(graph, api, next(iter(_of(resources, TASK_DEFINITION, api)), None), file_systems)
    return graph


def _draw_volumes(graph: graphviz.Digraph, api: str, task: Any | None, file_systems: dict) -> None:
    """A dashed edge from each container to the EFS file system its named volumes live on, labelled
    volume:path."""
    if task is None:
        return
    on_efs = {str(v.get("name")): str(block(v.get("efsVolumeConfiguration")).get("fileSystemId"))
              for v in as_list(task.props.get("volumes")) if block(v.get("efsVolumeConfiguration"))}
    for container in _containers(task):
        for mount in container.get("mountPoints") or []:
            file_system_id = on_efs.get(str(mount.get("sourceVolume")))
            if file_system_id in file_systems:
                graph.edge(_id("c", api, str(container.get("name"))), _id("efs", file_system_id),
                           label=f"{mount.get('sourceVolume')}:{mount.get('containerPath')}", style="dashed")


def _draw_api(graph: graphviz.Digraph, resources: list[Any], api: str, tables: dict, secrets: dict, pools: list) -> None:
    http_api = next(iter(_of(resources, HTTP_API, api)), None)
    link = next(iter(_of(resources, VPC_LINK, api)), None)
    discovery = next(iter(_of(resources, CLOUD_MAP_SERVICE, api)), None)
    service = next(iter(_of(resources, ECS_SERVICE, api)), None)
    task = next(iter(_of(resources, TASK_DEFINITION, api)), None)
    entrypoint = block(service.props.get("serviceRegistries")).get("containerName") if service else None
    port = number(block(service.props.get("serviceRegistries")).get("containerPort")) if service else None
    replicas = number(service.props.get("desiredCount")) if service else None
    path = ["client"]
    with graph.subgraph(name=_id("cluster", api), graph_attr={"label": f"API {api}", "style": "rounded"}) as box:
        for domain in _of(resources, DOMAIN_NAME, api):     # clients call the custom URL (components/domain.py)
            default = "execute-api address off" if http_api is not None and \
                http_api.props.get("disableExecuteApiEndpoint") is True else "execute-api address kept"
            box.node(_id("domain", api), f"https://{domain.props.get('domainName', '')}\n(custom domain, TLS 1.2;"
                                         f"\n{default})", shape="note")
            path.append(_id("domain", api))
        if http_api is not None:
            authorizers = [a for a in resources if a.type == AUTHORIZER and a.props.get("apiId") == http_api.props.get("id")]
            auth = "JWT sign-in required" if authorizers else "no sign-in"
            box.node(_id("api", api), f"API Gateway HTTP API\n{http_api.props.get('name', api)}\n({auth})")
            path.append(_id("api", api))
            for pool in pools if authorizers else []:
                # Drawn pool -> API (so the pool ranks with the client), shown as API -> pool.
                graph.edge(_id("pool", pool.name), _id("api", api), label="verifies tokens", style="dashed",
                           dir="back", tailport="e", headport="w")
        if link is not None:
            box.node(_id("link", api), "VPC link")
            path.append(_id("link", api))
        if discovery is not None:
            box.node(_id("map", api), f"Cloud Map service\n{discovery.props.get('name', api)} (SRV)")
            path.append(_id("map", api))
        containers = _containers(task)
        count = f" x {replicas:g}" if replicas is not None else ""
        architecture = block(task.props.get("runtimePlatform")).get("cpuArchitecture", "X86_64") if task else ""
        on_spot = service is not None and any(s.get("capacityProvider") == "FARGATE_SPOT"
                                              for s in as_list(service.props.get("capacityProviderStrategies")))
        kind = f", {architecture}{' Spot' if on_spot else ''}" if architecture else ""
        with box.subgraph(name=_id("cluster_task", api),
                          graph_attr={"label": f"Fargate task{count} (ECS service {api}{kind})", "style": "filled",
                                      "fillcolor": "#eef5ff"}) as task_box:
            for container in containers:
                name = str(container.get("name"))
                mark = f"\nentrypoint :{port:g}" if name == entrypoint and port is not None else \
                    ("\nentrypoint" if name == entrypoint else "")
                task_box.node(_id("c", api, name), f"container {name}{mark}",
                              penwidth="2" if name == entrypoint else "1")
        for secret_ref in (s for c in containers for s in c.get("secrets") or []):
            secret = secrets.get(str(secret_ref.get("valueFrom")))
            if secret is not None:
                box.node(_id("secret", secret.name), f"secret\n{secret_ref.get('name')}", shape="note")
        waker = next(iter(_of(resources, LAMBDA_FUNCTION, api)), None)
        if waker is not None:       # components/waker.py: starts a sleeping API on its first request
            box.node(_id("waker", api), "waker (Lambda)\nsets the desired count\nwhen the API sleeps", shape="component")
        repositories = _of(resources, ECR_REPOSITORY, api)
        pipeline = next(iter(_of(resources, PIPELINE, api)), None)
        projects = _of(resources, CODEBUILD, api)
        promoter = next((p for p in projects if str(p.props.get("name", "")).endswith(PROMOTE_SUFFIX)), None)
        builder = next((p for p in projects if p is not promoter), None)
        approval = _has_approval(pipeline) if pipeline is not None else False
        if pipeline is not None:
            with box.subgraph(name=_id("cluster_pipeline", api),
                              graph_attr={"label": f"pipeline {pipeline.props.get('name', '')}", "style": "dashed"}) as pipe:
                source = _source_label(pipeline)
                pipe.node(_id("source", api), f"Source\n{source}", shape="folder")
                pipe.node(_id("build", api), f"CodeBuild\n{builder.props.get('name', '') if builder else ''}")
                for repository in repositories:
                    pipe.node(_id("ecr", repository.name), f"ECR\n{repository.props.get('name', repository.name)}",
                              shape="cylinder")
                breaker = block(service.props.get("deploymentCircuitBreaker")) if service else {}
                guard = "rolls back a failed rollout" if breaker.get("rollback") is True else "no automatic rollback"
                pipe.node(_id("deploy", api), f"ECS deploy\n({guard})")
                if approval:
                    pipe.node(_id("approval", api), "Manual approval", shape="diamond")
                if promoter is not None:
                    pipe.node(_id("promote", api), f"Promote\n(tags the deployed build 'deployed')\n"
                                                   f"{promoter.props.get('name', '')}")
    for a, b in zip(path, path[1:]):
        graph.edge(a, b)
    if entrypoint:
        graph.edge(path[-1], _id("c", api, entrypoint))
    if waker is not None and http_api is not None:
        graph.edge(_id("api", api), _id("waker", api), label="503 while asleep\n(access log)", style="dashed")
        if containers:
            graph.edge(_id("waker", api), _id("c", api, str(containers[0].get("name"))), lhead=_id("cluster_task", api),
                       label="starts", style="dashed")
    for container in containers:
        name = str(container.get("name"))
        for variable in container.get("environment") or []:
            if str(variable.get("value")) in tables:
                graph.edge(_id("c", api, name), _id("table", str(variable["value"])), label=variable.get("name"),
                           style="dashed")
        for secret_ref in container.get("secrets") or []:
            secret = secrets.get(str(secret_ref.get("valueFrom")))
            if secret is not None:
                graph.edge(_id("secret", secret.name), _id("c", api, name), style="dotted", label="injected")
    if pipeline is not None:
        graph.edge(_id("source", api), _id("build", api))
        before_deploy = _id("approval", api) if approval else _id("deploy", api)
        for repository in repositories:
            graph.edge(_id("build", api), _id("ecr", repository.name), label="push")
            graph.edge(_id("ecr", repository.name), before_deploy)
        if not repositories:
            graph.edge(_id("build", api), before_deploy)
        if approval:
            graph.edge(_id("approval", api), _id("deploy", api), label="approved")
        if promoter is not None:
            graph.edge(_id("deploy", api), _id("promote", api), label="after a healthy rollout")
        if containers:
            graph.edge(_id("deploy", api), _id("c", api, str(containers[0].get("name"))),
                       lhead=_id("cluster_task", api), label="rolls out")


def _has_approval(pipeline: Any) -> bool:
    return any(action.get("category") == "Approval"
               for stage in as_list(pipeline.props.get("stages")) for action in as_list(stage.get("actions")))


def _source_label(pipeline: Any) -> str:
    for stage in as_list(pipeline.props.get("stages")):
        for action in as_list(stage.get("actions")):
            if action.get("category") == "Source":
                configuration = action.get("configuration") or {}
                if action.get("provider") == "S3":
                    return f"s3://{configuration.get('S3Bucket', '')}/{configuration.get('S3ObjectKey', '')}"
                return f"{action.get('provider')} {configuration.get('FullRepositoryId', configuration.get('Repo', ''))}"
    return ""


def render(graph: graphviz.Digraph, out_dir: Path, basename: str) -> list[Path]:
    """Write ``basename``.dot, and .svg and .png when Graphviz's ``dot`` is installed; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dot_path = out_dir / f"{basename}.dot"
    dot_path.write_text(graph.source)
    written = [dot_path]
    if shutil.which("dot") is None:
        return written
    for image_format in ("svg", "png"):
        target = out_dir / f"{basename}.{image_format}"
        target.write_bytes(graph.pipe(format=image_format))
        written.append(target)
    return written
