"""The project's command line, on Flask's click CLI.

\b
    python manage.py db upgrade        apply migrations (Flask-Migrate)
    python manage.py db migrate -m ..  write a revision after changing models
    python manage.py runserver         development server (honours PORT)
    python manage.py shell             Python shell with db and the models
    python manage.py routes            list the URL rules
    python manage.py db connections    the formation's database connections vs the limit
    python manage.py worker            the background job worker (needs REDIS_URL)

A .env file in the project folder is read first, when present.
"""

import os
from functools import wraps
from typing import Any

import click
import flask_migrate
from flask import Flask, current_app
from flask.cli import (
    FlaskGroup,
    ScriptInfo,
    routes_command,
    run_command,
    shell_command,
    with_appcontext,
)
from flask_migrate.cli import db as migrate_commands  # type: ignore[import-not-found]
from sqlalchemy.exc import OperationalError

from plumbing import error_reports
from plumbing.connection_budget import connections_command
from plumbing.worker import worker_command


def load_app() -> Flask:
    # Built only when a command needs the app, after FlaskGroup has read .env.
    from web import create_app_or_exit

    return create_app_or_exit()


# set_debug_flag=False: the config class decides debug mode, not FLASK_DEBUG.
# No default commands: `runserver` replaces Flask's `run`, so there is one way.
cli = FlaskGroup(
    create_app=load_app, help=__doc__, add_default_commands=False, set_debug_flag=False
)
cli.add_command(shell_command)
cli.add_command(routes_command)
cli.add_command(worker_command)
# Beside Flask-Migrate's own: python manage.py db connections.
migrate_commands.add_command(connections_command)


def upgrade_first_in_development(command: click.Command) -> None:
    """``db migrate`` compares the models with an up-to-date database, and
    Alembic refuses one with revisions pending ("Target database is not up
    to date"). On a laptop that is the development database, which only
    ever follows the history: bring it up to date first, so that README's
    order (migrate, then upgrade) works on any clone."""
    original = command.callback
    assert original is not None

    @wraps(original)
    @with_appcontext
    def migrate(*args: Any, **kwargs: Any) -> Any:
        if current_app.config["ENV_NAME"] == "development":
            flask_migrate.upgrade()
        return original(*args, **kwargs)

    command.callback = migrate


upgrade_first_in_development(migrate_commands.commands["migrate"])


@cli.command("runserver")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(1, 65535),
    default=lambda: os.environ.get("PORT", "5000"),
    show_default="$PORT or 5000",
    help="Port to listen on.",
)
@click.pass_context
def runserver(ctx: click.Context, host: str, port: int) -> None:
    """Serve the app with Flask's development server (reloader and
    debugger on when the config class sets DEBUG)."""
    debug = ctx.ensure_object(ScriptInfo).load_app().debug  # the app FlaskGroup built
    # Flask's server reads FLASK_DEBUG for its banner and the reloader's child.
    os.environ["FLASK_DEBUG"] = "1" if debug else "0"
    ctx.invoke(run_command, host=host, port=port, reload=debug, debugger=debug)


if __name__ == "__main__":
    try:
        cli()
    except OperationalError as error:
        # The database is down, unreachable or refuses the credentials: an
        # operator's problem (the release phase shows it), not a bug, but
        # one a person must hear of (to Sentry, when SENTRY_DSN is set).
        error_reports.report(error)
        raise SystemExit(f"Error: the database failed: {error.orig or error}") from None
