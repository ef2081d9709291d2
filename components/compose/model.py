"""The application model: what one API's containers are, independent of how they were described.

The compose loader (``components/compose/loader.py``) turns a Dockerfile or compose files into an
``App``; the infrastructure components translate an ``App`` into AWS resources. Nothing here
imports Pulumi, so the model can be built and tested on any machine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from components.errors import LoadWarning

# Fargate accepts only these task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
DEFAULT_TASK_CPU = 256
DEFAULT_TASK_MEMORY = 512


def fargate_task_size(cpu: int | None, memory: int | None) -> tuple[int, int]:
    """The smallest valid Fargate (cpu, memory) pair that holds at least the requested amounts.

    Returns ``None``-free values; raises ``ValueError`` when nothing on Fargate is that large.
    """
    want_cpu = max(cpu or 0, 0)
    want_memory = max(memory or 0, 0)
    for task_cpu, memories in FARGATE_SIZES.items():
        if task_cpu < want_cpu:
            continue
        for task_memory in memories:
            if task_memory >= want_memory:
                return task_cpu, task_memory
    raise ValueError(
        f"no Fargate task size has {want_cpu} CPU units and {want_memory} MiB; "
        "the largest is 16384 CPU units (16 vCPU) with 122880 MiB")


@dataclass(frozen=True)
class BuildSpec:
    """How to build a container image (compose `build:`)."""

    context: str                     # absolute directory path, or a remote Git URL as `docker build` takes it
    dockerfile: str = "Dockerfile"   # relative to context, as compose and `docker build -f` take it
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    dockerfile_inline: str | None = None   # compose `dockerfile_inline`: the Dockerfile's text; build writes it to a file
    secrets: tuple[str, ...] = ()    # compose build.secrets: top-level secrets handed to BuildKit (`--secret id=NAME`)


@dataclass(frozen=True)
class PortMapping:
    """A port the container listens on. Fargate (awsvpc) only knows the container side."""

    container_port: int
    protocol: str = "tcp"            # "tcp" | "udp"
    host_port: int | None = None     # only for local runs; Fargate forces host == container


@dataclass(frozen=True)
class HealthCheck:
    """An ECS-shaped health check; times are seconds."""

    test: tuple[str, ...]            # ("CMD", "curl", ...) or ("CMD-SHELL", "curl ... || exit 1")
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0


@dataclass(frozen=True)
class Dependency:
    """compose `depends_on` entry; condition is the compose name of the condition."""

    service: str
    condition: str = "service_started"   # service_started | service_healthy | service_completed_successfully


@dataclass(frozen=True)
class Secret:
    """A top-level compose secret. The value is read at load time and never printed."""

    name: str                        # also the environment variable the containers see
    file: Path | None                # absolute path of the `.secret-*` file; None when the stack provides it
    value: str = field(repr=False, default="")
    stack_config: str = ""           # the stack config key that provides it (secretValues/secretArns); "" for a file

    def __str__(self) -> str:        # never leak the value through formatting
        return f"Secret({self.name}, {'config ' + self.stack_config if self.stack_config else f'file={self.file}'})"


@dataclass(frozen=True)
class VolumeMount:
    """A compose named volume, mounted into a container. Persistent: an EFS access point of the stack's file
    system (its data survives the task). Not persistent (``apis.NAME.volumes: {VOLUME: ephemeral}``): task-scoped,
    shared by the task's containers, gone when the task stops."""

    volume: str                      # the compose volume name (the task definition's volume name)
    target: str                      # absolute path in the container
    read_only: bool = False
    persistent: bool = True


@dataclass
class Container:
    """One compose service, as one container of the Fargate task."""

    name: str
    image: str | None = None         # registry image; None when `build` is set and no image is named
    build: BuildSpec | None = None
    ports: list[PortMapping] = field(default_factory=list)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    healthcheck: HealthCheck | None = None
    working_dir: str | None = None
    user: str | None = None
    secrets: list[str] = field(default_factory=list)     # names of top-level secrets this container gets
    depends_on: list[Dependency] = field(default_factory=list)
    cpu: int | None = None           # CPU units (1 vCPU = 1024), from deploy.resources / cpus
    memory: int | None = None        # MiB, from deploy.resources / mem_limit
    essential: bool = True
    mounts: list[VolumeMount] = field(default_factory=list)   # named volumes (EFS, or task-scoped when ephemeral)
    labels: dict[str, str] = field(default_factory=dict)     # compose labels (ECS dockerLabels)
    expose: list[str] = field(default_factory=list)          # compose expose entries ("8080", "53/udp")
    restart: str | None = None       # "always" | "on-failure" | None (compose restart: no): ECS restartPolicy
    read_only: bool = False          # readonlyRootFilesystem
    init: bool = False               # linuxParameters.initProcessEnabled
    stop_timeout: int | None = None  # seconds between SIGTERM and SIGKILL (Fargate: at most 120)
    nofile: tuple[int, int] | None = None   # (soft, hard) open-file limit
    cap_add: list[str] = field(default_factory=list)    # kernel capabilities added (Fargate: SYS_PTRACE only)
    cap_drop: list[str] = field(default_factory=list)   # kernel capabilities dropped ("ALL" allowed)
    env_files: list[Path] = field(default_factory=list)  # compose env_file paths (absolute): their values are in
    # `environment`; kept so the source zip can say which credential-looking file a service loads

    @property
    def is_built(self) -> bool:
        return self.build is not None


@dataclass
class App:
    """One API: the containers of one Fargate task, and how the task is sized and routed."""

    source_dir: Path
    compose_files: list[Path]        # empty for a Dockerfile-only source
    containers: list[Container]
    entrypoint: str                  # name of the container that API Gateway routes to
    routed_port: int                 # that container's first published port
    replicas: int = 1
    secrets: dict[str, Secret] = field(default_factory=dict)
    cpu: int = DEFAULT_TASK_CPU      # task CPU units, a valid Fargate size
    memory: int = DEFAULT_TASK_MEMORY  # task memory MiB, a valid Fargate size
    warnings: list[LoadWarning] = field(default_factory=list)

    def container(self, name: str) -> Container:
        for container in self.containers:
            if container.name == name:
                return container
        raise KeyError(name)

    @property
    def container_ports(self) -> list[int]:
        return sorted({p.container_port for c in self.containers for p in c.ports})
