"""ingopay-emulator: a local, offline emulator of Ingo Payments' IngoPay API."""

__version__ = "0.1.0"
