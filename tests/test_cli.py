import json
import re
import signal
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect, text

from config import sqlalchemy_url
from tests.helpers import (
    PROJECT_DIR,
    copy_project,
    free_port,
    manage,
    project_env,
    request,
    wait_for_http,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_from_empty(empty_database):
    assert manage("db", "upgrade", DATABASE_URL=empty_database).returncode == 0
    assert tables(empty_database) == {"alembic_version", "results"}
    current = manage("db", "current", DATABASE_URL=empty_database)
    assert current.stdout.strip() == "0001 (head)"
    assert manage("db", "downgrade", "base", DATABASE_URL=empty_database).returncode == 0
    assert tables(empty_database) == {"alembic_version"}
    assert manage("db", "upgrade", DATABASE_URL=empty_database).returncode == 0
    assert tables(empty_database) == {"alembic_version", "results"}


def test_db_check_finds_no_drift_between_models_and_migrations(empty_database):
    before = manage("db", "check", DATABASE_URL=empty_database)
    assert before.returncode != 0
    assert "Target database is not up to date." in before.stderr
    manage("db", "upgrade", DATABASE_URL=empty_database)
    after = manage("db", "check", DATABASE_URL=empty_database)
    assert after.returncode == 0, after.stderr
    assert "No new upgrade operations detected." in after.stdout + after.stderr


def test_history_and_heads(empty_database):
    history = manage("db", "history", DATABASE_URL=empty_database)
    assert history.stdout.strip() == "<base> -> 0001 (head), Create the results table."
    assert manage("db", "heads", DATABASE_URL=empty_database).stdout.strip() == "0001 (head)"


def test_results_columns_are_jsonb_on_postgresql(postgres_url):
    manage("db", "upgrade", DATABASE_URL=postgres_url)
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        types = dict(connection.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'results'")).all())
    engine.dispose()
    assert types["result_all"] == types["result_no_stop_words"] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"


def test_newcomer_workflow_add_a_column_migrate_upgrade_downgrade(empty_database, tmp_path):
    project = copy_project(tmp_path / "myapp")
    assert manage("db", "upgrade", cwd=project, DATABASE_URL=empty_database).returncode == 0
    models = project / "models.py"
    models.write_text(models.read_text().replace(
        "    result_no_stop_words: Mapped[list] = mapped_column(JSONDocument)\n",
        "    result_no_stop_words: Mapped[list] = mapped_column(JSONDocument)\n"
        "    title: Mapped[str | None] = mapped_column(Text)\n"))

    migrate = manage("db", "migrate", "-m", "Add title", cwd=project,
                     DATABASE_URL=empty_database)
    assert migrate.returncode == 0, migrate.stderr
    written = [p.name for p in (project / "migrations" / "versions").glob("*add_title.py")]
    assert len(written) == 1
    revision = (project / "migrations" / "versions" / written[0]).read_text()
    assert "batch_op.add_column(sa.Column('title', sa.Text(), nullable=True))" in revision

    assert manage("db", "upgrade", cwd=project, DATABASE_URL=empty_database).returncode == 0
    assert "title" in columns(empty_database, "results")
    assert manage("db", "check", cwd=project, DATABASE_URL=empty_database).returncode == 0
    assert manage("db", "downgrade", cwd=project, DATABASE_URL=empty_database).returncode == 0
    assert "title" not in columns(empty_database, "results")


def test_migrate_without_model_changes_writes_no_revision(tmp_path):
    project = copy_project(tmp_path / "myapp")
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    manage("db", "upgrade", cwd=project, DATABASE_URL=url)
    result = manage("db", "migrate", "-m", "nothing", cwd=project, DATABASE_URL=url)
    assert result.returncode == 0
    assert "No changes in schema detected." in result.stderr
    assert [p.name for p in (project / "migrations" / "versions").glob("*.py")] == [
        "0001_create_results_table.py"]


@pytest.mark.postgres
def test_concurrent_upgrades_apply_each_revision_once(postgres_url):
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "db", "upgrade"], cwd=PROJECT_DIR,
                         env=project_env(DATABASE_URL=postgres_url), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert sum(out.count("Running upgrade  -> 0001") for out in outputs) == 1
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [("0001",)]


# --- manage.py -------------------------------------------------------------------

@pytest.mark.parametrize("env, message", [
    ({"APP_SETTINGS": "config.ProdConfig"},
     "Error: APP_SETTINGS='config.ProdConfig' is not a config class; use one of: "),
    ({"APP_SETTINGS": "config.ProductionConfig", "SECRET_KEY": "x"},
     "Error: DATABASE_URL is not set: "),
    ({"APP_SETTINGS": "config.StagingConfig", "DATABASE_URL": "postgres://h/db"},
     "Error: SECRET_KEY is not set: "),
])
def test_configuration_errors_are_one_line_without_traceback(env, message):
    result = manage("db", "current", **env)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_lists_the_commands():
    result = manage("--help")
    assert result.returncode == 0
    for command in ("db", "runserver", "shell", "routes"):
        assert re.search(rf"^  {command}\b", result.stdout, re.MULTILINE)


def test_dotenv_file_is_read(tmp_path):
    project = copy_project(tmp_path / "myapp")
    database = tmp_path / "from-dotenv.sqlite3"
    (project / ".env").write_text(f"export DATABASE_URL=sqlite:///{database}\n")
    assert manage("db", "upgrade", cwd=project).returncode == 0
    assert database.exists()


def test_shell_preloads_db_and_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    manage("db", "upgrade", DATABASE_URL=url)
    result = manage("shell", input="print(type(db).__name__, Result.__tablename__)\n",
                    DATABASE_URL=url)
    assert "SQLAlchemy results" in result.stdout


def test_routes_lists_the_api():
    result = manage("routes")
    assert re.search(r"wordcount_api\.create_count\s+POST\s+/api/counts", result.stdout)


def test_runserver_serves_on_port(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    manage("db", "upgrade", DATABASE_URL=url)
    port = free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver"], cwd=PROJECT_DIR,
                              env=project_env(DATABASE_URL=url, PORT=str(port)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
        status, _, body = request(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


# --- gunicorn ----------------------------------------------------------------------

def test_gunicorn_serves_the_app_on_port(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    manage("db", "upgrade", DATABASE_URL=url)
    port = free_port()
    server = subprocess.Popen(["gunicorn", "web:app"], cwd=PROJECT_DIR,
                              env=project_env(DATABASE_URL=url, PORT=str(port)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
        assert request(f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0
    assert f"Listening at: http://0.0.0.0:{port}" in output
    assert "GET /healthz HTTP/1.1\" 200" in output


def test_gunicorn_stops_at_once_on_a_configuration_error():
    result = subprocess.run(["gunicorn", "web:app"], cwd=PROJECT_DIR, timeout=30,
                            env=project_env(APP_SETTINGS="config.ProductionConfig",
                                            PORT=str(free_port())),
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "Error: SECRET_KEY is not set: " in result.stderr
    assert "Traceback" not in result.stderr
