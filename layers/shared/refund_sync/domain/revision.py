"""Which version of a NetSuite refund a delivery carries: told by its content, not only its timestamp.

NetSuite's lastModified has minute resolution in saved searches, so two edits a minute apart can carry
the same timestamp, and a redriven message can carry an old body. The content hash covers what the
refund in BigCommerce is made from (order, currency, amounts, lines, whether NetSuite paid it out) and
nothing else: not the document's memo, not the fields refund-sync itself writes back onto it, so a
write-back never makes a refund look changed. Pure.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from refund_sync.domain.netsuite import NetSuiteRefund

MAX_SEEN_HASHES = 20


class Delivery(StrEnum):
    FIRST = "first"  # nothing is recorded for the refund yet
    SAME = "same"  # the content the state last worked on
    CHANGED = "changed"  # a newer content than the state has seen
    STALE = "stale"  # a content the state has already moved past (an old body, redriven)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def content_hash(refund: NetSuiteRefund) -> str:
    """A stable digest of what the BigCommerce refund is made from."""
    content: dict[str, Any] = {
        "order": (refund.bigcommerce_order_id or "").strip(),
        "currency": refund.currency,
        "total": _amount(refund.total),
        "subtotal": _amount(refund.subtotal),
        "tax": _amount(refund.tax_total),
        "discount": _amount(refund.discount_total),
        "shipping": [_amount(refund.shipping_amount), _amount(refund.shipping_tax)],
        "handling": [_amount(refund.handling_amount), _amount(refund.handling_tax)],
        "paid_out": [refund.paid_out.by_netsuite, refund.paid_out.method],
        "lines": [
            [
                line.line,
                line.item_id,
                line.item_type,
                line.sku,
                _amount(line.quantity),
                _amount(line.amount),
                _amount(line.tax_amount),
                line.bigcommerce_line_id,
                line.bigcommerce_product_id,
                line.bigcommerce_variant_id,
            ]
            for line in sorted(refund.lines, key=lambda line: line.line)
        ],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def classify_delivery(
    incoming_hash: str,
    incoming_modified: datetime,
    *,
    recorded_hash: str | None,
    recorded_modified: datetime | None,
    seen_hashes: tuple[str, ...],
) -> Delivery:
    """How a delivery's content compares with what the state has recorded."""
    if recorded_modified is None:
        return Delivery.FIRST
    if recorded_hash is None:  # a state written before contents were hashed: go by the timestamp alone
        return Delivery.STALE if incoming_modified < recorded_modified else Delivery.SAME
    if incoming_hash == recorded_hash:
        return Delivery.SAME
    if incoming_modified < recorded_modified:
        return Delivery.STALE
    if incoming_hash in seen_hashes and incoming_modified == recorded_modified:
        return Delivery.STALE  # an earlier body of the same minute: the state has moved past it
    return Delivery.CHANGED


def remember(seen: tuple[str, ...], previous_hash: str | None, new_hash: str) -> tuple[str, ...]:
    """The contents seen before `new_hash`, newest last, bounded."""
    if previous_hash is None or previous_hash == new_hash:
        return seen
    return (*(h for h in seen if h not in (previous_hash, new_hash)), previous_hash)[-MAX_SEEN_HASHES:]
