"""State behind one interface: in memory by default, SQLite with --data-dir (``emulator.store.sqlite``, imported only
then: sqlite3 costs about 1.7 MB of memory that an emulator in memory does not need)."""

from emulator.store.base import Cap, Contents, Record, Store, Stored, StoreError, StoreUnavailable
from emulator.store.memory import MemoryStore, Usage

__all__ = ["Cap", "Contents", "MemoryStore", "Record", "Store", "Stored", "StoreError", "StoreUnavailable", "Usage"]
