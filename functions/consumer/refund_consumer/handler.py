"""Consumer Lambda: one SQS FIFO batch of NetSuite refunds in, partial batch failures out."""

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from refund_sync.observability import logger, metrics, tracer
from refund_sync.services.consume_refunds import refund_consumer

# skip_group_on_error: a failed refund holds back the later refunds of *its* order only.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def handle_record(record: SQSRecord, lambda_context: LambdaContext) -> None:
    # Powertools passes the context to a record handler that names it: the time left guards each create.
    refund_consumer().handle(
        record, seconds_left=lambda: lambda_context.get_remaining_time_in_millis() / 1000
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
