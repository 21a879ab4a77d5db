"""Credentials: who may sign requests, with which secret, for which participant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from emulator.core.configuration import ConfigurationError

#: The built-in credential, documented in the README so that a client works with no configuration.
DEFAULT_USERNAME = "test"
DEFAULT_SECRET = "ingopay-emulator-secret"
#: The built-in secret that signs webhooks (X-Ingo-Signature) for endpoints without their own.
DEFAULT_WEBHOOK_SECRET = "ingopay-emulator-webhook-secret"
DEFAULT_PARTICIPANT_ID = 12345


@dataclass(frozen=True)
class Credential:
    """One HMAC credential: the username sent in the header, the shared secret, the participant it acts for."""

    username: str
    secret: str
    participant_id: int

    def __repr__(self) -> str:  # never show the secret
        return f"Credential(username={self.username!r}, participant_id={self.participant_id})"


DEFAULT_CREDENTIAL = Credential(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_PARTICIPANT_ID)


class CredentialsError(ConfigurationError, ValueError):
    """The credentials file cannot be used; the message names the file and the entry."""


def load_credentials(path: Path | None) -> dict[str, Credential]:
    """Read a YAML list of credentials, or return the built-in default when no file is given."""
    if path is None:
        return {DEFAULT_CREDENTIAL.username: DEFAULT_CREDENTIAL}
    # here, not at the top: the sign and healthcheck commands import this module and must start fast
    from emulator.core.yamlpos import YamlProblem, read_yaml_file

    try:
        document = read_yaml_file(Path(path))
    except YamlProblem as exc:
        raise CredentialsError(f"{exc.position}: credentials file: {exc.message}") from None
    return parse_credentials(document, source=str(path))


def parse_credentials(document: object, *, source: str = "credentials") -> dict[str, Credential]:
    """Check a parsed credentials document and index it by username."""
    if not isinstance(document, list) or not document:
        raise CredentialsError(f"{source}: expected a non-empty list of {{username, secret, participant_id}}")
    found: dict[str, Credential] = {}
    for index, entry in enumerate(document, start=1):
        where = f"{source}: entry {index}"
        if not isinstance(entry, Mapping):
            raise CredentialsError(f"{where}: expected a mapping with username, secret and participant_id")
        unknown = set(entry) - {"username", "secret", "participant_id"}
        if unknown:
            raise CredentialsError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        username, secret, participant = entry.get("username"), entry.get("secret"), entry.get("participant_id")
        if not isinstance(username, str) or not username or any(c in username for c in '",'):
            raise CredentialsError(f"{where}: username must be a non-empty string without quotes or commas")
        if not isinstance(secret, str) or not secret:
            raise CredentialsError(f"{where}: secret must be a non-empty string")
        if isinstance(participant, bool) or not isinstance(participant, int) or not 0 < participant < 100000:
            raise CredentialsError(f"{where}: participant_id must be an integer of at most 5 digits")
        if username in found:
            raise CredentialsError(f"{where}: username {username!r} appears twice")
        found[username] = Credential(username, secret, participant)
    return found
