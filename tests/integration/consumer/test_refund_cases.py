"""The refund engine through the real handlers, on the sandbox: one story per kind of refund.

Each test makes a refund in the NetSuite simulator against an order in the BigCommerce simulator,
runs the real poller (on demand) and the real consumer (fed from the FIFO queue as Lambda feeds it),
and checks what BigCommerce now holds and what the state item says.
"""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.netsuite import PaidOut, PaidOutMethod
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, SOCKS, TEE, address, order, other_line
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    calls_on,
    case,
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal


def test_a_full_refund_refunds_everything_and_bigcommerce_marks_the_order_refunded(sandbox: Sandbox) -> None:
    bc = order(101, [TEE.order_line(1, 2, 11), MUG.order_line(2, 1, 11)], [address(11, D("8.00"))])
    ns = case(
        sandbox,
        bc,
        [TEE.refund_line(1, 2), MUG.refund_line(2, 1)],
        shipping_amount=D("8.00"),
        shipping_tax=D("0.80"),
    )

    sync_now(sandbox, ns)

    (refund,) = bigcommerce_refunds(sandbox, 101)
    assert refund.total_amount == D("77.00")
    synced = state(sandbox, ns)
    assert synced.status is SyncStatus.SYNCED
    assert (synced.bigcommerce_refund_id, synced.refunded_amount) == (refund.id, D("77.00"))
    assert sandbox.store.snapshot(101).order.status_id == 4  # BigCommerce marks it Refunded itself
    assert synced.refund_method == "braintree"
    # The common path, three calls: read the order, quote, create (its answer is the record).
    assert [c.split(" -> ")[0] for c in calls_on(sandbox, 101)] == [
        "GET v2/orders/101",
        "POST v3/orders/101/payment_actions/refund_quotes",
        "POST v3/orders/101/payment_actions/refunds",
    ]


def test_a_partial_quantity_leaves_the_order_partially_refunded(sandbox: Sandbox) -> None:
    ns = case(
        sandbox,
        order(102, [CAP.order_line(3, 3, 12)], [address(12, D("5.00"))]),
        [CAP.refund_line(1, 1)],
        cash=True,
    )
    sync_now(sandbox, ns)
    synced = state(sandbox, ns)
    assert (synced.status, synced.refunded_amount) == (SyncStatus.SYNCED, D("19.80"))
    assert sandbox.store.snapshot(102).order.status_id == 14
    assert synced.items == ("CAP-NVY x 1 (line 3)",)
    snapshot = sandbox.store.snapshot(102)
    assert snapshot.ledger.remaining_quantity(snapshot.order.products[0]) == 2


def test_shipping_only_is_split_over_two_consignments(sandbox: Sandbox) -> None:
    bc = order(
        103,
        [TEE.order_line(4, 1, 13), MUG.order_line(5, 1, 14)],
        [address(13, D("6.00")), address(14, D("4.00"))],
    )
    ns = case(sandbox, bc, [], shipping_amount=D("10.00"), shipping_tax=D("1.00"))
    sync_now(sandbox, ns)
    synced = state(sandbox, ns)
    assert synced.status is SyncStatus.SYNCED
    assert synced.items == ("shipping 6.60 (address 13)", "shipping 4.40 (address 14)")
    assert synced.refunded_amount == D("11.00")


def refund_shipping_by_hand(sandbox: Sandbox, order_id: int, address_id: int, amount: Decimal) -> None:
    """A refund made in BigCommerce's control panel: all of one address's shipping, recorded offline."""
    sandbox.store.create_refund(
        order_id,
        {
            "items": [{"item_type": "SHIPPING", "item_id": address_id, "amount": str(amount)}],
            "payments": [{"provider_id": "custom", "amount": str(amount), "offline": True}],
        },
    )


def test_shipping_after_an_earlier_refund_goes_where_shipping_is_left(sandbox: Sandbox) -> None:
    # Given an order whose address 33 had its shipping refunded in BigCommerce already
    bc = order(
        115,
        [TEE.order_line(24, 1, 33), MUG.order_line(25, 1, 34)],
        [address(33, D("6.00")), address(34, D("4.00"))],
    )
    ns = case(sandbox, bc, [], shipping_amount=D("4.00"), shipping_tax=D("0.40"), tran_id="CM-115")
    refund_shipping_by_hand(sandbox, 115, 33, D("6.60"))
    sandbox.store.clear_calls()

    # When NetSuite refunds the rest of the shipping
    sync_now(sandbox, ns)

    # Then, the order showing Partially Refunded, the engine read its refunds first (one more call)
    # and asked for the shipping of address 34 only
    assert state(sandbox, ns).items == ("shipping 4.40 (address 34)",)
    assert [c.split(" -> ")[0] for c in calls_on(sandbox, 115)] == [
        "GET v2/orders/115",
        "GET v3/orders/115/payment_actions/refunds",
        "POST v3/orders/115/payment_actions/refund_quotes",
        "POST v3/orders/115/payment_actions/refunds",
    ]


def test_an_order_whose_status_was_set_back_by_hand_still_gets_its_shipping_split_right(
    sandbox: Sandbox,
) -> None:
    # Given the same, but the merchant then set the order's status back by hand: no sign of the refund
    bc = order(
        116,
        [TEE.order_line(26, 1, 35), MUG.order_line(27, 1, 36)],
        [address(35, D("6.00")), address(36, D("4.00"))],
    )
    ns = case(sandbox, bc, [], shipping_amount=D("4.00"), shipping_tax=D("0.40"), tran_id="CM-116")
    refund_shipping_by_hand(sandbox, 116, 35, D("6.60"))
    sandbox.store.update_order_status(116, 11)  # Awaiting Fulfillment

    # When NetSuite refunds the rest of the shipping
    sync_now(sandbox, ns)

    # Then BigCommerce's first quote gives the earlier refund away, and the engine splits again, knowing it
    synced = state(sandbox, ns)
    assert (synced.status, synced.refunded_amount) == (SyncStatus.SYNCED, D("4.40"))
    assert synced.items == ("shipping 4.40 (address 36)",)
    quotes = [c for c in calls_on(sandbox, 116) if "refund_quotes" in c]
    assert len(quotes) == 2


def test_handling_follows_the_configured_handling_item(sandbox: Sandbox) -> None:
    sandbox.configure(handling_items="Handling Fee")
    bc = order(104, [SOCKS.order_line(6, 2, 15)], [address(15, D("5.00"), handling=D("2.00"))])
    ns = case(sandbox, bc, [other_line(1, "Handling Fee", D("2.00"), tax=D("0.20"))])
    sync_now(sandbox, ns)
    synced = state(sandbox, ns)
    assert (synced.status, synced.items, synced.refunded_amount) == (
        SyncStatus.SYNCED,
        ("handling 2.20 (address 15)",),
        D("2.20"),
    )


def test_a_custom_amount_becomes_an_order_level_refund(sandbox: Sandbox) -> None:
    sandbox.configure(custom_amount_items="Goodwill Credit")
    ns = case(
        sandbox,
        order(105, [TEE.order_line(7, 1, 16)], [address(16, D("5.00"))]),
        [other_line(1, "Goodwill Credit", D("5.00"))],
    )
    sync_now(sandbox, ns)
    synced = state(sandbox, ns)
    assert (synced.status, synced.items, synced.refunded_amount) == (
        SyncStatus.SYNCED,
        ("custom amount 5.00",),
        D("5.00"),
    )


def test_a_guest_order_cannot_get_store_credit_and_says_so(sandbox: Sandbox) -> None:
    sandbox.configure(refund_method_policy="store_credit")
    guest = order(106, [MUG.order_line(8, 1, 17)], [address(17, D("5.00"))]).model_copy(
        update={"customer_id": 0}
    )
    ns = case(sandbox, guest, [MUG.refund_line(1, 1)])
    sync_now(sandbox, ns)
    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "REFUND_METHOD_UNAVAILABLE")
    assert "guest order" in (failed.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 106) == []
    (letter,) = sandbox.dead_letters()
    assert letter.reason == "REFUND_METHOD_UNAVAILABLE"


def test_a_non_default_currency_order_refunds_in_its_own_currency_but_never_as_store_credit(
    sandbox: Sandbox,
) -> None:
    euro = order(107, [CAP.order_line(9, 2, 18)], [address(18, D("5.00"))]).model_copy(
        update={"currency_code": "EUR"}
    )
    first = case(sandbox, euro, [CAP.refund_line(1, 1)], currency="EUR", tran_id="CM-EUR-1")
    sync_now(sandbox, first)
    assert state(sandbox, first).status is SyncStatus.SYNCED
    assert state(sandbox, first).currency == "EUR"

    sandbox.configure(refund_method_policy="store_credit")
    second = netsuite_refund(sandbox, 107, [CAP.refund_line(1, 1)], tran_id="CM-EUR-2", currency="EUR")
    sync_now(sandbox, second)
    failed = state(sandbox, second)
    assert failed.reason_code == "REFUND_METHOD_UNAVAILABLE"
    assert "EUR" in (failed.reason_detail or "")


def test_record_only_marks_the_order_refunded_without_moving_money(sandbox: Sandbox) -> None:
    sandbox.configure(refund_method_policy="record_only")
    ns = case(
        sandbox, order(108, [TEE.order_line(10, 1, 19)], [address(19, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)
    (refund,) = bigcommerce_refunds(sandbox, 108)
    assert [(p.provider_id, p.offline) for p in refund.payments] == [("custom", True)]
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert sandbox.store.snapshot(108).order.status_id == 14


def test_when_netsuite_already_paid_the_customer_bigcommerce_only_records_it(sandbox: Sandbox) -> None:
    paid = PaidOut(by_netsuite=True, method=PaidOutMethod.PAYMENT_GATEWAY, reference="PN-1")
    ns = case(
        sandbox,
        order(109, [MUG.order_line(11, 1, 20)], [address(20, D("5.00"))]),
        [MUG.refund_line(1, 1)],
        paid_out=paid,
    )
    sync_now(sandbox, ns)
    (refund,) = bigcommerce_refunds(sandbox, 109)
    assert [(p.provider_id, p.offline) for p in refund.payments] == [("custom", True)]
    assert state(sandbox, ns).refund_method == "custom (offline)"


def test_an_amount_mismatch_is_held_with_both_figures_and_nothing_is_refunded(sandbox: Sandbox) -> None:
    ns = case(
        sandbox,
        order(110, [TEE.order_line(12, 1, 21)], [address(21, D("5.00"))]),
        [TEE.refund_line(1, 1, tax_rate=D("0.11"))],
    )
    sync_now(sandbox, ns)
    held = state(sandbox, ns)
    assert (held.status, held.reason_code, held.quoted_amount) == (
        SyncStatus.HELD,
        "AMOUNT_MISMATCH",
        D("27.50"),
    )
    assert "27.75" in (held.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 110) == []
    assert [letter.reason for letter in sandbox.dead_letters()] == ["AMOUNT_MISMATCH"]


def test_an_order_bigcommerce_does_not_have_fails_at_once_and_is_dead_lettered(sandbox: Sandbox) -> None:
    ns = case(sandbox, None, [MUG.refund_line(1, 1)], order_id=9999)
    report = sync_now(sandbox, ns)
    assert (report.failed, report.succeeded) == (0, 1), "a permanent failure is not retried"
    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "ORDER_NOT_FOUND")
    assert [letter.reason for letter in sandbox.dead_letters()] == ["ORDER_NOT_FOUND"]


def test_dry_run_quotes_and_records_but_creates_nothing_until_it_is_switched_off(sandbox: Sandbox) -> None:
    sandbox.configure(dry_run="true")
    ns = case(
        sandbox, order(112, [TEE.order_line(14, 1, 23)], [address(23, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)
    dry = state(sandbox, ns)
    assert (dry.status, dry.quoted_amount, dry.refund_method) == (SyncStatus.DRY_RUN, D("27.50"), "braintree")
    assert bigcommerce_refunds(sandbox, 112) == []

    sandbox.configure(dry_run="false")
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(bigcommerce_refunds(sandbox, 112)) == 1


def test_write_back_records_the_bigcommerce_refund_on_the_netsuite_refund(sandbox: Sandbox) -> None:
    sandbox.configure(netsuite_write_back="true")
    ns = case(
        sandbox, order(113, [MUG.order_line(15, 1, 24)], [address(24, D("5.00"))]), [MUG.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)
    synced = state(sandbox, ns)
    fields = sandbox.account.sync_fields(ns.id)
    assert fields is not None
    assert (fields.bigcommerce_refund_id, fields.status) == (str(synced.bigcommerce_refund_id), "SYNCED")
    assert (synced.write_back or "").startswith("ok")
    # the write-back touched the refund in NetSuite; the next poll must not send it again
    assert sandbox.run_poller()["enqueued"] == 0
