"""After a create whose outcome is unknown: did it land at BigCommerce? Decided on evidence. Pure.

BigCommerce has no idempotency key, and nothing it documents promises that a refund read back echoes
the reasons it was created with (its own read-back example carries none on the items). So a refund on
the order is ours when
  (a) it carries our marker, or, failing that,
  (b) its fingerprint matches what we sent: created at or after our send (less the allowed clock
      skew), the same items (type, id, quantity or amount) and the same payments; not where the
      store's read-backs are known to carry markers (a refund without ours is then someone else's),
and it is proven absent only when, a grace period after the *last actual send*, every order a create
was sent to shows nothing new since what it showed before the send. Anything else is uncertain: the
refund is held for a person, naming the candidates. A second create is never sent on absence of
evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    CreatedRefund,
    RefundItemType,
    RefundPayment,
)
from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.state import CreateAttempt, PaymentRecord


class Verdict(StrEnum):
    FOUND = "found"  # ours, and not declined
    DECLINED = "declined"  # ours, and the gateway declined every payment: no money moved
    PARTLY_DECLINED = "partly declined"  # ours, some payments declined
    ABSENT = "absent"  # proven: no create of ours landed
    TOO_EARLY = "too early"  # nothing yet, but a create may still land: look again later
    UNCERTAIN = "uncertain"  # neither proven: a person decides


@dataclass(frozen=True)
class Candidate:
    """A BigCommerce refund that may be ours, and why it is not settled either way."""

    order_id: int
    refund: CreatedRefund
    why: str

    def describe(self) -> str:
        created = self.refund.created.isoformat(timespec="seconds") if self.refund.created else "?"
        return (
            f"refund {self.refund.id} on order {self.order_id} "
            f"({self.refund.paid}, created {created}): {self.why}"
        )


@dataclass(frozen=True)
class Reconciliation:
    verdict: Verdict
    detail: str
    refund: CreatedRefund | None = None  # ours, when found (declined or not)
    order_id: int | None = None
    how: str = ""  # "marker" or "fingerprint"
    candidates: tuple[Candidate, ...] = field(default=())


@dataclass(frozen=True)
class Evidence:
    """What reconcile reads: the refunds of every order a create was sent to, and what to set aside."""

    refunds_by_order: Mapping[int, Sequence[CreatedRefund]]
    marker: str
    now: datetime
    grace: timedelta
    clock_skew: timedelta
    set_aside: frozenset[int] = frozenset()  # refund ids known not to be ours (claimed, superseded)
    # Whether this store's read-backs are known to carry the markers refunds were created with (seen on
    # refunds already recorded): then a refund without our marker is never ours, whatever it matches.
    markers_echoed: bool | None = None


def markers_echoed(recorded: Iterable[tuple[CreatedRefund, str]]) -> bool | None:
    """Whether refunds read back carry the markers they were made with, judged on refunds recorded for a
    NetSuite refund (each with that refund's internal id); None when there is none to judge by."""
    seen = [refund.carries_marker(marker_for(netsuite_id)) for refund, netsuite_id in recorded]
    return any(seen) if seen else None


def marker_for(netsuite_id: str) -> str:
    """The token that names a NetSuite refund in the reasons of the BigCommerce refund made for it."""
    return f"[netsuite:{netsuite_id}]"


def _payments(payments: Iterable[PaymentRecord | RefundPayment]) -> Counter[object]:
    return Counter((payment.provider_id, to_cents(payment.amount), payment.offline) for payment in payments)


# Read-backs show a quantity only on PRODUCT items (orders.v3.yml, `RefundItem.quantity`: "only be populated
# for item_type PRODUCT"), so a GIFT_WRAPPING item is compared by type and id alone.
_UNITS_NOT_SHOWN = "units"


def _fingerprint(attempt: CreateAttempt) -> tuple[Counter[tuple[str, int, object]], Counter[object]]:
    items: Counter[tuple[str, int, object]] = Counter()
    for item in attempt.items:
        kind = RefundItemType(item.item_type)
        if kind is RefundItemType.PRODUCT:
            detail: object = item.quantity
        elif kind.quantity_bound:
            detail = _UNITS_NOT_SHOWN
        else:
            detail = to_cents(item.amount or ZERO)
        items[(item.item_type, item.item_id, detail)] += 1
    return items, _payments(attempt.payments)


def _read_back_fingerprint(refund: CreatedRefund) -> tuple[Counter[tuple[str, int, object]], Counter[object]]:
    items: Counter[tuple[str, int, object]] = Counter()
    for item in refund.items:
        if item.item_type == RefundItemType.PRODUCT.value:
            detail: object = item.quantity
        elif item.item_type == RefundItemType.GIFT_WRAPPING.value:
            detail = _UNITS_NOT_SHOWN
        else:
            # An amount BigCommerce does not echo cannot be compared: it never matches.
            detail = to_cents(item.requested_amount) if item.requested_amount is not None else None
        items[(item.item_type, item.item_id, detail)] += 1
    return items, _payments(refund.payments)


def _created_after(refund: CreatedRefund, instant: datetime | None, skew: timedelta) -> bool:
    """Created at or after `instant`, less the skew; a refund read without its time may be anything."""
    return instant is None or refund.created is None or refund.created >= instant - skew


def matches(attempt: CreateAttempt, refund: CreatedRefund, skew: timedelta) -> bool:
    """The refund is what this attempt sent: same items, same payments, created after it was sent."""
    if not attempt.items or not _created_after(refund, attempt.first_send, skew):
        return False
    return _read_back_fingerprint(refund) == _fingerprint(attempt)


def appeared_since(
    attempt: CreateAttempt, refunds: Sequence[CreatedRefund], skew: timedelta
) -> list[CreatedRefund]:
    """The order's refunds that were not there when the attempt was prepared."""
    baseline = attempt.baseline
    if baseline.refund_ids is not None:
        known = set(baseline.refund_ids)
        return [refund for refund in refunds if refund.id not in known]
    if not baseline.had_refunds:
        return list(refunds)
    # The order showed refunds, but which ones was not read: go by their creation time.
    return [refund for refund in refunds if _created_after(refund, attempt.prepared_at, skew)]


def _baseline_contradicted(attempt: CreateAttempt, earlier: Sequence[CreatedRefund]) -> bool:
    """The refunds taken for earlier ones refund other units than the order showed before the send: the
    time-based split into earlier and new cannot be trusted."""
    if attempt.baseline.refund_ids is not None or not attempt.baseline.had_refunds:
        return False
    units: Counter[int] = Counter()
    for refund in earlier:
        if refund.fully_declined:
            continue
        for item in refund.items:
            if item.item_type == RefundItemType.PRODUCT.value and item.quantity:
                units[item.item_id] += item.quantity
    lines = {line.line_id for line in attempt.baseline.refunded_lines} | set(units)
    return any(units[line] != attempt.baseline.refunded_on(line) for line in lines)


def _ours(refund: CreatedRefund, order_id: int, how: str) -> Reconciliation:
    if refund.fully_declined:
        verdict, state = Verdict.DECLINED, "declined by the gateway"
    elif refund.declined_payments:
        verdict, state = Verdict.PARTLY_DECLINED, "partly declined by the gateway"
    else:
        verdict, state = Verdict.FOUND, "made"
    return Reconciliation(
        verdict,
        f"BigCommerce refund {refund.id} on order {order_id} is ours (by {how}), {state}",
        refund=refund,
        order_id=order_id,
        how=how,
    )


def reconcile(attempts: Sequence[CreateAttempt], evidence: Evidence) -> Reconciliation:
    """Settle whether any of the open create attempts landed, on the evidence read from BigCommerce."""
    if not attempts:
        return Reconciliation(Verdict.ABSENT, "no create is outstanding")
    sent = [attempt for attempt in attempts if attempt.sends]
    if not sent:
        return Reconciliation(Verdict.ABSENT, "no create was ever sent (each send is stamped beforehand)")
    orders = sorted({attempt.order_id for attempt in sent})
    on_order = {order_id: list(evidence.refunds_by_order.get(order_id, ())) for order_id in orders}
    listed = {
        order_id: [r for r in refunds if r.id not in evidence.set_aside]
        for order_id, refunds in on_order.items()
    }
    last_send = max(attempt.last_send for attempt in sent if attempt.last_send is not None)
    waited = evidence.now - last_send
    in_grace = waited < evidence.grace

    # (a) our marker, wherever BigCommerce keeps it: proof at any time
    marked = [(o, r) for o in orders for r in listed[o] if r.carries_marker(evidence.marker)]
    if marked:
        live = [(o, r) for o, r in marked if not r.fully_declined]
        if len(live) == 1:
            return _ours(live[0][1], live[0][0], "marker")
        if not live:
            order_id, refund = marked[-1]
            return _ours(refund, order_id, "marker")
        return Reconciliation(
            Verdict.UNCERTAIN,
            f"{len(live)} refunds carry this refund's marker",
            candidates=tuple(Candidate(o, r, "carries our marker") for o, r in live),
        )

    # (b) among the refunds that appeared since, what was sent
    new: dict[int, tuple[int, CreatedRefund]] = {}
    fingerprinted: dict[int, tuple[int, CreatedRefund]] = {}
    contradicted: list[int] = []
    for attempt in sent:
        appeared = appeared_since(attempt, listed[attempt.order_id], evidence.clock_skew)
        # The refunds counted in what the order showed include those set aside (another NetSuite
        # refund's): only the time-split is judged here, on everything the order holds.
        split = appeared_since(attempt, on_order[attempt.order_id], evidence.clock_skew)
        earlier = [refund for refund in on_order[attempt.order_id] if refund not in split]
        if _baseline_contradicted(attempt, earlier):
            contradicted.append(attempt.order_id)
        for refund in appeared:
            new[refund.id] = (attempt.order_id, refund)
            if not evidence.markers_echoed and matches(attempt, refund, evidence.clock_skew):
                fingerprinted[refund.id] = (attempt.order_id, refund)

    if in_grace:
        # A fingerprint alone is not proof while refunds may still appear: wait until the grace period
        # after the last send has passed, then judge everything the order shows.
        looks = "a refund like it appeared" if fingerprinted else "nothing of ours yet"
        return Reconciliation(
            Verdict.TOO_EARLY,
            f"{looks}, {int(waited.total_seconds())} s after the last send; BigCommerce may still commit "
            f"it within {int(evidence.grace.total_seconds())} s",
        )
    if len(fingerprinted) == 1 and not contradicted:
        ((order_id, refund),) = fingerprinted.values()
        return _ours(refund, order_id, "fingerprint")
    if fingerprinted:
        why = (
            "the order's earlier refunds do not add up to what it showed before the send"
            if contradicted
            else f"{len(fingerprinted)} refunds match what was sent"
        )
        return Reconciliation(
            Verdict.UNCERTAIN,
            f"{why}, none carries the marker",
            candidates=tuple(Candidate(o, r, "same items and payments") for o, r in fingerprinted.values()),
        )
    if new:
        return Reconciliation(
            Verdict.UNCERTAIN,
            f"{len(new)} refund(s) appeared on the order since the create was sent, none provably ours",
            candidates=tuple(Candidate(o, r, "appeared since the send") for o, r in new.values()),
        )
    if contradicted:
        return Reconciliation(
            Verdict.UNCERTAIN,
            f"order {', '.join(map(str, contradicted))}: its refunds do not add up to what it showed before "
            "the send, so which refunds are new cannot be told",
            candidates=tuple(
                Candidate(o, r, "on the order; whether new cannot be told")
                for o in contradicted
                for r in listed[o]
            ),
        )
    return Reconciliation(
        Verdict.ABSENT,
        f"order {', '.join(map(str, orders))} shows no refund since the send, "
        f"{int(waited.total_seconds())} s after it",
    )


def shows_something_new(attempt: CreateAttempt, order: BigCommerceOrder) -> str | None:
    """What the order itself shows that its baseline did not, if anything: more units refunded on a line,
    or refunds on an order that had none. A second create is never sent past that, whatever the refund
    lists say (they may lag: BigCommerce documents no bound)."""
    baseline = attempt.baseline
    for line in order.lines:
        if line.quantity_refunded > baseline.refunded_on(line.id):
            return (
                f"order {order.id} line {line.id} shows {line.quantity_refunded} unit(s) refunded; "
                f"{baseline.refunded_on(line.id)} before the create was sent"
            )
    if not baseline.had_refunds and order.shows_refunds:
        return (
            f"order {order.id} shows refunds now (status {order.status_id}); none before the create was sent"
        )
    return None
