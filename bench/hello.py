"""A bare Flask app: the framework's own ceiling on the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"hello": "world"}
