"""The poller: pages the NetSuite saved search into the refund queue; also syncs named refunds on demand.

A scheduled run resumes the sweep recorded in the checkpoint and pages it by ascending internal id.
The checkpoint advances only after a page is safely enqueued, and the run stops while it still has
time, so a cut-off run loses nothing and the next one resumes. A refund is sent again only when it
changed since its last attempt and never once it is synced; refunds that came *from* BigCommerce
are never sent back (the loop guard).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from refund_sync.adapters.netsuite.client import NetSuiteClient, netsuite_client_from_settings
from refund_sync.adapters.netsuite.contract import PageResponse
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.adapters.refund_queue import MAX_MESSAGE_BYTES, DeadLetter, RefundMessage, RefundQueues
from refund_sync.adapters.state_store import StateConflict, StateStore
from refund_sync.config import Settings, get_settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.revision import Delivery
from refund_sync.domain.state import (
    FINAL_STATUSES,
    RefundState,
    SyncStatus,
    Transition,
    can_transition,
    delivery_of,
)
from refund_sync.observability import Metric, count, count_problem, logger
from refund_sync.services.refund_state import RefundLedger

SECONDS_PER_PAGE_FLOOR = 5.0
MAX_PAGES_WITHOUT_PROGRESS = 3
"""Empty pages cut short for governance, in a row, before the run gives up (the contract: call again;
repeated ones mean something is wrong). Without a bound the run would ask until its timeout."""


# -- the events the poller accepts ----------------------------------------------------------------------
class ScheduledPoll(BaseModel):
    """What EventBridge Scheduler sends every period."""

    model_config = ConfigDict(defer_build=True, extra="ignore")
    action: Literal["poll"] = "poll"


class OnDemandSync(BaseModel):
    """Sync just these refunds, now: from the Lambda console's test event or `refund-sync sync`."""

    model_config = ConfigDict(defer_build=True, extra="forbid")
    action: Literal["sync"]
    netsuite_ids: list[str] = Field(default_factory=list, max_length=100)
    document_numbers: list[str] = Field(default_factory=list, max_length=100)
    bigcommerce_order_ids: list[str] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _names_a_refund(self) -> Self:
        if not (self.netsuite_ids or self.document_numbers or self.bigcommerce_order_ids):
            raise ValueError(
                "name at least one refund: netsuite_ids, document_numbers or bigcommerce_order_ids"
            )
        return self


class PollerEvent(RootModel[Annotated[ScheduledPoll | OnDemandSync, Field(discriminator="action")]]):
    """{"action": "poll"} from the schedule, or {"action": "sync", ...} on demand."""

    model_config = ConfigDict(defer_build=True)


# -- reports (what the invocation returns) ------------------------------------------------------------
@dataclass
class PollReport:
    pages: int = 0
    seen: int = 0
    enqueued: int = 0
    skipped_synced: int = 0
    skipped_loop_guard: int = 0
    failed_too_large: int = 0
    dead_letters_replaced: int = 0  # older messages of refunds sent again, out of the dead-letter queue
    sweep_completed: bool = False
    stopped_early: bool = False
    after_id: str = "0"
    modified_since: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class OnDemandReport:
    enqueued: list[dict[str, str]] = field(default_factory=list)
    not_sent: list[dict[str, str]] = field(default_factory=list)
    not_found: list[dict[str, Any]] = field(default_factory=list)
    dead_letters_replaced: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "enqueued": self.enqueued,
            "not_sent": self.not_sent,
            "not_found": self.not_found,
            "dead_letters_replaced": self.dead_letters_replaced,
        }


def imported_from_bigcommerce(refund: NetSuiteRefund, external_id_pattern: re.Pattern[str]) -> str | None:
    """Why a refund is one a connector imported from BigCommerce (so it must not go back), or None."""
    origin = refund.origin
    if origin.channel_refund_id:
        return f"its marker field holds BigCommerce refund {origin.channel_refund_id}"
    if origin.external_id and external_id_pattern.search(origin.external_id):
        return f"its external id {origin.external_id!r} marks it as imported from BigCommerce"
    return None


def count_pages_without_progress(page: PageResponse, after_id: str, so_far: int) -> int:
    """Empty pages cut short for governance, in a row; past a few, asking again would not help."""
    if page.paging.last_id is not None:
        return 0
    stalled = so_far + 1
    if page.paging.has_more and stalled >= MAX_PAGES_WITHOUT_PROGRESS:
        raise NetSuiteError(  # the runbook's "ran out of governance units", with the same remedy
            "USAGE_LIMIT",
            f"page: {stalled} pages in a row after id {after_id} were cut short for governance before a "
            "single refund; lower NETSUITE_PAGE_SIZE, and check the saved search (lines of one refund "
            "spanning many search pages)",
        )
    return stalled


def identity(refund: NetSuiteRefund) -> dict[str, str]:
    """How a report names a refund: for people (label) and for scripts (ids)."""
    return {"refund": refund.label, "netsuite_id": refund.id, "document_number": refund.tran_id}


def worth_sending(refund: NetSuiteRefund, state: RefundState | None, *, dry_run: bool) -> bool:
    """Only if NetSuite changed the refund's content since it was last worked on (a synced refund that
    changed goes too, to be held CHANGED_AFTER_SYNC: nothing is refunded again), or if it was only
    dry-run and dry-run mode has since been switched off (it is due for real now). A write-back or any
    other edit that leaves the content as it was sends nothing."""
    if state is None:
        return True
    delivery = delivery_of(refund, state)
    if state.status is SyncStatus.SYNCED:
        return delivery is Delivery.CHANGED
    if state.status in FINAL_STATUSES:
        return state.reopens_when_changed and delivery is Delivery.CHANGED
    if state.status is SyncStatus.DRY_RUN and not dry_run:
        return True
    if state.content_hash is None:  # recorded before contents were hashed
        return refund.last_modified > state.netsuite_last_modified
    return delivery is Delivery.CHANGED


# A refund in one of these may have a message waiting in the dead-letter queue (the consumer dead-letters
# it with its reason; SQS moves it after MaxReceiveCount deliveries, recorded RETRIES_EXHAUSTED).
# Failed or held refunds, and those an operator's decision set back to PENDING (a declined refund allowed
# a new create, an uncertain one confirmed not created), may have a message in the dead-letter queue.
MAY_BE_DEAD_LETTERED = frozenset({SyncStatus.FAILED, SyncStatus.HELD, SyncStatus.PENDING})


class RefundPoller:
    def __init__(
        self,
        settings: Settings,
        netsuite: NetSuiteClient,
        store: StateStore,
        queues: RefundQueues,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.netsuite = netsuite
        self.store = store
        self.ledger = RefundLedger(store, clock=clock)
        self.queues = queues
        self.clock = clock
        self.loop_guard = re.compile(settings.loop_guard_external_id_pattern, re.IGNORECASE)

    # -- scheduled sweep -------------------------------------------------------------------------------
    def run_scheduled(self, remaining_seconds: Callable[[], float]) -> PollReport:
        """One scheduled run. A failure is counted (PollerFailures, for the alarm) and re-raised."""
        try:
            report = self._sweep(remaining_seconds)
        except Exception:
            count(Metric.POLLER_FAILURES)
            logger.exception("Poller run failed; the next run resumes from the checkpoint")
            raise
        count(Metric.POLLER_RUNS_COMPLETED)
        return report

    def _sweep(self, remaining_seconds: Callable[[], float]) -> PollReport:
        margin = float(self.settings.poller_stop_margin_seconds)

        def deadline() -> float:
            return remaining_seconds() - margin

        report = PollReport()
        checkpoint = self.store.get_checkpoint()
        if checkpoint.version == 0 and checkpoint.modified_since is None:
            # The very first run: start at go-live rather than at the beginning of NetSuite's history.
            checkpoint = checkpoint.model_copy(update={"modified_since": self.settings.first_sync_from})
        checkpoint = checkpoint.sweep_start(self.clock())
        try:
            checkpoint = self.store.save_checkpoint(checkpoint)
        except StateConflict:
            logger.warning("Another poller run holds the checkpoint; leaving this period to it")
            report.stopped_early = True
            return report

        slowest_page = SECONDS_PER_PAGE_FLOOR
        pages_without_progress = 0
        while True:
            if deadline() < slowest_page * 1.5:
                report.stopped_early = True
                logger.info(
                    "Stopping before the timeout; the next run resumes",
                    extra={"after_id": checkpoint.after_id},
                )
                break
            started = time.monotonic()
            page = self.netsuite.page(
                after_id=checkpoint.after_id,
                modified_since=checkpoint.modified_since,
                page_size=self.settings.netsuite_page_size,
                deadline=deadline,
            )
            report.pages += 1
            report.seen += len(page.refunds)
            pages_without_progress = count_pages_without_progress(
                page, checkpoint.after_id, pages_without_progress
            )
            enqueued = self._enqueue(page.refunds, "schedule", report)
            report.enqueued += enqueued
            # Only now, with the page safely in the queue, may the checkpoint move past it.
            checkpoint = checkpoint.page_done(page.paging.last_id or checkpoint.after_id, enqueued)
            if not page.paging.has_more:
                checkpoint = checkpoint.sweep_done(
                    timedelta(seconds=self.settings.poller_lookback_seconds), self.clock()
                )
            try:
                checkpoint = self.store.save_checkpoint(
                    checkpoint.model_copy(update={"last_run_at": self.clock()})
                )
            except StateConflict:
                logger.warning("The checkpoint moved under this run; stopping (the page was enqueued once)")
                report.stopped_early = True
                break
            count(Metric.POLLER_PAGES)
            slowest_page = max(slowest_page, time.monotonic() - started)
            if not page.paging.has_more:
                report.sweep_completed = True
                break

        report.after_id = checkpoint.after_id
        report.modified_since = checkpoint.modified_since.isoformat() if checkpoint.modified_since else None
        count(Metric.REFUNDS_ENQUEUED, report.enqueued)
        if report.sweep_completed:
            count(Metric.POLLER_SWEEPS_COMPLETED)
        if checkpoint.modified_since is not None:
            lag = (self.clock() - checkpoint.modified_since).total_seconds()
            count(Metric.POLLER_LAG_SECONDS, lag, MetricUnit.Seconds)
        logger.info("Poll finished", extra=report.as_dict())
        return report

    # -- on demand -----------------------------------------------------------------------------------------
    def sync_on_demand(self, request: OnDemandSync) -> OnDemandReport:
        report = OnDemandReport()
        found = self.netsuite.find(
            ids=request.netsuite_ids,
            tran_ids=request.document_numbers,
            order_ids=request.bigcommerce_order_ids,
        )
        states = self.store.get_many(refund.id for refund in found.refunds)
        sending_at = self.clock()
        to_send: list[NetSuiteRefund] = []
        messages: list[RefundMessage] = []
        for refund in found.refunds:
            state = states.get(refund.id)
            why = imported_from_bigcommerce(refund, self.loop_guard)
            if why:
                self.ledger.skipped(refund, Reason.CREATED_FROM_BIGCOMMERCE, why)
                report.not_sent.append({**identity(refund), "why": f"imported from BigCommerce: {why}"})
            elif (
                state is not None
                and state.status in FINAL_STATUSES
                # as the sweep: a synced refund edited since goes, to be held; a zero one edited, to sync
                and not worth_sending(refund, state, dry_run=self.settings.dry_run)
            ):
                report.not_sent.append(
                    {
                        **identity(refund),
                        "why": f"already {state.status.value}"
                        + (
                            f" (BigCommerce refund {state.bigcommerce_refund_id})"
                            if state.bigcommerce_refund_id is not None
                            else f" ({state.reason_code})"
                            if state.reason_code
                            else ""
                        )
                        + "; never refunded twice",
                    }
                )
            elif (message := self._sendable(refund, "on_demand", state)) is not None:
                to_send.append(refund)
                messages.append(message)
            else:
                report.not_sent.append(
                    {
                        **identity(refund),
                        "why": f"{Reason.REFUND_TOO_LARGE.name}: {Reason.REFUND_TOO_LARGE.meaning}",
                    }
                )
        self.queues.enqueue(messages)
        replaced = self._replace_dead_letters(to_send, states, sending_at)
        report.dead_letters_replaced = [
            {"refund": letter.refund, "netsuite_id": letter.netsuite_id or "", "reason": letter.reason}
            for letter in replaced
        ]
        report.enqueued = [
            {**identity(refund), "bigcommerce_order": refund.bigcommerce_order_id or "-"}
            for refund in to_send
        ]
        report.not_found = [
            {
                "query": f"{miss.kind} {miss.value}",
                "reasons": [f"{reason.code}: {reason.message}" for reason in miss.reasons],
                "codes": [reason.code for reason in miss.reasons],  # for scripts: no parsing of the text
            }
            for miss in found.not_found
        ]
        count(Metric.REFUNDS_ENQUEUED, len(to_send))
        logger.info("On-demand sync", extra=report.as_dict())
        return report

    # -- shared --------------------------------------------------------------------------------------------
    def _message(self, refund: NetSuiteRefund, sent_by: Literal["schedule", "on_demand"]) -> RefundMessage:
        return RefundMessage(refund=refund, sent_by=sent_by, sent_at=self.clock())

    def _enqueue(
        self, refunds: Sequence[NetSuiteRefund], sent_by: Literal["schedule"], report: PollReport
    ) -> int:
        states = self.store.get_many(refund.id for refund in refunds)
        sending_at = self.clock()
        messages = []
        for refund in refunds:
            why = imported_from_bigcommerce(refund, self.loop_guard)
            if why:
                report.skipped_loop_guard += 1
                self.ledger.skipped(refund, Reason.CREATED_FROM_BIGCOMMERCE, why)
                count(Metric.REFUNDS_SKIPPED_LOOP_GUARD)
            elif not worth_sending(refund, states.get(refund.id), dry_run=self.settings.dry_run):
                report.skipped_synced += 1
            elif (message := self._sendable(refund, sent_by, states.get(refund.id))) is not None:
                messages.append(message)
            else:
                report.failed_too_large += 1
        enqueued = self.queues.enqueue(messages)
        replaced = self._replace_dead_letters([m.refund for m in messages], states, sending_at)
        report.dead_letters_replaced += len(replaced)
        return enqueued

    def _replace_dead_letters(
        self, sent: Sequence[NetSuiteRefund], states: dict[str, RefundState], sending_at: datetime
    ) -> list[DeadLetter]:
        """The refunds just sent supersede any message of theirs waiting in the dead-letter queue: it goes,
        so the queue never holds two messages of one refund, nor one that is stale once the new one syncs.
        Only refunds that failed before (or were set back by an operator) can have one, so a sweep reads
        the dead-letter queue rarely."""
        ids = [
            refund.id
            for refund in sent
            if (state := states.get(refund.id)) and state.status in MAY_BE_DEAD_LETTERED
        ]
        if not ids:
            return []
        replaced = self.queues.remove_dead_letters(ids, sent_before=sending_at)
        if replaced:
            logger.info(
                "Older messages of refunds sent again left the dead-letter queue",
                extra={"netsuite_ids": [letter.netsuite_id for letter in replaced]},
            )
        return replaced

    def _sendable(
        self, refund: NetSuiteRefund, sent_by: Literal["schedule", "on_demand"], state: RefundState | None
    ) -> RefundMessage | None:
        """The refund's message, or None when no queue message can hold it: then it is recorded FAILED,
        so the sweep goes on past it instead of failing on its page at every run."""
        message = self._message(refund, sent_by)
        size = len(message.body.encode())
        if size <= MAX_MESSAGE_BYTES:
            return message
        reason = Reason.REFUND_TOO_LARGE
        detail = (
            f"{refund.label} has {len(refund.lines)} lines: its message would take {size:,} bytes, "
            f"more than the queue's {MAX_MESSAGE_BYTES:,}"
        )
        logger.error("Refund too large to queue", extra={"netsuite_id": refund.id, "detail": detail})
        source = state.status if state else None
        if source is SyncStatus.SYNCED:
            # Edited after its sync: what stands is the change, never a failure over the refund made.
            held = Reason.CHANGED_AFTER_SYNC
            self.ledger.problem(
                state,
                refund,
                held,
                f"edited in NetSuite after its sync, and now too large to queue ({detail}); nothing more "
                "was refunded",
                transition=Transition.CHANGED_AFTER_SYNC,
            )
            count_problem(held)
        elif can_transition(Transition.PROBLEM, source, SyncStatus.FAILED) and not (
            state is not None and (state.open_attempts or state.holds_bigcommerce_refund)
        ):
            self.ledger.problem(state, refund, reason, detail)
            count_problem(reason)
        # else a create is in flight or unaccounted for, or a BigCommerce refund stands: what is recorded
        # (a hold where money may have moved) stays for a person; the edit is in the log
        else:
            logger.warning(
                "A refund with a create outstanding or a BigCommerce refund grew too large to queue",
                extra={"netsuite_id": refund.id, "status": source},
            )
        return None


@cache
def refund_poller() -> RefundPoller:
    """Built once per Lambda container, on first use."""
    settings = get_settings()
    return RefundPoller(
        settings,
        netsuite_client_from_settings(settings),
        StateStore(settings.state_table_name),
        RefundQueues(settings.refund_queue_url, settings.dead_letter_queue_url),
    )
