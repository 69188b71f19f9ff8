"""The app as a dyno builds it (APP_SETTINGS, production included), for
test runs whose internet is this machine: its outbound fetches may reach
loopback, where every web server of the tests listens. Staging and
production refuse that as a setting (OUTBOUND_ALLOW_LOOPBACK), so it is
set here, after the config's checks, and nowhere else.

    gunicorn 'tests.support.loopback_app:create()'
    python -m flask --app tests.support.loopback_app:create worker
"""

from flask import Flask

from plumbing.worker import worker_command
from web import create_app_or_exit

WEB = ["gunicorn", "tests.support.loopback_app:create()"]
WORKER = ["-m", "flask", "--app", "tests.support.loopback_app:create", "worker"]


def create() -> Flask:
    app = create_app_or_exit()
    app.config["OUTBOUND_ALLOW_LOOPBACK"] = True
    app.cli.add_command(worker_command)
    return app
