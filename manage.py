"""The project's command line, on Flask's click CLI.

\b
    python manage.py db upgrade        apply migrations (Flask-Migrate)
    python manage.py db migrate -m ..  write a revision after changing models.py
    python manage.py runserver         development server (honours PORT)
    python manage.py shell             Python shell with db and the models
    python manage.py routes            list the URL rules

A ``.env`` file in the project folder is read first, when present.
"""

import os

import click
from flask import Flask
from flask.cli import FlaskGroup, run_command


def load_app() -> Flask:
    # Imported only when a command needs the app: FlaskGroup reads .env
    # first, and web.py reads its configuration from the environment.
    from web import app

    return app


cli = FlaskGroup(create_app=load_app, help=__doc__)


@cli.command("runserver")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", "-p", type=int, default=lambda: int(os.environ.get("PORT", 5000)),
              show_default="$PORT or 5000", help="Port to listen on.")
@click.pass_context
def runserver(ctx: click.Context, host: str, port: int) -> None:
    """Serve the app with Flask's development server (reloader and
    debugger on when the config class sets DEBUG)."""
    debug = load_app().debug
    ctx.invoke(run_command, host=host, port=port, reload=debug, debugger=debug)


if __name__ == "__main__":
    cli()
