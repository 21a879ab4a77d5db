"""The store contract, run against every implementation; and the SQLite file's schema version."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.core.configuration import ConfigurationError
from emulator.store import MemoryStore, StoreUnavailable
from emulator.store.sqlite import FILENAME, SCHEMA_VERSION, SqliteStore, StoreError


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    made = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "data")
    yield made
    made.close()


TOKEN = {"token": "t-1", "account_type": "CA", "last_4": "1111", "issuer": {"limits": [0.01, 2500.0]},
         "nested": {"list": [1, "two", None, True], "name": "Zoë"}, "amount": 10.5}


def test_put_then_get_returns_the_record(store):
    store.put("token", 12345, "t-1", TOKEN)
    assert store.get("token", 12345, "t-1") == TOKEN


def test_get_of_a_missing_key_is_none(store):
    assert store.get("token", 12345, "nope") is None


def test_put_replaces(store):
    store.put("token", 12345, "t-1", TOKEN)
    store.put("token", 12345, "t-1", {"token": "t-1", "account_type": "AC"})
    assert store.get("token", 12345, "t-1") == {"token": "t-1", "account_type": "AC"}
    assert [key for _, key, _ in store.records("token", 12345)] == ["t-1"]


def test_participants_and_kinds_are_separate(store):
    store.put("token", 12345, "k", {"who": "a"})
    store.put("token", 54321, "k", {"who": "b"})
    store.put("session", 12345, "k", {"who": "c"})
    assert store.get("token", 12345, "k") == {"who": "a"}
    assert store.get("token", 54321, "k") == {"who": "b"}
    assert store.get("session", 12345, "k") == {"who": "c"}
    assert store.get("session", 54321, "k") is None


def test_delete(store):
    store.put("token", 12345, "t-1", TOKEN)
    store.delete("token", 12345, "t-1")
    store.delete("token", 12345, "never-there")
    assert store.get("token", 12345, "t-1") is None


def test_find_looks_across_participants(store):
    store.put("session", 54321, "s-1", {"id": "s-1"})
    assert store.find("session", "s-1") == (54321, {"id": "s-1"})
    assert store.find("session", "s-2") is None
    assert store.find("token", "s-1") is None


def test_records_of_a_kind_all_or_one_participant(store):
    store.put("transaction", 12345, "process:a", {"n": 1})
    store.put("transaction", 12345, "process:b", {"n": 2})
    store.put("transaction", 54321, "process:a", {"n": 3})
    store.put("token", 12345, "t", {"n": 4})
    assert list(store.records("transaction", 12345)) == [(12345, "process:a", {"n": 1}),
                                                         (12345, "process:b", {"n": 2})]
    assert sorted(store.records("transaction"), key=lambda r: (r[0], r[1])) == [
        (12345, "process:a", {"n": 1}), (12345, "process:b", {"n": 2}), (54321, "process:a", {"n": 3})]
    assert list(store.records("transaction", 99999)) == []
    assert list(store.records("nothing")) == []


def test_records_are_copies(store):
    store.put("token", 12345, "t-1", {"n": [1]})
    for _, _, record in store.records("token"):
        record["n"].append(2)
    assert store.get("token", 12345, "t-1") == {"n": [1]}


def test_next_id_is_strictly_increasing_per_sequence(store):
    first = [store.next_id("transaction") for _ in range(3)]
    assert first == [2_000_001, 2_000_002, 2_000_003]
    assert store.next_id("check_number") == 2_000_001
    assert store.next_id("transaction") == 2_000_004


def test_reset_one_participant_or_everything(store):
    store.put("token", 12345, "a", {"n": 1})
    store.put("token", 54321, "b", {"n": 2})
    store.put("session", 12345, "c", {"n": 3})
    store.reset(12345)
    assert store.get("token", 12345, "a") is None and store.get("session", 12345, "c") is None
    assert store.get("token", 54321, "b") == {"n": 2}
    store.reset()
    assert list(store.records("token")) == []


def test_reset_keeps_sequences_moving_forward(store):
    issued = store.next_id("transaction")
    store.reset()
    assert store.next_id("transaction") > issued


# -- SQLite only ------------------------------------------------------------------------------------


def test_sqlite_keeps_everything_across_reopen(tmp_path):
    first = SqliteStore(tmp_path)
    first.put("token", 12345, "t-1", TOKEN)
    issued = first.next_id("transaction")
    first.close()
    again = SqliteStore(tmp_path)
    try:
        assert again.get("token", 12345, "t-1") == TOKEN
        assert again.next_id("transaction") == issued + 1
    finally:
        again.close()


def test_sqlite_uses_wal_and_full_sync(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()


def test_a_put_is_on_disk_when_it_returns(tmp_path):
    """A second, independent connection (as after kill -9) sees the put without any close or checkpoint."""
    store = SqliteStore(tmp_path)
    try:
        store.put("transaction", 12345, "process:p-1", {"transaction_id": 2_000_001})
        other = sqlite3.connect(tmp_path / FILENAME)
        row = other.execute("SELECT record FROM records WHERE key = 'process:p-1'").fetchone()
        other.close()
        assert row == ('{"transaction_id":2000001}',)
    finally:
        store.close()


def _set_version(data_dir: Path, version: int) -> None:
    SqliteStore(data_dir).close()
    db = sqlite3.connect(data_dir / FILENAME)
    db.execute("UPDATE emulator_schema SET version = ?", (version,))
    db.commit()
    db.close()


def test_a_file_from_a_newer_schema_is_refused(tmp_path):
    _set_version(tmp_path, SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=r"newer ingopay-emulator \(schema version 2; this version reads 1\)"):
        SqliteStore(tmp_path)


def test_a_file_from_an_older_schema_without_migration_is_refused(tmp_path):
    _set_version(tmp_path, 0)
    with pytest.raises(StoreError, match=r"older ingopay-emulator \(schema version 0.*cannot be migrated"):
        SqliteStore(tmp_path)


def test_an_older_schema_is_migrated_when_a_migration_exists(tmp_path, monkeypatch):
    from emulator.store import sqlite as module

    _set_version(tmp_path, 0)
    ran = []
    monkeypatch.setitem(module.MIGRATIONS, 0, lambda db: ran.append(db.execute("SELECT 1").fetchone()))
    SqliteStore(tmp_path).close()
    assert ran == [(1,)]
    db = sqlite3.connect(tmp_path / FILENAME)
    assert db.execute("SELECT version FROM emulator_schema").fetchone() == (SCHEMA_VERSION,)
    db.close()


def test_another_sqlite_database_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute("CREATE TABLE something (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="is not an ingopay-emulator database"):
        SqliteStore(tmp_path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / FILENAME).write_bytes(b"this is not a database, it is a text file" * 100)
    with pytest.raises(StoreError, match="is not a SQLite database; move it aside"):
        SqliteStore(tmp_path)


def test_a_data_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "file")


def test_store_error_is_a_configuration_error_the_cli_prints():
    assert issubclass(StoreError, ConfigurationError)


@pytest.mark.slow
def test_the_cli_refuses_a_newer_file_with_a_clear_message(tmp_path):
    _set_version(tmp_path, SCHEMA_VERSION + 1)
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "newer ingopay-emulator" in result.stderr and "ready on" not in result.stdout


def test_a_second_store_on_the_same_folder_is_refused_until_the_first_closes(tmp_path):
    first = SqliteStore(tmp_path)
    with pytest.raises(StoreError, match=rf"data-dir {tmp_path} is in use by ingopay-emulator pid \d+ on host "):
        SqliteStore(tmp_path)
    first.close()
    SqliteStore(tmp_path).close()


def test_a_full_database_says_the_disk_is_full_and_recovers_without_reopening(tmp_path):
    """SQLite's own words on a full disk ("cannot rollback - no transaction is active") never reach a client: the
    refusal says the disk is full and to free space. SQLite's page limit stands in for the disk here; the real
    disk is in test_full_disk.py."""
    store = SqliteStore(tmp_path)
    try:
        issued = store.next_id("transaction")
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # not one page more: as full as a disk can be
        with pytest.raises(StoreUnavailable) as refused:
            for index in range(10_000):  # each new sequence takes room, until there is none
                store.next_id(f"sequence-{index:05d}-{'x' * 200}")
        assert str(refused.value).startswith(f"the disk holding the emulator's data folder {tmp_path} is full")
        assert "free space on that disk" in str(refused.value) and "rollback" not in str(refused.value)
        with pytest.raises(StoreUnavailable, match="is full, so this request could not be recorded"):
            store.put("token", 12345, "t-big", {"token": "t-big", "padding": "x" * 20_000})
        store._db.execute("PRAGMA max_page_count = 1000000")  # space again
        assert store.next_id("transaction") == issued + 1
        store.put("token", 12345, "t-big", {"token": "t-big"})
        assert store.get("token", 12345, "t-big") == {"token": "t-big"}
    finally:
        store.close()


def test_memory_store_limit_keeps_the_newest_records_per_participant():
    store = MemoryStore(limits={"transaction": 3})
    assert store.get("transaction", 1, "absent") is None  # a read first must not break later eviction
    for number in range(1, 8):
        store.put("transaction", 1, f"t{number}", {"n": number})
        store.put("transaction", 2, f"t{number}", {"n": number})
    assert [key for _, key, _ in store.records("transaction", 1)] == ["t5", "t6", "t7"]
    assert store.get("transaction", 2, "t4") is None and store.get("transaction", 2, "t7") == {"n": 7}
    store.put("token", 1, "kept", {})  # kinds without a limit keep everything
    store.reset()
    for number in range(1, 6):
        store.put("transaction", 1, f"t{number}", {"n": number})
    assert len(list(store.records("transaction", 1))) == 3
