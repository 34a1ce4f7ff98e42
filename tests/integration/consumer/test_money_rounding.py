"""Rounding: quotes with non-zero `rounding` and a positive `adjustment` are read as what their methods
pay, and partial refunds of one line whose tax does not divide evenly add up to the line exactly.
Through the real handlers, on stores that price with tax and before it, rounding per item or on the total.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce import Order
from refund_sync_sandbox.bigcommerce.readings import (
    AdjustmentPlace,
    Rounding,
    StoreReadings,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import SOCKS, address, order
from tests.integration.consumer.money import (
    LANTERN,
    PRICINGS,
    refunded_total,
    sync_all,
    tax_of,
    tax_on,
)
from tests.integration.consumer.support import (
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal


# -- 9: rounding -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "readings",
    [
        StoreReadings(pricing=pricing, rounding=rounding, adjustment=place)
        for pricing in PRICINGS
        for rounding, place in (
            (Rounding.PER_ITEM, AdjustmentPlace.IN_TOTAL),
            (Rounding.ON_TOTAL, AdjustmentPlace.IN_TOTAL),
            (Rounding.ON_TOTAL, AdjustmentPlace.ON_TOP),
        )
    ],
    ids=StoreReadings.label,
)
def test_partial_refunds_of_a_line_whose_tax_does_not_divide_add_up_to_the_line_exactly(
    sandbox: Sandbox, readings: StoreReadings
) -> None:
    # Given three lanterns at 10.00 with 1.00 off the line (its tax does not divide by three)
    sandbox.store.use_readings(readings)
    tax = tax_of(readings.pricing)
    bc = order(
        380, [LANTERN.order_line(1, 3, 28, discount=D("1.00"), tax=tax)], [address(28, D("5.00"), tax=tax)]
    )
    sandbox.store.seed([bc])
    line = bc.products[0]

    # When NetSuite refunds them one credit memo at a time (the third nets the discount out)
    refunds = []
    for number in range(3):
        amount = D("9.67") if number < 2 else D("9.66")
        refund_line = LANTERN.refund_line(1, 1, tax_rate=tax).model_copy(
            update={"amount": amount, "tax_amount": tax_on(amount, tax)}
        )
        refunds.append(netsuite_refund(sandbox, 380, [refund_line], tran_id=f"CM-38{number}"))
    sync_all(sandbox, refunds)  # one after the other: the order's refunds share a queue message group

    # Then every one synced, and together BigCommerce refunded exactly what the line cost
    for ns in refunds:
        assert state(sandbox, ns).status is SyncStatus.SYNCED, state(sandbox, ns).reason_detail
    assert refunded_total(sandbox, 380) == line.paid_inc_tax
    snapshot = sandbox.store.snapshot(380)
    assert snapshot.ledger.remaining_quantity(line) == 0
    assert snapshot.ledger.remaining_line_amount(line) == 0


def test_a_quote_with_rounding_and_a_positive_adjustment_is_read_as_its_methods_pay(
    sandbox: Sandbox,
) -> None:
    # Given three units that cost 10.00 together on a store that rounds once, on the total
    sandbox.store.use_readings(StoreReadings(rounding=Rounding.ON_TOTAL, adjustment=AdjustmentPlace.ON_TOP))
    bc = Order.model_validate(
        {
            **order(381, [SOCKS.order_line(1, 3, 29, tax=D("0"))], [address(29, D("0"))]).model_dump(),
            "products": [
                {
                    **SOCKS.order_line(1, 3, 29, tax=D("0")).model_dump(),
                    "applied_discounts": [{"amount": "17.00"}],
                }
            ],
            "tenders": [{"provider_id": "braintree", "amount": "10.00"}],
        }
    )
    sandbox.store.seed([bc])
    for number, amount in enumerate(("3.33", "3.33", "3.34")):
        line = SOCKS.refund_line(1, 1, tax_rate=D("0")).model_copy(update={"amount": D(amount)})
        ns = netsuite_refund(sandbox, 381, [line], tran_id=f"CM-39{number}")
        sync_now(sandbox, ns)
        assert state(sandbox, ns).status is SyncStatus.SYNCED, state(sandbox, ns).reason_detail
        assert state(sandbox, ns).refunded_amount == D(amount)
    assert refunded_total(sandbox, 381) == D("10.00")
