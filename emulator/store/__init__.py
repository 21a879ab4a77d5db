"""State behind one interface: in memory by default, SQLite with --data-dir."""

from emulator.store.base import Record, Store, StoreError, StoreUnavailable
from emulator.store.memory import MemoryStore
from emulator.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "Record", "SqliteStore", "Store", "StoreError", "StoreUnavailable"]
