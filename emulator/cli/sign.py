"""``ingopay-emulator sign``: the headers (or a curl command) that sign a request as Ingo requires."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emulator.auth.kong_signing import HASHES
from emulator.cli.command import Command
from emulator.cli.errors import CommandError
from emulator.core.credentials import DEFAULT_SECRET, DEFAULT_USERNAME


def arguments(parser: argparse.ArgumentParser) -> None:
    """The request to sign, the credential, and what to print."""
    parser.add_argument("url", metavar="URL", help="full URL, e.g. http://127.0.0.1:8080/gateway/verify")
    parser.add_argument("-X", "--method", default="POST", help="HTTP method")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", metavar="BODY", help="request body (JSON text), signed and sent byte for byte")
    body.add_argument("--data-file", type=Path, metavar="FILE",
                      help="file holding the request body ('-' for stdin)")
    parser.add_argument("--username", default=DEFAULT_USERNAME,
                        help="credential username")
    parser.add_argument("--secret", default=DEFAULT_SECRET,
                        help="credential secret")
    parser.add_argument("--algorithm", default="hmac-sha512", choices=sorted(HASHES, reverse=True),
                        help="HMAC algorithm (Ingo requires hmac-sha512; hmac-sha256 is its legacy one)")
    parser.add_argument("--headers", metavar="LIST",
                        help="signed headers in order, separated by spaces (default: request-line x-date "
                             "content-type content-sha512 content-length)")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="another header to send, not signed unless named in --headers (repeatable), e.g. "
                             "'X-Emulator-Scenario: none'")
    parser.add_argument("--curl", action="store_true", help="print a ready curl command instead of headers")
    parser.add_argument("--json", action="store_true", help="print the headers as a JSON object")


def run(args: argparse.Namespace) -> int:
    """Print the signed request's headers, a JSON object of them, or a curl command."""
    from emulator.auth.client import curl_command, encode_body, sign

    if args.data_file is not None:
        raw = sys.stdin.buffer.read() if str(args.data_file) == "-" else args.data_file.read_bytes()
    else:
        raw = encode_body(args.data)
    order = args.headers.split() if args.headers else None
    extra: dict[str, str] = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise CommandError(f"--header {header!r} is not 'NAME: VALUE'", prefix="sign")
        extra[name.strip()] = value.strip()
    headers = {**extra, **sign(args.method, args.url, raw, username=args.username, secret=args.secret,
                               algorithm=args.algorithm, headers=order)}
    if args.curl:
        print(curl_command(args.method, args.url, headers, raw))
    elif args.json:
        print(json.dumps(headers, indent=2))
    else:
        for name, value in headers.items():
            print(f"{name}: {value}")
    return 0


COMMAND = Command(
    "sign", "print the headers (or a curl command) that sign a request", arguments, run, defaults_in_help=True,
    description="Sign a request as Ingo requires (Kong hmac-auth, hmac-sha512) and print its headers, a JSON object "
                "of them, or a ready curl command.")
