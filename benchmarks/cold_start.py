"""Measure 4: cold start on the runtime's Python, from the built layout, today's layout beside it.

- Two builds: this tree's `sam build` (.aws-sam/build, rebuilt when older than the sources) and
  today's, the tree of BASELINE ($BENCH_BASELINE: a commit of the layout deployed before, by default the
  last one without bytecode in its layers) exported with `git archive` and built the same
  way into .aws-sam/bench-baseline/<commit> (kept: a commit never changes).
- Layout: each function as Lambda holds it (tests/packaging/layout.py): its code and layers, the
  runtime's AWS SDK beside them, run by CPython 3.13 with nothing else on its path.
- Import: a fresh interpreter per run imports the handler module (tests/packaging/lambda_process.py),
  with the bytecode and without it; median of 5. Today's layout ships no bytecode, so its "with
  bytecode" is compiled here to show that lever apart. The runs of all variants are interleaved, so
  the other users of this machine load them alike, and the 1-minute load average is noted with each.
- First event: import plus handling a sample event from events/ against a fresh sandbox (moto and the
  simulators), as the deployed layouts are; median of 3, sampled (X-Ray traces it) and not.
- Size: a function's code and its layers, less the aws-lambda-powertools distribution (its bytecode
  included); unzipped (what Lambda's 250 MB limit counts) and zipped (what is uploaded and fetched).
- CLI: `refund-sync --help` from the virtualenv (compiled), median of 5; today's from BASELINE's tree.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess  # nosec B404 # runs git, the SAM CLI and our own interpreters with fixed arguments
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.sandbox import Sandbox, running_sandbox
from refund_sync_sandbox.scenarios import scenarios, seed
from tests.packaging.layout import (
    BUILT_CACHE_TAG,
    EVENTS,
    ROOT,
    BuiltTemplate,
    Bytecode,
    FunctionLayout,
    Interpreter,
    current_build,
    distributions,
    lambda_python,
    lay_out,
    runtime_libraries,
    sam_build,
)

# The layout compared with: the last commit whose layers shipped without bytecode and with the AWS SDK.
BASELINE = os.environ.get("BENCH_BASELINE", "f98d4c51209c19f71d7148cecfa9c891f54aec88")
WORK = ROOT / ".aws-sam" / "bench-layouts"
POWERTOOLS = "aws-lambda-powertools"
IMPORT_RUNS = 5
EVENT_RUNS = 3
TRACE = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled={}"
# The sample event each function handles in "first event" (its schedule's Input for the payout check).
EVENT_OF = {
    "ConsumerFunction": "sqs-batch.json",
    "PollerFunction": "schedule.json",
    "PayoutCheckFunction": "payout-check.json",
}


def load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


@dataclass
class Timing:
    """Runs of one measure: wall clock, the process's CPU time (which other users of the machine
    disturb far less than the wall clock), and the machine's 1-minute load average at each."""

    runs_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def add(self, milliseconds: float, cpu_milliseconds: float) -> None:
        self.runs_ms.append(milliseconds)
        self.cpu_ms.append(cpu_milliseconds)
        self.loads.append(load())

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms) if self.runs_ms else float("nan")

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms) if self.cpu_ms else float("nan")

    @property
    def text(self) -> str:
        """The medians, e.g. 698 ms (CPU 610, load 1.2)."""
        return f"{self.median_ms:.0f} ms (CPU {self.median_cpu_ms:.0f}, {self.load_text})"

    @property
    def load_text(self) -> str:
        if not self.loads:
            return "load ?"
        low, high = min(self.loads), max(self.loads)
        return f"load {low:.1f}" if high - low < 0.05 else f"load {low:.1f}-{high:.1f}"


@dataclass
class FunctionColdStart:
    function: str
    module: str
    # (build, bytecode) -> import timings; build is "now" or "today"
    imports: dict[tuple[str, str], Timing] = field(default_factory=dict)
    # (build, sampled) -> import + first event
    first_event: dict[tuple[str, bool], Timing] = field(default_factory=dict)
    compiled_at_import: dict[tuple[str, str], int] = field(default_factory=dict)
    heaviest: dict[str, float] = field(default_factory=dict)  # now, with bytecode: ms per package


@dataclass(frozen=True)
class PackageSize:
    function: str
    build: str
    bytes: int  # code + layers - Powertools
    zipped: int
    bytecode: int  # of `bytes`, the .pyc files
    layers: list[str]
    biggest: dict[str, int]


@dataclass
class ColdStartResult:
    python: str
    baseline: str
    notes: list[str] = field(default_factory=list)
    functions: list[FunctionColdStart] = field(default_factory=list)
    sizes: list[PackageSize] = field(default_factory=list)
    cli_help: dict[str, Timing] = field(default_factory=dict)  # "now" / "today"


# -- builds -------------------------------------------------------------------------------------------------
def baseline_build(commit: str = BASELINE) -> Path:
    """Today's `sam build`: BASELINE's tree, exported and built with its own template and Makefiles."""
    folder = ROOT / ".aws-sam" / "bench-baseline" / commit[:12]
    build = folder / "build"
    if (build / "template.yaml").exists():
        return build
    source = folder / "source"
    shutil.rmtree(folder, ignore_errors=True)
    source.mkdir(parents=True)
    git = shutil.which("git") or "git"
    archive = subprocess.run(  # noqa: S603 # nosec B603 # git, fixed arguments
        [git, "archive", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tree:
        tree.extractall(source, filter="data")
    return sam_build(source, build)


def baseline_source(commit: str = BASELINE) -> Path:
    return ROOT / ".aws-sam" / "bench-baseline" / commit[:12] / "source"


# -- sizes --------------------------------------------------------------------------------------------------
def _files(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


def _zipped(folders: list[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            for path in _files(folder):
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


def package_size(
    template: BuiltTemplate, function: str, build: str, parameters: dict[str, str] | None = None
) -> PackageSize:
    layers = template.layers(function, parameters or {})
    folders = [template.code_dir(function), *(template.layer_dir(layer) for layer in layers)]
    files = [path for folder in folders for path in _files(folder)]
    total = sum(path.stat().st_size for path in files)
    bytecode = sum(
        path.stat().st_size
        for path in files
        if path.suffix == ".pyc" and "/aws_lambda_powertools/" not in str(path)  # beyond Powertools
    )
    by_distribution: dict[str, int] = {}
    for folder in folders:
        for distribution in distributions(folder / "python"):
            name = re.sub(r"[-_.]+", "-", distribution.name).lower()
            by_distribution[name] = distribution.size(BUILT_CACHE_TAG)
    powertools = by_distribution.pop(POWERTOOLS, 0)
    powertools_zipped = 0
    if powertools:
        packages = [folder / "python" / "aws_lambda_powertools" for folder in folders]
        powertools_zipped = _zipped([next(package for package in packages if package.is_dir())])
    biggest = dict(sorted(by_distribution.items(), key=lambda item: -item[1])[:4])
    return PackageSize(
        function, build, total - powertools, _zipped(folders) - powertools_zipped, bytecode, layers, biggest
    )


# -- runs ---------------------------------------------------------------------------------------------------
def _layouts(
    templates: dict[str, BuiltTemplate], interpreter: Interpreter, runtime: Path
) -> dict[tuple[str, str, str], FunctionLayout]:
    """(build, function, bytecode) -> layout; "with" is as deployed for now, compiled here for today."""
    made = {}
    for build, template in templates.items():
        for function in template.functions():
            with_bytecode = Bytecode.AS_BUILT if build == "now" else Bytecode.COMPILED
            for label, bytecode in (("with", with_bytecode), ("without", Bytecode.NONE)):
                folder = WORK / f"{build}-{function}-{label}"
                made[(build, function, label)] = lay_out(
                    template, function, folder, runtime=runtime, interpreter=interpreter, bytecode=bytecode
                )
    return made


def _heaviest(layout: FunctionLayout) -> dict[str, float]:
    """ms of each top-level package's own modules in one import (python -X importtime)."""
    stderr = layout.invoke(flags=("-X", "importtime")).stderr
    spent: dict[str, float] = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            own, _, name = line.removeprefix("import time:").split("|")
            if own.strip().isdigit():
                package = name.strip().split(".")[0]
                spent[package] = spent.get(package, 0.0) + int(own) / 1000
    return dict(sorted(spent.items(), key=lambda item: -item[1])[:5])


@contextmanager
def _sandbox_for(function: str) -> Iterator[Sandbox]:
    """A fresh sandbox holding what `function`'s sample event needs."""
    with running_sandbox() as sandbox:
        full_refund = scenarios()[0]  # order 5001, as events/sqs-batch.json's refund expects it
        if function == "ConsumerFunction":
            assert full_refund.order is not None
            sandbox.store.seed([full_refund.order])
        else:
            seed(sandbox.account, sandbox.store.seed, [full_refund])
        if function == "PayoutCheckFunction":  # something synced to check
            with function_logs_to(WORK / "seeding.log"):
                sandbox.run_poller()
                sandbox.drain()
        yield sandbox


def _first_event(layout: FunctionLayout, *, sampled: bool) -> tuple[float, float]:
    name = EVENT_OF.get(layout.function)
    if name is None:
        return float("nan"), float("nan")
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    with _sandbox_for(layout.function) as sandbox:
        environment = {**sandbox.environment(), "_X_AMZN_TRACE_ID": TRACE.format(int(sampled))}
        done = layout.invoke(event, environment={**environment, "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9"})
    return done.import_ms + (done.handle_ms or 0.0), done.import_cpu_ms + (done.handle_cpu_ms or 0.0)


def _cli_help(python: Path, pythonpath: list[Path] | None) -> tuple[float, float]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if pythonpath is not None:
        environment["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    # What the console script does (pip's entry point wrapper).
    script = (
        "import sys; from refund_sync_cli.entry import main; sys.argv[0] = 'refund-sync'; sys.exit(main())"
    )
    command = [str(python), "-c", script, "--help"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=environment, capture_output=True, check=True)  # noqa: S603 # nosec B603
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000


def _compile_tree(python: Path, folders: list[Path]) -> None:
    subprocess.run(  # noqa: S603 # nosec B603 # compileall, fixed arguments
        [str(python), "-m", "compileall", "-q", *map(str, folders)], capture_output=True, check=False
    )


def measure_cold_start(progress: Callable[[str], None] = lambda _: None) -> ColdStartResult:
    interpreter = lambda_python()
    result = ColdStartResult(interpreter.version, BASELINE[:12])
    if not interpreter.is_lambda_version:
        result.notes.append(f"no Python 3.13 here: measured on {interpreter.version}")
    progress("builds (sam build: this tree's if stale, today's once)")
    templates = {"now": BuiltTemplate.load(current_build()), "today": BuiltTemplate.load(baseline_build())}
    runtime = runtime_libraries(WORK, interpreter)
    progress("layouts")
    layouts = _layouts(templates, interpreter, runtime)
    functions = list(templates["now"].functions())
    handlers = templates["now"].functions()
    cold = {name: FunctionColdStart(name, handlers[name].rpartition(".")[0]) for name in functions}
    for build, template in templates.items():
        for function in template.functions():
            result.sizes.append(package_size(template, function, build))
    write_back = "WriteBackToNetSuite=true"
    result.sizes.append(
        package_size(templates["now"], "ConsumerFunction", write_back, dict([write_back.split("=")]))
    )
    progress(f"imports ({IMPORT_RUNS} rounds, every variant in each)")
    variants = [key for key in layouts if key[1] in cold]
    for _ in range(IMPORT_RUNS):
        for build, function, label in variants:
            done = layouts[(build, function, label)].invoke()
            timing = cold[function].imports.setdefault((build, label), Timing())
            timing.add(done.import_ms, done.import_cpu_ms)
            cold[function].compiled_at_import[(build, label)] = len(done.compiled)
    for function in functions:
        cold[function].heaviest = _heaviest(layouts[("now", function, "with")])
    progress(f"first events ({EVENT_RUNS} rounds)")
    for _ in range(EVENT_RUNS):
        for function in functions:
            for build, sampled in (("now", False), ("now", True), ("today", True)):
                deployed = layouts.get((build, function, "with" if build == "now" else "without"))
                if deployed is None:  # a function the baseline did not have
                    continue
                wall, cpu = _first_event(deployed, sampled=sampled)
                cold[function].first_event.setdefault((build, sampled), Timing()).add(wall, cpu)
    progress("refund-sync --help")
    venv_python = Path(sys.executable)
    old = baseline_source()
    old_paths = [old / "cli", old / "layers" / "shared", old / "sandbox", *(old / "functions").iterdir()]
    _compile_tree(venv_python, [ROOT / "cli", ROOT / "layers" / "shared", *old_paths])
    _cli_help(venv_python, None)  # a first run writes what bytecode is still missing
    for _ in range(IMPORT_RUNS):
        result.cli_help.setdefault("now", Timing()).add(*_cli_help(venv_python, None))
        result.cli_help.setdefault("today", Timing()).add(*_cli_help(venv_python, old_paths))
    result.functions = [cold[name] for name in functions]
    return result


def details(result: ColdStartResult) -> dict[str, Any]:
    """The JSON of it all, for .benchmarks/report.json."""

    def functions(cold: FunctionColdStart) -> dict[str, Any]:
        return {
            "imports": {f"{build} {label}": vars(t) for (build, label), t in cold.imports.items()},
            "first_event": {
                f"{build} {'sampled' if sampled else 'unsampled'}": vars(t)
                for (build, sampled), t in cold.first_event.items()
            },
            "compiled_at_import": {f"{b} {label}": n for (b, label), n in cold.compiled_at_import.items()},
            "heaviest_ms": cold.heaviest,
        }

    return {
        "python": result.python,
        "baseline": result.baseline,
        "notes": result.notes,
        "functions": {cold.function: functions(cold) for cold in result.functions},
        "sizes": [vars(size) for size in result.sizes],
        "cli_help": {build: vars(timing) for build, timing in result.cli_help.items()},
    }
