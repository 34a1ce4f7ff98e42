"""How the CLI shows things: rich renderables for people, plain dicts for `--json`.

Written for operations staff and NetSuite admins: refunds by their document numbers, statuses in
colour, and every reason followed by what to do about it (the runbook's words, from Reason).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic_core import to_jsonable_python
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from refund_sync.domain.bigcommerce import PaymentOption, RefundItem, RefundItemType
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import RecordType
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_cli.operations import (
    DeadLetter,
    MoveTask,
    PreviewOutcome,
    QueueDepth,
    RedriveResult,
    Status,
    netsuite_id_of,
)
from refund_sync_cli.target import Target

STATUS_STYLES = {
    SyncStatus.SYNCED: "green",
    SyncStatus.FAILED: "red",
    SyncStatus.HELD: "yellow",
    SyncStatus.SKIPPED: "cyan",
    SyncStatus.DRY_RUN: "blue",
    SyncStatus.PENDING: "magenta",
    SyncStatus.SUBMITTING: "magenta",
    SyncStatus.RESOLVED: "green",
}

REDRIVE_EXPLAINED = (
    "A redrive is what the SQS console's [bold]Start DLQ redrive[/bold] does: it moves every message "
    "from the dead-letter queue back to the refund queue, where the consumer takes each one again.\n"
    "• The moved messages get new message ids; their bodies (the NetSuite refunds) are unchanged.\n"
    "• Refunds that are already synced are recognised and [bold]never refunded twice[/bold].\n"
    "• Refunds that still cannot sync go back to the dead-letter queue with their reason.\n"
    "• SQS runs one move task per queue at a time.\n"
    "Fix the causes first (see [bold]What to do[/bold] below), then redrive."
)


def to_json(value: Any) -> Any:
    """Plain JSON values: money as strings (never floats), instants in ISO 8601, enums by value."""
    return to_jsonable_python(value)


def json_object(data: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = to_jsonable_python(data)
    return plain


# -- small pieces -----------------------------------------------------------------------------------------
def status_text(status: SyncStatus | str) -> Text:
    status = SyncStatus(status)
    return Text(status.value, style=f"bold {STATUS_STYLES[status]}")


def when(instant: datetime | None, now: datetime) -> str:
    if instant is None:
        return "never"
    seconds = int((now - instant).total_seconds())
    if seconds < 0:
        relative = "just now"
    elif seconds < 90:
        relative = f"{seconds} s ago"
    elif seconds < 90 * 60:
        relative = f"{seconds // 60} min ago"
    elif seconds < 36 * 3600:
        relative = f"{seconds // 3600} h ago"
    else:
        relative = f"{seconds // 86400} days ago"
    return f"{instant:%Y-%m-%d %H:%M:%S} UTC ({relative})"


def payout_text(state: RefundState, now: datetime) -> str:
    """Whether the payout check has seen the refund through the gateway."""
    if state.payout_checked_at is not None:
        declined = state.reason_code == Reason.GATEWAY_DECLINED.name
        return f"{'declined' if declined else 'not declined'} (checked {when(state.payout_checked_at, now)})"
    if state.status is SyncStatus.SYNCED:
        return "not checked yet (the scheduled payout check looks for gateway declines)"
    return "-"


def reason_of(code: str | None) -> Reason | None:
    return Reason.__members__.get(code or "")


def action_for(code: str | None) -> str:
    reason = reason_of(code)
    return reason.action if reason else ""


def meaning_of(code: str | None) -> str:
    reason = reason_of(code)
    return reason.meaning if reason else ""


def plural(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def money(amount: Decimal | None, currency: str = "") -> str:
    return "-" if amount is None else f"{to_cents(amount)} {currency}".rstrip()


def add_row(table: Table, *cells: RenderableType) -> None:
    """Cells as literal text: refund data may hold square brackets, which rich would read as markup."""
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def fields_table() -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def title(target: Target, what: str) -> Text:
    return Text.assemble((what, "bold"), (f"  ·  {target.description}", "dim"))


# -- status -------------------------------------------------------------------------------------------------
def depth_text(depth: QueueDepth) -> str:
    return f"{depth.waiting} waiting, {depth.in_flight} in flight, {depth.delayed} delayed"


def status_view(target: Target, status: Status, now: datetime) -> RenderableType:
    counts = Table(title="Refunds by status", title_justify="left", box=box.SIMPLE_HEAD)
    for sync_status in SyncStatus:
        counts.add_column(status_text(sync_status), justify="right")
    counts.add_column(Text("total", style="bold"), justify="right")
    add_row(counts, *[str(status.counts.get(s, 0)) for s in SyncStatus], str(sum(status.counts.values())))

    checkpoint = status.checkpoint
    poller = fields_table()
    add_row(poller, "Last poll", when(checkpoint.last_run_at, now))
    add_row(poller, "Last complete sweep", when(checkpoint.last_completed_at, now))
    add_row(
        poller,
        "Next sweep reads",
        f"refunds modified since {checkpoint.modified_since:%Y-%m-%d %H:%M:%S} UTC"
        if checkpoint.modified_since
        else "every refund in the saved search (no sweep has completed yet)",
    )
    if checkpoint.sweep_started_at is not None:
        add_row(
            poller,
            "Sweep in progress",
            f"yes: started {when(checkpoint.sweep_started_at, now)}, at NetSuite id {checkpoint.after_id}, "
            f"{checkpoint.pages} page(s), {checkpoint.refunds_enqueued} refund(s) enqueued",
        )
    else:
        add_row(poller, "Sweep in progress", "no")

    queues = fields_table()
    add_row(queues, "Refund queue", depth_text(status.refund_queue))
    dead = status.dead_letter_queue
    add_row(
        queues,
        "Dead-letter queue",
        Text(depth_text(dead), style="bold red" if dead.total else ""),
    )

    hints = []
    problems = status.counts.get(SyncStatus.FAILED, 0) + status.counts.get(SyncStatus.HELD, 0)
    if problems:
        hints.append(f"{problems} refund(s) need a person: `refund-sync failures` says why and what to do.")
    if dead.total:
        hints.append("`refund-sync redrive` explains the dead-letter queue and moves it back once fixed.")
    return Group(
        title(target, "refund-sync status"),
        counts,
        Panel(poller, title="Poller", title_align="left", box=box.ROUNDED),
        Panel(queues, title="Queues", title_align="left", box=box.ROUNDED),
        *(Text(hint, style="yellow") for hint in hints),
    )


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "last_run_at": checkpoint.last_run_at,
        "last_completed_at": checkpoint.last_completed_at,
        "modified_since": checkpoint.modified_since,
        "after_id": checkpoint.after_id,
        "sweep_in_progress": checkpoint.sweep_started_at is not None,
        "sweep_started_at": checkpoint.sweep_started_at,
        "pages": checkpoint.pages,
        "refunds_enqueued": checkpoint.refunds_enqueued,
    }


def depth_json(depth: QueueDepth) -> dict[str, int]:
    return {"waiting": depth.waiting, "in_flight": depth.in_flight, "delayed": depth.delayed}


def target_json(target: Target) -> dict[str, str]:
    return {"kind": target.kind.value, "name": target.name}


def status_json(target: Target, status: Status) -> dict[str, Any]:
    return json_object(
        {
            "target": target_json(target),
            "counts": {s.value: status.counts.get(s, 0) for s in SyncStatus},
            "total": sum(status.counts.values()),
            "checkpoint": checkpoint_json(status.checkpoint),
            "refund_queue": depth_json(status.refund_queue),
            "dead_letter_queue": depth_json(status.dead_letter_queue),
        }
    )


# -- show --------------------------------------------------------------------------------------------------
def refund_title(state: RefundState) -> str:
    try:
        kind = RecordType(state.record_type).label
    except ValueError:
        kind = state.record_type
    return f"{kind} {state.document_number} (NetSuite id {state.netsuite_id})"


def state_view(state: RefundState, now: datetime) -> RenderableType:
    facts = fields_table()
    add_row(facts, "Status", status_text(state.status))
    if state.reason_code:
        add_row(facts, "Reason", Text(state.reason_code, style="bold"))
        if meaning_of(state.reason_code):
            add_row(facts, "Meaning", meaning_of(state.reason_code))
    if state.reason_detail:
        add_row(facts, "Detail", state.reason_detail)
    if action_for(state.reason_code) and state.status is not SyncStatus.SYNCED:
        add_row(facts, "What to do", Text(action_for(state.reason_code), style="yellow"))
    currency = state.currency
    add_row(facts, "NetSuite total", money(state.netsuite_total, currency))
    add_row(facts, "BigCommerce quote", money(state.quoted_amount, currency))
    add_row(facts, "Refunded", money(state.refunded_amount, currency))
    add_row(facts, "Refund method", state.refund_method or "-")
    add_row(facts, "BigCommerce order", state.bigcommerce_order_id or "-")
    add_row(facts, "BigCommerce refund", str(state.bigcommerce_refund_id or "-"))
    add_row(facts, "Payout", payout_text(state, now))
    add_row(facts, "Refund request", "\n".join(state.items) or "-")
    add_row(
        facts,
        "Attempts",
        f"{plural(state.attempts, 'delivery', 'deliveries')} worked on it; "
        f"{plural(state.submit_attempts, 'BigCommerce create')} started",
    )
    add_row(facts, "NetSuite last modified", when(state.netsuite_last_modified, now))
    add_row(facts, "First seen", when(state.created_at, now))
    add_row(facts, "Last update", when(state.updated_at, now))
    if state.submitted_at:
        add_row(facts, "Create started", when(state.submitted_at, now))
    if state.synced_at:
        add_row(facts, "Synced", when(state.synced_at, now))
    add_row(facts, "NetSuite write-back", state.write_back or "-")
    if state.dry_run:
        add_row(facts, "Dry run", "yes: mapped and quoted only, nothing was created")

    timeline = Table(title="Timeline", title_justify="left", box=box.SIMPLE_HEAD)
    timeline.add_column("When (UTC)", no_wrap=True)
    timeline.add_column("Status", no_wrap=True)
    timeline.add_column("What happened", overflow="fold")
    for entry in state.history:
        add_row(timeline, f"{entry.at:%Y-%m-%d %H:%M:%S}", status_text(entry.status), entry.note)
    return Group(
        Panel(facts, title=Text(refund_title(state), style="bold"), title_align="left", box=box.ROUNDED),
        timeline,
    )


def state_json(state: RefundState) -> dict[str, Any]:
    data: dict[str, Any] = state.model_dump(mode="json")
    data["meaning"] = meaning_of(state.reason_code)
    data["action"] = action_for(state.reason_code)
    return data


def candidates_view(reference: str, states: Sequence[RefundState]) -> RenderableType:
    table = Table()
    table.add_column("NetSuite id", style="bold")
    table.add_column("Record")
    table.add_column("Order")
    table.add_column("Status")
    table.add_column("Last update (UTC)")
    for state in states:
        add_row(
            table,
            state.netsuite_id,
            state.record_type,
            state.bigcommerce_order_id or "-",
            status_text(state.status),
            f"{state.updated_at:%Y-%m-%d %H:%M}",
        )
    return Group(
        Text(f"{len(states)} refunds carry document number {reference}: name one by its NetSuite id."),
        table,
    )


# -- failures -----------------------------------------------------------------------------------------------
def failures_view(target: Target, states: Sequence[RefundState], reason: Reason | None) -> RenderableType:
    scope = f" with reason {reason.name}" if reason else ""
    if not states:
        return Group(
            title(target, "refund-sync failures"),
            Text(f"No FAILED or HELD refunds{scope}.", style="green"),
        )
    table = Table(
        title=f"{len(states)} refund(s) FAILED or HELD{scope}, most recent first",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("Document", style="bold", no_wrap=True)
    table.add_column("NetSuite id", no_wrap=True)
    table.add_column("Order", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Reason", no_wrap=True)
    table.add_column("Detail", ratio=3, overflow="fold")
    table.add_column("What to do", ratio=3, overflow="fold")
    for state in states:
        add_row(
            table,
            state.document_number,
            state.netsuite_id,
            state.bigcommerce_order_id or "-",
            status_text(state.status),
            state.reason_code or "-",
            state.reason_detail or "",
            action_for(state.reason_code),
        )
    by_reason = Counter(state.reason_code or "-" for state in states)
    summary = ", ".join(f"{code} {number}" for code, number in by_reason.most_common())
    return Group(
        title(target, "refund-sync failures"),
        table,
        Text(f"By reason: {summary}"),
        Text(
            "After fixing a cause: `refund-sync sync <document number>` retries one refund now; "
            "`refund-sync redrive` retries everything in the dead-letter queue.",
            style="dim",
        ),
    )


def failure_json(state: RefundState) -> dict[str, Any]:
    return json_object(
        {
            "document_number": state.document_number,
            "netsuite_id": state.netsuite_id,
            "record_type": state.record_type,
            "bigcommerce_order_id": state.bigcommerce_order_id,
            "status": state.status,
            "reason": state.reason_code,
            "detail": state.reason_detail,
            "meaning": meaning_of(state.reason_code),
            "action": action_for(state.reason_code),
            "updated_at": state.updated_at,
        }
    )


# -- preview ------------------------------------------------------------------------------------------------
def item_words(item: RefundItem, outcome: PreviewOutcome) -> tuple[str, str, str]:
    """(what, quantity, amount) of one refund item, as the shop names it."""
    assert outcome.preview is not None
    if item.item_type is RefundItemType.PRODUCT:
        line = next((line for line in outcome.preview.order.lines if line.id == item.item_id), None)
        what = f"{line.sku} {line.name}" if line else f"order line {item.item_id}"
        amount = f"adjustment {money(item.adjustment)}" if item.adjustment else ""
        return what, str(item.quantity or ""), amount
    names = {
        RefundItemType.SHIPPING: f"shipping (consignment to address {item.item_id})",
        RefundItemType.HANDLING: f"handling (consignment to address {item.item_id})",
        RefundItemType.ORDER: "custom amount",
        RefundItemType.FEE: f"fee {item.item_id}",
    }
    return names[item.item_type], "", money(item.amount)


def option_text(option: Sequence[PaymentOption]) -> str:
    return " + ".join(
        f"{payment.provider_description or payment.provider_id} {money(payment.amount)}"
        + (" (offline)" if payment.offline else "")
        for payment in option
    )


def preview_view(target: Target, outcome: PreviewOutcome) -> RenderableType:
    parts: list[RenderableType] = [title(target, "refund-sync preview")]
    refund = outcome.refund
    if refund is None:
        parts.append(Text(f"NetSuite has no refund {outcome.reference} in the saved search.", style="red"))
        for miss in outcome.not_found:
            for why in miss.reasons:
                parts.append(Text(f"  {miss.kind} {miss.value}: {why.code} - {why.message}"))
        return Group(*parts)
    facts = fields_table()
    add_row(facts, "NetSuite total", money(refund.total, refund.currency))
    add_row(facts, "BigCommerce order", refund.bigcommerce_order_id or "-")
    if outcome.state is not None:
        add_row(facts, "State now", status_text(outcome.state.status))
    parts.append(Panel(facts, title=Text(refund.label, style="bold"), title_align="left", box=box.ROUNDED))

    if outcome.already_done and outcome.state is not None:
        parts.append(
            Text(
                f"Already {outcome.state.status.value} (BigCommerce refund "
                f"{outcome.state.bigcommerce_refund_id or '-'}): a sync would do nothing; "
                "nothing is refunded twice.",
                style="green",
            )
        )
        return Group(*parts)
    if outcome.skipped_because:
        parts.append(
            verdict(
                "Would NOT sync: SKIPPED CREATED_FROM_BIGCOMMERCE",
                outcome.skipped_because,
                Reason.CREATED_FROM_BIGCOMMERCE,
            )
        )
        return Group(*parts)

    preview = outcome.preview
    if preview is not None:
        items = Table(title="The refund request BigCommerce would get", title_justify="left")
        items.add_column("Item")
        items.add_column("Quantity", justify="right")
        items.add_column("Amount", justify="right")
        for item in preview.plan.items:
            add_row(items, *item_words(item, outcome))
        allocations = Table(title="Where each NetSuite amount goes", title_justify="left")
        allocations.add_column("NetSuite")
        allocations.add_column("BigCommerce")
        allocations.add_column("Amount", justify="right")
        for allocation in preview.plan.allocations:
            add_row(allocations, allocation.source, allocation.target, money(allocation.amount))
        quote = fields_table()
        add_row(quote, "Total", money(preview.quote.total_refund_amount, refund.currency))
        add_row(quote, "Tax", money(preview.quote.total_refund_tax_amount))
        if preview.quote.rounding:
            add_row(quote, "Rounding", money(preview.quote.rounding))
        if preview.quote.adjustment:
            add_row(quote, "Adjustment", money(preview.quote.adjustment))
        add_row(
            quote,
            "Methods offered",
            "\n".join(option_text(option) for option in preview.quote.refund_methods) or "-",
        )
        add_row(quote, "Would pay", preview.payments_text or "-")
        parts += [
            items,
            allocations,
            Panel(quote, title="BigCommerce's quote", title_align="left", box=box.ROUNDED),
        ]
    if outcome.problem is not None:
        reason = outcome.problem.reason
        parts.append(
            verdict(f"Would NOT sync: {reason.outcome.value} {reason.name}", outcome.problem.detail, reason)
        )
    elif preview is not None:
        parts.append(
            Text(
                "Would sync: the quote matches NetSuite's total and a refund method is available. "
                "Nothing was created. (A gateway can still decline the refund when it is made.)",
                style="bold green",
            )
        )
    return Group(*parts)


def verdict(headline: str, detail: str, reason: Reason) -> RenderableType:
    body = fields_table()
    add_row(body, "Detail", detail)
    add_row(body, "Meaning", reason.meaning)
    add_row(body, "What to do", Text(reason.action, style="yellow"))
    return Panel(body, title=Text(headline, style="bold red"), title_align="left", box=box.ROUNDED)


def preview_json(outcome: PreviewOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": outcome.reference,
        "would_sync": outcome.would_sync,
        "already_done": outcome.already_done,
        "refund": outcome.refund.model_dump(mode="json") if outcome.refund else None,
        "state": outcome.state.status if outcome.state else None,
        "not_found": [miss.model_dump(mode="json") for miss in outcome.not_found],
    }
    if outcome.preview is not None:
        data["plan"] = outcome.preview.plan.model_dump(mode="json")
        data["quote"] = outcome.preview.quote.model_dump(mode="json")
        data["payments"] = [payment.model_dump(mode="json") for payment in outcome.preview.payments]
    if outcome.skipped_because:
        data["reason"] = Reason.CREATED_FROM_BIGCOMMERCE.name
        data["detail"] = outcome.skipped_because
        data["action"] = Reason.CREATED_FROM_BIGCOMMERCE.action
    if outcome.problem is not None:
        data["status"] = outcome.problem.reason.outcome.value
        data["reason"] = outcome.problem.reason.name
        data["detail"] = outcome.problem.detail
        data["meaning"] = outcome.problem.reason.meaning
        data["action"] = outcome.problem.reason.action
    return json_object(data)


# -- sync -------------------------------------------------------------------------------------------------
def sync_report_view(target: Target, report: Mapping[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [title(target, "refund-sync sync")]
    enqueued = report.get("enqueued", [])
    if enqueued:
        table = Table(title="Sent to the refund queue", title_justify="left")
        table.add_column("Refund")
        table.add_column("BigCommerce order")
        for entry in enqueued:
            add_row(table, entry.get("refund", ""), entry.get("bigcommerce_order", "-"))
        parts.append(table)
    for entry in report.get("not_sent", []):
        parts.append(Text(f"Not sent: {entry.get('refund', '')}: {entry.get('why', '')}", style="yellow"))
    for miss in report.get("not_found", []):
        parts.append(Text(f"Not found in NetSuite: {miss.get('query', '')}", style="red"))
        for reason in miss.get("reasons", []):
            parts.append(Text(f"  {reason}"))
    if not (enqueued or report.get("not_sent") or report.get("not_found")):
        parts.append(Text("The poller found nothing to send.", style="yellow"))
    return Group(*parts)


def outcomes_view(
    report: Mapping[str, Any], outcomes: Mapping[str, RefundState | None], finished: set[str]
) -> RenderableType:
    table = Table(title="Outcome", title_justify="left", show_lines=True)
    table.add_column("Refund", style="bold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Result", overflow="fold")
    table.add_column("What to do", overflow="fold")
    for entry in report.get("enqueued", []):
        netsuite_id = netsuite_id_of(entry) or ""
        state = outcomes.get(netsuite_id)
        if state is None or netsuite_id not in finished:
            now = state.status.value if state else "not processed yet"
            waiting = Text("WAITING", style="magenta")
            add_row(table, entry.get("refund", ""), waiting, f"timed out; now {now}", "")
            continue
        if state.status is SyncStatus.SYNCED:
            result = (
                f"BigCommerce refund {state.bigcommerce_refund_id}: "
                f"{money(state.refunded_amount, state.currency)} via {state.refund_method or '-'}"
            )
        else:
            result = f"{state.reason_code or ''}: {state.reason_detail or ''}".strip(": ")
        action = action_for(state.reason_code) if state.status is not SyncStatus.SYNCED else ""
        add_row(table, entry.get("refund", ""), status_text(state.status), result, action)
    return table


def outcome_json(netsuite_id: str, state: RefundState | None, finished: bool) -> dict[str, Any]:
    return json_object(
        {
            "netsuite_id": netsuite_id,
            "finished": finished,
            "status": state.status if state else None,
            "document_number": state.document_number if state else None,
            "reason": state.reason_code if state else None,
            "detail": state.reason_detail if state else None,
            "action": action_for(state.reason_code) if state else "",
            "bigcommerce_refund_id": state.bigcommerce_refund_id if state else None,
            "refunded_amount": state.refunded_amount if state else None,
        }
    )


# -- redrive ------------------------------------------------------------------------------------------------
def redrive_view(
    target: Target,
    depth: QueueDepth,
    letters: Sequence[DeadLetter],
    tasks: Iterable[MoveTask],
    *,
    will_start: bool,
) -> RenderableType:
    parts: list[RenderableType] = [
        title(target, "refund-sync redrive"),
        Panel(Text.from_markup(REDRIVE_EXPLAINED), title="What a redrive does", title_align="left"),
        Text(f"Dead-letter queue: {depth_text(depth)}.", style="bold red" if depth.total else "bold green"),
    ]
    if letters:
        reasons = Counter(letter.reason for letter in letters)
        shown = "" if len(letters) >= depth.total else f" (the first {len(letters)} of about {depth.total})"
        table = Table(title=f"Reasons waiting{shown}", title_justify="left", show_lines=True)
        table.add_column("Reason", style="bold", no_wrap=True)
        table.add_column("Refunds", justify="right")
        table.add_column("Which", overflow="fold")
        table.add_column("What to do", overflow="fold")
        for reason, number in reasons.most_common():
            which = [letter.refund for letter in letters if letter.reason == reason]
            add_row(table, reason, str(number), "\n".join(which), action_for(reason))
        parts.append(table)
    for task in tasks:
        started = f" started {task.started_at:%Y-%m-%d %H:%M} UTC" if task.started_at else ""
        failure = f"; {task.failure}" if task.failure else ""
        parts.append(
            Text(
                f"Move task {task.status}{started}: {task.moved} of {task.to_move or '?'} moved{failure}",
                style="cyan",
            )
        )
    if not will_start and depth.total:
        parts.append(
            Text(
                "Nothing was moved. When the causes are fixed: `refund-sync redrive --yes` (or the console's "
                "Start DLQ redrive).",
                style="yellow",
            )
        )
    return Group(*parts)


def redrive_result_view(result: RedriveResult) -> RenderableType:
    if result.task_handle is not None:
        return Text(
            "Redrive started: SQS is moving the dead-letter queue back to the refund queue "
            f"(task {result.task_handle}). Run `refund-sync redrive` to follow it, `refund-sync status` "
            "for the queues.",
            style="bold green",
        )
    now = ", ".join(f"{number} {status.value}" for status, number in result.outcomes.items()) or "-"
    return Text(
        f"Moved {result.moved} message(s) back to the refund queue and ran the consumer on them. Those "
        f"refunds are now: {now}. The dead-letter queue holds {result.dead_letter_depth} message(s): "
        "`refund-sync failures` says why.",
        style="bold yellow" if result.dead_letter_depth else "bold green",
    )


def dead_letter_json(letter: DeadLetter) -> dict[str, Any]:
    return {
        "refund": letter.refund,
        "netsuite_id": letter.netsuite_id,
        "reason": letter.reason,
        "detail": letter.detail,
        "action": action_for(letter.reason),
    }


def move_task_json(task: MoveTask) -> dict[str, Any]:
    return json_object(
        {
            "status": task.status,
            "moved": task.moved,
            "to_move": task.to_move,
            "started_at": task.started_at,
            "failure": task.failure,
        }
    )
