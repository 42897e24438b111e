"""Shared fixtures: the reference numbers and CPU-only, quiet defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# ../shared/reference beside the checkout (CI lays shared/ beside the clone).
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vgg_reference.json"


@pytest.fixture(scope="session")
def shared_reference() -> dict:
    """Load the public reference numbers from ../shared/reference (skip where it is not laid out)."""
    if not REFERENCE.exists():
        pytest.skip(f"reference file not found at {REFERENCE}")
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="session")
def reference() -> dict:
    """Load the reference numbers: ../shared's, or in a lone clone the packaged copy.

    test_packaged_reference_is_the_shared_one checks the two are equal wherever both exist, so a
    clone without ../shared still checks every figure instead of skipping those tests.
    """
    if REFERENCE.exists():
        return json.loads(REFERENCE.read_text())
    from vggablate.reference import load_reference

    return load_reference()


def pytest_collection_modifyitems(config, items):
    """Skip tests marked gpu when CUDA is absent."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
