"""manage.py and gunicorn as real processes. Nothing here names a table,
revision or route of a package: what the tests expect is derived from the
models and the migrations folder, or built in a copy of the project."""

import json
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from config import TestingConfig, sqlalchemy_url
from models import Base, db
from tests.support.commands import copy_project, head_revision, manage, ok
from tests.support.environment import PROJECT_DIR, project_env
from tests.support.http_client import request
from tests.support.processes import free_port, stop_group, wait_for_http, wait_until
from web import create_app

# A newcomer's first table, appended to models.py in a copy of the project
# (named so that it cannot clash with a table of the app's own).
PROBE_MODEL = """

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column


class MigrationProbe(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
"""


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


def model_tables() -> set[str]:
    """The tables of every model the app registers (building it imports them)."""
    create_app(TestingConfig({"TEST_DATABASE_URL": "sqlite://"}))
    return set(db.metadata.tables)


# --- The project's own migrations ------------------------------------------------


def test_upgrade_creates_every_model_table_and_downgrade_base_removes_them(empty_database):
    ok(manage("db", "upgrade", DATABASE_URL=empty_database))
    assert tables(empty_database) - {"alembic_version"} == model_tables()
    ok(manage("db", "downgrade", "base", DATABASE_URL=empty_database))
    assert tables(empty_database) - {"alembic_version"} == set()
    ok(manage("db", "upgrade", DATABASE_URL=empty_database))
    assert tables(empty_database) - {"alembic_version"} == model_tables()


def test_current_and_heads_name_the_newest_revision(empty_database):
    head = head_revision()
    ok(manage("db", "upgrade", DATABASE_URL=empty_database))
    expected = f"{head} (head)" if head else ""
    assert manage("db", "current", DATABASE_URL=empty_database).stdout.strip() == expected
    assert manage("db", "heads", DATABASE_URL=empty_database).stdout.strip() == expected


def test_models_and_migrations_agree(empty_database):
    ok(manage("db", "upgrade", DATABASE_URL=empty_database))
    check = ok(manage("db", "check", DATABASE_URL=empty_database))
    assert "No new upgrade operations detected." in check.stdout + check.stderr


# --- The README's workflow, in a copy ------------------------------------------------


def test_newcomer_workflow_add_a_table_then_a_column(empty_database, tmp_path):
    project = copy_project(tmp_path / "myapp")
    db_url = {"cwd": project, "DATABASE_URL": empty_database}
    ok(manage("db", "upgrade", **db_url))
    models = project / "models.py"
    models.write_text(models.read_text() + PROBE_MODEL)

    ok(manage("db", "migrate", "-m", "Add probe", **db_url))
    before = manage("db", "check", **db_url)
    assert before.returncode != 0
    assert "Target database is not up to date." in before.stderr
    ok(manage("db", "upgrade", **db_url))
    assert "migration_probe" in tables(empty_database)
    ok(manage("db", "check", **db_url))

    models.write_text(models.read_text() + "    title: Mapped[str | None] = mapped_column(Text)\n")
    ok(manage("db", "migrate", "-m", "Add title", **db_url))
    written = list((project / "migrations" / "versions").glob("*_add_title.py"))
    assert len(written) == 1
    assert (
        "batch_op.add_column(sa.Column('title', sa.Text(), nullable=True))"
        in written[0].read_text()
    )
    ok(manage("db", "upgrade", **db_url))
    assert "title" in columns(empty_database, "migration_probe")
    ok(manage("db", "check", **db_url))

    ok(manage("db", "downgrade", **db_url))
    assert "title" not in columns(empty_database, "migration_probe")
    ok(manage("db", "downgrade", "base", **db_url))
    assert tables(empty_database) - {"alembic_version"} == set()


def test_a_revision_writes_the_apps_column_types_as_sqlalchemy_types(empty_database, tmp_path):
    # A revision that imported models.UTCDateTime would break once the type
    # is renamed or removed; migrations/env.py renders its base type instead.
    project = copy_project(tmp_path / "myapp")
    db_url = {"cwd": project, "DATABASE_URL": empty_database}
    ok(manage("db", "upgrade", **db_url))
    models = project / "models.py"
    models.write_text(
        models.read_text()
        + PROBE_MODEL
        + "    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)\n"
    )

    ok(manage("db", "migrate", "-m", "Add probe", **db_url))
    (revision,) = (project / "migrations" / "versions").glob("*_add_probe.py")
    assert "sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True)" in (
        revision.read_text()
    )
    assert "models" not in revision.read_text()
    ok(manage("db", "upgrade", **db_url))
    assert "seen_at" in columns(empty_database, "migration_probe")


def test_migrate_without_model_changes_writes_no_revision(tmp_path):
    # In the project itself: its models and its migrations agree.
    versions = PROJECT_DIR / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    ok(manage("db", "upgrade", DATABASE_URL=url))
    try:
        result = ok(manage("db", "migrate", "-m", "nothing", DATABASE_URL=url))
    finally:
        written = set(versions.glob("*.py")) - before
        for path in written:
            path.unlink()
    assert "No changes in schema detected." in result.stderr
    assert written == set()


def test_upgrade_sql_writes_postgresql_sql_without_a_server():
    # For review before a deploy: nothing listens on port 1.
    url = "postgresql://postgres@127.0.0.1:1/production"
    result = ok(manage("db", "upgrade", "--sql", DATABASE_URL=url))
    assert "Generating static SQL" in result.stderr
    if head_revision():
        assert "CREATE TABLE alembic_version" in result.stdout
        assert f"'{head_revision()}'" in result.stdout  # INSERTed, or SET by an UPDATE


@pytest.mark.postgres
def test_concurrent_upgrades_apply_each_revision_once(postgres_url, tmp_path):
    project = copy_project(tmp_path / "myapp")
    (project / "models.py").write_text((project / "models.py").read_text() + PROBE_MODEL)
    scratch = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
    ok(manage("db", "upgrade", cwd=project, DATABASE_URL=scratch))
    ok(manage("db", "migrate", "-m", "Add probe", cwd=project, DATABASE_URL=scratch))
    head = head_revision(project)
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db", "upgrade"],
            cwd=project,
            env=project_env(DATABASE_URL=postgres_url),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert sum(len(re.findall(rf"Running upgrade .*-> {head}\b", out)) for out in outputs) == 1
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert versions == [(head,)]


# --- manage.py -------------------------------------------------------------------


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"APP_SETTINGS": "config.ProdConfig"},
            "Error: APP_SETTINGS='config.ProdConfig' is not a config class; use one of: ",
        ),
        (
            {"APP_SETTINGS": "config.ProductionConfig", "SECRET_KEY": "x"},
            "Error: DATABASE_URL is not set: ",
        ),
        (
            {"APP_SETTINGS": "config.StagingConfig", "DATABASE_URL": "postgres://h/db"},
            "Error: SECRET_KEY is not set: ",
        ),
        ({"DYNO": "run.1"}, "Error: APP_SETTINGS is not set on this Heroku dyno: "),
        (
            {"DATABASE_URL": "mysql://me:pa55word@h/db"},
            "Error: DATABASE_URL must be a database URL such as ",
        ),
        (
            {"REDIS_URL": "http://me:pa55word@h"},
            "Error: REDIS_URL must be a redis://, rediss:// or unix:// URL, not one with http://",
        ),
    ],
)
def test_configuration_errors_are_one_line_without_traceback(env, message):
    result = manage("db", "current", **env)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pa55word" not in result.stderr


def test_a_database_that_does_not_answer_is_an_error_without_traceback():
    url = f"postgres://me:pa55word@127.0.0.1:{free_port()}/nothing"
    result = manage("db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the database failed: connection failed: ")
    assert "Traceback" not in result.stderr
    assert "pa55word" not in result.stderr


def test_help_lists_one_way_to_run_the_server_and_renders_cleanly():
    result = ok(manage("--help"))
    commands = re.findall(r"^  (\w+)", result.stdout.split("Commands:")[1], re.MULTILINE)
    template = {"db", "routes", "runserver", "shell", "worker"}
    assert template <= set(commands) and "run" not in commands
    # Beyond them, only what installed libraries add (a flask.commands entry point).
    plugins = {entry.name for entry in entry_points(group="flask.commands")}
    assert set(commands) - template <= plugins
    assert "``" not in result.stdout


def test_dotenv_file_is_read(tmp_path):
    project = copy_project(tmp_path / "myapp")
    database = tmp_path / "from-dotenv.sqlite3"
    (project / ".env").write_text(f"export DATABASE_URL=sqlite:///{database}\n")
    ok(manage("db", "upgrade", cwd=project, FLASK_SKIP_DOTENV=None))
    assert database.exists()


def test_shell_preloads_db_and_every_model(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    ok(manage("db", "upgrade", DATABASE_URL=url))
    script = "print(type(db).__name__, sorted(n for n in dir() if n[:1].isupper()))\n"
    result = manage("shell", input=script, DATABASE_URL=url)
    model_tables()  # imports every model
    models = sorted(mapper.class_.__name__ for mapper in Base.registry.mappers)
    assert f"SQLAlchemy {models}" in result.stdout


def test_routes_lists_healthz():
    result = ok(manage("routes"))
    assert re.search(r"^healthz\s+GET\s+/healthz\s*$", result.stdout, re.MULTILINE)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "runserver"],
        ["make", "--no-print-directory", "run", f"VENV={sys.prefix}"],
    ],
    ids=["manage.py runserver", "make run"],
)
def test_development_server_runs_with_debugger_and_reloader(command, tmp_path):
    # make run migrates the project's own SQLite file: it runs in a copy.
    # manage.py runserver runs in the project, on a database of the test's.
    make_run = command[0] == "make"
    project = copy_project(tmp_path / "myapp") if make_run else PROJECT_DIR
    database = project / "instance" / "development.sqlite3" if make_run else tmp_path / "dev.db"
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        # Stopped by PID (stop_group), not by Ctrl-C's SIGINT, which a
        # shell's background job ignores.
        server = subprocess.Popen(
            command,
            cwd=project,
            env=project_env(
                PORT=str(port), **({} if make_run else {"DATABASE_URL": f"sqlite:///{database}"})
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(
                lambda: "Debugger is active!" in log_path.read_text() or server.poll() is not None,
                timeout=60,
                what="the development server's debugger",
            )
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
            status, _, body = request(f"http://127.0.0.1:{port}/healthz")
        finally:
            stop_group(server)
    output = log_path.read_text()
    assert "Debug mode: on" in output
    assert "Restarting with stat" in output  # the reloader
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    # Development's default database: SQLite in the project's instance folder.
    assert database.exists()


# --- gunicorn ----------------------------------------------------------------------


def test_gunicorn_serves_the_app_on_port(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    ok(manage("db", "upgrade", DATABASE_URL=url))
    port = free_port()
    server = subprocess.Popen(
        ["gunicorn", "wsgi:app"],
        cwd=PROJECT_DIR,
        env=project_env(DATABASE_URL=url, PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
        assert request(f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0
    assert f"Listening at: http://[::]:{port}" in output
    assert "method=GET path=/healthz status=200" in output


def test_gunicorn_stops_at_once_on_a_configuration_error():
    result = subprocess.run(
        ["gunicorn", "wsgi:app"],
        cwd=PROJECT_DIR,
        timeout=30,
        env=project_env(APP_SETTINGS="config.ProductionConfig", PORT=str(free_port())),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Error: SECRET_KEY is not set: " in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("PORT", "http", "Error: PORT must be a whole number, not 'http'"),
        ("WEB_CONCURRENCY", "0", "Error: WEB_CONCURRENCY must be at least 1, not 0"),
        ("GUNICORN_THREADS", "0", "Error: GUNICORN_THREADS must be at least 1, not 0"),
        ("GUNICORN_REQUEST_TIMEOUT", "0", "Error: GUNICORN_REQUEST_TIMEOUT must be above 0, not 0"),
        (
            "GUNICORN_REQUEST_TIMEOUT",
            "soon",
            "Error: GUNICORN_REQUEST_TIMEOUT must be a number, not 'soon'",
        ),
    ],
)
def test_gunicorn_names_a_bad_setting_of_its_own(setting, value, message):
    result = subprocess.run(
        ["gunicorn", "wsgi:app"],
        cwd=PROJECT_DIR,
        timeout=30,
        env=project_env(**{"PORT": str(free_port()), setting: value}),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == message


def test_runserver_names_a_bad_port():
    result = manage("runserver", PORT="http")
    assert result.returncode == 2
    assert "Invalid value for '--port' / '-p': 'http' is not a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrations_folder_survives_an_empty_history():
    # git keeps no empty folder: without this file, a fork whose history is
    # empty (no package shipped a revision) would have no migrations/versions to write to.
    assert Path(PROJECT_DIR, "migrations", "versions", ".gitkeep").exists()


def test_a_developers_dotenv_and_exported_settings_change_no_test(tmp_path):
    # The README's Local PostgreSQL step puts DATABASE_URL in .env; a shell may
    # export anything. Here both point at settings that would break every test.
    project = copy_project(tmp_path / "myapp")
    hostile = {
        "APP_SETTINGS": "config.ProductionConfig",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
        "FLASK_DEBUG": "1",
    }
    (project / ".env").write_text("".join(f"export {k}={v}\n" for k, v in hostile.items()))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_config.py",
            "tests/test_web.py",
        ],
        cwd=project,
        env={**project_env(FLASK_SKIP_DOTENV=None), **hostile},
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


SHELVES_MODELS = """

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class ProbeShelf(db.Model):
    # Names no project's own table is likely to have: this runs in forks too.
    __tablename__ = "probe_shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80){unique})


class ProbeBook(db.Model):
    __tablename__ = "probe_books"
    __table_args__ = ({check})
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(Integer{foreign_key})
    title: Mapped[str] = mapped_column(String(200){index})
    pages: Mapped[int]
"""
WITH_CONSTRAINTS = {
    "unique": ", unique=True",
    "check": 'CheckConstraint("pages > 0", name="positive_pages"),',
    "foreign_key": ', ForeignKey("probe_shelves.id")',
    "index": ", index=True",
}
# Alembic's autogenerate compares no CHECK constraints: their revisions are
# written by hand (docs/migrations: "week-one traps").
DROP_CHECK = """    with op.batch_alter_table('probe_books', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_probe_books_positive_pages'), type_='check')
"""
ADD_CHECK = """    with op.batch_alter_table('probe_books', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_probe_books_positive_pages'), 'pages > 0')
"""


def constraint_names(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        found = inspect(engine)
        reflected = [
            *found.get_unique_constraints("probe_shelves"),
            *found.get_foreign_keys("probe_books"),
            *found.get_indexes("probe_books"),
            *found.get_check_constraints("probe_books"),
        ]
        return {c["name"] for c in reflected if c["name"] is not None}
    finally:
        engine.dispose()


def test_dropping_each_kind_of_constraint_round_trips(empty_database, tmp_path):
    # The naming convention (models.py) names every constraint the same way on
    # SQLite and PostgreSQL, so a revision written on one runs on the other.
    project = copy_project(tmp_path / "myapp")
    db_url = {"cwd": project, "DATABASE_URL": empty_database}
    models = project / "models.py"
    template = models.read_text()
    models.write_text(template + SHELVES_MODELS.format(**WITH_CONSTRAINTS))
    ok(manage("db", "upgrade", **db_url))
    ok(manage("db", "migrate", "-m", "Add shelves", **db_url))
    ok(manage("db", "upgrade", **db_url))
    named = {
        "uq_probe_shelves_name",
        "ck_probe_books_positive_pages",
        "fk_probe_books_shelf_id_probe_shelves",
        "ix_probe_books_title",
    }
    assert constraint_names(empty_database) == named

    models.write_text(template + SHELVES_MODELS.format(**dict.fromkeys(WITH_CONSTRAINTS, "")))
    ok(manage("db", "migrate", "-m", "Drop constraints", **db_url))
    (revision,) = (project / "migrations" / "versions").glob("*_drop_constraints.py")
    text = revision.read_text()
    for name in named - {"ck_probe_books_positive_pages"}:
        assert f"op.f('{name}')" in text, name  # found by autogenerate, by name
    text = text.replace("def upgrade():\n", "def upgrade():\n" + DROP_CHECK, 1)
    revision.write_text(text.replace("def downgrade():\n", "def downgrade():\n" + ADD_CHECK, 1))
    ok(manage("db", "upgrade", **db_url))
    assert constraint_names(empty_database) == set()
    ok(manage("db", "check", **db_url))
    ok(manage("db", "downgrade", **db_url))
    assert constraint_names(empty_database) == named
    ok(manage("db", "upgrade", **db_url))
    assert constraint_names(empty_database) == set()


@pytest.mark.parametrize("moved", [True, False], ids=["moved", "in place"])
def test_make_starts_afresh_a_virtualenv_made_in_another_folder(moved, tmp_path):
    # A virtualenv's scripts name the folder it was made in: after the
    # project folder is renamed they point at nothing.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    made_in = tmp_path / "old-name" / "venv" if moved else venv
    (venv / "bin" / "pip").write_text(f"#!{made_in}/bin/python\n")
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint", f"VENV={venv}"],
        cwd=PROJECT_DIR,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ("was made in another folder; making it again" in result.stdout) is moved
    assert venv.exists() is not moved


@pytest.mark.parametrize("uv", [True, False], ids=["uv on PATH", "pip alone"])
def test_make_installs_with_uv_when_it_is_there_and_pip_otherwise(uv, tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    if uv:
        (tools / "uv").write_text("#!/bin/sh\n")
        (tools / "uv").chmod(0o755)
    path = f"{tools}:/usr/bin:/bin"  # no other uv
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", f"{tmp_path}/venv/.dev", f"VENV={tmp_path}/venv"],
        cwd=PROJECT_DIR,
        env=project_env(PATH=path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    install = next(line for line in result.stdout.splitlines() if "-r requirements-dev.txt" in line)
    expected = f"{tools}/uv pip install" if uv else "-m pip install"
    assert expected in install, result.stdout
