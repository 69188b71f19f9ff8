"""Traces (plumbing/traces.py), sent to a small OTLP/HTTP collector on
loopback that decodes what it receives with the opentelemetry-proto classes:
a request, its SQL, the job it submitted (inline, or through a worker
process) and the job's outbound call and SQL form one trace."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.support.commands import run_app
from tests.support.http_client import request
from tests.support.processes import Dyno, wait_for_http, wait_until
from tests.test_heroku import web_dyno

SECRET = "never-in-a-span"
SERVER, CLIENT, CONSUMER = 2, 3, 5  # opentelemetry-proto's Span.SpanKind

# The dyno's app, plus a page that queries and submits a job that fetches.
TRACED_APP = """
from sqlalchemy import text
from extensions import jobs
from models import db
from tests import job_probe
from tests.support.loopback_app import create

app = create()

def traced():
    db.session.execute(text("SELECT 1"))
    jobs.submit(job_probe.fetch_and_query, "{page}")
    return {{"submitted": True}}

app.add_url_rule("/traced", "traced", traced)
"""


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    attributes: dict[str, object]
    service: str


class Collector(BaseHTTPRequestHandler):
    spans: ClassVar[list[ReceivedSpan]] = []
    paths: ClassVar[list[str]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.paths.append(self.path)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(received(span, resource) for span in scope_spans.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def received(span, resource: dict[str, str]) -> ReceivedSpan:
    attributes = {}
    for attribute in span.attributes:
        value = attribute.value
        attributes[attribute.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return ReceivedSpan(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        kind=span.kind,
        attributes=attributes,
        service=resource.get("service.name", ""),
    )


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.spans, Collector.paths = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def one_trace(page: str) -> list[ReceivedSpan]:
    """The spans of the trace whose job fetched ``page``, once all came."""

    def job_spans() -> list[ReceivedSpan]:
        return [span for span in Collector.spans if span.name.startswith("job ")]

    def complete() -> bool:
        jobs = job_spans()
        if not jobs:
            return False
        trace = [span for span in Collector.spans if span.trace_id == jobs[0].trace_id]
        return any(str(span.attributes.get("http.url")).startswith(page) for span in trace) and any(
            span.kind == SERVER for span in trace
        )

    wait_until(complete, timeout=30, what="the request's, the job's and the fetch's spans")
    trace_id = job_spans()[0].trace_id
    return [span for span in Collector.spans if span.trace_id == trace_id]


def children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [span for span in spans if span.parent_id == parent.span_id]


def traced_dyno(tmp_path, collector: str, page: str, database: str, **env: str):
    """A web dyno whose /traced page queries and submits a fetch of ``page``."""
    code = TRACED_APP.format(page=page)
    settings = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_BSP_SCHEDULE_DELAY": "100", **env}
    dyno, url = web_dyno(tmp_path, "web.1", database, code, **settings)
    wait_for_http(url + "/healthz", process=dyno.process)
    return dyno, url


def request_traced(dyno, url: str, page: str, *others: Dyno) -> None:
    """GET the dyno's /traced, check the trace it makes, stop the dyno. A
    trace that never completes fails with the spans that came and the logs
    of the dyno and of ``others`` (a worker)."""
    try:
        status, _, _ = request(f"{url}/traced?token={SECRET}", headers={"X-Request-ID": "router-7"})
        assert status == 200
        try:
            spans = one_trace(page)
        except AssertionError as error:
            came = [(span.name, span.kind) for span in Collector.spans]
            logs = "".join(f"\n--- {each.log_path.name}\n{each.output}" for each in (dyno, *others))
            raise AssertionError(f"{error}; spans: {came}{logs}") from None
        assert_one_trace(spans, page)
    finally:
        assert dyno.stop() == 0


def assert_one_trace(spans: list[ReceivedSpan], page: str) -> None:
    """The request's span, with its SQL and the job's span under it, and the
    job's fetch and SQL under the job's; no query string anywhere."""
    for s in spans:
        print("SPAN", s.name, s.kind, s.span_id, s.parent_id, s.attributes)
    [served] = [span for span in spans if span.kind == SERVER]
    [job] = [span for span in spans if span.name == "job tests.job_probe.fetch_and_query"]
    assert served.name == "GET /traced"
    assert served.attributes["request_id"] == "router-7"
    assert job.parent_id == served.span_id
    assert job.kind == CONSUMER and job.attributes["job.outcome"] == "done"
    assert any("SELECT 1" in str(span.attributes) for span in children(spans, served))
    fetched = [
        span
        for span in children(spans, job)
        if span.kind == CLIENT and "http.url" in span.attributes
    ]
    assert [span.attributes["http.url"] for span in fetched] == [page]
    assert any("SELECT 1" in str(span.attributes) for span in children(spans, job))
    assert SECRET not in str(Collector.spans) and set(Collector.paths) == {"/v1/traces"}


def test_an_inline_job_joins_the_trace_of_the_request_that_submitted_it(
    collector, local_site, tmp_path
):
    page = local_site.add("/page", "<p>words</p>")
    sqlite = f"sqlite:///{tmp_path / 'app.db'}"
    settings = {"APP_SETTINGS": "config.TestingConfig", "TEST_DATABASE_URL": sqlite}
    dyno, url = traced_dyno(tmp_path, collector, f"{page}?key={SECRET}", sqlite, **settings)
    request_traced(dyno, url, page)


@pytest.mark.postgres
def test_a_workers_job_joins_the_trace_of_the_request_that_submitted_it(
    collector, local_site, tmp_path, postgres_database, redis_url, start_worker
):
    page = local_site.add("/page", "<p>words</p>")
    worker = start_worker(OTEL_EXPORTER_OTLP_ENDPOINT=collector, OTEL_BSP_SCHEDULE_DELAY="100")
    dyno, url = traced_dyno(
        tmp_path, collector, f"{page}?key={SECRET}", postgres_database, REDIS_URL=redis_url
    )
    request_traced(dyno, url, page, worker)


def test_without_an_endpoint_the_sdk_and_instrumentations_are_not_imported():
    # redis-py imports OpenTelemetry's metrics SDK whenever it is installed
    # (requirements-traces.txt says why that is not by default): not this.
    ours = ("opentelemetry.sdk.trace", "opentelemetry.instrumentation", "opentelemetry.exporter")
    listed = f"[m for m in sys.modules if m.startswith({ours})]"
    code = f"import sys, web; web.create_app(); print({listed})"
    result = run_app(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_an_endpoint_without_opentelemetry_installed_is_named_at_start():
    # As if requirements-traces.txt were not installed.
    code = "import sys; sys.modules['opentelemetry'] = None; import web; web.create_app_or_exit()"
    result = run_app(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: OTEL_EXPORTER_OTLP_ENDPOINT is set, but opentelemetry is not installed:"
        " add -r requirements-traces.txt to requirements.txt (docs/observability.md)"
    )
