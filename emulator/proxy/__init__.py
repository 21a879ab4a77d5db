"""Proxy mode: forward to Ingo's sandbox, record what it answers, replay it offline, report where the emulator drifts.

The domain parts (the exchange, the checks made without the secret, masking, recordings, scenario generation, the
drift report, the local twin) know no HTTP server; ``server`` serves them and ``app`` wires them.
"""
