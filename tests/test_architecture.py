"""The package's shape: imports go one way (no cycles), no module uses another's private names,
the build's orchestrator is imported only by the command line and the benchmark.

Every ``import`` counts, also one inside a function: a cycle hidden by a function-local import is
still a cycle a reader has to untangle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted((REPO / "oml").rglob("*.py")) if "__pycache__" not in p.parts}


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, [imported names], line)`` of every ``oml`` import in ``path`` (function-local ones too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "oml":
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "oml"]
    return found


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the ``oml`` modules it imports (``from pkg import mod`` is an edge to ``pkg.mod``)."""
    edges = {}
    for name, path in modules.items():
        targets = set()
        for module, names, _ in _imports(path):
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            targets |= set(subs) if subs and len(subs) == len(names) else {module}
        edges[name] = {t for t in targets if t in modules and t != name}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_checker_sees_a_cycle_through_a_function_local_import(tmp_path):
    # The checker itself: a cycle hidden by a function-local import must be found.
    (tmp_path / "a.py").write_text("import oml.b\n")
    (tmp_path / "b.py").write_text("def f():\n    from oml.a import x\n")
    modules = {"oml.a": tmp_path / "a.py", "oml.b": tmp_path / "b.py"}
    assert _cycles(_graph(modules)) == [["oml.a", "oml.b"]]


def test_no_import_cycles_inside_oml():
    assert _cycles(_graph(MODULES)) == []


def _private_uses(name: str, path: Path) -> list[str]:
    """``_name``s this module takes from another ``oml`` module, by import or by attribute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}  # local name -> oml module it stands for
    found = []
    for module, names, line in _imports(path):
        for n in names:
            if n.startswith("_") and not n.startswith("__") and module != name:
                found.append(f"{path.relative_to(REPO)}:{line} imports {module}.{n}")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "oml":
            for a in node.names:
                if f"{node.module}.{a.name}" in MODULES:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in MODULES and a.asname:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__") and aliases[node.value.id] != name):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_the_checker_sees_private_names_taken_by_import_and_by_attribute(tmp_path, monkeypatch):
    (tmp_path / "c.py").write_text("from oml.paths import _x\nfrom oml import paths as p\ny = p._y + p.__name__.count('')\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert _private_uses("oml.c", tmp_path / "c.py") == ["c.py:1 imports oml.paths._x", "c.py:3 uses oml.paths._y"]


def test_no_private_names_across_modules():
    assert [use for name, path in MODULES.items() for use in _private_uses(name, path)] == []


@pytest.mark.parametrize("folder", ["oml", "tests", "bench", "book/_ext"])
def test_only_the_command_line_and_the_benchmark_import_the_build_orchestrator(folder):
    allowed = {REPO / "oml" / "cli.py", REPO / "bench" / "run.py"}
    users = [str(p.relative_to(REPO)) for p in sorted((REPO / folder).rglob("*.py"))
             if p not in allowed and "__pycache__" not in p.parts and p != Path(__file__).resolve()
             and any(module == "oml.site.build" or (module == "oml.site" and "build" in names)
                     for module, names, _ in _imports(p))]
    assert users == []
