"""The one kind of error the command line refuses to start on: it prints the message in one sentence and exits 2."""


class ConfigurationError(Exception):
    """Something the emulator was given to start with (a setting, a file, a data folder) that it cannot use."""
