"""Choose how BigCommerce pays a refund: exactly one of the quote's methods, under the policy. Pure.

BigCommerce accepts a refund only when `payments` copies one inner array of the quote's
`refund_methods` to the cent; it does no free-form splitting. So the policy only *chooses*.

A part of a method marked `offline` moves no money through BigCommerce; it only records the refund.
Under the `original` policy such a part is acceptable when it is
- a gift certificate or store credit the merchant re-issues (an order paid partly by gift certificate
  and partly by card: the card is refunded online, the certificate's share is recorded), or
- an inherently offline provider (bank deposit, cheque, cash on delivery, a custom offline method):
  the refund is recorded against it and the customer is paid from NetSuite or by hand, unless the
  OfflinePaymentRule says hold;
and never when the part is offline because the payment is not settled yet, or because BigCommerce
cannot refund it online (a second gateway): then money that should move would not.
"""

from __future__ import annotations

from enum import StrEnum

from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    Payment,
    PaymentOption,
    RefundQuote,
    payments_total,
)
from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.policy import OfflinePaymentRule, RefundMethodPolicy
from refund_sync.domain.reasons import Reason, RefundProblem

STORE_CREDIT = "storecredit"
RECORD_ONLY = "custom"  # BigCommerce's "refunded externally": the order shows refunded, no money moves
# Stored value the merchant gives back by re-issuing it; BigCommerce's provider ids for gift certificates
# are not documented, so the common spellings are all taken.
GIFT_CERTIFICATES = frozenset(
    {"giftcertificate", "gift_certificate", "giftcertificates", "gift_certificates"}
)
# BigCommerce's offline payment methods (bank deposit, cash on delivery, check, money order, pay in store;
# a control-panel order's manual payment): `bankdeposit` is the spec's id, the others common spellings.
OFFLINE_METHODS = frozenset({"bankdeposit", "cod", "cheque", "check", "moneyorder", "instore", "manual"})
# What the quote says of an offline provider (orders.v3.yml, `RefundQuote_Full` example: bank deposit and
# custom methods).
OFFLINE_PROVIDER_REASON = "this is an offline payment provider"

Method = tuple[PaymentOption, ...]


class Part(StrEnum):
    """What one option of a quoted method does with its share of the refund."""

    ONLINE = "online"  # BigCommerce pays it back through the provider
    STORED_VALUE = "stored value"  # a gift certificate or store credit, recorded offline
    OFFLINE_PROVIDER = "offline provider"  # paid outside BigCommerce: recorded, the customer paid by hand
    NOT_SETTLED = "not settled"  # offline only until the payment settles
    UNAVAILABLE = "unavailable"  # offline for another reason: the money would not move


def part_of(option: PaymentOption) -> Part:
    if not option.offline:
        return Part.ONLINE
    provider = option.provider_id.casefold()
    if provider in GIFT_CERTIFICATES or provider == STORE_CREDIT:
        return Part.STORED_VALUE
    if "settle" in option.offline_reason.casefold():
        return Part.NOT_SETTLED
    if option.offline_provider and _paid_outside_bigcommerce(option):
        return Part.OFFLINE_PROVIDER
    return Part.UNAVAILABLE


def _paid_outside_bigcommerce(option: PaymentOption) -> bool:
    """The `offline_provider` flag alone proves nothing: the spec's own PaymentOption example sets it on
    PayPal Express, a second online gateway ("Multiple online refunds are not available."), whose money
    must move. So the provider must also be an offline method, or the quote must call it one."""
    reason = option.offline_reason.casefold().strip().rstrip(".")
    return option.provider_id.casefold() in OFFLINE_METHODS or reason == OFFLINE_PROVIDER_REASON


def _providers(method: Method) -> str:
    return " + ".join(option.provider_description or option.provider_id for option in method)


def _payments(method: Method) -> list[Payment]:
    return [
        Payment(provider_id=option.provider_id, amount=to_cents(option.amount), offline=option.offline)
        for option in method
    ]


def offline_note(payments: list[Payment]) -> str:
    """What BigCommerce only records, in words for the state and the CLI ("" when all money moves)."""
    parts = []
    for payment in payments:
        if not payment.offline:
            continue
        stored = payment.provider_id.casefold() in GIFT_CERTIFICATES | {STORE_CREDIT}
        then = "re-issue it to the customer" if stored else "pay the customer that from NetSuite or by hand"
        parts.append(f"{payment.provider_id} {to_cents(payment.amount)} ({then})")
    return f"BigCommerce moved no money for {'; '.join(parts)}: recorded offline only" if parts else ""


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


def _is_original(method: Method, order: BigCommerceOrder, *, offers_gift_certificates: bool) -> bool:
    providers = {option.provider_id for option in method}
    if RECORD_ONLY in providers:
        return False
    # A store-credit-only method is the original one only for orders paid with store credit alone, or
    # with gift certificates too where the quote offers their share only as store credit (nothing
    # documents how BigCommerce gives a gift certificate's share back).
    if providers == {STORE_CREDIT}:
        stored = order.store_credit_amount + (
            ZERO if offers_gift_certificates else order.gift_certificate_amount
        )
        return stored >= order.total_inc_tax > 0
    return True


def _offline_text(method: Method, kinds: set[Part]) -> str:
    parts = [option for option in method if part_of(option) in kinds]
    names = " + ".join(option.provider_description or option.provider_id for option in parts)
    reasons = "; ".join(sorted({option.offline_reason for option in parts if option.offline_reason}))
    return f"{names}" + (f" ({reasons})" if reasons else "")


def _original(quote: RefundQuote, order: BigCommerceOrder, offline_rule: OfflinePaymentRule) -> list[Payment]:
    offers_gift_certificates = any(
        option.provider_id.casefold() in GIFT_CERTIFICATES
        for method in quote.refund_methods
        for option in method
    )
    originals = [
        method
        for method in quote.refund_methods
        if _is_original(method, order, offers_gift_certificates=offers_gift_certificates)
    ]
    if not originals:
        raise RefundProblem(
            Reason.REFUND_METHOD_UNAVAILABLE,
            "BigCommerce's quote offers no way back to the original payment method; it offers: "
            + ("; ".join(_providers(m) for m in quote.refund_methods) or "nothing"),
        )
    kinds = [{part_of(option) for option in method} for method in originals]
    # Best first: all money moves; then gift certificates or store credit re-issued beside it; then what
    # only BigCommerce records because the order was paid outside it.
    for acceptable in ({Part.ONLINE}, {Part.ONLINE, Part.STORED_VALUE}):
        for method, parts in zip(originals, kinds, strict=True):
            if parts <= acceptable:
                return _payments(method)
    recordable = {Part.ONLINE, Part.STORED_VALUE, Part.OFFLINE_PROVIDER}
    for method, parts in zip(originals, kinds, strict=True):
        # An order paid outside BigCommerce has no gateway payment beside it (checkout takes one payment
        # method, gift certificates and store credit aside): such a mix is not an offline order.
        if parts <= recordable and not {Part.ONLINE, Part.OFFLINE_PROVIDER} <= parts:
            if offline_rule is OfflinePaymentRule.HOLD:
                raise RefundProblem(
                    Reason.OFFLINE_PAYMENT_HELD,
                    f"the order was paid with {_offline_text(method, {Part.OFFLINE_PROVIDER})}: BigCommerce "
                    "can only record the refund, moving no money, and OfflinePaymentRule is hold",
                )
            return _payments(method)
    unsettled = [method for method, parts in zip(originals, kinds, strict=True) if Part.NOT_SETTLED in parts]
    if unsettled:
        raise RefundProblem(
            Reason.PAYMENT_NOT_SETTLED, f"BigCommerce: {_offline_text(unsettled[0], {Part.NOT_SETTLED})}"
        )
    first = originals[0]
    raise RefundProblem(
        Reason.REFUND_METHOD_UNAVAILABLE,
        f"BigCommerce can refund {_offline_text(first, {Part.UNAVAILABLE})} only offline, so money that "
        "should move would not",
    )


def choose_payments(
    quote: RefundQuote,
    order: BigCommerceOrder,
    policy: RefundMethodPolicy,
    *,
    paid_out_by_netsuite: bool,
    offline_rule: OfflinePaymentRule = OfflinePaymentRule.RECORD,
) -> list[Payment]:
    """The `payments` of the refund request, copied from exactly one quoted method."""
    if paid_out_by_netsuite:
        payments = _record_only(quote, "NetSuite already paid the customer")
    elif policy is RefundMethodPolicy.RECORD_ONLY:
        payments = _record_only(quote, "the policy is record-only")
    elif policy is RefundMethodPolicy.STORE_CREDIT:
        payments = _store_credit(quote, order)
    else:
        payments = _original(quote, order, offline_rule)
    paid = payments_total(payments)
    payout = quote.payout()
    if paid != payout:
        raise RefundProblem(
            Reason.AMOUNT_MISMATCH,
            f"the chosen method pays {paid} but BigCommerce's methods pay "
            + (
                f"{payout}"
                if payout is not None
                else "different amounts: " + ", ".join(map(str, quote.method_totals))
            ),
        )
    return payments
