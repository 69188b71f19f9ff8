"""A package a fork adds, as README's "Add a package" shows it: a table, a
page, a JSON endpoint, a job, a setting, and ten or more tests of its own
written against the fixtures of docs/testing.md. With accounts its rows
belong to users (a foreign key to users.id, ON DELETE CASCADE) and its page
is behind a log-in. The name is one no user would pick."""

PACKAGE = "qx_ledger"

INIT = '''"""The ledger: entries, their page and API, and the job that checks them."""

from flask import Flask

from config import Environment
from qx_ledger import views


def init_app(app: Flask) -> None:
    env: Environment = app.config["ENVIRONMENT"]
    app.config["QX_LEDGER_MAX_AMOUNT"] = env.integer("QX_LEDGER_MAX_AMOUNT", 1_000_000, 1)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.api)
'''

TASKS = '''"""The job: mark an entry checked."""

from sqlalchemy import update

from models import db, transaction
from qx_ledger.models import Entry


def check_entry(entry_id: int) -> None:
    with transaction():
        db.session.execute(update(Entry).where(Entry.id == entry_id).values(checked=True))


def entry_failed(entry_id: int, *, error: BaseException) -> None:
    raise AssertionError(f"entry {entry_id} could not be checked: {error}")
'''

MODELS = {
    True: '''"""The entries table: each belongs to a user."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models import Model


class Entry(Model):
    __tablename__ = "qx_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    memo: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int]
    checked: Mapped[bool] = mapped_column(default=False)
''',
    False: '''"""The entries table."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models import Model


class Entry(Model):
    __tablename__ = "qx_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    memo: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[int]
    checked: Mapped[bool] = mapped_column(default=False)
''',
}

VIEWS = {
    True: '''"""The ledger page (logged-in users only) and its JSON API."""

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from errors import AppError, answer_errors_in_json
from extensions import jobs
from models import db, transaction
from qx_ledger.models import Entry
from qx_ledger.tasks import check_entry, entry_failed

bp = Blueprint("qx_ledger", __name__)
api = Blueprint("qx_ledger_api", __name__, url_prefix="/api/ledger")
answer_errors_in_json(api)


@bp.get("/ledger")
@login_required
def index() -> str:
    query = select(Entry).where(Entry.user_id == current_user.id).order_by(Entry.id)
    rows = db.session.scalars(query).all()
    return "".join(f"<li>{entry.memo}: {entry.amount}</li>" for entry in rows)


@api.post("")
@login_required
def create() -> ResponseReturnValue:
    payload = request.get_json(silent=True) or {}
    amount, memo = payload.get("amount"), payload.get("memo")
    if not isinstance(amount, int) or not 0 < amount <= current_app.config["QX_LEDGER_MAX_AMOUNT"]:
        raise AppError("bad_amount", "The amount must be a whole number within the limit.")
    if not isinstance(memo, str) or not 0 < len(memo) <= 80:
        raise AppError("bad_memo", "The memo must be 1 to 80 characters.")
    entry = Entry(user_id=current_user.id, memo=memo, amount=amount)
    with transaction():
        db.session.add(entry)
    jobs.submit(check_entry, entry.id, timeout=30, on_failure=entry_failed)
    return {"id": entry.id}, 201


@api.get("/<int:entry_id>")
@login_required
def read(entry_id: int) -> ResponseReturnValue:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.user_id != current_user.id:
        raise AppError("not_found", "No such entry.", 404)
    return {"memo": entry.memo, "amount": entry.amount, "checked": entry.checked}
''',
    False: '''"""The ledger page and its JSON API."""

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from errors import AppError, answer_errors_in_json
from extensions import jobs
from models import db, transaction
from qx_ledger.models import Entry
from qx_ledger.tasks import check_entry, entry_failed

bp = Blueprint("qx_ledger", __name__)
api = Blueprint("qx_ledger_api", __name__, url_prefix="/api/ledger")
answer_errors_in_json(api)


@bp.get("/ledger")
def index() -> str:
    rows = db.session.scalars(select(Entry).order_by(Entry.id)).all()
    return "".join(f"<li>{entry.memo}: {entry.amount}</li>" for entry in rows)


@api.post("")
def create() -> ResponseReturnValue:
    payload = request.get_json(silent=True) or {}
    amount, memo = payload.get("amount"), payload.get("memo")
    if not isinstance(amount, int) or not 0 < amount <= current_app.config["QX_LEDGER_MAX_AMOUNT"]:
        raise AppError("bad_amount", "The amount must be a whole number within the limit.")
    if not isinstance(memo, str) or not 0 < len(memo) <= 80:
        raise AppError("bad_memo", "The memo must be 1 to 80 characters.")
    entry = Entry(memo=memo, amount=amount)
    try:
        with transaction():
            db.session.add(entry)
    except IntegrityError:
        raise AppError("duplicate_memo", "An entry with this memo exists.", 409) from None
    jobs.submit(check_entry, entry.id, timeout=30, on_failure=entry_failed)
    return {"id": entry.id}, 201


@api.get("/<int:entry_id>")
def read(entry_id: int) -> ResponseReturnValue:
    entry = db.get_or_404(Entry, entry_id)
    return {"memo": entry.memo, "amount": entry.amount, "checked": entry.checked}
''',
}

COMMON_TESTS = '''"""The ledger's API, its setting and its job."""

import pytest

OWNER_IMPORTfrom extensions import jobs
from models import db
from qx_ledger.models import Entry
from qx_ledger.tasks import check_entry
from tests.support.processes import wait_until


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "QX_LEDGER_MAX_AMOUNT": "500"}


def test_an_amount_over_the_setting_is_a_json_400(CLIENT):
    response = CLIENT.post("/api/ledger", json={"memo": "rent", "amount": 501})
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "bad_amount")


@pytest.mark.parametrize("memo", ["", "x" * 81, None])
def test_a_bad_memo_is_a_json_400(CLIENT, memo):
    response = CLIENT.post("/api/ledger", json={"memo": memo, "amount": 1})
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "bad_memo")


def test_an_entry_is_stored_and_checked_by_its_job(CLIENT):
    created = CLIENT.post("/api/ledger", json={"memo": "rent", "amount": 300})
    assert created.status_code == 201
    entry = CLIENT.get(f"/api/ledger/{created.get_json()['id']}").get_json()
    assert entry == {"memo": "rent", "amount": 300, "checked": True}


def test_an_unknown_entry_is_a_json_404(CLIENT):
    response = CLIENT.get("/api/ledger/999")
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")


OWNER_HELPERdef test_the_job_runs_inline_and_through_a_worker(jobs_app):
    with jobs_app.app_context():
        entry = Entry(ENTRY_ARGS)
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
        jobs.submit(check_entry, entry_id)

    def checked() -> bool:
        with jobs_app.app_context():
            found = db.session.get(Entry, entry_id)
            db.session.rollback()
            return found is not None and found.checked

    wait_until(checked, timeout=20, what="the entry checked")
'''

USER_TESTS = '''"""The ledger belongs to its users."""

from accounts.users import create_verified
from models import db
from qx_ledger.models import Entry
from tests.support.mail_server import link_in


def test_the_page_needs_a_log_in(client):
    response = client.get("/ledger")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_the_api_needs_a_log_in(client):
    response = client.post("/api/ledger", json={"memo": "rent", "amount": 1})
    assert response.status_code == 302 and "/auth/login" in response.location


def test_a_user_sees_only_their_entries(app, logged_in_client, user):
    logged_in_client.post("/api/ledger", json={"memo": "mine", "amount": 1})
    with app.app_context():
        other = create_verified("other@example.test", "another long password")
        db.session.add(Entry(user_id=other.id, memo="theirs", amount=2))
        db.session.commit()
    page = logged_in_client.get("/ledger").text
    assert "mine: 1" in page and "theirs" not in page


def test_another_users_entry_is_a_404(app, logged_in_client):
    with app.app_context():
        other = create_verified("other@example.test", "another long password")
        entry = Entry(user_id=other.id, memo="theirs", amount=2)
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    assert logged_in_client.get(f"/api/ledger/{entry_id}").status_code == 404


def test_deleting_the_account_deletes_its_entries(app, logged_in_client, user):
    logged_in_client.post("/api/ledger", json={"memo": "rent", "amount": 1})
    form = {"current_password": user.password}
    deleted = logged_in_client.post("/account/delete", data=form)
    assert "Account deleted" in deleted.text
    with app.app_context():
        assert db.session.query(Entry).count() == 0


def test_a_forgotten_password_is_mailed(client, outbox, user):
    client.post("/auth/forgot", data={"email": user.email})
    assert "/auth/reset#" in link_in(outbox.wait_for(user.email))
'''

PLAIN_TESTS = '''"""The ledger without accounts."""


def test_the_page_lists_the_entries(client):
    client.post("/api/ledger", json={"memo": "rent", "amount": 300})
    assert "rent: 300" in client.get("/ledger").text


def test_a_memo_is_unique_on_both_databases(client):
    client.post("/api/ledger", json={"memo": "rent", "amount": 1})
    again = client.post("/api/ledger", json={"memo": "rent", "amount": 2})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "duplicate_memo")


def test_an_empty_ledger_is_an_empty_page(client):
    assert client.get("/ledger").text == ""
'''


def files(with_accounts: bool) -> dict[str, str]:
    """The package's files, with its rows owned by users or not."""
    if with_accounts:
        common = (
            COMMON_TESTS.replace("CLIENT", "logged_in_client")
            .replace("OWNER_IMPORT", "from accounts.users import create_verified\n")
            .replace("ENTRY_ARGS", 'user_id=owner(), memo="a", amount=1')
            .replace(
                "OWNER_HELPER",
                "def owner() -> int:\n"
                '    return create_verified("job@example.test", "a long password").id\n\n\n',
            )
        )
    else:
        common = (
            COMMON_TESTS.replace("CLIENT", "client")
            .replace("OWNER_IMPORT", "")
            .replace("ENTRY_ARGS", 'memo="a", amount=1')
            .replace("OWNER_HELPER", "")
        )
    return {
        f"{PACKAGE}/__init__.py": INIT,
        f"{PACKAGE}/models.py": MODELS[with_accounts],
        f"{PACKAGE}/tasks.py": TASKS,
        f"{PACKAGE}/views.py": VIEWS[with_accounts],
        f"{PACKAGE}/tests/__init__.py": "",
        f"{PACKAGE}/tests/test_api.py": common,
        f"{PACKAGE}/tests/test_pages.py": USER_TESTS if with_accounts else PLAIN_TESTS,
    }
