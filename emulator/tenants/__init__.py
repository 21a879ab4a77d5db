"""Tenants: credentials minted at run time, one participant each, so parallel test suites share one emulator."""
