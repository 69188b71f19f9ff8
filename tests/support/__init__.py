"""What the tests share, one job per module:

- ``environment``: the environment tests and their subprocesses see;
- ``commands``: ``manage.py`` as a process, a copy of the project;
- ``processes``: processes started in a group and stopped by PID, waits
  with deadlines;
- ``http_client``: one HTTP request to a local server;
- ``servers``: private redis-server and PgBouncer processes;
- ``round_trips``: round trips to PostgreSQL, from libpq's trace;
- ``fixtures``: the pytest fixtures (the app on SQLite and PostgreSQL,
  jobs inline and through a worker, Redis), loaded as a plugin
  (pyproject.toml's addopts); docs/testing.md lists them.
# >>> accounts|example
- ``browser``: headless Chromium for the browser tests.
# <<< accounts|example
# >>> accounts
- ``users``: a verified user, a logged-in client and the outbox, a plugin
  that ``fixtures`` loads; ``mail_server`` and ``smtp_server``: the real
  SMTP server process behind the outbox.
# <<< accounts
"""
