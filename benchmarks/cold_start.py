"""Measure 4: cold start. How long each function's handler module takes to import, and how big each
function's deployment is.

- Import time: `python -X importtime -c 'import <handler module>'` in a fresh interpreter, the
  cumulative time of the handler's top-level import; the median of three runs (bytecode cached), and
  which packages the time went to (each module's own time, added up by package).
- Bytecode: the built layers carry no .pyc (they are built for python3.13 by a pip that is not
  3.13), and /opt is read-only on Lambda, so every cold start compiles the source of every module it
  imports from a layer. That cost is measured apart: compile() of each imported non-stdlib module.
- Size: `sam build` into .aws-sam/bench-build (only when missing or older than the sources), then
  each function's and layer's folder, unzipped and zipped; the dependencies layer by distribution.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import statistics
import subprocess  # nosec B404 # runs our own interpreter and the SAM CLI
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from refund_sync_sandbox.aws import load_template

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / ".aws-sam" / "bench-build"  # beside `make build`'s own, where tools already look away
SAM = ROOT / ".venv-sam" / "bin" / "sam"
SOURCES = ("template.yaml", "functions", "layers")
POWERTOOLS = "aws-lambda-powertools"
# What the python3.13 Lambda runtime already provides (the AWS SDK and its dependencies).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)

_COMPILE_SCRIPT = """
import json, sys, sysconfig, time
import {module}
stdlib = sysconfig.get_paths()["stdlib"]
seconds = 0.0
count = 0
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    if not path.endswith(".py") or path.startswith(stdlib + "/") and "site-packages" not in path:
        continue
    with open(path, "rb") as source:
        text = source.read()
    started = time.perf_counter()
    compile(text, path, "exec")
    seconds += time.perf_counter() - started
    count += 1
print(json.dumps({{"seconds": seconds, "modules": count}}))
"""


@dataclass(frozen=True)
class ImportTime:
    function: str
    module: str
    runs_ms: list[float]
    compile_ms: float  # compiling the imported non-stdlib modules: paid on Lambda, where layers have no .pyc
    compiled_modules: int
    by_package: dict[str, float]  # the heaviest packages: ms importing their own modules, mean of the runs

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)


@dataclass(frozen=True)
class Folder:
    name: str
    bytes: int
    zipped: int


@dataclass
class PackageSizes:
    build_dir: Path
    built_now: bool
    note: str
    folders: dict[str, Folder] = field(default_factory=dict)
    distributions: dict[str, int] = field(default_factory=dict)  # bytes per distribution in the layer
    functions: list[str] = field(default_factory=list)

    def beyond_powertools(self, function: str) -> int:
        """What one function deploys besides Powertools: its code, the shared layer, other dependencies."""
        layers = sum(f.bytes for name, f in self.folders.items() if name.endswith("Layer"))
        return self.folders[function].bytes + layers - self.distributions.get(POWERTOOLS, 0)

    @property
    def runtime_provided(self) -> int:
        return sum(size for name, size in self.distributions.items() if name in RUNTIME_PROVIDED)


def handlers() -> dict[str, str]:
    """Each function's logical id and handler module, from template.yaml."""
    resources = load_template()["Resources"]
    return {
        name: resource["Properties"]["Handler"].rsplit(".", 1)[0]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _top_level_import_us(stderr: str, module: str) -> int:
    """The cumulative microseconds of `module` and its parent packages, imported at the top level."""
    wanted = {".".join(module.split(".")[: i + 1]) for i in range(module.count(".") + 1)}
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith(" ") or name.startswith("  "):
            continue  # nested imports (indented) are inside their parent's cumulative time
        if name.strip() in wanted and cumulative.strip().isdigit():
            total += int(cumulative)
    return total


def measure_import(function: str, module: str, runs: int = 3) -> ImportTime:
    """A first run imports the module (writing its .pyc files) and times compile() of everything it
    imported; then `runs` runs under -X importtime, their median taken."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    first = subprocess.run(  # noqa: S603 # nosec B603 # our own interpreter, our own script
        [sys.executable, "-c", _COMPILE_SCRIPT.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    compiled = json.loads(first.stdout.strip().splitlines()[-1])
    timings = []
    heaviest: Counter[str] = Counter()
    for _ in range(runs):
        done = subprocess.run(  # noqa: S603 # nosec B603 # our own interpreter, fixed arguments
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        timings.append(_top_level_import_us(done.stderr, module) / 1000)
        heaviest.update(_self_time_by_package(done.stderr, module))
    by_package = {name: us / runs / 1000 for name, us in heaviest.most_common(5)}
    return ImportTime(function, module, timings, compiled["seconds"] * 1000, compiled["modules"], by_package)


def _self_time_by_package(stderr: str, module: str) -> Counter[str]:
    """Microseconds each package spent importing its own modules (self times add up), counting only
    what the handler's import brought in (not the interpreter's start-up, nor the compile script's)."""
    spent: Counter[str] = Counter()
    wanted = {".".join(module.split(".")[: i + 1]) for i in range(module.count(".") + 1)}
    block: list[tuple[str, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue
        block.append((name.strip().split(".")[0], int(own)))
        if name.startswith(" ") and not name.startswith("  "):  # a top-level import closes its block
            if name.strip() in wanted:
                for package, microseconds in block:
                    spent[package] += microseconds
            block = []
    return spent


def _newest_source_mtime() -> float:
    newest = 0.0
    for source in SOURCES:
        path = ROOT / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files if "__pycache__" not in f.parts)])
    return newest


def _build() -> tuple[Path, bool, str]:
    marker = BUILD_DIR / "template.yaml"
    if marker.exists() and marker.stat().st_mtime >= _newest_source_mtime():
        return BUILD_DIR, False, "reused .aws-sam/bench-build (newer than the sources)"
    try:
        done = subprocess.run(  # noqa: S603 # nosec B603 # the project's pinned SAM CLI, fixed arguments
            [str(SAM), "build", "--no-cached", "--build-dir", str(BUILD_DIR)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
            check=False,
        )
        failure = done.stderr.strip()[-200:] if done.returncode else ""
    except OSError as error:  # no SAM CLI installed
        failure = str(error)
    if not failure:
        return BUILD_DIR, True, "sam build --no-cached into .aws-sam/bench-build"
    fallback = ROOT / ".aws-sam" / "build"
    if fallback.exists():
        return fallback, False, f"sam build failed ({failure}); measured the older .aws-sam/build"
    raise FileNotFoundError(f"sam build failed and there is no earlier build: {failure}")


def _folder(path: Path) -> Folder:
    files = [p for p in path.rglob("*") if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(path))
    return Folder(path.name, sum(f.stat().st_size for f in files), buffer.tell())


def _distribution_sizes(site: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for distribution in importlib.metadata.distributions(path=[str(site)]):
        total = 0
        for file in distribution.files or []:
            located = Path(str(distribution.locate_file(file)))
            if located.is_file():
                total += located.stat().st_size
        sizes[distribution.metadata["Name"].lower().replace("_", "-")] = total
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


def measure_sizes() -> PackageSizes:
    functions = list(handlers())
    try:
        build_dir, built_now, note = _build()
    except FileNotFoundError as error:
        return PackageSizes(BUILD_DIR, False, str(error), functions=functions)
    sizes = PackageSizes(build_dir, built_now, note, functions=functions)
    # Zipping 50 MB takes a while: the figures of an unchanged build are kept beside it.
    cache = build_dir / "bench-sizes.json"
    template = build_dir / "template.yaml"
    if not built_now and cache.exists() and cache.stat().st_mtime >= template.stat().st_mtime:
        cached = json.loads(cache.read_text())
        sizes.folders = {name: Folder(**folder) for name, folder in cached["folders"].items()}
        sizes.distributions = cached["distributions"]
        return sizes
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        sizes.folders[folder.name] = _folder(folder)
    dependencies = build_dir / "DependenciesLayer" / "python"
    if dependencies.exists():
        sizes.distributions = _distribution_sizes(dependencies)
    folders = {
        name: {"name": f.name, "bytes": f.bytes, "zipped": f.zipped} for name, f in sizes.folders.items()
    }
    cache.write_text(json.dumps({"folders": folders, "distributions": sizes.distributions}))
    return sizes
