"""Webhooks: Ingo's event envelope, topics, signatures and delivery."""
