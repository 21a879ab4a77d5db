"""The durable store: the same records as MemoryStore, kept in one SQLite file under --data-dir.

Durability: the database runs in WAL mode with ``synchronous=FULL`` and every write is its own committed
transaction, so when ``put`` (or ``next_id``) returns, the change is in the write-ahead log *and* fsync'd. A
response built after the write therefore survives ``kill -9`` of the emulator (which ``synchronous=NORMAL``
would already give: the WAL is written before the commit returns) and also a crash of the machine or a power
loss (which only FULL gives: NORMAL defers the fsync to the next checkpoint). A commit costs about 0.2 ms
more than with NORMAL; an emulator is never limited by that.

The file carries its schema version in the ``emulator_schema`` table. A file written by another schema version
is migrated when a migration is known (``MIGRATIONS``) and otherwise refused with a sentence that says what to
do; it is never read as if it had the current layout.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from emulator.store.base import Contents, Record, Stored, StoreError, StoreUnavailable
from emulator.store.disk import disk_full, full_disk_at_start, full_disk_while_serving
from emulator.store.lock import FolderLock

#: The layout this code reads and writes. Bump it with every change to the tables, and add a migration.
SCHEMA_VERSION = 1
APPLICATION = "ingopay-emulator"
FILENAME = "ingopay-emulator.sqlite3"

#: Migrations from schema version N to N + 1, run in one transaction each. None yet: version 1 is the first.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}

_SCHEMA = (
    """CREATE TABLE emulator_schema (
           application TEXT NOT NULL,
           version INTEGER NOT NULL
       )""",
    """CREATE TABLE records (
           id INTEGER PRIMARY KEY,
           kind TEXT NOT NULL,
           participant INTEGER NOT NULL,
           key TEXT NOT NULL,
           record TEXT NOT NULL,
           UNIQUE (kind, participant, key)
       )""",
    "CREATE INDEX records_by_key ON records (kind, key)",
    """CREATE TABLE sequences (
           name TEXT PRIMARY KEY,
           value INTEGER NOT NULL
       )""",
)

_GET = "SELECT record FROM records WHERE kind = ? AND participant = ? AND key = ?"
_PUT = ("INSERT INTO records (kind, participant, key, record) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, participant, key) DO UPDATE SET record = excluded.record")
_DELETE = "DELETE FROM records WHERE kind = ? AND participant = ? AND key = ?"
_FIND = "SELECT participant, record FROM records WHERE kind = ? AND key = ? ORDER BY participant LIMIT 1"
_RECORDS_ALL = "SELECT participant, key, record FROM records WHERE kind = ? ORDER BY participant, id"
_RECORDS_ONE = "SELECT participant, key, record FROM records WHERE kind = ? AND participant = ? ORDER BY id"
_NEXT_ID = ("INSERT INTO sequences (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1")
_SEQUENCE = "SELECT value FROM sequences WHERE name = ?"
_DUMP = "SELECT kind, participant, key, record FROM records ORDER BY id"
_SEQUENCES = "SELECT name, value FROM sequences ORDER BY name"


#: The first bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def move_aside(path: Path) -> str:
    """What to do with a data file the emulator refuses (its -wal and -shm files belong to it)."""
    return (f"move it aside with its -wal and -shm files (for f in {path}*; do mv \"$f\" \"$f.bad\"; done) to start "
            "a new store, or choose another --data-dir; the emulator never starts on a store it cannot trust")


@contextmanager
def _unavailable_on_error(path: Path) -> Iterator[None]:
    """A SQLite failure while serving (disk full, file taken away) as StoreUnavailable: a 503, never a 500."""
    try:
        yield
    except sqlite3.Error as exc:
        if disk_full(exc, path.parent):
            raise StoreUnavailable(full_disk_while_serving(path.parent)) from None
        raise StoreUnavailable(f"the emulator cannot use its state in {path}: {exc}") from None


class SqliteStore:
    """Records as JSON text in one table keyed by (kind, participant, key); sequences in another."""

    def __init__(self, data_dir: Path | str, *, first_id: int = 2_000_000) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / FILENAME
        self._first_id = first_id
        self._lock = threading.Lock()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"data-dir {self.data_dir}: cannot create the folder: {exc.strerror or exc}") from None
        if not self.data_dir.is_dir():
            raise StoreError(f"data-dir {self.data_dir} is not a folder")
        if not os.access(self.data_dir, os.W_OK | os.X_OK):
            raise StoreError(f"data-dir {self.data_dir} is not writable by this user (uid {os.getuid()}); "
                             "give it to that user or choose another --data-dir")
        self._folder_lock = FolderLock(self.data_dir)
        self._folder_lock.acquire()  # before reading anything: another emulator may be writing it
        try:
            self._open()
        except BaseException:
            self._folder_lock.release()
            raise

    # -- opening -------------------------------------------------------------------------------------

    def _open(self) -> None:
        """Open the database file, make or migrate its tables, and check it can be trusted and written."""
        self._check_file()
        try:
            # isolation_level=None: autocommit, so every single-statement write is one committed transaction.
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            if disk_full(exc, self.data_dir):
                raise StoreError(full_disk_at_start(self.data_dir)) from None
            raise StoreError(f"data-dir {self.data_dir}: cannot open {self.path.name}: {exc}") from None
        try:
            self._configure()
            self._check_schema()
            self._check_integrity()
            self._check_writable()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if disk_full(exc, self.data_dir):  # a healthy store on a full disk: never advise moving it aside
                raise StoreError(full_disk_at_start(self.data_dir)) from None
            raise StoreError(f"{self.path} is not a usable ingopay-emulator database ({exc}); "
                             f"{move_aside(self.path)}") from None
        except StoreError:
            self._db.close()
            raise

    def _check_file(self) -> None:
        """Refuse a file that is there but cannot be an ingopay-emulator database (SQLite would take an empty file
        for a new database, and silently start over)."""
        if not self.path.exists():
            return
        try:
            with open(self.path, "rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be read by this user (uid {os.getuid()}): "
                             f"{exc.strerror or exc}; give it to that user or choose another --data-dir") from None
        if not header:
            raise StoreError(f"{self.path} is empty (0 bytes), so it holds no ingopay-emulator state; "
                             f"{move_aside(self.path)}")
        if header != SQLITE_HEADER:
            raise StoreError(f"{self.path} is not a SQLite database; {move_aside(self.path)}")

    def _check_integrity(self) -> None:
        """SQLite's integrity check, and every record readable: a damaged file must never start (a payment it lost
        would be paid again)."""
        problems = [line.strip() for (text,) in self._db.execute("PRAGMA integrity_check(3)")
                    for line in str(text).splitlines() if line.strip() and not line.startswith("***")]
        if problems != ["ok"]:
            raise StoreError(f"{self.path} is damaged (SQLite's integrity check: {'; '.join(problems)[:300]}); "
                             f"{move_aside(self.path)}")
        (unreadable,) = self._db.execute("SELECT count(*) FROM records WHERE NOT json_valid(record)").fetchone()
        if unreadable:
            raise StoreError(f"{self.path} is damaged ({unreadable} stored records are not readable); "
                             f"{move_aside(self.path)}")

    def _check_writable(self) -> None:
        """A real write, committed, so that a file this user cannot write is refused now and not at the first
        payment."""
        try:
            self._db.execute(_PUT, ("meta", 0, "opened", json.dumps({"pid": os.getpid()})))
        except sqlite3.OperationalError as exc:
            if disk_full(exc, self.data_dir):
                raise StoreError(full_disk_at_start(self.data_dir)) from None
            raise StoreError(f"{self.path} cannot be written by this user (uid {os.getuid()}): {exc}; give the file "
                             "(and its folder) to that user or choose another --data-dir") from None

    def _configure(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: SQLite refused WAL mode (journal_mode is {mode}); "
                             "put --data-dir on a local file system")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA foreign_keys = ON")

    def _check_schema(self) -> None:
        tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            self._create()
            return
        if "emulator_schema" not in tables:
            raise StoreError(f"{self.path} is not an ingopay-emulator database (it has tables "
                             f"{', '.join(sorted(tables))}); move it away or choose another --data-dir")
        rows = self._db.execute("SELECT application, version FROM emulator_schema").fetchall()
        if len(rows) != 1 or rows[0][0] != APPLICATION or not isinstance(rows[0][1], int):
            raise StoreError(f"{self.path} has an unreadable schema version ({rows!r}); "
                             "move it away or choose another --data-dir")
        version = rows[0][1]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer ingopay-emulator (schema version {version}; this version "
                f"reads {SCHEMA_VERSION}); upgrade ingopay-emulator or choose another --data-dir")
        while version < SCHEMA_VERSION:
            migrate = MIGRATIONS.get(version)
            if migrate is None:
                raise StoreError(
                    f"{self.path} was written by an older ingopay-emulator (schema version {version}; this "
                    f"version reads {SCHEMA_VERSION}) and cannot be migrated; move it away or choose another "
                    "--data-dir")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                migrate(self._db)
                self._db.execute("UPDATE emulator_schema SET version = ?", (version + 1,))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            version += 1

    def _create(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute("INSERT INTO emulator_schema (application, version) VALUES (?, ?)",
                             (APPLICATION, SCHEMA_VERSION))
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the transaction under way, if SQLite has not undone it already (it does on a full disk: a ROLLBACK
        then fails with "no transaction is active", which would hide the failure that matters)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- the Store interface -------------------------------------------------------------------------

    def get(self, kind: str, participant: int, key: str) -> Record | None:
        with self._lock, _unavailable_on_error(self.path):
            row = self._db.execute(_GET, (kind, participant, key)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, kind: str, participant: int, key: str, record: Record) -> None:
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        with self._lock, _unavailable_on_error(self.path):
            self._db.execute(_PUT, (kind, participant, key, text))  # committed (and fsync'd) on return

    def delete(self, kind: str, participant: int, key: str) -> None:
        with self._lock, _unavailable_on_error(self.path):
            self._db.execute(_DELETE, (kind, participant, key))

    def find(self, kind: str, key: str) -> tuple[int, Record] | None:
        with self._lock, _unavailable_on_error(self.path):
            row = self._db.execute(_FIND, (kind, key)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def records(self, kind: str, participant: int | None = None) -> Iterator[tuple[int, str, Record]]:
        with self._lock, _unavailable_on_error(self.path):
            if participant is None:
                rows = self._db.execute(_RECORDS_ALL, (kind,)).fetchall()
            else:
                rows = self._db.execute(_RECORDS_ONE, (kind, participant)).fetchall()
        for p, key, text in rows:
            yield p, key, json.loads(text)

    def next_id(self, sequence: str) -> int:
        with self._lock, _unavailable_on_error(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(_NEXT_ID, (sequence, self._first_id + 1))
                (value,) = self._db.execute(_SEQUENCE, (sequence,)).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return int(value)

    def reset(self, participant: int | None = None) -> None:
        with self._lock, _unavailable_on_error(self.path):
            if participant is None:
                self._db.execute("DELETE FROM records")
            else:
                self._db.execute("DELETE FROM records WHERE participant = ?", (participant,))

    def dump(self) -> Contents:
        with self._lock, _unavailable_on_error(self.path):
            rows = self._db.execute(_DUMP).fetchall()
            sequences = {name: int(value) for name, value in self._db.execute(_SEQUENCES)}
        return Contents([Stored(kind, participant, key, json.loads(text)) for kind, participant, key, text in rows],
                        sequences)

    def load(self, contents: Contents, *, keep: Collection[str] = ()) -> None:
        kept = sorted(set(keep))
        rows = [(kind, participant, key, json.dumps(record, separators=(",", ":"), ensure_ascii=False))
                for kind, participant, key, record in contents.records if kind not in kept]
        spared = f"WHERE kind NOT IN ({', '.join('?' * len(kept))})" if kept else ""
        with self._lock, _unavailable_on_error(self.path):
            self._db.execute("BEGIN IMMEDIATE")  # one transaction: the old state or the new one, never a mix
            try:
                self._db.execute(f"DELETE FROM records {spared}", kept)
                self._db.executemany(_PUT, rows)
                self._db.execute("DELETE FROM sequences")
                self._db.executemany("INSERT INTO sequences (name, value) VALUES (?, ?)",
                                     sorted(contents.sequences.items()))
                self._db.execute("COMMIT")  # fsync'd on return (synchronous=FULL)
            except BaseException:
                self._rollback()
                raise

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._folder_lock.release()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.data_dir)!r})"


__all__ = ["SCHEMA_VERSION", "SqliteStore", "StoreError"]
