"""Traces, optional: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request, its SQL
statements, its outbound HTTP calls and the jobs it submits form one trace,
which the OpenTelemetry SDK sends over OTLP/HTTP to that collector
(plumbing/trace_export.py sets it up). A job carries the trace's context in
its meta (W3C ``traceparent``), so its run, inline or in the worker, is part
of the request's trace. Without the setting, opentelemetry is not imported
and every function here does nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from flask import Flask

from plumbing.environment import ConfigError

if TYPE_CHECKING:  # imported only when traces are on
    from opentelemetry.sdk.trace import TracerProvider

# The one tracer provider of this process (OpenTelemetry's own model: every
# instrumentation reports to it), once an app with an endpoint is built.
_started: dict[str, "TracerProvider"] = {}


class Run(Protocol):
    """A job's run, as plumbing/logs.py times it: "done" once it succeeded."""

    outcome: str


def init_app(app: Flask) -> None:
    """Call after db.init_app: its engines' statements are traced."""
    if not app.config["OTEL_EXPORTER_OTLP_ENDPOINT"]:
        return
    try:
        from plumbing import trace_export
    except ImportError as error:
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_ENDPOINT is set, but {error.name} is not installed: add"
            " -r requirements-traces.txt to requirements.txt (docs/observability.md)"
        ) from None

    if "provider" not in _started:
        _started["provider"] = trace_export.start(app)
    trace_export.instrument(app, _started["provider"])


def job_context() -> dict[str, str]:
    """The current trace's context, to travel with a job ({} when off)."""
    if "provider" not in _started:
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


@contextmanager
def job_span(
    name: str, job_id: str, attempt: int, context: dict[str, str], run: Run
) -> Iterator[None]:
    """A job's run as a span of the trace whose ``context`` the job carries;
    marked failed unless ``run`` says the job is done."""
    if "provider" not in _started:
        yield
        return
    from plumbing import trace_export

    with trace_export.job_span(name, job_id, attempt, context) as span:
        try:
            yield
        finally:
            trace_export.set_outcome(span, run.outcome)


def flush() -> None:
    """Send the spans not yet sent: a worker's work horse ends with
    ``os._exit``, where no exit handler runs."""
    if "provider" in _started:
        from plumbing import trace_export

        trace_export.flush(_started["provider"])
