import re

import pytest

from config import (
    DEFAULT_SECRET_KEY,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    StagingConfig,
    TestingConfig,
    load_config,
    sqlalchemy_url,
)

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://u:p@db.example:5432/app",
    "SECRET_KEY": "s3cret",
    "TRUSTED_HOSTS": "myapp.herokuapp.com",
}


def test_default_is_development_on_sqlite_in_the_instance_folder():
    config = load_config({})
    assert isinstance(config, DevelopmentConfig)
    assert config.DEBUG is True
    assert config.SQLALCHEMY_DATABASE_URI == "sqlite:///development.sqlite3"


@pytest.mark.parametrize(
    "setting, cls",
    [
        ("config.DevelopmentConfig", DevelopmentConfig),
        ("config.TestingConfig", TestingConfig),
        ("config.StagingConfig", StagingConfig),
        ("config.ProductionConfig", ProductionConfig),
        ("ProductionConfig", ProductionConfig),
    ],
)
def test_app_settings_selects_the_class(setting, cls):
    assert type(load_config({"APP_SETTINGS": setting, **PRODUCTION_ENV})) is cls


def test_misspelled_app_settings_names_the_variable_and_the_valid_classes():
    with pytest.raises(ConfigError) as error:
        load_config({"APP_SETTINGS": "config.ProdConfig"})
    message = str(error.value)
    assert message.startswith("APP_SETTINGS='config.ProdConfig' is not a config class")
    assert "config.ProductionConfig" in message and "config.StagingConfig" in message


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg://u:p@host:5432/db"),
        ("postgresql://u:p@host/db", "postgresql+psycopg://u:p@host/db"),
        ("postgresql+psycopg://host/db", "postgresql+psycopg://host/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_sqlalchemy_url_points_postgresql_at_psycopg3(url, expected):
    assert sqlalchemy_url(url) == expected


def test_production_rewrites_herokus_postgres_scheme():
    config = load_config({"APP_SETTINGS": "config.ProductionConfig", **PRODUCTION_ENV})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@db.example:5432/app"


@pytest.mark.parametrize("cls", [StagingConfig, ProductionConfig])
@pytest.mark.parametrize("missing", ["DATABASE_URL", "SECRET_KEY", "TRUSTED_HOSTS"])
def test_staging_and_production_require_variable(cls, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=f"^{missing} is not set: "):
        cls(env)


def test_production_refuses_the_development_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is the development default"):
        ProductionConfig({**PRODUCTION_ENV, "SECRET_KEY": DEFAULT_SECRET_KEY})


def test_staging_is_production_without_https_redirect_and_labelled():
    staging, production = StagingConfig(PRODUCTION_ENV), ProductionConfig(PRODUCTION_ENV)
    assert (staging.DEBUG, staging.PROXY_FIX, staging.SESSION_COOKIE_SECURE) == (False, True, True)
    assert staging.ENV_NAME == "staging" and production.ENV_NAME == "production"
    assert (staging.FORCE_HTTPS, production.FORCE_HTTPS) == (False, True)


def test_postgres_engine_options_come_from_the_environment():
    options = ProductionConfig(
        {**PRODUCTION_ENV, "DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "0"}
    ).SQLALCHEMY_ENGINE_OPTIONS
    assert "pool_pre_ping" not in options  # plumbing/database.py checks without a round trip
    assert (options["pool_size"], options["max_overflow"]) == (3, 0)
    assert options["connect_args"] == {"connect_timeout": 5}


@pytest.mark.parametrize("value, expected", [("false", {"prepare_threshold": None}), ("true", {})])
def test_db_prepared_statements_false_turns_psycopgs_prepared_statements_off(value, expected):
    options = ProductionConfig(
        {**PRODUCTION_ENV, "DB_PREPARED_STATEMENTS": value}
    ).SQLALCHEMY_ENGINE_OPTIONS
    assert options["connect_args"] == {"connect_timeout": 5, **expected}


def test_sqlite_gets_no_pool_options():
    assert TestingConfig({}).SQLALCHEMY_ENGINE_OPTIONS == {}


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DB_POOL_SIZE", "five", "DB_POOL_SIZE must be a whole number, not 'five'"),
        ("DB_POOL_TIMEOUT", "soon", "DB_POOL_TIMEOUT must be a number, not 'soon'"),
        ("WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY must be at least 1, not 0"),
        ("REDIS_VERIFY_TLS", "maybe", "REDIS_VERIFY_TLS must be true or false, not 'maybe'"),
        (
            "DATABASE_URL",
            "postgres//me:pa55word@h/db",
            "DATABASE_URL must be a database URL such as postgres://user:password@host:5432/name "
            "or sqlite:///name.sqlite3, not one without a scheme",
        ),
        (
            "DATABASE_URL",
            "postgresq://me:pa55word@h/db",
            "DATABASE_URL must be a database URL such as postgres://user:password@host:5432/name "
            "or sqlite:///name.sqlite3, not one with postgresq://",
        ),
        (
            "REDIS_URL",
            "localhost:6379",
            "REDIS_URL must be a redis://, rediss:// or unix:// URL, not one without a scheme",
        ),
        (
            "DATABASE_URL",
            "postgres://me:pa55word@h:5432x/db",
            "DATABASE_URL must have a numeric port: "
            "invalid literal for int() with base 10: '5432x'",
        ),
        (
            "REDIS_URL",
            "redis://:pa55word@h:6379x/0",
            "REDIS_URL is not a URL redis-py can read: "
            "Port could not be cast to integer value as '6379x'",
        ),
    ],
)
def test_malformed_values_are_named(name, value, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        ProductionConfig({**PRODUCTION_ENV, name: value})


def test_testing_uses_test_database_url_or_memory():
    assert TestingConfig({}).SQLALCHEMY_DATABASE_URI == "sqlite://"
    url = TestingConfig({"TEST_DATABASE_URL": "postgres://h/db"}).SQLALCHEMY_DATABASE_URI
    assert url == "postgresql+psycopg://h/db"


def test_a_malformed_test_database_url_is_named():
    with pytest.raises(ConfigError, match=r"^TEST_DATABASE_URL must be a database URL "):
        TestingConfig({"TEST_DATABASE_URL": "test.sqlite3"})


@pytest.mark.parametrize("dyno", ["web.1", "release.1", "run.4242"])
def test_a_heroku_dyno_without_app_settings_refuses_to_start(dyno):
    # Falling back to development there would serve the debugger to the internet.
    with pytest.raises(ConfigError, match=r"^APP_SETTINGS is not set on this Heroku dyno: "):
        load_config({**PRODUCTION_ENV, "DYNO": dyno})


def test_trusted_hosts_is_a_comma_separated_list():
    config = ProductionConfig({**PRODUCTION_ENV, "TRUSTED_HOSTS": " a.example , .b.example,"})
    assert config.TRUSTED_HOSTS == ["a.example", ".b.example"]


def test_development_serves_this_machines_names_unless_told_otherwise():
    """Finding 12 of issue 28: a laptop's links never follow a foreign Host."""
    assert DevelopmentConfig({}).TRUSTED_HOSTS == ["localhost", "127.0.0.1"]
    assert DevelopmentConfig({"TRUSTED_HOSTS": "dev.example"}).TRUSTED_HOSTS == ["dev.example"]


@pytest.mark.parametrize("cls", [StagingConfig, ProductionConfig])
def test_staging_and_production_refuse_to_fetch_loopback(cls):
    with pytest.raises(ConfigError, match=r"^OUTBOUND_ALLOW_LOOPBACK is for development and tests"):
        cls({**PRODUCTION_ENV, "OUTBOUND_ALLOW_LOOPBACK": "true"})
    assert cls(PRODUCTION_ENV).OUTBOUND_ALLOW_LOOPBACK is False


def test_development_reaches_loopback_only_when_asked():
    assert DevelopmentConfig({}).OUTBOUND_ALLOW_LOOPBACK is False
    assert DevelopmentConfig({"OUTBOUND_ALLOW_LOOPBACK": "true"}).OUTBOUND_ALLOW_LOOPBACK is True
