"""Currencies: the order's display currency against its transactional one (with exchange rates other
than 1), and the store's default; amounts, the comparison with NetSuite and store-credit eligibility use
the right one. Through the real handlers, on stores that price with tax and before it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce.readings import (
    TaxPricing,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, address, order
from tests.integration.consumer.money import (
    assert_synced_to_the_cent,
    sync_all,
    tax_of,
)
from tests.integration.consumer.support import (
    case,
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal


# -- 8: currencies ---------------------------------------------------------------------------------
CURRENCIES = {
    # name: (display, transactional, store default, display rate, transactional rate)
    "all-usd": ("USD", "USD", "USD", D("1"), D("1")),
    "shown-in-aud-paid-in-usd": ("AUD", "USD", "USD", D("1.384615"), D("1")),
    "paid-in-eur-on-a-usd-store": ("EUR", "EUR", "USD", D("0.92"), D("0.92")),
    "shown-in-gbp-paid-in-eur-on-a-usd-store": ("GBP", "EUR", "USD", D("0.79"), D("0.92")),
}


@pytest.mark.parametrize("combination", list(CURRENCIES))
def test_each_currency_combination_refunds_in_the_currency_paid_store_credit_in_default(
    sandbox: Sandbox, pricing: TaxPricing, combination: str
) -> None:
    display, transactional, default, display_rate, rate = CURRENCIES[combination]
    tax = tax_of(pricing)
    bc = order(370, [CAP.order_line(1, 3, 27, tax=tax)], [address(27, D("5.00"), tax=tax)]).model_copy(
        update={
            "currency_code": transactional,
            "store_default_currency_code": default,
            "store_default_to_transactional_exchange_rate": rate,
            "display_currency_code": display,
            "display_exchange_rate": display_rate,
        }
    )
    # Refunded in the transactional currency: synced at the order's own amounts (no exchange rate applied)
    paid = case(sandbox, bc, [CAP.refund_line(1, 1, tax_rate=tax)], currency=transactional, tran_id="CM-370")
    # and in the display currency, when that is another
    shown = netsuite_refund(
        sandbox, 370, [CAP.refund_line(1, 1, tax_rate=tax)], currency=display, tran_id="CM-371"
    )
    sync_all(sandbox, [paid] if display == transactional else [paid, shown])
    assert_synced_to_the_cent(sandbox, paid, per_line=1)
    assert state(sandbox, paid).currency == transactional

    # Refunded in the display currency: refused, saying which is which
    if display != transactional:
        failed = state(sandbox, shown)
        assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "CURRENCY_MISMATCH")
        assert "storefront showed" in (failed.reason_detail or "") and transactional in (
            failed.reason_detail or ""
        )

    # As store credit: only when the shopper paid in the store's default currency
    sandbox.configure(refund_method_policy="store_credit")
    credit = netsuite_refund(
        sandbox, 370, [CAP.refund_line(1, 1, tax_rate=tax)], currency=transactional, tran_id="CM-372"
    )
    sync_now(sandbox, credit)
    outcome = state(sandbox, credit)
    if transactional == default:
        assert (outcome.status, outcome.refund_method) == (SyncStatus.SYNCED, "storecredit")
    else:
        assert (outcome.status, outcome.reason_code) == (SyncStatus.FAILED, "REFUND_METHOD_UNAVAILABLE")
        assert transactional in (outcome.reason_detail or "") and default in (outcome.reason_detail or "")
