"""`make soak`: a fault-injection campaign through the real poller and consumer handlers.

    python -m refund_sync_sandbox.soak --refunds 1000 --seed 7

1. Plan: BigCommerce orders, and NetSuite refunds made of them (line items, partial quantities,
   shipping, handling, custom amounts, record-only refunds, several refunds per order), plus refunds
   that must end FAILED or HELD for good reasons (no order id, an unknown order, a tax rate that
   differs), and orders whose card payment settles only later.
2. Wave by wave, the refunds are made in NetSuite, swept by the scheduled poller and consumed, under
   faults drawn from `random.Random(seed)`: 5xx, timeouts, 429s, throttling and cut-short pages from
   NetSuite; 5xx, gateway timeouts, dropped connections and 429 bursts from BigCommerce; creates that
   BigCommerce commits but answers with an error, a timeout or a dropped connection; the consumer
   killed between the create and the state write; the poller killed between enqueueing a page and
   saving its checkpoint; duplicate SQS deliveries, on-demand resends, and a rewound poller that
   sends a whole sweep again.
3. Fix what is fixable (the payments settle), clear the faults, redrive the whole dead-letter queue,
   and run once more.
4. Check, from the simulators' and the state table's own records (never from the code under test):
   no NetSuite refund has more than one BigCommerce refund (by the marker in its items' reasons);
   none is lost (each is SYNCED, or FAILED / HELD with a reason and in the dead-letter queue);
   BigCommerce's refunds add up, to the cent, to the NetSuite totals of the synced refunds.

Waits cost no real time and no production default changes: both clients sleep on a virtual clock,
which the simulated store's quota window also reads, so a backoff or a paused quota window only moves
that clock. Waves keep the queue short (moto's SQS slows down as it fills). The same seed replays the
same data and the same faults.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING, Any
from unittest import mock

from refund_consumer.handler import lambda_handler as consumer_handler
from refund_poller.handler import lambda_handler as poller_handler
from refund_sync.adapters import bigcommerce as bigcommerce_adapter
from refund_sync.adapters.netsuite import client as netsuite_client
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.adapters.refund_queue import DeadLetter, RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import get_settings
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.money import ZERO, to_cents, total
from refund_sync.domain.netsuite import NetSuiteRefund, PaidOut, PaidOutMethod, RefundLine
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services import check_payouts, consume_refunds, poll_refunds
from refund_sync.services.consume_refunds import refund_consumer
from refund_sync.services.operator_decisions import operator_decisions
from refund_sync.services.poll_refunds import refund_poller
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import RefundEngine
from refund_sync_sandbox.bigcommerce import BigCommerceStore, Order, ReadBack, ReasonEcho, RefundRecord
from refund_sync_sandbox.bigcommerce.readback import ConcurrentRefunds
from refund_sync_sandbox.bigcommerce.readings import StoreReadings, TaxPricing
from refund_sync_sandbox.lambda_runtime import DrainReport, drain_queue, function_logs_to, invoke
from refund_sync_sandbox.netsuite import BillingRecord, BillingType, NetSuiteAccount, SandboxCredentials
from refund_sync_sandbox.sandbox import (
    CONSUMER_TIMEOUT_SECONDS,
    POLLER_TIMEOUT_SECONDS,
    Sandbox,
    running_sandbox,
)
from refund_sync_sandbox.scenarios import (
    CAP,
    DEMO_SETTINGS,
    MUG,
    SOCKS,
    TAX,
    TEE,
    Item,
    address,
    order,
    other_line,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

D = Decimal
LOG_FILE = Path(".sandbox/soak-logs.jsonl")
FIRST_ORDER_ID = 70_001
UNKNOWN_ORDER_BASE = 990_001  # orders NetSuite names but BigCommerce never had
CATALOGUE: tuple[Item, ...] = (
    TEE,
    MUG,
    CAP,
    SOCKS,
    Item("APRON-LIN", "Linen Apron", D("34.00"), "305"),
    Item("PAN-CI10", "Cast Iron Pan 10in", D("59.90"), "306"),
)
GOODWILL_AMOUNTS = (D("2.50"), D("5.00"), D("7.50"))  # each below any catalogue price: the unit covers it
SHIPPING_COSTS = (ZERO, D("5.00"), D("8.00"), D("12.50"))
WRONG_TAX = D("0.11")  # NetSuite taxed at 11% what BigCommerce taxed at 10%: the quote differs
MARKER = re.compile(r"\[netsuite:(\d+)\]")
MAX_POLLER_RUNS = 12
MAX_DRAIN_CYCLES = 40
ON_DEMAND_LIMIT = 100  # ids per on-demand event (the poller's own limit)


class SimulatorMode(StrEnum):
    """Readings of what BigCommerce's documentation leaves open (bigcommerce/readback.py): the campaign
    runs under each, and the guarantees must hold under all of them."""

    ECHO = "echo"  # reasons echoed on the items and at the top level
    TOP_ONLY = "top-only"  # the spec's read-back example: a top-level reason, none on the items
    NO_ECHO = "no-echo"  # no reason anywhere
    LAGGING_LISTS = "lagging-lists"  # refund lists show a refund only 30 s after its create
    LATE_COMMITS = "late-commits"  # a create the client gave up on commits 20 s after it arrived
    ALL_AT_ONCE = "all-at-once"  # all of them, with amounts read back null, concurrent refunds accepted
    # and BigCommerce's clock behind ours

    @property
    def read_back(self) -> ReadBack:
        echo = {
            SimulatorMode.TOP_ONLY: ReasonEcho.TOP_ONLY,
            SimulatorMode.NO_ECHO: ReasonEcho.NONE,
            SimulatorMode.ALL_AT_ONCE: ReasonEcho.NONE,
        }.get(self, ReasonEcho.ITEMS)
        lag = LIST_LAG_SECONDS if self in (SimulatorMode.LAGGING_LISTS, SimulatorMode.ALL_AT_ONCE) else 0.0
        adversarial = self is SimulatorMode.ALL_AT_ONCE
        return ReadBack(
            reason_echo=echo,
            list_lag_seconds=lag,
            amounts_echoed=not adversarial,
            concurrent_refunds=ConcurrentRefunds.ACCEPT if adversarial else ConcurrentRefunds.REFUSE,
        )

    @property
    def bigcommerce_clock_behind(self) -> float:
        """Seconds BigCommerce's clock runs behind the functions' (within the allowed skew)."""
        return BIGCOMMERCE_CLOCK_BEHIND_SECONDS if self is SimulatorMode.ALL_AT_ONCE else 0.0

    @property
    def late_commits(self) -> bool:
        return self in (SimulatorMode.LATE_COMMITS, SimulatorMode.ALL_AT_ONCE)


# Virtual seconds. Each drain cycle lets a minute pass (what the consumer's back-off waits); the grace
# period for an unanswered create is the production default (120 s); a lagging list and a late commit
# stay well inside it, as the grace period's documentation requires of them.
DELIVERY_INTERVAL_SECONDS = 61.0
LIST_LAG_SECONDS = 30.0
LATE_COMMIT_SECONDS = 20.0
BIGCOMMERCE_CLOCK_BEHIND_SECONDS = 40.0  # inside the default BigCommerceClockSkewSeconds (60)


class FaultKind(StrEnum):
    NETSUITE_5XX = "NetSuite 5xx"
    NETSUITE_429 = "NetSuite 429"
    NETSUITE_CONCURRENCY_LIMIT = "NetSuite concurrency limit (HTTP 400)"
    NETSUITE_TIMEOUT = "NetSuite timeout"
    NETSUITE_PAGE_CUT_SHORT = "NetSuite page cut short for governance"
    NETSUITE_USAGE_LIMIT = "NetSuite usage limit (the run fails)"
    POLLER_KILLED = "poller killed between enqueue and checkpoint"
    SWEEP_REPLAYED = "poller checkpoint rewound: a whole sweep again"
    BIGCOMMERCE_5XX = "BigCommerce 5xx on reading the order"
    BIGCOMMERCE_GATEWAY_TIMEOUT = "BigCommerce 504 on the quote"
    BIGCOMMERCE_DROPPED_READ = "BigCommerce drops a read unanswered"
    BIGCOMMERCE_429_BURST = "BigCommerce 429 burst"
    CREATE_FAILED_UNCOMMITTED = "create answered 5xx, nothing made"
    CREATE_5XX_AFTER_COMMIT = "create made, answered 5xx"
    CREATE_TIMEOUT_AFTER_COMMIT = "create made, client timed out"
    CREATE_DROPPED_AFTER_COMMIT = "create made, connection dropped"
    CREATE_COMMITTED_LATE = "create made only after the client gave up"
    DECLINE_BEFORE_RECONCILE = "create made and declined, answered 5xx"
    CONSUMER_KILLED = "consumer killed between create and state write"
    ORDER_ID_CHANGED = "NetSuite names another order after a create was sent"
    NETSUITE_EDIT_AFTER_SYNC = "NetSuite refund edited after its sync"
    NETSUITE_TOUCH_AFTER_SYNC = "NetSuite refund saved unchanged after its sync"
    DUPLICATE_DELIVERY = "duplicate SQS delivery"
    ON_DEMAND_RESEND = "on-demand sync of a queued or done refund"


NETSUITE_TRANSIENT_FAULTS = (
    FaultKind.NETSUITE_5XX,
    FaultKind.NETSUITE_429,
    FaultKind.NETSUITE_CONCURRENCY_LIMIT,
    FaultKind.NETSUITE_TIMEOUT,
    FaultKind.NETSUITE_PAGE_CUT_SHORT,
)
# Faults tied to one order's refund, spread over the syncable refunds in turn so every kind occurs.
ORDER_FAULTS = (
    FaultKind.BIGCOMMERCE_5XX,
    FaultKind.BIGCOMMERCE_GATEWAY_TIMEOUT,
    FaultKind.BIGCOMMERCE_DROPPED_READ,
    FaultKind.CREATE_FAILED_UNCOMMITTED,
    FaultKind.CREATE_5XX_AFTER_COMMIT,
    FaultKind.CREATE_TIMEOUT_AFTER_COMMIT,
    FaultKind.CREATE_DROPPED_AFTER_COMMIT,
    FaultKind.DECLINE_BEFORE_RECONCILE,
    FaultKind.CONSUMER_KILLED,
    FaultKind.ORDER_ID_CHANGED,
)


# What `make soak` (and, smaller, `make test`) runs: each reading of the read-back once, the store's tax
# setting taking turns, and the adversarial reading on both stores.
CAMPAIGN_MATRIX: list[tuple[SimulatorMode, TaxPricing, int]] = [
    (SimulatorMode.ECHO, TaxPricing.INCLUSIVE, 3),
    (SimulatorMode.ECHO, TaxPricing.EXCLUSIVE, 11),
    (SimulatorMode.TOP_ONLY, TaxPricing.EXCLUSIVE, 3),
    (SimulatorMode.NO_ECHO, TaxPricing.INCLUSIVE, 3),
    (SimulatorMode.LAGGING_LISTS, TaxPricing.EXCLUSIVE, 3),
    (SimulatorMode.LATE_COMMITS, TaxPricing.INCLUSIVE, 3),
    (SimulatorMode.ALL_AT_ONCE, TaxPricing.INCLUSIVE, 11),
    (SimulatorMode.ALL_AT_ONCE, TaxPricing.EXCLUSIVE, 3),
]


def faults_of(mode: SimulatorMode) -> frozenset[FaultKind]:
    """The faults a campaign in `mode` injects: every kind, a late commit standing in for a create that
    commits and then stalls where creates commit late."""
    kinds = set(FaultKind)
    kinds.discard(
        FaultKind.CREATE_TIMEOUT_AFTER_COMMIT if mode.late_commits else FaultKind.CREATE_COMMITTED_LATE
    )
    return frozenset(kinds)


@dataclass(frozen=True)
class CampaignConfig:
    refunds: int = 1000
    orders: int | None = None  # default: a third of the refunds
    seed: int = 7
    page_size: int = 50
    wave_size: int = 100  # refunds made in NetSuite between two sweeps (moto's SQS slows with depth)
    order_fault_share: float = 0.3  # syncable refunds whose order meets one of ORDER_FAULTS
    duplicate_share: float = 0.1  # refunds delivered twice (a copy of the message)
    on_demand_share: float = 0.03  # refunds someone syncs on demand while they are queued or done
    burst_chance: float = 0.15  # consumer invocations that start into a 429 burst
    edit_share: float = 0.03  # synced refunds edited in NetSuite afterwards (and as many saved unchanged)
    bigcommerce_timeout_seconds: float = 1.0
    netsuite_timeout_seconds: float = 1.0
    mode: SimulatorMode = SimulatorMode.ECHO
    store_pricing: TaxPricing = TaxPricing.INCLUSIVE  # the store's "Prices entered with tax" setting

    @property
    def order_count(self) -> int:
        return self.orders if self.orders is not None else max(1, self.refunds // 3)

    @property
    def stall_seconds(self) -> float:
        """How long a committed create, or a NetSuite call, is held: past the client's timeout."""
        return max(self.bigcommerce_timeout_seconds, self.netsuite_timeout_seconds) + 1.0

    def command(self) -> str:
        return (
            f"python -m refund_sync_sandbox.soak --refunds {self.refunds} --orders {self.order_count} "
            f"--seed {self.seed} --page-size {self.page_size} --wave-size {self.wave_size} "
            f"--mode {self.mode.value} --store-pricing {self.store_pricing.value}"
        )


Outcome = tuple[SyncStatus, str | None]  # a status and, where it matters, the reason


@dataclass(frozen=True)
class PlannedRefund:
    """A NetSuite refund of the campaign and where it must end."""

    netsuite_id: str
    order_id: int | None
    features: tuple[str, ...]
    expected_status: SyncStatus
    expected_reason: str | None = None
    settles_later: bool = False  # its order's card payment settles only before the redrive
    also_acceptable: tuple[Outcome, ...] = ()  # where the order of events decides between outcomes

    def ends_well(self, state: RefundState) -> bool:
        wanted = ((self.expected_status, self.expected_reason), *self.also_acceptable)
        return any(
            state.status is status and (reason is None or state.reason_code == reason)
            for status, reason in wanted
        )

    def expecting(self, *outcomes: Outcome, feature: str) -> PlannedRefund:
        (status, reason), *others = outcomes
        return replace(
            self,
            expected_status=status,
            expected_reason=reason,
            also_acceptable=tuple(others),
            features=(*self.features, feature),
        )


class VirtualClock:
    """Time that sleeping moves forward instead of waiting: the clients' backoffs and quota pauses, and
    the simulated store's quota window, all read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(seconds, 0.0)

    def time(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    @property
    def slept(self) -> float:
        with self._lock:
            return self._offset


class Killed(BaseException):
    """The process dies (timeout, out of memory, a host failure): nothing after this point runs.

    A BaseException, so that no `except Exception` on the way out can treat it as an ordinary error."""


class InvocationDied(Exception):
    """What the event source sees of a killed consumer invocation: no response; the batch comes back."""


# -- the data ---------------------------------------------------------------------------------------------


@dataclass
class OrderDraft:
    """A BigCommerce order of the campaign, with what NetSuite needs to know to refund parts of it."""

    order: Order
    lines: list[tuple[Item, int]]  # (item, quantity) in line order
    shipping: Decimal
    handling: Decimal
    settled: bool


Piece = tuple[str, int]  # ("unit", line index) | ("shipping", 0) | ("handling", 0) | ("goodwill", line index)


@dataclass
class RefundDraft:
    """A NetSuite refund to make: which pieces of its order it gives back, and where it must end."""

    draft: OrderDraft | None
    order_id: int | None
    pieces: list[Piece]
    expected_status: SyncStatus
    expected_reason: str | None = None
    record_only: bool = False
    goodwill: Decimal = ZERO
    tax_rate: Decimal = TAX
    item: Item = MUG  # what a refund without a BigCommerce order gives back
    features: list[str] = field(default_factory=list)


def _draft_order(order_id: int, refunds_on_it: int, rng: Random, *, settled: bool) -> OrderDraft:
    items = rng.sample(CATALOGUE, k=rng.randint(1, 3))
    quantities = [rng.randint(1, 4) for _ in items]
    shipping = rng.choice(SHIPPING_COSTS)
    handling = D("2.00") if shipping and rng.random() < 0.25 else ZERO
    # every refund of the order needs something of its own to refund, and one unit may go to goodwill
    while sum(quantities) + bool(shipping) + bool(handling) < refunds_on_it + 1:
        quantities[0] += 1
    lines = [
        item.order_line(order_id * 10 + index, quantity, order_id)
        for index, (item, quantity) in enumerate(zip(items, quantities, strict=True))
    ]
    placed = order(order_id, lines, [address(order_id, shipping, handling)], settled=settled)
    return OrderDraft(placed, list(zip(items, quantities, strict=True)), shipping, handling, settled)


def _deal_pieces(draft: OrderDraft, refunds_on_it: int, rng: Random) -> list[list[Piece]]:
    """Split what the order can give back among its refunds; some of it stays unrefunded."""
    pieces: list[Piece] = [
        ("unit", index) for index, (_, quantity) in enumerate(draft.lines) for _ in range(quantity)
    ]
    pieces += [("shipping", 0)] * bool(draft.shipping) + [("handling", 0)] * bool(draft.handling)
    rng.shuffle(pieces)
    if len(pieces) > refunds_on_it and rng.random() < 0.3:
        # A custom amount stands in for one unit, which is then never refunded as a product: together
        # the order's refunds never exceed what it was paid.
        unit = next((position for position, piece in enumerate(pieces) if piece[0] == "unit"), None)
        if unit is not None:
            pieces[unit] = ("goodwill", pieces[unit][1])
    dealt: list[list[Piece]] = [[piece] for piece in pieces[:refunds_on_it]]
    for piece in pieces[refunds_on_it:]:
        if rng.random() < 0.8:
            dealt[rng.randrange(refunds_on_it)].append(piece)
    return dealt


def plan_data(config: CampaignConfig, rng: Random) -> tuple[list[OrderDraft], list[RefundDraft]]:
    """The campaign's BigCommerce orders, and its NetSuite refunds in the order they will be made."""
    without_id = max(1, round(config.refunds * 0.02))
    unknown = max(1, round(config.refunds * 0.02))
    on_orders = config.refunds - without_id - unknown
    order_count = min(config.order_count, on_orders)
    if on_orders < 1:
        raise ValueError("too few refunds for a campaign: give at least 3")
    per_order = [1] * order_count
    for _ in range(on_orders - order_count):
        per_order[rng.randrange(order_count)] += 1

    orders: list[OrderDraft] = []
    refunds: list[RefundDraft] = []
    for index, count in enumerate(per_order):
        unsettled = rng.random() < 0.05
        draft = _draft_order(FIRST_ORDER_ID + index, count, rng, settled=not unsettled)
        orders.append(draft)
        for pieces in _deal_pieces(draft, count, rng):
            refund = RefundDraft(draft, draft.order.id, pieces, SyncStatus.SYNCED)
            if any(kind == "goodwill" for kind, _ in pieces):
                refund.goodwill = rng.choice(GOODWILL_AMOUNTS)
            has_units = any(kind == "unit" for kind, _ in pieces)
            if has_units and rng.random() < 0.04:
                refund.tax_rate = WRONG_TAX
                refund.expected_status, refund.expected_reason = SyncStatus.HELD, "AMOUNT_MISMATCH"
            elif unsettled:
                refund.features.append("payment settles later")
            elif rng.random() < 0.1:
                refund.record_only = True
            refunds.append(refund)
    for _ in range(without_id):
        refunds.append(
            RefundDraft(None, None, [], SyncStatus.FAILED, "ORDER_ID_MISSING", item=rng.choice(CATALOGUE))
        )
    for number in range(unknown):
        refunds.append(
            RefundDraft(
                None,
                UNKNOWN_ORDER_BASE + number,
                [],
                SyncStatus.FAILED,
                "ORDER_NOT_FOUND",
                item=rng.choice(CATALOGUE),
            )
        )
    rng.shuffle(refunds)  # NetSuite ids in creation order: an order's refunds are spread over the pages
    return orders, refunds


def _netsuite_lines(refund: RefundDraft) -> tuple[list[RefundLine], Decimal, Decimal]:
    """The refund's item lines, and its shipping amount and tax, as NetSuite computes them."""
    if refund.draft is None:
        return [refund.item.refund_line(1, 1)], ZERO, ZERO
    units = Counter(index for kind, index in refund.pieces if kind == "unit")
    lines = [
        refund.draft.lines[index][0].refund_line(number, quantity, tax_rate=refund.tax_rate)
        for number, (index, quantity) in enumerate(sorted(units.items()), start=1)
    ]
    kinds = {kind for kind, _ in refund.pieces}
    if "handling" in kinds:
        handling = refund.draft.handling
        lines.append(other_line(len(lines) + 1, "Handling Fee", handling, tax=to_cents(handling * TAX)))
    if refund.goodwill:
        lines.append(other_line(len(lines) + 1, "Goodwill Credit", refund.goodwill))
    shipping = refund.draft.shipping if "shipping" in kinds else ZERO
    return lines, shipping, to_cents(shipping * TAX)


def _features(refund: RefundDraft, refunds_per_order: Counter[int | None]) -> tuple[str, ...]:
    features = list(refund.features)
    if refund.draft is not None:
        units = Counter(index for kind, index in refund.pieces if kind == "unit")
        if units:
            features.append("line items")
        if any(quantity < refund.draft.lines[index][1] for index, quantity in units.items()):
            features.append("partial quantity")
        kinds = {kind for kind, _ in refund.pieces}
        features += [name for name in ("shipping", "handling") if name in kinds]
        if refund.goodwill:
            features.append("custom amount")
        if refund.record_only:
            features.append("record only (paid by NetSuite)")
        if refund.tax_rate != TAX:
            features.append("tax differs")
        if refunds_per_order[refund.order_id] > 1:
            features.append("several refunds per order")
    else:
        features.append("order not in BigCommerce" if refund.order_id is not None else "no order id")
    return tuple(features)


class NetSuiteRefunds:
    """The planned refunds, made in NetSuite wave by wave (as support staff make them through the day)."""

    def __init__(self, account: NetSuiteAccount, refunds: list[RefundDraft], rng: Random) -> None:
        self.account = account
        self.rng = rng
        self.waiting = list(refunds)
        self._per_order = Counter(refund.order_id for refund in refunds if refund.draft is not None)
        self._billings: dict[int | None, BillingRecord] = {}
        self._made = 0

    def make(self, count: int) -> dict[str, PlannedRefund]:
        """Create the next `count` refunds; the plan by NetSuite id."""
        wave, self.waiting = self.waiting[:count], self.waiting[count:]
        return {planned.netsuite_id: planned for planned in map(self._make_one, wave)}

    def _make_one(self, refund: RefundDraft) -> PlannedRefund:
        # One sales order and one invoice or cash sale per BigCommerce order; its refunds are made from it.
        billing = self._billings.get(refund.order_id) if refund.draft is not None else None
        if billing is None:
            sales_order = self.account.add_sales_order(
                bigcommerce_order_id=str(refund.order_id) if refund.order_id is not None else None,
                customer_name="Soak Customer",
            )
            billing = self.account.add_billing(
                sales_order, self.rng.choice((BillingType.INVOICE, BillingType.CASH_SALE))
            )
            if refund.draft is not None:
                self._billings[refund.order_id] = billing
        self._made += 1
        lines, shipping, shipping_tax = _netsuite_lines(refund)
        paid_out = (
            PaidOut(by_netsuite=True, method=PaidOutMethod.PAYMENT_GATEWAY, reference=f"PN-{self._made}")
            if refund.record_only
            else None
        )
        created = self.account.create_refund(
            billing, lines, shipping_amount=shipping, shipping_tax=shipping_tax, paid_out=paid_out
        )
        return PlannedRefund(
            netsuite_id=created.id,
            order_id=refund.order_id,
            features=_features(refund, self._per_order),
            expected_status=refund.expected_status,
            expected_reason=refund.expected_reason,
            settles_later=refund.draft is not None and not refund.draft.settled,
        )


# -- the run ----------------------------------------------------------------------------------------------


@dataclass
class RunStats:
    poller_runs: int = 0
    poller_runs_failed: int = 0
    consumer_invocations: int = 0
    invocations_killed: int = 0
    deliveries: int = 0
    drain_cycles: int = 0
    redriven: int = 0
    replay_enqueued: int = 0


@dataclass
class CampaignResult:
    config: CampaignConfig
    planned: dict[str, PlannedRefund]
    orders: int
    faults: Counter[FaultKind]
    faults_not_reached: int
    stats: RunStats
    statuses: Counter[str]
    reasons: Counter[str]
    duplicates: dict[str, int]  # NetSuite id -> BigCommerce refunds carrying its marker, where more than one
    max_refunds_per_netsuite_refund: int
    lost: dict[str, str]  # NetSuite id -> why it counts as lost
    unexpected: dict[str, str]  # NetSuite id -> how it ended otherwise than planned
    ledger_mismatches: dict[str, str]  # NetSuite id -> how its BigCommerce refund disagrees
    unmarked_refunds: int
    bigcommerce_total: Decimal
    netsuite_synced_total: Decimal
    standing_total: Decimal  # made for refunds held since (edited in NetSuite, or the order changed)
    uncertain_held: Counter[str]  # held for a person: the evidence settled neither way
    operator_decisions: Counter[str]
    bigcommerce_calls: int
    bigcommerce_answers: Counter[str]
    netsuite_errors: Counter[str]
    virtual_seconds: float
    seconds: float

    @property
    def ledger_difference(self) -> Decimal:
        return self.bigcommerce_total - self.netsuite_synced_total - self.standing_total

    @property
    def calls_per_synced_refund(self) -> Decimal:
        """Every BigCommerce call of the campaign (faults, retries, reconciles) per synced refund."""
        synced = self.statuses.get(SyncStatus.SYNCED.value, 0)
        return (Decimal(self.bigcommerce_calls) / synced).quantize(Decimal("0.01")) if synced else ZERO

    def summary(self) -> str:
        """One line: the mode, and what the guarantees came to in it."""
        return (
            f"{self.config.mode.value:<14} {self.config.store_pricing.value:<9} "
            f"synced {self.statuses.get(SyncStatus.SYNCED.value, 0):>4}  "
            f"held CREATE_UNCERTAIN {self.uncertain_held.get(Reason.CREATE_UNCERTAIN.name, 0)} "
            f"(then decided: {_counts(self.operator_decisions)})  "
            f"failed/held by reason: {_counts(self.reasons)}  "
            f"duplicates {self.duplicate_refunds}  lost {len(self.lost)}  "
            f"ledger difference {self.ledger_difference}  "
            f"BigCommerce calls per synced refund {self.calls_per_synced_refund}"
        )

    @property
    def duplicate_refunds(self) -> int:
        """BigCommerce refunds beyond the first, over every NetSuite refund."""
        return sum(count - 1 for count in self.duplicates.values())

    def problems(self) -> list[str]:
        found = [
            f"{netsuite_id}: {count} BigCommerce refunds" for netsuite_id, count in self.duplicates.items()
        ]
        found += [f"{netsuite_id} lost: {why}" for netsuite_id, why in self.lost.items()]
        found += [f"{netsuite_id} ledger: {why}" for netsuite_id, why in self.ledger_mismatches.items()]
        found += [f"{netsuite_id} unexpected: {why}" for netsuite_id, why in self.unexpected.items()]
        if self.unmarked_refunds:
            found.append(f"{self.unmarked_refunds} BigCommerce refunds carry no NetSuite marker")
        if self.ledger_difference:
            found.append(f"BigCommerce refunded {self.ledger_difference} more than NetSuite's synced total")
        return found

    def report(self) -> str:
        features = Counter(feature for refund in self.planned.values() for feature in refund.features)
        settled_later = sum(
            1
            for refund in self.planned.values()
            if refund.settles_later and refund.expected_status is SyncStatus.SYNCED
        )
        run = self.stats
        lines = [
            f"refund-sync soak, mode {self.config.mode.value} ({self.config.mode.read_back.name}), seed "
            f"{self.config.seed}: {len(self.planned)} NetSuite refunds over "
            f"{self.orders} BigCommerce orders, through the real poller and consumer handlers",
            f"  refunds      {_counts(features)}",
            "  faults injected",
            *(f"    {kind.value:<52}{self.faults[kind]:>6}" for kind in FaultKind if self.faults[kind]),
            f"  faults seen  BigCommerce answered {_counts(self.bigcommerce_answers)}",
            f"               NetSuite answered {_counts(self.netsuite_errors)}",
            f"               {self.faults_not_reached} injected rule(s) never reached (cleared at redrive)",
            f"  run          {run.poller_runs} poller runs ({run.poller_runs_failed} failed or killed), "
            f"{run.consumer_invocations} consumer invocations ({run.invocations_killed} killed)",
            f"               {run.deliveries} deliveries in {run.drain_cycles} drain cycles, {run.redriven} "
            f"redriven, {run.replay_enqueued} re-enqueued by the rewound sweep",
            f"               {self.virtual_seconds:.0f} s of backoff and quota pauses, on the virtual clock",
            f"  outcome      {_counts(self.statuses)}; {settled_later} synced once their payment settled",
            f"               reasons: {_counts(self.reasons)}",
            f"  duplicates   {self.duplicate_refunds} (most BigCommerce refunds for one NetSuite refund: "
            f"{self.max_refunds_per_netsuite_refund})",
            f"  lost         {len(self.lost)}",
            f"  ledger       BigCommerce {self.bigcommerce_total}, NetSuite synced "
            f"{self.netsuite_synced_total} (+ {self.standing_total} made before a NetSuite edit or order "
            f"change, held): difference {self.ledger_difference}",
            f"  held         for a person: {_counts(self.uncertain_held)}; then decided: "
            f"{_counts(self.operator_decisions)}",
            f"               {len(self.ledger_mismatches)} refund(s) disagree with their BigCommerce refund",
            f"  unexpected   {len(self.unexpected)} refund(s) ended otherwise than planned",
            f"  time         {self.seconds:.1f} s; replay: {self.config.command()}",
        ]
        return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items())) or "nothing"


class Campaign:
    def __init__(
        self, sandbox: Sandbox, config: CampaignConfig, clock: VirtualClock, progress: Callable[[str], None]
    ) -> None:
        self.sandbox = sandbox
        self.config = config
        self.clock = clock
        self.progress = progress
        self.rng = Random(config.seed)
        self.faults: Counter[FaultKind] = Counter()
        self.stats = RunStats()
        self.kill_before_recording: set[str] = set()
        self.bursts = True
        self.poller_kill_at: int | None = None
        self._checkpoint_saves = 0
        self._scheduled_runs = 0
        self._order_faults = 0
        self.planned: dict[str, PlannedRefund] = {}
        self.orders: list[Order] = []
        self.declining_orders: set[int] = set()
        self.order_changes: dict[str, int] = {}  # NetSuite id -> the unknown order it will name
        self.uncertain_held: Counter[str] = Counter()  # held for a person before the operator looked
        self.operator_decisions: Counter[str] = Counter()

    # -- the seams the faults go through ------------------------------------------------------------------
    @contextmanager
    def patched(self) -> Iterator[None]:
        """Virtual sleeps for both clients; a kill switch in front of the two writes a crash can separate
        from the work they record. Patched at the seams, for the campaign only."""
        clock = self.clock

        class VirtualTimeBigCommerceClient(bigcommerce_adapter.BigCommerceClient):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "sleep": clock.sleep, "clock": clock.monotonic})

        class VirtualTimeRefundEngine(RefundEngine):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "clock": clock.now})

        class VirtualTimeRefundLedger(RefundLedger):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "clock": clock.now})

        class VirtualTimePayoutChecker(check_payouts.PayoutChecker):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "clock": clock.now})

        synced = RefundLedger.synced
        save_checkpoint = StateStore.save_checkpoint

        def synced_unless_killed(ledger: RefundLedger, *args: Any, **kwargs: Any) -> RefundState:
            refund = kwargs.get("refund") or next(arg for arg in args if isinstance(arg, NetSuiteRefund))
            if refund.id in self.kill_before_recording:
                self.kill_before_recording.discard(refund.id)
                raise Killed(f"consumer killed after BigCommerce refunded {refund.id}, before recording it")
            return synced(ledger, *args, **kwargs)

        def save_unless_killed(store: StateStore, checkpoint: Checkpoint) -> Checkpoint:
            self._checkpoint_saves += 1
            if self._checkpoint_saves == self.poller_kill_at:
                raise Killed("poller killed after enqueueing a page, before saving the checkpoint")
            return save_checkpoint(store, checkpoint)

        with ExitStack() as stack:
            stack.enter_context(
                mock.patch.object(bigcommerce_adapter, "BigCommerceClient", VirtualTimeBigCommerceClient)
            )
            stack.enter_context(
                mock.patch.object(
                    poll_refunds,
                    "netsuite_client_from_settings",
                    functools.partial(netsuite_client.netsuite_client_from_settings, sleep=clock.sleep),
                )
            )
            # The grace period of an unanswered create, and the stamps it is measured from, run on the
            # virtual clock that the store's `created` and its late commits read too.
            stack.enter_context(mock.patch.object(consume_refunds, "RefundEngine", VirtualTimeRefundEngine))
            stack.enter_context(mock.patch.object(consume_refunds, "RefundLedger", VirtualTimeRefundLedger))
            stack.enter_context(mock.patch.object(check_payouts, "PayoutChecker", VirtualTimePayoutChecker))
            stack.enter_context(mock.patch.object(RefundLedger, "synced", synced_unless_killed))
            stack.enter_context(mock.patch.object(StateStore, "save_checkpoint", save_unless_killed))
            yield

    # -- the handlers, as Lambda runs them ------------------------------------------------------------------
    def consumer(self, event: dict[str, Any], context: Any) -> Any:
        self.stats.consumer_invocations += 1
        first = self.stats.consumer_invocations == 1
        if self.bursts and (first or self.rng.random() < self.config.burst_chance):
            # another app on the store spends the quota: the next requests are refused whatever is left
            self.sandbox.store.force_rate_limit(self.rng.randint(2, 6))
            self.faults[FaultKind.BIGCOMMERCE_429_BURST] += 1
        try:
            return consumer_handler(event, context)
        except Killed as killed:
            self.stats.invocations_killed += 1
            refund_consumer.cache_clear()  # the next invocation starts in a fresh container
            raise InvocationDied(str(killed)) from killed

    def drain(self) -> DrainReport:
        """Deliver everything visible; then let the failed messages' visibility lapse, as time would."""
        report = drain_queue(
            self.sandbox.aws.sqs(),
            self.sandbox.aws.refund_queue_url,
            self.consumer,
            timeout_seconds=CONSUMER_TIMEOUT_SECONDS,
        )
        self.sandbox.store.release_stalls()
        self.sandbox.let_visibility_lapse(report)
        self.stats.drain_cycles += 1
        self.stats.deliveries += report.delivered
        self.change_orders(only_in_flight=True)
        self.clock.sleep(DELIVERY_INTERVAL_SECONDS)  # what the back-off waits before the next delivery
        return report

    def drain_until_empty(self) -> None:
        for _ in range(MAX_DRAIN_CYCLES):
            self.drain()
            if self.queue_depth() == 0:
                return
        raise RuntimeError(f"the refund queue still holds {self.queue_depth()} messages")

    def queue_depth(self) -> int:
        attributes = self.sandbox.aws.sqs().get_queue_attributes(
            QueueUrl=self.sandbox.aws.refund_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letter_depth(self) -> int:
        attributes = self.sandbox.aws.sqs().get_queue_attributes(
            QueueUrl=self.sandbox.aws.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def read_out_dead_letters(self) -> list[DeadLetter]:
        """Every dead-lettered message, read to the end by receiving and deleting (the campaign's last act).

        A FIFO queue shows no more of a message group while some of it is in flight, so a peek that
        leaves messages in place sees at most one batch (ten) per group: not enough to check all of them.
        """
        sqs = self.sandbox.aws.sqs()
        url = self.sandbox.aws.dead_letter_queue_url
        letters: list[DeadLetter] = []
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", []):
            letters += [DeadLetter.from_message(message) for message in batch]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        return letters

    def poll(
        self, event: dict[str, Any] | None = None, *, kill_at_save: int | None = None
    ) -> dict[str, Any] | None:
        """One poller invocation; None when it failed (NetSuite gave up) or was killed: the next resumes."""
        self.stats.poller_runs += 1
        self._checkpoint_saves = 0
        self.poller_kill_at = kill_at_save
        try:
            report: dict[str, Any] = invoke(
                poller_handler,
                event or {"action": "poll"},
                function_name="refund-sync-poller",
                timeout_seconds=POLLER_TIMEOUT_SECONDS,
            )
        except Killed:
            refund_poller.cache_clear()  # the next run starts in a fresh container
            self.stats.poller_runs_failed += 1
            return None
        except NetSuiteError as error:
            self.progress(f"    poller run failed: {error.code}")
            self.stats.poller_runs_failed += 1
            return None
        finally:
            self.poller_kill_at = None
        return report

    # -- the phases -----------------------------------------------------------------------------------------
    def run(self) -> CampaignResult:
        started = time.monotonic()
        drafts, refunds = plan_data(self.config, self.rng)
        self.orders = [draft.order for draft in drafts]
        self.sandbox.store.seed(self.orders)
        netsuite = NetSuiteRefunds(self.sandbox.account, refunds, self.rng)
        unsettled = sorted({draft.order.id for draft in drafts if not draft.settled})
        waves = max(1, -(-len(refunds) // self.config.wave_size))
        self.progress(
            f"Seeded {len(self.orders)} BigCommerce orders ({len(unsettled)} with a payment not settled "
            f"yet); {len(refunds)} NetSuite refunds follow in {waves} wave(s)."
        )
        # One environment for the whole campaign: each function keeps its warm container (its clients and
        # caches) between invocations, as Lambda does, until a kill sends it to a fresh one.
        with self.sandbox.active(), self.patched():
            for wave in range(waves):
                made = netsuite.make(self.config.wave_size)
                self.planned.update(made)
                self.arm_order_faults(made)
                self.sweep()
                self.duplicate_deliveries()
                if wave == waves // 2:
                    self.replay_sweep()
                self.drain_until_empty()
                self.change_orders(only_in_flight=False)
                self.edit_after_sync(made)
                self.progress(
                    f"  wave {wave + 1}/{waves}: {len(self.planned)} refunds in NetSuite, "
                    f"{self.stats.deliveries} deliveries so far"
                )
            self.progress(f"Consumed under faults; {self.dead_letter_depth()} messages dead-lettered.")
            not_reached = self.fix_and_redrive(unsettled)
            self.progress(f"Redrove {self.stats.redriven} messages after the fixes, and ran once more.")
            return self.verify(not_reached, time.monotonic() - started)

    def arm_order_faults(self, wave: dict[str, PlannedRefund]) -> None:
        """Faults on the orders of some of the wave's refunds (the first refund of the order to get there
        meets them), and kills; every kind in turn, so that even a short campaign meets them all."""
        store = self.sandbox.store
        syncable = [
            p for p in wave.values() if p.expected_status is SyncStatus.SYNCED and not p.settles_later
        ]
        count = round(len(syncable) * self.config.order_fault_share)
        if self._order_faults == 0:
            count = max(count, len(ORDER_FAULTS))  # however small the campaign, every kind once
        chosen = self.rng.sample(syncable, k=min(count, len(syncable)))
        kinds = [
            ORDER_FAULTS[(self._order_faults + index) % len(ORDER_FAULTS)] for index in range(len(chosen))
        ]
        self._order_faults += len(chosen)
        self.rng.shuffle(kinds)
        chosen = self._lone_where_needed(chosen, kinds, syncable)
        if self.config.mode.late_commits:
            kinds = [
                FaultKind.CREATE_COMMITTED_LATE if kind is FaultKind.CREATE_TIMEOUT_AFTER_COMMIT else kind
                for kind in kinds
            ]
        for refund, kind in zip(chosen, kinds, strict=True):
            order_id = refund.order_id
            create = f"/v3/orders/{order_id}/payment_actions/refunds"
            if kind is FaultKind.BIGCOMMERCE_5XX:
                status = self.rng.choice((500, 502, 503))
                store.fail_next("GET", f"/v2/orders/{order_id}", status, count=self.rng.randint(1, 5))
            elif kind is FaultKind.BIGCOMMERCE_GATEWAY_TIMEOUT:
                store.fail_next("POST", f"/v3/orders/{order_id}/payment_actions/refund_quotes", 504)
            elif kind is FaultKind.BIGCOMMERCE_DROPPED_READ:
                store.drop_connection_next("GET", f"/v2/orders/{order_id}", after_commit=False)
            elif kind is FaultKind.CREATE_FAILED_UNCOMMITTED:
                store.fail_next("POST", create, self.rng.choice((500, 503)))
            elif kind is FaultKind.CREATE_5XX_AFTER_COMMIT:
                store.fail_next("POST", create, self.rng.choice((500, 502, 504)), after_commit=True)
            elif kind is FaultKind.CREATE_TIMEOUT_AFTER_COMMIT:
                store.commit_then_stall(self.config.stall_seconds, order_id=order_id)
            elif kind is FaultKind.CREATE_COMMITTED_LATE:
                store.commit_late(self.config.stall_seconds, LATE_COMMIT_SECONDS, order_id=order_id)
            elif kind is FaultKind.CREATE_DROPPED_AFTER_COMMIT:
                store.drop_connection_next("POST", create)
            elif kind is FaultKind.DECLINE_BEFORE_RECONCILE:
                # The gateway declines, and the create's answer is lost: reconcile finds a declined
                # refund of ours, which must never be created again by itself.
                assert order_id is not None
                store.set_tender(order_id, "braintree", declines_refunds=True, decline_message="Do not honor")
                store.fail_next("POST", create, 502, after_commit=True)
                self.declining_orders.add(order_id)
            elif kind is FaultKind.ORDER_ID_CHANGED:
                # The create's answer is lost; before its next delivery NetSuite names an order unknown
                # to BigCommerce (see change_orders).
                store.fail_next("POST", create, 503, after_commit=True)
                self.order_changes[refund.netsuite_id] = UNKNOWN_ORDER_BASE + 500 + len(self.order_changes)
            else:
                self.kill_before_recording.add(refund.netsuite_id)
            self.faults[kind] += 1

    def _lone_where_needed(
        self, chosen: list[PlannedRefund], kinds: list[FaultKind], syncable: list[PlannedRefund]
    ) -> list[PlannedRefund]:
        """Faults meant for one refund (an order change, a decline) go to refunds alone on their order,
        where the plan has any, so that the refund they are meant for is the one that meets them."""
        lone = [p for p in syncable if "several refunds per order" not in p.features and p not in chosen]
        picked = list(chosen)
        for index, kind in enumerate(kinds):
            alone = "several refunds per order" not in picked[index].features
            if (
                kind in (FaultKind.ORDER_ID_CHANGED, FaultKind.DECLINE_BEFORE_RECONCILE)
                and not alone
                and lone
            ):
                picked[index] = lone.pop()
        return picked

    def change_orders(self, *, only_in_flight: bool) -> None:
        """NetSuite now names another order for refunds whose create was sent (or, at the wave's end,
        whatever became of them); where each must end follows from what had happened by then."""
        store = StateStore(self.sandbox.aws.table_name)
        for netsuite_id, new_order in list(self.order_changes.items()):
            state = store.get(netsuite_id)
            in_flight = state is not None and bool(state.open_attempts)
            if only_in_flight and not in_flight:
                continue
            del self.order_changes[netsuite_id]
            self.sandbox.account.edit(netsuite_id, bigcommerce_order_id=str(new_order))
            plan = self.planned[netsuite_id]
            held = (SyncStatus.HELD, Reason.CHANGED_AFTER_SYNC.name)
            if in_flight:
                outcomes: tuple[Outcome, ...] = (
                    (SyncStatus.HELD, Reason.ORDER_CHANGED_AFTER_SUBMIT.name),
                    held,
                    (SyncStatus.FAILED, Reason.ORDER_NOT_FOUND.name),
                    # held without its refund found, then an operator names it on the earlier order
                    (SyncStatus.SYNCED, None),
                )
            elif state is not None and state.status is SyncStatus.SYNCED:
                outcomes = (held,)
            else:
                outcomes = ((SyncStatus.FAILED, Reason.ORDER_NOT_FOUND.name),)
            self.planned[netsuite_id] = plan.expecting(*outcomes, feature="order id changed")

    def edit_after_sync(self, wave: dict[str, PlannedRefund]) -> None:
        """Some synced refunds are edited in NetSuite (one more goodwill line): held, never refunded again;
        as many are saved unchanged (a memo, a write-back): left as they are."""
        store = StateStore(self.sandbox.aws.table_name)
        states = store.get_many(wave)
        synced = sorted(
            (i for i, state in states.items() if state.status is SyncStatus.SYNCED and i in wave), key=int
        )
        count = min(len(synced) // 2, max(1, round(len(synced) * self.config.edit_share)))
        picked = self.rng.sample(synced, k=2 * count)
        for netsuite_id in picked[:count]:
            refund = self.sandbox.account.refund(netsuite_id)
            extra = other_line(
                max((line.line for line in refund.lines), default=0) + 1, "Goodwill Credit", D("1.00")
            )
            self.sandbox.account.edit(
                netsuite_id,
                lines=[*refund.lines, extra],
                subtotal=refund.subtotal + extra.amount,
                total=refund.total + extra.amount,
            )
            self.planned[netsuite_id] = self.planned[netsuite_id].expecting(
                (SyncStatus.HELD, Reason.CHANGED_AFTER_SYNC.name), feature="edited after its sync"
            )
            self.faults[FaultKind.NETSUITE_EDIT_AFTER_SYNC] += 1
        for netsuite_id in picked[count:]:
            self.sandbox.account.touch(netsuite_id)
            plan = self.planned[netsuite_id]
            self.planned[netsuite_id] = replace(
                plan, features=(*plan.features, "saved unchanged after its sync")
            )
            self.faults[FaultKind.NETSUITE_TOUCH_AFTER_SYNC] += 1

    def sweep(self) -> None:
        """Scheduled poller runs until one completes its sweep, NetSuite misbehaving along the way, and
        the consumer draining after each run as it would in production."""
        for _ in range(MAX_POLLER_RUNS):
            self._scheduled_runs += 1
            kill_at = self.netsuite_faults(self._scheduled_runs)
            report = self.poll(kill_at_save=kill_at)
            self.drain()
            if report is not None and report.get("sweep_completed"):
                return
        raise RuntimeError(f"no sweep completed in {MAX_POLLER_RUNS} poller runs")

    def netsuite_faults(self, run: int) -> int | None:
        """Arm NetSuite's faults for the `run`-th scheduled run: every kind in the first three runs, then
        now and then one; never more failed attempts in a row than the client makes (six), save in the
        run meant to fail. Returns the checkpoint save at which to kill the poller, if any."""
        account = self.sandbox.account
        kinds: list[FaultKind] = []
        if run == 1:
            kinds = [FaultKind.NETSUITE_5XX, FaultKind.NETSUITE_429, FaultKind.NETSUITE_CONCURRENCY_LIMIT]
        elif run == 2:
            kinds = [FaultKind.NETSUITE_USAGE_LIMIT]  # not retried: the run fails, the next one resumes
        elif run == 3:
            kinds = [FaultKind.NETSUITE_TIMEOUT, FaultKind.NETSUITE_PAGE_CUT_SHORT, FaultKind.NETSUITE_5XX]
        elif self.rng.random() < 0.3:
            kinds = [self.rng.choice(NETSUITE_TRANSIENT_FAULTS)]
        for kind in kinds:
            if kind is FaultKind.NETSUITE_5XX:
                account.fail_next(self.rng.randint(1, 2), status=self.rng.choice((500, 502, 503, 504)))
            elif kind is FaultKind.NETSUITE_429:
                account.too_many_requests_next(1)
            elif kind is FaultKind.NETSUITE_CONCURRENCY_LIMIT:
                account.throttle_next(1)
            elif kind is FaultKind.NETSUITE_TIMEOUT:
                account.delay_next(1, self.config.stall_seconds)
            elif kind is FaultKind.NETSUITE_PAGE_CUT_SHORT:
                account.truncate_next_pages(1, keep=max(1, self.config.page_size // 2))
            elif kind is FaultKind.NETSUITE_USAGE_LIMIT:
                account.usage_limit_next(1)
            self.faults[kind] += 1
        if run == 1:
            # the first page is enqueued, the checkpoint not saved: the next run sends it again
            self.faults[FaultKind.POLLER_KILLED] += 1
            return 2
        return None

    def duplicate_deliveries(self) -> None:
        """At-least-once delivery: copies of messages, and on-demand syncs of refunds queued or done."""
        ids = sorted(self.planned, key=int)
        wave = min(self.config.wave_size, len(ids))
        copies = self.rng.sample(ids, k=max(1, round(wave * self.config.duplicate_share)))
        sqs = self.sandbox.aws.sqs()
        now = datetime.now(UTC)
        for start in range(0, len(copies), 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = []
            for netsuite_id in copies[start : start + 10]:
                message = RefundMessage(
                    refund=self.sandbox.account.refund(netsuite_id), sent_by="schedule", sent_at=now
                )
                entries.append(
                    {
                        "Id": netsuite_id,
                        "MessageBody": message.model_dump_json(),
                        "MessageGroupId": message.group_id,
                        "MessageDeduplicationId": f"soak-copy-{netsuite_id}",
                    }
                )
            sqs.send_message_batch(QueueUrl=self.sandbox.aws.refund_queue_url, Entries=entries)
        self.faults[FaultKind.DUPLICATE_DELIVERY] += len(copies)
        on_demand = self.rng.sample(ids, k=max(1, round(wave * self.config.on_demand_share)))
        for start in range(0, len(on_demand), ON_DEMAND_LIMIT):
            self.poll({"action": "sync", "netsuite_ids": on_demand[start : start + ON_DEMAND_LIMIT]})
        self.faults[FaultKind.ON_DEMAND_RESEND] += len(on_demand)

    def replay_sweep(self) -> None:
        """Someone rewinds the poller's checkpoint: the next run pages the whole saved search again."""
        store = StateStore(self.sandbox.aws.table_name)
        current = store.get_checkpoint()
        store.save_checkpoint(
            current.model_copy(update={"after_id": "0", "modified_since": None, "sweep_started_at": None})
        )
        self.faults[FaultKind.SWEEP_REPLAYED] += 1
        report = self.poll()
        self.stats.replay_enqueued += int(report["enqueued"]) if report else 0

    def fix_and_redrive(self, unsettled: list[int]) -> int:
        """The payments settle, the faults stop; everything dead-lettered goes back; one more run."""
        store = self.sandbox.store
        pending = store.faults.pending()
        not_reached = sum(len(rules) for rules in pending.values()) + len(self.kill_before_recording)
        store.clear_faults()
        self.sandbox.account.reset_faults()
        self.kill_before_recording.clear()
        self.bursts = False
        for order_id in unsettled:
            store.set_tender(order_id, "braintree", settled=True)
        for order_id in self.declining_orders:
            store.set_tender(order_id, "braintree", declines_refunds=False)
        self.change_orders(only_in_flight=False)
        self.poll()  # the last edits reach the queue
        self.drain_until_empty()
        self.sandbox.run_payout_check()  # declines the creates' answers did not show yet
        recreated = self.operator_pass()
        if recreated:
            self.poll({"action": "sync", "netsuite_ids": recreated})
        self.stats.redriven = self.sandbox.redrive()
        self.drain_until_empty()
        self.poll()
        self.drain_until_empty()
        return not_reached

    def operator_pass(self) -> list[str]:
        """What a person does with the refunds refund-sync stopped on, knowing what BigCommerce holds (here:
        the store's own records, markers included, which the engine could not see): confirm which refund is
        ours, or that none is; allow a declined refund to be created anew once the gateway is fixed.
        Returns the refunds allowed a new create (a sync sends them)."""
        table = StateStore(self.sandbox.aws.table_name)
        recreate: list[str] = []
        with self.sandbox.active():
            settings = get_settings()
            decide = operator_decisions(
                settings,
                RefundLedger(table, clock=self.clock.now),
                bigcommerce_adapter.bigcommerce_client_from_settings(settings),
            )
            for netsuite_id, state in table.get_many(self.planned).items():
                if state.reason_code in (
                    Reason.CREATE_UNCERTAIN.name,
                    Reason.ORDER_CHANGED_AFTER_SUBMIT.name,
                ):
                    if state.bigcommerce_refund_id is not None:
                        continue  # it landed on the order NetSuite no longer names: money to settle by hand
                    self.uncertain_held[state.reason_code] += 1
                    marker = f"[netsuite:{netsuite_id}]"
                    ours = [
                        record
                        for record in self.sandbox.store.list_refunds()
                        if not record.fully_declined and any(marker in item.reason for item in record.items)
                    ]
                    if ours:
                        decide.confirm_ours(netsuite_id, ours[-1].id)
                        self.operator_decisions["confirmed ours"] += 1
                    else:
                        decide.confirm_not_created(netsuite_id, "none of the candidates is this refund")
                        self.operator_decisions["confirmed not created"] += 1
                elif state.reason_code == Reason.GATEWAY_DECLINED.name:
                    decide.recreate(netsuite_id)
                    recreate.append(netsuite_id)
                    self.operator_decisions["re-created after a decline"] += 1
        return recreate

    # -- the checks -----------------------------------------------------------------------------------------
    def verify(self, faults_not_reached: int, seconds: float) -> CampaignResult:
        ids = list(self.planned)
        states = StateStore(self.sandbox.aws.table_name).get_many(ids)
        dead_lettered = {letter.netsuite_id for letter in self.read_out_dead_letters()}
        ours: dict[str, list[RefundRecord]] = {}
        unmarked: list[RefundRecord] = []
        for record in self.sandbox.store.list_refunds():
            if record.fully_declined:
                continue  # no money moved; the gateway's decline is not a second refund
            markers = {marker for item in record.items for marker in MARKER.findall(item.reason)}
            if len(markers) != 1:
                unmarked.append(record)
                continue
            ours.setdefault(markers.pop(), []).append(record)

        account = self.sandbox.account
        ledger = _LedgerCheck()
        for netsuite_id, plan in self.planned.items():
            ledger.judge(
                netsuite_id,
                plan,
                states.get(netsuite_id),
                ours.get(netsuite_id, []),
                to_cents(account.refund(netsuite_id).total),
                in_dead_letter_queue=netsuite_id in dead_lettered,
            )
        lost, unexpected, mismatches = ledger.lost, ledger.unexpected, ledger.mismatches
        synced_total, standing_total = ledger.synced_total, ledger.standing_total

        bigcommerce_total = total(r.effective_amount for records in ours.values() for r in records)
        bigcommerce_total += total(record.effective_amount for record in unmarked)
        answers: Counter[str] = Counter()
        for call in self.sandbox.store.calls():
            if call.status == 0:
                answers["dropped"] += 1
            elif call.status == 429 or call.status >= 500:
                answers[str(call.status)] += 1
        netsuite_errors = Counter(call.error_code for call in account.calls if call.error_code)
        return CampaignResult(
            config=self.config,
            planned=self.planned,
            orders=len(self.orders),
            faults=self.faults,
            faults_not_reached=faults_not_reached,
            stats=self.stats,
            statuses=Counter(state.status.value for state in states.values()),
            reasons=Counter(state.reason_code for state in states.values() if state.reason_code),
            duplicates={
                netsuite_id: len(records) for netsuite_id, records in ours.items() if len(records) > 1
            },
            max_refunds_per_netsuite_refund=max((len(records) for records in ours.values()), default=0),
            lost=lost,
            unexpected=unexpected,
            ledger_mismatches=mismatches,
            unmarked_refunds=len(unmarked),
            bigcommerce_total=bigcommerce_total,
            netsuite_synced_total=synced_total,
            standing_total=standing_total,
            uncertain_held=self.uncertain_held,
            operator_decisions=self.operator_decisions,
            bigcommerce_calls=len(self.sandbox.store.calls()),
            bigcommerce_answers=answers,
            netsuite_errors=netsuite_errors,
            virtual_seconds=self.clock.slept,
            seconds=seconds,
        )


@dataclass
class _LedgerCheck:
    """Each planned refund against the simulators' own records (never the code under test's word)."""

    lost: dict[str, str] = field(default_factory=dict)  # NetSuite id -> why it counts as lost
    unexpected: dict[str, str] = field(default_factory=dict)  # NetSuite id -> how it ended otherwise
    mismatches: dict[str, str] = field(default_factory=dict)  # NetSuite id -> how BigCommerce disagrees
    synced_total: Decimal = ZERO
    standing_total: Decimal = ZERO  # refunds made, then held: edited in NetSuite since, or order changed

    def judge(
        self,
        netsuite_id: str,
        plan: PlannedRefund,
        state: RefundState | None,
        records: list[RefundRecord],
        netsuite_total: Decimal,
        *,
        in_dead_letter_queue: bool,
    ) -> None:
        refunded = total(record.effective_amount for record in records)
        if state is None:
            self.lost[netsuite_id] = "no state recorded"
            return
        if state.status is SyncStatus.SYNCED:
            self.synced_total += netsuite_total
            if refunded != netsuite_total:
                self.mismatches[netsuite_id] = f"NetSuite {netsuite_total}, BigCommerce {refunded}"
            elif state.refunded_amount != refunded or state.bigcommerce_refund_id not in {
                r.id for r in records
            }:
                self.mismatches[netsuite_id] = (
                    f"the table says refund {state.bigcommerce_refund_id} of {state.refunded_amount}; "
                    f"BigCommerce has {[(r.id, r.effective_amount) for r in records]}"
                )
        elif state.status in (SyncStatus.FAILED, SyncStatus.HELD):
            if not state.reason_code:
                self.lost[netsuite_id] = f"{state.status.value} without a reason"
            elif not in_dead_letter_queue:
                self.lost[netsuite_id] = (
                    f"{state.status.value} {state.reason_code}, not in the dead-letter queue"
                )
            if state.bigcommerce_refund_id is not None:
                # A refund stands for it (made, then edited in NetSuite or moved to another order): the
                # table must know it to the cent.
                self.standing_total += refunded
                if records and state.refunded_amount != refunded:
                    self.mismatches[netsuite_id] = (
                        f"BigCommerce refunded {refunded}, the table says {state.refunded_amount}"
                    )
            elif records:
                self.mismatches[netsuite_id] = (
                    f"BigCommerce refunded {refunded}, the table says {state.status.value} "
                    f"{state.reason_code} with no refund"
                )
        else:
            self.lost[netsuite_id] = f"left {state.status.value}: {state.reason_detail or ''}"
        if not plan.ends_well(state):
            self.unexpected[netsuite_id] = (
                f"expected {plan.expected_status.value} {plan.expected_reason or ''}, got "
                f"{state.status.value} {state.reason_code or ''} ({', '.join(plan.features)}): "
                f"{state.reason_detail or ''}"
            )


def campaign_settings(config: CampaignConfig) -> dict[str, str]:
    """The functions' settings for the campaign (environment variables, as the stack would set them)."""
    return {
        **DEMO_SETTINGS,
        "netsuite_page_size": str(config.page_size),
        "netsuite_timeout_seconds": str(config.netsuite_timeout_seconds),
        "bigcommerce_timeout_seconds": str(config.bigcommerce_timeout_seconds),
        # the payout check looks at every synced refund at once (declines show in its first run)
        "payout_check_delay_minutes": "0",
    }


def run_campaign(
    config: CampaignConfig,
    *,
    aws_endpoint: str | None = None,
    credentials: SandboxCredentials | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> CampaignResult:
    """Start a sandbox (reusing a moto server when given one), run the campaign, and report."""
    clock = VirtualClock()
    behind = config.mode.bigcommerce_clock_behind
    store = BigCommerceStore(
        clock=(lambda: clock.time() - behind) if behind else clock.time,
        readings=StoreReadings(pricing=config.store_pricing),
        read_back=config.mode.read_back,
    )
    with running_sandbox(
        settings=campaign_settings(config),
        aws_endpoint=aws_endpoint,
        credentials=credentials,
        bigcommerce_store=store,
    ) as sandbox:
        return Campaign(sandbox, config, clock, progress).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m refund_sync_sandbox.soak", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--refunds", type=int, default=1000, help="NetSuite refunds to sync (default 1000)")
    parser.add_argument(
        "--orders", type=int, default=None, help="BigCommerce orders (default: a third of the refunds)"
    )
    parser.add_argument("--seed", type=int, default=7, help="the seed every choice is drawn from (default 7)")
    parser.add_argument(
        "--page-size", type=int, default=50, help="the poller's NetSuite page size (default 50)"
    )
    parser.add_argument(
        "--wave-size", type=int, default=100, help="refunds made in NetSuite between sweeps (default 100)"
    )
    parser.add_argument(
        "--mode",
        choices=["all", *(mode.value for mode in SimulatorMode)],
        default="all",
        help="which reading of BigCommerce's read-back to run under (default: each in turn)",
    )
    parser.add_argument(
        "--store-pricing",
        choices=[pricing.value for pricing in TaxPricing],
        default=None,
        help="the store's tax setting (default: as the campaign matrix pairs it with each mode)",
    )
    arguments = parser.parse_args(argv)
    pairs = [(mode, pricing) for mode, pricing, _ in CAMPAIGN_MATRIX]
    if arguments.mode != "all":
        pairs = [pair for pair in pairs if pair[0].value == arguments.mode][:1]
    if arguments.store_pricing is not None:
        pairs = list(dict.fromkeys((mode, TaxPricing(arguments.store_pricing)) for mode, _ in pairs))
    out = sys.stdout
    print(f"Function logs: {LOG_FILE}", file=out, flush=True)
    results: list[CampaignResult] = []
    failed = False
    with function_logs_to(LOG_FILE):
        for mode, pricing in pairs:
            config = CampaignConfig(
                refunds=arguments.refunds,
                orders=arguments.orders,
                seed=arguments.seed,
                page_size=arguments.page_size,
                wave_size=arguments.wave_size,
                mode=mode,
                store_pricing=pricing,
            )
            print(
                f"== mode {mode.value} ({mode.read_back.name}), {pricing.value} store", file=out, flush=True
            )
            result = run_campaign(config, progress=lambda line: print(line, file=out, flush=True))
            results.append(result)
            print(result.report(), file=out)
            problems = result.problems()
            if problems:
                failed = True
                print(f"FAILED: {len(problems)} problem(s); replay with: {config.command()}", file=out)
                for problem in problems[:50]:
                    print(f"  - {problem}", file=out)
    print("\nOne line per mode:", file=out)
    for result in results:
        print(f"  {result.summary()}", file=out)
    if failed:
        return 1
    print("PASSED in every mode: zero duplicates, zero lost, the ledger balances to the cent.", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
