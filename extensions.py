"""The extension objects your code uses, created once here and bound to
the app in ``create_app()`` (web.py). ``db`` lives in models.py, beside
the tables.

- ``jobs``: background jobs. ``jobs.submit(func, *args, timeout=...,
  retry=..., on_failure=...)`` queues a call for the worker, or runs it at
  once without REDIS_URL (docs/jobs.md).
- ``csrf``: every form post needs its token. An API that takes no cookies
  exempts its blueprint: ``csrf.exempt(api)``.
- ``migrate``: Flask-Migrate, behind ``python manage.py db``.
"""

from pathlib import Path

from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from plumbing.jobs import Jobs

jobs = Jobs()
csrf = CSRFProtect()
# Batch mode lets the same revision ALTER tables on SQLite and PostgreSQL.
migrate = Migrate(
    directory=str(Path(__file__).with_name("migrations")), render_as_batch=True, compare_type=True
)
