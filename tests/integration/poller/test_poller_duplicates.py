"""Never twice: sweeps overlap on purpose (for clock skew), so the poller leaves out refunds already handled
and unchanged, the FIFO queue drops a repeated send of the same version, and refunds that came *from*
BigCommerce never go back (the loop guard)."""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.netsuite import NetSuiteRefund, Origin
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.netsuite import BillingType, generate_refunds, product_line
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.poller.support import (
    checkpoint,
    peek_queue,
    record_failed,
    record_synced,
    refund_state,
    this_minute,
)


def test_an_overlapping_sweep_sends_nothing_already_handled_and_a_failed_refund_only_once_edited(
    sandbox: Sandbox,
) -> None:
    # Given three refunds edited this minute: A already synced, B failed, C not handled yet
    synced, failed, fresh = generate_refunds(sandbox.account, 3, start=this_minute())
    record_synced(sandbox, synced, bigcommerce_refund_id=501)
    record_failed(sandbox, failed)

    # When the first sweep runs
    first = sandbox.run_poller()

    # Then only C goes to the queue, and the checkpoint counts what was enqueued, not what was seen
    assert (first["seen"], first["enqueued"], first["skipped_synced"]) == (3, 1, 2)
    assert [item.netsuite_id for item in peek_queue(sandbox)] == [fresh.id]
    assert checkpoint(sandbox).refunds_enqueued == 1

    # When the next sweep covers the same refunds again (its window starts before their last edit)
    window_start = checkpoint(sandbox).modified_since
    assert window_start is not None and window_start <= fresh.last_modified
    second = sandbox.run_poller()

    # Then A and B are left out again; C, still unconsumed, is sent again but SQS drops the copy:
    # the same NetSuite id and last-modified make the same deduplication id
    assert (second["seen"], second["enqueued"], second["skipped_synced"]) == (3, 1, 2)
    queued = peek_queue(sandbox)
    assert [item.netsuite_id for item in queued] == [fresh.id]

    # When someone saves the failed refund unchanged (a memo, a write-back), nothing is sent again
    sandbox.account.touch(failed.id)
    sandbox.run_poller()
    assert [item.netsuite_id for item in peek_queue(sandbox)] == [fresh.id]

    # But when someone fixes it in NetSuite (here, its order id) and the poller runs
    edited = sandbox.account.edit(failed.id, bigcommerce_order_id="424242")
    third = sandbox.run_poller()

    # Then the new version of B is sent, C still sits there once, and the synced A never moves
    assert third["skipped_synced"] == 1
    queued = peek_queue(sandbox)
    assert sorted(item.netsuite_id for item in queued) == sorted([failed.id, fresh.id])
    (resent,) = [item for item in queued if item.netsuite_id == failed.id]
    assert resent.message.refund.last_modified == edited.last_modified > failed.last_modified
    assert len({item.deduplication_id for item in queued}) == 2
    state = refund_state(sandbox, synced.id)
    assert state is not None and state.status is SyncStatus.SYNCED and state.bigcommerce_refund_id == 501


def test_refunds_imported_from_bigcommerce_are_never_sent_and_recorded_once(sandbox: Sandbox) -> None:
    # Given a credit memo a connector imported from a BigCommerce refund (its marker field is set),
    # one whose external id says it came from BigCommerce, and an ordinary one
    account = sandbox.account
    lines = [product_line(1, "201", "Canvas Tote", 1, Decimal("24.00"), sku="TOTE-CNV")]

    def refund(order_id: str, origin: Origin) -> NetSuiteRefund:
        order = account.add_sales_order(bigcommerce_order_id=order_id)
        billing = account.add_billing(order, BillingType.INVOICE)
        return account.create_refund(billing, lines, last_modified=this_minute(), origin=origin)

    marked = refund("301", Origin(channel_refund_id="88", source="Web Services"))
    external = refund("302", Origin(external_id="bc-refund-1042", source="CSV"))
    ordinary = refund("303", Origin(external_id="RMA-303-CM"))

    # When two overlapping sweeps see all three
    first = sandbox.run_poller()
    second = sandbox.run_poller()

    # Then only the ordinary refund was ever enqueued (once: the second send was deduplicated)
    assert [item.netsuite_id for item in peek_queue(sandbox)] == [ordinary.id]
    assert first["skipped_loop_guard"] == second["skipped_loop_guard"] == 2

    # And each imported one was recorded once, as SKIPPED because it came from BigCommerce
    for imported in (marked, external):
        state = refund_state(sandbox, imported.id)
        assert state is not None
        assert state.status is SyncStatus.SKIPPED
        assert state.reason_code == Reason.CREATED_FROM_BIGCOMMERCE.name
        assert state.version == 1 and len(state.history) == 1
    assert refund_state(sandbox, ordinary.id) is None  # the consumer has not run

    # And asking for it by name does not send it either
    on_demand = sandbox.run_poller({"action": "sync", "netsuite_ids": [marked.id]})
    assert on_demand["enqueued"] == []
    assert [entry["refund"] for entry in on_demand["not_sent"]] == [marked.label]
    assert [item.netsuite_id for item in peek_queue(sandbox)] == [ordinary.id]
