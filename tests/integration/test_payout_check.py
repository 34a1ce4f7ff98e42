"""The payout check, through its real handler on the sandbox: gateway declines found after the sync,
many refunds per BigCommerce call.

BigCommerce answers a refund create before the gateway does, so the consumer records the create's
answer (SYNCED) and the scheduled payout check looks at every synced refund once, later, in bulk.
"""

from __future__ import annotations

from decimal import Decimal

from refund_sync.adapters.bigcommerce import REFUNDS_PER_LOOKUP
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, TEE, address, order
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    case,
    netsuite_refund,
    operator,
    state,
    sync_now,
)
from tests.integration.poller.support import record_synced

D = Decimal


def bulk_lookups(sandbox: Sandbox) -> int:
    """Calls to BigCommerce's store-wide refund list (GET /v3/orders/payment_actions/refunds)."""
    return sum(
        1
        for call in sandbox.store.calls()
        if call.method == "GET" and call.path.endswith("/v3/orders/payment_actions/refunds")
    )


def test_a_late_gateway_decline_turns_a_synced_refund_into_a_failure_an_operator_can_act_on(
    sandbox: Sandbox,
) -> None:
    # Given an order whose card gateway declines refunds, asynchronously, as real gateways do
    ns = case(
        sandbox,
        order(111, [CAP.order_line(13, 1, 22)], [address(22, D("5.00"))], declines=True),
        [CAP.refund_line(1, 1)],
    )
    # When the consumer syncs it, the create's answer says nothing of the decline yet
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.SYNCED

    # Then the payout check finds the decline, in one lookup
    sandbox.store.clear_calls()
    report = sandbox.run_payout_check()
    assert (report["checked"], report["declined"], report["lookups"]) == (1, [ns.tran_id], 1)
    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "GATEWAY_DECLINED")
    assert "expired card" in (failed.reason_detail or "")
    assert failed.payout_checked_at is not None
    assert sandbox.store.snapshot(111).order.status_id != 4, "a declined refund does not count"

    # And a sync alone never creates it again: the declined refund stands
    sandbox.store.set_tender(111, "braintree", declines_refunds=False)
    sync_now(sandbox, ns)
    assert state(sandbox, ns).reason_code == "GATEWAY_DECLINED"
    assert len(bigcommerce_refunds(sandbox, 111)) == 1

    # But once the operator has sorted out the gateway and allows it, a sync refunds it once more, once
    with operator(sandbox) as decide:
        decide.recreate(ns.id)
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    paid = [r for r in bigcommerce_refunds(sandbox, 111) if not r.fully_declined]
    assert len(paid) == 1
    assert sandbox.run_payout_check()["confirmed"] == 1
    assert sandbox.store.snapshot(111).order.status_id == 14  # the cap refunded; shipping kept


def test_a_refund_paid_out_is_checked_once_and_never_looked_up_again(sandbox: Sandbox) -> None:
    ns = case(
        sandbox, order(112, [TEE.order_line(14, 1, 23)], [address(23, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)

    first = sandbox.run_payout_check()
    assert (first["checked"], first["confirmed"], first["declined"]) == (1, 1, [])
    checked = state(sandbox, ns)
    assert (checked.status, checked.payout_checked_at is not None) == (SyncStatus.SYNCED, True)

    sandbox.store.clear_calls()
    second = sandbox.run_payout_check()
    assert (second["checked"], second["lookups"]) == (0, 0)
    assert sandbox.store.calls() == []


def test_refunds_synced_moments_ago_wait_for_the_gateway_before_they_are_checked(sandbox: Sandbox) -> None:
    sandbox.configure(payout_check_delay_minutes="30")
    ns = case(
        sandbox, order(113, [TEE.order_line(15, 1, 24)], [address(24, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)

    report = sandbox.run_payout_check()
    assert (report["checked"], report["lookups"]) == (0, 0)
    assert state(sandbox, ns).payout_checked_at is None


def test_many_refunds_cost_one_bigcommerce_call_per_fifty(sandbox: Sandbox) -> None:
    # Given more synced refunds than one lookup holds (a store quota roomy enough not to pause for them)
    sandbox.store.set_rate_limit(quota=1_000)
    refunds = []
    for n in range(REFUNDS_PER_LOOKUP + 5):
        order_id = 2000 + n
        refunds.append(
            case(
                sandbox,
                order(order_id, [TEE.order_line(n + 1, 1, n + 1)], [address(n + 1, D("5.00"))]),
                [TEE.refund_line(1, 1)],
                tran_id=f"CM-{order_id}",
            )
        )
    sandbox.run_poller({"action": "sync", "netsuite_ids": [r.id for r in refunds]})
    sandbox.drain()

    # When the payout check runs, then two lookups check them all
    sandbox.store.clear_calls()
    report = sandbox.run_payout_check()
    assert (report["checked"], report["confirmed"], report["lookups"]) == (len(refunds), len(refunds), 2)
    assert bulk_lookups(sandbox) == len(sandbox.store.calls()) == 2


def test_a_refund_bigcommerce_does_not_know_stays_unchecked_and_is_looked_up_again(sandbox: Sandbox) -> None:
    # Given a state item that names a BigCommerce refund the store does not hold (a restored table, say)
    ns = netsuite_refund(sandbox, 114, [TEE.refund_line(1, 1)], tran_id="CM-114")
    record_synced(sandbox, ns, bigcommerce_refund_id=424242)

    first = sandbox.run_payout_check()
    assert (first["checked"], first["confirmed"], first["not_found"]) == (1, 0, ["CM-114"])
    assert state(sandbox, ns).payout_checked_at is None
    assert sandbox.run_payout_check()["not_found"] == ["CM-114"], "left for the next run, not forgotten"
