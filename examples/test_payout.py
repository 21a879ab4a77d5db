"""An example a user can copy: test payout code against the emulator with the pytest plugin.

Run it with `pytest examples/test_payout.py` once ingopay-emulator is installed: it is not published yet, so install it
from a clone (`pip install /path/to/ingopay-emulator`) or a wheel you build (`pip wheel --no-deps --wheel-dir wheels
/path/to/ingopay-emulator`, then `pip install wheels/ingopay_emulator-*.whl`), as the README's "Install into your own
project" says.
"""

CARD = {"account_type": "CA", "participant_unique_id1": "customer-42", "expiration_date": "2912",
        "recipient_first_name": "Jane", "recipient_last_name": "Doe", "recipient_address1": "1 Main St",
        "recipient_city": "Atlanta", "recipient_state": "GA", "recipient_zip": "30301"}


def pay(client, card_number, amount, payment_id):
    """The code under test: tokenize a card, then push money to it. Returns Ingo's status."""
    verified = client.post("/gateway/verify", client.base(account=card_number, **CARD))
    if verified["status"] != 100:
        return verified["status"]
    token = verified["data"]["customer_account_token"]
    paid = client.post("/gateway/process", client.base(account_type="CA", amount=amount, source_of_funds=4,
                                                       customer_account_token=token,
                                                       participant_unique_id1=payment_id))
    return paid["status"]


def test_a_payout_is_approved(ingopay_client):
    assert pay(ingopay_client, "4111111111111111", 25.00, "payment-1") == 100


def test_insufficient_funds_is_reported(ingopay_client):
    # From the magic-values table (docs/magic-values.md): card 4000 0000 8510 0008 declines with 851 at process.
    assert pay(ingopay_client, "4000000085100008", 25.00, "payment-2") == 851


def test_a_returned_payment_arrives_two_days_later(ingopay_emulator, ingopay_client):
    # Amount cents .14 schedules a "payment returned" webhook (1114) two days after the payout.
    assert pay(ingopay_client, "4111111111111111", 25.14, "payment-3") == 100
    assert ingopay_emulator.webhooks("gateway.transaction.recipient.payment.status.returned") == []
    ingopay_emulator.advance(2 * 24 * 3600)
    [returned] = ingopay_emulator.webhooks("gateway.transaction.recipient.payment.status.returned")
    assert returned.event["status"] == "1114"
    assert returned.signature_valid
