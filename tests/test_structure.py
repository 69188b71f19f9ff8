"""The house rules (README "Which files are yours"), turned into checks:
the top-level modules and the plumbing stay small and layered, the plumbing is reached only
through the top level, and no module's name shadows a library's."""

import ast
import importlib.metadata
import sys
from pathlib import Path

import pytest

from tests.support.commands import project_files
from tests.support.environment import PROJECT_DIR

# Each module may import only modules of a lower layer: no cycles, and the
# plumbing never reaches up into the app that uses it.
LAYERS = [
    {"plumbing.log_format", "plumbing.environment", "plumbing.trace_export"},
    {
        "plumbing.traces",
        "plumbing.stop_signals",
        "plumbing.gunicorn_worker",
        "plumbing.static_files",
        "plumbing.addresses",
        "plumbing.pinned_http",
        "plumbing.logs",
        "plumbing.sessions",
        "plumbing.error_reports",
        "models",
        "errors",
        "pages",
    },
    {
        "config",
        "plumbing.database",
        "plumbing.inline_jobs",
        "plumbing.connection_budget",
        "plumbing.error_pages",
        "plumbing.outbound_checks",
    },
    {"plumbing.jobs", "plumbing.outbound"},
    {"extensions", "outbound"},
    {"plumbing.security", "plumbing.worker"},
    {"web"},
    {"wsgi", "manage", "gunicorn.conf"},
]
LAYER = {module: rank for rank, modules in enumerate(LAYERS) for module in modules}
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40
# Folders that hold no module of the app.
NOT_APP = {"tests", "migrations", "stubs", "plumbing", "static", "templates", "docs", "instance"}


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def imported(tree: ast.Module) -> set[str]:
    """The project modules ``tree`` imports, by dotted name: ``from
    plumbing import worker`` and ``import plumbing.worker`` both give
    ``plumbing.worker``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def source(module: str) -> Path:
    if module == "gunicorn.conf":
        return PROJECT_DIR / "gunicorn.conf.py"
    return PROJECT_DIR / (module.replace(".", "/") + ".py")


def test_every_plumbing_module_is_in_a_layer_and_every_layer_module_exists():
    plumbing = {f"plumbing.{path.stem}" for path in (PROJECT_DIR / "plumbing").glob("[!_]*.py")}
    assert plumbing - set(LAYER) == set()
    assert {module for module in LAYER if not source(module).exists()} == set()


@pytest.mark.parametrize("module", sorted(LAYER))
def test_a_module_imports_only_from_lower_layers(module):
    upward = {
        name
        for name in imported(parse(source(module)))
        if name in LAYER and LAYER[name] >= LAYER[module]
    }
    assert upward == set(), f"{module} (layer {LAYER[module]}) imports {upward}"


@pytest.mark.parametrize("module", sorted(LAYER))
def test_a_module_and_its_functions_stay_short(module):
    text = source(module).read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    lengths = {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    long = {name: lines for name, lines in lengths.items() if lines > MAX_FUNCTION_LINES}
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def app_packages() -> list[Path]:
    """Every package of the app (yours, and the optional ones), not the
    plumbing or its tests."""
    return sorted(
        path.parent for path in PROJECT_DIR.glob("*/__init__.py") if path.parent.name not in NOT_APP
    )


def test_no_package_of_the_app_reaches_into_the_plumbing():
    """Your packages use the top level (models, extensions, errors,
    config); the plumbing can change under them with every template update.
    Their tests may look inside it."""
    reaching = {
        str(path.relative_to(PROJECT_DIR))
        for package in app_packages()
        for path in package.rglob("*.py")
        if "tests" not in path.relative_to(package).parts
        and any(name.split(".")[0] == "plumbing" for name in imported(parse(path)))
    }
    assert reaching == set(), f"import plumbing from the top level instead: {sorted(reaching)}"


def test_the_plumbing_imports_no_package_of_the_app():
    packages = {package.name for package in app_packages()}
    reaching = {
        f"{path.relative_to(PROJECT_DIR)} imports {name}"
        for path in (PROJECT_DIR / "plumbing").rglob("*.py")
        for name in imported(parse(path))
        if name.split(".")[0] in packages
    }
    assert reaching == set()


def installed_module_names() -> set[str]:
    """The top-level names the standard library and every installed
    distribution import as."""
    names = set(sys.stdlib_module_names)
    for distribution in importlib.metadata.distributions():
        if top_level := distribution.read_text("top_level.txt"):
            names |= set(top_level.split())
        for file in distribution.files or []:
            first = file.parts[0]
            if first.endswith(".py"):
                names.add(first.removesuffix(".py"))
            elif len(file.parts) > 1 and "." not in first:
                names.add(first)
    return names


def test_no_module_of_the_project_is_named_like_a_library():
    """A package's ``limits.py`` beside the ``limits`` library reads as one
    thing, and a top-level ``select.py`` would hide the standard library's."""
    tracked = project_files("*.py")
    taken = installed_module_names()
    clashes = {
        name: module_name
        for name in tracked
        if not name.startswith(("stubs/", "migrations/"))
        and (module_name := module_name_of(Path(name))) in taken
    }
    assert clashes == {}


def module_name_of(path: Path) -> str:
    return path.parent.name if path.name == "__init__.py" else path.stem
