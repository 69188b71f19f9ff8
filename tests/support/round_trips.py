"""Round trips to PostgreSQL, counted from libpq's own protocol trace."""

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import pq
from sqlalchemy import event


class RoundTrips:
    """Round trips to PostgreSQL, counted from libpq's own protocol trace
    (PQtrace) of every connection the engine checks out: each run of
    messages the app sends that the server then answers is one. Exact, and
    independent of the machine's speed."""

    FLAGS = pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE

    def __init__(self, engine, folder):
        self.folder = folder
        self.traced: list[tuple[psycopg.Connection[Any], TextIO]] = []  # with its trace file
        event.listen(engine, "checkout", self._trace)

    def _trace(self, dbapi_connection, record, proxy) -> None:
        if any(connection is dbapi_connection for connection, _ in self.traced):
            return
        stream = open(self.folder / f"connection-{len(self.traced)}.trace", "a")  # noqa: SIM115
        self.traced.append((dbapi_connection, stream))
        dbapi_connection.pgconn.trace(stream.fileno())
        dbapi_connection.pgconn.set_trace_flags(self.FLAGS)

    def total(self) -> int:
        """Round trips so far, on every traced connection."""
        total = 0
        for connection, stream in self.traced:
            if not connection.closed:  # flush libpq's buffer, then trace on
                connection.pgconn.untrace()
                connection.pgconn.trace(stream.fileno())
                connection.pgconn.set_trace_flags(self.FLAGS)
            directions = [line[:1] for line in Path(stream.name).read_text().splitlines()]
            total += sum(1 for pair in itertools.pairwise(directions) if pair == ("F", "B"))
        return total

    def of(self, action: Callable[[], object]) -> int:
        before = self.total()
        action()
        return self.total() - before

    def close(self) -> None:
        for connection, stream in self.traced:
            if not connection.closed:
                connection.pgconn.untrace()
            stream.close()
