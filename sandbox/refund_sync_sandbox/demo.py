"""`make demo`: the sample refunds through the real poller and consumer handlers, on the local sandbox.

Act 1: the scheduled poller pages the saved search into the queue; the consumer syncs each refund.
Act 2: nothing is refunded twice: a second poll, an on-demand sync and a redelivered message of
       refunds already synced change nothing in BigCommerce.
Act 3: an operator fixes a cause (the card payment settles) and redrives the dead-letter queue.
Exits 1 if any refund ends otherwise than its scenario expects.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.bigcommerce import OrderStatus, Payment
from refund_sync.domain.reasons import Reason
from refund_sync.domain.refund_method import offline_note
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_sandbox.bigcommerce.errors import NotFound
from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.sandbox import Sandbox, running_sandbox
from refund_sync_sandbox.scenarios import DEMO_SETTINGS, Scenario, scenarios, seed

LOG_FILE = Path(".sandbox/demo-logs.jsonl")
# Bound to the real stdout now: while the handlers run, sys.stdout points at the log file.
console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 170)


def shop_words(state: RefundState) -> str:
    """The refund request as recorded, without the ids in brackets: 'TEE-BLK-M x 2, shipping 8.80'."""
    return ", ".join(item.rsplit(" (", 1)[0] for item in state.items) or "-"


def result_text(state: RefundState | None, dead_lettered: set[str]) -> str:
    if state is None:
        return "[red]not processed[/red]"
    if state.status is SyncStatus.SYNCED:
        return f"[green]SYNCED[/green] as refund #{state.bigcommerce_refund_id}"
    if state.status is SyncStatus.SKIPPED:
        return f"[cyan]SKIPPED[/cyan] {state.reason_code}"
    where = " -> dead-letter queue" if state.netsuite_id in dead_lettered else ""
    colour = "yellow" if state.status is SyncStatus.HELD else "red"
    return f"[{colour}]{state.status.value}[/{colour}] {state.reason_code}{where}"


def reasons_table(by_id: dict[str, Scenario], states: dict[str, RefundState], sandbox: Sandbox) -> Table:
    """Why each refund did not sync, and what a person should do: the runbook entry, per refund."""
    table = Table(title="Why, and what to do", title_justify="left", show_lines=True)
    table.add_column("NetSuite refund", style="bold", no_wrap=True)
    table.add_column("Reason", no_wrap=True)
    table.add_column("Detail", ratio=3)
    table.add_column("What to do", ratio=2)
    for netsuite_id in by_id:
        state = states.get(netsuite_id)
        if state is None or state.reason_code is None or state.status is SyncStatus.SYNCED:
            continue
        table.add_row(
            sandbox.account.refund(netsuite_id).tran_id,
            state.reason_code,
            state.reason_detail or "",
            Reason[state.reason_code].action if state.reason_code in Reason.__members__ else "",
        )
    return table


def outcome_table(
    title: str, sandbox: Sandbox, by_id: dict[str, Scenario], states: dict[str, RefundState]
) -> Table:
    dead = {letter.netsuite_id for letter in sandbox.dead_letters() if letter.netsuite_id}
    table = Table(title=title, title_justify="left")
    table.add_column("NetSuite", style="bold", no_wrap=True)
    table.add_column("Kind")
    table.add_column("Order", no_wrap=True)
    table.add_column("Refunded in BigCommerce")
    table.add_column("NetSuite total", justify="right", no_wrap=True)
    table.add_column("Quoted", justify="right", no_wrap=True)
    table.add_column("Refunded", justify="right", no_wrap=True)
    table.add_column("Method")
    table.add_column("Order status", no_wrap=True)
    table.add_column("Result")
    for netsuite_id, scenario in by_id.items():
        state = states.get(netsuite_id)
        refund = sandbox.account.refund(netsuite_id)
        synced = state is not None and state.status is SyncStatus.SYNCED
        quoted = state.quoted_amount if state and state.quoted_amount is not None else None
        refunded = state.refunded_amount if synced and state and state.refunded_amount is not None else None
        table.add_row(
            refund.tran_id,
            scenario.kind,
            refund.bigcommerce_order_id or "-",
            shop_words(state) if state and synced else "-",
            f"{refund.total} {refund.currency}",
            str(quoted) if quoted is not None else "-",
            str(refunded) if refunded is not None else "-",
            state.refund_method if state and synced else "-",
            OrderStatus.describe(order_status(sandbox, refund.bigcommerce_order_id)),
            result_text(state, dead),
        )
    return table


def recorded_offline(
    by_id: dict[str, Scenario], states: dict[str, RefundState], sandbox: Sandbox
) -> list[str]:
    """The synced refunds BigCommerce only recorded (in part): no money moved for those parts."""
    notes = []
    for netsuite_id in by_id:
        state = states.get(netsuite_id)
        if state is None or state.status is not SyncStatus.SYNCED:
            continue
        note = offline_note([Payment.model_validate(p.model_dump()) for p in state.payments])
        if note:
            notes.append(f"{sandbox.account.refund(netsuite_id).tran_id}: {note}")
    return notes


def order_status(sandbox: Sandbox, order_id: str | None) -> int | None:
    """The order's status as BigCommerce (the simulator) holds it now."""
    if not order_id or not order_id.isdigit():
        return None
    try:
        return sandbox.store.snapshot(int(order_id)).order.status_id
    except NotFound:
        return None


def read_states(sandbox: Sandbox, ids: list[str]) -> dict[str, RefundState]:
    with sandbox.active():
        return StateStore(sandbox.aws.table_name).get_many(ids)


def check(
    sandbox: Sandbox, by_id: dict[str, Scenario], states: dict[str, RefundState], overrides: dict[str, str]
) -> list[str]:
    """Every refund where it should be; returns what is wrong."""
    wrong = []
    for netsuite_id, scenario in by_id.items():
        state = states.get(netsuite_id)
        expected = overrides.get(netsuite_id, scenario.expected_status)
        actual = state.status.value if state else "not processed"
        if actual != expected:
            wrong.append(f"{netsuite_id} ({scenario.kind}): expected {expected}, got {actual}")
            continue
        if (
            state
            and expected == scenario.expected_status
            and scenario.expected_reason not in (None, state.reason_code)
        ):
            wrong.append(
                f"{netsuite_id}: expected reason {scenario.expected_reason}, got {state.reason_code}"
            )
        status_now = order_status(sandbox, sandbox.account.refund(netsuite_id).bigcommerce_order_id)
        if scenario.expected_order_status and status_now != scenario.expected_order_status:
            wrong.append(f"{netsuite_id}: expected order status {scenario.expected_order_status}")
    return wrong


def calls_per_synced_refund(sandbox: Sandbox, states: dict[str, RefundState]) -> Counter[int]:
    synced_orders = {s.bigcommerce_order_id for s in states.values() if s.status is SyncStatus.SYNCED}
    per_order: Counter[int] = Counter()
    for call in sandbox.store.calls():
        parts = call.path.strip("/").split("/")
        if (
            "orders" in parts
            and parts.index("orders") + 1 < len(parts)
            and parts[parts.index("orders") + 1].isdigit()
        ):
            order = parts[parts.index("orders") + 1]
        else:
            continue
        if order in synced_orders:
            per_order[int(order)] += 1
    return per_order


def main() -> int:
    started = time.monotonic()
    chosen = scenarios()
    console.print(
        "[bold]refund-sync demo[/bold]: NetSuite refunds -> BigCommerce, through the real Lambda handlers"
    )
    console.print(
        "Sandbox: NetSuite simulator (RESTlet, OAuth 2.0 M2M), BigCommerce simulator, "
        f"AWS on moto in server mode. Function logs: {LOG_FILE}\n"
    )
    with running_sandbox(settings=DEMO_SETTINGS) as sandbox, function_logs_to(LOG_FILE):
        by_id = seed(sandbox.account, sandbox.store.seed, chosen)
        ids = list(by_id)

        # Act 1 -------------------------------------------------------------------------------------
        poll = sandbox.run_poller()
        drained = sandbox.drain()
        per_order = calls_per_synced_refund(sandbox, read_states(sandbox, ids))
        payouts = sandbox.run_payout_check()
        states = read_states(sandbox, ids)
        console.print(
            f"Act 1. The scheduled poller read {poll['seen']} refunds in {poll['pages']} page(s), enqueued "
            f"{poll['enqueued']} (loop guard skipped {poll['skipped_loop_guard']}); the consumer handled "
            f"{drained.delivered} in {drained.batches} batch(es). The scheduled payout check looked up "
            f"{payouts['checked']} synced refunds in {payouts['lookups']} BigCommerce call(s): "
            f"{payouts['confirmed']} paid out, {len(payouts['declined'])} declined by the gateway "
            f"({', '.join(payouts['declined']) or 'none'})."
        )
        console.print(outcome_table("What happened to each NetSuite refund", sandbox, by_id, states))
        for note in recorded_offline(by_id, states, sandbox):
            console.print(f"  [dim]{note}[/dim]")
        console.print(reasons_table(by_id, states, sandbox))
        problems = check(sandbox, by_id, states, {})
        refunds_before = len(sandbox.store.list_refunds())

        # Act 2 -------------------------------------------------------------------------------------
        again = sandbox.run_poller()
        synced_id = next(i for i, s in states.items() if s.status is SyncStatus.SYNCED)
        on_demand = sandbox.run_poller({"action": "sync", "netsuite_ids": [synced_id]})
        duplicate = RefundMessage(
            refund=sandbox.account.refund(synced_id),
            sent_by="on_demand",
            sent_at=states[synced_id].updated_at,
        )
        sandbox.aws.sqs().send_message(
            QueueUrl=sandbox.aws.refund_queue_url,
            MessageBody=duplicate.model_dump_json(),
            MessageGroupId=duplicate.group_id,
            MessageDeduplicationId="a-redelivered-copy",
        )
        redelivered = sandbox.drain()
        refunds_after = len(sandbox.store.list_refunds())
        console.print(
            f"\nAct 2. Nothing twice: a second poll enqueued {again['enqueued']} "
            f"({again['skipped_synced']} already handled and unchanged); an on-demand sync of "
            f'{sandbox.account.refund(synced_id).tran_id} answered "{on_demand["not_sent"][0]["why"]}"; '
            f"a redelivered copy was handled ({redelivered.succeeded} message) and BigCommerce still holds "
            f"{refunds_after} refunds (before: {refunds_before})."
        )
        if again["enqueued"] or refunds_after != refunds_before or on_demand["enqueued"]:
            problems.append("a refund was sent or created twice")

        # Act 3 -------------------------------------------------------------------------------------
        unsettled = next(i for i, s in by_id.items() if s.expected_reason == "PAYMENT_NOT_SETTLED")
        order_id = int(sandbox.account.refund(unsettled).bigcommerce_order_id or 0)
        sandbox.store.set_tender(order_id, "braintree", settled=True)
        moved = sandbox.redrive()
        sandbox.drain()
        states = read_states(sandbox, ids)
        console.print(
            f"\nAct 3. The card payment of order {order_id} settled; the operator redrove the "
            f"dead-letter queue ({moved} messages). {sandbox.account.refund(unsettled).tran_id} is now "
            f"{states[unsettled].status.value}; the others went back with the same reasons."
        )
        problems += check(sandbox, by_id, states, {unsettled: "SYNCED"})
        left = Counter(letter.reason for letter in sandbox.dead_letters())

    console.print(f"\nDead-letter queue now: {dict(left)}")
    calls = sorted(per_order.values())
    console.print(
        f"BigCommerce calls per synced refund (act 1): min {calls[0]}, max {calls[-1]}, "
        f"mean {sum(calls) / len(calls):.1f} - read order, quote, create (+1 to read earlier refunds when "
        "shipping is split over consignments of an order refunded before); and the payout check's "
        f"{payouts['lookups']} call(s) for them all."
    )
    console.print(f"Finished in {time.monotonic() - started:.1f} s.")
    if problems:
        console.print("[red bold]The pipeline broke:[/red bold]")
        for problem in problems:
            console.print(f"  - {problem}")
        return 1
    console.print("[green bold]Every refund ended where it should.[/green bold]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
