"""Running the CLI the way a user does (arguments in, exit code and output out), in-process."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from refund_sync_cli.main import app

# Wide enough that tables do not wrap words the tests look for; no target from the developer's shell.
ENVIRONMENT: dict[str, str | None] = {
    "COLUMNS": "220",
    "REFUND_SYNC_STACK": None,
    "REFUND_SYNC_SANDBOX_FILE": None,
}


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner(env={**ENVIRONMENT, **(env or {})}).invoke(app, list(args))
    # A command ends by exiting (0, 1 or 2); anything else escaping it is a bug worth its traceback.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def json_of(result: Result) -> Any:
    return json.loads(result.stdout)
