"""The fork step's tests: each works in a scratch clone of the template."""

from pathlib import Path

import pytest

from forking.tests.clones import clone_of_the_template


@pytest.fixture
def template_clone(tmp_path) -> Path:
    """A fresh clone of the template, committed, not yet forked."""
    return clone_of_the_template(tmp_path / "qzmyapp")
