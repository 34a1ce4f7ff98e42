"""Operator Lambda: what the refund-sync CLI asks of the stack (preview, sync, redrive, discard, resolve,
confirm, recreate)."""

import warnings
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from refund_sync.observability import logger, metrics, tracer
from refund_sync.services.operator_actions import answer, operator

# Most operator actions count nothing; an empty flush is expected here, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(event, operator(), remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000)
