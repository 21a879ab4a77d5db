"""Tenants over raw HTTP: POST /_emulator/credentials mints a credential with a participant of its own, usable at
once; what one tenant does (state, idempotency, rate budget, scenario activation, findings) another never sees;
DELETE takes it and its state away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.outside import Client, admin, call


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    running = EmulatorServer(Settings(rate_limit=5)).start()
    yield running
    running.stop()


def mint(url: str, **fields: Any) -> dict[str, Any]:
    status, tenant = admin(url, "POST", "/_emulator/credentials", fields)
    assert status == 201, tenant
    return tenant


def test_a_minted_tenant_signs_at_once_and_its_secret_is_shown_only_then(server: EmulatorServer) -> None:
    tenant = mint(server.url)
    assert set(tenant) == {"username", "secret", "participant_id", "webhook_endpoint", "created"}
    assert 10000 <= tenant["participant_id"] <= 99999 and len(tenant["secret"]) >= 32
    client = Client(server.url, tenant["username"], tenant["secret"], tenant["participant_id"])
    client.token()
    status, listing = admin(server.url, "GET", "/_emulator/credentials")
    assert status == 200
    listed = next(c for c in listing["credentials"] if c["username"] == tenant["username"])
    assert listed == {"username": tenant["username"], "participant_id": tenant["participant_id"], "minted": True,
                      "webhook_endpoint": None}
    assert tenant["secret"] not in str(listing)
    assert {"username": "test", "participant_id": 12345, "minted": False, "webhook_endpoint": None} \
        in listing["credentials"]


def test_a_tenant_with_a_wrong_secret_is_refused_like_any_client(server: EmulatorServer) -> None:
    tenant = mint(server.url)
    status, _, answer = Client(server.url, tenant["username"], "not-the-secret", tenant["participant_id"]).post(
        "/gateway/verify", {})
    assert status == 401 and answer["diagnosis"]["code"] == "signature_mismatch"


def test_a_chosen_participant_is_given_and_a_taken_one_is_a_409(server: EmulatorServer) -> None:
    assert mint(server.url, participant_id=4242)["participant_id"] == 4242
    for taken in (4242, 12345):
        status, answer = admin(server.url, "POST", "/_emulator/credentials", {"participant_id": taken})
        assert status == 409 and f"participant_id {taken} already has a credential" in answer["message"]


@pytest.mark.parametrize(("body", "named"), [
    ({"participant_id": 0}, "participant_id: must be at least 1"),
    ({"participant_id": "7"}, "participant_id: must be an integer"),
    ({"webhook_url": "ftp://x"}, "webhook_url"),
    ({"topics": ["a"]}, "need a webhook_url"),
    ({"secret": "mine"}, "secret is not a key this call knows"),
])
def test_a_tenant_that_cannot_be_minted_as_asked_is_a_400_naming_why(server: EmulatorServer, body: dict[str, Any],
                                                                     named: str) -> None:
    status, answer = admin(server.url, "POST", "/_emulator/credentials", body)
    assert status == 400 and named in answer["message"]


def test_two_tenants_use_the_same_ids_without_seeing_each_other(server: EmulatorServer) -> None:
    first, second = Client.minted(server.url), Client.minted(server.url)
    answers = []
    for client in (first, second):
        token = client.token()
        status, _, paid = client.push(token, 25.0, "order-1")
        answers.append((status, paid["status"]))
        status, _, again = client.push(token, 25.0, "order-1")
        assert again["status"] == 101  # idempotency holds within a tenant
    assert answers == [(200, 100), (200, 100)]  # the same participant_unique_id1 is new to each tenant
    for client in (first, second):
        status, state = admin(server.url, "GET", f"/_emulator/state?participant_id={client.participant_id}")
        assert status == 200 and len(state["tokens"]) == 1 and len(state["transactions"]) == 1
        status, journal = admin(server.url, "GET", f"/_emulator/requests?participant_id={client.participant_id}")
        assert {e["username"] for e in journal["requests"]} == {client.username}


def test_each_tenant_has_its_own_rate_budget(server: EmulatorServer) -> None:
    busy, quiet = Client.minted(server.url), Client.minted(server.url)
    statuses = [busy.post("/gateway/verify", {})[0] for _ in range(8)]
    assert 429 in statuses
    assert quiet.post("/gateway/verify", {})[0] != 429


def test_a_scenario_activated_for_one_tenant_scripts_only_that_tenant(server: EmulatorServer) -> None:
    scripted, other = Client.minted(server.url), Client.minted(server.url)
    name = f"decline-{scripted.participant_id}"
    document = (f"version: 1\nscenarios:\n  - name: {name}\n    active: false\n    rules:\n"
                "      - name: broke\n        match: {endpoint: process}\n        respond: {status: 851}\n")
    status, _, added = call(server.url, "POST", "/_emulator/scenarios", document.encode(),
                            headers={"Content-Type": "application/yaml"})
    assert status == 201, added
    status, _ = admin(server.url, "POST", f"/_emulator/scenarios/{name}/activate",
                      {"participant_id": scripted.participant_id})
    assert status == 200
    assert scripted.push(scripted.token(), 5.0, "p")[2]["status"] == 851
    assert other.push(other.token(), 5.0, "p")[2]["status"] == 100


def test_a_tenants_webhook_endpoint_gets_its_events_only(server: EmulatorServer) -> None:
    hooked = Client.minted(server.url, webhook_url=server.receiver_url + "?tenant")
    other = Client.minted(server.url)
    for client in (hooked, other):
        client.push(client.token(), 9.06, "ofac")  # .06: an OFAC suspension event at once
    status, answer = admin(server.url, "POST", "/_emulator/webhooks/wait", {
        "match": {"participant_id": hooked.participant_id, "status": "delivered"}, "count": 2})
    assert status == 200  # one to the tenant's endpoint, one to the emulator's global receiver
    status, tenants_own = admin(server.url, "GET", "/_emulator/credentials")
    endpoint = next(c["webhook_endpoint"] for c in tenants_own["credentials"] if c["username"] == hooked.username)
    status, answer = admin(server.url, "POST", "/_emulator/webhooks/wait", {
        "match": {"endpoint_id": endpoint}, "count": {"at_least": 0}})
    assert {d["participant_id"] for d in answer["deliveries"]} == {hooked.participant_id}


def test_deleting_a_tenant_takes_its_credential_and_its_state_away(server: EmulatorServer) -> None:
    client = Client.minted(server.url)
    client.push(client.token(), 4.02, "gone")  # a push with an unclear outcome...
    client.push(client.token(), 4.02, "gone-again")  # ...and a second one: a finding
    assert client.findings()
    status, answer = admin(server.url, "DELETE", f"/_emulator/credentials/{client.username}")
    assert (status, answer) == (200, {"removed": client.username, "participant_id": client.participant_id})
    assert client.post("/gateway/verify", {})[2]["diagnosis"]["code"] == "unknown_username"
    status, state = admin(server.url, "GET", f"/_emulator/state?participant_id={client.participant_id}")
    assert state["tokens"] == [] and state["transactions"] == []
    assert admin(server.url, "GET", f"/_emulator/requests?participant_id={client.participant_id}")[1]["count"] == 0
    assert client.findings() == []
    assert admin(server.url, "DELETE", f"/_emulator/credentials/{client.username}")[0] == 404


def test_a_configured_credential_cannot_be_deleted(server: EmulatorServer) -> None:
    status, answer = admin(server.url, "DELETE", "/_emulator/credentials/test")
    assert status == 409 and "configured credential" in answer["message"]
    assert server.client().post("/gateway/verify", {}).status != 401



@pytest.fixture
def other() -> Iterator[EmulatorServer]:
    """A second emulator, to restore a snapshot of the first into."""
    running = EmulatorServer(Settings(rate_limit=0)).start()
    yield running
    running.stop()


def test_a_restore_removes_live_tenants_and_a_new_one_never_gets_a_restored_participant(
        server: EmulatorServer, other: EmulatorServer) -> None:
    paid = Client.minted(server.url)
    paid.push(paid.token(), 6.0, "order-1")
    status, archive = admin(server.url, "GET", "/_emulator/snapshot")
    assert status == 200
    live = Client.minted(other.url)  # minted here before the restore: the snapshot's point knows no such tenant
    status, restored = admin(other.url, "POST", "/_emulator/snapshot", archive)
    assert status == 200, restored
    assert live.post("/gateway/verify", {})[2]["diagnosis"]["code"] == "unknown_username"
    restored_participants = {e["participant_id"] for e in archive["journal"]} - {None}
    assert paid.participant_id in restored_participants
    fresh = Client.minted(other.url)
    assert fresh.participant_id not in restored_participants
    assert fresh.findings() == []
    status, state = admin(other.url, "GET", f"/_emulator/state?participant_id={fresh.participant_id}")
    assert state["tokens"] == [] and state["transactions"] == []
    # the restored participant's state is there for a credential minted for it on purpose
    again = Client.minted(other.url, participant_id=paid.participant_id)
    assert again.push(paid.token(), 6.0, "order-1")[2]["status"] == 101


def test_a_restored_journal_is_masked_whatever_the_archive_held(server: EmulatorServer,
                                                                other: EmulatorServer) -> None:
    client = Client.minted(server.url)
    client.token()
    status, archive = admin(server.url, "GET", "/_emulator/snapshot")
    entry = next(e for e in archive["journal"] if e["participant_id"] == client.participant_id)
    entry["request_body"].update(account="4111111111111111", cvv="123")
    entry["facts"]["headers"] = {"authorization": "hmac username=\"x\", signature=\"planted\""}  # an older archive
    entry["request_headers"].append(["Authorization", 'hmac username="x", algorithm="hmac-sha512", '
                                                      'headers="x-date", signature="planted"'])
    assert admin(other.url, "POST", "/_emulator/snapshot", archive)[0] == 200
    status, journal = admin(other.url, "GET", f"/_emulator/requests?participant_id={client.participant_id}")
    text = str(journal)
    assert "4111111111111111" not in text and "'123'" not in text and "planted" not in text
    assert journal["requests"][0]["request_body"]["account"] == "************1111"
