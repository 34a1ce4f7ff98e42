"""Write-back (optional): the BigCommerce outcome recorded on the NetSuite refund's custom fields.

Only synced refunds are written back: writing changes the refund's last-modified date, and a synced
refund is never sent again, so the write cannot start a loop.
"""

from __future__ import annotations

from collections.abc import Callable

from refund_sync.adapters.netsuite.contract import WriteBackRequest
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import RefundState


def write_back_from_settings(settings: Settings) -> Callable[[NetSuiteRefund, RefundState], None]:
    # Imported only when write-back is on: the client brings NetSuite's authentication stack
    # (cryptography, pyjwt, requests-oauthlib), which the consumer's package carries only then.
    from refund_sync.adapters.netsuite.client import netsuite_client_from_settings  # noqa: PLC0415

    client = netsuite_client_from_settings(settings)

    def write_back(refund: NetSuiteRefund, state: RefundState) -> None:
        client.write_back(
            WriteBackRequest(
                id=refund.id,
                record_type=refund.record_type,
                bigcommerce_refund_id=str(state.bigcommerce_refund_id)
                if state.bigcommerce_refund_id
                else None,
                status=state.status.value,
                message=f"{state.refunded_amount} {state.currency} via {state.refund_method}"[:300],
                synced_at=state.synced_at or state.updated_at,
            )
        )

    return write_back
