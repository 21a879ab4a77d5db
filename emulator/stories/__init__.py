"""A journaled request's whole story, for a person: how it was signed and what the server expected, how to send it
again, and what followed it (the webhooks, their attempts, the follow-ups, the findings)."""
