"""The folders tell the architecture (docs/design.md, "Map"): these rules keep them telling it.

Imports are read from the source with ``ast``, so a rule breaks when someone adds the import, not when
some test happens to execute it.
"""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("components", "catalog", "policies", "ops")
MAX_SOURCE_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for package in PROJECT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = _modules()


def test_the_compose_package_imports_no_pulumi_and_nothing_above_it():
    for module, path in MODULES.items():
        if not module.startswith("components.compose"):
            continue
        for name in _imports(path):
            assert not name.startswith("pulumi"), f"{path} imports {name}: the compose model must stay pure"
            if name.split(".")[0] in PROJECT_PACKAGES:
                assert name.startswith(("components.compose", "components.errors")), \
                    f"{path} imports {name}: the compose package may only use itself and components.errors"


# The phase before any resource: the stack settings and the preparation of each API. `ops add`, `ops local`,
# the offline plan and the program share them, so they must load without Pulumi.
PURE_MODULES = ("components.settings", "components.prepare")


def test_the_settings_package_and_the_preparation_import_no_pulumi():
    for module, path in MODULES.items():
        if module.startswith(PURE_MODULES):
            pulumi_imports = sorted(name for name in _imports(path) if name.split(".")[0].startswith("pulumi"))
            assert not pulumi_imports, f"{path} imports {pulumi_imports}: it must stay pure Python"
    pure = [m for m in MODULES if m.startswith(PURE_MODULES)]
    # Importing a module runs its packages' __init__ files too, so check what really loads.
    probe = (f"import importlib, sys\nfor m in {pure!r}: importlib.import_module(m)\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", f"importing {PURE_MODULES} loads Pulumi: {loaded.stdout.strip()}"


def _module_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (a name resolves to the longest module it names)."""
    def resolve(name: str) -> str | None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        return name or None

    return {module: {target for name in _imports(path) if (target := resolve(name)) and target != module}
            for module, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each a set of modules in a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_products_modules():
    """Function-level imports count too: a late import hides a circle, it does not remove it."""
    cycles = _cycles(_module_graph())
    assert not cycles, f"import circles: {cycles}; move the shared names to a module below both"


def test_no_import_cycle_between_top_level_packages():
    edges: dict[str, set[str]] = {package: set() for package in PROJECT_PACKAGES}
    for module, path in MODULES.items():
        source = module.split(".")[0]
        for name in _imports(path):
            target = name.split(".")[0]
            if target in PROJECT_PACKAGES and target != source:
                edges[source].add(target)
    # The intended direction: ops -> policies -> catalog, and components below ops; catalog imports nothing.
    assert edges["catalog"] == set(), f"catalog must import no project package, imports {edges['catalog']}"
    assert "ops" not in edges["policies"], "the policy pack must not depend on the operator CLI"
    assert edges["components"] <= set(), f"the program must not import {edges['components']}"

    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in edges[start])

    cycles = [package for package in PROJECT_PACKAGES if reaches(package, package)]
    assert not cycles, f"import cycle through {cycles}: {edges}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_source_module_is_too_long(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_SOURCE_LINES, f"{MODULES[module]} has {lines} lines; split it along a real seam"


# Pulumi pickles dynamic providers by reference into every deployed stack's state: these paths are forever.
STABLE_PROVIDERS = {
    "components.providers.pipeline_run": ("PipelineRunProvider", "PipelineRun"),
    "components.providers.image_lookup": ("LatestImageProvider", "LatestImage"),
    "components.providers.certificate_wait": ("CertificateWaitProvider", "CertificateWait"),
    "components.providers.table_keys": ("TableKeysProvider", "TableKeys"),
    "components.providers.volume_guard": ("VolumeGuardProvider", "VolumeGuard"),
    "components.providers.stack_count": ("StackCountProvider", "StackCount"),
    "components.providers.aws_session": ("StackAwsProvider",),     # the base class of the AWS-calling providers
}


@pytest.mark.parametrize("module", sorted(STABLE_PROVIDERS))
def test_dynamic_providers_keep_their_import_paths(module):
    loaded = importlib.import_module(module)
    for name in STABLE_PROVIDERS[module]:
        assert hasattr(loaded, name), f"{module}.{name} moved: stacks deployed with it could not refresh or destroy"
    providers = {path.stem for path in (ROOT / "components" / "providers").glob("*.py")} - {"__init__"}
    assert providers >= {m.rsplit(".", 1)[-1] for m in STABLE_PROVIDERS}


def _map_rows() -> dict[str, str]:
    """docs/design.md's map table: folder -> its row."""
    design = (ROOT / "docs" / "design.md").read_text()
    rows = {}
    for line in design.splitlines():
        if line.startswith("| `") and "/` |" in line.split("|")[1] + "|":
            rows[line.split("`")[1].rstrip("/")] = line
    return rows


def test_the_design_map_names_every_module_in_its_folders_row():
    rows = _map_rows()
    missing = []
    for module, path in sorted(MODULES.items()):
        folder = str(path.parent.relative_to(ROOT))
        if path.name == "__init__.py":
            continue
        row = rows.get(folder)
        if row is None or f"`{path.name}`" not in row:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"docs/design.md's map rows do not name {missing}"


def test_the_design_map_names_every_package_folder():
    design = (ROOT / "docs" / "design.md").read_text()
    folders = sorted({str(path.parent.relative_to(ROOT)) for path in (ROOT / p for p in PROJECT_PACKAGES)
                      for path in path.rglob("__init__.py")})
    missing = [folder for folder in folders if f"{folder}/" not in design]
    assert not missing, f"docs/design.md's map does not name {missing}"
