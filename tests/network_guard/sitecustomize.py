"""Python imports this at start-up in every process a test starts (the
folder is on their PYTHONPATH): the same network guard as the tests', and
SQLAlchemy's warnings made failures, as pyproject.toml's filterwarnings
makes them in the test process. A warning is recorded in the guard's log
(which fails the test) rather than raised: raised, it would reach a client
as a 500 and could be caught on the way."""

import importlib
import warnings
from typing import Any

# Beside this file on PYTHONPATH: imported by name, as the tests' own copy of
# the guard is imported by its package path.
loopback_only = importlib.import_module("loopback_only")

_show = warnings.showwarning


def record_sqlalchemy_warnings(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    if category.__module__.startswith("sqlalchemy"):
        loopback_only.record(f"{category.__name__}: {message}")
    _show(message, category, *args, **kwargs)


loopback_only.install()
warnings.showwarning = record_sqlalchemy_warnings
