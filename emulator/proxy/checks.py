"""What the proxy checks of a signed request without the secret: the Authorization grammar and policy, the date's
skew, the body digest and Content-Length. Kong's own checks (``emulator.auth.verify``), minus the signature."""

from __future__ import annotations

from collections.abc import Callable

from emulator.auth.diagnosis import AuthenticationFailed, Diagnosis
from emulator.auth.header import MalformedAuthorization, parse_authorization
from emulator.auth.verify import AuthPolicy, SignedRequest, check_body, check_date, check_policy
from emulator.proxy.exchange import Sent


def signed_request(sent: Sent) -> SignedRequest:
    """``sent`` as verification reads it: lowercase header names, the first of repeated headers."""
    headers: dict[str, str] = {}
    for name, value in sent.headers:
        headers.setdefault(name.lower(), value)
    return SignedRequest(sent.method, sent.target, headers, sent.body)


def username(sent: Sent) -> str | None:
    """The username the request signs with, when its Authorization header parses."""
    value = sent.header("proxy-authorization") or sent.header("authorization")
    if value is None:
        return None
    try:
        return parse_authorization(value).username
    except MalformedAuthorization:
        return None


def problems(sent: Sent, policy: AuthPolicy, now: float) -> list[Diagnosis]:
    """Every problem the proxy can see without the secret, each as the emulator diagnoses it (none: nothing seen).
    A request with neither an Authorization header nor a body (a page, the iFrame SDK) is not a signed call."""
    request = signed_request(sent)
    found: list[Diagnosis] = []
    if not request.body and not ({"authorization", "proxy-authorization"} & set(request.headers)):
        return found

    def attempt(check: Callable[[], object]) -> None:
        try:
            check()
        except AuthenticationFailed as failure:
            found.append(failure.diagnosis)

    value = request.headers.get("proxy-authorization") or request.headers.get("authorization")
    if value is None:
        return [AuthenticationFailed("missing_authorization", "the request has no Authorization header").diagnosis]
    attempt(lambda: check_date(request.headers, policy.clock_skew, int(now), policy.date_format))
    try:
        parsed = parse_authorization(value)
    except MalformedAuthorization as exc:
        found.append(Diagnosis("malformed_authorization", str(exc)))
    else:
        attempt(lambda: check_policy(parsed, policy, has_body=bool(request.body)))
    attempt(lambda: check_body(request))
    return found
