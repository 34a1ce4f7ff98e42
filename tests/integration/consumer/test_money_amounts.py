"""Amounts that are not products: zero refunds, fees, gift wrapping; and the two tolerances. Through the
real handlers, on stores that price with tax and before it.
"""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.netsuite import Origin
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce.readings import (
    TaxPricing,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, TEE, address, fee, order, other_line, wrap
from tests.integration.consumer.money import (
    assert_synced_to_the_cent,
    sync_all,
    tax_of,
    tax_on,
)
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    calls_on,
    case,
    deliver_again,
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal


# -- 5: zero refunds -------------------------------------------------------------------------------
def test_a_zero_credit_memo_is_skipped_with_its_reason_before_any_call(sandbox: Sandbox) -> None:
    # Given a credit memo whose lines give back nothing in total
    sandbox.store.seed([order(330, [TEE.order_line(1, 1, 20)], [address(20, D("5.00"))])])
    zero = netsuite_refund(sandbox, 330, [], tran_id="CM-330")
    even = netsuite_refund(
        sandbox,
        330,
        [TEE.refund_line(1, 1), other_line(2, "Reversal", D("-25.00"), item_type="Discount", tax=D("-2.50"))],
        tran_id="CM-331",
    )
    sandbox.store.clear_calls()

    # When they are synced
    report = sync_all(sandbox, [zero, even])

    # Then each is SKIPPED with its reason; BigCommerce heard nothing; nothing is dead-lettered
    assert (report.failed, report.succeeded) == (0, 2)
    for ns in (zero, even):
        skipped = state(sandbox, ns)
        assert (skipped.status, skipped.reason_code) == (SyncStatus.SKIPPED, "ZERO_AMOUNT")
        assert "0.00" in (skipped.reason_detail or "")
    assert calls_on(sandbox, 330) == []
    assert sandbox.dead_letters() == []

    # And a redelivery changes nothing
    deliver_again(sandbox, zero, copy="again")
    assert state(sandbox, zero).status is SyncStatus.SKIPPED
    assert calls_on(sandbox, 330) == []


def test_a_held_refund_edited_to_zero_in_netsuite_is_skipped(sandbox: Sandbox) -> None:
    ns = case(
        sandbox,
        order(332, [TEE.order_line(1, 1, 21)], [address(21, D("5.00"))]),
        [TEE.refund_line(1, 1, tax_rate=D("0.11"))],
        tran_id="CM-332",
    )
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.HELD

    edited = sandbox.account.touch(ns.id).model_copy(
        update={"lines": [], "subtotal": D("0"), "tax_total": D("0"), "total": D("0")}
    )
    deliver_again(sandbox, edited, copy="edited-to-zero")

    skipped = state(sandbox, ns)
    assert (skipped.status, skipped.reason_code) == (SyncStatus.SKIPPED, "ZERO_AMOUNT")
    assert bigcommerce_refunds(sandbox, 332) == []


def test_a_zero_credit_memo_given_lines_later_is_synced_once(sandbox: Sandbox) -> None:
    # Given a credit memo saved empty, and SKIPPED as a zero refund
    sandbox.store.seed([order(333, [TEE.order_line(1, 1, 23)], [address(23, D("5.00"))])])
    zero = netsuite_refund(sandbox, 333, [], tran_id="CM-333")
    sync_now(sandbox, zero)
    assert state(sandbox, zero).status is SyncStatus.SKIPPED

    # When support adds the line it was meant to refund, and the schedule's sweep runs
    line = TEE.refund_line(1, 1)
    edited = sandbox.account.edit(
        zero.id,
        lines=[line],
        subtotal=line.amount,
        tax_total=line.tax_amount,
        total=line.amount + line.tax_amount,
    )
    sandbox.run_poller()
    sandbox.drain()

    # Then it is synced for its new total, once, and a later sweep or redelivery adds nothing
    synced = state(sandbox, edited)
    assert synced.status is SyncStatus.SYNCED, (synced.reason_code, synced.reason_detail)
    (refund,) = bigcommerce_refunds(sandbox, 333)
    assert refund.total_amount == edited.total
    sandbox.run_poller()
    deliver_again(sandbox, edited, copy="edited-again")
    sync_now(sandbox, edited)
    assert len(bigcommerce_refunds(sandbox, 333)) == 1
    assert state(sandbox, edited).status is SyncStatus.SYNCED


def test_a_refund_the_loop_guard_skipped_stays_skipped_when_edited(sandbox: Sandbox) -> None:
    # Given a refund imported from BigCommerce (the loop guard's external id), SKIPPED
    sandbox.store.seed([order(334, [TEE.order_line(1, 2, 24)], [address(24, D("5.00"))])])
    line = TEE.refund_line(1, 1)
    imported = netsuite_refund(
        sandbox, 334, [line], tran_id="CM-334", origin=Origin(external_id="bc-refund-9")
    )
    sandbox.run_poller()
    sandbox.drain()
    assert state(sandbox, imported).status is SyncStatus.SKIPPED

    # When its content is edited in NetSuite, swept again, and even delivered straight to the consumer
    two = line.model_copy(
        update={"quantity": D(2), "amount": 2 * line.amount, "tax_amount": 2 * line.tax_amount}
    )
    edited = sandbox.account.edit(
        imported.id,
        lines=[two],
        subtotal=two.amount,
        tax_total=two.tax_amount,
        total=two.amount + two.tax_amount,
    )
    sandbox.run_poller()
    sandbox.drain()
    deliver_again(sandbox, edited, copy="edited")

    # Then nothing reaches BigCommerce: it came from there
    assert state(sandbox, edited).status is SyncStatus.SKIPPED
    assert bigcommerce_refunds(sandbox, 334) == []


# -- 6: fees and gift wrapping ---------------------------------------------------------------------
def test_a_fee_item_refunds_the_orders_fee_never_a_custom_amount(
    sandbox: Sandbox, pricing: TaxPricing
) -> None:
    sandbox.configure(fee_items="Shipping Insurance", custom_amount_items="Goodwill Credit")
    tax = tax_of(pricing)
    insured = order(
        340,
        [TEE.order_line(1, 1, 22, tax=tax)],
        [address(22, D("5.00"), tax=tax)],
        fees=[fee(3, "Shipping Insurance", D("2.50"), tax=tax)],
    )
    fee_tax = tax_on(D("2.50"), tax)
    ns = case(
        sandbox,
        insured,
        [TEE.refund_line(1, 1, tax_rate=tax), other_line(2, "Shipping Insurance", D("2.50"), tax=fee_tax)],
        tran_id="CM-340",
    )
    sync_now(sandbox, ns)
    synced = assert_synced_to_the_cent(sandbox, ns, per_line=2)
    before_tax = " before tax" if pricing is TaxPricing.EXCLUSIVE else ""
    fee_amount = D("2.50") if pricing is TaxPricing.EXCLUSIVE else D("2.50") + fee_tax
    assert synced.items == ("TEE-BLK-M x 1 (line 1)", f"Shipping Insurance {fee_amount}{before_tax} (fee 3)")
    (refund,) = bigcommerce_refunds(sandbox, 340)
    assert [item.item_type for item in refund.items] == ["PRODUCT", "FEE"]


def test_an_unconfigured_fee_line_fails_naming_the_fee_never_an_order_amount(
    sandbox: Sandbox,
) -> None:
    insured = order(
        341,
        [TEE.order_line(1, 1, 23)],
        [address(23, D("5.00"))],
        fees=[fee(4, "Shipping Insurance", D("2.50"))],
    )
    ns = case(
        sandbox, insured, [other_line(1, "Shipping Insurance", D("2.50"), tax=D("0.25"))], tran_id="CM-341"
    )
    sync_now(sandbox, ns)
    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "NO_MATCHING_LINE")
    assert "FeeItems" in (failed.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 341) == []


def test_gift_wrapping_refunds_as_gift_wrapping_of_whole_units(sandbox: Sandbox, pricing: TaxPricing) -> None:
    sandbox.configure(gift_wrapping_items="Gift Wrap")
    tax = tax_of(pricing)
    wrapped = order(
        350,
        [MUG.order_line(1, 2, 24, tax=tax, wrapping=wrap(D("3.00"), tax=tax))],
        [address(24, D("5.00"), tax=tax)],
    )
    wrap_tax = tax_on(D("3.00"), tax)
    ns = case(
        sandbox,
        wrapped,
        [
            MUG.refund_line(1, 1, tax_rate=tax),
            other_line(2, "Gift Wrap", D("3.00"), tax=wrap_tax).model_copy(update={"quantity": D(1)}),
        ],
        tran_id="CM-350",
    )
    sync_now(sandbox, ns)
    synced = assert_synced_to_the_cent(sandbox, ns, per_line=2)
    assert synced.items == ("MUG-CER x 1 (line 1)", "gift wrapping of MUG-CER x 1 (line 1)")

    partial = netsuite_refund(
        sandbox,
        350,
        [other_line(1, "Gift Wrap", D("1.50"), tax=D("0.15")).model_copy(update={"quantity": D(1)})],
        tran_id="CM-351",
    )
    sync_now(sandbox, partial)
    failed = state(sandbox, partial)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "NO_MATCHING_GIFT_WRAPPING")
    assert len(bigcommerce_refunds(sandbox, 350)) == 1, "never refunded as a custom amount"


# -- 7: two tolerances -----------------------------------------------------------------------------
def test_the_quote_tolerance_is_a_cent_a_line_and_not_the_partial_line_threshold(
    sandbox: Sandbox, pricing: TaxPricing
) -> None:
    tax = tax_of(pricing)
    # Given NetSuite's tax a cent off BigCommerce's on each of two lines (NetSuite rounded up, twice)
    sandbox.store.seed(
        [
            order(
                360,
                [TEE.order_line(1, 1, 25, tax=tax), CAP.order_line(2, 1, 25, tax=tax)],
                [address(25, D("5.00"))],
            )
        ]
    )
    cents_off = [
        TEE.refund_line(1, 1, tax_rate=tax).model_copy(
            update={"tax_amount": tax_on(D("25.00"), tax) + D("0.01")}
        ),
        CAP.refund_line(2, 1, tax_rate=tax).model_copy(
            update={"tax_amount": tax_on(D("18.00"), tax) + D("0.01")}
        ),
    ]
    two_cents = netsuite_refund(sandbox, 360, cents_off, tran_id="CM-360")
    # And, on another order, a line refunded 0.20 below its price, with the quote tolerance raised
    sandbox.store.seed([order(361, [TEE.order_line(1, 2, 26, tax=tax)], [address(26, D("5.00"))])])
    below = TEE.refund_line(1, 1, tax_rate=tax).model_copy(
        update={"amount": D("24.80"), "tax_amount": tax_on(D("24.80"), tax)}
    )
    partial = netsuite_refund(sandbox, 361, [below], tran_id="CM-361")
    sandbox.configure(quote_tolerance_per_line="0.25")

    sync_all(sandbox, [two_cents, partial])

    # Then two cents over two lines sync
    assert_synced_to_the_cent(sandbox, two_cents, per_line=2)
    # And the raised quote tolerance did not turn the partial line into a full refund of the unit
    assert state(sandbox, partial).items == ("custom amount " + str(below.amount + below.tax_amount),)

    # But with the partial-line threshold raised instead, it is a full unit, and BigCommerce's figure for it
    # (0.20 more) is beyond the default quote tolerance: held with both figures
    sandbox.configure(quote_tolerance_per_line="0.01", partial_line_threshold="0.25")
    again = netsuite_refund(sandbox, 361, [below.model_copy(update={"line": 2})], tran_id="CM-362")
    sync_now(sandbox, again)
    held = state(sandbox, again)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "AMOUNT_MISMATCH")
    assert str(again.total) in (held.reason_detail or "")
