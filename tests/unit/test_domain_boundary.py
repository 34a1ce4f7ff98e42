"""The domain imports nothing from outside it: no settings, no adapters, no services, no I/O libraries.

Policy enums the mapping needs live in the domain; the settings translate into them at the edge.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import refund_sync.domain

DOMAIN = Path(refund_sync.domain.__file__).parent
ALLOWED_THIRD_PARTY = {"pydantic"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def outside_the_domain(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if module == "refund_sync.domain" or module.startswith("refund_sync.domain."):
        return False
    if top in sys.stdlib_module_names or top == "__future__":
        return False
    return top not in ALLOWED_THIRD_PARTY


def test_no_domain_module_imports_settings_adapters_services_or_io_libraries() -> None:
    offenders = {
        f"{path.name}: {module}"
        for path in sorted(DOMAIN.glob("*.py"))
        for module in imported_modules(path)
        if outside_the_domain(module)
    }
    assert offenders == set()


def test_the_check_notices_an_import_of_the_settings() -> None:
    # A test that can fail: the same rule flags exactly what the domain once imported.
    assert outside_the_domain("refund_sync.config")
    assert outside_the_domain("refund_sync.adapters.bigcommerce")
    assert outside_the_domain("requests")
    assert not outside_the_domain("refund_sync.domain.money")
    assert not outside_the_domain("decimal")
