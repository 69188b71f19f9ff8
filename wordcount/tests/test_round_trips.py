"""Round trips to PostgreSQL per request, counted at the protocol level
(tests/support/round_trips.py): the budgets README's "Round trips"
table gives, exactly."""

import pytest

from models import db, utc_now
from tests.support.round_trips import RoundTrips
from wordcount.models import Count

pytestmark = pytest.mark.postgres
on_postgresql = pytest.mark.parametrize("app", ["postgresql"], indirect=True)

PAGE = "<p>The cat and the dog. The cat sat.</p>"


@pytest.fixture
def count_id(app) -> int:
    with app.app_context():
        row = Count(
            url="http://a.example/",
            requested_url="http://a.example/",
            status="done",
            finished_at=utc_now(),
            total_words=2,
            unique_words=1,
            all_words=[["cat", 2]],
            words=[["cat", 2]],
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@on_postgresql
@pytest.mark.parametrize(
    "path", ["/api/counts/{id}", "/api/counts", "/counts/{id}", "/history", "/", "/healthz"]
)
def test_a_read_is_one_round_trip(client, round_trips, count_id, path):
    url = path.format(id=count_id)
    client.get(url)  # the pool's first connection: its start-up is not counted
    assert round_trips.of(lambda: client.get(url)) == 1


@on_postgresql
def test_an_inline_post_is_six_round_trips(client, round_trips, local_site):
    url = local_site.add("/cats", PAGE)
    client.get("/healthz")
    statuses = []

    def post():
        statuses.append(client.post("/api/counts", json={"url": url}).status_code)

    # BEGIN, INSERT ... RETURNING, COMMIT; the job's claim and its outcome,
    # one autocommit UPDATE each; the result, read back for the response.
    assert round_trips.of(post) == 6
    assert statuses == [201]


@pytest.fixture
def queue_round_trips(queue_app, tmp_path):
    with queue_app.app_context():
        counter = RoundTrips(db.engine, tmp_path)
    yield counter
    counter.close()


def test_a_queued_post_is_three_round_trips(queue_client, queue_round_trips, local_site):
    url = local_site.add("/cats", PAGE)
    queue_client.get("/healthz")

    def post():
        queue_client.post("/api/counts", json={"url": url})

    def keyed():
        queue_client.post("/api/counts", json={"url": url}, headers={"Idempotency-Key": "k1"})

    assert queue_round_trips.of(post) == 3  # BEGIN, INSERT ... RETURNING, COMMIT
    assert queue_round_trips.of(keyed) == 4  # and the SELECT by key, alone
    # A replay: the SELECT by key, then the count read afresh, each alone.
    assert queue_round_trips.of(keyed) == 2


def test_a_job_status_read_is_one_round_trip(queue_client, queue_round_trips, local_site):
    location = queue_client.post("/api/counts", json={"url": local_site.add("/a", PAGE)}).headers[
        "Location"
    ]
    assert queue_round_trips.of(lambda: queue_client.get(location)) == 1
