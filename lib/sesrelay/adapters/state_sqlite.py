"""SQLite StateStore (`sqlite:///path`): one file shared by the threads and processes of a machine.

WAL needs a local disk, so never point it at a network mount (CFS/NFS); on SCF only /tmp is
writable and it is per instance, so use Redis when several instances must agree.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sesrelay.clock import Clock
from sesrelay.state import StateRecord, StateStoreError, check_key, check_ttl

T = TypeVar("T")

# Plain SELECT/INSERT OR REPLACE/UPDATE only: UPSERT (3.24) and RETURNING (3.35) may be missing
# from the SQLite that a runtime image links against, and the write lock makes them unnecessary.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " version INTEGER NOT NULL, expires_at REAL NOT NULL)",
    # Lets the purge find expired rows without scanning the table.
    "CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at)",
)
_SELECT = "SELECT value, version, expires_at FROM kv WHERE key = ?"
_REPLACE = "INSERT OR REPLACE INTO kv (key, value, version, expires_at) VALUES (?, ?, ?, ?)"
_PURGE = "DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires_at <= ? LIMIT ?)"

_Row = tuple[str, int, float]


class SqliteStateStore:
    """One connection per process behind a lock.

    Per-thread connections would leak under a thread-per-request server; one connection and a
    lock cost little because SQLite serialises writers anyway. Across processes, writes take
    the database lock with BEGIN IMMEDIATE and wait up to `busy_timeout_ms` for it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        clock: Clock,
        *,
        busy_timeout_ms: int = 5000,
        purge_every: int = 32,
        purge_limit: int = 256,
    ) -> None:
        self._path = Path(path)
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._purge_every = max(purge_every, 1)
        self._purge_limit = max(purge_limit, 1)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._writes = 0
        self._closed = False
        with self._lock:
            self._connection()  # open now so a bad path fails when the services are built

    @property
    def path(self) -> Path:
        return self._path

    def __repr__(self) -> str:
        return f"SqliteStateStore({str(self._path)!r})"

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        check_key(key)
        ttl = check_ttl(ttl_seconds)

        def work(conn: sqlite3.Connection, now: float) -> StateRecord | None:
            row = _live(conn, key, now)
            if row is not None:
                return StateRecord(row[0], row[1])
            conn.execute(_REPLACE, (key, value, 1, now + ttl))
            return None

        return self._write("claim", work)

    def get(self, key: str) -> StateRecord | None:
        check_key(key)
        with self._lock:
            try:
                # Autocommit mode: a single SELECT is its own read transaction; no write lock.
                row = _live(self._connection(), key, self._clock.now().timestamp())
            except sqlite3.Error as exc:
                raise self._failure("get", exc) from exc
        return None if row is None else StateRecord(row[0], row[1])

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        check_key(key)
        ttl = check_ttl(ttl_seconds)

        def work(conn: sqlite3.Connection, now: float) -> StateRecord:
            row = _live(conn, key, now)
            version = 1 if row is None else row[1] + 1
            conn.execute(_REPLACE, (key, value, version, now + ttl))
            return StateRecord(value, version)

        return self._write("put", work)

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        check_key(key)
        ttl = check_ttl(ttl_seconds)

        def work(conn: sqlite3.Connection, now: float) -> StateRecord | None:
            row = _live(conn, key, now)
            if row is None or row[1] != expected_version:
                return None
            conn.execute(_REPLACE, (key, value, row[1] + 1, now + ttl))
            return StateRecord(value, row[1] + 1)

        return self._write("compare_and_set", work)

    def delete(self, key: str, expected_version: int | None = None) -> bool:
        check_key(key)

        def work(conn: sqlite3.Connection, now: float) -> bool:
            row = _live(conn, key, now)
            if row is None or (expected_version is not None and row[1] != expected_version):
                return False
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))
            return True

        return self._write("delete", work)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None and self._pid == os.getpid():
                conn.close()

    # -- internals --------------------------------------------------------------------------

    def _write(self, op: str, work: Callable[[sqlite3.Connection, float], T]) -> T:
        with self._lock:
            try:
                conn = self._connection()
                # IMMEDIATE takes the write lock up front, so the read-then-write inside `work`
                # cannot interleave with another process's (a DEFERRED read lock could deadlock).
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # Read the time after the lock is ours: the wait may have taken seconds.
                    now = self._clock.now().timestamp()
                    result = work(conn, now)
                    self._writes += 1
                    if self._writes % self._purge_every == 0:
                        conn.execute(_PURGE, (now, self._purge_limit))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._failure(op, exc) from exc
        return result

    def _connection(self) -> sqlite3.Connection:
        """The open connection (the lock is held); reopened in a forked child."""
        if self._closed:
            raise StateStoreError(f"sqlite state store {self._path} is closed")
        if self._conn is None or self._pid != os.getpid():
            # A connection must not cross fork(); the child abandons the parent's and opens its own.
            self._pid = os.getpid()
            self._conn = None
            try:
                self._conn = self._open()
            except (sqlite3.Error, OSError) as exc:
                raise self._failure("open", exc) from exc
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # shared by threads, always under self._lock
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            # NORMAL is durable across process crashes in WAL mode; only power loss can drop
            # the last commits, which /tmp on SCF would lose anyway.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    def _retry_busy(self, action: Callable[[], object]) -> None:
        # Switching a fresh file to WAL can fail with SQLITE_BUSY without calling the busy
        # handler when several processes open it at once; wait on real time like busy_timeout.
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                action()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _failure(self, op: str, exc: BaseException) -> StateStoreError:
        return StateStoreError(f"sqlite state store {self._path}: {op} failed: {exc}")


def _live(conn: sqlite3.Connection, key: str, now: float) -> _Row | None:
    row: _Row | None = conn.execute(_SELECT, (key,)).fetchone()
    if row is None or row[2] <= now:
        return None
    return row
