"""Readiness rehearsals: Ingo's testing plan judged on one participant's own traffic, with the evidence a team sends
to its integration manager (docs/readiness.md)."""
