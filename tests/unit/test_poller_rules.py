"""What the poller sends again, and where the very first sweep starts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from refund_sync.config import Settings
from refund_sync.domain.netsuite import Origin
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services.poll_refunds import imported_from_bigcommerce, worth_sending
from tests.factories import line, refund

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NS = refund(line(1, "TEE", 1, "20.00"), last_modified=T0)


def state(status: SyncStatus, modified: datetime = T0) -> RefundState:
    return RefundState(
        netsuite_id=NS.id,
        record_type="creditmemo",
        document_number=NS.tran_id,
        netsuite_last_modified=modified,
        currency="USD",
        netsuite_total=Decimal("20.00"),
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def test_a_refund_never_seen_is_sent() -> None:
    assert worth_sending(NS, None, dry_run=False)


def test_a_synced_refund_is_never_sent_again_even_after_an_edit() -> None:
    edited = NS.model_copy(update={"last_modified": T0 + timedelta(hours=1)})
    assert not worth_sending(edited, state(SyncStatus.SYNCED), dry_run=False)


def test_a_failed_refund_is_sent_again_only_once_netsuite_changed_it() -> None:
    assert not worth_sending(NS, state(SyncStatus.FAILED), dry_run=False)
    edited = NS.model_copy(update={"last_modified": T0 + timedelta(minutes=1)})
    assert worth_sending(edited, state(SyncStatus.FAILED), dry_run=False)


def test_a_dry_run_result_is_due_for_real_once_dry_run_is_off() -> None:
    assert not worth_sending(NS, state(SyncStatus.DRY_RUN), dry_run=True)
    assert worth_sending(NS, state(SyncStatus.DRY_RUN), dry_run=False)


def test_refunds_imported_from_bigcommerce_are_recognised_by_marker_or_external_id() -> None:
    pattern = re.compile(Settings().loop_guard_external_id_pattern, re.IGNORECASE)
    marked = NS.model_copy(update={"origin": Origin(channel_refund_id="BC-77")})
    by_external_id = NS.model_copy(update={"origin": Origin(external_id="bc-refund-12")})
    assert imported_from_bigcommerce(marked, pattern)
    assert imported_from_bigcommerce(by_external_id, pattern)
    assert imported_from_bigcommerce(NS, pattern) is None


def test_the_go_live_date_is_midnight_utc_and_empty_means_everything() -> None:
    assert Settings(first_sync_from="2026-11-01").first_sync_from == datetime(2026, 11, 1, tzinfo=UTC)
    assert Settings(first_sync_from="").first_sync_from is None
    instant = Settings(first_sync_from="2026-11-01T09:30:00+02:00").first_sync_from
    assert instant == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
