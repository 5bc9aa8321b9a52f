"""Tensor.cuda(device) and Module.cuda(device) take PyTorch's device argument (an index, a string, a device);
d2l's "GPUs" chapter calls X.cuda(1)."""

from __future__ import annotations

import importlib.util

import pytest

import tinygrad_edu as tge


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: cuda works here")
@pytest.mark.parametrize("device", [None, 0, 1, "cuda:1", tge.device("cuda", 1)])
def test_without_a_gpu_every_form_says_what_is_missing(device):
    args = () if device is None else (device,)
    with pytest.raises(RuntimeError, match="needs CuPy"):
        tge.ones(2).cuda(*args)
    with pytest.raises(RuntimeError, match="needs CuPy"):
        tge.nn.Linear(2, 2).cuda(*args)
