"""Poller Lambda: a scheduled sweep of the NetSuite saved search, or an on-demand sync of named refunds."""

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from refund_sync.observability import logger, metrics, tracer
from refund_sync.services.poll_refunds import OnDemandSync, PollerEvent, refund_poller


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=PollerEvent).root
    if isinstance(request, OnDemandSync):
        return refund_poller().sync_on_demand(request).as_dict()
    return refund_poller().run_scheduled(lambda: context.get_remaining_time_in_millis() / 1000).as_dict()
