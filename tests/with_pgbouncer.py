"""Run a command with the tests' PostgreSQL behind PgBouncer in transaction
mode, as an app that outgrew its connections runs (``make test-pgbouncer``):

    python -m tests.with_pgbouncer python -m pytest -m postgres

TEST_DATABASE_URL points at PgBouncer, and TEST_DB_PREPARED_STATEMENTS=false
gives every app the tests build DB_PREPARED_STATEMENTS=false, as README's
PgBouncer section asks.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.servers import PgBouncer


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    server = urlsplit(
        os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as folder:
        bouncer = PgBouncer(Path(folder), server.hostname or "127.0.0.1", server.port or 5432)
        bouncer.start()
        try:
            env = {
                **os.environ,
                "TEST_DATABASE_URL": bouncer.url(),
                "TEST_DB_PREPARED_STATEMENTS": "false",
            }
            print(
                f"with_pgbouncer: TEST_DATABASE_URL={bouncer.url()} (transaction mode)", flush=True
            )
            return subprocess.run(sys.argv[1:], env=env).returncode
        finally:
            bouncer.stop()


if __name__ == "__main__":
    sys.exit(main())
