"""The import rules of DESIGN.md ("Imports point down"), checked on the source.

    entry (app.py, wsgi.py, serving.py) -> features (blueprints/)
        -> plumbing (realtime/, middleware/) -> core (config, extensions, models, ...)

Read with ``ast`` from every project .py outside tests/, .venv, node_modules and
migrations, imports inside functions included: a function-level import is
still a dependency (it only hides it from the reader; the one in
``AppNamespace.on_connect`` hid a plumbing -> feature import). No module is
executed, so the test is fast and sees code that no test imports.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"tests", ".venv", "venv", "node_modules", "migrations", ".git", "__pycache__",
             ".hypothesis", "instance", "static"}

CORE = {"config", "extensions", "models", "errors", "audit", "logs", "money", "textnorm",
        "blocking", "vendored", "i18n"}
PLUMBING = ("realtime", "middleware")
FEATURES = ("blueprints",)

# Known exceptions, each with the reason it is still there. Keep this empty if
# you can: a rule with silent exceptions is no rule.
KNOWN_LAYER_EXCEPTIONS: set[tuple[str, str]] = {
    # admin's stats() and connection_table() read the connection state the
    # adapter hands them; the import is for the type (ConnectionState), which
    # lives in realtime/ with its backends. Moving the interface to core is
    # its own change.
    ("blueprints.admin.service", "realtime.state"),
}
# Import cycles that are still there, each with its reason. Empty: every
# feature creates ``bp`` in its routes.py and its __init__.py re-exports it, so
# no module imports its own package back.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        if any(part in SKIP_DIRS for part in rel[:-1]):
            continue
        modules[_module_name(path)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that ``name`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # The longest project module that the dotted name starts with.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                add(full if full in modules else module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(module: str) -> str | None:
    top = module.split(".")[0]
    if top in CORE:
        return "core"
    if top in PLUMBING:
        return "plumbing"
    if top in FEATURES:
        return "feature"
    return None


def test_the_walk_sees_the_project():
    graph = _graph()
    # A broken walk (wrong root, everything skipped) would pass every rule below.
    for module in ("app", "config", "realtime.namespace", "middleware.guard",
                   "blueprints.chat.events", "errors", "audit"):
        assert module in graph, module
    assert "blueprints.chat.service" in graph["blueprints.chat.events"]
    assert "realtime.compat" in graph["realtime.namespace"]  # `from realtime import compat`


def test_no_import_cycles():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    unknown = [c for c in cycles if frozenset(c) not in KNOWN_CYCLES]
    assert not unknown, "import cycles:\n" + "\n".join(" -> ".join(c) for c in unknown)


def test_imports_point_down():
    graph = _graph()
    wrong = []
    for module, targets in sorted(graph.items()):
        here = _layer(module)
        for target in sorted(targets):
            there = _layer(target)
            if here == "core" and there in ("plumbing", "feature") \
                    or here == "plumbing" and there == "feature":
                if (module, target) not in KNOWN_LAYER_EXCEPTIONS:
                    wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert not wrong, "imports must point down (DESIGN.md):\n" + "\n".join(wrong)


def test_services_import_only_core():
    """A service is plain Python + the database: the CLI, tests and another
    process call it. It imports core only (not Socket.IO plumbing, not another
    feature)."""
    graph = _graph()
    wrong = [f"{module} imports {target}"
             for module, targets in sorted(graph.items()) if module.endswith(".service")
             for target in sorted(targets)
             if _layer(target) != "core" and (module, target) not in KNOWN_LAYER_EXCEPTIONS]
    assert not wrong, "\n".join(wrong)


def test_no_adapter_imports_another_features_adapter():
    """events.py / routes.py of one feature never import another feature's
    (e.g. admin's announce took chat's ``system_message`` from chat's events)."""
    graph = _graph()
    adapters = ("events", "routes", "socketio_ui")

    def feature_adapter(module: str) -> str | None:
        parts = module.split(".")
        if len(parts) == 3 and parts[0] == "blueprints" and parts[2] in adapters:
            return parts[1]
        return None

    wrong = [f"{module} imports {target}"
             for module, targets in sorted(graph.items()) if feature_adapter(module)
             for target in sorted(targets)
             if feature_adapter(target) not in (None, feature_adapter(module))]
    assert not wrong, "\n".join(wrong)


def test_config_imports_nothing_of_the_app():
    assert _graph()["config"] == set()
