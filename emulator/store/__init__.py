"""State behind one interface: in memory by default, SQLite with --data-dir."""

from emulator.store.base import Record, Store
from emulator.store.memory import MemoryStore

__all__ = ["MemoryStore", "Record", "Store"]
