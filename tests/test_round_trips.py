"""Round trips to PostgreSQL per request (plumbing/database.py): one for a read,
a transaction for a write, and no pre-ping, counted at the protocol level."""

import pytest
from flask import request
from sqlalchemy import text

from models import db, execute_alone
from plumbing.database import closed_by_server

# Round trips are PostgreSQL's: these tests run on it alone.
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("app", ["postgresql"], indirect=True)]


def transaction_status() -> str:
    """The view's own connection, as psycopg sees it after one query."""
    db.session.execute(text("SELECT 1"))
    psycopg_connection = db.session.connection().connection.driver_connection
    assert psycopg_connection is not None
    return psycopg_connection.info.transaction_status.name


def add_probe_route(app) -> None:
    app.add_url_rule(
        "/probe",
        "probe",
        lambda: {"status": transaction_status(), "method": request.method},
        methods=["GET", "POST", "PUT", "DELETE"],
    )


def test_healthz_is_one_round_trip(client, round_trips):
    client.get("/healthz")  # the pool's first connection; its start-up is not counted
    assert round_trips.of(lambda: client.get("/healthz")) == 1


def test_reads_run_without_a_transaction_and_writes_inside_one(app, round_trips):
    add_probe_route(app)
    client = app.test_client()
    assert client.get("/probe").get_json()["status"] == "IDLE"
    for method in ("post", "put", "delete"):
        assert getattr(client, method)("/probe").get_json()["status"] == "INTRANS"


def test_a_write_request_costs_begin_its_statements_and_the_end(app, round_trips):
    add_probe_route(app)
    client = app.test_client()
    client.get("/healthz")
    # BEGIN, SELECT 1, and the ROLLBACK at teardown (the view committed nothing).
    assert round_trips.of(lambda: client.post("/probe")) == 3


def test_a_statement_alone_is_one_round_trip_and_leaves_no_transaction_open(app, round_trips):
    with app.app_context(), app.test_request_context(method="POST"):
        db.session.execute(text("SELECT 1"))  # BEGIN: a transaction is open
        db.session.commit()
        assert round_trips.of(lambda: execute_alone(text("SELECT 1")).scalar()) == 1
        assert transaction_status() == "INTRANS"  # the next statement is in one again


def test_a_connection_closed_on_this_side_counts_as_closed(app):
    with app.app_context():
        connection = db.engine.raw_connection()
        psycopg_connection = connection.driver_connection
        assert psycopg_connection is not None
        assert closed_by_server(psycopg_connection) is False
        psycopg_connection.close()
        assert closed_by_server(psycopg_connection) is True
        connection.invalidate()


def test_a_connection_the_server_closed_is_replaced_without_an_error(
    app, client, round_trips, postgres_admin
):
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        database = db.engine.url.database
    with postgres_admin.connect() as connection:  # what a server restart does to a backend
        connection.execute(
            text(  # and wait up to 5 s for each to exit, as a restart would
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        )
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok", "database": "ok"})
