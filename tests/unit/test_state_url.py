"""`open_state_store`: which store a `SESRELAY_STATE_URL` opens, and clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.adapters.state_redis import RedisStateStore
from sesrelay.adapters.state_sqlite import SqliteStateStore
from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import ManualClock
from sesrelay.settings import redact_state_url

SECRET = "Sup3r-Secret-Value"


def test_memory_url_opens_a_memory_store() -> None:
    store = open_state_store("  memory://  ", ManualClock())
    assert isinstance(store, MemoryStateStore)
    store.close()


def test_sqlite_url_with_three_slashes_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_state_store("sqlite:///.sesrelay/state%20db.sqlite3", ManualClock())
    try:
        assert isinstance(store, SqliteStateStore)
        assert store.path == Path(".sesrelay/state db.sqlite3")
        assert (tmp_path / ".sesrelay" / "state db.sqlite3").is_file()
    finally:
        store.close()


def test_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    store = open_state_store(f"SQLITE:///{tmp_path}/kv.sqlite3", ManualClock())
    try:
        assert isinstance(store, SqliteStateStore)
        assert store.path == tmp_path / "kv.sqlite3"
        assert store.path.is_absolute()
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis://cache.internal",
            "RedisStateStore('redis://cache.internal:6379/0', prefix='sesrelay:')",
        ),
        (
            f"redis://:{SECRET}@10.0.0.5:6380/3?prefix=app%3A",
            "RedisStateStore('redis://10.0.0.5:6380/3', prefix='app:')",
        ),
        (
            f"rediss://relay:{SECRET}@[::1]:6390/?prefix=",
            "RedisStateStore('rediss://[::1]:6390/0', prefix='')",
        ),
    ],
)
def test_redis_urls_open_without_connecting(url: str, expected: str) -> None:
    store = open_state_store(url, ManualClock())  # nothing listens there: no I/O yet
    try:
        assert isinstance(store, RedisStateStore)
        assert repr(store) == expected
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "no '://'"),
        ("/tmp/state.db", "no '://'"),
        ("postgres://db/x", "unsupported state URL scheme 'postgres'"),
        ("memory://somewhere", "memory:// takes nothing"),
        ("sqlite://host/kv.db", "no host"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///", "needs a file path"),
        ("sqlite:///dir/", "needs a file path"),
        ("sqlite:///kv.db?mode=ro", "no query"),
        ("sqlite:///:memory:", "use memory://"),
        ("redis://", "no valid host"),
        ("redis://host:port/0", "port must be a number"),
        ("redis://host:0/0", "port must be a number"),
        ("redis://host:70000/0", "port must be a number"),
        ("redis://host/zero", "database number"),
        ("redis://host/0?db=1", "unknown option 'db'"),
        (f"redis://{SECRET}@host:6379/0", "after a colon"),
        (f"redis://:{SECRET[:5]}/{SECRET[5:]}@host:6379/0", "percent-encode"),
        (f"redis://:{SECRET[:5]}?{SECRET[5:]}@host:6379/0", "percent-encode"),
        (f"redis://:{SECRET[:5]}#{SECRET[5:]}@host:6379/0", "percent-encode"),
        (f"redis://user:{SECRET[:5]}:x/{SECRET[5:]}@host/0", "percent-encode"),
    ],
)
def test_invalid_urls_raise_a_clear_value_error_without_secrets(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        open_state_store(url, ManualClock())
    assert SECRET[:5] not in str(caught.value)
    assert SECRET[5:] not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("memory://", "memory://"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        (f"redis://:{SECRET}@host:6379/0", "redis://:***@host:6379/0"),
        (f"rediss://relay:{SECRET}@host/0", "rediss://relay:***@host/0"),
        (f"redis://{SECRET}@host/0", "redis://***@host/0"),
        ("redis://:p@ss/w?rd@host/0", "redis://:***@host/0"),
    ],
)
def test_redact_state_url_hides_the_password(url: str, shown: str) -> None:
    assert redact_state_url(url) == shown
