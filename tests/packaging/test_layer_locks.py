"""The layers' pins: one lock (layers/constraints.txt), split by layer with no package in two places.

`make lock` writes them all (layers/lock.py); these tests catch a hand edit that breaks the split: a
layer's pin that differs from the lock, a package two layers both carry (which copy wins on Lambda
would depend on the order the layers are extracted in), or the runtime's AWS SDK creeping into a layer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

LAYERS = Path(__file__).resolve().parents[2] / "layers"
DEPLOYED = ("dependencies", "netsuite-auth")  # in stack order; runtime/ is what Lambda provides


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==(\S+)$", line.strip()):
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


LOCK = pins(LAYERS / "constraints.txt")


@pytest.mark.parametrize("layer", [*DEPLOYED, "runtime"])
def test_every_layer_pins_what_the_lock_pins(layer: str) -> None:
    own = pins(LAYERS / layer / "requirements.txt")
    assert own
    assert {name: LOCK.get(name) for name in own} == own


def test_no_package_is_in_two_layers_and_none_is_the_runtime_s() -> None:
    runtime = set(pins(LAYERS / "runtime" / "requirements.txt"))
    assert {"boto3", "botocore", "urllib3"} <= runtime
    seen: dict[str, str] = {}
    for layer in DEPLOYED:
        for name in pins(LAYERS / layer / "requirements.txt"):
            assert name not in runtime, f"{layer} carries {name}, which the runtime provides"
            assert name not in seen, f"{name} is in both {seen.get(name)} and {layer}"
            seen[name] = layer
    assert set(seen) | runtime == set(LOCK)


def test_the_netsuite_authentication_stack_is_its_own_layer() -> None:
    authentication = {"cryptography", "pyjwt", "requests-oauthlib"}
    assert authentication <= set(pins(LAYERS / "netsuite-auth" / "requirements.txt"))
    assert not authentication & set(pins(LAYERS / "dependencies" / "requirements.txt"))
