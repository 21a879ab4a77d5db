"""The local twin of ``--compare``: the emulator answers each request on its own state, its authentication taken as
checked by the upstream. The proxy re-signs each request with a credential the twin knows (same username, the
participant the body names, a secret of this run), and translates the upstream's tokens into the twin's."""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.auth.kong_signing import HASHES, body_digest, sign_request
from emulator.core.credentials import DEFAULT_PARTICIPANT_ID, Credential
from emulator.proxy.exchange import Sent, parse_json

#: Values the upstream mints that a later request sends back: the twin mints its own, so the proxy sends it those.
TRANSLATED = frozenset({"customer_account_token", "session_id", "risk_session_token", "risk_assessment_token"})


class Twin:
    """Re-signs requests for the local emulator and keeps the upstream-to-emulator token table."""

    def __init__(self, credentials: MutableMapping[str, Credential]) -> None:
        self.credentials = credentials  # the local emulator's own table: credentials added here are known to it
        self._secret = secrets.token_urlsafe(32)  # of this run only, never shown
        self.tokens: dict[str, str] = {}

    def request(self, sent: Sent) -> Sent:
        """``sent`` as the twin must receive it: the upstream's tokens replaced by the twin's, signed anew."""
        body = sent.body
        for upstream, local in self.tokens.items():
            body = body.replace(upstream.encode(), local.encode())
        value = sent.header("authorization")
        try:
            parsed = parse_authorization(value) if value is not None else None
        except MalformedAuthorization:
            parsed = None
        if parsed is None:
            return Sent(sent.method, sent.target, sent.headers, body)  # the twin refuses it as the upstream should
        self._know(parsed.username, sent.body)
        headers = list(sent.headers)
        if body != sent.body:  # a digest or length that was right for the sent body stays right for this one
            for index, (name, given) in enumerate(headers):
                if name.lower() == "content-sha512" and given.strip() == body_digest(sent.body):
                    headers[index] = (name, body_digest(body))
                elif name.lower() == "content-length" and given.strip() == str(len(sent.body)):
                    headers[index] = (name, str(len(body)))
        lowered: dict[str, str] = {}
        for name, given in headers:
            lowered.setdefault(name.lower(), given)
        if parsed.algorithm not in HASHES:  # the twin refuses the algorithm before any signature, as Kong does
            return Sent(sent.method, sent.target, tuple(headers), body)
        header = sign_request(self._secret, username=parsed.username, algorithm=parsed.algorithm,
                              header_names=parsed.headers, method=sent.method, target=sent.target,
                              headers=lowered).authorization
        headers = [(name, header if name.lower() == "authorization" else given) for name, given in headers]
        return Sent(sent.method, sent.target, tuple(headers), body)

    def _know(self, username: str, body: bytes) -> None:
        """Give the twin a credential for ``username`` (for the participant the body names, the first time)."""
        known = self.credentials.get(username)
        if known is not None and known.secret == self._secret:
            return
        self.credentials[username] = Credential(username, self._secret, participant_of(body))

    def learn(self, upstream: Any, local: Any) -> None:
        """Note each token the upstream minted with the one the twin minted in the same place of its answer."""
        if isinstance(upstream, dict) and isinstance(local, dict):
            for key, value in upstream.items():
                other = local.get(key)
                if key in TRANSLATED and isinstance(value, str) and isinstance(other, str) and value != other:
                    self.tokens[value] = other
                else:
                    self.learn(value, other)
        elif isinstance(upstream, list) and isinstance(local, list):
            for left, right in zip(upstream, local, strict=False):
                self.learn(left, right)


def participant_of(body: bytes) -> int:
    """The participant a request names (``participant_id``, or v12's ``request.participant_id``)."""
    document = parse_json(body)
    for holder in (document, document.get("request") if isinstance(document, dict) else None):
        if isinstance(holder, dict):
            value = holder.get("participant_id")
            try:
                number = int(value) if value is not None and not isinstance(value, bool) else None
            except (TypeError, ValueError):
                number = None
            if number is not None and 0 < number < 100000:
                return number
    return DEFAULT_PARTICIPANT_ID
