"""An Amplify Gen1 project folder: where it is, its JSON files, and the facts of one env.

Three files say what the project is (docs/design.md, "Moving from Amplify Gen1"):

* ``amplify/backend/backend-config.json``: every resource's definition, committed to Git. Required.
* ``amplify/backend/amplify-meta.json``: the local working copy of those definitions plus the outputs of the env
  last pushed or pulled from this folder. Git-ignored by Amplify, so a fresh clone has none. Optional.
* ``amplify/team-provider-info.json``: per env, the root stack (name, id, region, roles) and the env's resource
  parameters, among them an imported table's name and ARN. Required: it is the list of envs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.errors import ConfigError

BACKEND_CONFIG = "amplify/backend/backend-config.json"
AMPLIFY_META = "amplify/backend/amplify-meta.json"
TEAM_PROVIDER_INFO = "amplify/team-provider-info.json"
PROVIDER = "awscloudformation"
ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def read_json(path: Path, shown: str, *, fix: str) -> Any:
    """A JSON file's content, or one ConfigError naming the file, the place and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text.", file=shown, fix=fix) from None
    except OSError as error:
        raise ConfigError(f"the file cannot be read: {error.strerror or error}.", file=shown, fix=fix) from None
    try:
        return json.loads(text)
    except ValueError as error:
        where = f"line {error.lineno}, column {error.colno}: " if hasattr(error, "lineno") else ""
        raise ConfigError(f"the file is not valid JSON ({where}{getattr(error, 'msg', error)}).", file=shown,
                          fix=fix) from None


@dataclass(frozen=True)
class EnvFacts:
    """What team-provider-info.json says about one env."""

    name: str
    region: str
    root_stack: str | None          # the root CloudFormation stack's name (Amplify's `StackName`)
    account_id: str | None          # from the root stack's id or a role ARN


@dataclass
class AmplifyProject:
    root: Path                       # the folder holding amplify/
    backend_config: dict
    team_provider: dict
    env: EnvFacts
    meta: dict = field(default_factory=dict)
    """amplify-meta.json ({} when absent). Its resource definitions are the freshest (see fresher_attribute);
    its `output` blocks belong to the env whose root stack it names (``meta_is_env``)."""
    meta_is_env: bool = False

    def path(self, *parts: str) -> Path:
        return self.root.joinpath("amplify", "backend", *parts)

    def shown(self, path: Path) -> str:
        """``path`` as the messages show it: relative to the project folder."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def resources(self, category: str) -> dict[str, dict]:
        """Every resource of a category in backend-config.json (the committed list)."""
        entries = self.backend_config.get(category) or {}
        return {name: spec for name, spec in entries.items() if isinstance(spec, dict)}

    def meta_resource(self, category: str, name: str) -> dict:
        entry = (self.meta.get(category) or {}).get(name)
        return entry if isinstance(entry, dict) else {}

    def env_parameters(self, category: str, name: str) -> dict:
        """The env's parameters of one resource in team-provider-info.json (`categories`), {} when none."""
        categories = (self.team_provider.get(self.env.name) or {}).get("categories") or {}
        found = (categories.get(category) or {}).get(name)
        return found if isinstance(found, dict) else {}

    def outputs(self, category: str, name: str) -> dict:
        """A resource's CloudFormation outputs for this env, from amplify-meta.json; {} when it holds another env."""
        if not self.meta_is_env:
            return {}
        found = self.meta_resource(category, name).get("output")
        return found if isinstance(found, dict) else {}


def find_root(folder: Path) -> Path:
    """The folder holding amplify/ (``folder`` itself, or its parent when the user named amplify/)."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder.", key="--project",
                          fix="pass the folder of the Amplify project (the one holding amplify/).")
    for candidate in (folder, folder.parent if folder.name == "amplify" else None):
        if candidate is not None and (candidate / BACKEND_CONFIG).is_file():
            return candidate
    raise ConfigError(f"{folder} is not an Amplify Gen1 project: it has no {BACKEND_CONFIG}.", key="--project",
                      fix="pass the folder where `amplify init` ran (it holds amplify/backend/); in a fresh clone "
                          "of a project whose backend was never committed, run `amplify pull` first.")


def load(folder: Path, env: str) -> AmplifyProject:
    root = find_root(folder)
    restore = "restore it from Git, or run `amplify pull --envName {env}` to write it again.".format(env=env)
    backend_config = read_json(root / BACKEND_CONFIG, BACKEND_CONFIG, fix=restore)
    if not isinstance(backend_config, dict):
        raise ConfigError("expected a JSON object of categories.", file=BACKEND_CONFIG, fix=restore)
    tpi_path = root / TEAM_PROVIDER_INFO
    if not tpi_path.is_file():
        raise ConfigError("the file is missing, so the project's envs (region, root stack) are unknown.",
                          file=TEAM_PROVIDER_INFO,
                          fix=f"run `amplify pull --envName {env}` in {root} (it writes the file), then import again.")
    team_provider = read_json(tpi_path, TEAM_PROVIDER_INFO, fix=restore)
    envs = sorted(name for name, spec in team_provider.items() if isinstance(spec, dict)) \
        if isinstance(team_provider, dict) else []
    if env not in envs:
        raise ConfigError(f"the project has no env {env!r}.", file=TEAM_PROVIDER_INFO, key="--env",
                          fix=f"use one of: {', '.join(envs) or '(none: run `amplify env add`)'}.")
    facts = _env_facts(env, team_provider[env])
    meta: dict = {}
    if (root / AMPLIFY_META).is_file():
        meta = read_json(root / AMPLIFY_META, AMPLIFY_META,
                         fix=f"delete it and run `amplify pull --envName {env}`, which writes it again.")
        if not isinstance(meta, dict):
            raise ConfigError("expected a JSON object of categories.", file=AMPLIFY_META,
                              fix=f"delete it and run `amplify pull --envName {env}`.")
    meta_stack = ((meta.get("providers") or {}).get(PROVIDER) or {}).get("StackName")
    return AmplifyProject(root=root, backend_config=backend_config, team_provider=team_provider, env=facts,
                          meta=meta, meta_is_env=bool(meta_stack) and meta_stack == facts.root_stack)


def _env_facts(env: str, spec: dict) -> EnvFacts:
    provider = spec.get(PROVIDER) if isinstance(spec.get(PROVIDER), dict) else {}
    region = provider.get("Region")
    if not isinstance(region, str) or not region:
        raise ConfigError(f"env {env!r} has no {PROVIDER}.Region.", file=TEAM_PROVIDER_INFO, key=f"{env}.{PROVIDER}",
                          fix=f"run `amplify pull --envName {env}`, which writes the env's provider block.")
    account = None
    for key in ("StackId", "AuthRoleArn", "UnauthRoleArn"):
        match = ACCOUNT_IN_ARN.match(str(provider.get(key) or ""))
        if match:
            account = match.group(1)
            break
    stack = provider.get("StackName")
    return EnvFacts(name=env, region=region, root_stack=stack if isinstance(stack, str) and stack else None,
                    account_id=account)
