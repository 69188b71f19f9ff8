"""Error responses: JSON for an API, HTML pages elsewhere (errors.py says
which), for every error a request can end in: an ``AppError``, an HTTP
error, an unavailable database, a bug (never a traceback)."""

from flask import Flask, current_app, render_template, request
from flask.typing import HeadersValue, ResponseReturnValue
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from errors import AppError
from models import db


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
    for error in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(error, handle_database_unavailable)
    app.register_error_handler(InternalServerError, handle_internal_error)
    # Registered after db.init_app, so it runs before Flask-SQLAlchemy's own
    # teardown (Flask runs them in reverse), which then finds nothing to do.
    app.teardown_appcontext(end_database_session)


def no_json_errors() -> dict[str, set[str]]:
    return {"names": set(), "prefixes": set()}


def wants_json() -> bool:
    answers = current_app.extensions.get("json_errors", no_json_errors())
    path = request.path
    if request.blueprint in answers["names"] or path == "/healthz":
        return True
    if any(path.startswith(f"{prefix}/") for prefix in answers["prefixes"]):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def error_response(
    code: str, message: str, status: int, headers: HeadersValue = ()
) -> ResponseReturnValue:
    if wants_json():
        return {"error": {"code": code, "message": message}}, status, headers
    page = render_template("error.html", code=code, message=message, status=status)
    return page, status, headers


def handle_app_error(error: AppError) -> ResponseReturnValue:
    return error_response(error.code, error.message, error.status, error.headers or {})


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    code = (error.name or "error").lower().replace(" ", "_")
    # Keep what the exception says beyond its body: Allow on a 405 (RFC 9110),
    # Retry-After, WWW-Authenticate.
    headers = [
        (name, value) for name, value in error.get_headers() if name.lower() != "content-type"
    ]
    return error_response(code, error.description or error.name, error.code or 500, headers)


def handle_database_unavailable(error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return error_response("db_unavailable", "The database is unavailable; try again shortly.", 503)


def handle_internal_error(error: InternalServerError) -> ResponseReturnValue:
    # Never show a traceback; the log has it.
    return error_response("internal_error", "Something went wrong on our side.", 500)


def end_database_session(error: BaseException | None) -> None:
    """End the request's transaction without risking its response.

    If the database went away after the view's last query, the ROLLBACK
    that ends the transaction fails after the response is built; raised
    from a teardown, that would turn a finished response into the WSGI
    server's bare 500. SQLAlchemy has already discarded the dead connection.
    """
    try:
        db.session.remove()
    except SQLAlchemyError:
        current_app.logger.warning(
            "Could not end the request's database transaction", exc_info=True
        )
        db.session.remove()
