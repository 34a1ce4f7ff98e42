"""Shared by the money-on-every-store stories: the store settings, the readings, and what to check."""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_sandbox.bigcommerce.readings import (
    AmountBasis,
    GiftCertificateRefund,
    StoreReadings,
    TaxPricing,
    every_reading,
)
from refund_sync_sandbox.lambda_runtime import DrainReport
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import US_TAX, Item
from tests.integration.consumer.support import bigcommerce_refunds, state

D = Decimal
PRICINGS = [TaxPricing.INCLUSIVE, TaxPricing.EXCLUSIVE]
LANTERN = Item("LANTERN", "Camp Lantern", D("10.00"), "305")


def tax_of(pricing: TaxPricing) -> Decimal:
    """Today's store charges 10 %; the US store 8.25 % (which makes the cents interesting)."""
    return D("0.10") if pricing is TaxPricing.INCLUSIVE else US_TAX


def tax_on(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax NetSuite puts on an amount: rounded half up to the cent, as its lines are (generate.py)."""
    return to_cents(amount * rate)


def readings_for(pricing: TaxPricing) -> list[StoreReadings]:
    """Every reading that can change how a card order's amounts come out on a store of this setting."""
    relevant = [r for r in every_reading(pricing) if r.gift_certificates is GiftCertificateRefund.OFFLINE]
    if pricing is TaxPricing.INCLUSIVE:
        # Quote totals and the flag's name differ only on orders priced before tax, and an amount read
        # with its tax is how this store reads it anyway; the adjustment's place has its own stories.
        default = StoreReadings(pricing=pricing)
        relevant = [
            r
            for r in relevant
            if r.quote_total is default.quote_total
            and r.tax_flag is default.tax_flag
            and r.adjustment is default.adjustment
            and r.amount_basis is not AmountBasis.TAX_INCLUSIVE
        ]
    return relevant


ALL_READINGS = [reading for pricing in PRICINGS for reading in readings_for(pricing)]


def in_another_basis(readings: StoreReadings) -> bool:
    """The store reads shipping amounts in another basis than the order's own: refund-sync's figures and
    BigCommerce's cannot agree, and the refund must be held with both, never refunded or refused."""
    before_tax = readings.pricing is TaxPricing.EXCLUSIVE
    return (before_tax and readings.amount_basis is AmountBasis.TAX_INCLUSIVE) or (
        not before_tax and readings.amount_basis is AmountBasis.TAX_EXCLUSIVE
    )


def sync_all(sandbox: Sandbox, refunds: list[NetSuiteRefund]) -> DrainReport:
    report = sandbox.run_poller({"action": "sync", "netsuite_ids": [refund.id for refund in refunds]})
    assert len(report["enqueued"]) == len(refunds), report
    return sandbox.drain()


def refunded_total(sandbox: Sandbox, order_id: int) -> Decimal:
    return sum((refund.total_amount for refund in bigcommerce_refunds(sandbox, order_id)), D(0))


def assert_synced_to_the_cent(sandbox: Sandbox, ns: NetSuiteRefund, *, per_line: int) -> RefundState:
    synced = state(sandbox, ns)
    assert synced.status is SyncStatus.SYNCED, (synced.reason_code, synced.reason_detail)
    (refund,) = bigcommerce_refunds(sandbox, int(ns.bigcommerce_order_id or 0))
    assert synced.refunded_amount == refund.total_amount
    assert synced.quoted_amount == refund.total_amount  # what moves, tax included, whatever the quote's basis
    assert abs(refund.total_amount - ns.total) <= D("0.01") * per_line, (refund.total_amount, ns.total)
    return synced
