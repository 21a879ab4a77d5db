"""Money-safety findings: what a client did that would lose money (or be refused) against the real Ingo."""
