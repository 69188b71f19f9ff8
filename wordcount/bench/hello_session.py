"""Bare Flask plus the same read as ``GET /api/counts/<id>`` through a
Flask-SQLAlchemy session, the raw query's SQL as ``text()``: what the stack
costs over one raw psycopg round trip, before any of the app's own code
(security headers, CSRF, error handling, the example's query building).
Not a pattern to copy: it is here to be measured against."""

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

from config import sqlalchemy_url
from wordcount.bench.hello_db import RESULT_BY_ID, result_body

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(os.environ["DATABASE_URL"])
# One round trip per read, as the app's reads: no BEGIN, no ROLLBACK.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"isolation_level": "AUTOCOMMIT"}
db = SQLAlchemy(app)
QUERY = text(RESULT_BY_ID.replace("%s", ":count_id"))


@app.get("/<int:count_id>")
def result(count_id: int):
    return result_body(db.session.execute(QUERY, {"count_id": count_id}).one())
