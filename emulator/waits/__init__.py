"""Waiting for what happened: requests in the journal and webhook deliveries, matched by keys, with near misses."""
