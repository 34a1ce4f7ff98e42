"""The consumer's work on one queue message: parse, sync, and route the outcome.

- synced (or already synced): the message is done and SQS deletes it;
- a RefundProblem (the refund cannot sync as it stands): recorded with its reason by the engine,
  then dead-lettered at once with that reason, and the message is done here;
- a TransientFailure: its next delivery is pushed back (growing with each delivery) and the record
  is reported failed, so SQS redelivers it, and after maxReceiveCount moves it to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from refund_sync.adapters.bigcommerce import bigcommerce_client_from_settings
from refund_sync.adapters.refund_queue import NO_ORDER_GROUP, RefundMessage, RefundQueues
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings, get_settings
from refund_sync.domain.reasons import RefundProblem
from refund_sync.observability import logger
from refund_sync.services.netsuite_write_back import write_back_from_settings
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import RefundEngine, SyncResult, TransientFailure

MALFORMED_MESSAGE = "MALFORMED_MESSAGE"


class RefundConsumer:
    def __init__(self, settings: Settings, engine: RefundEngine, queues: RefundQueues) -> None:
        self.settings = settings
        self.engine = engine
        self.queues = queues

    def handle(
        self, record: SQSRecord, *, seconds_left: Callable[[], float] = lambda: float("inf")
    ) -> SyncResult | None:
        """One message. `seconds_left`: what remains of the invocation (a refund starts only if a create
        and the record of its answer still fit; see RefundEngine)."""
        try:
            message = RefundMessage.model_validate_json(record.body)
        except ValidationError as error:
            # Not a refund we can read: retrying cannot help, so park it with the parser's words.
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
            logger.error(
                "Malformed refund message", extra={"message_id": record.message_id, "detail": detail}
            )
            self.queues.dead_letter(
                record.body,
                group_id=record.attributes.message_group_id or NO_ORDER_GROUP,
                message_id=record.message_id,
                reason_code=MALFORMED_MESSAGE,
                detail=detail,
            )
            return None

        refund = message.refund
        receive_count = int(record.attributes.approximate_receive_count or "1")
        logger.append_keys(
            netsuite_id=refund.id, document_number=refund.tran_id, order_id=refund.bigcommerce_order_id
        )
        final_attempt = receive_count >= self.settings.consumer_max_receive_count
        try:
            if seconds_left() < self.settings.refund_start_seconds:
                self.engine.defer(refund, final_attempt=final_attempt)
            result = self.engine.sync(refund, final_attempt=final_attempt, seconds_left=seconds_left)
        except RefundProblem as problem:
            self.queues.dead_letter(
                record.body,
                group_id=message.group_id,
                message_id=record.message_id,
                reason_code=problem.reason.name,
                detail=problem.detail,
            )
            return None
        except TransientFailure:
            delay = self.queues.back_off(
                record.receipt_handle,
                receive_count=receive_count,
                base_seconds=self.settings.consumer_base_retry_seconds,
            )
            logger.warning("Transient failure; retrying later", extra={"retry_in_seconds": delay})
            raise
        finally:
            logger.remove_keys(["netsuite_id", "document_number", "order_id"])
        logger.info(
            "Refund handled", extra={"outcome": result.outcome.value, "status": result.state.status.value}
        )
        return result


@cache
def refund_consumer() -> RefundConsumer:
    """Built once per Lambda container, on first use."""
    settings = get_settings()
    ledger = RefundLedger(StateStore(settings.state_table_name))
    write_back = write_back_from_settings(settings) if settings.netsuite_write_back else None
    engine = RefundEngine(settings, ledger, bigcommerce_client_from_settings(settings), write_back=write_back)
    return RefundConsumer(
        settings, engine, RefundQueues(settings.refund_queue_url, settings.dead_letter_queue_url)
    )
