"""Amplify's DynamoDB storage resources as the stack's tables.

A table Amplify created is named `<tableName>-<env>` (the storage category's DynamoDB stack joins its `tableName`
parameter, `-` and the env). Its keys are in `storage/<name>/cli-inputs.json` (`partitionKey`/`sortKey` with a
`fieldType` of string, number or binary), or in `parameters.json` in projects made before cli-inputs existed
(`partitionKeyName`/`partitionKeyType` as S, N or B). An imported table (`serviceType: imported`) keeps its name,
ARN and keys per env in team-provider-info.json (`categories.storage.<name>`).

By default every table becomes ``existingTable`` (the data stays where it is); ``--new-resources`` declares new,
empty tables with the same keys instead, each with ``replaces`` naming the Amplify table it takes over from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from components.errors import ConfigError
from ops.amplify_import.project import AmplifyProject, read_json
from ops.amplify_import.report import ImportReport

FIELD_TYPES = {"string": "S", "number": "N", "binary": "B"}
KEY_TYPES = ("S", "N", "B")
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class ImportedTable:
    amplify_name: str        # the storage resource's name in Amplify (STORAGE_<NAME>_... uses it upper-cased)
    key: str                 # its name under the stack's `storage`
    physical_name: str       # the DynamoDB table of this env
    arn: str | None          # known when the account is
    entry: dict


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def stack_key(amplify_name: str, taken: set[str]) -> str:
    """The stack's table name: Amplify's resource name in lower case (so STORAGE_<NAME>_* keeps its name)."""
    key = re.sub(r"[^a-z0-9-]", "-", amplify_name.lower()).strip("-") or "table"
    if not STACK_NAME.match(key):
        key = f"t-{key}"
    base, suffix = key, 2
    while key in taken:
        key, suffix = f"{base}-{suffix}", suffix + 1
    return key


def import_tables(project: AmplifyProject, report: ImportReport, *, new_resources: bool) -> dict[str, ImportedTable]:
    """Amplify storage resource name -> the stack's table, for every DynamoDB resource."""
    tables: dict[str, ImportedTable] = {}
    for name, spec in project.resources("storage").items():
        service = spec.get("service")
        if service != "DynamoDB":
            what = "S3 bucket" if service == "S3" else f"{service or 'unknown'} storage"
            report.cannot.append(f"storage {name} ({what}): this stack has DynamoDB tables only; the bucket and its "
                                 "files stay where they are.")
            continue
        key = stack_key(name, {t.key for t in tables.values()})
        if key != name.lower():
            report.warnings.append(f"table {name} is `{key}` in the stack (stack names start with a letter), so its "
                                   f"variables become STORAGE_{key.upper().replace('-', '_')}_*; Amplify set "
                                   f"STORAGE_{name.upper()}_*.")
        imported = spec.get("serviceType") == "imported"
        keys = _imported_keys(project, name) if imported else _created_keys(project, name)
        physical, arn = _where(project, name, keys, imported)
        if new_resources:
            entry = {"partitionKey": {"name": keys["partition"][0], "type": keys["partition"][1]}}
            if keys.get("sort"):
                entry["sortKey"] = {"name": keys["sort"][0], "type": keys["sort"][1]}
            entry["replaces"] = arn or physical      # so the plan and the deploy warn that it starts empty
            report.found.append(f"table {name}: a NEW, EMPTY table `{key}` (--new-resources); the data stays in "
                                f"{physical}.")
        else:
            entry = {"existingTable": arn or physical}
            report.found.append(f"table {name}: keeps {arn or physical} ({'imported into Amplify' if imported else 'made by Amplify'}"
                                "; never changed or deleted by the stack)")
        if keys.get("indexes") and new_resources:
            report.cannot.append(f"table {name}: its global secondary indexes ({', '.join(keys['indexes'])}); the new "
                                 "table has none.")
        if keys.get("triggers"):
            report.cannot.append(f"table {name}: its stream triggers ({', '.join(keys['triggers'])}) are Lambda "
                                 "functions.")
        tables[name] = ImportedTable(amplify_name=name, key=key, physical_name=physical, arn=arn, entry=entry)
    return tables


def _where(project: AmplifyProject, name: str, keys: dict, imported: bool) -> tuple[str, str | None]:
    env = project.env
    if imported:
        return keys["table"], keys.get("arn") or _arn(env.region, env.account_id, keys["table"])
    physical = f"{keys['table']}-{env.name}"
    return physical, _arn(env.region, env.account_id, physical)


def _arn(region: str, account: str | None, table: str) -> str | None:
    return f"arn:{partition(region)}:dynamodb:{region}:{account}:table/{table}" if account else None


def _imported_keys(project: AmplifyProject, name: str) -> dict:
    params = project.env_parameters("storage", name)
    table = params.get("tableName")
    if not isinstance(table, str) or not table:
        raise ConfigError(f"storage {name} is an imported table, but env {project.env.name} has no tableName for it.",
                          file="amplify/team-provider-info.json", key=f"{project.env.name}.categories.storage.{name}",
                          fix=f"run `amplify pull --envName {project.env.name}` (it writes the env's parameters), "
                              "then import again.")
    keys: dict = {"table": table, "arn": params.get("arn") if isinstance(params.get("arn"), str) else None}
    if params.get("partitionKeyName"):
        keys["partition"] = (params["partitionKeyName"], _key_type(params.get("partitionKeyType"), name))
    if params.get("sortKeyName"):
        keys["sort"] = (params["sortKeyName"], _key_type(params.get("sortKeyType"), name))
    keys.setdefault("partition", ("id", "S"))    # used only with --new-resources; Amplify always records it
    return keys


def _created_keys(project: AmplifyProject, name: str) -> dict:
    folder = project.path("storage", name)
    cli_inputs, parameters = folder / "cli-inputs.json", folder / "parameters.json"
    fix = f"restore it from Git, or run `amplify pull --envName {project.env.name}`."
    if cli_inputs.is_file():
        spec = read_json(cli_inputs, project.shown(cli_inputs), fix=fix)
        spec = spec if isinstance(spec, dict) else {}
        partition_key, sort_key = spec.get("partitionKey") or {}, spec.get("sortKey") or {}
        keys = {"table": spec.get("tableName"), "partition": _field(partition_key, project.shown(cli_inputs))}
        if sort_key:
            keys["sort"] = _field(sort_key, project.shown(cli_inputs))
        keys["indexes"] = [index.get("name", "?") for index in spec.get("gsi") or [] if isinstance(index, dict)]
        keys["triggers"] = [str(t) for t in spec.get("triggerFunctions") or []]
        shown = project.shown(cli_inputs)
    elif parameters.is_file():
        spec = read_json(parameters, project.shown(parameters), fix=fix)
        spec = spec if isinstance(spec, dict) else {}
        keys = {"table": spec.get("tableName"),
                "partition": (spec.get("partitionKeyName"), _key_type(spec.get("partitionKeyType"), name))}
        if spec.get("sortKeyName"):
            keys["sort"] = (spec["sortKeyName"], _key_type(spec.get("sortKeyType"), name))
        shown = project.shown(parameters)
    else:
        raise ConfigError(f"storage {name} has neither cli-inputs.json nor parameters.json.",
                          file=project.shown(folder), fix=fix)
    if not isinstance(keys["table"], str) or not keys["table"] or not keys["partition"][0]:
        raise ConfigError("the table name or its partition key is missing.", file=shown, fix=fix)
    return keys


def _field(spec: dict, shown: str) -> tuple[str, str]:
    field_type = FIELD_TYPES.get(str(spec.get("fieldType")))
    if not spec.get("fieldName") or field_type is None:
        raise ConfigError(f"key {spec!r} is not a DynamoDB key (fieldName with fieldType string, number or binary).",
                          file=shown, fix="restore the file from Git.")
    return spec["fieldName"], field_type


def _key_type(value, name: str) -> str:
    return value if value in KEY_TYPES else "S"
