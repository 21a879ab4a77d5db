"""Sockets a test opens itself: a free port for a server it starts, enough file descriptors for a flood."""

from __future__ import annotations

import resource
import socket

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now), for servers a test starts itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit(needed: int) -> None:
    """Raise this process's soft limit on open files to ``needed`` (within the hard limit), or skip the test saying
    how many it needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        pytest.skip(f"needs {needed} file descriptors, the hard limit allows {soft}")
