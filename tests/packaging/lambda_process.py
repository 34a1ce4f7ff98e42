"""One cold start of a function, as Lambda's Python runtime performs it: import the handler's module,
then (optionally) hand it one event. Runs in a fresh interpreter started as

    python -I -S -B lambda_process.py SPEC.json RESULT.json

-I and -S keep every virtualenv and site-packages of this machine out; -B writes no bytecode, as
nothing can be written to Lambda's read-only /var/task and /opt. The spec names the paths to search
before and after the standard library (the function's code and layers; the runtime's own libraries),
the handler, and the event. Standard library only, and little of it (json, time, traceback, as the
runtime's own bootstrap loads before the handler): the rest counts towards the handler's import.

The result records how long the import and the handling took (wall clock, and this process's CPU
time, which other users of the machine disturb far less), what the handler returned, each module
imported and its file, and every module compiled from source on the way (a module without usable
bytecode is compiled at each cold start).
"""

from __future__ import annotations

import _frozen_importlib_external  # the import system's own loaders, already loaded at start-up
import importlib
import json
import os
import sys
import time
import traceback


class Context:
    """What Lambda's context object offers the handler (and Powertools)."""

    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = os.urandom(16).hex()
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "smoke"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _count_compilations(compiled: list[str]) -> None:
    loader = _frozen_importlib_external.SourceLoader
    compile_source = loader.source_to_code

    def source_to_code(self: object, data: object, path: object, *, _optimize: int = -1) -> object:
        compiled.append(str(path))
        return compile_source(self, data, path, _optimize=_optimize)  # type: ignore[arg-type]

    loader.source_to_code = source_to_code  # type: ignore[method-assign,assignment]


def main(spec_path: str, result_path: str) -> int:
    with open(spec_path, encoding="utf-8") as stream:
        spec = json.load(stream)
    sys.path[:] = [*spec["before"], *sys.path, *spec["after"]]
    compiled: list[str] = []
    _count_compilations(compiled)
    module_name, _, function_name = spec["handler"].rpartition(".")
    result: dict[str, object] = {"python": "{}.{}".format(*sys.version_info[:2])}
    try:
        started, started_cpu = time.perf_counter(), time.process_time()
        module = importlib.import_module(module_name)
        result["import_ms"] = (time.perf_counter() - started) * 1000
        result["import_cpu_ms"] = (time.process_time() - started_cpu) * 1000
        result["compiled_at_import"] = len(compiled)
        if spec.get("event") is not None:
            handler = getattr(module, function_name)
            context = Context(spec["function_name"], spec.get("timeout_seconds", 120), 512)
            started, started_cpu = time.perf_counter(), time.process_time()
            result["response"] = handler(spec["event"], context)
            result["handle_ms"] = (time.perf_counter() - started) * 1000
            result["handle_cpu_ms"] = (time.process_time() - started_cpu) * 1000
    except BaseException:  # reported to the parent, whatever it was
        result["error"] = traceback.format_exc()
    result["compiled"] = compiled
    result["modules"] = {
        name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())
    }
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump(result, stream, default=str)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
