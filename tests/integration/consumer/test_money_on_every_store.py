"""Money right on every store, through the real handlers: stores that price with tax and (most US
stores) before it, under every reading of what BigCommerce's documents leave open (see the simulator's
readings.py); offline-only and gift-certificate orders; zero refunds; fees and gift wrapping; the two
tolerances; display and transactional currencies; rounding.

Each test makes refunds in the NetSuite simulator against orders in the BigCommerce simulator, runs the
real poller (on demand) and consumer, and judges from what BigCommerce holds and the state items say.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_sandbox.bigcommerce import Order, Tender
from refund_sync_sandbox.bigcommerce.readings import (
    AdjustmentPlace,
    AmountBasis,
    GiftCertificateRefund,
    Rounding,
    StoreReadings,
    TaxPricing,
    every_reading,
)
from refund_sync_sandbox.lambda_runtime import DrainReport
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import (
    CAP,
    MUG,
    SOCKS,
    TEE,
    US_TAX,
    Item,
    address,
    fee,
    order,
    other_line,
    wrap,
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
PRICINGS = [TaxPricing.INCLUSIVE, TaxPricing.EXCLUSIVE]
LANTERN = Item("LANTERN", "Camp Lantern", D("10.00"), "305")


def tax_of(pricing: TaxPricing) -> Decimal:
    """Today's store charges 10 %; the US store 8.25 % (which makes the cents interesting)."""
    return D("0.10") if pricing is TaxPricing.INCLUSIVE else US_TAX


def readings_for(pricing: TaxPricing) -> list[StoreReadings]:
    """Every reading that can change how a card order's amounts come out on a store of this setting."""
    relevant = [r for r in every_reading(pricing) if r.gift_certificates is GiftCertificateRefund.OFFLINE]
    if pricing is TaxPricing.INCLUSIVE:  # quote totals differ only on orders priced before tax
        relevant = [r for r in relevant if r.quote_total is StoreReadings().quote_total]
    return relevant


ALL_READINGS = [reading for pricing in PRICINGS for reading in readings_for(pricing)]


def in_another_basis(readings: StoreReadings) -> bool:
    """The store reads shipping amounts in another basis than the order's own: refund-sync's figures and
    BigCommerce's cannot agree, and the refund must be held with both, never refunded or refused."""
    before_tax = readings.pricing is TaxPricing.EXCLUSIVE
    return (before_tax and readings.amount_basis is AmountBasis.TAX_INCLUSIVE) or (
        not before_tax and readings.amount_basis is AmountBasis.TAX_EXCLUSIVE
    )


@pytest.fixture(params=PRICINGS, ids=lambda pricing: f"{pricing.value}-store")
def pricing(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[TaxPricing]:
    """A store that prices with tax (today's) or before it (the US store), with the default readings."""
    sandbox.store.use_readings(StoreReadings(pricing=request.param))
    yield request.param


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
    assert abs(refund.total_amount - ns.total) <= D("0.01") * per_line, (refund.total_amount, ns.total)
    return synced


# -- 1, 2: shipping and handling in the basis BigCommerce taxes, under every reading ------------------------
@pytest.mark.parametrize("readings", ALL_READINGS, ids=StoreReadings.label)
def test_full_shipping_only_and_two_consignment_refunds_sync_on_every_store_or_are_held_with_both_figures(
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
            shipping_tax=(D("8.00") * tax).quantize(D("0.01")),
        ),
        netsuite_refund(
            sandbox,
            302,
            [],
            tran_id="CM-302",
            shipping_amount=D("6.50"),
            shipping_tax=(D("6.50") * tax).quantize(D("0.01")),
        ),
        netsuite_refund(
            sandbox,
            303,
            [],
            tran_id="CM-303",
            shipping_amount=D("10.00"),
            shipping_tax=(D("10.00") * tax).quantize(D("0.01")),
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
    assert sandbox.dead_letters() == [] or all(
        letter.reason == "AMOUNT_MISMATCH" for letter in sandbox.dead_letters()
    )


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


# -- 3: orders paid only offline ---------------------------------------------------------------------------------
OFFLINE_TENDERS = [
    Tender(provider_id="bankdeposit", amount=D("0.01")),
    Tender(provider_id="cheque", amount=D("0.01")),
    Tender(provider_id="cod", amount=D("0.01")),
    Tender(provider_id="net30", description="Net 30 terms", amount=D("0.01"), offline_provider=True),
]


@pytest.mark.parametrize("paid_with", OFFLINE_TENDERS, ids=lambda tender: tender.provider_id)
def test_an_order_paid_only_offline_is_recorded_offline_and_says_no_money_moved(
    sandbox: Sandbox, pricing: TaxPricing, paid_with: Tender
) -> None:
    tax = tax_of(pricing)
    draft = order(310, [MUG.order_line(1, 2, 16, tax=tax)], [address(16, D("5.00"), tax=tax)])
    offline_only = draft.model_copy(
        update={"tenders": [paid_with.model_copy(update={"amount": draft.total_inc_tax})]}
    )
    ns = case(sandbox, offline_only, [MUG.refund_line(1, 1, tax_rate=tax)], tran_id="CM-310")

    sync_now(sandbox, ns)

    synced = assert_synced_to_the_cent(sandbox, ns, per_line=1)
    (refund,) = bigcommerce_refunds(sandbox, 310)
    assert [(p.provider_id, p.offline) for p in refund.payments] == [(paid_with.provider_id, True)]
    assert (
        synced.refund_method == f"{paid_with.provider_id} (offline)"
    )  # the state: BigCommerce moved no money
    assert sandbox.store.snapshot(310).order.status_id == 14  # and the order shows the refund
    assert sandbox.dead_letters() == []


def test_an_offline_only_order_can_be_held_instead(sandbox: Sandbox, pricing: TaxPricing) -> None:
    sandbox.configure(offline_payment_rule="hold")
    tax = tax_of(pricing)
    draft = order(311, [MUG.order_line(1, 1, 17, tax=tax)], [address(17, D("5.00"), tax=tax)])
    deposit = draft.model_copy(
        update={"tenders": [Tender(provider_id="bankdeposit", amount=draft.total_inc_tax)]}
    )
    ns = case(sandbox, deposit, [MUG.refund_line(1, 1, tax_rate=tax)], tran_id="CM-311")

    sync_now(sandbox, ns)

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "OFFLINE_PAYMENT_HELD")
    assert "Bank Deposit" in (held.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 311) == []


# -- 4: gift certificate or store credit, and card ---------------------------------------------------------------
@pytest.mark.parametrize("reading", list(GiftCertificateRefund), ids=lambda reading: reading.value)
def test_an_order_paid_by_gift_certificate_and_card_syncs_once_the_card_settles_naming_both_parts(
    sandbox: Sandbox, pricing: TaxPricing, reading: GiftCertificateRefund
) -> None:
    # Given an order paid 20.00 by gift certificate and the rest by a card not settled yet
    sandbox.store.use_readings(StoreReadings(pricing=pricing, gift_certificates=reading))
    tax = tax_of(pricing)
    gift = order(
        320,
        [CAP.order_line(1, 2, 18, tax=tax)],
        [address(18, D("5.00"), tax=tax)],
        tenders=[Tender(provider_id="giftcertificate", amount=D("20.00"))],
        settled=False,
    )
    ns = case(
        sandbox,
        gift,
        [CAP.refund_line(1, 2, tax_rate=tax)],
        shipping_amount=D("5.00"),
        shipping_tax=(D("5.00") * tax).quantize(D("0.01")),
        tran_id="CM-320",
    )

    # When it is synced before the card settles, it waits for the card, and says so (not "offline only")
    sync_now(sandbox, ns)
    waiting = state(sandbox, ns)
    assert (waiting.status, waiting.reason_code) == (SyncStatus.FAILED, "PAYMENT_NOT_SETTLED")
    assert "not been settled" in (waiting.reason_detail or "")
    assert "Gift" not in (waiting.reason_detail or "")

    # And once the card settles and it is synced again, it syncs: the card online, the certificate's share
    # as BigCommerce offers it, each named
    sandbox.store.set_tender(320, "braintree", settled=True)
    sync_now(sandbox, ns)
    synced = assert_synced_to_the_cent(sandbox, ns, per_line=2)
    expected = {
        GiftCertificateRefund.OFFLINE: "giftcertificate (offline) + braintree",
        GiftCertificateRefund.STORE_CREDIT: "storecredit + braintree",
        GiftCertificateRefund.ONLINE: "giftcertificate + braintree",
    }[reading]
    assert synced.refund_method == expected
    assert sandbox.store.snapshot(320).order.status_id == 4


def test_an_order_paid_by_store_credit_and_card_gives_back_both(
    sandbox: Sandbox, pricing: TaxPricing
) -> None:
    tax = tax_of(pricing)
    credit = order(
        321,
        [TEE.order_line(1, 1, 19, tax=tax)],
        [address(19, D("4.00"), tax=tax)],
        tenders=[Tender(provider_id="storecredit", amount=D("10.00"))],
    )
    ns = case(sandbox, credit, [TEE.refund_line(1, 1, tax_rate=tax)], tran_id="CM-321")
    sync_now(sandbox, ns)
    synced = assert_synced_to_the_cent(sandbox, ns, per_line=1)
    assert synced.refund_method == "storecredit + braintree"


# -- 5: zero refunds -----------------------------------------------------------------------------------------------
def test_a_zero_credit_memo_is_skipped_with_its_reason_before_any_bigcommerce_call(sandbox: Sandbox) -> None:
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


# -- 6: fees and gift wrapping -------------------------------------------------------------------------------------
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
    fee_tax = (D("2.50") * tax).quantize(D("0.01"))
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


def test_a_fee_line_that_is_not_configured_fails_naming_the_fee_never_an_order_amount(
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
    wrap_tax = (D("3.00") * tax).quantize(D("0.01"))
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


# -- 7: two tolerances ------------------------------------------------------------------------------------------
def test_the_quote_tolerance_allows_a_cent_a_line_and_is_not_the_partial_line_threshold(
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
            update={"tax_amount": (D("25.00") * tax).quantize(D("0.01")) + D("0.01")}
        ),
        CAP.refund_line(2, 1, tax_rate=tax).model_copy(
            update={"tax_amount": (D("18.00") * tax).quantize(D("0.01")) + D("0.01")}
        ),
    ]
    two_cents = netsuite_refund(sandbox, 360, cents_off, tran_id="CM-360")
    # And, on another order, a line refunded 0.20 below its price, with the quote tolerance raised
    sandbox.store.seed([order(361, [TEE.order_line(1, 2, 26, tax=tax)], [address(26, D("5.00"))])])
    below = TEE.refund_line(1, 1, tax_rate=tax).model_copy(
        update={"amount": D("24.80"), "tax_amount": (D("24.80") * tax).quantize(D("0.01"))}
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


# -- 8: currencies ------------------------------------------------------------------------------------------------
CURRENCIES = {
    # name: (display, transactional, store default, display rate, transactional rate)
    "all-usd": ("USD", "USD", "USD", D("1"), D("1")),
    "shown-in-aud-paid-in-usd": ("AUD", "USD", "USD", D("1.384615"), D("1")),
    "paid-in-eur-on-a-usd-store": ("EUR", "EUR", "USD", D("0.92"), D("0.92")),
    "shown-in-gbp-paid-in-eur-on-a-usd-store": ("GBP", "EUR", "USD", D("0.79"), D("0.92")),
}


@pytest.mark.parametrize("combination", list(CURRENCIES))
def test_each_currency_combination_refunds_in_the_currency_paid_and_offers_store_credit_only_in_the_default(
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
    sync_now(sandbox, paid)
    assert_synced_to_the_cent(sandbox, paid, per_line=1)
    assert state(sandbox, paid).currency == transactional

    # Refunded in the display currency: refused, saying which is which
    if display != transactional:
        shown = netsuite_refund(
            sandbox, 370, [CAP.refund_line(1, 1, tax_rate=tax)], currency=display, tran_id="CM-371"
        )
        sync_now(sandbox, shown)
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


# -- 9: rounding ---------------------------------------------------------------------------------------------------
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
            update={"amount": amount, "tax_amount": (amount * tax).quantize(D("0.01"))}
        )
        ns = netsuite_refund(sandbox, 380, [refund_line], tran_id=f"CM-38{number}")
        sync_now(sandbox, ns)
        refunds.append(ns)

    # Then every one synced, and together BigCommerce refunded exactly what the line cost
    for ns in refunds:
        assert state(sandbox, ns).status is SyncStatus.SYNCED, state(sandbox, ns).reason_detail
    assert refunded_total(sandbox, 380) == line.paid_inc_tax
    snapshot = sandbox.store.snapshot(380)
    assert snapshot.ledger.remaining_quantity(line) == 0
    assert snapshot.ledger.remaining_line_amount(line) == 0


def test_a_quote_with_rounding_and_a_positive_adjustment_is_read_as_what_its_methods_pay(
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
