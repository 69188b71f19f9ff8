"""The optional packages can each go alone: neither imports the other, and
among the template's files only the lines the fork step cuts with a
package (its marked blocks, its test support) import it."""

import ast

import pytest

from forking.fork import OPTIONAL
from tests.support.environment import PROJECT_DIR

PACKAGES = {"accounts": "accounts", "example": "wordcount"}


def imports_of(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_an_optional_package_imports_no_other_package_of_the_template(name):
    others = set(PACKAGES.values()) - {PACKAGES[name]}
    for path in (PROJECT_DIR / PACKAGES[name]).rglob("*.py"):
        used = imports_of(path) & others
        assert used == set(), f"{path.relative_to(PROJECT_DIR)} imports {used}"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_only_the_wiring_and_the_packages_test_support_import_it(name):
    own = tuple(OPTIONAL[name].paths + OPTIONAL[name].test_support)
    importers = {
        str(path.relative_to(PROJECT_DIR))
        for path in PROJECT_DIR.rglob("*.py")
        if ".venv" not in path.parts
        and not str(path.relative_to(PROJECT_DIR)).startswith((*own, "forking/"))
        and PACKAGES[name] in imports_of(path)
    }
    assert importers == {"web.py"}
