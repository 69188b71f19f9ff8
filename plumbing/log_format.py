"""How a log line looks: structlog's formatter over the standard library's
logging, logfmt (Heroku's router's format) or JSON, one handler on stderr for
every logger of the process, each line with the fields bound for the request
or job that caused it (plumbing/logs.py binds them)."""

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.typing import EventDict

FIRST_KEYS = ["at", "event", "request_id", "job_id", "dyno", "user_id", "logger"]
DYNO = os.environ.get("DYNO")  # Heroku's name of this process: web.1, worker.2
# Fields a library adds to its records that no line may show: RQ's worker
# attaches a failed job's arguments (rq/worker/base.py, handle_exception),
# which may hold an address or a mailed token.
NEVER_SHOWN = ("message", "arguments", "kwargs")


def configure(log_format: str, level: str) -> None:
    """Route every logger of the process through one handler on stderr, in
    ``log_format``. Called by each app; the handler is added once. structlog
    is imported here, not by ``import web`` (a tenth of the start-up)."""
    import structlog
    from structlog.contextvars import merge_contextvars

    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.processors.LogfmtRenderer(key_order=FIRST_KEYS, drop_missing=True)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            merge_contextvars,
            add_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            add_dyno,
            drop_never_shown,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, LineHandler)), None)
    if handler is None:
        handler = LineHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(level)
    logging.captureWarnings(True)  # SQLAlchemy's warnings, as log lines
    # What no line shows is not collected for each (the logging HOWTO's
    # "Optimization"): the caller's frame, the thread, the process.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's one log handler (``configure`` finds it by its class).
    It writes to stderr, as gunicorn does (Heroku collects both streams;
    stdout stays a command's own output: ``db upgrade --sql > file``), to
    whatever sys.stderr is at the time (a test's capture)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def add_level(logger: object, name: str, event_dict: "EventDict") -> "EventDict":
    record = event_dict.get("_record")
    event_dict["at"] = record.levelname.lower() if record else name
    return event_dict


def drop_never_shown(logger: object, name: str, event_dict: "EventDict") -> "EventDict":
    for field in NEVER_SHOWN:  # "message": the record's own copy of the event
        event_dict.pop(field, None)
    return event_dict


def add_dyno(logger: object, name: str, event_dict: "EventDict") -> "EventDict":
    if DYNO:
        event_dict.setdefault("dyno", DYNO)
    return event_dict
