"""The layout shows the one-way flow (docs/design.md, "Layout"): each sub-package imports only from the ones below it.

Read from the source (every import, at module level or inside a function), so a lazy import that
turns the flow around fails here as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vggablate

ROOT = Path(vggablate.__file__).parent
# Bottom to top: a package imports only from the levels before it. The first level is the shared
# vocabulary and the input rules every layer applies (no torch); its members may use each other.
# Above it, packages on one level may not import each other (claims and regress are separate
# consumers of runs and reports).
LEVELS = (
    ("errors", "words", "stats", "schema", "smi", "reference", "checks"),
    ("arch",),
    ("data",),
    ("measure",),
    ("training",),
    ("run",),
    ("report",),
    ("claims", "regress"),
)
LEVEL = {name: i for i, names in enumerate(LEVELS) for name in names}
# The one edge against the flow, and why: the name rule refuses a name that the cfg grammar would
# read as a layer ('64', 'M'), so it asks the grammar (arch.spec.is_cfg_token).
ALLOWED = {("vggablate.checks.names", "vggablate.arch.spec")}


def _against(a: str, b: str) -> bool:
    """Say whether package a importing package b goes against the flow."""
    return LEVEL[b] > LEVEL[a] or (LEVEL[b] == LEVEL[a] and LEVEL[a] > 0)


def _package(module: str) -> str:
    return module.split(".")[1]


def _imports() -> list[tuple[str, str]]:
    edges = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        source = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if source.count(".") == 0:
            continue  # vggablate/__init__.py re-exports the public names lazily
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vggablate."):
                edges.append((source, node.module))
    return edges


def test_every_package_has_a_level():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() or p.suffix == ".py"}
    packages = {p.removesuffix(".py") for p in packages} - {"__init__", "__pycache__"}
    assert packages == set(LEVEL), "a new package or top-level module needs its place in LEVELS and docs/design.md"


def test_imports_flow_one_way():
    against = []
    for source, target in _imports():
        a, b = _package(source), _package(target)
        if a != b and _against(a, b) and (source, target) not in ALLOWED:
            against.append(f"{source} -> {target}")
    assert not against, "imports against the flow: " + ", ".join(sorted(set(against)))


def test_the_check_sees_an_edge_against_the_flow():
    # The rule can fail: an arch module that imported the runner would be caught.
    edges = _imports() + [("vggablate.arch.spec", "vggablate.run.trial")]
    bad = [(s, t) for s, t in edges if _package(s) != _package(t) and _against(_package(s), _package(t))]
    bad = [edge for edge in bad if edge not in ALLOWED]
    assert bad == [("vggablate.arch.spec", "vggablate.run.trial")]
