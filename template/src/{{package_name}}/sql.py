"""Read the training table from a database (params.yaml data.source: sql).

The database URL is a secret: it comes from an environment variable whose
NAME params.yaml holds (data.url_env), and it never appears in messages,
logs or MLflow. The PostgreSQL driver comes with the project's `sql` extra
and its dev dependencies, which the serving image leaves out.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy
from sqlalchemy.exc import (
    ArgumentError,
    NoSuchModuleError,
    ResourceClosedError,
    SQLAlchemyError,
)

from .errors import ProjectError

URL_EXAMPLE = "postgresql+psycopg://user:password@host:5432/database"

# The package to install when SQLAlchemy cannot import a URL's driver module.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pymysql": "pymysql",
    "MySQLdb": "mysqlclient",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
}


def query_text(query: str | None = None, query_file: str | Path | None = None) -> str:
    """The SQL to run: given inline, or read from a file (exactly one of them)."""
    if (query is None) == (query_file is None):
        raise ProjectError("give either a query or a query file, not both or neither")
    if query_file is not None:
        path = Path(query_file)
        if not path.is_file():
            raise ProjectError(f"{path}: query file not found")
        query = path.read_text()
    assert query is not None  # one of the two, checked above
    if not query.strip():
        where = f"{query_file}: " if query_file else ""
        raise ProjectError(f"{where}the query is empty")
    return query


def read_query(query: str, url_env: str) -> pd.DataFrame:
    """Run a SELECT on the database whose SQLAlchemy URL is in $url_env."""
    url = _url(url_env)
    engine = _engine(url, url_env)
    try:
        return _select(engine, query, url_env)
    finally:
        engine.dispose()


def _url(url_env: str) -> sqlalchemy.URL:
    text = os.environ.get(url_env, "").strip()
    if not text:
        raise ProjectError(
            f"environment variable {url_env} is not set: set it to the database's "
            f"SQLAlchemy URL, e.g. {url_env}={URL_EXAMPLE} (params.yaml data.url_env "
            "names the variable)"
        )
    try:
        return sqlalchemy.make_url(text)
    except (ArgumentError, ValueError):
        # `from None`: the parser's own message quotes the URL, password and all.
        raise ProjectError(
            f"environment variable {url_env} does not hold a SQLAlchemy URL "
            f"(expected the form {URL_EXAMPLE})"
        ) from None


def _engine(url: sqlalchemy.URL, url_env: str) -> sqlalchemy.Engine:
    try:
        return sqlalchemy.create_engine(url)
    except NoSuchModuleError:
        raise ProjectError(
            f"{url_env}: SQLAlchemy knows no database driver {url.drivername!r} "
            "(e.g. postgresql+psycopg, sqlite)"
        ) from None
    except (ArgumentError, ValueError, TypeError):
        # e.g. a SQLite URL with a host, or `?timeout=abc`. Not the error's own
        # words: they quote the URL, query string (and any password) included.
        shown = url.set(query={}).render_as_string(hide_password=True)
        raise ProjectError(
            f"{url_env}: SQLAlchemy cannot use this URL ({shown}, query string "
            "not shown): check its form, host and query options"
        ) from None
    except ImportError as error:
        package = DRIVER_PACKAGES.get(error.name or "", error.name)
        raise ProjectError(
            f"{url_env}: the driver for {url.drivername} is not installed: "
            f"install the package {package} (e.g. `uv add '{package}'`)"
        ) from None


def query_chunks(query: str, url_env: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Run a SELECT and yield its rows `chunk_rows` at a time, through a
    server-side cursor where the driver has one (PostgreSQL): a result larger
    than memory is never held whole (the `score` command)."""
    database = database_engine(url_env)
    password = database.url.password
    try:
        with connect(database, url_env) as connection:
            streaming = connection.execution_options(
                no_parameters=True, postgresql_readonly=True, stream_results=True
            )
            with _query_errors(password):
                yield from pd.read_sql_query(query, streaming, chunksize=chunk_rows)
    finally:
        database.dispose()


def database_engine(url_env: str) -> sqlalchemy.Engine:
    """An engine for the database whose SQLAlchemy URL is in $url_env."""
    return _engine(_url(url_env), url_env)


def connect(engine: sqlalchemy.Engine, url_env: str) -> sqlalchemy.Connection:
    try:
        return engine.connect()
    except SQLAlchemyError as error:
        # Without its query string either: some drivers take a password there.
        shown = engine.url.set(query={}).render_as_string(hide_password=True)
        raise ProjectError(
            f"cannot connect to the database in {url_env} ({shown}): "
            f"{_one_line(_driver_error(error), engine.url.password)}"
        ) from None


@contextlib.contextmanager
def _query_errors(password: str | None) -> Iterator[None]:
    """A failed query as one line, without the password, for both the whole
    read (prepare) and the chunked one (score)."""
    try:
        yield
    except ResourceClosedError:
        raise ProjectError(
            "the query returns no table of rows: it must be a SELECT"
        ) from None
    except (SQLAlchemyError, pd.errors.DatabaseError) as error:
        raise ProjectError(
            "the query failed in the database: "
            f"{_one_line(_driver_error(error), password)}"
        ) from None


def _select(engine: sqlalchemy.Engine, query: str, url_env: str) -> pd.DataFrame:
    password = engine.url.password
    connection = connect(engine, url_env)
    # Closed without a commit, and read-only on PostgreSQL. Other databases
    # may still apply a statement that is not a SELECT (SQLite and MySQL run
    # DDL outside transactions): give the URL a read-only user or mode.
    with connection, _query_errors(password):
        # The SQL goes to the driver as written: without this, psycopg reads
        # `%` (as in LIKE 'a%') as the start of a parameter.
        literal = connection.execution_options(
            no_parameters=True, postgresql_readonly=True
        )
        frame = pd.read_sql_query(query, literal)
    if frame.empty:
        raise ProjectError("the query returned no rows")
    return frame


def _driver_error(error: Exception) -> BaseException:
    """The database's own error: pandas wraps SQLAlchemy's, which wraps the
    driver's (SQLAlchemy's message adds the SQL and a link)."""
    cause: BaseException = error
    if isinstance(error, pd.errors.DatabaseError) and error.__cause__ is not None:
        cause = error.__cause__
    return getattr(cause, "orig", None) or cause


def _one_line(error: BaseException, password: str | None) -> str:
    """The first line of an error's message, without the password."""
    message = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return message.replace(password, "***") if password else message
