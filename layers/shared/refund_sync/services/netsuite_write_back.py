"""Write-back (optional): the refund-sync outcome recorded on the NetSuite refund, for NetSuite users.

SYNCED carries the BigCommerce refund id; FAILED and HELD carry the reason code, its detail and the
one-line "what to do" of refund_sync.domain.reasons, so a NetSuite user sees the state on the refund
itself and in the saved search of refunds not synced (customsearch_rs_refunds_not_synced).

The write never starts a loop. It moves the refund's lastModified, so the refund comes back in the next
poll, but:
- the refund the RESTlet delivers never carries the write-back fields (they are not columns of its
  searches), so its content, and any hash of it, is the same as before the write;
- the RESTlet saves only when the outcome (BigCommerce refund id, status, reason code) changes: the same
  failure met again is not written again, so its lastModified does not move again.

The engine calls the write-back after it recorded the outcome; whatever happens here never changes that
outcome. A refund whose accounting period is closed refuses the write: that is recorded with its own
reason (PERIOD_CLOSED) and the write is not attempted again for that refund.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from refund_sync.adapters.netsuite.contract import WriteBackRequest
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus

if TYPE_CHECKING:
    from refund_sync.adapters.netsuite.client import NetSuiteClient

WriteBack = Callable[[NetSuiteRefund, RefundState, Callable[[], float]], str | None]
"""Writes a refund's outcome to NetSuite within the seconds left (the third argument); answers what to
note in the ledger (None: the engine's "ok")."""

PERIOD_CLOSED = "PERIOD_CLOSED"
REFUSED_PERIOD_CLOSED = f"refused {PERIOD_CLOSED}"
MAX_MESSAGE = 300  # WriteBackRequest.message, custbody_rs_sync_message
MAX_WHAT_TO_DO = 1000  # WriteBackRequest.what_to_do, custbody_rs_what_to_do
WRITTEN_STATUSES = frozenset({SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.HELD})


def _clip(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_back_request(refund: NetSuiteRefund, state: RefundState) -> WriteBackRequest | None:
    """What to write for `state`; None for a status NetSuite users need not see (pending, dry run, ...)."""
    if state.status not in WRITTEN_STATUSES:
        return None
    if state.status is SyncStatus.SYNCED:
        return WriteBackRequest(
            id=refund.id,
            record_type=refund.record_type,
            bigcommerce_refund_id=str(state.bigcommerce_refund_id) if state.bigcommerce_refund_id else None,
            status=state.status.value,
            message=_clip(f"{state.refunded_amount} {state.currency} via {state.refund_method}", MAX_MESSAGE),
            synced_at=state.synced_at or state.updated_at,
        )
    reason = Reason.__members__.get(state.reason_code or "")
    return WriteBackRequest(
        id=refund.id,
        record_type=refund.record_type,
        bigcommerce_refund_id=str(state.bigcommerce_refund_id) if state.bigcommerce_refund_id else None,
        status=state.status.value,
        reason_code=reason.name if reason else None,
        message=_clip(state.reason_detail or (reason.meaning if reason else None), MAX_MESSAGE),
        what_to_do=_clip(reason.action if reason else None, MAX_WHAT_TO_DO),
        synced_at=state.updated_at,
    )


def write_back_with(
    client: NetSuiteClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> WriteBack:
    def write_back(
        refund: NetSuiteRefund, state: RefundState, seconds_left: Callable[[], float]
    ) -> str | None:
        at = clock().isoformat(timespec="seconds")
        if (state.write_back or "").startswith(REFUSED_PERIOD_CLOSED):
            return f"{REFUSED_PERIOD_CLOSED} earlier: the refund's period is closed; not written again"
        request = write_back_request(refund, state)
        if request is None:
            return f"nothing to write at {at} for a {state.status.value} refund"
        try:
            answer = client.write_back(request, deadline=seconds_left)
        except NetSuiteError as error:
            if error.code != PERIOD_CLOSED:
                raise
            return f"{REFUSED_PERIOD_CLOSED} at {at}: {error.message}"
        outcome = " ".join(part for part in (request.status, request.reason_code) if part)
        if not answer.updated:
            return f"ok at {at}: NetSuite already shows {outcome}"
        return f"ok at {at}: {outcome}"

    return write_back


def write_back_from_settings(settings: Settings) -> WriteBack:
    # Imported only when write-back is on: the client brings NetSuite's authentication stack
    # (cryptography, pyjwt, requests-oauthlib), which the consumer's package carries only then.
    from refund_sync.adapters.netsuite.client import (  # noqa: PLC0415
        RetryPolicy,
        netsuite_client_from_settings,
    )

    # Best effort: a note for people, never worth holding a consumer for long.
    retry = RetryPolicy(max_attempts=2, initial_backoff_seconds=1.0, max_backoff_seconds=2.0)
    return write_back_with(netsuite_client_from_settings(settings, retry=retry))
