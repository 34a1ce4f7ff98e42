"""Each function laid out from a `sam build` as Lambda lays it out, to import and invoke on this machine.

Lambda extracts a function's code to /var/task and its layers, in order, to /opt; the python3.13 runtime
searches /var/task, then /opt/python/lib/python3.13/site-packages and /opt/python, then its own
libraries, the AWS SDK among them ("Working with .zip file archives for Python Lambda functions:
Dependency search path and runtime-included libraries"; "Packaging your layer content: Layer paths for
each Lambda runtime"). A FunctionLayout is that in a folder: task/, opt/ and runtime/, the SDK at the
versions layers/runtime/requirements.txt pins standing in for the runtime's. lambda_process.py runs it
in a CPython of the runtime's version, with no virtualenv or site-packages of this machine in sight.

One difference is forced: the layers hold manylinux aarch64 wheels, whose extension modules cannot load
here. Each distribution built for a platform (its WHEEL tag is not `-none-any`) is replaced by the same
version's wheel for this interpreter, byte-compiled as its layer was; the pure-Python rest is the
build's, byte for byte. Files are copied without their timestamps, as an extracted zip has its own:
bytecode that trusts the source's timestamp is stale here, as on Lambda.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import os
import py_compile
import shutil
import subprocess  # nosec B404 # runs the SAM CLI, uv and CPython with fixed arguments
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
RUNTIME_REQUIREMENTS = ROOT / "layers" / "runtime" / "requirements.txt"
RUNNER = Path(__file__).resolve().parent / "lambda_process.py"
SOURCES = ("template.yaml", "functions", "layers")
LAMBDA_PYTHON_VERSION = "3.13"
BUILT_CACHE_TAG = "cpython-313"  # the layers' bytecode, compiled by the runtime's version (layers/lambda.mk)
EVENTS = ROOT / "events"


class Bytecode(enum.Enum):
    AS_BUILT = "as built"  # whatever the build shipped (the replaced wheels compiled as their layer was)
    COMPILED = "compiled"  # every module compiled (unchecked-hash), whether the build did or not
    NONE = "none"  # no bytecode at all: every cold start compiles every module


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # "3.13"

    @property
    def is_lambda_version(self) -> bool:
        return self.version == LAMBDA_PYTHON_VERSION

    @property
    def cache_tag(self) -> str:
        return f"cpython-{self.version.replace('.', '')}"


@functools.cache
def lambda_python() -> Interpreter:
    """CPython 3.13: the Makefile's (LAMBDA_PYTHON), or as it finds one (layers/find-python.sh); else
    this interpreter's own version (the fallback)."""
    chosen = os.environ.get("LAMBDA_PYTHON", "")
    if chosen and Path(chosen).exists():
        version = subprocess.run(  # noqa: S603 # nosec B603 # the interpreter make chose
            [chosen, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return Interpreter(Path(chosen), version)
    found = subprocess.run(  # noqa: S603 # nosec B603 # our own script
        ["sh", str(ROOT / "layers" / "find-python.sh"), LAMBDA_PYTHON_VERSION],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if found:
        return Interpreter(Path(found), LAMBDA_PYTHON_VERSION)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    base = Path(sys.base_prefix) / "bin" / f"python{version}"
    return Interpreter(base if base.exists() else Path(sys.executable), version)


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv is not installed (make installs it in .venv)")
    return found


# -- the build ---------------------------------------------------------------------------------------------
def newest_source_mtime(root: Path = ROOT) -> float:
    newest = 0.0
    for source in SOURCES:
        path = root / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files if "__pycache__" not in f.parts)])
    return newest


def sam_build(root: Path, build_dir: Path) -> Path:
    """`sam build` of the project at `root` (its template, its Makefiles) into `build_dir`."""
    done = subprocess.run(  # noqa: S603 # nosec B603 # the project's pinned SAM CLI, fixed arguments
        [str(SAM), "build", "--no-cached", "--build-dir", str(build_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"},
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"sam build failed in {root}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return build_dir


def current_build() -> Path:
    """.aws-sam/build, built anew when older than the template, the functions or the layers."""
    marker = BUILD / "template.yaml"
    if not marker.exists() or marker.stat().st_mtime < newest_source_mtime():
        if not SAM.exists():
            raise FileNotFoundError("no SAM CLI in .venv-sam: run `make build` (or `make test`)")
        sam_build(ROOT, BUILD)
    return BUILD


# -- the built template -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuiltTemplate:
    """template.yaml as `sam build` wrote it: CodeUri and ContentUri name folders of the build."""

    build_dir: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, build_dir: Path) -> BuiltTemplate:
        document = yaml.safe_load((build_dir / "template.yaml").read_text(encoding="utf-8"))
        return cls(build_dir, document)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.document["Resources"]
        return resources

    def functions(self) -> dict[str, str]:
        """Each function's logical id and handler (module.function)."""
        return {
            name: resource["Properties"]["Handler"]
            for name, resource in self.resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        }

    def layers(self, function: str, parameters: Mapping[str, str] = {}) -> list[str]:  # read only
        """The function's layers in order (Globals first, as SAM merges them), conditions resolved."""
        own = self.resources[function]["Properties"].get("Layers", [])
        shared = self.document.get("Globals", {}).get("Function", {}).get("Layers", [])
        chosen = [self._value(entry, parameters) for entry in [*shared, *own]]
        return [layer for layer in chosen if layer is not None]

    def layer_dir(self, layer: str) -> Path:
        return self.build_dir / str(self.resources[layer]["Properties"]["ContentUri"])

    def code_dir(self, function: str) -> Path:
        return self.build_dir / str(self.resources[function]["Properties"]["CodeUri"])

    def _value(self, node: Any, parameters: Mapping[str, str]) -> Any:
        """The few intrinsic functions a Layers list or a condition uses."""
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                if value == "AWS::NoValue":
                    return None
                if value in self.document.get("Parameters", {}):
                    return parameters.get(value, self.document["Parameters"][value].get("Default"))
                return value  # a resource's logical id
            if key == "Fn::If":
                condition, when_true, when_false = value
                chosen = when_true if self.condition(condition, parameters) else when_false
                return self._value(chosen, parameters)
            if key == "Fn::Equals":
                left, right = (str(self._value(side, parameters)) for side in value)
                return left == right
            if key == "Fn::Not":
                return not self._value(value[0], parameters)
            if key == "Fn::And":
                return all(self._value(item, parameters) for item in value)
            if key == "Fn::Or":
                return any(self._value(item, parameters) for item in value)
            if key == "Condition":
                return self.condition(value, parameters)
        return node

    def condition(self, name: str, parameters: Mapping[str, str]) -> bool:
        return bool(self._value(self.document["Conditions"][name], parameters))


# -- distributions ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Distribution:
    site: Path
    dist_info: Path

    @property
    def name(self) -> str:
        return self._metadata("Name")

    @property
    def version(self) -> str:
        return self._metadata("Version")

    @property
    def platform_specific(self) -> bool:
        """Built for one platform: a wheel tag other than py3-none-any (an extension module inside)."""
        wheel = (self.dist_info / "WHEEL").read_text(encoding="utf-8").splitlines()
        tags = [line.split(":", 1)[1].strip() for line in wheel if line.startswith("Tag:")]
        return any(not tag.endswith("-any") for tag in tags)

    def files(self) -> list[Path]:
        """The files the wheel installed (its RECORD), bytecode beside them not included."""
        record = (self.dist_info / "RECORD").read_text(encoding="utf-8").splitlines()
        paths = (line.rsplit(",", 2)[0] for line in record if line.strip())
        return [self.site / path for path in paths if not path.startswith("..")]

    def size(self, cache_tag: str) -> int:
        """Bytes of the distribution's files, the bytecode compiled beside them included."""
        total = 0
        for path in self.files():
            if path.is_file():
                total += path.stat().st_size
                cached = _cached(path, cache_tag)
                if cached is not None and cached.is_file():
                    total += cached.stat().st_size
        return total

    def _metadata(self, field_name: str) -> str:
        for line in (self.dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
            if line.startswith(f"{field_name}:"):
                return line.split(":", 1)[1].strip()
        raise ValueError(f"{self.dist_info} has no {field_name}")


def distributions(site: Path) -> list[Distribution]:
    infos = sorted(site.glob("*.dist-info"))
    return [Distribution(site, info) for info in infos if (info / "RECORD").exists()]


def _cached(path: Path, cache_tag: str) -> Path | None:
    if path.suffix != ".py":
        return None
    return path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc"


def _compile(paths: Iterator[Path] | list[Path], cache_tag: str) -> None:
    """Compile as layers/lambda.mk does: unchecked-hash pycs, used without a look at their source."""
    for path in paths:
        cached = _cached(path, cache_tag)
        if cached is not None and path.is_file() and not cached.exists():
            py_compile.compile(
                str(path),
                cfile=str(cached),
                doraise=False,
                quiet=2,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )


def _replace_for_this_machine(distribution: Distribution, interpreter: Interpreter) -> None:
    """The same version's wheel for this interpreter and platform, in place of the build's."""
    old_files = distribution.files()
    had_bytecode = any(
        (cached := _cached(path, BUILT_CACHE_TAG)) is not None and cached.exists() for path in old_files
    )
    pin = f"{distribution.name}=={distribution.version}"
    for path in old_files:
        cached = _cached(path, BUILT_CACHE_TAG)
        for stale in (path, cached):
            if stale is not None and stale.is_file():
                stale.unlink()
    shutil.rmtree(distribution.dist_info, ignore_errors=True)
    command = [uv(), "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:"]
    command += ["--python", str(interpreter.path), "--target", str(distribution.site), pin]
    done = subprocess.run(  # noqa: S603 # nosec B603 # uv, fixed arguments
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"cannot install {pin} for this machine: {done.stderr.strip()}")
    if had_bytecode:
        name = distribution.name.lower()
        (replaced,) = (d for d in distributions(distribution.site) if d.name.lower() == name)
        _compile(replaced.files(), interpreter.cache_tag)


def _copy_tree(source: Path, destination: Path) -> None:
    # shutil.copy, not copy2: the files get new timestamps, as when Lambda extracts the zip.
    shutil.copytree(source, destination, dirs_exist_ok=True, copy_function=shutil.copy)


# -- the runtime's own libraries ----------------------------------------------------------------------------
def runtime_libraries(cache_root: Path, interpreter: Interpreter) -> Path:
    """The AWS SDK as the runtime holds it (pip-installed, with its bytecode), made once per pin set."""
    pins = RUNTIME_REQUIREMENTS.read_bytes()
    key = hashlib.sha256(pins + interpreter.version.encode()).hexdigest()[:12]
    target = cache_root / f"runtime-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    command = [uv(), "pip", "install", "--quiet", "--no-deps", "--python", str(interpreter.path)]
    command += ["--target", str(target), "-r", str(RUNTIME_REQUIREMENTS)]
    subprocess.run(  # noqa: S603 # nosec B603 # uv, fixed arguments
        command,
        check=True,
        capture_output=True,
    )
    subprocess.run(  # noqa: S603 # nosec B603 # compileall, fixed arguments
        [str(interpreter.path), "-m", "compileall", "-q", "-j", "0", str(target)],
        check=True,
        capture_output=True,
    )
    (target / ".complete").touch()
    return target


# -- the layout ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Invocation:
    """What lambda_process.py reported of one cold start."""

    import_ms: float
    import_cpu_ms: float
    handle_ms: float | None
    handle_cpu_ms: float | None
    response: Any
    compiled: list[str]  # modules compiled from source (no usable bytecode)
    modules: dict[str, str | None]  # every module imported, and its file
    stdout: str
    stderr: str
    python: str


@dataclass(frozen=True)
class FunctionLayout:
    function: str
    handler: str
    root: Path
    interpreter: Interpreter
    runtime: Path
    layers: list[str] = field(default_factory=list)

    @property
    def task(self) -> Path:
        return self.root / "task"

    @property
    def opt(self) -> Path:
        return self.root / "opt"

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    def search_path(self) -> tuple[list[str], list[str]]:
        """What the runtime puts before and after the standard library on sys.path."""
        site = self.opt / "python" / "lib" / f"python{self.interpreter.version}" / "site-packages"
        return [str(self.task), str(site), str(self.opt / "python")], [str(self.runtime)]

    def importable(self, top_level: str) -> bool:
        """Whether a top-level module or package is in this function's code or layers."""
        before, _ = self.search_path()
        return any(
            (Path(folder) / top_level).is_dir() or (Path(folder) / f"{top_level}.py").is_file()
            for folder in before
        )

    def lambda_environment(self) -> dict[str, str]:
        """The variables Lambda defines for every function ("Defined runtime environment variables")."""
        return {
            "LAMBDA_TASK_ROOT": str(self.task),
            "LAMBDA_RUNTIME_DIR": str(self.runtime),
            "AWS_LAMBDA_FUNCTION_NAME": self.function,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{LAMBDA_PYTHON_VERSION}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "_HANDLER": self.handler,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root),  # no ~/.aws of this machine
        }

    def invoke(
        self,
        event: Any = None,
        *,
        environment: Mapping[str, str] = {},  # read only
        timeout_seconds: float = 120,
        flags: tuple[str, ...] = (),
    ) -> Invocation:
        """A cold start in a fresh interpreter: import the handler and, given an event, invoke it."""
        before, after = self.search_path()
        spec = {
            "before": before,
            "after": after,
            "handler": self.handler,
            "function_name": self.function,
            "event": event,
            "timeout_seconds": timeout_seconds,
        }
        with tempfile.TemporaryDirectory(prefix="invocation-") as scratch:
            spec_path, result_path = Path(scratch) / "spec.json", Path(scratch) / "result.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            command = [str(self.interpreter.path), "-I", "-S", "-B", *flags, str(RUNNER)]
            done = subprocess.run(  # noqa: S603 # nosec B603 # CPython on our own runner script
                [*command, str(spec_path), str(result_path)],
                env={**self.lambda_environment(), **environment},
                capture_output=True,
                text=True,
                timeout=timeout_seconds + 60,
                check=False,
            )
            if not result_path.exists():
                raise RuntimeError(f"{self.function} did not start:\n{done.stderr[-3000:]}")
            result = json.loads(result_path.read_text(encoding="utf-8"))
        if "error" in result:
            raise RuntimeError(f"{self.function} failed:\n{result['error']}\n{done.stdout[-3000:]}")
        return Invocation(
            import_ms=result["import_ms"],
            import_cpu_ms=result["import_cpu_ms"],
            handle_ms=result.get("handle_ms"),
            handle_cpu_ms=result.get("handle_cpu_ms"),
            response=result.get("response"),
            compiled=result["compiled"],
            modules=result["modules"],
            stdout=done.stdout,
            stderr=done.stderr,
            python=result["python"],
        )


def lay_out(
    template: BuiltTemplate,
    function: str,
    destination: Path,
    *,
    runtime: Path,
    interpreter: Interpreter | None = None,
    parameters: Mapping[str, str] = {},  # read only
    bytecode: Bytecode = Bytecode.AS_BUILT,
) -> FunctionLayout:
    """`function` as Lambda would hold it, in `destination` (emptied first)."""
    interpreter = interpreter or lambda_python()
    shutil.rmtree(destination, ignore_errors=True)
    layers = template.layers(function, parameters)
    layout = FunctionLayout(
        function, template.functions()[function], destination, interpreter, runtime, layers
    )
    _copy_tree(template.code_dir(function), layout.task)
    layout.opt.mkdir(parents=True)
    for layer in layers:
        _copy_tree(template.layer_dir(layer), layout.opt)
    for site in (layout.opt / "python", layout.task):
        for distribution in distributions(site):
            if distribution.platform_specific:
                _replace_for_this_machine(distribution, interpreter)
    code = [layout.task, layout.opt]
    if bytecode is Bytecode.NONE:
        for folder in code:
            for cache in list(folder.rglob("__pycache__")):
                shutil.rmtree(cache)
    elif bytecode is Bytecode.COMPILED:
        for folder in code:
            _compile(list(folder.rglob("*.py")), interpreter.cache_tag)
    return layout


def pyc_flags(path: Path) -> int:
    """The flags word of a pyc's header (PEP 552): 0 timestamp, 0b01 unchecked hash, 0b11 checked hash."""
    with path.open("rb") as stream:
        header = stream.read(8)
    return int.from_bytes(header[4:8], "little")
