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
  outside a request (jobs, the shell, migrations). ``models.transaction()``
  wraps a block that must commit or roll back whole;
  ``models.execute_alone()`` runs one statement on its own, in one round
  trip.
- **No pre-ping.** A server that restarted has closed its end of every
  connection; checkout sees that locally (the idle socket is readable)
  and replaces the connection, without a round trip. Failures the socket
  cannot show (a network partition) surface as 503 once, and SQLAlchemy
  then discards the pool's connections.
"""

import select
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from models import db, reads_only
from plumbing import logs

if TYPE_CHECKING:  # psycopg is imported by SQLAlchemy when a PostgreSQL URL is used
    from psycopg import Connection

# The three ways a statement reaches the driver: each is a dialect method and
# the dialect event of the same name. Not the engine's cursor events: any of
# those makes SQLAlchemy join a dispatcher for every connection and call it
# twice per statement: 7% of a JSON read's instructions.
STATEMENT_RUNS = ("do_execute", "do_executemany", "do_execute_no_params")
# The first word of a statement that changes the database.
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE"})


class WriteInSafeRequest(RuntimeError):
    """A GET, HEAD or OPTIONS request tried to change the database."""


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            for run in STATEMENT_RUNS:
                # SQLAlchemy calls these in the order registered (its dialect
                # events ignore insert=True) until one runs the statement (the
                # timed one): a refused statement never runs.
                event.listen(engine, run, refuse_writes_in_safe_requests)
                event.listen(engine, run, logs.timed(run))
            if engine.dialect.name == "postgresql":
                event.listen(engine, "checkout", on_checkout)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", enforce_foreign_keys)


def enforce_foreign_keys(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """SQLite checks foreign keys (and applies ON DELETE CASCADE) only when
    asked, per connection; PostgreSQL always does. Migrations turn it off
    while they run (migrations/env.py), as Alembic's batch mode needs."""
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


def refuse_writes_in_safe_requests(cursor: object, statement: str, *args: object) -> bool:
    words = statement.lstrip().split(None, 1)
    if words and words[0].upper() in WRITES and reads_only():
        raise WriteInSafeRequest(
            f"{request.method} {request.path} tried to write ({words[0].upper()}): "
            "GET, HEAD and OPTIONS only read; write in a POST view"
        )
    return False  # not run here: the next listener or the dialect runs it


# Registered for PostgreSQL engines only, whose driver is psycopg.
def on_checkout(
    dbapi_connection: "Connection[Any]", record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed the connection")  # the pool reconnects
    autocommit = reads_only()
    if dbapi_connection.autocommit != autocommit:  # psycopg's setter costs a call even unchanged
        dbapi_connection.autocommit = autocommit


def closed_by_server(dbapi_connection: "Connection[Any]") -> bool:
    """True when an idle connection has something to read: after a restart,
    the server's goodbye and end of file. An idle connection that is alive
    has nothing to read, so this costs no round trip."""
    if dbapi_connection.closed:
        return True
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    return bool(readable)
