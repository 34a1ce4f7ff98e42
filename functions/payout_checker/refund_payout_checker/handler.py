"""Payout-check Lambda: on a schedule, looks up recently synced refunds in bulk for gateway declines."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from refund_sync.observability import logger, metrics, tracer
from refund_sync.services.check_payouts import payout_checker


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return payout_checker().run(lambda: context.get_remaining_time_in_millis() / 1000).as_dict()
