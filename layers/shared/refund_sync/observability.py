"""The one Logger, Tracer and Metrics of the process, and the catalogue of metrics the alarms watch.

Names come from POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and STAGE (set by template.yaml);
the defaults keep tools and the sandbox, which import this before any environment is set, consistent.
Every metric carries the dimensions {service, stage}; the breakdowns add one more (reason, currency).
"""

import os
from enum import StrEnum

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "refund-sync")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "RefundSync")
STAGE = os.environ.get("STAGE", "dev")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(stage=STAGE)


class Metric(StrEnum):
    # the refund engine (consumer)
    REFUNDS_SYNCED = "RefundsSynced"
    REFUNDS_FAILED = "RefundsFailed"
    REFUNDS_HELD = "RefundsHeld"
    REFUNDS_FAILED_BY_REASON = "RefundsFailedByReason"  # + reason
    REFUNDS_HELD_BY_REASON = "RefundsHeldByReason"  # + reason
    AMOUNT_REFUNDED = "AmountRefunded"  # + currency
    REFUNDS_DRY_RUN = "RefundsDryRun"
    DUPLICATE_DELIVERIES = "DuplicateDeliveries"
    RETRIES_EXHAUSTED = "RefundsRetriesExhausted"
    WRITE_BACK_FAILURES = "NetSuiteWriteBackFailures"
    # the payout check
    PAYOUTS_CONFIRMED = "PayoutsConfirmed"
    PAYOUTS_DECLINED = "PayoutsDeclined"
    # the APIs
    BIGCOMMERCE_CALLS = "BigCommerceCalls"
    BIGCOMMERCE_RETRIES = "BigCommerceRetries"
    BIGCOMMERCE_THROTTLES = "BigCommerceThrottles"
    NETSUITE_CALLS = "NetSuiteCalls"
    NETSUITE_RETRIES = "NetSuiteRetries"
    NETSUITE_THROTTLES = "NetSuiteThrottles"
    # the poller
    POLLER_PAGES = "PollerPages"
    POLLER_SWEEPS_COMPLETED = "PollerSweepsCompleted"
    POLLER_RUNS_COMPLETED = "PollerRunsCompleted"
    POLLER_FAILURES = "PollerFailures"
    POLLER_LAG_SECONDS = "PollerLagSeconds"
    REFUNDS_ENQUEUED = "RefundsEnqueued"
    REFUNDS_SKIPPED_LOOP_GUARD = "RefundsSkippedLoopGuard"


def count(metric: Metric, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=metric.value, unit=unit, value=value)


def count_by(metric: Metric, dimension: str, key: str, value: float = 1) -> None:
    """A metric with one more dimension than the default set (flushed at once, as its own EMF record)."""
    with single_metric(
        name=metric.value,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, **metrics.default_dimensions},
    ) as single:
        single.add_dimension(name=dimension, value=key)
