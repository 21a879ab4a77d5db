"""HTTP dates as Kong reads them: the clock check of Kong's hmac-auth plugin parses X-Date and Date with
``ngx.parse_http_time`` (kong/plugins/hmac-auth/access.lua), which is nginx's ``ngx_parse_http_time``
(src/core/ngx_parse_time.c). This is that function, rule for rule, so that the emulator accepts and refuses the dates
Kong does.

What nginx reads, and what it does not check:

- three forms: RFC 1123 ``Tue, 10 Nov 2002 23:50:13``, RFC 850 ``Tuesday, 10-Dec-02 23:50:13`` and asctime
  ``Tue Dec 10 23:50:13 2002``; a two-digit day in the first two, one or two digits in asctime;
- the time is always GMT: whatever follows the seconds (``GMT``, ``+0200``, nothing at all) is not read, so a date
  without a zone is accepted and one with another zone is read as if it were GMT;
- the weekday is skipped unread, a month is told by as few letters as set it apart (``Jxn`` is June), and a day of
  00 or 31 November is refused only past the month's last day (00 is the day before the 1st).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Ingo's example X-Date (https://developers.ingopayments.com/docs/ingopay/authentication): RFC 1123 in GMT.
RFC1123_EXAMPLE = "Fri, 17 Jan 2020 19:59:29 GMT"
#: The three forms nginx reads, each as an example of the same instant.
FORMS = (("RFC 1123", RFC1123_EXAMPLE), ("RFC 850", "Friday, 17-Jan-20 19:59:29 GMT"),
         ("asctime", "Fri Jan 17 19:59:29 2020"))
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORD = 1 << 64


class UnreadableDate(ValueError):
    """A date nginx refuses; the message says where it stopped reading."""


@dataclass(frozen=True)
class HttpTime:
    """A date nginx read: Unix seconds, the form, and what followed the seconds (unread by nginx)."""

    seconds: int
    form: str
    rest: str


class _Reader:
    """The date's bytes with C's view of them: a byte past the end reads as NUL, which matches nothing."""

    def __init__(self, value: str) -> None:
        self.data = value.encode("utf-8", "surrogateescape")
        self.end = len(self.data)

    def at(self, index: int) -> int:
        return self.data[index] if 0 <= index < self.end else 0

    def digits(self, index: int, count: int, what: str) -> int:
        number = 0
        for offset in range(count):
            byte = self.at(index + offset)
            if not 0x30 <= byte <= 0x39:
                raise UnreadableDate(f"{what} must be {count} digit{'s' if count > 1 else ''}")
            number = number * 10 + byte - 0x30
        return number

    def expect(self, index: int, char: str, what: str) -> None:
        if self.at(index) != ord(char):
            raise UnreadableDate(f"expected {what} at character {index + 1}")


def parse_http_time(value: str) -> HttpTime:
    """Unix seconds of ``value`` as nginx reads it; :class:`UnreadableDate` where nginx returns NGX_ERROR."""
    r = _Reader(value)
    form = "RFC 1123"
    p = 0
    while p < r.end:  # the weekday: up to a comma (RFC 1123, RFC 850) or a space (asctime), unread
        if r.at(p) == ord(","):
            break
        if r.at(p) == ord(" "):
            form = "asctime"
            break
        p += 1
    if p >= r.end:
        raise UnreadableDate("no weekday followed by ',' (RFC 1123, RFC 850) or by a space (asctime)")
    p += 1
    while p < r.end and r.at(p) == ord(" "):
        p += 1
    if r.end - p < 18:
        raise UnreadableDate("too short after the weekday")
    day = 0
    if form != "asctime":
        day = r.digits(p, 2, "the day")
        p += 2
        if r.at(p) == ord(" "):
            if r.end - p < 18:
                raise UnreadableDate("too short after the day")
        elif r.at(p) == ord("-"):
            form = "RFC 850"
        else:
            raise UnreadableDate("the day must be followed by a space (RFC 1123) or '-' (RFC 850)")
        p += 1
    month = _month(r, p)
    p += 3
    if (form == "RFC 1123" and r.at(p) != ord(" ")) or (form == "RFC 850" and r.at(p) != ord("-")):
        raise UnreadableDate("the month must be followed by " + ("a space" if form == "RFC 1123" else "'-'"))
    p += 1
    year = 0
    if form == "RFC 1123":
        year = r.digits(p, 4, "the year")
        p += 4
    elif form == "RFC 850":
        year = r.digits(p, 2, "the year")
        year += 2000 if year < 70 else 1900
        p += 2
    else:
        if r.at(p) == ord(" "):
            p += 1
        day = r.digits(p, 1, "the day")
        p += 1
        if r.at(p) != ord(" "):
            day = day * 10 + r.digits(p, 1, "the day")
            p += 1
        if r.end - p < 14:
            raise UnreadableDate("too short after the day")
    r.expect(p, " ", "a space before the time")
    p += 1
    hour = r.digits(p, 2, "the hour")
    r.expect(p + 2, ":", "':' after the hour")
    minute = r.digits(p + 3, 2, "the minutes")
    r.expect(p + 5, ":", "':' after the minutes")
    second = r.digits(p + 6, 2, "the seconds")
    p += 8
    if form == "asctime":
        r.expect(p, " ", "a space before the year")
        year = r.digits(p + 1, 4, "the year")
        p += 5
    if hour > 23 or minute > 59 or second > 59:
        raise UnreadableDate("the time is out of range")
    if day == 29 and month == 1:
        if year % 4 or (year % 100 == 0 and year % 400 != 0):
            raise UnreadableDate(f"{year} has no 29 February")
    elif day > _DAYS_IN_MONTH[month]:
        raise UnreadableDate(f"{_MONTHS[month]} has no day {day}")
    seconds = _unix_seconds(year, month, day, hour * 3600 + minute * 60 + second)
    if seconds == -1:  # NGX_ERROR itself: ngx.parse_http_time answers nil
        raise UnreadableDate("the instant one second before 1970 reads as nginx's error value")
    return HttpTime(seconds, form, r.data[p:].decode("utf-8", "surrogateescape"))


def _month(r: _Reader, p: int) -> int:
    """nginx's month: the first letter, then the second or third where it must (any other letters pass)."""
    first = chr(r.at(p))
    if first == "J":
        return 0 if r.at(p + 1) == ord("a") else 5 if r.at(p + 2) == ord("n") else 6
    if first == "M":
        return 2 if r.at(p + 2) == ord("r") else 4
    if first == "A":
        return 3 if r.at(p + 1) == ord("p") else 7
    found = {"F": 1, "S": 8, "O": 9, "N": 10, "D": 11}.get(first)
    if found is None:
        raise UnreadableDate("the month must be one of Jan, Feb, ..., Dec (capitalised)")
    return found


def _unix_seconds(year: int, month: int, day: int, clock: int) -> int:
    """Unix seconds by nginx's formula (Gauss's, the year shifted to start on 1 March; ``month`` from 0), in its
    unsigned 64-bit arithmetic read back as a signed ``time_t`` (which only shows for the year 0000)."""
    month -= 1
    if month <= 0:
        month += 12
        year -= 1
    year %= _WORD
    days = year * 365 + year // 4 - year // 100 + year // 400 + 367 * month // 12 - 30 + day - 1 - 719527 + 31 + 28
    seconds = (days * 86400 + clock) % _WORD
    return seconds - _WORD if seconds >= _WORD // 2 else seconds


def why_not_rfc1123_gmt(value: str, read: HttpTime) -> str | None:
    """Why ``value``, which nginx read as ``read``, is not exactly Ingo's documented form, ``Www, DD Mon YYYY
    HH:MM:SS GMT`` with the weekday of its date (what --x-date-format rfc1123 asks beyond Kong), or None."""
    zone = read.rest.strip()
    if read.form != "RFC 1123":
        return f"it is in the {read.form} form"
    if not zone:
        return "it has no zone: the time must end with ' GMT'"
    if zone != "GMT":
        return f"its zone is {zone!r}: the time must be given in GMT, ending ' GMT'"
    parts = value.split(" ")
    if len(parts) != 6 or not parts[0].endswith(",") or parts[0][:-1] not in _WEEKDAYS or parts[2] not in _MONTHS:
        return "it is not written 'Www, DD Mon YYYY HH:MM:SS GMT' (weekday and month as three-letter English names)"
    if parts[1] == "00" or len(parts[4]) != 8:
        return "its day or time is not written 'DD' and 'HH:MM:SS'"
    if _WEEKDAYS[(read.seconds // 86400 + 3) % 7] != parts[0][:-1]:  # 1970-01-01 was a Thursday
        return f"its weekday {parts[0][:-1]!r} is not the date's"
    return None
