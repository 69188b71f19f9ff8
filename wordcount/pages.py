"""Wordcount's pages: the form, a count, and the history."""

from datetime import datetime

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import StringField
from wtforms.validators import InputRequired

from errors import AppError
from wordcount import counts
from wordcount.models import Status
from wordcount.query_args import int_arg

bp = Blueprint(
    "wordcount",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/wordcount/static",
)

HISTORY_PAGE_SIZE = 50
LATEST_ON_INDEX = 10


# Filters, not method calls, in the pages: Jinja calls a filter directly,
# and a method (``"{:,}".format(n)``) through its Context.call, which looks
# the callable over first: 8% of the count page's instructions.
@bp.app_template_filter()
def thousands(number: int) -> str:
    """12345 as 12,345."""
    return f"{number:,}"


@bp.app_template_filter()
def utc_minute(moment: datetime) -> str:
    """A time as 2026-12-07 22:00 UTC (the column stores UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class URLForm(FlaskForm):
    url = StringField("Page URL", validators=[InputRequired("Enter a URL to count.")])


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_index(URLForm())


@bp.post("/")
def submit() -> ResponseReturnValue:
    form = URLForm()
    if not form.validate_on_submit():
        return render_index(form), 400
    assert form.url.data is not None  # InputRequired
    try:
        accepted = counts.accept(form.url.data)
    except AppError as error:
        return render_index(form, error.message), error.status
    return redirect(url_for(".count", count_id=accepted.id), code=303)


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError) -> ResponseReturnValue:
    # Show the form again with the URL kept, rather than a bare error page.
    return render_index(URLForm(), "The form expired; please submit it again."), 400


def render_index(form: URLForm, error: str | None = None) -> str:
    latest = counts.newest(None, LATEST_ON_INDEX)
    return render_template("wordcount/index.html", form=form, error=error, latest=latest)


@bp.get("/counts/<int:count_id>")
def count(count_id: int) -> str:
    row = counts.get_or_404(count_id)
    # A failed count offers the form again, filled in, to try again.
    form = URLForm(url=row.requested_url or row.url) if row.status == Status.FAILED else None
    return render_template(
        "wordcount/count.html",
        count=row,
        form=form,
        refresh_seconds=counts.refresh_seconds(row.created_at),
    )


@bp.get("/history")
def history() -> str:
    before = int_arg("before", None, 1, counts.MAX_ID + 1)
    rows = counts.newest(before, HISTORY_PAGE_SIZE + 1)
    older = rows[-2].id if len(rows) > HISTORY_PAGE_SIZE else None
    return render_template("wordcount/history.html", counts=rows[:HISTORY_PAGE_SIZE], older=older)
