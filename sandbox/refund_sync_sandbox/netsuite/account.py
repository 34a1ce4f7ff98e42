"""A NetSuite account in memory: sales orders, their invoices/cash sales/RMAs, and the refunds made from them.

The RESTlet's three actions run here against the account's state exactly as the contract says
(keyset paging by internal id, lookups with reasons for misses, write-back onto the refund), and the
faults NetSuite is known for (concurrency limit, throttling, 5xx, slowness) can be switched on.
Tests seed it directly; the Flask app in `app.py` exposes it over HTTP.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from refund_sync.adapters.netsuite.contract import (
    ErrorCode,
    FindRequest,
    FindResponse,
    NotFound,
    NotFoundReason,
    PageRequest,
    PageResponse,
    Paging,
    WriteBackRequest,
    WriteBackResponse,
)
from refund_sync.domain.money import ZERO, total
from refund_sync.domain.netsuite import (
    NetSuiteRefund,
    Origin,
    PaidOut,
    RecordType,
    RefundLine,
    TransactionRef,
)
from refund_sync_sandbox.netsuite.auth import M2MTokenIssuer, TbaVerifier
from refund_sync_sandbox.netsuite.credentials import SandboxCredentials

DEFAULT_SCRIPT_ID = "customscript_rs_refund_export"
DEFAULT_DEPLOY_ID = "customdeploy_rs_refund_export"
DEFAULT_SAVED_SEARCH_ID = "customsearch_rs_refunds"
ORDER_ID_FIELD = "custbody_fa_channel_order"

# Governance: what the script's calls cost, out of the 5,000 units a RESTlet call may use.
RESTLET_USAGE_LIMIT = 5000
PAGE_USAGE = 15  # search.load + runPaged + fetch
USAGE_RESERVE = 20  # what the script keeps back; a page cut short for governance ends near it
EXCLUDE_FIELD = "custbody_rs_exclude"


class BillingType(StrEnum):
    INVOICE = "invoice"
    CASH_SALE = "cashsale"
    RETURN_AUTHORIZATION = "returnauthorization"

    @property
    def label(self) -> str:
        return {"invoice": "Invoice", "cashsale": "Cash Sale", "returnauthorization": "Return Authorization"}[
            self.value
        ]

    @property
    def refund_type(self) -> RecordType:
        """What NetSuite creates from it: Cash Sale -> Cash Refund; Invoice or RMA -> Credit Memo."""
        return RecordType.CASH_REFUND if self is BillingType.CASH_SALE else RecordType.CREDIT_MEMO


_TRAN_ID_PREFIXES = {
    "salesorder": "SO",
    BillingType.INVOICE.value: "INV",
    BillingType.CASH_SALE.value: "CS",
    BillingType.RETURN_AUTHORIZATION.value: "RA",
    RecordType.CASH_REFUND.value: "CR",
    RecordType.CREDIT_MEMO.value: "CM",
}


@dataclass(frozen=True)
class SalesOrder:
    id: str
    tran_id: str
    bigcommerce_order_id: str | None = None
    customer_name: str | None = None

    @property
    def label(self) -> str:
        return f"Sales Order {self.tran_id} (id {self.id})"

    def ref(self) -> TransactionRef:
        return TransactionRef(id=self.id, type="salesorder", tran_id=self.tran_id)


@dataclass(frozen=True)
class BillingRecord:
    """An invoice, cash sale or return authorization created from a sales order; a return
    authorization may also be created from an invoice or a cash sale (NetSuite help, "Create a return
    authorization"; "Use Case for Issuing a Return Authorization from a Cash Sale"), then
    `created_from_id` names that record."""

    id: str
    type: BillingType
    tran_id: str
    sales_order_id: str
    created_from_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.type.label} {self.tran_id} (id {self.id})"

    def ref(self) -> TransactionRef:
        return TransactionRef(id=self.id, type=self.type.value, tran_id=self.tran_id)


@dataclass(frozen=True)
class SyncFields:
    """The refund's custom body fields the RESTlet's writeBack sets (never part of the refund itself)."""

    bigcommerce_refund_id: str | None
    status: str
    message: str | None
    synced_at: datetime
    reason_code: str | None = None
    what_to_do: str | None = None

    @property
    def outcome(self) -> tuple[str | None, str, str | None]:
        """What the script compares before saving: a new wording of the same outcome is not saved."""
        return (self.bigcommerce_refund_id, self.status, self.reason_code)


@dataclass(frozen=True)
class AccountingPeriod:
    """The refund's posting period. Closed, it refuses saves unless it allows non-G/L changes (NetSuite
    help, "Accounting Period": allowNonGLChanges), which custom body fields are."""

    closed: bool = False
    allow_non_gl_changes: bool = False

    @property
    def refuses_edits(self) -> bool:
        return self.closed and not self.allow_non_gl_changes


@dataclass
class _StoredRefund:
    refund: NetSuiteRefund
    in_saved_search: bool
    sync: SyncFields | None = None
    period: AccountingPeriod = field(default_factory=AccountingPeriod)


FindKind = Literal["id", "tranId", "orderId"]


@dataclass
class _Findings:
    found: dict[int, NetSuiteRefund] = field(default_factory=dict)
    not_found: list[NotFound] = field(default_factory=list)

    def missing(self, kind: FindKind, value: str, *reasons: NotFoundReason) -> None:
        self.not_found.append(NotFound(kind=kind, value=value, reasons=list(reasons)))


@dataclass(frozen=True)
class SavedSearch:
    """A saved search as the RESTlet sees it: the record types it returns (criteria are per refund)."""

    id: str
    record_types: frozenset[str] = frozenset({RecordType.CASH_REFUND.value, RecordType.CREDIT_MEMO.value})

    @property
    def returns_refunds(self) -> bool:
        return bool(self.record_types & {RecordType.CASH_REFUND.value, RecordType.CREDIT_MEMO.value})


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call the simulator answered (RESTlet or token endpoint)."""

    endpoint: str  # "restlet" or "token"
    method: str
    action: str | None
    after_id: str | None
    page_size: int | None
    status: int
    error_code: str | None = None
    auth: str | None = None  # "tba", "oauth2_m2m" or None when no credentials came
    auth_failure: str | None = None  # why the login was refused, when it was


@dataclass(frozen=True)
class Faults:
    """NetSuite's misbehaviour on demand. Counters apply to the next RESTlet calls that pass login."""

    concurrency_limit: int = 15  # e.g. a shared tier with one SuiteCloud Plus licence
    throttle_next: int = 0  # HTTP 400 SSS_REQUEST_LIMIT_EXCEEDED
    too_many_requests_next: int = 0  # HTTP 429
    server_error_next: int = 0
    server_error_status: int = 503
    usage_limit_next: int = 0  # HTTP 400 SSS_USAGE_LIMIT_EXCEEDED: the script ran out of units
    truncate_next: int = 0  # pages cut short for governance (truncatedByGovernance) ...
    truncate_keep: int = 0  # ... after this many refunds
    delay_next: int = 0
    delay_seconds: float = 0.0


class InjectedFault(StrEnum):
    THROTTLE = "throttle"
    TOO_MANY_REQUESTS = "too_many_requests"
    SERVER_ERROR = "server_error"
    USAGE_LIMIT = "usage_limit"


_FAULT_COUNTERS = (
    ("server_error_next", InjectedFault.SERVER_ERROR),
    ("too_many_requests_next", InjectedFault.TOO_MANY_REQUESTS),
    ("throttle_next", InjectedFault.THROTTLE),
    ("usage_limit_next", InjectedFault.USAGE_LIMIT),
)


class RestletError(Exception):
    """An error the RESTlet catches and answers with the contract's ErrorResponse."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.details = details


class NetSuiteAccount:
    """One simulated account. Thread-safe: the server answers calls on several threads."""

    def __init__(
        self,
        credentials: SandboxCredentials | None = None,
        *,
        script_id: str = DEFAULT_SCRIPT_ID,
        deploy_id: str = DEFAULT_DEPLOY_ID,
        saved_search_id: str = DEFAULT_SAVED_SEARCH_ID,
        clock: Callable[[], float] = time.time,
        first_internal_id: int = 1000,
    ) -> None:
        self.credentials = credentials or SandboxCredentials.generate()
        self.script_id = script_id
        self.deploy_id = deploy_id
        self.clock = clock
        self._clock_offset = 0.0
        self._lock = threading.RLock()
        self._wake = threading.Event()  # ends injected delays early (on shutdown)
        self._next_id = first_internal_id
        self._tran_counters: dict[str, int] = defaultdict(lambda: 1000)
        self._transactions: dict[int, SalesOrder | BillingRecord | _StoredRefund] = {}
        self._refund_ids: list[int] = []  # sorted: pages are a bisect plus a short scan
        self._by_tran_id: dict[str, list[int]] = defaultdict(list)
        self._orders_by_bigcommerce_id: dict[str, list[int]] = defaultdict(list)
        self._refunds_by_bigcommerce_id: dict[str, list[int]] = defaultdict(list)
        self._refunds_by_source: dict[int, list[int]] = defaultdict(list)  # billing or SO id -> refunds
        self._billings_by_order: dict[int, list[int]] = defaultdict(list)
        self.default_search_id = saved_search_id  # the deployment's "Saved search" parameter
        self._searches = {saved_search_id: SavedSearch(saved_search_id)}
        self._faults = Faults()
        self._in_flight = 0
        self._in_flight_changed = threading.Condition(self._lock)
        self.max_in_flight = 0
        self._calls: list[CallRecord] = []
        self.tba = (
            TbaVerifier(self.credentials.tba, self.credentials.realm, self.now)
            if self.credentials.tba
            else None
        )
        self.m2m = M2MTokenIssuer(self.credentials.m2m, self.now) if self.credentials.m2m else None

    # -- time -------------------------------------------------------------------------------------

    def now(self) -> float:
        """The account's clock: `clock()` plus whatever `advance_clock` added."""
        return self.clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += seconds

    def _now_datetime(self) -> datetime:
        """Now as NetSuite reports lastModified: UTC, to the minute."""
        return _to_minute(datetime.fromtimestamp(int(self.now()), UTC))

    # -- seeding ----------------------------------------------------------------------------------

    def add_sales_order(
        self,
        tran_id: str | None = None,
        *,
        bigcommerce_order_id: str | None = None,
        customer_name: str | None = None,
    ) -> SalesOrder:
        with self._lock:
            order = SalesOrder(
                self._allocate_id(),
                tran_id or self._next_tran_id("salesorder"),
                bigcommerce_order_id,
                customer_name,
            )
            self._register(order, order.id, order.tran_id)
            if bigcommerce_order_id is not None:
                self._orders_by_bigcommerce_id[bigcommerce_order_id].append(int(order.id))
            return order

    def add_billing(
        self,
        source: SalesOrder | BillingRecord,
        billing_type: BillingType = BillingType.INVOICE,
        *,
        tran_id: str | None = None,
    ) -> BillingRecord:
        """An invoice, cash sale or return authorization of a sales order, or a return authorization of
        an invoice or cash sale."""
        with self._lock:
            created_from: str | None = None
            if isinstance(source, BillingRecord):
                if billing_type is not BillingType.RETURN_AUTHORIZATION or source.type not in (
                    BillingType.INVOICE,
                    BillingType.CASH_SALE,
                ):
                    raise ValueError(
                        f"a {billing_type.label} cannot be created from {source.label}: only a return "
                        "authorization, from an invoice or a cash sale"
                    )
                created_from, order_id = source.id, source.sales_order_id
            else:
                order_id = source.id
            billing = BillingRecord(
                self._allocate_id(),
                billing_type,
                tran_id or self._next_tran_id(billing_type.value),
                order_id,
                created_from,
            )
            self._register(billing, billing.id, billing.tran_id)
            self._billings_by_order[int(order_id)].append(int(billing.id))
            return billing

    def create_refund(
        self,
        created_from: BillingRecord,
        lines: Sequence[RefundLine],
        *,
        tran_id: str | None = None,
        tran_date: date | None = None,
        last_modified: datetime | None = None,
        currency: str = "USD",
        shipping_amount: Decimal = ZERO,
        shipping_tax: Decimal = ZERO,
        handling_amount: Decimal = ZERO,
        handling_tax: Decimal = ZERO,
        memo: str | None = None,
        paid_out: PaidOut | None = None,
        origin: Origin | None = None,
        in_saved_search: bool = True,
        record_type: RecordType | None = None,
    ) -> NetSuiteRefund:
        """A cash refund (from a cash sale or RMA) or credit memo (from an invoice or RMA), totals computed.

        NetSuite's transforms: cashSale -> cashRefund, invoice -> creditMemo, returnAuthorization ->
        cashRefund | creditMemo; `record_type` chooses for a return authorization."""
        with self._lock:
            order = self._transactions.get(int(created_from.sales_order_id))
            if not isinstance(order, SalesOrder):
                raise ValueError(f"{created_from.label} was not created from a sales order of this account")
            if record_type is not None and record_type is not created_from.type.refund_type:
                if created_from.type is not BillingType.RETURN_AUTHORIZATION:
                    raise ValueError(f"a {record_type.label} cannot be created from {created_from.label}")
            else:
                record_type = created_from.type.refund_type
            modified = last_modified or self._now_datetime()
            subtotal = total(line.amount for line in lines)
            tax_total = total(line.tax_amount for line in lines) + shipping_tax + handling_tax
            refund = NetSuiteRefund(
                id=self._allocate_id(),
                record_type=record_type,
                tran_id=tran_id or self._next_tran_id(record_type.value),
                tran_date=tran_date or modified.date(),
                last_modified=modified,
                currency=currency,
                subtotal=subtotal,
                tax_total=tax_total,
                shipping_amount=shipping_amount,
                shipping_tax=shipping_tax,
                handling_amount=handling_amount,
                handling_tax=handling_tax,
                total=subtotal + tax_total + shipping_amount + handling_amount,
                memo=memo,
                customer_name=order.customer_name,
                bigcommerce_order_id=order.bigcommerce_order_id,
                order_id_source=f"{ORDER_ID_FIELD} on {order.tran_id}"
                if order.bigcommerce_order_id
                else None,
                created_from=created_from.ref(),
                sales_order=order.ref(),
                lines=list(lines),
                paid_out=paid_out or PaidOut(by_netsuite=False),
                origin=origin or Origin(),
            )
            return self.add_refund(refund, in_saved_search=in_saved_search)

    def add_refund(self, refund: NetSuiteRefund, *, in_saved_search: bool = True) -> NetSuiteRefund:
        """Store a refund as given (its id must be free); `in_saved_search` models the search's criteria."""
        with self._lock:
            internal_id = int(refund.id)
            if internal_id in self._transactions:
                raise ValueError(f"internal id {refund.id} is already used in this account")
            self._next_id = max(self._next_id, internal_id + 1)
            self._register(_StoredRefund(refund, in_saved_search), refund.id, refund.tran_id)
            bisect.insort(self._refund_ids, internal_id)
            if refund.bigcommerce_order_id is not None:
                self._refunds_by_bigcommerce_id[refund.bigcommerce_order_id].append(internal_id)
            for source in (refund.created_from, refund.sales_order):
                if source is not None:
                    self._refunds_by_source[int(source.id)].append(internal_id)
            return refund

    def add_saved_search(self, search_id: str, record_types: Iterable[str]) -> SavedSearch:
        """Another saved search, e.g. one an admin limited to credit memos, or one of another type."""
        search = SavedSearch(search_id, frozenset(record_types))
        with self._lock:
            self._searches[search_id] = search
        return search

    def set_in_saved_search(self, refund_id: str, in_saved_search: bool) -> None:
        with self._lock:
            self._stored(refund_id).in_saved_search = in_saved_search

    def close_period(self, refund_id: str, *, allow_non_gl_changes: bool = False) -> None:
        """The refund's accounting period is closed (and, unless allowed, refuses non-G/L edits too)."""
        with self._lock:
            self._stored(refund_id).period = AccountingPeriod(
                closed=True, allow_non_gl_changes=allow_non_gl_changes
            )

    def touch(self, refund_id: str) -> NetSuiteRefund:
        """Someone edited the refund in NetSuite: its lastModified moves on."""
        with self._lock:
            stored = self._stored(refund_id)
            stored.refund = self._bumped(stored.refund)
            return stored.refund

    def edit(self, refund_id: str, **changes: Any) -> NetSuiteRefund:
        """Someone changed the refund in NetSuite (its lines and totals, or the order it names): the new
        content is saved and its lastModified moves on. The caller keeps the totals consistent."""
        with self._lock:
            stored = self._stored(refund_id)
            before = stored.refund.bigcommerce_order_id
            stored.refund = self._bumped(
                NetSuiteRefund.model_validate(stored.refund.model_copy(update=changes).model_dump())
            )
            after = stored.refund.bigcommerce_order_id
            if after != before:
                if before is not None:
                    self._refunds_by_bigcommerce_id[before].remove(int(refund_id))
                if after is not None:
                    self._refunds_by_bigcommerce_id[after].append(int(refund_id))
            return stored.refund

    # -- inspection -------------------------------------------------------------------------------

    def transaction(self, internal_id: str) -> SalesOrder | BillingRecord | NetSuiteRefund:
        """Any transaction of the account by internal id (KeyError when there is none)."""
        with self._lock:
            record = self._transactions.get(int(internal_id)) if internal_id.isdigit() else None
            if record is None:
                raise KeyError(f"no transaction with internal id {internal_id}")
            return record.refund if isinstance(record, _StoredRefund) else record

    def refund(self, refund_id: str) -> NetSuiteRefund:
        with self._lock:
            return self._stored(refund_id).refund

    def sync_fields(self, refund_id: str) -> SyncFields | None:
        with self._lock:
            return self._stored(refund_id).sync

    def in_saved_search(self, refund_id: str) -> bool:
        with self._lock:
            return self._stored(refund_id).in_saved_search

    def refund_ids(self) -> list[str]:
        with self._lock:
            return [str(internal_id) for internal_id in self._refund_ids]

    @property
    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def record_call(self, call: CallRecord) -> None:
        with self._lock:
            self._calls.append(call)

    def saved_search_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._searches)

    # -- faults -----------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults

    def throttle_next(self, calls: int) -> None:
        """The next `calls` RESTlet calls get HTTP 400 SSS_REQUEST_LIMIT_EXCEEDED."""
        with self._lock:
            self._faults = replace(self._faults, throttle_next=calls)

    def too_many_requests_next(self, calls: int) -> None:
        with self._lock:
            self._faults = replace(self._faults, too_many_requests_next=calls)

    def fail_next(self, calls: int, status: int = 503) -> None:
        with self._lock:
            self._faults = replace(self._faults, server_error_next=calls, server_error_status=status)

    def usage_limit_next(self, calls: int) -> None:
        with self._lock:
            self._faults = replace(self._faults, usage_limit_next=calls)

    def truncate_next_pages(self, pages: int, keep: int = 0) -> None:
        """The next `pages` pages stop after `keep` refunds, as the script does when units run short."""
        with self._lock:
            self._faults = replace(self._faults, truncate_next=pages, truncate_keep=keep)

    def _take_truncation(self) -> int | None:
        with self._lock:
            if self._faults.truncate_next <= 0:
                return None
            self._faults = replace(self._faults, truncate_next=self._faults.truncate_next - 1)
            return self._faults.truncate_keep

    def delay_next(self, calls: int, seconds: float) -> None:
        with self._lock:
            self._faults = replace(self._faults, delay_next=calls, delay_seconds=seconds)

    def set_concurrency_limit(self, limit: int) -> None:
        with self._lock:
            self._faults = replace(self._faults, concurrency_limit=limit)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults = Faults(concurrency_limit=self._faults.concurrency_limit)

    def take_faults(self) -> tuple[float, InjectedFault | None]:
        """Consume the faults meant for this call: a delay first, then at most one injected answer."""
        with self._lock:
            faults = self._faults
            delay = 0.0
            if faults.delay_next > 0:
                delay, faults = faults.delay_seconds, replace(faults, delay_next=faults.delay_next - 1)
            injected: InjectedFault | None = None
            for counter, fault in _FAULT_COUNTERS:
                remaining: int = getattr(faults, counter)
                if remaining > 0:
                    injected, faults = fault, replace(faults, **{counter: remaining - 1})
                    break
            self._faults = faults
            return delay, injected

    def wait(self, seconds: float) -> None:
        """An injected slow answer; `wake()` ends every such wait (the server calls it on stop)."""
        self._wake.wait(seconds)

    def wake(self) -> None:
        self._wake.set()

    def try_enter(self) -> bool:
        """Admit one more concurrent request, unless the account's limit is reached."""
        with self._lock:
            if self._in_flight >= self._faults.concurrency_limit:
                return False
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._in_flight_changed.notify_all()
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._in_flight_changed.notify_all()

    def wait_for_in_flight(self, count: int, timeout: float = 5.0) -> bool:
        """Block until exactly `count` RESTlet requests are being served (False on timeout)."""
        with self._in_flight_changed:
            return self._in_flight_changed.wait_for(lambda: self._in_flight == count, timeout)

    # -- the RESTlet's actions --------------------------------------------------------------------

    def page(self, request: PageRequest) -> PageResponse:
        search = self._search(request.search_id)
        after = int(request.after_id)
        # NetSuite compares lastModified to the minute: "on or after" includes the whole starting minute.
        since = _to_minute(request.modified_since) if request.modified_since is not None else None
        with self._lock:
            keep = self._take_truncation()
            limit = request.page_size if keep is None else min(keep, request.page_size)
            start = bisect.bisect_right(self._refund_ids, after)
            picked: list[NetSuiteRefund] = []
            has_more = False
            for index in range(start, len(self._refund_ids)):
                stored = self._transactions[self._refund_ids[index]]
                assert isinstance(stored, _StoredRefund)
                if not self._in_search(search, stored):
                    continue
                if since is not None and stored.refund.last_modified < since:
                    continue
                if len(picked) == limit:
                    has_more = True
                    break
                picked.append(stored.refund)
        truncated = keep is not None and has_more
        return PageResponse(
            refunds=picked,
            paging=Paging(
                after_id=request.after_id,
                last_id=picked[-1].id if picked else None,
                page_size=request.page_size,
                count=len(picked),
                has_more=has_more,
                truncated_by_governance=truncated,
            ),
            remaining_usage=USAGE_RESERVE if truncated else RESTLET_USAGE_LIMIT - PAGE_USAGE,
        )

    def find(self, request: FindRequest) -> FindResponse:
        search = self._search(request.search_id)
        findings = _Findings()
        with self._lock:
            for value in request.ids:
                self._find_by_id(search, value, findings)
            for value in request.tran_ids:
                self._find_by_tran_id(search, value, findings)
            for value in request.order_ids:
                self._find_by_order(search, value, findings)
        refunds = [findings.found[internal_id] for internal_id in sorted(findings.found)]
        return FindResponse(refunds=refunds, not_found=findings.not_found)

    def write_back(self, request: WriteBackRequest) -> WriteBackResponse:
        with self._lock:
            stored = self._transactions.get(int(request.id))
            if not isinstance(stored, _StoredRefund) or stored.refund.record_type is not request.record_type:
                raise RestletError(
                    "RECORD_NOT_FOUND",
                    f"No {request.record_type.label} has internal id {request.id}. Check the id and the "
                    "record type (cashrefund or creditmemo); the record may have been deleted.",
                    {"id": request.id, "recordType": request.record_type.value},
                )
            written = SyncFields(
                request.bigcommerce_refund_id,
                request.status,
                request.message,
                request.synced_at,
                request.reason_code,
                request.what_to_do,
            )
            if stored.sync is not None and stored.sync.outcome == written.outcome:
                # The same outcome again (a retried write-back, or the same failure reworded): nothing is
                # saved and lastModified stays, so a write-back never sends the refund round again.
                return WriteBackResponse(id=request.id, updated=False)
            if stored.period.refuses_edits:
                raise RestletError(
                    "PERIOD_CLOSED",
                    f"NetSuite refused to record the refund-sync status on {request.record_type.label} "
                    f"{request.id}: its accounting period is closed (ACCOUNTING_PERIOD_CLOSED: The "
                    "accounting period of this transaction is closed.). Allow non-G/L changes in that "
                    "period (Setup > Accounting > Manage Accounting Periods), or read the outcome in "
                    "refund-sync instead; it is not retried.",
                    {
                        "id": request.id,
                        "recordType": request.record_type.value,
                        "netsuiteError": "ACCOUNTING_PERIOD_CLOSED",
                    },
                )
            stored.sync = written
            stored.refund = self._bumped(stored.refund)
            return WriteBackResponse(id=request.id, updated=True)

    # -- internals --------------------------------------------------------------------------------

    def _allocate_id(self) -> str:
        internal_id = self._next_id
        self._next_id += 1
        return str(internal_id)

    def _next_tran_id(self, record_type: str) -> str:
        self._tran_counters[record_type] += 1
        return f"{_TRAN_ID_PREFIXES[record_type]}-{self._tran_counters[record_type]}"

    def _register(
        self, record: SalesOrder | BillingRecord | _StoredRefund, internal_id: str, tran_id: str
    ) -> None:
        self._transactions[int(internal_id)] = record
        self._by_tran_id[tran_id.strip().lower()].append(int(internal_id))  # NetSuite matches any case

    def _stored(self, refund_id: str) -> _StoredRefund:
        stored = self._transactions.get(int(refund_id)) if refund_id.isdigit() else None
        if not isinstance(stored, _StoredRefund):
            raise KeyError(f"no refund with internal id {refund_id}")
        return stored

    def _bumped(self, refund: NetSuiteRefund) -> NetSuiteRefund:
        # NetSuite stamps every save (to the minute); kept strictly later so that an edit within the
        # same minute, or under a frozen test clock, still shows.
        modified = max(self._now_datetime(), refund.last_modified + timedelta(minutes=1))
        return refund.model_copy(update={"last_modified": modified})

    def _search(self, search_id: str) -> SavedSearch:
        with self._lock:
            search = self._searches.get(search_id)
        if search is None:
            raise RestletError(
                "SEARCH_NOT_FOUND",
                f"Saved search {search_id} could not be loaded (SSS_MISSING_REQD_ARGUMENT: no such search). "
                "Check the id (customsearch_... or its internal id), that the search exists, and that it is "
                "public or shared with the integration role.",
                {"searchId": search_id, "netsuiteError": "SSS_MISSING_REQD_ARGUMENT"},
            )
        if not search.returns_refunds:
            search_type = ", ".join(sorted(search.record_types))
            raise RestletError(
                "SEARCH_NOT_REFUNDS",
                f'Saved search {search_id} is a "{search_type}" search. The refund export needs a '
                "Transaction search (or a Cash Refund / Credit Memo search) whose criteria select cash "
                "refunds and credit memos.",
                {"searchId": search_id, "searchType": search_type},
            )
        return search

    @staticmethod
    def _in_search(search: SavedSearch, stored: _StoredRefund) -> bool:
        return stored.in_saved_search and stored.refund.record_type.value in search.record_types

    def _describe(self, internal_id: int) -> str:
        """How the RESTlet names a transaction in its messages: 'Credit Memo CM-1001'."""
        record = self._transactions[internal_id]
        if isinstance(record, _StoredRefund):
            return f"{record.refund.record_type.label} {record.refund.tran_id}"
        if isinstance(record, SalesOrder):
            return f"Sales Order {record.tran_id}"
        return f"{record.type.label} {record.tran_id}"

    def _find_by_id(self, search: SavedSearch, value: str, findings: _Findings) -> None:
        record = self._transactions.get(int(value))
        if record is None:
            message = (
                f"No transaction has internal id {value}. Check the id, or whether the record was deleted."
            )
            findings.missing("id", value, NotFoundReason(code="NO_SUCH_TRANSACTION", message=message))
        elif not isinstance(record, _StoredRefund):
            findings.missing("id", value, _not_a_refund("Internal id", value, [self._describe(int(value))]))
        else:
            self._keep_or_explain(search, findings, "id", value, [int(value)])

    def _find_by_tran_id(self, search: SavedSearch, value: str, findings: _Findings) -> None:
        matches = self._by_tran_id.get(value.strip().lower(), [])
        refunds = [match for match in matches if isinstance(self._transactions[match], _StoredRefund)]
        if not matches:
            message = (
                f"No transaction has document number {value}. Check the number (Refund # / Credit #), or "
                "whether the record was deleted."
            )
            findings.missing("tranId", value, NotFoundReason(code="NO_SUCH_TRANSACTION", message=message))
        elif not refunds:
            described = [self._describe(match) for match in matches]
            findings.missing("tranId", value, _not_a_refund("Document number", value, described))
        else:
            self._keep_or_explain(search, findings, "tranId", value, refunds)

    def _find_by_order(self, search: SavedSearch, value: str, findings: _Findings) -> None:
        """Sales order -> invoice / cash sale / RMA -> refund, plus any refund carrying the order id."""
        orders = self._orders_by_bigcommerce_id.get(value, [])
        billed = [billing for order in orders for billing in self._billings_by_order.get(order, [])]
        refunds = set(self._refunds_by_bigcommerce_id.get(value, []))
        for source in [*orders, *billed]:
            refunds.update(self._refunds_by_source.get(source, []))
        if refunds:
            self._keep_or_explain(search, findings, "orderId", value, sorted(refunds))
        elif not orders:
            message = (
                f"No sales order carries BigCommerce order id {value} in {ORDER_ID_FIELD}: the order was not "
                "synced from BigCommerce, or the connector stores the id in another field (deployment "
                'parameter "BigCommerce order id field").'
            )
            findings.missing("orderId", value, NotFoundReason(code="ORDER_NOT_SYNCED", message=message))
        else:
            named = ", ".join(self._describe(order) for order in orders)
            made_from = (
                f"its billed records ({', '.join(self._describe(billing) for billing in billed)})"
                if billed
                else "it: the order has no invoice, cash sale or return authorization yet"
            )
            message = (
                f"{named} carries BigCommerce order id {value}, but no cash refund or credit memo was "
                f"created from {made_from}. Refund it in NetSuite from the invoice, cash sale or return "
                "authorization."
            )
            findings.missing("orderId", value, NotFoundReason(code="NO_REFUND_FOR_ORDER", message=message))

    def _keep_or_explain(
        self, search: SavedSearch, findings: _Findings, kind: FindKind, value: str, refund_ids: Sequence[int]
    ) -> None:
        """Keep the refunds the saved search returns; if it returns none of them, say so."""
        kept = 0
        for internal_id in refund_ids:
            stored = self._transactions[internal_id]
            assert isinstance(stored, _StoredRefund)
            if self._in_search(search, stored):
                findings.found[internal_id] = stored.refund
                kept += 1
        if not kept:
            described = ", ".join(self._describe(internal_id) for internal_id in refund_ids)
            message = (
                f"{described} exists, but saved search {search.id} excludes it. Check the search's criteria "
                f'(for example the "{EXCLUDE_FIELD}" exclude checkbox, a date range or a status filter).'
            )
            findings.missing(kind, value, NotFoundReason(code="OUTSIDE_SAVED_SEARCH", message=message))


def _not_a_refund(what: str, value: str, described: list[str]) -> NotFoundReason:
    message = (
        f"{what} {value} belongs to {', '.join(described)}, not to a cash refund or credit memo. "
        "Only Cash Refunds and Credit Memos are exported."
    )
    return NotFoundReason(code="NOT_A_REFUND", message=message)


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
