"""Repro capsules: a running emulator as one versioned JSON archive, and bringing an emulator to the point an archive
was taken (``GET``/``POST /_emulator/snapshot``, ``--restore FILE``; docs/snapshots.md).

The archive's sections are those of the stateful parts (``emulator.core.stateful``): taking a snapshot asks each part
for its section, and a restore checks every section with its part before any part changes (``restoring.prepare``),
then puts them all in place (``restoring.restore``). ``format`` says what an archive is, ``reading`` reads its bytes a
little at a time, ``records`` says how each kind of stored record is read back, ``capture`` takes one.

An archive never holds a secret: no credential or webhook endpoint secret, no admin token, no CVV, and not the key that
signs session URLs (the store's ``meta`` records: a restored emulator keeps its own). Card and account numbers are
masked to their last four (``emulator.core.masking.mask``), so in a restored emulator a rule that matches a whole
account number no longer matches the tokens the archive brought.
"""
