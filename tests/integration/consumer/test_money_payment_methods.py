"""How BigCommerce pays the refund back: orders paid only offline, partly by gift certificate or store
credit, and in display or transactional currencies other than the store's. Through the real handlers,
on stores that price with tax and before it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce import Tender
from refund_sync_sandbox.bigcommerce.readings import (
    GiftCertificateRefund,
    SecondGateway,
    StoreReadings,
    TaxPricing,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, TEE, address, order
from tests.integration.consumer.money import (
    assert_synced_to_the_cent,
    tax_of,
    tax_on,
)
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    case,
    state,
    sync_now,
)

D = Decimal


# -- 3: orders paid only offline -------------------------------------------------------------------
OFFLINE_TENDERS = [
    Tender(provider_id="bankdeposit", amount=D("0.01")),
    Tender(provider_id="cheque", amount=D("0.01")),
    Tender(provider_id="cod", amount=D("0.01")),
    Tender(provider_id="net30", description="Net 30 terms", amount=D("0.01"), offline_provider=True),
]


@pytest.mark.parametrize("paid_with", OFFLINE_TENDERS, ids=lambda tender: tender.provider_id)
def test_an_offline_only_order_is_recorded_offline_and_says_no_money_moved(
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


# -- 4: gift certificate or store credit, and card -------------------------------------------------
@pytest.mark.parametrize("reading", list(GiftCertificateRefund), ids=lambda reading: reading.value)
def test_a_gift_certificate_and_card_order_syncs_once_the_card_settles_naming_both(
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
        shipping_tax=tax_on(D("5.00"), tax),
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


@pytest.mark.parametrize("reading", list(GiftCertificateRefund), ids=lambda reading: reading.value)
def test_an_order_paid_by_gift_certificate_alone_syncs_under_every_reading(
    sandbox: Sandbox, pricing: TaxPricing, reading: GiftCertificateRefund
) -> None:
    sandbox.store.use_readings(StoreReadings(pricing=pricing, gift_certificates=reading))
    tax = tax_of(pricing)
    gift = order(
        322, [CAP.order_line(1, 1, 20, tax=tax)], [address(20, D("5.00"), tax=tax)], paid_by="giftcertificate"
    )
    ns = case(sandbox, gift, [CAP.refund_line(1, 1, tax_rate=tax)], tran_id="CM-322")

    sync_now(sandbox, ns)

    synced = assert_synced_to_the_cent(sandbox, ns, per_line=1)
    assert (
        synced.refund_method
        == {
            GiftCertificateRefund.OFFLINE: "giftcertificate (offline)",
            GiftCertificateRefund.STORE_CREDIT: "storecredit",
            GiftCertificateRefund.ONLINE: "giftcertificate",
        }[reading]
    )


@pytest.mark.parametrize("flags", list(SecondGateway), ids=lambda flags: flags.value)
def test_an_order_paid_by_two_gateways_is_never_recorded_offline_for_the_second(
    sandbox: Sandbox, pricing: TaxPricing, flags: SecondGateway
) -> None:
    # Given an order paid partly by PayPal and partly by card, which BigCommerce refunds online only once,
    # offering the second gateway's share offline (flagged as an offline provider, as the spec's example)
    sandbox.store.use_readings(StoreReadings(pricing=pricing, second_gateway=flags))
    tax = tax_of(pricing)
    two = order(
        323,
        [CAP.order_line(1, 2, 21, tax=tax)],
        [address(21, D("5.00"), tax=tax)],
        tenders=[Tender(provider_id="checkout_paypalexpress", amount=D("10.00"))],
    )
    ns = case(
        sandbox,
        two,
        [CAP.refund_line(1, 2, tax_rate=tax)],
        shipping_amount=D("5.00"),
        shipping_tax=tax_on(D("5.00"), tax),
        tran_id="CM-323",
    )

    # When the whole order is refunded
    sync_now(sandbox, ns)

    # Then nothing is recorded as refunded that BigCommerce would not pay: the refund stops, naming why
    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "REFUND_METHOD_UNAVAILABLE")
    assert "only offline" in (failed.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 323) == []


def test_a_store_credit_and_card_order_gives_back_both(sandbox: Sandbox, pricing: TaxPricing) -> None:
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
