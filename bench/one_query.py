"""Bare Flask plus the probe query of ``GET /healthz`` (``SELECT 1``) in one
raw psycopg round trip (autocommit, no ORM, no pool, no ping), answering
the same JSON: the ceiling of any app that asks its database once per
request, on the same gunicorn settings. Not a pattern to copy: it is here
to be measured against."""

import os
import threading

import psycopg
from flask import Flask

app = Flask(__name__)
connections = threading.local()  # one connection per gunicorn thread
DATABASE_URL = os.environ["DATABASE_URL"]


@app.get("/")
def probe():
    if not hasattr(connections, "db"):
        connections.db = psycopg.connect(DATABASE_URL, autocommit=True)
    connections.db.execute("SELECT 1").fetchone()
    return {"status": "ok", "database": "ok"}
