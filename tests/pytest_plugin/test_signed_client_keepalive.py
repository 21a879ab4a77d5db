"""The test helpers' signed client (``emulator.testing.SignedClient``, the pytest plugin's ``ingopay_client``) keeps
one keep-alive connection: a test's requests do not each pay for a new one, and a connection the server closed
while idle is replaced without the test noticing."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from emulator.core.credentials import Credential
from emulator.settings import Settings
from emulator.testing import EmulatorServer, SignedClient


class Recorder(http.server.ThreadingHTTPServer):
    """An HTTP/1.1 server that answers every POST with JSON and records the client port each request came from;
    ``idle_close`` closes a connection that stays idle that long."""

    daemon_threads = True

    def __init__(self, idle_close: float | None = None) -> None:
        self.ports: list[int] = []
        self.closed = threading.Event()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = idle_close

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers["Content-Length"]))
                recorder.ports.append(self.client_address[1])
                body = json.dumps({"status": 100}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def shutdown_request(self, request: object) -> None:
        """Close a connection, then say so (the handler's ``finish`` comes before the socket is closed)."""
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(idle_close=0.3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


CREDENTIAL = Credential("test", "secret", 12345)


def test_requests_share_one_connection(recorder: Recorder) -> None:
    client = SignedClient(recorder.url, CREDENTIAL)
    for _ in range(3):
        assert client.post("/gateway/verify", {}).body == {"status": 100}
    assert len(recorder.ports) == 3 and len(set(recorder.ports)) == 1
    client.close()


def test_a_connection_the_server_closed_while_idle_is_replaced(recorder: Recorder) -> None:
    client = SignedClient(recorder.url, CREDENTIAL)
    assert client.post("/gateway/verify", {}).status == 200
    assert recorder.closed.wait(30), "the server never closed the idle connection"
    assert client.post("/gateway/verify", {}).status == 200
    assert len(recorder.ports) == 2 and recorder.ports[0] != recorder.ports[1]
    client.close()


def test_a_verify_then_a_process_against_the_emulator_over_the_kept_connection() -> None:
    server = EmulatorServer(Settings(rate_limit=0)).start()
    try:
        client = server.client()
        first = client.post("/gateway/verify", client.base(account_type="CA", participant_unique_id1="k-1",
                                                           account="4111111111111111", expiration_date="3012",
                                                           recipient_first_name="Ada", recipient_last_name="Byron",
                                                           recipient_address1="1 Main St", recipient_city="Atlanta",
                                                           recipient_state="GA", recipient_zip="30301"))
        assert first.status == 200 and first.body["status"] == 100, first.body
        token = first.body["data"]["customer_account_token"]
        second = client.post("/gateway/process", client.base(account_type="CA", customer_account_token=token,
                                                             amount=10.5, source_of_funds=4,
                                                             participant_unique_id1="k-2"))
        assert second.status == 200 and second.body["status"] == 100, second.body
        client.close()
    finally:
        server.stop()
