"""Choose how BigCommerce pays a refund: exactly one of the quote's methods, under the policy. Pure.

BigCommerce accepts a refund only when `payments` copies one inner array of the quote's
`refund_methods` to the cent; it does no free-form splitting. So the policy only *chooses*.
"""

from __future__ import annotations

from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    Payment,
    PaymentOption,
    RefundQuote,
    payments_total,
)
from refund_sync.domain.money import to_cents
from refund_sync.domain.policy import RefundMethodPolicy
from refund_sync.domain.reasons import Reason, RefundProblem

STORE_CREDIT = "storecredit"
RECORD_ONLY = "custom"  # BigCommerce's "refunded externally": the order shows refunded, no money moves

Method = tuple[PaymentOption, ...]


def _providers(method: Method) -> str:
    return " + ".join(option.provider_description or option.provider_id for option in method)


def _payments(method: Method) -> list[Payment]:
    return [
        Payment(provider_id=option.provider_id, amount=to_cents(option.amount), offline=option.offline)
        for option in method
    ]


def _record_only(quote: RefundQuote, why: str) -> list[Payment]:
    for method in quote.refund_methods:
        if len(method) == 1 and method[0].provider_id == RECORD_ONLY:
            return _payments(method)
    for method in quote.refund_methods:
        if all(option.offline for option in method):
            return _payments(method)
    raise RefundProblem(
        Reason.REFUND_METHOD_UNAVAILABLE,
        f"{why}, but BigCommerce's quote offers no offline (record-only) method: "
        + "; ".join(_providers(m) for m in quote.refund_methods),
    )


def _store_credit(quote: RefundQuote, order: BigCommerceOrder) -> list[Payment]:
    for method in quote.refund_methods:
        if len(method) == 1 and method[0].provider_id == STORE_CREDIT and not method[0].offline:
            return _payments(method)
    if order.is_guest:
        why = (
            "BigCommerce cannot give store credit for a guest order (the customer has no storefront account)"
        )
    elif not order.in_default_currency:
        why = (
            f"BigCommerce gives no store credit for an order paid in {order.currency_code}, which is not the "
            f"store's default currency ({order.store_default_currency_code})"
        )
    else:
        why = "BigCommerce's quote does not offer store credit for this order"
    raise RefundProblem(Reason.REFUND_METHOD_UNAVAILABLE, why)


def _is_original(method: Method, order: BigCommerceOrder) -> bool:
    providers = {option.provider_id for option in method}
    if RECORD_ONLY in providers:
        return False
    # A store-credit-only method is the original one only for orders paid with store credit alone.
    if providers == {STORE_CREDIT}:
        return order.store_credit_amount >= order.total_inc_tax > 0
    return True


def _original(quote: RefundQuote, order: BigCommerceOrder) -> list[Payment]:
    originals = [method for method in quote.refund_methods if _is_original(method, order)]
    for method in originals:
        if not any(option.offline for option in method):
            return _payments(method)
    if not originals:
        raise RefundProblem(
            Reason.REFUND_METHOD_UNAVAILABLE,
            "BigCommerce's quote offers no way back to the original payment method; it offers: "
            + ("; ".join(_providers(m) for m in quote.refund_methods) or "nothing"),
        )
    reasons = sorted({o.offline_reason for m in originals for o in m if o.offline and o.offline_reason})
    text = "; ".join(reasons) or "the original payment can only be refunded offline"
    if any("settle" in reason.lower() for reason in reasons):
        raise RefundProblem(Reason.PAYMENT_NOT_SETTLED, f"BigCommerce: {text}")
    raise RefundProblem(
        Reason.REFUND_METHOD_UNAVAILABLE,
        f"BigCommerce can refund {_providers(originals[0])} only offline, so no money would move ({text})",
    )


def choose_payments(
    quote: RefundQuote, order: BigCommerceOrder, policy: RefundMethodPolicy, *, paid_out_by_netsuite: bool
) -> list[Payment]:
    """The `payments` of the refund request, copied from exactly one quoted method."""
    if paid_out_by_netsuite:
        payments = _record_only(quote, "NetSuite already paid the customer")
    elif policy is RefundMethodPolicy.RECORD_ONLY:
        payments = _record_only(quote, "the policy is record-only")
    elif policy is RefundMethodPolicy.STORE_CREDIT:
        payments = _store_credit(quote, order)
    else:
        payments = _original(quote, order)
    paid = payments_total(payments)
    if paid != to_cents(quote.total_refund_amount):
        raise RefundProblem(
            Reason.BIGCOMMERCE_REJECTED,
            f"the chosen method pays {paid} but the quote totals {quote.total_refund_amount}",
        )
    return payments
