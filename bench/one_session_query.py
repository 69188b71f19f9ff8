"""Bare Flask plus the probe query of ``GET /healthz`` (``SELECT 1``)
through a Flask-SQLAlchemy session: what the stack costs over one raw
psycopg round trip, before any of the app's own code. Not a pattern
to copy: it is here to be measured against."""

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

from config import sqlalchemy_url

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(os.environ["DATABASE_URL"])
# One round trip per read: no BEGIN, no ROLLBACK.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"isolation_level": "AUTOCOMMIT"}
db = SQLAlchemy(app)
PROBE = text("SELECT 1")


@app.get("/")
def probe():
    db.session.execute(PROBE).one()
    return {"status": "ok", "database": "ok"}
