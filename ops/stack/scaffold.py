"""What `add api` and `add storage` do once the questions are answered.

An API gets a folder (a copy of a sample app, or the user's own) and an entry under
``serverless-containers:apis``; a table gets an entry under ``serverless-containers:storage``.
The new config is validated by the program's own ``load_settings``, and a new API's app is loaded and checked
by the program's own ``prepare``, before the file is written; a refusal removes the folder this run created and
leaves the stack file untouched, so nothing half-done is left behind.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from components.errors import ConfigError
from ops.project import PROJECT_DIR
from ops.stack import stack_config

APIS_KEY = f"{stack_config.NAMESPACE}apis"
STORAGE_KEY = f"{stack_config.NAMESPACE}storage"
OPERATIONS = ("create", "read", "update", "delete")
BUILD_MODES = ("managed", "github", "manual")
KEY_TYPES = ("S", "N", "B")
COPY_IGNORE = shutil.ignore_patterns("node_modules", ".git", "__pycache__", "*.pyc", ".venv")


@dataclass(frozen=True)
class Template:
    key: str
    label: str
    folder: str                      # under apps/
    api_type: str                    # rest | graphql
    compose_files: tuple[str, ...] = ()
    entrypoint: str | None = None
    uses_table: tuple[str, str] | None = None   # (table, key type) the sample reads, for a hint
    routes: tuple[tuple[str, str], ...] = ()     # (operation, the sample's requests that need it), for a warning


TEMPLATES = {
    "express": Template("express", "ExpressJS REST sample (one Dockerfile; CRUD on the posts table)", "posts",
                        "rest", uses_table=("posts", "N"),
                        routes=(("create", "POST /posts"), ("read", "GET /posts and GET /posts/:id"),
                                ("update", "PUT /posts/:id"), ("delete", "DELETE /posts/:id"))),
    "compose": Template("compose", "Two containers from a docker-compose.yml (Express-style + Python, one secret)",
                        "multi", "rest", compose_files=("docker-compose.yml",), entrypoint="express"),
    "graphql": Template("graphql", "GraphQL sample (POST /graphql with a posts query and a createPost mutation)",
                        "graphql", "graphql"),
}
OWN_FOLDER = "existing"


def templates_for(api_type: str) -> list[Template]:
    return [t for t in TEMPLATES.values() if t.api_type == api_type]


def check_name(name: str, what: str) -> str | None:
    """The program's own limits: stacks as ``STACK_PATTERN``; APIs and tables ``MAX_NAME_LENGTH`` (their derived
    AWS names must fit), so `add` never accepts a name that every plan of the stack would then refuse."""
    from components.settings.checks import MAX_NAME_LENGTH, NAME_PATTERN as API_NAME
    from components.settings.stack import STACK_PATTERN

    pattern, longest = (STACK_PATTERN, 40) if what == "stack" else (API_NAME, MAX_NAME_LENGTH)
    if not pattern.match(name or "") or len(name) > longest:
        return (f"{what} names are 1 to {longest} lowercase letters, digits and hyphens, starting with a letter "
                f"(got {name!r})")
    return None


@dataclass
class ApiPlan:
    stack: str
    name: str
    api_type: str = "rest"
    template: str = "express"        # a TEMPLATES key, or OWN_FOLDER
    source: str = ""                 # as written in the config: relative to the project, or absolute
    auth: bool = True
    access: dict[str, list[str]] = field(default_factory=dict)
    build: str = "managed"
    github: dict[str, str] | None = None
    region: str | None = None        # set as aws:region when the stack config has none


@dataclass
class TablePlan:
    stack: str
    name: str
    partition_key: str = "id"
    partition_type: str = "S"
    sort_key: str | None = None
    sort_type: str = "S"
    point_in_time_recovery: bool = False
    region: str | None = None


def existing_names(document, key: str) -> list[str]:
    section = (document.get("config") or {}).get(key) or {}
    return list(section) if isinstance(section, dict) else []


def parse_access(values: list[str], tables: list[str]) -> dict[str, list[str]]:
    """`posts=create,read` (repeatable; `posts` alone means every operation) -> {table: [operations]}."""
    access: dict[str, list[str]] = {}
    for value in values:
        table, equals, operations = value.partition("=")
        table = table.strip()
        if equals and not operations.strip(" ,"):
            raise ConfigError(f"--access {value} names no operation for table '{table}'.", key="--access",
                              fix=f"list them, e.g. --access {table}=create,read, or write --access {table} alone "
                                  f"to grant all four ({', '.join(OPERATIONS)}).")
        if table not in tables:
            known = ", ".join(tables) or "(none; add one with `python -m ops add storage`)"
            raise ConfigError(f"--access names table '{table}', which the stack config does not have.",
                              key="--access", fix=f"use one of: {known}.")
        chosen = [op.strip() for op in operations.split(",") if op.strip()] if operations else list(OPERATIONS)
        unknown = [op for op in chosen if op not in OPERATIONS]
        if unknown:
            raise ConfigError(f"--access {value}: unknown operation(s) {', '.join(unknown)}.", key="--access",
                              fix=f"use {', '.join(OPERATIONS)}, e.g. --access {table}=create,read.")
        access[table] = [op for op in OPERATIONS if op in chosen]
    return access


def _flow_list(items):
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _flow_map(pairs):
    from ruamel.yaml.comments import CommentedMap

    mapping = CommentedMap(pairs)
    mapping.fa.set_flow_style()
    return mapping


def _set_region(document, region: str | None) -> None:
    if region and not document["config"].get("aws:region"):
        document["config"].insert(0, "aws:region", region)


def _section(document, key: str):
    from ruamel.yaml.comments import CommentedMap

    config = document["config"]
    if config.get(key) is None:
        config[key] = CommentedMap()
    return config[key]


def api_entry(plan: ApiPlan):
    from ruamel.yaml.comments import CommentedMap

    entry = CommentedMap()
    entry["type"] = plan.api_type
    entry["source"] = plan.source
    template = TEMPLATES.get(plan.template)
    if template and template.compose_files:
        entry["composeFiles"] = _flow_list(list(template.compose_files))
    if template and template.entrypoint:
        entry["entrypoint"] = template.entrypoint
    entry["auth"] = plan.auth
    if plan.access:
        storage = CommentedMap((table, _flow_list(ops)) for table, ops in plan.access.items())
        entry["access"] = CommentedMap(storage=storage)
    entry["build"] = plan.build
    if plan.github:
        entry["github"] = CommentedMap(plan.github)
    return entry


def table_entry(plan: TablePlan):
    from ruamel.yaml.comments import CommentedMap

    entry = CommentedMap()
    entry["partitionKey"] = _flow_map([("name", plan.partition_key), ("type", plan.partition_type)])
    if plan.sort_key:
        entry["sortKey"] = _flow_map([("name", plan.sort_key), ("type", plan.sort_type)])
    if plan.point_in_time_recovery:
        entry["pointInTimeRecovery"] = True
    return entry


def source_dir(plan: ApiPlan, project_dir: Path) -> Path:
    path = Path(plan.source).expanduser()
    return path if path.is_absolute() else project_dir / path


def _copy_template(template: Template, destination: Path, project_dir: Path) -> list[Path]:
    """Copy the sample into ``destination`` (which must not hold anything); returns what was created."""
    origin = project_dir / "apps" / template.folder
    if not origin.is_dir():
        origin = PROJECT_DIR / "apps" / template.folder      # a project folder without the samples
    if not origin.is_dir():
        raise ConfigError(f"the {template.key} sample (apps/{template.folder}) is missing from this checkout.",
                          fix="restore it with git, or use --template existing with your own folder.")
    if destination.exists() and any(destination.iterdir()):
        raise ConfigError(f"{destination} already exists and is not empty; the sample would overwrite it.",
                          key="--source", fix="choose another --source folder, or --template existing to use it.")
    existed = destination.exists()
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(origin, destination, ignore=COPY_IGNORE, dirs_exist_ok=True)
    # An empty folder the user made stays; everything this run put anywhere can be taken back.
    created = sorted(destination.iterdir()) if existed else [destination]
    created += _copy_outside_files(template, origin, destination)
    return created


def _copy_outside_files(template: Template, origin: Path, destination: Path) -> list[Path]:
    """Secret files that the sample's compose file keeps next to, not inside, its folder."""
    created = []
    for compose in template.compose_files:
        text = (origin / compose).read_text()
        for relative in re.findall(r"file:\s*(\.\./\S+)", text):
            source = (origin / relative).resolve()
            target = (destination / relative).resolve()
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
                created.append(target)
    return created


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


def _with_pending_token(config, plan: ApiPlan):
    """A GitHub token can only be stored encrypted, by `pulumi config set --secret`, which the user runs
    next (the notes say so); validate everything else as if it were there."""
    token_key = f"{stack_config.NAMESPACE}githubToken"
    if plan.build != "github" or (plan.github or {}).get("connectionArn") or token_key in config:
        return config
    pending = dict(config)
    pending[token_key] = {"secure": "pending: pulumi config set --secret githubToken"}
    return pending


def _document_for_new(stack: str, name: str, kind: str, key: str, project_dir: Path, *, fix: str):
    """The stack file's document, once ``name`` is known to be a valid and free name for a new ``kind``."""
    problem = check_name(name, kind)
    if problem:
        raise ConfigError(problem, key="--name")
    document = stack_config.load_document(stack, project_dir)
    if name in existing_names(document, key):
        raise ConfigError(f"the stack already has {'an' if kind[0] in 'AEIOU' else 'a'} {kind} named '{name}'.",
                          file=str(stack_config.path_of(stack, project_dir)), key="--name", fix=fix)
    return document


def check_app(settings, api: str) -> None:
    """Load the new API's app with the program's own loader and checks (what `pulumi up` and `ops plan` run
    first), so `add` refuses exactly what a deploy would refuse. Only this API: the others are not its to judge."""
    from components.prepare import prepare_api

    prepare_api(settings, settings.apis[api])


def add_api(plan: ApiPlan, project_dir: Path = PROJECT_DIR) -> tuple[Path, list[str]]:
    """Scaffold and record the API; returns the config path and notes for the user."""
    document = _document_for_new(plan.stack, plan.name, "API", APIS_KEY, project_dir,
                                 fix="choose another name, or edit the existing entry.")
    destination = source_dir(plan, project_dir)
    created: list[Path] = []
    notes: list[str] = []
    if plan.template == OWN_FOLDER:
        if not destination.is_dir():
            raise ConfigError(f"the folder {destination} does not exist.", key="--source",
                              fix="point --source at the folder with your Dockerfile or docker-compose.yml, "
                                  "or pick a template to start from a sample.")
    else:
        created = _copy_template(TEMPLATES[plan.template], destination, project_dir)
    try:
        _set_region(document, plan.region)
        _section(document, APIS_KEY)[plan.name] = api_entry(plan)
        document["config"][APIS_KEY].yaml_add_eol_comment(
            f"added by `python -m ops add api` ({plan.template})", plan.name)
        settings = stack_config.validate(_with_pending_token(document["config"], plan), stack=plan.stack,
                                         project_dir=project_dir)
        check_app(settings, plan.name)
    except Exception:
        _remove(created)
        raise
    path = stack_config.write_document(plan.stack, document, project_dir)
    template = TEMPLATES.get(plan.template)
    if template and template.uses_table:
        notes.extend(sample_table_notes(template, plan.stack, plan.name, plan.access,
                                        existing_names(document, STORAGE_KEY)))
    for extra in created:
        if extra == destination or extra.parent == destination:
            continue
        notes.append(f"copied the sample secret {extra}; put your real value in it and keep it out of Git.")
    token_key = f"{stack_config.NAMESPACE}githubToken"
    if plan.build == "github" and not (plan.github or {}).get("connectionArn") and token_key not in document["config"]:
        notes.append(f"build: github needs a token: `pulumi config set --secret githubToken <token> "
                     f"--stack {plan.stack}` (run it in {project_dir}).")
    return path, notes


def sample_table_notes(template: Template, stack: str, api: str, access: dict[str, list[str]],
                       tables: list[str]) -> list[str]:
    """What to do next about the table a sample uses: create it, grant it, or grant what its requests need."""
    table, key_type = template.uses_table
    grant = f"`python -m ops add access --stack {stack} --api {api} --access {table}`"
    if table not in access:
        if table in tables:
            return [f"the sample keeps posts in the '{table}' table, which the stack has, but this API may not use it "
                    f"yet (it keeps them in memory until then): {grant}."]
        return [f"the sample keeps posts in the '{table}' table (STORAGE_{table.upper()}_NAME) and in memory without "
                f"it: `python -m ops add storage --stack {stack} --name {table} --partition-key id "
                f"--partition-key-type {key_type}`, then {grant}."]
    missing = [(op, requests) for op, requests in template.routes if op not in access[table]]
    if not missing:
        return []
    return [f"warning: the {template.key} sample also does {'; '.join(f'{op}: {requests}' for op, requests in missing)} "
            f"on '{table}'; without {', '.join(op for op, _ in missing)} those requests fail with "
            f"AccessDeniedException. Grant them with {grant}, or drop those routes from the sample."]


@dataclass
class AccessPlan:
    stack: str
    api: str
    access: dict[str, list[str]]       # table -> operations; replaces what the API had for these tables


def add_access(plan: AccessPlan, project_dir: Path = PROJECT_DIR) -> tuple[Path, list[str]]:
    """Grant an existing API operations on existing tables; returns the config path and notes."""
    from ruamel.yaml.comments import CommentedMap

    document = stack_config.load_document(plan.stack, project_dir)
    path = stack_config.path_of(plan.stack, project_dir)
    apis = existing_names(document, APIS_KEY)
    if plan.api not in apis:
        raise ConfigError(f"the stack has no API named '{plan.api}'.", file=str(path), key="--api",
                          fix=f"use one of: {', '.join(apis) or '(none; add one with `python -m ops add api`)'}.")
    entry = document["config"][APIS_KEY][plan.api]
    if entry.get("access") is None:
        entry["access"] = CommentedMap()
    if entry["access"].get("storage") is None:
        entry["access"]["storage"] = CommentedMap()
    for table, operations in plan.access.items():
        entry["access"]["storage"][table] = _flow_list(operations)
    stack_config.validate(document["config"], stack=plan.stack, project_dir=project_dir)
    notes = []
    source = entry.get("source")
    express = TEMPLATES["express"]
    if source and is_sample_copy(source_dir(ApiPlan(stack=plan.stack, name=plan.api, source=str(source)), project_dir),
                                 express):
        notes = [n for n in sample_table_notes(express, plan.stack, plan.api, _granted(entry),
                                               existing_names(document, STORAGE_KEY)) if n.startswith("warning")]
    return stack_config.write_document(plan.stack, document, project_dir), notes


def _granted(entry) -> dict[str, list[str]]:
    storage = (entry.get("access") or {}).get("storage") or {}
    return {str(table): [str(op) for op in (ops or [])] for table, ops in storage.items()}


def is_sample_copy(folder: Path, template: Template) -> bool:
    """Whether ``folder`` holds a copy of ``template``'s sample (its package.json names the sample)."""
    import json

    try:
        ours = json.loads((PROJECT_DIR / "apps" / template.folder / "package.json").read_text()).get("name")
        theirs = json.loads((folder / "package.json").read_text()).get("name")
    except (OSError, ValueError):
        return False
    return bool(ours) and ours == theirs


def add_table(plan: TablePlan, project_dir: Path = PROJECT_DIR) -> Path:
    document = _document_for_new(plan.stack, plan.name, "table", STORAGE_KEY, project_dir, fix="choose another name.")
    _set_region(document, plan.region)
    _section(document, STORAGE_KEY)[plan.name] = table_entry(plan)
    if APIS_KEY in document["config"]:
        stack_config.validate(document["config"], stack=plan.stack, project_dir=project_dir)
    else:
        # No API yet: the program would refuse the config for that alone; check the table by itself.
        config = dict(stack_config.plain(document["config"]))
        config[APIS_KEY] = {"placeholder": {"source": str(project_dir)}}
        stack_config.validate(config, stack=plan.stack, project_dir=project_dir)
    return stack_config.write_document(plan.stack, document, project_dir)
