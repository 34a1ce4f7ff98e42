"""What an operator asks of the stack, done inside it: the operator function's use cases.

The `refund-sync` CLI invokes the operator function with an event `{"action": ..., ...}` and prints the
answer, so whoever runs it needs `lambda:InvokeFunction` on that one function and never the NetSuite or
BigCommerce credentials. Every answer is JSON: `{"ok": true, "action": ..., ...}`, or `{"ok": false,
"error": {"code": ..., "message": ...}}` for a request that cannot be done as asked; a failure of the
function itself (a bug, AWS down) is Lambda's own error.

Adding an action is a request model (with `action: Literal["..."]`), a function `(Operator, request) ->
dict`, and one entry in ACTIONS; then one command in the CLI. `confirm` and `recreate` record an
operator's decision on a refund refund-sync stopped on (services/operator_decisions.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from refund_sync.adapters.bigcommerce import (
    BigCommerceClient,
    BigCommerceError,
    bigcommerce_client_from_settings,
)
from refund_sync.adapters.netsuite.client import NetSuiteClient, netsuite_client_from_settings
from refund_sync.adapters.netsuite.contract import NotFound
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.adapters.refund_queue import DeadLetter, HeldDeadLetter, RefundQueues
from refund_sync.adapters.state_store import StateConflict, StateStore
from refund_sync.config import Settings, get_settings
from refund_sync.domain.bigcommerce import RefundItem, RefundItemType
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason, RefundProblem
from refund_sync.domain.state import (
    FINAL_STATUSES,
    NextStep,
    RefundState,
    SyncStatus,
    delivery_of,
    next_step,
)
from refund_sync.observability import logger
from refund_sync.services.operator_decisions import DecisionRefused, OperatorDecisions, operator_decisions
from refund_sync.services.poll_refunds import OnDemandSync, RefundPoller, imported_from_bigcommerce
from refund_sync.services.references import find_states, is_netsuite_id, parse_reference
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import Preview, RefundEngine, classify_rejection

NETSUITE_DEADLINE_SECONDS = 60.0
# Stop moving messages this long before the function's timeout; the answer says how many are left.
STOP_MARGIN_SECONDS = 20.0


Reference = Annotated[str, AfterValidator(parse_reference)]


# -- requests ---------------------------------------------------------------------------------------------
class OperatorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: str


class PreviewRequest(OperatorRequest):
    """What a sync would do with one refund, creating nothing."""

    action: Literal["preview"]
    refund: Reference


class SyncRequest(OperatorRequest):
    """Sync these refunds now, through the poller's on-demand path."""

    action: Literal["sync"]
    netsuite_ids: list[Reference] = Field(default_factory=list, max_length=100)
    document_numbers: list[Reference] = Field(default_factory=list, max_length=100)
    bigcommerce_order_ids: list[Reference] = Field(default_factory=list, max_length=100)


class RedriveRequest(OperatorRequest):
    """Move dead-lettered messages back to the refund queue: one refund's, or (no refund) every one."""

    action: Literal["redrive"]
    refund: Reference | None = None


class DiscardRequest(OperatorRequest):
    """Delete one refund's dead-lettered message, saying why."""

    action: Literal["discard"]
    refund: Reference
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Field(default="", max_length=300)


class ResolveRequest(OperatorRequest):
    """Record that a person settled the refund outside refund-sync: nothing ever creates it again."""

    action: Literal["resolve"]
    refund: Reference
    how: Literal["refunded_by_hand"]
    note: str = Field(default="", max_length=500)
    requested_by: str = Field(default="", max_length=300)


class ConfirmRequest(OperatorRequest):
    """Settle a create whose outcome stayed uncertain: this BigCommerce refund is the one it made (`ours`),
    or none of the candidates is (`not_created`)."""

    action: Literal["confirm"]
    refund: Reference
    ours: int | None = Field(default=None, gt=0)
    not_created: bool = False
    note: str = Field(default="", max_length=500)
    requested_by: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _one_decision(self) -> ConfirmRequest:
        if (self.ours is None) == (not self.not_created):
            raise ValueError("say one thing: the BigCommerce refund that is ours, or that none was created")
        return self


class RecreateRequest(OperatorRequest):
    """Allow a refund the gateway declined to be created anew (only if every refund made for it was
    declined in full)."""

    action: Literal["recreate"]
    refund: Reference
    requested_by: str = Field(default="", max_length=300)


class OperatorError(Exception):
    """A request that cannot be done as asked: answered with its code, never raised out of the function."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


# -- the operator's context -------------------------------------------------------------------------------
class Operator:
    """What the actions work with. NetSuite and BigCommerce clients (and their secrets) are made on first
    use, so an action that needs neither never reads a credential."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        queues: RefundQueues,
        *,
        netsuite: Callable[[Settings], NetSuiteClient] = netsuite_client_from_settings,
        bigcommerce: Callable[[Settings], BigCommerceClient] = bigcommerce_client_from_settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.queues = queues
        self.ledger = RefundLedger(store, clock=clock)
        self.clock = clock
        self._netsuite_factory = netsuite
        self._bigcommerce_factory = bigcommerce
        self.remaining_seconds: Callable[[], float] = lambda: 900.0

    @cached_property
    def netsuite(self) -> NetSuiteClient:
        return self._netsuite_factory(self.settings)

    @cached_property
    def bigcommerce(self) -> BigCommerceClient:
        return self._bigcommerce_factory(self.settings)

    @cached_property
    def poller(self) -> RefundPoller:
        return RefundPoller(self.settings, self.netsuite, self.store, self.queues, clock=self.clock)

    def engine(self) -> RefundEngine:
        return RefundEngine(self.settings, self.ledger, self.bigcommerce, clock=self.clock)

    def fetch_refund(self, reference: str) -> tuple[NetSuiteRefund | None, list[NotFound]]:
        """The refund from NetSuite: by internal id when all digits, else (or failing that) by document
        number (NetSuite's search matches it in any case)."""
        started = time.monotonic()

        def deadline() -> float:
            return NETSUITE_DEADLINE_SECONDS - (time.monotonic() - started)

        misses: list[NotFound] = []
        if is_netsuite_id(reference):
            found = self.netsuite.find(ids=[reference], deadline=deadline)
            if found.refunds:
                return found.refunds[0], []
            misses = list(found.not_found)
        found = self.netsuite.find(tran_ids=[reference], deadline=deadline)
        if len(found.refunds) > 1:
            raise OperatorError(
                "AMBIGUOUS",
                f"{len(found.refunds)} NetSuite refunds carry document number {reference}: name one by its "
                f"NetSuite internal id ({', '.join(refund.id for refund in found.refunds)})",
                netsuite_ids=[refund.id for refund in found.refunds],
            )
        if found.refunds:
            return found.refunds[0], []
        return None, misses + list(found.not_found)

    def one_state(self, reference: str) -> RefundState | None:
        states = find_states(self.store, reference)
        if len(states) > 1:
            raise OperatorError(
                "AMBIGUOUS",
                f"{len(states)} refunds carry document number {reference}: name one by its NetSuite "
                f"internal id ({', '.join(state.netsuite_id for state in states)})",
                netsuite_ids=[state.netsuite_id for state in states],
            )
        return states[0] if states else None

    def held_letters_of(self, reference: str) -> tuple[list[HeldDeadLetter], list[HeldDeadLetter]]:
        """The dead-letter queue's messages of the refund named (held to act on), and the others (held
        too: release them)."""
        held = self.queues.hold_dead_letters()
        mine = [message for message in held if message.letter.is_about(reference)]
        return mine, [message for message in held if message not in mine]


def letter_json(letter: DeadLetter, **extra: Any) -> dict[str, Any]:
    return {
        "refund": letter.refund,
        "netsuite_id": letter.netsuite_id,
        "document_number": letter.document_number,
        "message_id": letter.message_id,
        "reason": letter.reason,
        **extra,
    }


def state_json(state: RefundState) -> dict[str, Any]:
    return {
        "netsuite_id": state.netsuite_id,
        "document_number": state.document_number,
        "status": state.status.value,
        "reason": state.reason_code,
        "version": state.version,
        "bigcommerce_refund_id": state.bigcommerce_refund_id,
    }


# -- preview ----------------------------------------------------------------------------------------------
def _item_row(item: RefundItem, preview: Preview) -> dict[str, str]:
    """One refund item as the shop names it: what, quantity, amount."""
    if item.item_type in (RefundItemType.PRODUCT, RefundItemType.GIFT_WRAPPING):
        line = next((line for line in preview.order.lines if line.id == item.item_id), None)
        what = f"{line.sku} {line.name}" if line else f"order line {item.item_id}"
        if item.item_type is RefundItemType.GIFT_WRAPPING:
            what = f"gift wrapping of {what}"
        amount = f"adjustment {to_cents(item.adjustment)}" if item.adjustment else ""
        return {"what": what, "quantity": str(item.quantity or ""), "amount": amount}
    names = {
        RefundItemType.SHIPPING: f"shipping (consignment to address {item.item_id})",
        RefundItemType.HANDLING: f"handling (consignment to address {item.item_id})",
        RefundItemType.ORDER: "custom amount",
        RefundItemType.FEE: f"fee {item.item_id}",
    }
    what = names.get(item.item_type, f"{item.item_type.value.lower()} {item.item_id}")
    amount = "" if item.amount is None else str(to_cents(item.amount))
    return {"what": what, "quantity": "", "amount": amount}


def preview(operator: Operator, request: PreviewRequest) -> dict[str, Any]:
    """Fetch the refund from NetSuite, then map and quote it at BigCommerce as a sync would. No writes."""
    refund, not_found = operator.fetch_refund(request.refund)
    answer: dict[str, Any] = {
        "reference": request.refund,
        "refund": refund.model_dump(mode="json") if refund else None,
        "not_found": [miss.model_dump(mode="json") for miss in not_found],
        "state": None,
        "already_done": False,
        "would_sync": False,
    }
    if refund is None:
        return answer
    state = operator.store.get(refund.id)
    if state is not None:
        answer["state"] = state.status.value
        answer["bigcommerce_refund_id"] = state.bigcommerce_refund_id
    # What a sync would do first, decided as the engine decides it.
    step = next_step(state, delivery_of(refund, state), dry_run=operator.settings.dry_run)
    if state is not None and state.status is SyncStatus.SKIPPED and step is not NextStep.REOPEN:
        reason = Reason.__members__.get(state.reason_code or "", Reason.CREATED_FROM_BIGCOMMERCE)
        return answer | _verdict(SyncStatus.SKIPPED.value, reason, state.reason_detail or reason.meaning)
    if step in (NextStep.ALREADY_DONE, NextStep.STALE):
        answer["already_done"] = True
        return answer
    if state is not None and step in (NextStep.STANDING, NextStep.CHANGED_AFTER_SYNC):
        reason = (
            Reason.CHANGED_AFTER_SYNC
            if step is NextStep.CHANGED_AFTER_SYNC
            else Reason.__members__.get(state.reason_code or "", Reason.CHANGED_AFTER_SYNC)
        )
        detail = f"BigCommerce refund {state.bigcommerce_refund_id} stands for it; a sync creates nothing"
        return answer | _verdict(reason.outcome.value, reason, detail)
    if step is NextStep.RECONCILE_FIRST:
        answer["reconcile_first"] = True
        answer["detail"] = (
            "a create sent earlier is not settled yet: a sync first looks for it at BigCommerce, and "
            "creates nothing unless it is proven absent"
        )
        return answer
    skipped = imported_from_bigcommerce(
        refund, re.compile(operator.settings.loop_guard_external_id_pattern, re.IGNORECASE)
    )
    if skipped:
        reason = Reason.CREATED_FROM_BIGCOMMERCE
        return answer | _verdict(SyncStatus.SKIPPED.value, reason, skipped)
    if refund.total == 0:
        reason = Reason.ZERO_AMOUNT
        return answer | _verdict(SyncStatus.SKIPPED.value, reason, reason.meaning)
    try:
        result = operator.engine().preview(refund)
    except RefundProblem as problem:
        return answer | _verdict(problem.reason.outcome.value, problem.reason, problem.detail)
    except BigCommerceError as error:
        if error.transient:
            raise OperatorError("BIGCOMMERCE_UNAVAILABLE", f"BigCommerce did not answer: {error}") from error
        reason = classify_rejection(error)
        return answer | _verdict(reason.outcome.value, reason, f"BigCommerce: {error.message}")
    return answer | {
        "would_sync": True,
        "plan": result.plan.model_dump(mode="json"),
        "quote": result.quote.model_dump(mode="json"),
        "payments": [payment.model_dump(mode="json") for payment in result.payments],
        "payments_text": result.payments_text,
        "items": [_item_row(item, result) for item in result.plan.items],
    }


def _verdict(status: str, reason: Reason, detail: str) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason.name,
        "detail": detail,
        "meaning": reason.meaning,
        "action": reason.action,
    }


# -- sync ---------------------------------------------------------------------------------------------------
def sync(operator: Operator, request: SyncRequest) -> dict[str, Any]:
    """The poller's on-demand sync: NetSuite's current version of each refund into the refund queue (an
    older message of it in the dead-letter queue goes: this one supersedes it)."""
    if not (request.netsuite_ids or request.document_numbers or request.bigcommerce_order_ids):
        raise OperatorError(
            "INVALID_REQUEST",
            "name at least one refund: netsuite_ids, document_numbers or bigcommerce_order_ids",
        )
    not_ids = [value for value in request.netsuite_ids if not is_netsuite_id(value)]
    if not_ids:
        raise OperatorError("INVALID_REQUEST", f"NetSuite internal ids are digits only: {', '.join(not_ids)}")
    report = operator.poller.sync_on_demand(
        OnDemandSync(
            action="sync",
            netsuite_ids=list(request.netsuite_ids),
            document_numbers=list(request.document_numbers),
            bigcommerce_order_ids=list(request.bigcommerce_order_ids),
        )
    )
    return report.as_dict()


# -- redrive --------------------------------------------------------------------------------------------
@dataclass
class _Decision:
    move: list[HeldDeadLetter]
    skip: list[tuple[HeldDeadLetter, str]]


def _newest_first(messages: Iterable[HeldDeadLetter]) -> list[HeldDeadLetter]:
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        messages,
        key=lambda m: (m.letter.last_modified or oldest, m.letter.sent_at or oldest),
        reverse=True,
    )


def _decide(messages: Sequence[HeldDeadLetter], states: Mapping[str, RefundState]) -> _Decision:
    """Which messages a redrive moves, and why it skips the others: a refund already settled needs no
    message; of several messages of one refund only the newest counts; a message older than the version
    the refund's state records would send a stale refund."""
    decision = _Decision(move=[], skip=[])
    by_refund: dict[str, list[HeldDeadLetter]] = {}
    for message in messages:
        if message.letter.netsuite_id is None:
            decision.move.append(message)  # unreadable: the consumer records why, as it did the first time
        else:
            by_refund.setdefault(message.letter.netsuite_id, []).append(message)
    for netsuite_id, mine in by_refund.items():
        newest, *older = _newest_first(mine)
        decision.skip += [
            (message, "a newer message of the same refund is in the dead-letter queue") for message in older
        ]
        state = states.get(netsuite_id)
        if state is not None and state.status in FINAL_STATUSES:
            settled = f"already {state.status.value}"
            if state.bigcommerce_refund_id:
                settled += f" (BigCommerce refund {state.bigcommerce_refund_id})"
            decision.skip.append((newest, f"{settled}: nothing to redrive"))
        elif (
            state is not None
            and newest.letter.last_modified is not None
            and newest.letter.last_modified < state.netsuite_last_modified
        ):
            decision.skip.append(
                (
                    newest,
                    "stale: NetSuite changed the refund since (last modified "
                    f"{state.netsuite_last_modified:%Y-%m-%d %H:%M} UTC); `refund-sync sync` sends its "
                    "current version",
                )
            )
        else:
            decision.move.append(newest)
    return decision


def redrive(operator: Operator, request: RedriveRequest) -> dict[str, Any]:
    """Move dead-lettered messages back to the refund queue, one at a time; messages that must not go
    back (above) are deleted instead, and the answer says why for each."""
    moved: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    left = 0
    handled: set[str] = set()  # bodies moved or deleted by this redrive: one the consumer dead-letters
    while True:  # again while it runs is not moved a second time
        others: list[HeldDeadLetter] = []
        if request.refund is None:
            held = operator.queues.hold_dead_letters()
        else:
            held, others = operator.held_letters_of(request.refund)
        others += [message for message in held if message.body in handled]
        held = [message for message in held if message.body not in handled]
        operator.queues.release(others)
        if not held:
            break
        ids = [message.letter.netsuite_id for message in held if message.letter.netsuite_id]
        decision = _decide(held, operator.store.get_many(ids))
        for message, why in decision.skip:
            operator.queues.delete_dead_letter(message)
            handled.add(message.body)
            skipped.append(letter_json(message.letter, why=why))
        for index, message in enumerate(decision.move):
            if operator.remaining_seconds() < STOP_MARGIN_SECONDS:
                operator.queues.release(decision.move[index:])
                left = len(decision.move) - index
                break
            operator.queues.move_back(message)
            handled.add(message.body)
            moved.append(letter_json(message.letter))
        # A FIFO queue shows a message group's first batch only: another pass finds what followed it.
        if left or request.refund is not None:
            break
    if request.refund is not None and not (moved or skipped):
        raise OperatorError(
            "NOT_IN_DEAD_LETTER_QUEUE",
            f"no message of {request.refund} is waiting in the dead-letter queue: `refund-sync failures` "
            f"lists what failed; `refund-sync sync {request.refund}` sends a refund again",
        )
    logger.info("Redrive", extra={"moved": len(moved), "skipped": len(skipped), "left": left})
    return {"moved": moved, "skipped": skipped, "left": left}


# -- discard ----------------------------------------------------------------------------------------------
def discard(operator: Operator, request: DiscardRequest) -> dict[str, Any]:
    """Delete the refund's dead-lettered message(s); its state keeps its status and notes why."""
    mine, others = operator.held_letters_of(request.refund)
    operator.queues.release(others)
    if not mine:
        raise OperatorError(
            "NOT_IN_DEAD_LETTER_QUEUE",
            f"no message of {request.refund} is waiting in the dead-letter queue (nothing to discard)",
        )
    who = f" by {request.requested_by}" if request.requested_by else ""
    noted: list[dict[str, Any]] = []
    for netsuite_id in dict.fromkeys(m.letter.netsuite_id for m in mine if m.letter.netsuite_id):
        state = operator.store.get(netsuite_id)
        if state is not None:
            noted.append(state_json(operator.ledger.dead_letter_discarded(state, f"{request.reason}{who}")))
    for message in mine:
        operator.queues.delete_dead_letter(message)
    logger.info("Dead-letter messages discarded", extra={"refund": request.refund, "count": len(mine)})
    return {"discarded": [letter_json(message.letter) for message in mine], "states": noted}


# -- resolve ----------------------------------------------------------------------------------------------
CANNOT_RESOLVE = {
    SyncStatus.SYNCED: "it is SYNCED (BigCommerce refund {refund_id}): there is nothing to resolve",
    SyncStatus.SKIPPED: "it is SKIPPED ({reason}) and is never sent",
    SyncStatus.SUBMITTING: (
        "a BigCommerce create of it may be in flight (SUBMITTING): wait until the consumer records its "
        "outcome (`refund-sync show`), then decide"
    ),
}


def resolve(operator: Operator, request: ResolveRequest) -> dict[str, Any]:
    """RESOLVED, for good: the poller never sends it again, the consumer does nothing with any message of
    it (a later redrive included), and its dead-lettered message goes."""
    previous = operator.one_state(request.refund)
    reference = previous.netsuite_id if previous is not None else request.refund
    mine, others = operator.held_letters_of(reference)
    operator.queues.release(others)
    if previous is not None and previous.status is SyncStatus.RESOLVED:
        for message in mine:
            operator.queues.delete_dead_letter(message)
        return {"already_resolved": True, "state": state_json(previous)}
    if previous is not None and previous.status in CANNOT_RESOLVE:
        operator.queues.release(mine)
        raise OperatorError(
            "CANNOT_RESOLVE",
            f"{previous.document_number}: "
            + CANNOT_RESOLVE[previous.status].format(
                refund_id=previous.bigcommerce_refund_id, reason=previous.reason_code or "the loop guard"
            ),
            status=previous.status.value,
        )
    refund = _refund_of(operator, reference, mine, previous)
    who = f" by {request.requested_by}" if request.requested_by else ""
    note = f"refunded by hand{who}" + (f": {request.note}" if request.note else "")
    try:
        resolved = operator.ledger.resolved_by_hand(previous, refund, note)
    except StateConflict as error:
        operator.queues.release(mine)
        raise OperatorError(
            "CONFLICT", f"the refund changed while resolving it; try again ({error})"
        ) from error
    for message in mine:
        operator.queues.delete_dead_letter(message)
    logger.info("Refund resolved by hand", extra={"netsuite_id": resolved.netsuite_id})
    return {
        "already_resolved": False,
        "state": state_json(resolved),
        "dead_letters_removed": [letter_json(message.letter) for message in mine],
    }


# -- decisions on creates refund-sync stopped on --------------------------------------------------------
def _decisions(operator: Operator) -> OperatorDecisions:
    return operator_decisions(operator.settings, operator.ledger, operator.bigcommerce)


def _decided(operator: Operator, reference: str, decide: Callable[[str], RefundState]) -> RefundState:
    state = operator.one_state(reference)
    if state is None:
        raise OperatorError("NOT_FOUND", f"refund-sync has no record of a refund {reference}")
    try:
        return decide(state.netsuite_id)
    except DecisionRefused as error:
        raise OperatorError("DECISION_REFUSED", str(error)) from error
    except StateConflict as error:
        raise OperatorError("CONFLICT", f"the refund changed meanwhile; try again ({error})") from error


def confirm(operator: Operator, request: ConfirmRequest) -> dict[str, Any]:
    """Record the operator's reading of the order, checked against BigCommerce first."""
    who = f" (by {request.requested_by})" if request.requested_by else ""
    decisions = _decisions(operator)
    if request.ours is not None:
        ours = request.ours
        state = _decided(
            operator, request.refund, lambda netsuite_id: decisions.confirm_ours(netsuite_id, ours)
        )
        mine, others = operator.held_letters_of(state.netsuite_id)
        operator.queues.release(others)
        for message in mine:  # settled: a redrive of it would only be a duplicate
            operator.queues.delete_dead_letter(message)
        logger.info("Uncertain create confirmed ours", extra={"netsuite_id": state.netsuite_id})
        return {"decision": "ours", "state": state_json(state), "next": None}
    note = (request.note or "none of the candidate refunds is this one") + who
    state = _decided(
        operator, request.refund, lambda netsuite_id: decisions.confirm_not_created(netsuite_id, note)
    )
    logger.info("Uncertain create confirmed not created", extra={"netsuite_id": state.netsuite_id})
    return {
        "decision": "not_created",
        "state": state_json(state),
        "next": f"refund-sync sync {state.document_number}",
    }


def recreate(operator: Operator, request: RecreateRequest) -> dict[str, Any]:
    """Let a declined refund be created anew; the next sync creates it."""
    decisions = _decisions(operator)
    state = _decided(operator, request.refund, decisions.recreate)
    logger.info("Declined refund allowed a new create", extra={"netsuite_id": state.netsuite_id})
    return {"state": state_json(state), "next": f"refund-sync sync {state.document_number}"}


def _refund_of(
    operator: Operator, reference: str, held: Sequence[HeldDeadLetter], previous: RefundState | None
) -> NetSuiteRefund:
    """The refund as its dead-lettered message carries it (unless the state records a newer version),
    or else as NetSuite has it now."""
    for message in _newest_first(held):
        parsed = message.message
        if parsed is not None and (
            previous is None or parsed.refund.last_modified >= previous.netsuite_last_modified
        ):
            return parsed.refund
    refund, _ = operator.fetch_refund(reference)
    if refund is None:
        raise OperatorError(
            "NOT_FOUND", f"neither refund-sync nor NetSuite knows a refund {reference}: check the number"
        )
    return refund


# -- dispatch -----------------------------------------------------------------------------------------------
R = TypeVar("R", bound=OperatorRequest)


@dataclass(frozen=True)
class Action(Generic[R]):
    request: type[R]
    run: Callable[[Operator, R], dict[str, Any]]

    def __call__(self, operator: Operator, event: Mapping[str, Any]) -> dict[str, Any]:
        return self.run(operator, self.request.model_validate(event))


ACTIONS: dict[str, Action[Any]] = {
    "preview": Action(PreviewRequest, preview),
    "sync": Action(SyncRequest, sync),
    "redrive": Action(RedriveRequest, redrive),
    "discard": Action(DiscardRequest, discard),
    "resolve": Action(ResolveRequest, resolve),
    "confirm": Action(ConfirmRequest, confirm),
    "recreate": Action(RecreateRequest, recreate),
}


def error_answer(action: object, code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"ok": False, "operation": action, "error": {"code": code, "message": message, **details}}


def answer(
    event: object, operator: Operator, *, remaining_seconds: Callable[[], float] | None = None
) -> dict[str, Any]:
    """The answer to one operator event."""
    name = event.get("action") if isinstance(event, Mapping) else None
    action = ACTIONS.get(name) if isinstance(name, str) else None
    if action is None or not isinstance(event, Mapping):
        return error_answer(name, "UNKNOWN_ACTION", f"the actions are: {', '.join(ACTIONS)}")
    if remaining_seconds is not None:
        operator.remaining_seconds = remaining_seconds
    try:
        return {"ok": True, "operation": name, **action(operator, event)}
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in error.errors()[:5]
        )
        return error_answer(name, "INVALID_REQUEST", problems)
    except OperatorError as error:
        return error_answer(name, error.code, error.message, **error.details)
    except NetSuiteError as error:
        return error_answer(name, "NETSUITE_ERROR", f"NetSuite: {error.code}: {error.message}")
    except BigCommerceError as error:
        return error_answer(name, "BIGCOMMERCE_ERROR", f"BigCommerce: {error}")


@cache
def operator() -> Operator:
    """Built once per Lambda container, on first use."""
    settings = get_settings()
    return Operator(
        settings,
        StateStore(settings.state_table_name),
        RefundQueues(settings.refund_queue_url, settings.dead_letter_queue_url),
    )
