"""A fork, made as a new user makes one, in a scratch clone: the step, a
package of its own (forking/tests/ledger.py: a table, a page behind a
log-in, a JSON endpoint, a job, a setting and its own tests), the
development database migrated in README's order, then the fork's own
``make lint`` and ``make test``. Every command is a real process. Only
web.py (the package wired in) and env-template (its setting) change among
the files the package did not write."""

import json
import re
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from forking.tests import ledger
from forking.tests.clones import commit, fork, make, register_in_web_py, write_files
from tests.support.commands import manage, ok

# The clone's own suite runs on both databases, for minutes.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SETTING = "\n# The ledger's largest entry.\n# export QX_LEDGER_MAX_AMOUNT=1000000\n"


def add_the_ledger(clone, with_accounts: bool) -> None:
    write_files(clone, ledger.files(with_accounts))
    register_in_web_py(clone, ledger.PACKAGE)
    template = clone / "env-template"
    template.write_text(template.read_text() + SETTING)
    # README's order, on the development database (instance/, as make run
    # leaves it), with a revision of the kept packages still pending.
    ok(manage("db", "migrate", "-m", "Add the ledger", cwd=clone))
    ok(manage("db", "upgrade", cwd=clone))
    ok(manage("db", "check", cwd=clone))


def hand_rename(clone, old: str, new: str) -> None:
    """A rename as a user does it without the step: sed over the tree."""
    files = subprocess.run(
        ["git", "grep", "-l", old], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.split()
    subprocess.run(["sed", "-i", f"s/{old}/{new}/g", *files], cwd=clone, check=True)


def the_forks_suite_passes_with_the_packages_tests(clone, tmp_path) -> None:
    report = tmp_path / "junit.xml"
    result, _ = make("test", clone, f"PYTEST_ARGS=--junitxml={report}", timeout=1200)
    assert re.search(r"Required test coverage of [\d.]+% reached", result.stdout), result.stdout
    cases = ElementTree.parse(report).getroot().iter("testcase")
    ours = [case for case in cases if case.get("classname", "").startswith(ledger.PACKAGE)]
    assert len(ours) >= 10 and all(len(case) == 0 for case in ours)  # none failed or skipped
    make("lint", clone)


@pytest.mark.timeout(1800)
def test_a_fork_keeping_accounts_with_a_package_owned_by_users(template_clone, tmp_path):
    fork(template_clone, "NAME=Qzledger", "KEEP=accounts")
    commit(template_clone, "Qzledger")
    add_the_ledger(template_clone, with_accounts=True)
    the_forks_suite_passes_with_the_packages_tests(template_clone, tmp_path)


@pytest.mark.timeout(1800)
def test_a_fork_renamed_by_hand_without_accounts(template_clone, tmp_path):
    hand_rename(template_clone, "HerokuCondaFlaskAlembic", "Qzledger")
    hand_rename(template_clone, "hcfa", "qzledger")
    commit(template_clone, "Renamed by hand")
    fork(template_clone, "NAME=Qzledger", "KEEP=none")
    commit(template_clone, "Qzledger")
    add_the_ledger(template_clone, with_accounts=False)
    the_forks_suite_passes_with_the_packages_tests(template_clone, tmp_path)
    the_forks_bench_measures_its_own_page(template_clone)


def the_forks_bench_measures_its_own_page(clone) -> None:
    """The bench outlives the example: the app's layers, and a page of the fork's."""
    make("bench-smoke", clone, "BENCH_PAGES=/ /ledger", timeout=600)
    results = json.loads((clone / "test-artifacts/bench-smoke/results.json").read_text())
    assert {"GET /healthz", "GET /ledger", "one session query (bare Flask-SQLAlchemy)"} <= set(
        results["runs"]
    )
    assert all(run["non_2xx"] == 0 for run in results["runs"].values())
