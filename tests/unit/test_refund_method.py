"""Choosing how BigCommerce pays: one quoted method, copied to the cent, under the configured policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.bigcommerce import PaymentOption, RefundQuote
from refund_sync.domain.policy import OfflinePaymentRule, RefundMethodPolicy
from refund_sync.domain.reasons import Reason, RefundProblem
from refund_sync.domain.refund_method import choose_payments, offline_note
from tests.factories import Product, order

D = Decimal
CARD = PaymentOption(provider_id="braintree", provider_description="Braintree (Visa 1111)", amount=D("33.00"))
STORE_CREDIT = PaymentOption(
    provider_id="storecredit", provider_description="Store credit", amount=D("33.00")
)
CUSTOM = PaymentOption(provider_id="custom", amount=D("33.00"), offline=True, offline_provider=True)
MEMBER = order(Product("TEE", 1, D("30.00")))
GUEST = order(Product("TEE", 1, D("30.00")), customer_id=0)


def quote(*methods: tuple[PaymentOption, ...], amount: str = "33.00") -> RefundQuote:
    return RefundQuote(order_id=100, total_refund_amount=D(amount), refund_methods=methods)


def test_original_policy_pays_back_to_the_card() -> None:
    payments = choose_payments(
        quote((STORE_CREDIT,), (CARD,), (CUSTOM,)),
        MEMBER,
        RefundMethodPolicy.ORIGINAL,
        paid_out_by_netsuite=False,
    )
    assert [(p.provider_id, p.amount, p.offline) for p in payments] == [("braintree", D("33.00"), False)]


def test_original_policy_takes_a_split_method_exactly_as_quoted() -> None:
    split = (
        PaymentOption(provider_id="braintree", amount=D("20.00")),
        PaymentOption(provider_id="storecredit", amount=D("13.00")),
    )
    payments = choose_payments(
        quote((STORE_CREDIT,), split, (CUSTOM,)),
        MEMBER,
        RefundMethodPolicy.ORIGINAL,
        paid_out_by_netsuite=False,
    )
    assert [(p.provider_id, p.amount) for p in payments] == [
        ("braintree", D("20.00")),
        ("storecredit", D("13.00")),
    ]


def test_an_unsettled_payment_fails_with_bigcommerces_reason() -> None:
    unsettled = PaymentOption(
        provider_id="braintree",
        amount=D("33.00"),
        offline=True,
        offline_reason="Payment has not been settled yet",
    )
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((unsettled,), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
        )
    assert problem.value.reason is Reason.PAYMENT_NOT_SETTLED
    assert "not been settled" in problem.value.detail


BANK = PaymentOption(
    provider_id="bankdeposit",
    provider_description="Bank Deposit",
    amount=D("33.00"),
    offline=True,
    offline_provider=True,
    offline_reason="This is an offline payment provider.",
)


def test_an_order_paid_only_offline_is_recorded_against_its_provider_under_original() -> None:
    payments = choose_payments(
        quote((BANK,), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert [(p.provider_id, p.offline) for p in payments] == [("bankdeposit", True)]
    assert offline_note(payments) == (
        "BigCommerce moved no money for bankdeposit 33.00 (pay the customer that from NetSuite or by hand): "
        "recorded offline only"
    )


def test_an_order_paid_only_offline_can_be_held_instead() -> None:
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((BANK,), (CUSTOM,)),
            MEMBER,
            RefundMethodPolicy.ORIGINAL,
            paid_out_by_netsuite=False,
            offline_rule=OfflinePaymentRule.HOLD,
        )
    assert problem.value.reason is Reason.OFFLINE_PAYMENT_HELD
    assert "Bank Deposit" in problem.value.detail


GIFT = PaymentOption(
    provider_id="giftcertificate",
    provider_description="Gift Certificate",
    amount=D("13.00"),
    offline=True,
    offline_reason="Gift certificates are refunded by issuing a new gift certificate.",
)
CARD_PART = PaymentOption(provider_id="braintree", provider_description="Braintree", amount=D("20.00"))


def test_a_card_refund_online_beside_a_gift_certificate_recorded_offline_is_the_original_method() -> None:
    payments = choose_payments(
        quote((GIFT, CARD_PART), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert [(p.provider_id, p.amount, p.offline) for p in payments] == [
        ("giftcertificate", D("13.00"), True),
        ("braintree", D("20.00"), False),
    ]
    assert offline_note(payments).startswith(
        "BigCommerce moved no money for giftcertificate 13.00 (re-issue it to the customer)"
    )


def test_a_fully_online_method_is_preferred_to_one_with_a_part_recorded_offline() -> None:
    online = (PaymentOption(provider_id="giftcertificate", amount=D("13.00")), CARD_PART)
    payments = choose_payments(
        quote((GIFT, CARD_PART), online), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert not any(p.offline for p in payments)


def test_an_unsettled_card_beside_a_gift_certificate_waits_for_the_card_and_says_so() -> None:
    unsettled = CARD_PART.model_copy(
        update={"offline": True, "offline_reason": "The payment has not been settled yet."}
    )
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((GIFT, unsettled), (CUSTOM,)),
            MEMBER,
            RefundMethodPolicy.ORIGINAL,
            paid_out_by_netsuite=False,
        )
    assert problem.value.reason is Reason.PAYMENT_NOT_SETTLED
    assert "Braintree" in problem.value.detail and "Gift" not in problem.value.detail


def test_a_second_gateway_that_can_only_be_refunded_offline_names_only_that_part() -> None:
    second = PaymentOption(
        provider_id="stripev3",
        provider_description="Stripe",
        amount=D("13.00"),
        offline=True,
        offline_reason="Multiple online refunds are not available.",
    )
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((CARD_PART, second), (CUSTOM,)),
            MEMBER,
            RefundMethodPolicy.ORIGINAL,
            paid_out_by_netsuite=False,
        )
    assert problem.value.reason is Reason.REFUND_METHOD_UNAVAILABLE
    assert "Stripe" in problem.value.detail and "Braintree" not in problem.value.detail


def test_a_second_gateway_flagged_offline_provider_as_the_spec_example_shows_is_never_recorded() -> None:
    # orders.v3.yml's PaymentOption example: PayPal Express, offline and offline_provider, "Multiple online
    # refunds are not available." Its money must move: recording it would leave the customer unpaid.
    paypal = PaymentOption(
        provider_id="checkout_paypalexpress",
        provider_description="Paypal Express",
        amount=D("13.00"),
        offline=True,
        offline_provider=True,
        offline_reason="Multiple online refunds are not available.",
    )
    card = CARD_PART.model_copy(update={"amount": D("20.00")})
    for method in ((card, paypal), (paypal.model_copy(update={"amount": D("33.00")}),)):
        with pytest.raises(RefundProblem) as problem:
            choose_payments(
                quote(method, (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
            )
        assert problem.value.reason is Reason.REFUND_METHOD_UNAVAILABLE
        assert "Paypal Express" in problem.value.detail


def test_an_offline_provider_beside_an_online_gateway_is_not_an_offline_order() -> None:
    deposit = PaymentOption(
        provider_id="bankdeposit",
        amount=D("13.00"),
        offline=True,
        offline_provider=True,
        offline_reason="This is an offline payment provider.",
    )
    card = CARD_PART.model_copy(update={"amount": D("20.00")})
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((card, deposit), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
        )
    assert problem.value.reason is Reason.REFUND_METHOD_UNAVAILABLE


@pytest.mark.parametrize(
    "provider",
    [
        PaymentOption(provider_id="cod", amount=D("33.00"), offline=True, offline_provider=True),
        PaymentOption(
            provider_id="net30",
            provider_description="Net 30 terms",
            amount=D("33.00"),
            offline=True,
            offline_provider=True,
            offline_reason="This is an offline payment provider.",
        ),
    ],
    ids=["known offline method", "a method the quote calls an offline provider"],
)
def test_an_order_paid_outside_bigcommerce_is_recorded_offline(provider: PaymentOption) -> None:
    payments = choose_payments(
        quote((provider,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert [(p.provider_id, p.offline) for p in payments] == [(provider.provider_id, True)]


def test_an_order_paid_by_gift_certificate_alone_may_come_back_as_store_credit() -> None:
    paid = order(Product("TEE", 1, D("30.00")))
    gift_only = paid.model_copy(update={"gift_certificate_amount": paid.total_inc_tax})
    payments = choose_payments(
        quote((STORE_CREDIT,), (CUSTOM,)), gift_only, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert [p.provider_id for p in payments] == ["storecredit"]
    with pytest.raises(RefundProblem):  # but store credit is not the way back for a card order
        choose_payments(
            quote((STORE_CREDIT,), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
        )


def test_methods_that_pay_different_amounts_are_not_taken() -> None:
    short = CARD.model_copy(update={"amount": D("32.99")})
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((short,), (CUSTOM,)), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
        )
    assert problem.value.reason is Reason.AMOUNT_MISMATCH


def test_store_credit_policy_pays_store_credit() -> None:
    payments = choose_payments(
        quote((CARD,), (STORE_CREDIT,)), MEMBER, RefundMethodPolicy.STORE_CREDIT, paid_out_by_netsuite=False
    )
    assert [p.provider_id for p in payments] == ["storecredit"]


def test_store_credit_for_a_guest_order_fails_saying_why() -> None:
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((CARD,), (CUSTOM,)), GUEST, RefundMethodPolicy.STORE_CREDIT, paid_out_by_netsuite=False
        )
    assert problem.value.reason is Reason.REFUND_METHOD_UNAVAILABLE
    assert "guest order" in problem.value.detail


def test_store_credit_for_a_non_default_currency_order_fails_saying_why() -> None:
    euro = order(Product("TEE", 1, D("30.00")), currency="EUR", store_currency="USD")
    with pytest.raises(RefundProblem) as problem:
        choose_payments(
            quote((CARD,), (CUSTOM,)), euro, RefundMethodPolicy.STORE_CREDIT, paid_out_by_netsuite=False
        )
    assert "EUR" in problem.value.detail and "USD" in problem.value.detail


def test_record_only_policy_marks_the_refund_without_moving_money() -> None:
    payments = choose_payments(
        quote((CARD,), (CUSTOM,)), MEMBER, RefundMethodPolicy.RECORD_ONLY, paid_out_by_netsuite=False
    )
    assert [(p.provider_id, p.offline) for p in payments] == [("custom", True)]


def test_when_netsuite_already_paid_the_customer_money_never_moves_again_whatever_the_policy() -> None:
    for policy in RefundMethodPolicy:
        payments = choose_payments(
            quote((CARD,), (STORE_CREDIT,), (CUSTOM,)), MEMBER, policy, paid_out_by_netsuite=True
        )
        assert [(p.provider_id, p.offline) for p in payments] == [("custom", True)]


def test_a_quote_without_any_offline_method_cannot_record_only() -> None:
    with pytest.raises(RefundProblem) as problem:
        choose_payments(quote((CARD,)), MEMBER, RefundMethodPolicy.RECORD_ONLY, paid_out_by_netsuite=False)
    assert problem.value.reason is Reason.REFUND_METHOD_UNAVAILABLE


def test_payments_are_copied_to_the_cent() -> None:
    odd = PaymentOption(provider_id="braintree", amount=D("33.005"))
    payments = choose_payments(
        quote((odd,), amount="33.01"), MEMBER, RefundMethodPolicy.ORIGINAL, paid_out_by_netsuite=False
    )
    assert payments[0].amount == D("33.01")
