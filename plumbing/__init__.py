"""The plumbing: what every app needs and nobody edits.

The worker process and its stop signals, gunicorn's request deadline,
static files, security headers and CSRF, error pages, how requests use the
database, the connection budget, and typed reads of settings. Only the
factory (web.py), the entry points (wsgi.py, manage.py, gunicorn.conf.py)
and the modules beside them at the top level import it: your packages use
``models``, ``extensions``, ``errors`` and ``config`` (a test in
tests/test_structure.py holds that).
"""
