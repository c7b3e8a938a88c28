"""A throwaway PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` in a temporary directory.

The server listens only on a Unix socket in its own directory (no TCP port to collide on), sorts
text like a typical team server (ICU en-US) and runs in a non-UTC time zone, so tests see what a
team would. Each test gets a fresh database from :meth:`PostgresServer.create_database`.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

SUPERUSER = "postgres"
PORT = 5432  # only names the socket file: the server opens no TCP port
SERVER_SETTINGS = {
    "listen_addresses": "''", "timezone": "America/New_York", "max_connections": "60",
    # a test server holds nothing worth keeping: skip the disk flushes
    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
}


def _bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries: Debian's /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _run(*args: str) -> None:
    """Run a PostgreSQL program; it refuses to run as root, so then as the `postgres` system user."""
    command = ["runuser", "-u", SUPERUSER, "--", *args] if os.geteuid() == 0 else list(args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stdout}{result.stderr}")


@dataclass
class PostgresServer:
    """A running server and the databases made on it."""

    bindir: Path
    root: Path
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str) -> str:
        """A plain ``postgresql://`` URL, as a team would give it."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.root}&port={PORT}"

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.root), port=PORT, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        name = f"store_{next(self._names)}"
        self._execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` (each takes some megabytes)."""
        self._execute(f"DROP DATABASE {sa.engine.make_url(url).database} WITH (FORCE)")

    def start(self) -> None:
        data, log = self.root / "data", self.root / "server.log"
        _run(str(self.bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US", "--no-sync")
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        try:
            _run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                 "-o", f"-k {self.root} -p {PORT} {options}", "start")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{log.read_text() if log.exists() else ''}") from None

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            _run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a server, or fail loudly in CI (``CI=true``) and skip elsewhere when PostgreSQL is not installed."""
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        reason = "PostgreSQL's initdb and pg_ctl not found: apt-get install postgresql, or run scripts/test"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="forecast-pg-"))  # not under pytest's 0700 tmp dir: the server user needs it
    if os.geteuid() == 0:
        shutil.chown(root, user=SUPERUSER)
    server = PostgresServer(bindir, root)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
