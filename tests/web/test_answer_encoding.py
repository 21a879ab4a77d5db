"""Answers are the same bytes whichever JSON encoder writes them: orjson when the fast extra is installed, the
standard library otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.web import replies

DOCUMENTS: list[Any] = [
    {"status": 100, "message": "Success", "data": {"amount": 10.5, "fee": 0.0, "token": "106e574e", "trace": None,
                                                   "ok": True, "items": [1, 2.25, "é", {"nested": []}]}},
    {"message": "the request body is not valid JSON", "request_id": "0123456789abcdef0123456789abcdef"},
    {"diagnosis": {"fields": {"recipient_first_name": "Zoë 李"}}, "count": 12345678901234},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_an_answer_is_the_standard_librarys_compact_utf8(document: Any) -> None:
    pytest.importorskip("orjson")
    assert replies.encoded(document) == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def test_text_from_bytes_that_were_not_utf8_is_escaped_whichever_encoder() -> None:
    document = {"message": "bad \udcff byte"}
    assert replies.encoded(document) == b'{"message":"bad \\udcff byte"}'


def test_numbers_beyond_64_bits_and_integer_keys_are_written_as_the_standard_library_writes_them() -> None:
    document = {1: "one", "big": 2**70}
    assert replies.encoded(document) == b'{"1":"one","big":1180591620717411303424}'
