"""How the CLI shows things: rich renderables for people, plain dicts for `--json`.

Written for operations staff and NetSuite admins: refunds by their document numbers, statuses in
colour, and every reason followed by what to do about it (the runbook's words, from Reason). Where a
table has long columns (failures, outcomes, the dead-letter queue), a narrow terminal or a pipe gets
one block per refund instead, readable at 80 columns; a wide terminal gets the table.
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
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from refund_sync.domain.bigcommerce import PaymentOption, RefundQuote
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.mapping import RefundPlan
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund, RecordType
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_cli.operations import DeadLetter, QueueDepth, Status, netsuite_id_of
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


def payout_pending(document_number: str) -> str:
    return (
        "the payout is still to be confirmed: the payout check looks for a gateway decline "
        f"PayoutCheckDelayMinutes after the sync (it runs every 15 minutes); `refund-sync show "
        f"{document_number}` then says"
    )


REDRIVE_EXPLAINED = (
    "A redrive moves dead-lettered messages back to the refund queue, where the consumer takes each "
    "one again; `refund-sync redrive CM-1042` moves one refund's, `--yes` every one.\n"
    "• Refunds already SYNCED or RESOLVED are skipped (their message is removed), and so are stale "
    "messages: [bold]nothing is refunded twice[/bold].\n"
    "• Refunds that still cannot sync come back to the dead-letter queue with their reason.\n"
    "• Refunds settled by hand: `refund-sync resolve CM-1042 --refunded-by-hand`, not a redrive.\n"
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


def payout_state(state: RefundState) -> str | None:
    """confirmed, declined (in full or in part), to_be_confirmed (a SYNCED refund the payout check has not
    seen), or None."""
    if state.payout_checked_at is not None:
        declined = (Reason.GATEWAY_DECLINED.name, Reason.PARTLY_DECLINED.name)
        return "declined" if state.reason_code in declined else "confirmed"
    if state.status is SyncStatus.SYNCED:
        return "to_be_confirmed"
    return None


def payout_text(state: RefundState, now: datetime) -> str:
    """Whether the payout check has seen the refund through the gateway."""
    if state.payout_checked_at is not None:
        declined = payout_state(state) == "declined"
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


def money(amount: Decimal | str | None, currency: str = "") -> str:
    return "-" if amount is None else f"{to_cents(Decimal(amount))} {currency}".rstrip()


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


def block(headline: Text, fields: Iterable[tuple[str, RenderableType]]) -> RenderableType:
    """One row of a table as a block: a headline, then label and value lines, indented (80 columns)."""
    grid = fields_table()
    for label, value in fields:
        add_row(grid, label, value)
    return Group(headline, Padding(grid, (0, 0, 1, 2)))


def headline(*parts: Text | str) -> Text:
    text = Text()
    for index, part in enumerate(parts):
        if index:
            text.append("  ")
        text.append(part if isinstance(part, Text) else Text(part, style="bold"))
    return text


# -- status -------------------------------------------------------------------------------------------------
def depth_text(depth: QueueDepth) -> str:
    return f"{depth.waiting} waiting, {depth.in_flight} in flight, {depth.delayed} delayed"


def counts_view(counts: Mapping[SyncStatus, int], *, stacked: bool) -> RenderableType:
    total = sum(counts.values())
    if stacked:
        table = Table(title="Refunds by status", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("Status")
        table.add_column("Refunds", justify="right")
        for sync_status in SyncStatus:
            add_row(table, status_text(sync_status), str(counts.get(sync_status, 0)))
        add_row(table, Text("total", style="bold"), str(total))
        return table
    table = Table(title="Refunds by status", title_justify="left", box=box.SIMPLE_HEAD)
    for sync_status in SyncStatus:
        table.add_column(status_text(sync_status), justify="right")
    table.add_column(Text("total", style="bold"), justify="right")
    add_row(table, *[str(counts.get(s, 0)) for s in SyncStatus], str(total))
    return table


def status_view(target: Target, status: Status, now: datetime, *, stacked: bool) -> RenderableType:
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
        Text(
            f"{depth_text(dead)} (one message per refund)",
            style="bold red" if dead.total else "",
        ),
    )

    hints = []
    if status.problems:
        hints.append(
            f"{plural(status.problems, 'refund')} FAILED or HELD need a person: `refund-sync failures` says "
            "why, what to do, and which have a message in the dead-letter queue."
        )
    if dead.total:
        hints.append("`refund-sync redrive` shows the dead-letter queue; fix the causes, then redrive.")
    return Group(
        title(target, "refund-sync status"),
        counts_view(status.counts, stacked=stacked),
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
            "failed_or_held": status.problems,
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
    if action_for(state.reason_code) and state.status not in (SyncStatus.SYNCED, SyncStatus.RESOLVED):
        add_row(facts, "What to do", Text(action_for(state.reason_code), style="yellow"))
    currency = state.currency
    add_row(facts, "NetSuite total", money(state.netsuite_total, currency))
    add_row(facts, "BigCommerce quote", money(state.quoted_amount, currency))
    add_row(facts, "Refunded", money(state.refunded_amount, currency))
    add_row(facts, "Refund method", state.refund_method or "-")
    add_row(facts, "BigCommerce order", state.bigcommerce_order_id or "-")
    add_row(facts, "BigCommerce refund", str(state.bigcommerce_refund_id or "-"))
    if state.candidate_refund_ids:
        add_row(
            facts,
            "Candidates",
            Text(
                "BigCommerce refund " + ", ".join(map(str, state.candidate_refund_ids)) + ": open the order "
                "in BigCommerce, then `refund-sync confirm "
                f"{state.document_number} --ours <refund id>` or `--not-created`",
                style="yellow",
            ),
        )
    if state.superseded_refund_ids:
        add_row(facts, "Set aside", ", ".join(map(str, state.superseded_refund_ids)))
    creates = creates_text(state)
    if creates:
        add_row(facts, "Creates sent", creates)
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


def creates_text(state: RefundState) -> str:
    """Each BigCommerce create prepared for the refund: where it went, when it was sent, how it ended."""
    lines = []
    for attempt in state.create_attempts:
        sent = ", ".join(f"{instant:%Y-%m-%d %H:%M:%S}" for instant in attempt.sends) or "never sent"
        settled = "accounted for" if attempt.settled else "outcome not settled"
        lines.append(f"order {attempt.order_id}: sent {sent} UTC ({settled})")
    return "\n".join(lines)


def state_json(state: RefundState) -> dict[str, Any]:
    data: dict[str, Any] = state.model_dump(mode="json")
    data["meaning"] = meaning_of(state.reason_code)
    data["action"] = action_for(state.reason_code)
    data["payout"] = payout_state(state)
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
def failures_view(
    target: Target,
    states: Sequence[RefundState],
    reason: Reason | None,
    dead_lettered: set[str],
    *,
    stacked: bool,
) -> RenderableType:
    scope = f" with reason {reason.name}" if reason else ""
    if not states:
        return Group(
            title(target, "refund-sync failures"),
            Text(f"No FAILED or HELD refunds{scope}.", style="green"),
        )
    heading = Text(
        f"{plural(len(states), 'refund')} FAILED or HELD{scope}, most recent first; "
        f"{len(dead_lettered & {s.netsuite_id for s in states})} with a message in the dead-letter queue",
        style="bold",
    )
    parts: list[RenderableType] = [title(target, "refund-sync failures"), heading]
    if stacked:
        parts.append(Text(""))
        for state in states:
            where = "in the dead-letter queue" if state.netsuite_id in dead_lettered else "no DLQ message"
            fields: list[tuple[str, RenderableType]] = [
                (
                    "Refund",
                    f"NetSuite id {state.netsuite_id} · order {state.bigcommerce_order_id or '-'} · "
                    f"{where} · updated {state.updated_at:%Y-%m-%d %H:%M} UTC",
                ),
                ("Detail", state.reason_detail or "-"),
                ("What to do", Text(action_for(state.reason_code), style="yellow")),
            ]
            parts.append(
                block(
                    headline(state.document_number, status_text(state.status), state.reason_code or "-"),
                    fields,
                )
            )
    else:
        table = Table(show_lines=True)
        table.add_column("Document", style="bold", no_wrap=True)
        table.add_column("NetSuite id", no_wrap=True)
        table.add_column("Order", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Reason", no_wrap=True)
        table.add_column("DLQ", no_wrap=True)
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
                "yes" if state.netsuite_id in dead_lettered else "no",
                state.reason_detail or "",
                action_for(state.reason_code),
            )
        parts.append(table)
    by_reason = Counter(state.reason_code or "-" for state in states)
    summary = ", ".join(f"{code} {number}" for code, number in by_reason.most_common())
    parts += [
        Text(f"By reason: {summary}"),
        Text(
            "After fixing a cause: `refund-sync sync <document number>` sends a refund again; "
            "`refund-sync redrive <document number>` (or `--yes` for all) moves its dead-lettered "
            "message back; settled by hand: `refund-sync resolve <document number> --refunded-by-hand`.",
            style="dim",
        ),
    ]
    return Group(*parts)


def failure_json(state: RefundState, dead_lettered: set[str]) -> dict[str, Any]:
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
            "in_dead_letter_queue": state.netsuite_id in dead_lettered,
            "updated_at": state.updated_at,
        }
    )


# -- preview ------------------------------------------------------------------------------------------------
def option_text(option: Sequence[PaymentOption]) -> str:
    return " + ".join(
        f"{payment.provider_description or payment.provider_id} {money(payment.amount)}"
        + (" (offline)" if payment.offline else "")
        for payment in option
    )


def preview_view(target: Target, answer: Mapping[str, Any]) -> RenderableType:
    """The operator function's preview answer (its refund, plan and quote are the engine's models)."""
    parts: list[RenderableType] = [title(target, "refund-sync preview")]
    if answer.get("refund") is None:
        parts.append(Text(f"NetSuite has no refund {answer['reference']} in the saved search.", style="red"))
        for miss in answer.get("not_found", []):
            for why in miss.get("reasons", []):
                parts.append(Text(f"  {miss['kind']} {miss['value']}: {why['code']} - {why['message']}"))
        return Group(*parts)
    refund = NetSuiteRefund.model_validate(answer["refund"])
    facts = fields_table()
    add_row(facts, "NetSuite total", money(refund.total, refund.currency))
    add_row(facts, "BigCommerce order", refund.bigcommerce_order_id or "-")
    if answer.get("state"):
        add_row(facts, "State now", status_text(answer["state"]))
    parts.append(Panel(facts, title=Text(refund.label, style="bold"), title_align="left", box=box.ROUNDED))

    if answer.get("already_done"):
        parts.append(
            Text(
                f"Already {answer['state']} (BigCommerce refund "
                f"{answer.get('bigcommerce_refund_id') or '-'}): a sync would do nothing; nothing is "
                "refunded twice.",
                style="green",
            )
        )
        return Group(*parts)
    if not answer.get("would_sync"):
        reason = reason_of(answer.get("reason"))
        body = fields_table()
        add_row(body, "Detail", str(answer.get("detail", "")))
        if reason is not None:
            add_row(body, "Meaning", reason.meaning)
            add_row(body, "What to do", Text(reason.action, style="yellow"))
        verdict = Text(
            f"Would NOT sync: {answer.get('status', '')} {answer.get('reason', '')}", style="bold red"
        )
        parts.append(Panel(body, title=verdict, title_align="left", box=box.ROUNDED))
        return Group(*parts)

    plan = RefundPlan.model_validate(answer["plan"])
    quote = RefundQuote.model_validate(answer["quote"])
    items = Table(title="The refund request BigCommerce would get", title_justify="left")
    items.add_column("Item", overflow="fold")
    items.add_column("Quantity", justify="right")
    items.add_column("Amount", justify="right")
    for row in answer.get("items", []):
        add_row(items, row["what"], row["quantity"], row["amount"])
    allocations = Table(title="Where each NetSuite amount goes", title_justify="left")
    allocations.add_column("NetSuite", overflow="fold")
    allocations.add_column("BigCommerce", overflow="fold")
    allocations.add_column("Amount", justify="right")
    for allocation in plan.allocations:
        add_row(allocations, allocation.source, allocation.target, money(allocation.amount))
    quoted = fields_table()
    add_row(quoted, "Total", money(quote.total_refund_amount, refund.currency))
    add_row(quoted, "Tax", money(quote.total_refund_tax_amount))
    if quote.rounding:
        add_row(quoted, "Rounding", money(quote.rounding))
    if quote.adjustment:
        add_row(quoted, "Adjustment", money(quote.adjustment))
    add_row(
        quoted, "Methods offered", "\n".join(option_text(option) for option in quote.refund_methods) or "-"
    )
    add_row(quoted, "Would pay", answer.get("payments_text") or "-")
    parts += [
        items,
        allocations,
        Panel(quoted, title="BigCommerce's quote", title_align="left", box=box.ROUNDED),
        Text(
            "Would sync: the quote matches NetSuite's total and a refund method is available. "
            "Nothing was created. (A gateway can still decline the refund when it is made.)",
            style="bold green",
        ),
    ]
    return Group(*parts)


# -- sync -------------------------------------------------------------------------------------------------
def sync_report_view(target: Target, report: Mapping[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [title(target, "refund-sync sync")]
    enqueued = report.get("enqueued", [])
    if enqueued:
        table = Table(title="Sent to the refund queue", title_justify="left")
        table.add_column("Refund", overflow="fold")
        table.add_column("BigCommerce order")
        for entry in enqueued:
            add_row(table, entry.get("refund", ""), entry.get("bigcommerce_order", "-"))
        parts.append(table)
    for entry in report.get("dead_letters_replaced", []):
        parts.append(
            Text(
                f"Replaced in the dead-letter queue: {entry.get('refund', '')} ({entry.get('reason', '')}): "
                "the message just sent supersedes it.",
                style="cyan",
            )
        )
    for entry in report.get("not_sent", []):
        parts.append(Text(f"Not sent: {entry.get('refund', '')}: {entry.get('why', '')}", style="yellow"))
    for miss in report.get("not_found", []):
        parts.append(Text(f"Not found in NetSuite: {miss.get('query', '')}", style="red"))
        for reason in miss.get("reasons", []):
            parts.append(Text(f"  {reason}"))
    if not (enqueued or report.get("not_sent") or report.get("not_found")):
        parts.append(Text("The poller found nothing to send.", style="yellow"))
    return Group(*parts)


def outcome_words(state: RefundState | None, finished: bool) -> tuple[Text, str, str]:
    """(status, result, what to do) of one refund after a sync or redrive."""
    if state is None or not finished:
        now = state.status.value if state else "not processed yet"
        return Text("WAITING", style="magenta"), f"timed out; now {now}", ""
    if state.status is SyncStatus.SYNCED:
        result = (
            f"BigCommerce refund {state.bigcommerce_refund_id}: "
            f"{money(state.refunded_amount, state.currency)} via {state.refund_method or '-'}"
        )
        if payout_state(state) == "to_be_confirmed":
            result += f"; {payout_pending(state.document_number)}"
        return status_text(state.status), result, ""
    result = f"{state.reason_code or ''}: {state.reason_detail or ''}".strip(": ")
    return status_text(state.status), result, action_for(state.reason_code)


def outcomes_view(
    labels: Mapping[str, str],
    outcomes: Mapping[str, RefundState | None],
    finished: set[str],
    *,
    stacked: bool,
) -> RenderableType:
    """Each refund's outcome: `labels` maps NetSuite id -> how the refund is named."""
    if stacked:
        blocks: list[RenderableType] = [Text("Outcome", style="bold")]
        for netsuite_id, label in labels.items():
            status, result, action = outcome_words(outcomes.get(netsuite_id), netsuite_id in finished)
            fields: list[tuple[str, RenderableType]] = [("Result", result)]
            if action:
                fields.append(("What to do", Text(action, style="yellow")))
            blocks.append(block(headline(label, status), fields))
        return Group(*blocks)
    table = Table(title="Outcome", title_justify="left", show_lines=True)
    table.add_column("Refund", style="bold", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Result", overflow="fold")
    table.add_column("What to do", overflow="fold")
    for netsuite_id, label in labels.items():
        status, result, action = outcome_words(outcomes.get(netsuite_id), netsuite_id in finished)
        add_row(table, label, status, result, action)
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
            "payout": payout_state(state) if state else None,
        }
    )


def enqueued_labels(report: Mapping[str, Any]) -> dict[str, str]:
    return {
        netsuite_id: str(entry.get("refund", netsuite_id))
        for entry in report.get("enqueued", [])
        if (netsuite_id := netsuite_id_of(entry))
    }


# -- the dead-letter queue --------------------------------------------------------------------------------
def dead_letter_json(letter: DeadLetter, state: RefundState | None = None) -> dict[str, Any]:
    return {
        "refund": letter.refund,
        "netsuite_id": letter.netsuite_id,
        "document_number": letter.document_number,
        "message_id": letter.message_id,
        "reason": letter.reason,
        "detail": letter.detail,
        "action": action_for(letter.reason),
        "state": state.status.value if state else None,
    }


def settled_note(state: RefundState | None) -> str:
    """Why a redrive would skip a message of this refund (empty: it would move it)."""
    if state is not None and state.status in (SyncStatus.SYNCED, SyncStatus.RESOLVED, SyncStatus.SKIPPED):
        return f"already {state.status.value}: a redrive skips it and removes the message"
    return ""


def redrive_preview_view(
    target: Target,
    depth: QueueDepth,
    letters: Sequence[DeadLetter],
    states: Mapping[str, RefundState],
    *,
    stacked: bool,
) -> RenderableType:
    parts: list[RenderableType] = [
        title(target, "refund-sync redrive"),
        Panel(Text.from_markup(REDRIVE_EXPLAINED), title="What a redrive does", title_align="left"),
        Text(f"Dead-letter queue: {depth_text(depth)}.", style="bold red" if depth.total else "bold green"),
    ]
    if letters:
        shown = "" if len(letters) >= depth.total else f" (the first {len(letters)} of about {depth.total})"
        parts.append(Text(f"Waiting{shown}:", style="bold"))
        if stacked:
            for letter in letters:
                state = states.get(letter.netsuite_id or "")
                fields: list[tuple[str, RenderableType]] = [("Refund", letter.refund)]
                if letter.detail:
                    fields.append(("Detail", letter.detail))
                note = settled_note(state)
                fields.append(("What to do", Text(note or action_for(letter.reason), style="yellow")))
                parts.append(
                    block(headline(letter.document_number or letter.message_id, letter.reason), fields)
                )
        else:
            table = Table(show_lines=True)
            table.add_column("Refund", style="bold", overflow="fold")
            table.add_column("Reason", no_wrap=True)
            table.add_column("Detail", ratio=2, overflow="fold")
            table.add_column("What to do", ratio=2, overflow="fold")
            for letter in letters:
                state = states.get(letter.netsuite_id or "")
                add_row(
                    table,
                    letter.refund,
                    letter.reason,
                    letter.detail,
                    settled_note(state) or action_for(letter.reason),
                )
            parts.append(table)
    if depth.total:
        parts.append(
            Text(
                "Nothing was moved. When the causes are fixed: `refund-sync redrive <document number>` "
                "for one refund, `refund-sync redrive --yes` for all.",
                style="yellow",
            )
        )
    return Group(*parts)


def redrive_result_view(answer: Mapping[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    moved, skipped = answer.get("moved", []), answer.get("skipped", [])
    parts.append(
        Text(
            f"Moved {plural(len(moved), 'message')} back to the refund queue"
            + (f": {', '.join(entry['refund'] for entry in moved)}." if moved else "."),
            style="bold green" if moved else "bold",
        )
    )
    for entry in skipped:
        parts.append(Text(f"Skipped {entry['refund']}: {entry['why']} (message removed).", style="cyan"))
    if answer.get("left"):
        parts.append(
            Text(
                f"{answer['left']} more waiting (the function ran out of time): run it again.", style="yellow"
            )
        )
    return Group(*parts)


def discard_view(answer: Mapping[str, Any]) -> RenderableType:
    lines = [
        Text(f"Discarded the dead-letter message of {entry['refund']} ({entry['reason']}).", style="bold")
        for entry in answer.get("discarded", [])
    ]
    lines.append(
        Text(
            "Its state keeps its status, with a note; `refund-sync sync <document number>` can still "
            "send it.",
            style="dim",
        )
    )
    return Group(*lines)


def resolve_view(answer: Mapping[str, Any]) -> RenderableType:
    state = answer.get("state", {})
    name = f"{state.get('document_number')} (NetSuite id {state.get('netsuite_id')})"
    if answer.get("already_resolved"):
        return Text(f"{name} was already RESOLVED: nothing changed.", style="green")
    lines = [
        Text(
            f"{name} is RESOLVED: refunded by hand. Nothing will ever create it in BigCommerce; the poller "
            "does not send it again and a redrive of any message of it changes nothing.",
            style="bold green",
        )
    ]
    for entry in answer.get("dead_letters_removed", []):
        lines.append(Text(f"Removed its dead-letter message ({entry['reason']}).", style="dim"))
    return Group(*lines)


def decision_view(answer: Mapping[str, Any]) -> RenderableType:
    """What an operator's decision on a held or declined refund recorded, and what comes next."""
    state = answer.get("state", {})
    name = f"{state.get('document_number')} (NetSuite id {state.get('netsuite_id')})"
    decision = answer.get("decision")
    if decision == "ours":
        text = (
            f"{name} is SYNCED as BigCommerce refund {state.get('bigcommerce_refund_id')}: nothing will "
            "create it again."
        )
    elif decision == "not_created":
        text = f"{name} is PENDING: none of the candidates is it, so a sync will create it."
    else:
        text = f"{name} is PENDING: every refund made for it was declined in full; a sync creates it anew."
    lines = [Text(text, style="bold green")]
    if answer.get("next"):
        lines.append(Text(f"Next: {answer['next']}", style="bold"))
    return Group(*lines)
