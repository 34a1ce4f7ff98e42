"""No personal data (names, e-mail addresses, postal addresses, phone numbers) reaches the logs.

The customer's details travel with the refunds: NetSuite's customer name and the memo support staff
typed, BigCommerce's billing and shipping addresses and the order's notes. The state table and the
dead-letter queue may carry what a person needs to act on a refund; the logs must not carry who the
customer is. Refunds with a customer no test data would invent run through the real handlers, down
every path that logs: synced, held, failed, dead-lettered, retried, unreadable, declined later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask, Response

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.observability import metrics
from refund_sync_sandbox.bigcommerce import Address, Order
from refund_sync_sandbox.http_server import HttpServer, serve
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, TAX, TEE, Item
from tests.security.capture import everything_written, leaks
from tests.security.planted import PlantedSecrets, an_order, planted_sandbox

D = Decimal

SHOPPER = Address(
    first_name="Philippa",
    last_name="Quarrington-Smythe",
    company="Lanternwick Holdings",
    street_1="17 Lantern Wharf Row",
    street_2="Flat 4B Moorgate House",
    city="Fenwick-under-Lyme",
    state="Westmarch",
    zip="LW7 3QZ",
    country="United Kingdom",
    country_iso2="GB",
    phone="+44 20 7946 0958",
    email="philippa.q.smythe@example.org",
)
CUSTOMER_NAME = f"{SHOPPER.first_name} {SHOPPER.last_name}"
MEMO = f"Customer rang from {SHOPPER.phone} ({SHOPPER.email}): parcel left at {SHOPPER.street_1}"

# Each piece on its own, as a log line might hold only part of a record.
PERSONAL_DATA = [
    SHOPPER.first_name,
    SHOPPER.last_name,
    "Quarrington",
    CUSTOMER_NAME,
    SHOPPER.company,
    SHOPPER.street_1,
    "Lantern Wharf",
    SHOPPER.street_2,
    SHOPPER.city,
    SHOPPER.zip,
    SHOPPER.phone,
    SHOPPER.phone.replace(" ", ""),
    "7946 0958",
    "79460958",
    SHOPPER.email,
    "philippa.q.smythe",
    json.dumps(MEMO)[1:-1],
]


def customers_order(order_id: int, item: Item, *, declines: bool = False) -> Order:
    """An order billed to and shipped to the shopper, with her words in its notes."""
    made = an_order(order_id, item, declines=declines, shopper=SHOPPER)
    shipping = [
        address.model_copy(update=SHOPPER.model_dump(exclude={"shipping_method"}))
        for address in made.shipping_addresses
    ]
    return made.model_copy(
        update={
            "shipping_addresses": shipping,
            "customer_message": f"Please ring {SHOPPER.phone} before delivery",
            "staff_notes": f"{CUSTOMER_NAME} is a regular; e-mail {SHOPPER.email}",
        }
    )


PLANTED = PlantedSecrets.generate(key_type="ec")  # any credentials do: the secrets have a test of their own


@pytest.fixture
def sandbox(moto_endpoint: str) -> Iterator[Sandbox]:
    """A sandbox (TBA: the login does not matter here) that also writes the outcome back to NetSuite."""
    metrics.clear_metrics()
    with planted_sandbox(moto_endpoint, PLANTED, NetSuiteAuthMethod.TBA) as running:
        running.configure(netsuite_write_back="true")
        yield running


def send_unreadable_copy(sandbox: Sandbox, refund: NetSuiteRefund) -> None:
    """A message carrying the refund, and so the customer, that no consumer can read (a bad currency)."""
    body = json.loads(
        RefundMessage(refund=refund, sent_by="schedule", sent_at=refund.last_modified).model_dump_json()
    )
    body["refund"]["currency"] = "pounds sterling"
    sandbox.aws.sqs().send_message(
        QueueUrl=sandbox.aws.refund_queue_url,
        MessageBody=json.dumps(body),
        MessageGroupId=f"order-{refund.bigcommerce_order_id}",
        MessageDeduplicationId="unreadable",
    )


def dead_letter_bodies(sandbox: Sandbox) -> str:
    received = sandbox.aws.sqs().receive_message(
        QueueUrl=sandbox.aws.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return "\n".join(message["Body"] for message in received.get("Messages", []))


def test_the_customers_name_address_email_and_phone_never_reach_the_logs(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refund_for(order_id: int, item: Item, tran_id: str, *, tax_rate: Decimal = TAX) -> NetSuiteRefund:
        sales_order = sandbox.account.add_sales_order(
            bigcommerce_order_id=str(order_id), customer_name=CUSTOMER_NAME
        )
        billing = sandbox.account.add_billing(sales_order)
        line = item.refund_line(1, 1, tax_rate=tax_rate)
        return sandbox.account.create_refund(billing, [line], tran_id=tran_id, memo=MEMO)

    with everything_written(monkeypatch) as captured:
        # Given the customer's refunds: one that syncs (after a 503), one whose tax differs, one for a
        # line her order does not have, one the gateway declines later, one for an order BigCommerce lacks
        sandbox.store.seed(
            [
                customers_order(301, TEE),
                customers_order(302, TEE),
                customers_order(303, MUG),
                customers_order(304, CAP, declines=True),
            ]
        )
        refund_for(301, TEE, "CM-301")
        refund_for(302, TEE, "CM-302", tax_rate=D("0.11"))
        refund_for(303, TEE, "CM-303")
        refund_for(304, CAP, "CM-304")
        missing_order = refund_for(9998, MUG, "CM-305")
        sandbox.store.fail_next("GET", "/v2/orders/301", 503)

        # When the poller, the consumer and the payout check run
        assert sandbox.run_poller()["enqueued"] == 5
        sandbox.drain()
        sandbox.run_payout_check()

        # And an operator syncs her refunds on demand, with a document number NetSuite does not know
        sandbox.run_poller({"action": "sync", "document_numbers": ["CM-302", "CM-399"]})
        # And a message no consumer can read arrives, with her details in it
        send_unreadable_copy(sandbox, missing_order)
        sandbox.drain()

    # Then every path ran, and was logged
    logged = captured.text()
    for reason in ("AMOUNT_MISMATCH", "NO_MATCHING_LINE", "GATEWAY_DECLINED", "ORDER_NOT_FOUND", "Malformed"):
        assert reason in logged, reason
    assert "Retrying a BigCommerce call" in logged
    # And her details did travel with the refunds (the dead-letter queue keeps each refund whole)
    assert CUSTOMER_NAME in dead_letter_bodies(sandbox)

    # But no piece of them is in the logs
    assert leaks(logged, PERSONAL_DATA) == []


def unreadable_order_store() -> HttpServer:
    """A store whose order answer the client cannot read: a consignment without its id. BigCommerce's
    shipping consignment starts with the recipient (first_name, last_name, company, street_1, ...)."""
    app = Flask("unreadable-order")
    recipient = SHOPPER.model_dump(exclude={"country_iso2"})

    @app.get("/stores/<store_hash>/v2/orders/<int:order_id>")
    def an_order_with_an_unexpected_shape(store_hash: str, order_id: int) -> Response:
        del store_hash
        body = {
            "id": order_id,
            "status_id": 11,
            "total_inc_tax": "30.00",
            "billing_address": recipient,
            "consignments": {"shipping": [{**recipient, "line_items": []}]},
        }
        return Response(json.dumps(body), mimetype="application/json")

    return serve(app, name="unreadable-order", host="127.0.0.1", port=0, log_requests=False)


def test_an_order_answer_the_client_cannot_read_does_not_put_the_recipient_into_the_logs(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a refund of an order whose BigCommerce answer has a shape the client does not expect
    sales_order = sandbox.account.add_sales_order(bigcommerce_order_id="311", customer_name=CUSTOMER_NAME)
    sandbox.account.create_refund(sandbox.account.add_billing(sales_order), [TEE.refund_line(1, 1)])
    store = unreadable_order_store()
    try:
        sandbox.configure(bigcommerce_api_url=store.url)
        # When the consumer tries to sync it
        with everything_written(monkeypatch) as captured:
            sandbox.run_poller()
            sandbox.drain()
    finally:
        store.shutdown()

    # Then the failure is logged, without the recipient's details
    assert captured.handler_errors, "the batch failed"
    assert leaks(captured.text(), PERSONAL_DATA) == []
