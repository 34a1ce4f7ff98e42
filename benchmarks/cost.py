"""What refund-sync costs to run on AWS: per 10,000 refunds, and per month whatever the volume.

Every price and assumption is named here. Prices: us-east-1 list prices as of 2026, no free tier.
The usage figures come from the measures (see benchmarks/report.py), per synced refund; the
assumptions fill in what a local run cannot measure (latencies inside AWS, Lambda's CPU share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

MILLION = 1_000_000
GB = 1024**3
MINUTES_PER_MONTH = 730 * 60  # AWS bills a month as 730 hours


@dataclass(frozen=True)
class Prices:
    lambda_arm64_gb_second: Decimal = Decimal("0.0000133334")
    lambda_request: Decimal = Decimal("0.20") / MILLION
    sqs_fifo_request: Decimal = Decimal("0.50") / MILLION  # each 64 KB chunk of a request counts as one
    dynamodb_write_unit: Decimal = Decimal("0.625") / MILLION  # on-demand WRU
    dynamodb_read_unit: Decimal = Decimal("0.125") / MILLION  # on-demand RRU
    secret_month: Decimal = Decimal("0.40")
    secrets_api_call: Decimal = Decimal("0.05") / 10_000
    logs_ingested_gb: Decimal = Decimal("0.50")
    custom_metric_month: Decimal = Decimal("0.30")  # each metric name + dimension values (EMF)
    alarm_month: Decimal = Decimal("0.10")  # standard-resolution metric alarm
    dashboard_month: Decimal = Decimal("3.00")  # beyond the account's first three
    xray_trace: Decimal = Decimal("5.00") / MILLION  # traces recorded (template.yaml: Tracing Active)


@dataclass(frozen=True)
class Assumptions:
    memory_mb: int = 512  # template.yaml Globals.Function.MemorySize (read from it by the report)
    full_vcpu_mb: int = 1769  # Lambda gives a function one full vCPU at 1,769 MB, a share below that
    aws_request_seconds: float = 0.005  # a DynamoDB / SQS / Secrets Manager call from Lambda
    netsuite_page_seconds: float = 2.0  # a RESTlet page of refunds, NetSuite's side
    platform_log_bytes_per_invocation: int = 350  # Lambda's START, END and REPORT lines
    run_overhead_seconds: float = 0.1  # a warm invocation's own work: Powertools decorators, settings, logs
    poller_period_minutes: int = 5  # template.yaml SchedulePeriodMinutes default
    payout_check_period_minutes: int = 15  # template.yaml PayoutCheckFunction schedule
    payout_check_window_days: int = 7  # Settings.payout_check_window_days default
    secret_cache_minutes: int = 5  # Powertools parameters max_age in the adapters
    # The SQS event source mapping long-polls the queue even when it is empty: assumed 5 pollers,
    # each a 20-second receive, around the clock.
    idle_receives_per_month: int = 5 * 3 * MINUTES_PER_MONTH

    @property
    def gb(self) -> Decimal:
        return Decimal(self.memory_mb) / 1024

    @property
    def cpu_slowdown(self) -> float:
        """How much longer CPU-bound work takes at this memory size than on a whole core."""
        return self.full_vcpu_mb / self.memory_mb


@dataclass(frozen=True)
class PerRefund:
    """Measured usage per synced refund (all functions), as the report derives it."""

    lambda_seconds: float  # billed duration, every function
    lambda_invocations: float  # consumer invocations (the scheduled ones are fixed costs)
    sqs_requests: float  # billed requests (64 KB chunks)
    write_units: float
    read_units: float
    payout_recheck_read_units: float  # one payout-check read of a confirmed refund (it repeats, see below)
    secrets_calls: float
    log_bytes: float


@dataclass(frozen=True)
class PerRun:
    """A scheduled run that finds nothing to do (measured): what the schedule costs by itself."""

    seconds: float
    aws_write_units: float
    aws_read_units: float
    secrets_calls: float
    log_bytes: float


@dataclass(frozen=True)
class CostLine:
    item: str
    dollars: Decimal
    basis: str


def per_10k_refunds(usage: PerRefund, prices: Prices, assumptions: Assumptions) -> list[CostLine]:
    refunds = 10_000
    runs_in_window = assumptions.payout_check_window_days * 24 * 60 / assumptions.payout_check_period_minutes
    gb_seconds = Decimal(str(usage.lambda_seconds * refunds)) * assumptions.gb
    invocations = usage.lambda_invocations * refunds
    recheck_units = usage.payout_recheck_read_units * runs_in_window * refunds
    log_bytes = usage.log_bytes * refunds + invocations * assumptions.platform_log_bytes_per_invocation
    return [
        CostLine(
            "Lambda duration (arm64)",
            gb_seconds * prices.lambda_arm64_gb_second,
            f"{usage.lambda_seconds:.2f} s x {assumptions.memory_mb} MB per refund",
        ),
        CostLine(
            "Lambda requests",
            Decimal(str(invocations)) * prices.lambda_request,
            f"{invocations:,.0f} invocations",
        ),
        CostLine(
            "SQS FIFO requests",
            Decimal(str(usage.sqs_requests * refunds)) * prices.sqs_fifo_request,
            f"{usage.sqs_requests:.2f} per refund",
        ),
        CostLine(
            "DynamoDB writes",
            Decimal(str(usage.write_units * refunds)) * prices.dynamodb_write_unit,
            f"{usage.write_units:.1f} WRU per refund (table and indexes)",
        ),
        CostLine(
            "DynamoDB reads",
            Decimal(str(usage.read_units * refunds)) * prices.dynamodb_read_unit,
            f"{usage.read_units:.2f} RRU per refund",
        ),
        CostLine(
            "DynamoDB payout-check re-reads",
            Decimal(str(recheck_units)) * prices.dynamodb_read_unit,
            f"{usage.payout_recheck_read_units:.2f} RRU x {runs_in_window:.0f} runs in the "
            f"{assumptions.payout_check_window_days}-day window"
            if usage.payout_recheck_read_units
            else "none: a checked refund leaves the payout check's (sparse) index",
        ),
        CostLine(
            "Secrets Manager API calls",
            Decimal(str(usage.secrets_calls * refunds)) * prices.secrets_api_call,
            f"{usage.secrets_calls * refunds:.0f} calls (cached {assumptions.secret_cache_minutes} min)",
        ),
        CostLine(
            "CloudWatch Logs ingestion",
            Decimal(str(log_bytes)) / GB * prices.logs_ingested_gb,
            f"{log_bytes / refunds:,.0f} bytes per refund",
        ),
        CostLine(
            "X-Ray traces", Decimal(str(invocations)) * prices.xray_trace, "one trace per consumer invocation"
        ),
    ]


def per_month(
    *,
    secrets: int,
    alarms: int,
    dashboards: int,
    custom_metrics: int,
    poller_run: PerRun,
    payout_check_run: PerRun,
    prices: Prices,
    assumptions: Assumptions,
) -> list[CostLine]:
    """What the stack costs in a month with no refunds at all."""
    poller_runs = MINUTES_PER_MONTH / assumptions.poller_period_minutes
    payout_runs = MINUTES_PER_MONTH / assumptions.payout_check_period_minutes
    lines = [
        CostLine("Secrets Manager secrets", secrets * prices.secret_month, f"{secrets} secrets"),
        CostLine("CloudWatch alarms", alarms * prices.alarm_month, f"{alarms} alarms"),
        CostLine("CloudWatch dashboard", dashboards * prices.dashboard_month, "free if the account has < 3"),
        CostLine(
            "CloudWatch custom metrics (EMF)",
            custom_metrics * prices.custom_metric_month,
            f"{custom_metrics} metrics seen on the happy path; each failure reason seen adds one",
        ),
        CostLine(
            "SQS idle long polling (event source)",
            assumptions.idle_receives_per_month * prices.sqs_fifo_request,
            f"{assumptions.idle_receives_per_month:,} receives (assumed)",
        ),
    ]
    for name, runs, run in (
        ("poller", poller_runs, poller_run),
        ("payout check", payout_runs, payout_check_run),
    ):
        dollars = (
            Decimal(str(run.seconds * runs)) * assumptions.gb * prices.lambda_arm64_gb_second
            + Decimal(str(runs)) * prices.lambda_request
            + Decimal(str(run.aws_write_units * runs)) * prices.dynamodb_write_unit
            + Decimal(str(run.aws_read_units * runs)) * prices.dynamodb_read_unit
            + Decimal(str(run.secrets_calls * runs)) * prices.secrets_api_call
            + Decimal(str((run.log_bytes + assumptions.platform_log_bytes_per_invocation) * runs))
            / GB
            * prices.logs_ingested_gb
            + Decimal(str(runs)) * prices.xray_trace
        )
        lines.append(CostLine(f"Scheduled {name} runs", dollars, f"{math.ceil(runs):,} empty runs a month"))
    return lines


def total(lines: list[CostLine]) -> Decimal:
    return sum((line.dollars for line in lines), Decimal(0))
