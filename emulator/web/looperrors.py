"""The event loop's own errors in the log: one line per kind, then at most one line per kind every few seconds.

At the file-descriptor limit asyncio cannot accept connections: it logs a traceback for every attempt, up to the
listen backlog (128) each time the socket is ready, and retries within a second; about 22,000 tracebacks (1 MB of
log a second) told one fact. Here each kind of failure (its message, exception type and errno) is told once, in
words that say what to do when the kind is known, then counted: a line every REPEAT_SECONDS says how often it
happened again, until it stops.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from typing import Any

try:
    import resource  # imported now: at the file-descriptor limit an import cannot open its file
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

LOG = logging.getLogger("ingopay_emulator")

#: How often a failure that keeps happening is told again (with how many times it happened meanwhile).
REPEAT_SECONDS = 10.0

Kind = tuple[str, str, int | None]


def _fd_limit() -> str:
    """This process's limit on open files, in words ('' where the platform has no such limit)."""
    if resource is None:
        return ""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return "" if soft == resource.RLIM_INFINITY else f" (this process may open {soft})"


def explain(context: dict[str, Any]) -> str | None:
    """A failure the emulator knows, in one sentence that says what to do; None for any other."""
    exc = context.get("exception")
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    accepting = "accept" in str(context.get("message", ""))
    subject = "cannot accept new connections" if accepting else "cannot open what it needs"
    if code == errno.EMFILE:
        return (f"{subject}: too many open files{_fd_limit()}; raise the limit (ulimit -n, docker run --ulimit "
                "nofile=N:N) or open fewer connections at once; meanwhile new clients wait in the listen backlog "
                "or are cut off")
    if code == errno.ENFILE:
        return (f"{subject}: the system's table of open files is full; close other programs' files or raise "
                "fs.file-max")
    if code in (errno.ENOBUFS, errno.ENOMEM):
        return f"{subject}: the system is out of memory for sockets; open fewer connections at once"
    return None


class LoopErrors:
    """An asyncio exception handler that tells each kind of failure once, then every ``interval`` seconds how many
    times it happened again."""

    def __init__(self, interval: float = REPEAT_SECONDS) -> None:
        self.interval = interval
        self._repeats: dict[Kind, int] = {}  # the kinds told in the current interval, and their repeats since

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        kind = _kind(context)
        if kind in self._repeats:
            self._repeats[kind] += 1
            return
        self._repeats[kind] = 0
        sentence = explain(context)
        if sentence is None:
            loop.default_exception_handler(context)  # the first of its kind with the traceback: it may be a bug
        else:
            LOG.error("%s", sentence)
        loop.call_later(self.interval, self._tell_repeats, loop, kind, context)

    def _tell_repeats(self, loop: asyncio.AbstractEventLoop, kind: Kind, context: dict[str, Any]) -> None:
        repeats = self._repeats.get(kind, 0)
        if not repeats:
            self._repeats.pop(kind, None)  # it stopped: the next one is told afresh
            return
        self._repeats[kind] = 0
        sentence = explain(context) or f"{kind[0]}: {kind[1]}"
        LOG.error("%s (%d more time%s in the last %g s)", sentence, repeats, "s" if repeats != 1 else "",
                  self.interval)
        loop.call_later(self.interval, self._tell_repeats, loop, kind, context)


def _kind(context: dict[str, Any]) -> Kind:
    exc = context.get("exception")
    return (str(context.get("message", "")), type(exc).__name__ if exc is not None else "",
            getattr(exc, "errno", None) if isinstance(exc, OSError) else None)


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Tell the loop's errors through LoopErrors, unless its owner has chosen another handler; on a loop that
    meets the descriptor limit in silence (uvloop), watch for it."""
    if loop.get_exception_handler() is None:
        loop.set_exception_handler(LoopErrors())
    if not isinstance(loop, asyncio.BaseEventLoop) and not getattr(loop, "_ingopay_watched", False):
        loop._ingopay_watched = True  # type: ignore[attr-defined]  # one watch a loop, however many servers
        loop.call_later(WATCH_SECONDS, _watch_descriptors, loop)


#: How often the descriptor watch looks whether this process can still open a file.
WATCH_SECONDS = 1.0


def _watch_descriptors(loop: asyncio.AbstractEventLoop) -> None:
    """uvloop (libuv) accepts and closes connections at the descriptor limit without telling the loop's exception
    handler, so nobody would know why clients are cut off: once a second, open and close /dev/null, and tell the
    handler, as asyncio's accept() would, when that fails for want of descriptors."""
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            loop.call_exception_handler({"message": "socket.accept() out of system resource", "exception": exc})
    if not loop.is_closed():
        loop.call_later(WATCH_SECONDS, _watch_descriptors, loop)


__all__ = ["REPEAT_SECONDS", "LoopErrors", "explain", "install"]
