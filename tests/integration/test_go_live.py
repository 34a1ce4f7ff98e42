"""Going live: the first sweep starts at the go-live date, and dry-run results then sync for real."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import MUG, TEE, address, order
from tests.integration.consumer.support import bigcommerce_refunds, netsuite_refund, state

D = Decimal


def test_the_first_sweep_reads_only_refunds_modified_since_go_live(sandbox: Sandbox) -> None:
    sandbox.configure(first_sync_from="2026-11-01")
    sandbox.store.seed([order(301, [TEE.order_line(1, 2, 11)], [address(11, D("5.00"))])])
    before = netsuite_refund(
        sandbox,
        301,
        [TEE.refund_line(1, 1)],
        tran_id="CM-OLD",
        last_modified=datetime(2026, 10, 30, tzinfo=UTC),
    )
    after = netsuite_refund(
        sandbox,
        301,
        [TEE.refund_line(1, 1)],
        tran_id="CM-NEW",
        last_modified=datetime(2026, 11, 2, tzinfo=UTC),
    )

    report = sandbox.run_poller()
    sandbox.drain()

    assert (report["seen"], report["enqueued"]) == (1, 1)
    assert state(sandbox, after).status is SyncStatus.SYNCED
    assert len(bigcommerce_refunds(sandbox, 301)) == 1, f"{before.tran_id} was handled before go-live"


def test_refunds_recorded_during_dry_run_sync_for_real_once_it_is_switched_off(sandbox: Sandbox) -> None:
    sandbox.configure(dry_run="true")
    sandbox.store.seed([order(302, [MUG.order_line(2, 1, 12)], [address(12, D("5.00"))])])
    ns = netsuite_refund(sandbox, 302, [MUG.refund_line(1, 1)], tran_id="CM-DRY")
    sandbox.run_poller()
    sandbox.drain()
    assert state(sandbox, ns).status is SyncStatus.DRY_RUN

    sandbox.configure(dry_run="false")
    again = sandbox.run_poller()
    sandbox.drain()

    assert again["enqueued"] == 1
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(bigcommerce_refunds(sandbox, 302)) == 1
