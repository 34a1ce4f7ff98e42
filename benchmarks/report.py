"""`make bench`: every measure of issue 7 in one table (measure, result, target, met?), also written as
JSON to .benchmarks/report.json. Benchmarks report; they never fail the build on a slow machine.

    python -m benchmarks.report [--json PATH] [--no-micro]

1. BigCommerce calls per synced refund (benchmarks/bigcommerce_calls.py)
2. throughput against the quota (benchmarks/throughput.py)
3. the poller paging 10,000 refunds (benchmarks/poller.py)
4. cold start: import time and package size (benchmarks/cold_start.py)
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
from benchmarks.cold_start import (
    POWERTOOLS,
    ImportTime,
    PackageSizes,
    handlers,
    measure_import,
    measure_sizes,
)
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
IMPORT_TARGET_MS = 300
SIZE_TARGET_BYTES = 5 * 1024 * 1024
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


def import_row(result: ImportTime) -> Row:
    heaviest = ", ".join(f"{name} {ms:.0f}" for name, ms in list(result.by_package.items())[:4])
    return Row(
        f"4. cold start: import {result.module} (median of {len(result.runs_ms)})",
        f"{result.median_ms:.0f} ms (ms: {heaviest}); +{result.compile_ms:.0f} ms on Lambda to compile "
        f"the {result.compiled_modules} modules its layers ship without .pyc",
        f"< {IMPORT_TARGET_MS} ms",
        result.median_ms < IMPORT_TARGET_MS,
    )


def size_rows(sizes: PackageSizes) -> list[Row]:
    rows = []
    biggest = ", ".join(
        f"{name} {size / MB:.1f}"
        for name, size in list(sizes.distributions.items())[:4]
        if name != POWERTOOLS
    )
    dependencies = sizes.folders.get("DependenciesLayer")
    shared = sizes.folders.get("SharedCodeLayer")
    if not sizes.folders:
        return [
            Row("4. package sizes", f"not measured: {sizes.note}", "< 5 MB beyond the Powertools layer", None)
        ]
    for function in sizes.functions:
        folder = sizes.folders[function]
        beyond = sizes.beyond_powertools(function)
        rows.append(
            Row(
                f"4. package size: {function}",
                f"function {folder.bytes / 1024:.1f} KB; "
                f"with its layers {beyond / MB:.1f} MB beyond Powertools",
                "< 5 MB beyond the Powertools layer",
                beyond < SIZE_TARGET_BYTES,
            )
        )
    if dependencies is not None and shared is not None:
        rows.append(
            Row(
                "4. layers (unzipped / zipped)",
                f"dependencies {dependencies.bytes / MB:.1f} / {dependencies.zipped / MB:.1f} MB "
                f"(MB: {biggest}; "
                f"{sizes.runtime_provided / MB:.1f} MB of it is the AWS SDK the runtime already has); "
                f"shared code {shared.bytes / 1024:.0f} / {shared.zipped / 1024:.0f} KB",
                "report",
                None,
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=ROOT / ".benchmarks" / "report.json")
    parser.add_argument("--no-micro", action="store_true", help="skip the pytest-benchmark micro-benchmarks")
    args = parser.parse_args(argv)
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
    imports = timed(
        "4. import times",
        lambda: [measure_import(name, module, runs=3) for name, module in handlers().items()],
    )
    sizes = timed("4. package sizes", measure_sizes)
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
        *(import_row(result) for result in imports),
        *size_rows(sizes),
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
                "imports": imports,
                "sizes": {"note": sizes.note, "folders": sizes.folders, "distributions": sizes.distributions},
                "cpu": cpu,
                "cost": {"per_10k_refunds": variable, "per_month": fixed, "inputs": cost_inputs},
            }
        ),
    }
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results also in {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
