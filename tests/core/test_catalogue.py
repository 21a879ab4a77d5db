"""The status catalogue tells Ingo's codes from the emulator's: each of Ingo's names the page that documents it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from emulator.core.catalogue import catalogue, from_entry

#: Hosts of Ingo's documentation sites (reference, "Main source sites").
INGO_HOSTS = {"developers.ingopayments.com", "developer-payments.ingomoney.com", "developer.ingo.money"}

#: Codes and the page each is documented on, written out from the reference (4.2) and the research notes (5.2).
RESPONSE_CODES = "https://developer-payments.ingomoney.com/en/ingopay-api/codes-messaging/response-codes"
GATEWAY_CODES = "https://developer-payments.ingomoney.com/en/ingopay-iframe/api-gateway-process/response-codes"
EVENT_CODES = "https://developer-payments.ingomoney.com/en/ingopay-iframe/webhooks/event-status-codes"
PAGES = {
    **dict.fromkeys((100, 101, 102, 103, 104, 111, 112, 113, 700, 1042), RESPONSE_CODES),
    **dict.fromkeys((400, 401, 402), GATEWAY_CODES),
    **dict.fromkeys((130, 753, 754, 755, 1103, 1104, 1105, 1106, 1107, 1108), EVENT_CODES),
    1113: "https://developers.ingopayments.com/api-reference/websockets/payment-terminated",
    1114: "https://developers.ingopayments.com/iframe-webhooks/websockets/check-returned",
    1125: "https://developers.ingopayments.com/api-reference/websockets/payment-successful",
    13723: "https://developers.ingopayments.com/docs/iframe/session/session-management",
}


def test_every_ingo_code_names_an_ingo_page_and_no_emulator_code_does():
    for status in catalogue().values():
        if status.source == "ingo":
            parts = urlsplit(status.page or "")
            assert (parts.scheme, parts.hostname in INGO_HOSTS) == ("https", True), status
        else:
            assert (status.source, status.page) == ("emulator", None), status


@pytest.mark.parametrize("code, page", sorted(PAGES.items()))
def test_ingo_codes_name_the_page_that_shows_them(code, page):
    assert (catalogue()[code].source, catalogue()[code].page) == ("ingo", page)


@pytest.mark.parametrize("entry, problem", [
    ({"source": "ingo"}, "a code from Ingo names its page"),
    ({"source": "emulator", "page": RESPONSE_CODES}, "a code from Ingo names its page, an emulator code has none"),
    ({"source": "vendor"}, "source 'vendor' is not one of ingo, emulator"),
])
def test_a_catalogue_entry_whose_source_and_page_disagree_is_refused(entry, problem):
    base = {"code": 999, "message": "m", "family": "general", "retryable": False, "endpoints": ["verify"]}
    with pytest.raises(ValueError, match=problem):
        from_entry({**base, **entry})
