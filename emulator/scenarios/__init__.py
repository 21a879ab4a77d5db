"""Scenarios: YAML files that script approvals, declines, faults and follow-up events."""
