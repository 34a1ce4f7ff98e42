"""`make bench`: every measure of issue 7 in one table (measure, result, target, met?), also written as
JSON to .benchmarks/report.json. Benchmarks report; they never fail the build on a slow machine.

    python -m benchmarks.report [--json PATH] [--no-micro] [--cold-start-only]

1. BigCommerce calls per synced refund (benchmarks/bigcommerce_calls.py)
2. throughput against the quota (benchmarks/throughput.py)
3. the poller paging 10,000 refunds (benchmarks/poller.py)
4. cold start on 3.13 from the built layout, today's beside it: import, first event, package size,
   refund-sync --help (benchmarks/cold_start.py)
5. CPU per refund (benchmarks/cpu.py) and the cost model (benchmarks/cost.py)
and the pytest-benchmark micro-benchmarks (benchmarks/test_benchmarks.py) as extra rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess  # nosec B404 # runs the micro-benchmarks' pytest session
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.bigcommerce_calls import CallsResult, measure_calls
from benchmarks.cold_start import EVENT_OF, ColdStartResult, measure_cold_start
from benchmarks.cold_start import details as cold_start_details
from benchmarks.consumers import BATCH_SIZE
from benchmarks.cost import (
    Assumptions,
    CostLine,
    PerRefund,
    PerRun,
    Prices,
    per_10k_refunds,
    per_month,
    total,
)
from benchmarks.cpu import CpuResult, measure_cpu
from benchmarks.poller import PollerResult, measure_poller
from benchmarks.throughput import ThroughputResult, measure_throughput
from refund_sync.config import Settings
from refund_sync_sandbox.aws import load_template

ROOT = Path(__file__).resolve().parents[1]
# Issue 15's targets, on 3.13 from the built layout.
IMPORT_TARGET_MS = {"ConsumerFunction": 500, "PollerFunction": 600, "PayoutCheckFunction": 500}
SIZE_TARGET_MB = {"ConsumerFunction": 10.0, "PollerFunction": 25.0}
CLI_HELP_TARGET_MS = 1000
RATIO_TARGET = 0.90
CALLS_TARGET = 3.0
MB = 1024 * 1024

_T = TypeVar("_T")


@dataclass(frozen=True)
class Row:
    measure: str
    result: str
    target: str
    met: bool | None  # None: reported, no target

    @property
    def met_text(self) -> str:
        return {True: "yes", False: "no", None: "-"}[self.met]


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": load,
    }


def _quiet() -> None:
    # Powertools warns when a scheduled run had no metric to publish; the report does not need it.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def timed(name: str, measure: Callable[[], _T]) -> _T:
    print(f"measuring: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = measure()
    print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return result


# -- rows -----------------------------------------------------------------------------------------------
def calls_rows(calls: CallsResult) -> list[Row]:
    per_endpoint = ", ".join(
        f"{name} {count / calls.synced:.2f}"
        + (f" (bulk: {count} for all {calls.synced} refunds)" if name in calls.shared_endpoints else "")
        for name, count in calls.by_endpoint.most_common()
    )
    over = calls.calls_per_refund - CALLS_TARGET
    unused = "; ".join(f"{u.endpoint}: {n} ({u.why})" for u, n in calls.unused.items()) or "none"
    return [
        Row(
            f"1. BigCommerce calls per synced refund ({calls.synced} refunds of {calls.kinds} kinds, "
            "simulator's call log)",
            f"{calls.calls_per_refund:.2f} = {per_endpoint}" + (f" (over by {over:.2f})" if over > 0 else ""),
            "<= 3 (floor 2)",
            over <= 0,
        ),
        Row(
            "1. calls whose answer adds nothing",
            f"{calls.unused_per_refund:.2f} per refund: {unused}",
            "0",
            calls.unused_per_refund == 0,
        ),
    ]


def throughput_row(result: ThroughputResult, plan: str) -> Row:
    return Row(
        f"2. throughput, {plan} quota {result.quota} req / {result.window_seconds:.0f} s "
        f"({result.refunds:,} refunds, {result.workers} consumers, "
        f"{result.latency_seconds * 1000:.0f} ms a call)",
        f"{result.refunds_per_minute:.1f} refunds/min = {result.ratio:.0%} of the bound "
        f"{result.bound_per_minute:.1f} ({result.calls_per_refund:.2f} calls/refund); "
        f"429s {result.throttled_calls}; failed by throttling {result.throttled_failures}; "
        f"backlog cleared in {result.virtual_seconds / 60:.1f} min",
        ">= 90 % of the bound, 0 failed",
        result.ratio >= RATIO_TARGET and result.throttled_failures == 0 and result.synced == result.refunds,
    )


def poller_row(result: PollerResult) -> Row:
    calls = ", ".join(f"{n} {name}" for name, n in result.netsuite_calls.most_common())
    return Row(
        f"3. poller: {result.refunds:,} refunds into the FIFO queue (pages of {result.page_size})",
        f"{result.seconds:.1f} s wall, {result.cpu_seconds:.1f} s CPU (simulators and moto included); "
        f"{result.total_netsuite_calls} NetSuite calls ({calls}); {result.enqueued:,} enqueued",
        "report",
        None,
    )


def cold_start_rows(result: ColdStartResult) -> list[Row]:
    rows = []
    python = f"Python {result.python}" + (f" ({'; '.join(result.notes)})" if result.notes else "")
    for cold in result.functions:
        now, now_bare = cold.imports[("now", "with")], cold.imports[("now", "without")]
        today, today_compiled = cold.imports.get(("today", "without")), cold.imports.get(("today", "with"))
        compared = (
            f"today {today.text} as shipped (no bytecode), {today_compiled.text} compiled here"
            if today and today_compiled
            else "new since the baseline"
        )
        heaviest = ", ".join(f"{name} {ms:.0f}" for name, ms in list(cold.heaviest.items())[:4])
        target = IMPORT_TARGET_MS.get(cold.function)
        rows.append(
            Row(
                f"4. cold start: import {cold.module}, {python}, laid out as on Lambda "
                f"(median of {len(now.runs_ms)})",
                f"{now.text} with its bytecode "
                f"({cold.compiled_at_import[('now', 'with')]} modules compiled), {now_bare.text} without; "
                f"{compared}; "
                f"heaviest now (ms, own modules): {heaviest}",
                f"<= {target} ms" if target else "report",
                now.median_ms <= target if target else None,
            )
        )
    for cold in result.functions:
        if cold.function not in EVENT_OF:
            continue
        unsampled, sampled = cold.first_event[("now", False)], cold.first_event[("now", True)]
        today = cold.first_event.get(("today", True))
        rows.append(
            Row(
                f"4. cold start: import + first event, {cold.function} on events/{EVENT_OF[cold.function]} "
                f"(median of {len(sampled.runs_ms)}, fresh sandbox each)",
                f"{unsampled.text} untraced, {sampled.text} traced; "
                + (f"today {today.text} traced" if today else "new since the baseline"),
                "report",
                None,
            )
        )
    sizes = {(size.function, size.build): size for size in result.sizes}
    for (function, build), size in sizes.items():
        if build != "now":
            continue
        before = sizes.get((function, "today"))
        biggest = ", ".join(f"{name} {value / MB:.1f}" for name, value in size.biggest.items())
        limit = SIZE_TARGET_MB.get(function)
        rows.append(
            Row(
                f"4. package size: {function} (code + {', '.join(size.layers)}; beyond Powertools)",
                f"{size.bytes / MB:.1f} MB unzipped, {size.bytecode / MB:.1f} MB of it bytecode; "
                f"{size.zipped / MB:.1f} MB zipped (MB: {biggest})"
                + (f"; today {before.bytes / MB:.1f} / {before.zipped / MB:.1f} MB zipped" if before else ""),
                f"<= {limit:.0f} MB" if limit else "report",
                size.bytes / MB <= limit if limit else None,
            )
        )
    for variant, size in sizes.items():
        if variant[1] not in ("now", "today"):
            rows.append(
                Row(
                    f"4. package size: {variant[0]} with {variant[1]} (code + {', '.join(size.layers)})",
                    f"{size.bytes / MB:.1f} MB unzipped, {size.zipped / MB:.1f} MB zipped",
                    "report",
                    None,
                )
            )
    now, today = result.cli_help["now"], result.cli_help["today"]
    rows.append(
        Row(
            f"4. refund-sync --help (virtualenv, compiled; median of {len(now.runs_ms)})",
            f"{now.text}; today {today.text}",
            f"<= {CLI_HELP_TARGET_MS / 1000:.0f} s",
            now.median_ms <= CLI_HELP_TARGET_MS,
        )
    )
    return rows


def cpu_row(result: CpuResult) -> Row:
    shares = ", ".join(f"{name} {share:.0%}" for name, share in result.shares.items() if share >= 0.01)
    return Row(
        f"5. CPU per refund, our side ({result.synced} refunds, simulators answering instantly)",
        f"{result.ours_ms_per_refund:.1f} ms ({shares})",
        "report",
        None,
    )


def cost_rows(variable: list[CostLine], fixed: list[CostLine]) -> list[Row]:
    def top(lines: list[CostLine]) -> str:
        ranked = sorted(lines, key=lambda line: -line.dollars)
        return ", ".join(f"{line.item} ${line.dollars:.3f}" for line in ranked[:4])

    return [
        Row(
            "5. cost per 10,000 refunds (a backlog at the quota)",
            f"${total(variable):.2f} ({top(variable)})",
            "report",
            None,
        ),
        Row("5. fixed cost per month (no refunds)", f"${total(fixed):.2f} ({top(fixed)})", "report", None),
    ]


def micro_rows(path: Path) -> list[Row]:
    """The pytest-benchmark micro-benchmarks, run in their own pytest session."""
    done = subprocess.run(  # noqa: S603 # nosec B603 # our own interpreter, fixed arguments
        [
            sys.executable, "-m", "pytest", "benchmarks", "--benchmark-only", "-p", "no:xdist", "-q",
            "-k", "not pipeline", "--benchmark-json", str(path),
        ],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not path.exists():
        return [Row("micro-benchmarks", f"did not run: {done.stdout[-300:]}", "report", None)]
    rows = []
    for bench in json.loads(path.read_text())["benchmarks"]:
        extra = ", ".join(f"{key} {value}" for key, value in bench.get("extra_info", {}).items())
        rows.append(
            Row(
                f"micro: {bench['name'].removeprefix('test_').replace('_', ' ')}",
                f"{bench['stats']['mean'] * 1000:.2f} ms mean ({extra})",
                "report",
                None,
            )
        )
    return rows


# -- the cost model's inputs, from the measures -----------------------------------------------------------
def cost_model(
    calls: CallsResult, standard: ThroughputResult, poller: PollerResult, cpu: CpuResult
) -> tuple[list[CostLine], list[CostLine], dict[str, Any]]:
    template = load_template()
    assumptions = Assumptions(memory_mb=int(template["Globals"]["Function"]["MemorySize"]))
    prices = Prices()
    synced = calls.synced
    consumer, payout, again = (
        calls.phases["consumer"],
        calls.phases["payout check"],
        calls.phases["payout check again"],
    )
    consumer_aws = sum(consumer.aws.requests.values()) / synced
    payout_aws = sum(payout.aws.requests.values()) / synced
    poller_aws = sum(poller.aws.requests.values()) / poller.refunds
    shared_bigcommerce = calls.shared_calls / synced  # the payout check's bulk lookups
    lambda_seconds = (
        # consumer, while a backlog drains at the quota: calls, rate-limit pauses, then our CPU and AWS calls
        standard.worker_seconds_per_refund
        + cpu.ours_ms_per_refund / 1000 * assumptions.cpu_slowdown
        + consumer_aws * assumptions.aws_request_seconds
        # poller: its CPU (an upper bound: the simulators' is in it), NetSuite's pages, AWS calls
        + poller.cpu_seconds / poller.refunds * assumptions.cpu_slowdown
        + poller.netsuite_calls["restlet page"] / poller.refunds * assumptions.netsuite_page_seconds
        + poller_aws * assumptions.aws_request_seconds
        # payout check: its share of a bulk lookup and its AWS calls
        + shared_bigcommerce * standard.latency_seconds
        + payout_aws * assumptions.aws_request_seconds
    )
    backlog_minutes = 10_000 / standard.refunds_per_minute if standard.refunds_per_minute else 0.0
    secrets_calls = standard.workers * (backlog_minutes // assumptions.secret_cache_minutes + 1) / 10_000
    usage = PerRefund(
        lambda_seconds=lambda_seconds,
        lambda_invocations=standard.invocations / standard.synced if standard.synced else 1 / BATCH_SIZE,
        sqs_requests=consumer.aws.sqs_billed_requests / synced
        + poller.aws.sqs_billed_requests / poller.refunds,
        write_units=(consumer.aws.dynamodb_write_units + payout.aws.dynamodb_write_units) / synced
        + poller.aws.dynamodb_write_units / poller.refunds,
        read_units=float(consumer.aws.dynamodb_read_units + payout.aws.dynamodb_read_units) / synced
        + float(poller.aws.dynamodb_read_units) / poller.refunds,
        # A second payout run reads only refunds still unchecked (a sparse index): none, once all are checked
        payout_recheck_read_units=float(again.aws.dynamodb_read_units) / again.aws.items_scanned
        if again.aws.items_scanned
        else 0.0,
        secrets_calls=secrets_calls,
        log_bytes=(consumer.log_bytes + payout.log_bytes) / synced + poller.log_bytes / poller.refunds,
    )
    idle_poll = calls.phases["poller"]
    poller_run = PerRun(
        seconds=assumptions.run_overhead_seconds
        + assumptions.netsuite_page_seconds
        + sum(idle_poll.aws.requests.values()) * assumptions.aws_request_seconds,
        aws_write_units=2,  # the checkpoint: sweep start and sweep done (no index holds it)
        aws_read_units=1,  # the checkpoint
        secrets_calls=1,  # the cache (5 min) does not outlive the 5-minute period
        log_bytes=idle_poll.log_bytes,
    )
    payout_run = PerRun(
        seconds=assumptions.run_overhead_seconds
        + sum(again.aws.requests.values()) * assumptions.aws_request_seconds,
        aws_write_units=0,
        aws_read_units=0.5,  # an index query reading nothing still costs half a unit
        secrets_calls=1,
        log_bytes=again.log_bytes,
    )
    resources = template["Resources"].values()
    fixed = per_month(
        secrets=sum(1 for r in resources if r["Type"] == "AWS::SecretsManager::Secret"),
        alarms=sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"),
        dashboards=sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"),
        custom_metrics=len(calls.metrics),
        poller_run=poller_run,
        payout_check_run=payout_run,
        prices=prices,
        assumptions=assumptions,
    )
    variable = per_10k_refunds(usage, prices, assumptions)
    inputs = {"assumptions": assumptions, "prices": prices, "per_refund": usage, "poller_run": poller_run,
              "payout_check_run": payout_run}  # fmt: skip
    return variable, fixed, inputs


# -- output ---------------------------------------------------------------------------------------------
def markdown_table(rows: list[Row]) -> str:
    header = ("measure", "result", "target", "met?")
    lines = [f"| {' | '.join(header)} |", "|---|---|---|---|"]
    lines += [f"| {row.measure} | {row.result} | {row.target} | {row.met_text} |" for row in rows]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return value


def calls_details(calls: CallsResult) -> dict[str, Any]:
    return {
        "refunds": calls.refunds,
        "synced": calls.synced,
        "by_endpoint": dict(calls.by_endpoint),
        "statuses": dict(calls.statuses),
        "unused": {f"{unused.endpoint}: {unused.why}": n for unused, n in calls.unused.items()},
        "phases": {
            name: {
                "requests": dict(phase.aws.requests),
                "write_units": phase.aws.dynamodb_write_units,
                "read_units": phase.aws.dynamodb_read_units,
                "sqs_billed": phase.aws.sqs_billed_requests,
                "items_scanned": phase.aws.items_scanned,
                "log_bytes": phase.log_bytes,
                "invocations": phase.invocations,
            }
            for name, phase in calls.phases.items()
        },
        "metrics": sorted(name for name, _ in calls.metrics),
    }


def poller_details(poller: PollerResult) -> dict[str, Any]:
    return {
        "seconds": poller.seconds,
        "cpu_seconds": poller.cpu_seconds,
        "netsuite_calls": dict(poller.netsuite_calls),
        "aws": dict(poller.aws.requests),
        "enqueued": poller.enqueued,
        "page_size": poller.page_size,
    }


def cold_start_measure() -> ColdStartResult:
    return measure_cold_start(lambda step: print(f"  4. {step} ...", file=sys.stderr, flush=True))


def cold_start_only(path: Path) -> None:
    host = machine()
    started = time.perf_counter()
    result = cold_start_measure()
    print(
        f"refund-sync cold start, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {host['cpus']} x {host['cpu']}, "
        f"load {host['load_average_at_start']} at the start, {time.perf_counter() - started:.0f} s"
    )
    print(markdown_table(cold_start_rows(result)))
    path.with_name("cold-start.json").write_text(json.dumps(cold_start_details(result), indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=ROOT / ".benchmarks" / "report.json")
    parser.add_argument("--no-micro", action="store_true", help="skip the pytest-benchmark micro-benchmarks")
    parser.add_argument("--cold-start-only", action="store_true", help="measure 4 alone (about 4 minutes)")
    args = parser.parse_args(argv)
    if args.cold_start_only:
        cold_start_only(args.json)
        return
    args.json.parent.mkdir(parents=True, exist_ok=True)
    _quiet()
    started = time.perf_counter()
    host = machine()

    # Measures 1 and 2 count calls or run in virtual time: they run two at a time, in processes of
    # their own. The measures whose figures are times run afterwards, one by one.
    print("measuring: 1. calls per refund and 2. throughput (two processes) ...", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn"), initializer=_quiet) as pool:
        standard_run = pool.submit(partial(measure_throughput, refunds=2_000, quota=150))
        pro_run = pool.submit(partial(measure_throughput, refunds=600, quota=450))
        calls_run = pool.submit(measure_calls)
        standard, pro, calls = standard_run.result(), pro_run.result(), calls_run.result()
    print(f"  measures 1 and 2: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    poller = timed("3. poller, 10,000 refunds", measure_poller)
    cold_start = timed("4. cold start", cold_start_measure)
    cpu = timed("5. CPU per refund", partial(measure_cpu, refunds=120))
    variable, fixed, cost_inputs = cost_model(calls, standard, poller, cpu)
    micro = (
        []
        if args.no_micro
        else timed("micro-benchmarks", lambda: micro_rows(ROOT / ".benchmarks" / "micro.json"))
    )

    rows = [
        *calls_rows(calls),
        throughput_row(standard, "Standard/Plus"),
        throughput_row(pro, "Pro"),
        poller_row(poller),
        *cold_start_rows(cold_start),
        cpu_row(cpu),
        *cost_rows(variable, fixed),
        *micro,
    ]
    seconds = time.perf_counter() - started
    print(
        f"refund-sync benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {host['cpus']} x {host['cpu']}, "
        f"Python {host['python']}, load {host['load_average_at_start']}, {seconds:.0f} s"
    )
    print(markdown_table(rows))
    report = {
        "machine": host,
        "seconds": round(seconds, 1),
        "settings": {"page_size": Settings().netsuite_page_size},
        "rows": [asdict(row) for row in rows],
        "details": _plain(
            {
                "calls": calls_details(calls),
                "throughput": {"standard": standard, "pro": pro},
                "poller": poller_details(poller),
                "cold_start": cold_start_details(cold_start),
                "cpu": cpu,
                "cost": {"per_10k_refunds": variable, "per_month": fixed, "inputs": cost_inputs},
            }
        ),
    }
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results also in {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
