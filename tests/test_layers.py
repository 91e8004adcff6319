"""The layer rule: the core imports no filter, no io and no CLI, and has no import circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "imgfilter" / "core"
CORE_MODULES = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
ABOVE = ("imgfilter.filters", "imgfilter.io", "imgfilter.cli", "imgfilter.batch", "imgfilter.bigimage")


@pytest.mark.parametrize("name", CORE_MODULES)
def test_importing_a_core_module_imports_nothing_above_it(name):
    """In a fresh interpreter: importing a core module loads no filter, io or CLI module."""
    code = (
        "import sys, importlib\n"
        f"importlib.import_module('imgfilter.core.{name}')\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({ABOVE!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imgfilter.core.{name} imports {out.stdout.strip()}"


def _core_imports(path: Path) -> tuple[set[str], set[str]]:
    """(core modules, modules above the core) that ``path`` imports anywhere, module-level
    ``__getattr__`` shims aside (they resolve moved public names for old imports, on use)."""
    tree = ast.parse(path.read_text())
    shim = {
        id(n)
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
        for n in ast.walk(f)
    }
    core, above = set(), set()
    for node in ast.walk(tree):
        if id(node) in shim:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            core.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            target = node.module or ""
            names = [target] if target else [a.name for a in node.names]
            above.update(n for n in names if n.split(".")[0] not in ("_engine", "core"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imgfilter."):
            above.add(node.module)
        elif isinstance(node, ast.Import):
            above.update(a.name for a in node.names if a.name.startswith("imgfilter."))
    return core, above


def test_core_never_imports_filters_io_or_cli_even_lazily():
    offenders = {}
    for name in CORE_MODULES:
        _, above = _core_imports(CORE / f"{name}.py")
        if above:
            offenders[name] = sorted(above)
    assert offenders == {}


def test_core_has_no_import_circles():
    graph = {name: _core_imports(CORE / f"{name}.py")[0] & set(CORE_MODULES) for name in CORE_MODULES}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, node, dep]))
            if dep not in state:
                visit(dep, [*path, node])
        state[node] = 2

    for name in CORE_MODULES:
        if name not in state:
            visit(name, [])
