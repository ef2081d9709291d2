"""`no-credentials-in-values`: no literal in a task definition or a build has the shape of a live credential.

Registered in policies/rules.py beside the other rules, with their contract (type token, camelCase properties,
settings -> messages). Mandatory in every stack (policies/settings.py): a value shaped like a token, a URL with
a password or a ``Password=...;`` connection string is a leaked credential whatever the stack, so dev stops too.
Names that only *sound* secret stay with `no-secrets-in-environment` and `no-secrets-in-build-args`, which
advise in dev (policies/secret_values.py says which verdict is which).

Where a literal can hide, and so what is read:
* a task definition's containers: ``environment`` values, ``command``, ``entryPoint``, ``dockerLabels`` and the
  health check's command (all stored in plain text in the task definition and the Pulumi state);
* a CodeBuild project: its plain-text environment variables, and every buildspec command: the ``--build-arg``
  values, the inline Dockerfiles (compose ``dockerfile_inline``, written with ``printf``) and anything else.
"""
from __future__ import annotations

import shlex
from typing import Any, Iterator, Mapping

import yaml

from catalog.resources import CODEBUILD, TASK_DEFINITION, block, json_document, known
from policies.secret_values import secret_kinds

FIX_TASK = ("Move it to the service's compose `secrets:` (Secrets Manager, `valueFrom`) and rotate it: it is in "
            "the task definition and the Pulumi state")
FIX_BUILD = ("Pass build-time credentials as BuildKit secrets (compose build.secrets, `RUN --mount=type=secret`) "
             "and rotate it: it is in the buildspec, the Pulumi state and the build log")


def _kinds(value: Any) -> str:
    return ", ".join(secret_kinds(value)) if isinstance(value, str) else ""


def _words(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def task_definition_literals(containers: list) -> Iterator[tuple[str, str, str]]:
    """(container, where, text) for every literal of the container definitions that could hold a credential."""
    for container in containers:
        if not isinstance(container, Mapping):
            continue
        name = str(container.get("name"))
        for variable in container.get("environment") or []:
            if isinstance(variable, Mapping) and isinstance(variable.get("value"), str):
                yield name, f"environment variable {variable.get('name')}", variable["value"]
        for key in ("command", "entryPoint"):
            words = _words(container.get(key))
            if words:
                yield name, key, " ".join(words)
        labels = container.get("dockerLabels")
        for label, value in (labels.items() if isinstance(labels, Mapping) else []):
            if isinstance(value, str):
                yield name, f"docker label {label}", value
        health = _words(block(container.get("healthCheck")).get("command"))
        if health:
            yield name, "health check", " ".join(health)


def _inline_dockerfile(words: list[str]) -> tuple[str, str] | None:
    """(container, Dockerfile text) when ``words`` is buildspec.py's ``printf '%s' <Dockerfile> > <c>.Dockerfile``."""
    if len(words) >= 5 and words[:2] == ["printf", "%s"] and words[3] == ">" and words[4].endswith(".Dockerfile"):
        return words[4].rsplit("/", 1)[-1][: -len(".Dockerfile")], words[2]
    return None


def buildspec_literals(text: str) -> Iterator[tuple[str, str]]:
    """(where, text) for every build arg value, inline Dockerfile and other command of a buildspec."""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    phases = (spec or {}).get("phases") if isinstance(spec, Mapping) else None
    for phase in (phases or {}).values():
        commands = phase.get("commands") if isinstance(phase, Mapping) else None
        for command in commands or []:
            if not isinstance(command, str):
                continue
            try:
                words = shlex.split(command)
            except ValueError:
                yield "a buildspec command", command
                continue
            inline = _inline_dockerfile(words)
            if inline is not None:
                yield f"the inline Dockerfile of container {inline[0]}", inline[1]
                continue
            arguments = {i + 1 for i, word in enumerate(words[:-1]) if word == "--build-arg"}
            for i in sorted(arguments):
                name, _, value = words[i].partition("=")
                yield f"build arg {name}", value
            rest = [w for i, w in enumerate(words) if i not in arguments]
            yield "a buildspec command", " ".join(rest)


def no_credentials_in_values(resource_type: str, props: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    allowed = set(settings.get("allowedNames") or [])
    found = []
    if resource_type == TASK_DEFINITION:
        containers = json_document(props.get("containerDefinitions"))
        for container, where, text in task_definition_literals(containers if isinstance(containers, list) else []):
            kinds = _kinds(text) if where.split(" ")[-1] not in allowed else ""
            if kinds:
                found.append(f"container {container!r}: {where} holds a literal that looks like a live credential "
                             f"({kinds}). {FIX_TASK}; or list the name in allowedNames if it is none.")
    elif resource_type == CODEBUILD:
        environment = block(props.get("environment"))
        for variable in environment.get("environmentVariables") or []:
            if not isinstance(variable, Mapping) or variable.get("type", "PLAINTEXT") != "PLAINTEXT":
                continue
            kinds = _kinds(variable.get("value")) if variable.get("name") not in allowed else ""
            if kinds:
                found.append(f"build environment variable {variable.get('name')} looks like a live credential "
                             f"({kinds}). {FIX_BUILD}.")
        text = block(props.get("source")).get("buildspec")
        for where, literal in buildspec_literals(text) if known(text) and isinstance(text, str) else []:
            kinds = _kinds(literal) if where.split(" ")[-1] not in allowed else ""
            if kinds:
                found.append(f"{where} holds a literal that looks like a live credential ({kinds}). {FIX_BUILD}.")
    return found
