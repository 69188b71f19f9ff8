"""How requests use PostgreSQL: one round trip for a read.

Every round trip to the database costs the network's latency (about a
millisecond between Heroku dynos and Heroku Postgres). A read through a
plain SQLAlchemy session makes four: the pool's pre-ping, ``BEGIN``, the
``SELECT`` and the ``ROLLBACK`` at teardown. Here:

- **Reads are autocommit.** A connection checked out for a GET, HEAD or
  OPTIONS request runs each statement on its own, so psycopg sends no
  ``BEGIN`` and has nothing to roll back: one round trip per query. Those
  methods are safe by HTTP's rules (RFC 9110), and a statement that writes
  in one raises ``WriteInSafeRequest``, on SQLite as on PostgreSQL: a GET
  that writes twice would be atomic on SQLite (a transaction) and not on
  PostgreSQL (autocommit), so it fails loudly on both, and a test on SQLite
  catches it. Write in a POST (or PUT, PATCH, DELETE) view.
- **Writes are transactions**, as before: any other method, and everything
  outside a request (jobs, the shell, migrations). After a write has
  committed, ``without_transaction()`` makes the session's next statements
  autocommit too: for a read that follows, or a single-statement write,
  which is atomic on its own.
- **No pre-ping.** A server that restarted has closed its end of every
  connection; checkout sees that locally (the idle socket is readable)
  and replaces the connection, without a round trip. Failures the socket
  cannot show (a network partition) surface as 503 once, and SQLAlchemy
  then discards the pool's connections.
"""

import select
from typing import Any

from flask import Flask, has_request_context, request
from psycopg import Connection
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from models import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The first word of a statement that changes the database.
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE"})


class WriteInSafeRequest(RuntimeError):
    """A GET, HEAD or OPTIONS request tried to change the database."""


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "before_cursor_execute", refuse_writes_in_safe_requests)
            if engine.dialect.name == "postgresql":
                event.listen(engine, "checkout", on_checkout)


def refuse_writes_in_safe_requests(
    connection: object, cursor: object, statement: str, *args: object
) -> None:
    words = statement.lstrip().split(None, 1)
    if words and words[0].upper() in WRITES and reads_only():
        raise WriteInSafeRequest(
            f"{request.method} {request.path} tried to write ({words[0].upper()}): "
            "GET, HEAD and OPTIONS only read; write in a POST view"
        )


# Registered for PostgreSQL engines only, whose driver is psycopg.
def on_checkout(
    dbapi_connection: Connection[Any], record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed the connection")  # the pool reconnects
    dbapi_connection.autocommit = reads_only()


def without_transaction() -> None:
    """Run the session's next statements in autocommit, until it commits or
    rolls back. Call it where no transaction is open (at the start, or after
    a commit); SQLAlchemy refuses otherwise."""
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def reads_only() -> bool:
    return has_request_context() and request.method in SAFE_METHODS


def closed_by_server(dbapi_connection: Connection[Any]) -> bool:
    """True when an idle connection has something to read: after a restart,
    the server's goodbye and end of file. An idle connection that is alive
    has nothing to read, so this costs no round trip."""
    if dbapi_connection.closed:
        return True
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    return bool(readable)
