"""Accounts and the rest of the project know each other only through the
marked lines that wire them in: no other package imports accounts, and
accounts imports no other package of the project."""

import ast

from tests.support.environment import PROJECT_DIR

ACCOUNTS = PROJECT_DIR / "accounts"
# The template's own modules (the top level) that accounts may use.
TEMPLATE = {path.stem for path in PROJECT_DIR.glob("*.py")}


def imports_of(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def project_packages() -> set[str]:
    return {path.parent.name for path in PROJECT_DIR.glob("*/__init__.py")} - {"tests"}


def test_accounts_imports_only_the_template_and_libraries():
    others = project_packages() - {"accounts"}
    for path in ACCOUNTS.rglob("*.py"):
        used = imports_of(path) & others
        assert used == set(), f"{path.relative_to(PROJECT_DIR)} imports {used}"


def test_nothing_but_web_py_imports_accounts():
    importers = {
        str(path.relative_to(PROJECT_DIR))
        for path in PROJECT_DIR.rglob("*.py")
        if ".venv" not in path.parts
        and ACCOUNTS not in path.parents
        and "accounts" in imports_of(path)
    }
    assert importers == {"web.py"}
