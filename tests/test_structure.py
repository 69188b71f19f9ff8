"""The template's own modules stay small and layered: a guard that turns
the house rules (README "What is where") into a check."""

import ast

import pytest

from tests.support.environment import PROJECT_DIR

# Run in a fork after each package's removal (tests/support/fork.py).
pytestmark = pytest.mark.smoke

# Each module may import only modules of a lower layer: no cycles, and the
# plumbing never reaches up into the app that uses it.
LAYERS = [
    {"environment", "models", "stop_signals", "gunicorn_worker", "pages", "static_files"},
    {"config", "database", "errors", "jobs", "security", "connection_budget"},
    {"web", "worker"},
    {"wsgi", "manage", "gunicorn.conf"},
]
LAYER = {module: rank for rank, modules in enumerate(LAYERS) for module in modules}
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40


def parse(module: str) -> ast.Module:
    return ast.parse((PROJECT_DIR / f"{module}.py").read_text())


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_every_template_module_is_in_a_layer():
    modules = {path.stem for path in PROJECT_DIR.glob("*.py")} | {"gunicorn.conf"}
    assert set(LAYER) <= modules, set(LAYER) - modules


@pytest.mark.parametrize("module", sorted(LAYER))
def test_a_module_imports_only_from_lower_layers(module):
    upward = {
        name for name in imported(parse(module)) if name in LAYER and LAYER[name] >= LAYER[module]
    }
    assert upward == set(), f"{module} (layer {LAYER[module]}) imports {upward}"


@pytest.mark.parametrize("module", sorted(LAYER))
def test_a_module_and_its_functions_stay_short(module):
    source = (PROJECT_DIR / f"{module}.py").read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    lengths = {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    long = {name: lines for name, lines in lengths.items() if lines > MAX_FUNCTION_LINES}
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
