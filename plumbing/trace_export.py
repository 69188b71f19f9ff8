"""The OpenTelemetry SDK, set up by plumbing/traces.py once an app with
OTEL_EXPORTER_OTLP_ENDPOINT is built, and imported only then: a tracer
provider whose spans go in batches to ``<endpoint>/v1/traces`` (OTLP/HTTP),
and the Flask, SQLAlchemy and urllib3 instrumentations reporting to it.
The SDK's own variables (OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_TIMEOUT,
OTEL_RESOURCE_ATTRIBUTES, ...) work as its documentation says.
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import Flask
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.re import parse_env_headers
from structlog.contextvars import get_contextvars

# Attributes that may hold a whole URL or its query string, in the old and
# the stable HTTP conventions: a query string may hold a secret (a mailed
# token, a fetched page's key), so no span keeps one, as no log line does.
URL_ATTRIBUTES = ("http.target", "http.url", "url.full")
FLUSH_MS = 5000  # at most, at the end of a worker's job


class QueryStringsDropped(SpanExporter):
    """Sends spans on to ``exporter`` with the query string cut off every URL
    they hold, whichever instrumentation made them (each sets its attributes
    after the span starts, so this is done once it has ended)."""

    def __init__(self, exporter: SpanExporter):
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([without_query_strings(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def without_query_strings(span: ReadableSpan) -> ReadableSpan:
    attributes = dict(span.attributes or {})
    cut = {
        name: value.split("?", 1)[0]
        for name in URL_ATTRIBUTES
        if isinstance(value := attributes.get(name), str) and "?" in value
    }
    if not cut and "url.query" not in attributes:
        return span
    attributes.update(cut)
    attributes.pop("url.query", None)
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def start(app: Flask) -> TracerProvider:
    """The process's tracer provider, exporting to the app's endpoint."""
    config = app.config
    resource = Resource.create(
        {
            "service.name": config["OTEL_SERVICE_NAME"],
            "deployment.environment.name": config["ENV_NAME"],
            "service.version": os.environ.get("HEROKU_SLUG_COMMIT", ""),
            "service.instance.id": os.environ.get("DYNO", ""),
        }
    )
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(
        endpoint=config["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces",
        headers=parse_env_headers(config["OTEL_EXPORTER_OTLP_HEADERS"] or "", liberal=True),
    )
    provider.add_span_processor(BatchSpanProcessor(QueryStringsDropped(exporter)))
    trace.set_tracer_provider(provider)
    # Process-wide: every engine and every urllib3 pool, now and later.
    with app.app_context():
        engines = list(app.extensions["sqlalchemy"].engines.values())
    # skip_dep_check: the instrumentation declares SQLAlchemy < 2.1 (set in
    # open-telemetry/opentelemetry-python-contrib#2971, when 2.0 was the
    # newest); tests/test_traces.py proves its spans on the pinned 2.1.
    SQLAlchemyInstrumentor().instrument(
        engines=engines, tracer_provider=provider, skip_dep_check=True
    )
    URLLib3Instrumentor().instrument(tracer_provider=provider)
    return provider


def instrument(app: Flask, provider: TracerProvider) -> None:
    """A span for each of ``app``'s requests, with the request's id."""
    FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]  # unannotated upstream
        app, request_hook=tag_request, tracer_provider=provider
    )


def tag_request(span: trace.Span, environ: dict[str, object]) -> None:
    # The id plumbing/logs.py binds for the request's log lines.
    request = get_contextvars().get("request_id")
    if request is not None and span.is_recording():
        span.set_attribute("request_id", request)


@contextmanager
def job_span(name: str, job_id: str, attempt: int, context: dict[str, str]) -> Iterator[trace.Span]:
    tracer = trace.get_tracer(__name__)
    with tracer.start_as_current_span(
        f"job {name}",
        context=propagate.extract(context),
        kind=SpanKind.CONSUMER,
        attributes={"job.name": name, "job.id": job_id, "job.attempt": attempt},
    ) as span:
        yield span


def set_outcome(span: trace.Span, outcome: str) -> None:
    span.set_attribute("job.outcome", outcome)
    if outcome != "done":
        span.set_status(Status(StatusCode.ERROR))


def flush(provider: TracerProvider) -> None:
    provider.force_flush(FLUSH_MS)
