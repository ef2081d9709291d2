"""Preparation: the checked settings and the apps in, one ``PreparedApi`` per API out, before any resource exists.

Pure Python (no Pulumi import; tests/test_layout.py checks it). The program (components/program.py), the offline
plan and `ops add`/`ops up` all call ``prepare``, so each refuses exactly what a deploy refuses: every API's app is
loaded and checked (volumes, routed port, manual images, build contexts, physical name lengths), its task count is
planned and its task definition is planned once (components/task_plan.py). The warnings the program logs before
it creates anything are made here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.compose import load_app
from components.compose.model import App
from components.compose.volumes import database_volumes
from components.errors import ConfigError, naming_api
from components.one_writer import shorten_database_stops
from components.pipeline.buildspec import image_builds
from components.settings.apis import ApiSettings
from components.settings.checks import NAMESPACE
from components.settings.names import check_name_lengths
from components.settings.scaling import CountPlan, count_plan
from components.settings.secrets import provided_hint
from components.settings.stack import StackSettings
from components.settings.storage import storage_environment
from components.task_plan import TaskPlan, plan_task


@dataclass
class PreparedApi:
    """One API, loaded and checked: its settings, its compose model and its task plan."""

    settings: ApiSettings
    app: App
    task: TaskPlan
    count: CountPlan
    """How many tasks it runs and who changes that count (components/settings/scaling.py)."""


def prepare(settings: StackSettings, region: str | None = None) -> list[PreparedApi]:
    """Load every API's app and check what the components would otherwise refuse halfway.

    region: the deploy's region when known (it only decides whether a compose REGION value is replaced)."""
    return [prepare_api(settings, api, region) for api in settings.apis.values()]


def prepare_api(settings: StackSettings, api: ApiSettings, region: str | None = None, *,
                secrets_from_files: bool = False) -> PreparedApi:
    """One API of ``prepare``, with every check a deploy makes.

    secrets_from_files: read every compose secret from its `.secret-` file, as `docker compose` does, even where
    the stack provides the value for the cloud (`ops local`, which cannot decrypt stack secrets).

    The compose loader does not know the API's name and writes `apis.<api>.` in its hints; here it is known."""
    try:
        return _prepare_api(settings, api, region, secrets_from_files)
    except ConfigError as error:
        raise naming_api(error, api.name, settings.stack) from None


def _prepare_api(settings: StackSettings, api: ApiSettings, region: str | None, secrets_from_files: bool
                 ) -> PreparedApi:
    app = _load_app(settings, api, secrets_from_files)
    app.warnings = [naming_api(warning, api.name, settings.stack) for warning in app.warnings]
    # names that only the app decides (ECR repositories, log groups, secrets) must fit AWS's limits too
    check_name_lengths(settings.config_file, settings.stack, [api.name], list(settings.storage),
                       containers=tuple(c.name for c in app.containers), secrets=tuple(app.secrets))
    count = count_plan(api.replicas, api.scaling, api.sleep, api.awake, app.replicas)
    _check_volumes(settings, api, app, count)
    _check_routed_port(app)
    _check_manual_images(settings, api, app)
    if api.build != "manual":
        image_builds(app)   # ConfigError for a build context the pipeline cannot see (outside `source`)
    shorten_database_stops(app)     # one writer: the old database is gone before a new task can start
    task = plan_task(app, stack_environment=storage_environment(
        {t: (settings.storage[t].physical_name(settings.stack), None) for t in api.storage_access}, region))
    return PreparedApi(settings=api, app=app, task=task, count=count)


def _load_app(settings: StackSettings, api: ApiSettings, secrets_from_files: bool = False) -> App:
    provided = settings.stack_secrets.get(api.name, {})
    try:
        app = load_app(api.source_dir, list(api.compose_files), api.entrypoint,
                       stack_secrets={} if secrets_from_files else
                       {name: secret.config_key for name, secret in provided.items()},
                       secret_hint=lambda secret: provided_hint(settings.stack, api.name, secret),
                       ephemeral_volumes=api.ephemeral_volumes, port=api.port)
    except ConfigError as error:
        if error.key != "entrypoint":
            raise
        # The entrypoint is set in the stack config, so point there (and still name the compose file).
        raise ConfigError(f"{error.problem} (compose: {error.file})", file=settings.config_file,
                          key=f"{NAMESPACE}:apis.{api.name}.entrypoint", fix=error.fix) from None
    for name, secret in provided.items():
        if name not in app.secrets:
            raise ConfigError(f"the stack provides secret {name!r}, which no deployed service of API {api.name} uses.",
                              file=settings.config_file, key=f"{NAMESPACE}:{secret.config_key}",
                              fix=f"use a secret the services list ({', '.join(app.secrets) or 'none'}), or remove "
                                  "the key.")
    return app


def _check_volumes(settings: StackSettings, api: ApiSettings, app: App, count: CountPlan) -> None:
    """`apis.NAME.volumes` names only the app's volumes; a database's volume never gets two writers."""
    mounted = {m.volume for c in app.containers for m in c.mounts}
    for volume in api.volumes:
        if volume not in mounted:
            raise ConfigError(f"volumes names {volume!r}, which no service of the app mounts.",
                              file=settings.config_file, key=f"{NAMESPACE}:apis.{api.name}.volumes.{volume}",
                              fix=f"use one of: {', '.join(sorted(mounted))}." if mounted else
                                  "remove it: the app mounts no named volume.")
    stack_key = "scaling.max" if api.scaling is not None else "replicas" if api.replicas is not None else None
    if stack_key:
        check_database_replicas(app, count.max, f"{NAMESPACE}:apis.{api.name}.{stack_key}", settings.config_file)
    else:
        check_database_replicas(app, count.max, "deploy.replicas")


def check_database_replicas(app: App, tasks: int, key: str, config_file: str | None = None) -> None:
    """More than one task on a database's persistent volume is a ConfigError: two database processes on one
    data directory corrupt it. ``tasks``: the most tasks the API may run (replicas, or autoscaling's maximum);
    ``key`` names where that number comes from (a compose key, or a stack key with ``config_file``)."""
    if tasks <= 1:
        return
    databases = database_volumes(app)
    if not databases:
        return
    volume, why = next(iter(databases.items()))
    service = next(c.name for c in app.containers if any(m.volume == volume for m in c.mounts))
    raise ConfigError(f"the API may run {tasks} tasks, but the volume {volume!r} holds a database ({why}); it is kept "
                      f"on EFS, so {tasks} database processes would share one data directory and corrupt it.",
                      file=config_file or _app_file(app), service=None if config_file else service,
                      key=key,
                      fix=f"run 1 task ({key}: 1), move the database to its own API with 1 task, or mark the "
                          f"volume ephemeral (apis.<api>.volumes: {{{volume}: ephemeral}}) if its data may be lost.")


def _app_file(app: App) -> str:
    """Where a problem with the app itself is reported: its first compose file, else its source folder."""
    return str(app.compose_files[0]) if app.compose_files else str(app.source_dir)


def _check_routed_port(app: App) -> None:
    # Any TCP entry for the port will do: a DNS server publishes 53/udp and 53/tcp, often UDP first.
    protocols = {p.protocol for p in app.container(app.entrypoint).ports if p.container_port == app.routed_port}
    if "tcp" not in protocols:
        raise ConfigError(f"API Gateway reaches the entrypoint over TCP, but port {app.routed_port} of "
                          f"{app.entrypoint!r} is not published as TCP.",
                          file=_app_file(app), service=app.entrypoint, key="ports",
                          fix=f"publish it as TCP too, e.g. \"{app.routed_port}:{app.routed_port}/tcp\".")


def _check_manual_images(settings: StackSettings, api: ApiSettings, app: App) -> None:
    for container in api.images:
        if not any(c.name == container for c in app.containers):
            raise ConfigError(f"images names container {container!r}, which the app does not have.",
                              file=settings.config_file, key=f"{NAMESPACE}:apis.{api.name}.images.{container}",
                              fix=f"use one of: {', '.join(c.name for c in app.containers)}.")


WRITE_OPERATIONS = ("create", "update", "delete")


SAMPLE_SECRETS_DIR = Path(__file__).resolve().parent.parent / "apps" / "secrets"


def sample_secret_files(item: PreparedApi, samples_dir: Path = SAMPLE_SECRETS_DIR) -> dict[str, str]:
    """Secret -> the committed sample (``apps/secrets/.secret-*``) whose value it has: known to everyone with the
    repository. The program tags the Secret with it, and policy `no-sample-secrets` reports it: a warning in dev, a
    failed deploy where the stack's policy file makes it mandatory (prod)."""
    samples = {}
    for path in sorted(samples_dir.glob(".secret-*")) if samples_dir.is_dir() else []:
        samples.setdefault(path.read_text(errors="replace").strip(), path)
    found = {}
    for secret in item.app.secrets.values():
        sample = samples.get(secret.value.strip()) if secret.value else None
        if sample is not None:
            found[secret.name] = str(sample.relative_to(samples_dir.parent.parent))
    return found


def self_sign_up_warnings(settings: StackSettings) -> list[str]:
    """With `userPool.selfSignUp: true` anyone can make an account; say which APIs that lets them write with."""
    if not settings.security.user_pool.self_sign_up:
        return []
    found = []
    for api in settings.apis.values():
        writes = sorted(table for table, ops in api.storage_access.items() if set(ops) & set(WRITE_OPERATIONS))
        if api.auth and writes:
            found.append(f"API {api.name}: userPool.selfSignUp is true, so anyone who signs up can write to "
                         f"table(s) {', '.join(writes)} through it (the app client id is public). Set "
                         f"userPool.selfSignUp: false in {settings.config_file} and create users as an "
                         f"administrator, or check every write in the app.")
    return found

def high_availability_warnings(settings: StackSettings, item: PreparedApi) -> list[str]:
    """highAvailability with one awake task: the spread over 3 AZs buys nothing."""
    name, count = item.settings.name, item.count
    if not settings.high_availability or count.replicas >= 2:
        return []
    return [f"API {name}: highAvailability spreads tasks over 3 AZs, but this API runs {count.replicas} "
            f"task when awake, so one AZ failure takes it down. Set apis.{name}.replicas: 2 (or "
            f"scaling.min: 2) in {settings.config_file}."]


def check_existing_tables(settings: StackSettings, region: str) -> None:
    """An `existingTable` ARN in another region than the deploy's is refused: the containers' REGION (and so their
    SDK) names the stack's region, where no such table is."""
    for name, table in settings.storage.items():
        if table.existing_region and table.existing_region != region:
            raise ConfigError(f"table {name} is in {table.existing_region}, but the stack deploys to {region}, and the "
                              f"containers reach DynamoDB in {region} (REGION).", file=settings.config_file,
                              key=f"{NAMESPACE}:storage.{name}.existingTable",
                              fix="deploy the stack to the table's region (aws:region), or use a table of this region.")


def replacement_warnings(settings: StackSettings) -> list[str]:
    """A new table or pool that `replaces` an older one starts empty: say what stays behind and how it comes across.

    DynamoDB's import from S3 always creates a new table (ImportTable), so into a table this stack creates only a
    copy of the items (Scan, then BatchWriteItem) brings them; an export and import fits only through existingTable.
    Cognito never exports password hashes, so users come across at their next sign-in through a migrate-user trigger,
    or from a CSV import after which each resets the password (docs/design.md, "Replacing Amplify's resources")."""
    found = []
    for name, table in settings.storage.items():
        if table.replaces and not table.existing_table:
            found.append(f"table {name} ({table.physical_name(settings.stack)}) starts EMPTY: it replaces "
                         f"{table.replaces}, whose items stay there and are not copied. Before switching traffic, copy "
                         "them with a scan-and-write (Scan the old table, BatchWriteItem into the new one), or export "
                         "the old table to S3 and import it as a new table (AWS docs \"DynamoDB data export to Amazon "
                         "S3: how it works\", \"DynamoDB data import from Amazon S3: how it works\"), then name that "
                         f"table in storage.{name}.existingTable instead.")
    old_pool = settings.security.user_pool.replaces
    if old_pool and settings.uses_auth and settings.existing_user_pool is None:
        found.append(f"the user pool this stack creates starts EMPTY: it replaces {old_pool}, whose users stay there. "
                     "Users cannot be copied with their passwords: add a Migrate user Lambda trigger to the new pool "
                     "to move each user at their next sign-in (AWS docs \"Importing users with a user migration "
                     "Lambda trigger\"; this stack does not create it), or import them from a CSV file and have each "
                     "reset their password (AWS docs \"Importing users from a CSV file\").")
    return found
