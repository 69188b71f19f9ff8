"""How a log line looks: structlog's formatter over the standard library's
logging, logfmt (Heroku's router's format) or JSON, one handler on stderr for
every logger of the process, each line with the fields bound for the request
or job that caused it (plumbing/logs.py binds them)."""

import logging
import os
import re
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
# A logfmt value is quoted when it holds a space, '=', '"', a backslash or a
# control character, and escaped so that one event stays one line.
QUOTED = re.compile(r'[\s="\\\x00-\x1f\x7f-\x9f]')
ESCAPES = {
    code: f"\\u{code:04x}" for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
} | {
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def configure(log_format: str, level: str) -> None:
    """Route every logger of the process through one handler on stderr, in
    ``log_format``. Called by each app; the handler is added once. structlog
    is imported here, not by ``import web`` (a tenth of the start-up)."""
    import structlog
    from structlog.contextvars import merge_contextvars

    renderer: Any = structlog.processors.JSONRenderer() if log_format == "json" else logfmt
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
    handler.renderer = renderer
    root.setLevel(level)
    logging.captureWarnings(True)  # SQLAlchemy's warnings, as log lines
    # What no line shows is not collected for each (the logging HOWTO's
    # "Optimization"): the caller's frame, the thread, the process.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def log(logger: logging.Logger, level: int, event: str, fields: dict[str, Any]) -> None:
    """``logger.log(level, event, extra=fields)``, the same line, for a line
    logged on every request: when the process's one handler is the only one
    the line reaches, it is rendered and written here, without the standard
    library's record and structlog's formatter (half of the line's cost:
    bench/). Any other handler (a test's caplog, one of your own) gets the
    record as before."""
    handler = sole_handler(logger)
    if handler is None:
        logger.log(level, event, extra=fields)
    elif logger.isEnabledFor(level) and level >= handler.level:
        handler.write(render(handler.renderer, logger, level, event, fields))


def sole_handler(logger: logging.Logger) -> "LineHandler | None":
    """The LineHandler, when it is the one handler a line of ``logger``
    reaches and no filter is on the way."""
    root = logging.root
    if logger.handlers or logger.filters or not logger.propagate or logger.parent is not root:
        return None
    handler = root.handlers[0] if len(root.handlers) == 1 and not root.filters else None
    return handler if isinstance(handler, LineHandler) and not handler.filters else None


def render(
    renderer: Any, logger: logging.Logger, level: int, event: str, fields: dict[str, Any]
) -> str:
    """The line configure's formatter makes of such a record."""
    from structlog.contextvars import merge_contextvars

    line = merge_contextvars(logger, "", {"event": event})
    line["at"] = logging.getLevelName(level).lower()
    line["logger"] = logger.name
    line.update(fields)
    return str(renderer(logger, "", drop_never_shown(logger, "", add_dyno(logger, "", line))))


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's one log handler (``configure`` finds it by its class).
    It writes to stderr, as gunicorn does (Heroku collects both streams;
    stdout stays a command's own output: ``db upgrade --sql > file``), to
    whatever sys.stderr is at the time (a test's capture)."""

    renderer: Any = None  # configure's, for ``log``

    def write(self, line: str) -> None:
        """One rendered line, as ``emit`` writes a formatted record."""
        with self.lock:  # type: ignore[union-attr]
            stream = self.stream
            stream.write(line + self.terminator)
            stream.flush()

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


def logfmt(logger: object, name: str, event_dict: "EventDict") -> str:
    """The line in logfmt, FIRST_KEYS first. Not structlog's LogfmtRenderer:
    it tests every character of every key in Python (17 us a request line,
    against 6 here) and leaves a tab or a carriage return in a value
    unescaped."""
    pairs = [(key, event_dict.pop(key)) for key in FIRST_KEYS if key in event_dict]
    pairs += event_dict.items()
    return " ".join([f"{key}={logfmt_value(value)}" for key, value in pairs])


def logfmt_value(value: object) -> str:
    if type(value) is int or type(value) is float:  # not bool: true, false
        return str(value)  # nothing to quote
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text and QUOTED.search(text) is None:
        return text
    return '"' + text.translate(ESCAPES) + '"'
