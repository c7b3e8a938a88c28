"""Opening a store: resolve its URL, connect, upgrade its schema, hand out sessions."""

from __future__ import annotations

import os
import sqlite3
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
from ..basics.text import mask_secrets
from ..errors import StoreError
from . import integrity
from .failures import CORRUPT, failure_message
from .migrations import MIGRATIONS, rolled_back

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

    A path means SQLite; ``postgresql://`` (or ``postgres://``) URLs use psycopg 3. A malformed URL, another
    kind of database, or a URL option the driver would ignore is refused (the URL shown without secrets).
    """
    value = db or os.environ.get(ENV_VAR) or DEFAULT_DB
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):  # psycopg 3, the `postgres` extra
        url = f"postgresql+psycopg://{rest}"
    elif scheme == "sqlite":
        url = value
    else:
        raise StoreError(f"unknown kind of store {mask_secrets(value)!r}: give a file path, sqlite:///PATH or "
                         "postgresql://USER@HOST/DATABASE")
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StoreError(f"malformed store URL {mask_secrets(value)!r}: {mask_secrets(str(exc))}") from None
    if parsed.drivername == "sqlite":
        _check_sqlite_options(parsed, value)
    return url


def _check_sqlite_options(url: sa.URL, shown: str) -> None:
    """Only read-only opening: ``?mode=ro``, or SQLAlchemy's URI form ``sqlite:///file:PATH?mode=ro&uri=true``."""
    unknown = sorted(set(url.query) - {"mode", "uri"})
    if unknown or url.query.get("mode", "ro") != "ro" or url.query.get("uri", "true") != "true":
        raise StoreError(f"store URL {mask_secrets(shown)!r}: SQLite stores take only ?mode=ro (read-only), "
                         f"not {', '.join(unknown) or 'mode=' + str(url.query['mode'])}")
    if not url.database:
        raise StoreError(f"store URL {mask_secrets(shown)!r} names no file: use sqlite:///PATH")


def _sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database or ""
    return Path(database.removeprefix("file:"))


def _read_only(url: str) -> bool:
    return sa.engine.make_url(url).query.get("mode") == "ro"


def _sqlite_engine(url: str) -> Engine:
    read_only = _read_only(url)
    if read_only:  # SQLite opens the file itself read-only: no write can happen, whatever the code asks
        path = _sqlite_path(url).expanduser().resolve()
        engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False))
    else:
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not read_only:
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
    return mask_secrets(sa.engine.make_url(url).render_as_string(hide_password=True))


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
    if not unknown and (problem := _rolled_back(engine, applied)):
        raise StoreError(problem)
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


def _rolled_back(engine: Engine, applied: set[str]) -> str | None:
    with _reading(engine).connect() as conn:
        return rolled_back(conn, applied)


class Store:
    """An open, up-to-date store."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write session in one transaction, holding the write lock from its start: committed (with
        its rows added to the integrity chains) on success, rolled back on any error."""
        if _read_only(self.url):
            raise StoreError("the store is read-only (opened with ?mode=ro): nothing was written")
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


def open_store(db: str | None = None, *, create: bool = True) -> Store:
    """Open and upgrade the store named by ``db`` (see :func:`resolve_url`); with ``create``, make it if it is
    not there. A SQLite file that fails SQLite's quick check is refused as corrupt, and a file that holds no
    forecast store (an empty file, another database) as not a store."""
    url = resolve_url(db)
    try:
        if url.startswith("sqlite") and not create:
            _require_sqlite_store(_sqlite_path(url))
        engine = _engine(url)
        if engine.dialect.name == "sqlite":
            _quick_check(engine)
        migrate(engine)
    except StoreError:
        raise
    except (DBAPIError, SQLAlchemyError, sqlite3.Error) as exc:
        reason = failure_message(exc) or str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(f"cannot open store {_shown(url)}: {mask_secrets(reason)}") from None
    return Store(url, engine)


def _require_sqlite_store(path: Path) -> None:
    path = path.expanduser()
    if not path.exists():
        raise StoreError(f"no store at {path}: `forecast init` creates one (or check --db and $FORECAST_DB)")
    if not path.is_file():
        raise StoreError(f"{path} is not a forecast store (not a regular file)")
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        if not header:
            raise StoreError(f"{path} is not a forecast store (an empty file); `forecast init` makes one there")
        raise StoreError(f"{path} is not a forecast store (not an SQLite database); "
                         "`forecast init --db NEW` creates one elsewhere")
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    if "schema_migration" not in tables:
        raise StoreError(f"{path} is not a forecast store (an SQLite database without forecast's tables)")


def _quick_check(engine: Engine) -> None:
    """Refuse a store whose pages SQLite finds damaged (PRAGMA quick_check: structure, not every index entry)."""
    with _reading(engine).connect() as conn:
        found = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        raise StoreError(CORRUPT.format(reason=f"quick_check: {'; '.join(found)[:300]}"))
