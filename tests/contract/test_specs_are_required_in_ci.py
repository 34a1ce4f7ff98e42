"""Contract tests skip on a developer's machine without BigCommerce's spec, but fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from .bigcommerce_spec import SPEC_DIR_ENV, specs_or_skip


@pytest.fixture
def no_specs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SPEC_DIR_ENV, str(tmp_path))
    for name in ("CI", "REFUND_SYNC_REQUIRE_SPECS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_specs_here")
def test_without_the_spec_a_developers_run_skips_saying_why() -> None:
    with pytest.raises(pytest.skip.Exception, match="unavailable"):
        specs_or_skip()


@pytest.mark.usefixtures("no_specs_here")
@pytest.mark.parametrize("variable", ["CI", "REFUND_SYNC_REQUIRE_SPECS"])
def test_without_the_spec_a_ci_run_fails(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs them"):
        specs_or_skip()
