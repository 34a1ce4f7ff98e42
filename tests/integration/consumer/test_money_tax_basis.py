"""Shipping, handling and fees in the basis BigCommerce taxes, on stores that price with tax and (most
US stores) before it, under every reading of what BigCommerce's documents leave open (the simulator's
readings.py); and rounding: partial refunds of one line add up to it exactly. Through the real handlers.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce.readings import (
    StoreReadings,
    TaxPricing,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, SOCKS, TEE, US_TAX, address, order, other_line
from tests.integration.consumer.money import (
    ALL_READINGS,
    assert_synced_to_the_cent,
    in_another_basis,
    sync_all,
    tax_of,
    tax_on,
)
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    calls_on,
    case,
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal


# -- 1, 2: shipping and handling in the basis BigCommerce taxes, under every reading ---------------
@pytest.mark.parametrize("readings", ALL_READINGS, ids=StoreReadings.label)
def test_full_shipping_only_and_two_consignment_refunds_sync_or_are_held_with_both_figures(
    sandbox: Sandbox, readings: StoreReadings
) -> None:
    # Given a store that prices with tax or before it, under one reading of the open questions
    sandbox.store.use_readings(readings)
    tax = tax_of(readings.pricing)
    full = order(
        301,
        [TEE.order_line(1, 2, 11, tax=tax), MUG.order_line(2, 1, 11, tax=tax)],
        [address(11, D("8.00"), tax=tax)],
    )
    shipping_only = order(302, [CAP.order_line(3, 1, 12, tax=tax)], [address(12, D("6.50"), tax=tax)])
    two_addresses = order(
        303,
        [TEE.order_line(4, 1, 13, tax=tax), MUG.order_line(5, 1, 14, tax=tax)],
        [address(13, D("6.00"), tax=tax), address(14, D("4.00"), tax=tax)],
    )
    sandbox.store.seed([full, shipping_only, two_addresses])
    # And NetSuite refunds: everything with shipping; shipping only; the shipping of both consignments
    refunds = [
        netsuite_refund(
            sandbox,
            301,
            [TEE.refund_line(1, 2, tax_rate=tax), MUG.refund_line(2, 1, tax_rate=tax)],
            tran_id="CM-301",
            shipping_amount=D("8.00"),
            shipping_tax=tax_on(D("8.00"), tax),
        ),
        netsuite_refund(
            sandbox,
            302,
            [],
            tran_id="CM-302",
            shipping_amount=D("6.50"),
            shipping_tax=tax_on(D("6.50"), tax),
        ),
        netsuite_refund(
            sandbox,
            303,
            [],
            tran_id="CM-303",
            shipping_amount=D("10.00"),
            shipping_tax=tax_on(D("10.00"), tax),
        ),
    ]

    # When they are synced
    report = sync_all(sandbox, refunds)

    # Then none is retried, and each is refunded to the cent, or held with both figures, never refused
    assert report.failed == 0
    for ns, lines in zip(refunds, (3, 1, 2), strict=True):
        outcome = state(sandbox, ns)
        order_id = int(ns.bigcommerce_order_id or 0)
        if in_another_basis(readings):
            assert (outcome.status, outcome.reason_code) == (SyncStatus.HELD, "AMOUNT_MISMATCH"), outcome
            assert str(ns.total) in (outcome.reason_detail or "")
            assert "methods pay" in (outcome.reason_detail or "")
            assert bigcommerce_refunds(sandbox, order_id) == []
            continue
        assert_synced_to_the_cent(sandbox, ns, per_line=lines)
        # the amounts went out in the order's basis: before tax on the US store
        before_tax = readings.pricing is TaxPricing.EXCLUSIVE
        assert all(("before tax" in item) == before_tax for item in outcome.items if "shipping" in item)
    if not in_another_basis(readings):
        assert sandbox.store.snapshot(301).order.status_id == 4  # all of it: Refunded
        assert sandbox.store.snapshot(302).order.status_id == 14
        assert [item.rsplit(" (", 1)[1] for item in state(sandbox, refunds[2]).items] == [
            "address 13)",
            "address 14)",
        ]
    held = ["AMOUNT_MISMATCH"] * len(refunds) if in_another_basis(readings) else []
    assert sorted(letter.reason for letter in sandbox.dead_letters()) == held


def test_a_tax_exclusive_full_refund_takes_the_three_calls_of_the_common_path(sandbox: Sandbox) -> None:
    sandbox.store.use_readings(StoreReadings(pricing=TaxPricing.EXCLUSIVE))
    bc = order(
        304,
        [SOCKS.order_line(1, 2, 15, tax=US_TAX)],
        [address(15, D("5.00"), handling=D("2.00"), tax=US_TAX)],
    )
    sandbox.configure(handling_items="Handling Fee")
    ns = case(
        sandbox,
        bc,
        [SOCKS.refund_line(1, 2, tax_rate=US_TAX), other_line(2, "Handling Fee", D("2.00"), tax=D("0.17"))],
        shipping_amount=D("5.00"),
        shipping_tax=D("0.41"),
        tran_id="CM-304",
    )
    sync_now(sandbox, ns)
    synced = assert_synced_to_the_cent(sandbox, ns, per_line=3)
    assert synced.items == (
        "SOCK-3PK x 2 (line 1)",
        "shipping 5.00 before tax (address 15)",
        "handling 2.00 before tax (address 15)",
    )
    assert [c.split(" -> ")[0] for c in calls_on(sandbox, 304)] == [
        "GET v2/orders/304",
        "POST v3/orders/304/payment_actions/refund_quotes",
        "POST v3/orders/304/payment_actions/refunds",
    ]
