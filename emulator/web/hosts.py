"""Which names the emulator answers to on its admin surface, and which origin is its own (against DNS rebinding).

A page can make a browser send requests to the emulator under a host name the page controls (DNS rebinding), and
a page on another origin can send it "simple" requests (CSRF). The admin API therefore answers only requests whose
``Host`` names the emulator, and refuses requests a page on another origin sent.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Names every emulator answers to. An IP address is always its own name: a rebinding page needs a host name.
LOCAL_NAMES = frozenset({"localhost"})
#: Binding to one of these is listening on loopback only.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def hostname_of(host_header: str) -> str:
    """The name in a ``Host`` header, lowercase, without port or IPv6 brackets (``[::1]:8080`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(bind: str) -> bool:
    """Whether listening on ``bind`` reaches this machine only."""
    if bind in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The host names the admin API answers to: local names, IP addresses, the bind address, --public-url's host
    and --allowed-hosts (where ``*`` allows any)."""

    names: frozenset[str]
    any_host: bool = False
    public_origin: str | None = None

    @classmethod
    def from_settings(cls, bind: str, public_url: str | None, allowed: tuple[str, ...]) -> HostPolicy:
        names = set(LOCAL_NAMES)
        if bind not in WILDCARD_BINDS:
            names.add(hostname_of(bind) if not is_ip_address(bind) else bind.lower())
        public_origin = None
        if public_url:
            parts = urlsplit(public_url)
            if parts.hostname:
                names.add(parts.hostname.lower())
                public_origin = f"{parts.scheme}://{parts.netloc}".lower()
        names.update(hostname_of(name) for name in allowed if name != "*")
        return cls(frozenset(names), any_host="*" in allowed, public_origin=public_origin)

    def allows_host(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header names the emulator (no header: not a browser)."""
        if host_header is None or self.any_host:
            return True
        name = hostname_of(host_header)
        return name in self.names or name.endswith(".localhost") or is_ip_address(name)

    def is_own_origin(self, origin: str, scheme: str, host_header: str | None) -> bool:
        """Whether ``Origin`` is the emulator's own: the origin the request was sent to, or --public-url's."""
        given = origin.strip().lower()
        if self.public_origin is not None and given == self.public_origin:
            return True
        return host_header is not None and given == f"{scheme}://{host_header.strip().lower()}"
