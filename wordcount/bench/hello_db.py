"""Bare Flask plus the same read as ``GET /api/counts/<id>``, in one raw
psycopg round trip (autocommit, no ORM, no pool, no ping): the ceiling of
any app that reads its database once per request, on the same gunicorn
settings. Not a pattern to copy: it is here to be measured against."""

import os
import threading

import psycopg
from flask import Flask

app = Flask(__name__)
connections = threading.local()  # one connection per gunicorn thread
DATABASE_URL = os.environ["DATABASE_URL"]
RESULT_BY_ID = """
    SELECT id, url, status, created_at, finished_at, total_words, unique_words,
           jsonb_path_query_array(words, '$[0 to 9]'),
           jsonb_path_query_array(all_words, '$[0 to 9]')
    FROM counts WHERE id = %s
"""


NAMES = (
    "id",
    "url",
    "status",
    "created_at",
    "finished_at",
    "total_words",
    "unique_words",
    "top_words",
    "top_all_words",
)


@app.get("/<int:count_id>")
def result(count_id: int):
    if not hasattr(connections, "db"):
        connections.db = psycopg.connect(DATABASE_URL, autocommit=True)
    return result_body(connections.db.execute(RESULT_BY_ID, (count_id,)).fetchone())


def result_body(row) -> dict:
    body = dict(zip(NAMES, row, strict=True))
    body["created_at"] = body["created_at"].isoformat()
    body["finished_at"] = body["finished_at"].isoformat()
    for key in ("top_words", "top_all_words"):
        body[key] = [{"word": word, "count": count} for word, count in body[key]]
    return body
