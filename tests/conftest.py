"""Shared test settings: hypothesis profiles and the gpu marker.

Profiles: "default" (quick, used by CI) and "thorough" (HYPOTHESIS_PROFILE=thorough pytest).
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # CI sees the same examples every run
)
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _gpu_reason() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install -e '.[cuda]' on a machine with an NVIDIA GPU)"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "CuPy found no GPU on this machine"
    except Exception as e:  # no driver
        return f"CuPy found no usable GPU ({type(e).__name__})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _gpu_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"gpu test skipped: {reason}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_and_kernels():
    """Every test starts from a fixed seed and the numpy kernels, and leaves them so."""
    import tinygrad_edu as tge

    tge.manual_seed(0)
    if "torch" in sys.modules:  # PyTorch draws the weights many comparisons copy: seeded too, so runs repeat
        sys.modules["torch"].manual_seed(0)
    with tge.kernels.use("numpy"):
        yield
