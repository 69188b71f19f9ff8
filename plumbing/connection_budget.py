"""``python manage.py db connections``: how many database connections a
Heroku formation may open, against the server's ``max_connections``.

Each web process holds up to ``DB_POOL_SIZE + DB_MAX_OVERFLOW`` connections,
each worker process and its work horse one each, and a one-off dyno
(``heroku run``, the release phase) one pool. Heroku's Python buildpack sets
``WEB_CONCURRENCY`` by dyno size (2 on Basic and Standard-1X, 4 on
Standard-2X, 17 on Performance-L, 33 on Performance-2XL), so a bigger dyno
multiplies the web term: one Performance-L dyno can exceed an Essential
plan's limit alone. The release phase runs ``--warn-only`` for one web and
one worker dyno: a warning in the release log, never a failed deploy.
"""

from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from models import db

# A worker process and the work horse it forks each hold one connection.
CONNECTIONS_PER_WORKER_PROCESS = 2
ONE_OFF_DYNOS = 1  # the release phase, or one `heroku run`


@dataclass(frozen=True)
class Formation:
    web_dynos: int
    web_concurrency: int
    worker_dynos: int
    worker_concurrency: int


def per_process() -> int:
    options = current_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    return int(options["pool_size"]) + int(options["max_overflow"])


def budget(formation: Formation, pool: int) -> dict[str, int]:
    """The most connections each part of ``formation`` may open."""
    return {
        "web": formation.web_dynos * formation.web_concurrency * pool,
        "worker": formation.worker_dynos
        * formation.worker_concurrency
        * CONNECTIONS_PER_WORKER_PROCESS,
        "one-off": ONE_OFF_DYNOS * pool,
    }


def server_limits() -> tuple[int, int]:
    """The server's max_connections, and the connections open now."""
    limit = db.session.scalar(text("SELECT current_setting('max_connections')::int"))
    in_use = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity"))
    return int(limit or 0), int(in_use or 0)


@click.command("connections")
@click.option("--web", "web_dynos", type=click.IntRange(0), default=1, show_default=True)
@click.option("--worker", "worker_dynos", type=click.IntRange(0), default=1, show_default=True)
@click.option(
    "--web-concurrency",
    type=click.IntRange(1),
    default=None,
    help="Processes per web dyno (default: WEB_CONCURRENCY; 17 on Performance-L).",
)
@click.option("--warn-only", is_flag=True, help="Exit 0 even when over (the release phase).")
@with_appcontext
def connections_command(
    web_dynos: int, worker_dynos: int, web_concurrency: int | None, warn_only: bool
) -> None:
    """Print the connection budget of a formation against the database's."""
    if db.engine.dialect.name != "postgresql":
        click.echo("SQLite: no connection limit to budget.")
        return
    config = current_app.config
    formation = Formation(
        web_dynos,
        web_concurrency or config["WEB_CONCURRENCY"],
        worker_dynos,
        config["WORKER_CONCURRENCY"],
    )
    parts = budget(formation, per_process())
    limit, in_use = server_limits()
    total = sum(parts.values())
    click.echo(
        f"web: {formation.web_dynos} dynos x {formation.web_concurrency} processes x "
        f"{per_process()} = {parts['web']}\n"
        f"worker: {formation.worker_dynos} dynos x {formation.worker_concurrency} processes x "
        f"{CONNECTIONS_PER_WORKER_PROCESS} = {parts['worker']}\n"
        f"one-off: {ONE_OFF_DYNOS} x {per_process()} = {parts['one-off']}\n"
        f"total: {total} of max_connections {limit} ({in_use} open now)"
    )
    if total > limit:
        message = (
            f"Warning: this formation may open {total} connections, over the database's "
            f"{limit}: lower DB_POOL_SIZE, DB_MAX_OVERFLOW or WEB_CONCURRENCY, or put "
            "PgBouncer in front of it (docs/database.md)"
        )
        if not warn_only:
            raise click.ClickException(message.removeprefix("Warning: "))
        click.echo(message, err=True)
