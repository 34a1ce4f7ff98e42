"""Every reason the engine records when a refund does not sync, with what a person should do.

The operator CLI (`refund-sync failures`) and the failure runbook (docs/runbook.md) are written from
this one table, so the advice a user reads is the advice the code gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from refund_sync.domain.state import Transition


class Outcome(StrEnum):
    HELD = "HELD"  # the refund is fine but needs a person's decision (amounts, rules)
    FAILED = "FAILED"  # it cannot sync as it stands: fix data or setup, then redrive
    SKIPPED = "SKIPPED"  # never sent, on purpose (the loop guard); nothing to do


@dataclass(frozen=True)
class ReasonInfo:
    outcome: Outcome
    meaning: str
    action: str


class Reason(Enum):
    ORDER_ID_MISSING = ReasonInfo(
        Outcome.FAILED,
        "The NetSuite refund carries no BigCommerce order id.",
        "Check that the order was synced from BigCommerce into NetSuite, that the refund was created from "
        "the billed record (invoice or cash sale) of that sales order, and that the RESTlet's order-id field "
        "parameter names the field your connector fills. Fix it in NetSuite, then run `refund-sync sync "
        "<document number>` (or redrive): a fix on the sales order leaves the refund unchanged, so no poll "
        "resends it.",
    )
    ORDER_NOT_FOUND = ReasonInfo(
        Outcome.FAILED,
        "BigCommerce has no order with that id.",
        "Check the order id on the NetSuite sales order against BigCommerce (the order may belong to another "
        "store, or the field may hold a different number). Correct it in NetSuite, then `refund-sync sync "
        "<document number>` (or redrive).",
    )
    CURRENCY_MISMATCH = ReasonInfo(
        Outcome.FAILED,
        "The NetSuite refund is in another currency than the BigCommerce order.",
        "Refund in the order's transactional currency in NetSuite (BigCommerce pays back in the currency "
        "the shopper paid), or refund this one by hand in BigCommerce.",
    )
    NETSUITE_TOTALS_INCONSISTENT = ReasonInfo(
        Outcome.HELD,
        "The refund's lines, shipping, handling and tax do not add up to its total.",
        "Open the refund in NetSuite and check for lines the saved search leaves out; correct the record.",
    )
    NO_MATCHING_LINE = ReasonInfo(
        Outcome.FAILED,
        "A NetSuite item line matches no line of the BigCommerce order.",
        "Compare the item's SKU with the order's line items (or the stored BigCommerce line id, per the "
        "line-match rule). Add the item to CustomAmountItems if it is a fee or adjustment, then redrive.",
    )
    QUANTITY_INVALID = ReasonInfo(
        Outcome.FAILED,
        "A product line has no quantity, or a fractional one; BigCommerce refunds whole units.",
        "Correct the quantity on the NetSuite refund, or refund the amount with a custom-amount item.",
    )
    QUANTITY_EXCEEDS_REMAINING = ReasonInfo(
        Outcome.FAILED,
        "More units are refunded than remain refundable on the BigCommerce order.",
        "Look at the order's earlier refunds in BigCommerce: the units may already be refunded (by hand or "
        "by another refund). Do not redrive unless the order really has units left.",
    )
    AMOUNT_EXCEEDS_REMAINING = ReasonInfo(
        Outcome.FAILED,
        "The shipping, handling or custom amount is more than BigCommerce still has to refund.",
        "Check the order's earlier refunds in BigCommerce; correct the NetSuite refund if it repeats them.",
    )
    SHIPPING_NOT_ON_ORDER = ReasonInfo(
        Outcome.FAILED,
        "The refund gives back shipping or handling, but the BigCommerce order charged none.",
        "Move the amount to a custom-amount item in NetSuite, or correct the refund.",
    )
    PARTIAL_LINE_HELD = ReasonInfo(
        Outcome.HELD,
        "A line is refunded for less than its full price and the partial-line rule is 'hold'.",
        "Decide the amount: refund it by hand in BigCommerce (the item keeps its HELD record here), or "
        "change PartialLineRule and redrive.",
    )
    DISCOUNT_HELD = ReasonInfo(
        Outcome.HELD,
        "The refund has a discount line and the discount rule is 'hold'.",
        "Check the amounts against the order's discounts; change DiscountRule to 'absorb' and redrive.",
    )
    TAX_ONLY_HELD = ReasonInfo(
        Outcome.HELD,
        "The refund has a tax-only line and the tax-only rule is 'hold'.",
        "Refund the tax by hand in BigCommerce, or change TaxOnlyRule to 'order_amount' and redrive.",
    )
    UNSUPPORTED_LINE = ReasonInfo(
        Outcome.FAILED,
        "A line of a kind BigCommerce cannot refund through the API (gift certificate, payment, markup).",
        "Refund that part by hand in BigCommerce; remove or correct the line in NetSuite and redrive.",
    )
    NOTHING_TO_REFUND = ReasonInfo(
        Outcome.FAILED,
        "The refund gives nothing back: its total is not above zero, or none of its lines carries money. "
        "(A zero refund is normally SKIPPED as ZERO_AMOUNT before this; it fails here only when a "
        "BigCommerce create had been attempted for it before it became zero.)",
        "Correct the NetSuite refund (a negative total is a charge, not a refund), then redrive. For a zero "
        "refund, first check the order's refunds in BigCommerce for one carrying its [netsuite:<id>] marker.",
    )
    ZERO_AMOUNT = ReasonInfo(
        Outcome.SKIPPED,
        "The refund's total is zero (e.g. a credit memo that only moves a balance), so BigCommerce has "
        "nothing to refund; it was recorded SKIPPED before any BigCommerce call.",
        "Nothing to do. If money should move after all, edit the refund in NetSuite (its lines and total): "
        "the next sweep sends it again and it syncs like a new refund.",
    )
    NO_MATCHING_FEE = ReasonInfo(
        Outcome.FAILED,
        "A NetSuite line of a FeeItems item matches no fee of the BigCommerce order (or more than one).",
        "Compare the NetSuite item with the order's fees (the detail lists them): name the NetSuite item "
        "like the fee, or correct the refund, then redrive. A fee is never refunded as a custom amount.",
    )
    NO_MATCHING_GIFT_WRAPPING = ReasonInfo(
        Outcome.FAILED,
        "A NetSuite line of a GiftWrappingItems item matches no gift-wrapped line of the BigCommerce order "
        "(none, several that fit, or fewer wrapped units left than refunded), or refunds less than the "
        "wrapping cost of whole units.",
        "Compare the line with the order's wrapped lines (the detail lists them); correct the refund and "
        "redrive, or refund the wrapping by hand in BigCommerce. Gift wrapping is never refunded as a "
        "custom amount.",
    )
    AMOUNT_MISMATCH = ReasonInfo(
        Outcome.HELD,
        "BigCommerce's quote differs from the NetSuite total by more than the tolerance.",
        "Compare the two figures: usually tax rounding, a discount BigCommerce allocates differently, or a "
        "price changed after the order. Correct the NetSuite refund, or refund by hand in BigCommerce.",
    )
    OFFLINE_PAYMENT_HELD = ReasonInfo(
        Outcome.HELD,
        "The order was paid with an offline method (bank deposit, cheque, cash on delivery, a custom "
        "offline method), so BigCommerce can only record the refund, and OfflinePaymentRule is 'hold'.",
        "Pay the customer back from NetSuite or by hand. Then either set OfflinePaymentRule to 'record' and "
        "redrive (BigCommerce records the refund offline, moving no money), or refund it by hand in "
        "BigCommerce.",
    )
    REFUND_METHOD_UNAVAILABLE = ReasonInfo(
        Outcome.FAILED,
        "BigCommerce offers no way to pay this refund under the configured refund-method policy.",
        "Read BigCommerce's reason: guest orders and non-default-currency orders cannot get store credit; "
        "split payments only as the quote offers; offline-only providers cannot pay back online. Refund by "
        "hand, or use record_only if the customer was paid outside BigCommerce.",
    )
    PAYMENT_NOT_SETTLED = ReasonInfo(
        Outcome.FAILED,
        "The order's payment is not settled yet, so the gateway cannot refund it.",
        "Wait until the gateway settles the payment (often within 24 hours), then redrive.",
    )
    GATEWAY_DECLINED = ReasonInfo(
        Outcome.FAILED,
        "BigCommerce created the refund but the payment gateway declined it; no money moved. Found when "
        "the refund was created, when an uncertain create was looked for, or later by the payout check "
        "(gateways answer asynchronously). refund-sync never creates it again by itself.",
        "Read the decline message and resolve it with the gateway. To have refund-sync create the refund "
        "anew, run `refund-sync recreate <document number>` (it checks at BigCommerce that every refund "
        "made for it was declined in full). If you refunded the customer another way, run "
        "`refund-sync resolve <document number> --refunded-by-hand`.",
    )
    PARTLY_DECLINED = ReasonInfo(
        Outcome.HELD,
        "BigCommerce made the refund, but the gateway declined part of its payments (a split refund): "
        "some money moved, some did not.",
        "Refund the declined part by hand in BigCommerce or at the gateway, then run `refund-sync resolve "
        "<document number> --refunded-by-hand`. refund-sync never re-creates a partly paid refund.",
    )
    CREATE_UNCERTAIN = ReasonInfo(
        Outcome.HELD,
        "A refund create was sent to BigCommerce but its answer was lost, and BigCommerce's records "
        "neither show it for certain nor prove it absent (refunds appeared on the order that might be it).",
        "Run `refund-sync show <document number>`: it names the candidate BigCommerce refunds. Open the "
        "order in BigCommerce; if one of them is this refund, run `refund-sync confirm <document number> "
        "--ours <refund id>`; if none is, run `refund-sync confirm <document number> --not-created` and "
        "redrive. Never refund by hand before deciding: the customer may already have the money.",
    )
    ORDER_CHANGED_AFTER_SUBMIT = ReasonInfo(
        Outcome.HELD,
        "NetSuite now names another BigCommerce order than the one a create was already sent to.",
        "Run `refund-sync show <document number>`: it says what was found on the earlier order. If the "
        "refund landed there, refund it back by hand or leave it and run `refund-sync confirm <document "
        "number> --ours <refund id>`; if nothing landed, run `refund-sync confirm <document number> "
        "--not-created` and redrive to refund the new order.",
    )
    CHANGED_AFTER_SYNC = ReasonInfo(
        Outcome.HELD,
        "The NetSuite refund was edited after its BigCommerce refund was made (other amounts, lines or "
        "order): BigCommerce no longer matches NetSuite. Nothing more is refunded automatically.",
        "Compare the NetSuite refund with the BigCommerce refund named in `refund-sync show <document "
        "number>`. Refund any difference by hand in BigCommerce (or make a new NetSuite refund for it), or "
        "restore the NetSuite refund; then run `refund-sync resolve <document number> --refunded-by-hand`.",
    )
    BIGCOMMERCE_REJECTED = ReasonInfo(
        Outcome.FAILED,
        "BigCommerce refused the refund.",
        "Read BigCommerce's message; the order may be in a state that cannot be refunded (e.g. refunded "
        "with the legacy refund system, or a return request marked refunded).",
    )
    BIGCOMMERCE_ACCESS_DENIED = ReasonInfo(
        Outcome.FAILED,
        "BigCommerce refused the API token (401) or its scopes (403).",
        "Check the token in the BigCommerce secret and the API account's Orders and Order Transactions "
        "scopes (modify), then redrive the dead-letter queue.",
    )
    RETRIES_EXHAUSTED = ReasonInfo(
        Outcome.FAILED,
        "Transient errors (timeouts, 5xx, throttling) persisted through every delivery.",
        "Check BigCommerce's status and the consumer's logs; redrive once the service is back.",
    )
    REFUND_TOO_LARGE = ReasonInfo(
        Outcome.FAILED,
        "The refund has too many lines to travel as one queue message (SQS takes at most 1 MiB, about "
        "3,900 lines).",
        "Split the refund in NetSuite into smaller refunds (each syncs on its own) and void this one, or "
        "refund it by hand in BigCommerce and exclude it from the saved search.",
    )
    CREATED_FROM_BIGCOMMERCE = ReasonInfo(
        Outcome.SKIPPED,
        "The refund was imported from BigCommerce into NetSuite, so sending it back would pay twice.",
        "Nothing to do: the loop guard skipped it on purpose.",
    )

    @property
    def outcome(self) -> Outcome:
        return self.value.outcome

    @property
    def meaning(self) -> str:
        return self.value.meaning

    @property
    def action(self) -> str:
        return self.value.action


class RefundProblem(Exception):
    """A refund that cannot sync as it stands: recorded with its reason and dead-lettered, never retried.

    `transition` names the kind of state change that records it, when it is not a plain problem found
    before any create (e.g. a reconcile's verdict, or an edit after the sync); `standing` marks a problem
    the state already records, which a new delivery only dead-letters again."""

    def __init__(
        self,
        reason: Reason,
        detail: str,
        *,
        transition: Transition | None = None,
        standing: bool = False,
        **facts: Any,
    ) -> None:
        super().__init__(f"{reason.name}: {detail}")
        self.reason = reason
        self.detail = detail
        self.transition = transition
        self.standing = standing
        self.facts = facts  # figures worth keeping on the state item (quoted amount, refund id, ...)
