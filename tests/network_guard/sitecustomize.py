"""Python imports this at start-up in every process a test starts (the
folder is on their PYTHONPATH): the same network guard as the tests'."""

import loopback_only  # type: ignore[import-not-found]  # found on PYTHONPATH at run time

loopback_only.install()
