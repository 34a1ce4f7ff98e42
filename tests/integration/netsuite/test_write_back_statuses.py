"""Status on the refund for NetSuite users: with write-back on, FAILED and HELD refunds are written back too,
with the reason code and what to do, through the real handlers on the sandbox. The write never changes the
refund's outcome, never starts a loop of re-deliveries, and a closed accounting period is recorded with its
own reason and not tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from refund_sync.domain.netsuite import NetSuiteRefund, RecordType, RefundLine
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services.netsuite_write_back import write_back_request
from refund_sync_sandbox.netsuite import NetSuiteAccount
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import MUG, address, order
from tests.integration.consumer.support import case, deliver_again, state, sync_now

D = Decimal


def write_backs(account: NetSuiteAccount) -> int:
    return sum(1 for call in account.calls if call.action == "writeBack")


def order_not_found(sandbox: Sandbox) -> NetSuiteRefund:
    """A refund of BigCommerce order 9999, which the store does not have: FAILED ORDER_NOT_FOUND."""
    return case(sandbox, None, [MUG.refund_line(1, 1)], order_id=9999, tran_id="CM-9999")


def test_a_failed_refund_shows_its_reason_and_what_to_do_on_the_netsuite_refund(sandbox: Sandbox) -> None:
    sandbox.configure(netsuite_write_back="true")
    ns = order_not_found(sandbox)

    sync_now(sandbox, ns)

    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "ORDER_NOT_FOUND")
    fields = sandbox.account.sync_fields(ns.id)
    assert fields is not None
    assert (fields.status, fields.reason_code, fields.bigcommerce_refund_id) == (
        "FAILED",
        "ORDER_NOT_FOUND",
        None,
    )
    assert fields.what_to_do == Reason.ORDER_NOT_FOUND.action
    assert fields.message == failed.reason_detail
    assert (failed.write_back or "").startswith("ok at") and "FAILED ORDER_NOT_FOUND" in (
        failed.write_back or ""
    )


def test_a_held_refund_shows_held_with_its_reason(sandbox: Sandbox) -> None:
    sandbox.configure(netsuite_write_back="true", discount_rule="hold")
    discount = RefundLine(
        line=2, item_id="20", item_name="Spring Sale", item_type="Discount", amount=D("-1.00")
    )
    ns = case(
        sandbox,
        order(120, [MUG.order_line(15, 1, 24)], [address(24, D("5.00"))]),
        [MUG.refund_line(1, 1), discount],
    )

    sync_now(sandbox, ns)

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "DISCOUNT_HELD")
    fields = sandbox.account.sync_fields(ns.id)
    assert fields is not None
    assert (fields.status, fields.reason_code, fields.what_to_do) == (
        "HELD",
        "DISCOUNT_HELD",
        Reason.DISCOUNT_HELD.action,
    )


def test_writing_a_failure_back_never_starts_a_loop(sandbox: Sandbox) -> None:
    # Given a failed refund written back (which moves its lastModified in NetSuite)
    sandbox.configure(netsuite_write_back="true")
    ns = order_not_found(sandbox)
    sync_now(sandbox, ns)
    written = sandbox.account.refund(ns.id).last_modified

    # When the scheduled poll runs again and again
    enqueued = []
    for _ in range(4):
        enqueued.append(sandbox.run_poller()["enqueued"])
        sandbox.drain()

    # Then the refund comes back at most once (its content unchanged), the second write-back saves
    # nothing, and from then on nothing moves: no delivery, no write, no BigCommerce create.
    assert sum(enqueued) <= 1
    assert enqueued[-2:] == [0, 0]
    assert sandbox.account.refund(ns.id).last_modified == written
    assert state(sandbox, ns).status is SyncStatus.FAILED
    assert not [
        call for call in sandbox.store.calls() if call.method == "POST" and call.path.endswith("/refunds")
    ]


def test_a_refund_in_a_closed_period_is_recorded_with_its_own_reason_and_not_tried_again(
    sandbox: Sandbox,
) -> None:
    sandbox.configure(netsuite_write_back="true")
    ns = order_not_found(sandbox)
    sandbox.account.close_period(ns.id)

    sync_now(sandbox, ns)

    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "ORDER_NOT_FOUND")  # the outcome stands
    assert (failed.write_back or "").startswith("refused PERIOD_CLOSED at")
    assert "accounting period is closed" in (failed.write_back or "")
    assert sandbox.account.sync_fields(ns.id) is None
    assert write_backs(sandbox.account) == 1

    deliver_again(sandbox, ns, copy="again")  # a redrive of the dead-lettered message

    again = state(sandbox, ns)
    assert again.status is SyncStatus.FAILED
    assert (again.write_back or "").startswith("refused PERIOD_CLOSED earlier")
    assert write_backs(sandbox.account) == 1  # not tried again


def test_a_write_back_that_fails_leaves_the_outcome_as_it_was(sandbox: Sandbox) -> None:
    sandbox.configure(netsuite_write_back="true")
    ns = order_not_found(sandbox)
    assert len(sandbox.run_poller({"action": "sync", "netsuite_ids": [ns.id]})["enqueued"]) == 1
    sandbox.account.fail_next(10, status=503)  # NetSuite is down by the time the consumer writes back

    report = sandbox.drain()

    failed = state(sandbox, ns)
    assert (failed.status, failed.reason_code) == (SyncStatus.FAILED, "ORDER_NOT_FOUND")
    assert (failed.write_back or "").startswith("failed:")
    assert (report.delivered, report.failed) == (
        1,
        0,
    )  # handled like any FAILED refund, not retried for the note
    assert write_backs(sandbox.account) == 2  # the client's two tries, then it gives up


# -- what is written ----------------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def refund_state(status: SyncStatus, **fields: object) -> RefundState:
    base: dict[str, object] = {
        "netsuite_id": "1042",
        "record_type": "creditmemo",
        "document_number": "CM-1042",
        "netsuite_last_modified": NOW - timedelta(hours=1),
        "currency": "USD",
        "netsuite_total": D("10.00"),
        "status": status,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return RefundState.model_validate({**base, **fields})


@pytest.fixture
def refund() -> NetSuiteRefund:
    return NetSuiteRefund.model_validate(
        {
            "id": "1042",
            "recordType": RecordType.CREDIT_MEMO,
            "tranId": "CM-1042",
            "tranDate": "2025-03-01",
            "lastModified": "2025-03-01T11:00:00Z",
            "currency": "USD",
            "subtotal": "10.00",
            "taxTotal": "0.00",
            "total": "10.00",
        }
    )


def test_a_problem_is_written_with_its_reason_its_detail_cut_to_the_field_and_what_to_do(
    refund: NetSuiteRefund,
) -> None:
    request = write_back_request(
        refund, refund_state(SyncStatus.HELD, reason_code="AMOUNT_MISMATCH", reason_detail="x" * 400)
    )
    assert request is not None
    assert (request.status, request.reason_code, request.what_to_do) == (
        "HELD",
        "AMOUNT_MISMATCH",
        Reason.AMOUNT_MISMATCH.action,
    )
    assert request.message is not None
    assert (len(request.message), request.message[-1]) == (300, "…")
    assert request.synced_at == NOW


def test_a_reason_this_version_does_not_know_is_written_without_a_code(refund: NetSuiteRefund) -> None:
    request = write_back_request(
        refund, refund_state(SyncStatus.FAILED, reason_code="FROM_THE_FUTURE", reason_detail="d")
    )
    assert request is not None
    assert (request.reason_code, request.what_to_do, request.message) == (None, None, "d")


@pytest.mark.parametrize(
    "status", [SyncStatus.PENDING, SyncStatus.SUBMITTING, SyncStatus.DRY_RUN, SyncStatus.SKIPPED]
)
def test_a_status_in_progress_or_skipped_is_not_written(refund: NetSuiteRefund, status: SyncStatus) -> None:
    assert write_back_request(refund, refund_state(status)) is None


def test_every_reason_fits_the_what_to_do_field() -> None:
    assert max(len(reason.action) for reason in Reason) <= 1000
