"""How much YAML a scenario, credentials or webhook endpoints file may hold, and the defaults: known without a YAML
parser, so that the settings (and the commands that only read them) need none."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How much YAML one file may hold: checked on the event stream, before any node is built."""

    max_bytes: int = 1024 * 1024
    max_nodes: int = 100_000  # counting every node an alias repeats: a "billion laughs" stops here
    max_aliases: int = 1_000
    max_depth: int = 64  # nesting of mappings and sequences (building the nodes recurses this deep)


DEFAULT_LIMITS = Limits()

#: The deepest nesting a setting may allow: building the nodes recurses once or twice a level, and Python stops at
#: 1,000 frames.
MAX_DEPTH_CEILING = 256

#: Ingo asks each client to stay at no more than five requests a second (reference 9): the default --rate-limit,
#: and the pace the money-safety findings hold a client to even when rate limiting is off.
INGO_REQUESTS_PER_SECOND = 5

#: The most topic globs (``gateway.transaction.*``) one webhook endpoint or one wait may list: each is matched
#: against the topic of every event or delivery it sees.
MAX_TOPICS = 50
