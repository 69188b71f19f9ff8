"""What timing tells a stranger (accounts/README.md, "What an attacker can
still learn"): the median time of sign-up, log-in and reset for an
address with an account against one without, on an in-memory SQLite
database, mail going nowhere (jobs inline, after the response; the
message logged and the log silenced), limits out of the way: the time
until the response is there, as a client measures it.

    .venv/bin/python -m accounts.tests.timing [ROUNDS]
"""

import logging
import statistics
import sys
import time
import uuid

from flask.testing import FlaskClient

from accounts.users import create_verified
from models import db
from tests.support.fixtures import testing_config
from web import create_app

UNLIMITED = "100000/minute"
PASSWORD = "tulip harbor violin 47"


def median_ms(client, path: str, forms: list[dict[str, str]]) -> float:
    times = []
    for form in forms:
        started = time.perf_counter()
        client.post(path, data=form)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(rounds: int) -> None:
    limits = {
        name: UNLIMITED
        for name in (
            "ACCOUNTS_LOGIN_LIMIT_PER_ACCOUNT",
            "ACCOUNTS_LOGIN_LIMIT_PER_ADDRESS",
            "ACCOUNTS_SIGNUP_LIMIT",
            "ACCOUNTS_RESET_LIMIT",
            "ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT",
        )
    }
    app = create_app(testing_config("sqlite://", **limits))
    app.config["WTF_CSRF_ENABLED"] = False
    logging.disable(logging.INFO)
    with app.app_context():
        db.create_all()
        known = create_verified("known@example.com", PASSWORD).email
    # Werkzeug's own client: it leaves each response open, as a client
    # sees it, before what runs on close (the mail, with no worker).
    client = FlaskClient(app, app.response_class, use_cookies=True)

    def unknown() -> str:
        return f"u{uuid.uuid4().hex[:10]}@example.com"

    cases = {
        "sign-up": ("/auth/signup", lambda email: {"email": email, "password": PASSWORD + "x"}),
        "log-in": ("/auth/login", lambda email: {"email": email, "password": PASSWORD + "x"}),
        "reset": ("/auth/forgot", lambda email: {"email": email}),
    }
    print(f"{'':8} {'known':>9} {'unknown':>9}  (median ms of {rounds})")
    for name, (path, form) in cases.items():
        median_ms(client, path, [form(unknown()) for _ in range(5)])  # warm up
        known_ms = median_ms(client, path, [form(known) for _ in range(rounds)])
        unknown_ms = median_ms(client, path, [form(unknown()) for _ in range(rounds)])
        print(f"{name:8} {known_ms:9.1f} {unknown_ms:9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
