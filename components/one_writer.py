"""One writer per database volume: how an API whose task holds a database's data directory is deployed.

A named volume is an EFS directory that every task of the API mounts. ECS's default rolling deploy
(minimumHealthyPercent 100, maximumPercent 200) starts the new task while the old one still runs, so two database
processes would open one data directory: PostgreSQL's ``postmaster.pid`` check cannot see a process in another task
(another PID namespace) and both start; MySQL and MariaDB cannot lock ``ibdata1`` and the deploy rolls back.

The mechanism (docs/design.md, "One writer per database volume"):

* **stop before start**: minimumHealthyPercent 0 and maximumPercent 100. ECS counts the tasks in RUNNING or PENDING
  against maximumPercent, so with one desired task it never starts the new task while the old one is counted, and it
  never replaces an unhealthy task by starting the replacement first (ECS API reference, DeploymentConfiguration).
* **on-demand Fargate**, never Spot: a Spot interruption makes ECS start a replacement during the two-minute notice,
  while the interrupted task may still run (AWS knowledge center, "Fargate Spot termination notice"). With
  ``fargateSpot: true`` such an API alone runs on FARGATE, and the program says so.
* more than one task stays an error (components.prepare.check_database_replicas).

The cost is a short outage per deploy: the old task stops (its containers' stop timeout at most), then the new one
starts. Pure Python: no Pulumi import.
"""
from __future__ import annotations

from dataclasses import dataclass

from components.compose.model import App
from components.compose.volumes import database_volumes

ROLLING = (100, 200)          # (minimumHealthyPercent, maximumPercent): new tasks healthy before old ones stop
STOP_BEFORE_START = (0, 100)  # the old task is gone before the new one is started
ECS_STOP_TIMEOUT = 30         # seconds from SIGTERM to SIGKILL when a container sets no stopTimeout (ECS default)
# A database container without stop_grace_period gets Docker Compose's default instead of ECS's: ECS may start the
# new task while the old one is still stopping (aws/amazon-ecs-agent#2486), so the old database must be gone before
# a new task can be placed and pull its images.
DATABASE_STOP_TIMEOUT = 10
# Fargate placing a task (network interface), pulling its images (no cache) and starting it, until the
# service registers it. Kept wider than components/wake_time.py's sum of the same steps for the small posts
# image: a database image is larger, and a database replays its log before it answers.
TASK_START_SECONDS = (45, 120)


@dataclass(frozen=True)
class WriterPlan:
    """How one API deploys. ``databases``: database volume -> why it is one (empty: an ordinary rolling deploy)."""

    databases: dict[str, str]
    minimum_healthy_percent: int
    maximum_percent: int
    on_spot: bool
    outage_seconds: tuple[int, int]
    """(shortest, typical) seconds without a task per deploy; (0, 0) for a rolling deploy."""

    @property
    def one_writer(self) -> bool:
        return bool(self.databases)

    def describe(self) -> dict:
        """The `apis.NAME.volumes.oneWriter` stack output (absent when the API holds no database volume)."""
        return {"databaseVolumes": sorted(self.databases), "deployment": "stop-before-start",
                "minimumHealthyPercent": self.minimum_healthy_percent, "maximumPercent": self.maximum_percent,
                "capacity": "FARGATE_SPOT" if self.on_spot else "FARGATE", "outageSeconds": list(self.outage_seconds)}


def database_containers(app: App) -> list[str]:
    """The containers that write a database volume (components.compose.volumes.database_volumes)."""
    databases = database_volumes(app)
    return [c.name for c in app.containers
            if any(m.volume in databases and m.persistent and not m.read_only for m in c.mounts)]


def shorten_database_stops(app: App) -> list[str]:
    """Give each database container without its own stop_grace_period Docker Compose's 10 s instead of ECS's 30 s
    (a clean shutdown takes seconds; after 10 s the database is killed and recovers from its log at the next start).
    Returns the containers changed."""
    changed = []
    for name in database_containers(app):
        container = app.container(name)
        if container.stop_timeout is None:
            container.stop_timeout = DATABASE_STOP_TIMEOUT
            changed.append(name)
    return changed


def outage_seconds(stop_timeouts: list[int | None]) -> tuple[int, int]:
    """(shortest, typical) seconds between the old task leaving and the new one taking requests: the old task's
    longest container stop (a clean database shuts down in seconds; ECS waits at most the stop timeout) plus a
    Fargate task start."""
    stop = max([t if t is not None else ECS_STOP_TIMEOUT for t in stop_timeouts] or [ECS_STOP_TIMEOUT])
    return TASK_START_SECONDS[0], stop + TASK_START_SECONDS[1]


def writer_plan(app: App, fargate_spot: bool) -> WriterPlan:
    databases = database_volumes(app)
    if not databases:
        return WriterPlan({}, *ROLLING, on_spot=fargate_spot, outage_seconds=(0, 0))
    return WriterPlan(databases, *STOP_BEFORE_START, on_spot=False,
                      outage_seconds=outage_seconds([c.stop_timeout for c in app.containers]))


def spot_note(api: str, plan: WriterPlan, fargate_spot: bool, config_file: str) -> str | None:
    """What the program says when the stack asks for Spot but this API runs on-demand (None otherwise)."""
    if not (fargate_spot and plan.one_writer):
        return None
    volumes = ", ".join(sorted(plan.databases))
    return (f"API {api}: fargateSpot is true in {config_file}, but this API runs on on-demand Fargate: its task holds "
            f"the database volume(s) {volumes}, and a Spot interruption starts a replacement task while the old one "
            "may still write, which corrupts the data. The other APIs stay on Spot.")


def deploy_note(api: str, plan: WriterPlan) -> str | None:
    """The cost of one writer, said once per deploy: a short outage."""
    if not plan.one_writer:
        return None
    low, high = plan.outage_seconds
    return (f"API {api}: its task holds the database volume(s) {', '.join(sorted(plan.databases))}, so every deploy "
            f"stops the old task before the new one starts (one writer): about {low}-{high} s with no task, and API "
            "Gateway answers 503 meanwhile.")
