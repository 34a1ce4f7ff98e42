"""The one Logger, Tracer and Metrics of the process, and the catalogue of metrics the alarms watch.

Names come from POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and STAGE (set by template.yaml);
the defaults keep tools and the sandbox, which import this before any environment is set, consistent.
Every metric carries the dimensions {service, stage}; the breakdowns add one more (reason, currency).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from refund_sync.domain.reasons import Outcome, Reason

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "refund-sync")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "RefundSync")
STAGE = os.environ.get("STAGE", "dev")
# NetSuite and BigCommerce are called through requests, AWS through botocore: a subsegment for every call.
TRACED_MODULES = ("botocore", "requests")

Handler = TypeVar("Handler", bound=Callable[..., Any])


class LazyTracer:
    """Powertools' Tracer, created on the first invocation whose trace X-Ray records.

    Creating a Tracer imports the X-Ray SDK and patches botocore and requests, a cost a cold start
    should pay only for a trace that is kept: Lambda samples (by default the first request each second
    and 5 % of the others) and tells the function in _X_AMZN_TRACE_ID, set anew for each invocation
    ("Defined runtime environment variables"; X-Ray "Tracing header": Sampled=1). An unsampled
    invocation runs untraced, as the Tracer would have discarded its subsegments anyway. From the first
    sampled one on, the Tracer handles every invocation itself, with a subsegment for the handler and
    for each AWS, NetSuite and BigCommerce call. Outside Lambda no trace header is set: nothing loads.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None
        self._invoked = False

    @property
    def tracer(self) -> Tracer:
        """The Tracer itself (annotations, metadata, capture_method), created on first use."""
        if self._tracer is None:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415 # the point: import on first use
            from aws_lambda_powertools.tracing import tracer as tracer_module  # noqa: PLC0415

            if self._invoked:
                # Powertools annotates ColdStart on the first invocation it traces: here, a warm one.
                tracer_module.is_cold_start = False
            self._tracer = Tracer(service=self._service, patch_modules=TRACED_MODULES)
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """Tracer.capture_lambda_handler, applied when the first sampled invocation arrives."""
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            nonlocal traced
            if traced is None and sampled():
                traced = self.tracer.capture_lambda_handler(handler)
            self._invoked = True
            return (traced or handler)(event, context)

        return cast("Handler", invoke)


def sampled() -> bool:
    """Whether X-Ray records this invocation's trace (Lambda's trace header says Sampled=1)."""
    return "Sampled=1" in os.environ.get("_X_AMZN_TRACE_ID", "").split(";")


logger = Logger(service=SERVICE)
tracer = LazyTracer(SERVICE)
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


def count_problem(reason: Reason) -> None:
    """A refund recorded FAILED or HELD: the count, and the breakdown by reason the alarms watch."""
    held = reason.outcome is Outcome.HELD
    count(Metric.REFUNDS_HELD if held else Metric.REFUNDS_FAILED)
    count_by(
        Metric.REFUNDS_HELD_BY_REASON if held else Metric.REFUNDS_FAILED_BY_REASON, "reason", reason.name
    )
