"""Holding the stop signals across a fork: plumbing for gunicorn.conf.py and
plumbing/worker.py, which a fork never needs to touch.

A process that forks a child which installs its own stop handlers has a
window between the fork and those handlers: a SIGTERM that lands in it
reaches the parent's handler (inherited) in the child, and is lost or kills
it half-started (benoitc/gunicorn#1910 for gunicorn; RQ's WorkerPool installs
its handler only after forking every worker). The parent holds the signals
while it forks; the child inherits them held and lets them in once its
handlers are in place, so a signal sent meanwhile is delivered then.
"""

import contextlib
import signal
from collections.abc import Iterator

# Heroku's SIGTERM, Ctrl-C's SIGINT, and SIGQUIT (gunicorn's quick stop).
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})


def hold() -> None:
    """Hold the stop signals in this thread: they wait until ``release()``."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def release() -> None:
    """Let the stop signals in; one that waited is delivered now."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold the stop signals for the block, then restore the previous mask."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
