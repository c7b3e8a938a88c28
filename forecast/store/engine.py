"""Opening a store: resolve its URL, connect, upgrade its schema, hand out sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from ..basics.months import utc_now
from ..errors import StoreError
from . import integrity
from .failures import failure_message
from .migrations import MIGRATIONS

DEFAULT_DB = "forecast.db"
ENV_VAR = "FORECAST_DB"
BUSY_TIMEOUT_MS = 60_000
READER = "forecast_reader"  # execution option: a read-only, deferred transaction
_WRITE_LOCK = 7270452  # PostgreSQL advisory lock serialising writers, as BEGIN IMMEDIATE does on SQLite
_MIGRATION_TABLE = sa.Table(
    "schema_migration", sa.MetaData(),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def resolve_url(db: str | None = None) -> str:
    """The store's SQLAlchemy URL from ``--db``, else ``$FORECAST_DB``, else ``./forecast.db``.

    A path means SQLite; ``postgresql://`` (or ``postgres://``) URLs use psycopg 3.
    """
    value = db or os.environ.get(ENV_VAR) or DEFAULT_DB
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgres", "postgresql"):  # PostgreSQL's own URL form: use psycopg 3, the `postgres` extra
        return f"postgresql+psycopg://{rest}"
    return value


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READER):
            # A deferred transaction: its first read takes a WAL snapshot, and it never takes the write lock.
            conn.exec_driver_sql("PRAGMA query_only = ON")
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            # Take the write lock up front so concurrent writers queue instead of deadlocking.
            conn.exec_driver_sql("PRAGMA query_only = OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    try:
        # No pool: a command's connections close when its sessions end, so a long-lived process that
        # opens many stores (a test run, a script calling the CLI) never exhausts the server's connections.
        return sa.create_engine(url, poolclass=NullPool)
    except ModuleNotFoundError as exc:
        raise StoreError(f"no database driver for {_shown(url)} ({exc.msg}); for PostgreSQL, install forecast "
                         f"with the postgres extra (pip install 'policy-forecast[postgres]') and use a postgresql:// URL") \
            from None


def _shown(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _lock_for_migration(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7270451)"))


def _applied(conn: Connection) -> list[str]:
    return list(conn.execute(sa.select(_MIGRATION_TABLE.c.name)).scalars())


def _up_to_date(engine: Engine) -> bool:
    """Whether every known migration is applied and no unknown one, read without taking the write lock."""
    with _reading(engine).connect() as conn:
        if not sa.inspect(conn).has_table(_MIGRATION_TABLE.name):
            return False
        return set(_applied(conn)) == {name for name, _ in MIGRATIONS}


def _reading(engine: Engine) -> Engine:
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READER: True})
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def migrate(engine: Engine) -> list[str]:
    """Apply pending migrations, one transaction each; refuse a store from a newer version."""
    if _up_to_date(engine):
        return []
    known = [name for name, _ in MIGRATIONS]
    with engine.begin() as conn:
        _lock_for_migration(conn)
        _MIGRATION_TABLE.create(conn, checkfirst=True)
        applied = set(_applied(conn))
    unknown = sorted(applied - set(known))
    if unknown:
        raise StoreError(
            f"the store was written by a newer version of forecast (unknown schema migration "
            f"{unknown[-1]!r}); upgrade forecast to open it"
        )
    done: list[str] = []
    for name, apply in MIGRATIONS:
        if name in applied:
            continue
        with engine.begin() as conn:
            _lock_for_migration(conn)
            if name in _applied(conn):
                continue
            apply(conn)
            conn.execute(sa.insert(_MIGRATION_TABLE).values(name=name, applied_at=utc_now()))
            done.append(name)
    return done


class Store:
    """An open, up-to-date store."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write session in one transaction, holding the write lock from its start: committed (with
        its rows added to the integrity chains) on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            integrity.track(session)
            try:
                if self.engine.dialect.name == "postgresql":
                    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK})
                yield session
                session.flush()
                integrity.extend(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session on one snapshot of the store that never blocks a writer (SQLite: a
        deferred transaction under WAL with ``query_only``). Closing it ends the transaction; what was
        read stays loaded."""
        with Session(_reading(self.engine), expire_on_commit=False) as session:
            yield session

    @property
    def shown_url(self) -> str:
        """The URL without its password, to print."""
        return _shown(self.url)

    def schema_version(self) -> list[str]:
        """The names of the applied migrations, in order."""
        with _reading(self.engine).connect() as conn:
            return sorted(_applied(conn))


def open_store(db: str | None = None) -> Store:
    """Open (creating if needed) and upgrade the store named by ``db`` (see :func:`resolve_url`)."""
    url = resolve_url(db)
    try:
        engine = _engine(url)
        migrate(engine)
    except StoreError:
        raise
    except (DBAPIError, SQLAlchemyError) as exc:
        reason = failure_message(exc) or str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(f"cannot open store {_shown(url)}: {reason}") from None
    return Store(url, engine)
