"""The package's shape, read from its source: no import cycle among its modules (function-level and type-only
imports counted), a function-level import only where it defers something heavy and says why, and every name a
package's `__all__` promises resolves.

A late import says why on its own line: `# late: start-up, <what it defers>` (a command that does not use
openpyxl, dask, durable-rules, the web stack, … does not pay for loading it; tests/test_imports.py checks that
for a CSV evaluate), or `# late: after the limits` (the resource limits) in the sandbox's child process."""

from __future__ import annotations

import ast
import importlib
import io
import itertools
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import subsidy_engine
from test_imports import NOT_FOR_A_CSV_RUN

SRC = Path(subsidy_engine.__file__).resolve().parent
PACKAGE = "subsidy_engine"
LATE = "# late:"

# What a late import may defer: the optional stacks a CSV evaluate must not load (test_imports.py), the xlsx
# reader behind roster/xlsx_read.py, and the Parquet reader/writer (only .parquet rosters and --format parquet).
HEAVY = (*NOT_FOR_A_CSV_RUN, "python_calamine", "pyarrow.parquet")
# A module that sets its own resource limits (memory, CPU) before it imports anything but the standard library:
# every import after the limits is late by design.
LIMITS_FIRST = ("subsidy_engine.web.services.sandbox_child",)


@dataclass(frozen=True)
class Import:
    importer: str  # module of this package holding the statement
    target: str  # a module of this package, or an outside module's dotted name
    line: int
    end_line: int
    late: bool  # inside a function body: runs when called, not when the module is imported
    typing_only: bool  # under `if TYPE_CHECKING:`


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module of a `from X import …`, relative forms included."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if MODULES[importer].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    module = _resolve(importer, node)
    # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]


def _imports_of(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: list[Import] = []

    def walk(node: ast.AST, late: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                end = child.end_lineno or child.lineno
                out.extend(
                    Import(module, t, child.lineno, end, late, typing_only) for t in _targets(module, child)
                )
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                walk(child, True, typing_only)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    walk(ast.Module(body=[stmt], type_ignores=[]), late, True)
                for stmt in child.orelse:
                    walk(ast.Module(body=[stmt], type_ignores=[]), late, typing_only)
            else:
                walk(child, late, typing_only)

    walk(tree, False, False)
    return out


IMPORTS = {m: _imports_of(m) for m in MODULES}


def _parents(module: str) -> list[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _graph(*, top_level_only: bool = False) -> dict[str, dict[str, Import]]:
    """importer → {imported module of this package: the first statement importing it}."""
    graph: dict[str, dict[str, Import]] = {m: {} for m in MODULES}
    for m, imports in IMPORTS.items():
        for imp in imports:
            if top_level_only and (imp.late or imp.typing_only):
                continue
            if imp.target in MODULES:
                for t in [*_parents(imp.target), imp.target]:
                    if t != m and t not in _parents(m):
                        graph[m].setdefault(t, imp)
    return graph


def _cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One cycle (as a closed path) in each strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for component in components:
        start = min(component)
        # breadth-first back to the start inside the component: the shortest cycle through it
        paths = {start: [start]}
        frontier = [start]
        found: list[str] | None = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w == start:
                        found = [*paths[v], start]
                        break
                    if w in component and w not in paths:
                        paths[w] = [*paths[v], w]
                        nxt.append(w)
                if found:
                    break
            frontier = nxt
        assert found is not None
        cycles.append(found)
    return cycles


def _describe(graph: dict[str, dict[str, Import]], cycle: list[str]) -> str:
    steps = []
    for a, b in itertools.pairwise(cycle):
        imp = graph[a][b]
        how = "late " if imp.late else "type-only " if imp.typing_only else ""
        steps.append(f"{a} ({how}import at {MODULES[a].relative_to(SRC.parent)}:{imp.line})")
    return " → ".join([*steps, cycle[-1]])


def _closure(module: str, graph: dict[str, dict[str, Import]]) -> set[str]:
    """Every module, of this package or outside it, that importing `module` loads through top-level imports."""
    seen = {module}
    todo = [module]
    outside: set[str] = set()
    while todo:
        m = todo.pop()
        for imp in IMPORTS[m]:
            if imp.late or imp.typing_only:
                continue
            if imp.target not in MODULES:
                outside.add(imp.target)
        for t in graph[m]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen | outside


def _heavy(names: set[str]) -> set[str]:
    return {h for h in HEAVY for n in names if n == h or n.startswith(h + ".")}


def _late_comment(path: Path, imp: Import) -> str | None:
    """The reason after `# late:` on any line of the statement, or None."""
    source = path.read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if (
            tok.type == tokenize.COMMENT
            and imp.line <= tok.start[0] <= imp.end_line
            and tok.string.startswith(LATE)
        ):
            return tok.string[len(LATE) :].strip()
    return None


def test_no_import_cycle_counting_function_level_and_type_only_imports() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    assert cycles == [], "import cycles (move the shared piece down to a lower module):\n" + "\n".join(
        _describe(graph, c) for c in cycles
    )


def test_the_cycle_finder_finds_a_cycle() -> None:
    a = Import("a", "b", 3, 3, False, False)
    b = Import("b", "a", 7, 7, True, False)
    assert _cycles({"a": {"b": a}, "b": {"a": b}, "c": {}}) == [["a", "b", "a"]]
    assert _cycles({"a": {"b": a}, "b": {}, "c": {}}) == []


def test_a_function_level_import_defers_something_heavy_and_says_why() -> None:
    top = _graph(top_level_only=True)
    problems = []
    for m, imports in IMPORTS.items():
        path = MODULES[m]
        loaded_anyway = _heavy(_closure(m, top))
        for imp in imports:
            if not imp.late or imp.typing_only:
                continue
            where = f"{path.relative_to(SRC.parent)}:{imp.line}: import {imp.target}"
            deferred = (
                _heavy(_closure(imp.target, top) if imp.target in MODULES else {imp.target}) - loaded_anyway
            )
            if m in LIMITS_FIRST:
                deferred = {"everything after the resource limits"}
            reason = _late_comment(path, imp)
            if not deferred:
                problems.append(
                    f"{where}: defers nothing heavy ({', '.join(HEAVY[:4])}, …): import it at the top"
                )
            elif not reason:
                problems.append(f"{where}: defers {', '.join(sorted(deferred))} but has no `{LATE} <reason>`")
    assert problems == [], "function-level imports:\n" + "\n".join(dict.fromkeys(problems))


def test_a_module_that_sets_limits_first_imports_only_the_standard_library_before() -> None:
    top = _graph(top_level_only=True)
    for m in LIMITS_FIRST:
        assert m in MODULES
        outside = {n.split(".")[0] for n in _closure(m, top) if n not in MODULES}
        assert outside <= set(sys.stdlib_module_names) | {"__future__"}, (
            m,
            outside - set(sys.stdlib_module_names),
        )
        assert {n for n in _closure(m, top) if n in MODULES} <= {m, *_parents(m)}


def test_the_late_import_check_sees_a_comment_and_the_heavy_stack() -> None:
    here = Path(__file__)
    lines = here.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("from test_imports import"))
    assert _late_comment(here, Import("t", "x", line, line, True, False)) is None
    writers = MODULES["subsidy_engine.run.writers"]
    late = next(i for i in IMPORTS["subsidy_engine.run.writers"] if i.late and i.target == "pyarrow.parquet")
    assert _late_comment(writers, late) == "start-up, Parquet"
    assert _heavy({"openpyxl.styles", "pandas", "pyarrow", "subsidy_engine.engines.rete"}) == {
        "openpyxl",
        "subsidy_engine.engines.rete",
    }
    assert "subsidy_engine.web" in _heavy(_closure("subsidy_engine.web.app", _graph(top_level_only=True)))


def _declares_all(module: str) -> bool:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        )
        for n in tree.body
    )


def test_every_name_an_all_promises_resolves() -> None:
    """The package's `__all__` (names loaded on first use) and every subpackage's or module's that has one."""
    declaring = [m for m in MODULES if _declares_all(m)]
    assert PACKAGE in declaring
    for name in declaring:
        module = importlib.import_module(name)
        for public in module.__all__:
            assert getattr(module, public, None) is not None, (
                f"{name}.__all__ names {public!r}, which does not resolve"
            )
        assert set(dir(module)) >= set(module.__all__), name
    assert set(dir(subsidy_engine)) == set(subsidy_engine.__all__)
