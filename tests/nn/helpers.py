"""Test helpers for modules: a model with a bit of everything, gradcheck through a module's parameters,
and loading torch state dicts."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_edu as tge
from tinygrad_edu import nn


def module_gradcheck(module: nn.Module, *inputs: Any, seed: int | None = None, **kwargs: Any) -> bool:
    """gradcheck of ``module(*inputs)`` in float64 against every parameter and every input that requires grad.

    gradcheck hands ``fn`` float64 copies of its inputs, so fn puts the copies of the parameters
    into the module for the call (and the originals back after). ``seed`` re-seeds before every
    call, which makes a module with dropout the same function each time.
    """
    module.double()
    owners = []
    for name, _ in module.named_parameters():
        *path, attr = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        owners.append((owner, attr))
    params = list(module.parameters())
    n_inputs = len(inputs)

    def fn(*args: Any) -> Any:
        saved = [owner._parameters[attr] for owner, attr in owners]
        for (owner, attr), p in zip(owners, args[n_inputs:]):
            owner._parameters[attr] = p
        try:
            if seed is not None:
                tge.manual_seed(seed)
            return module(*args[:n_inputs], **kwargs)
        finally:
            for (owner, attr), p in zip(owners, saved):
                owner._parameters[attr] = p

    return tge.gradcheck(fn, [*inputs, *params])


def load_torch(ours: nn.Module, theirs: Any) -> None:
    """Load a torch module's state dict, converted to NumPy arrays, into ours (strict)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def randn(*shape: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    """A NumPy array of standard normals (test data, independent of the library's generator)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


class Net(nn.Module):
    """A model with a bit of everything: submodules, containers, BatchNorm, its own buffers, a plain attribute."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.blocks = nn.ModuleList([nn.Linear(8, 8), nn.Dropout(0.5)])
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(8, 3))
        self.register_buffer("scale", tge.ones(3))
        self.register_buffer("cache", tge.zeros(2), persistent=False)
        self.note = "a plain attribute"

    def forward(self, x):
        x = self.bn(self.fc1(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale


TORCH_KEYS = [  # a module's own parameters and buffers come before its children's
    "scale",
    "fc1.weight",
    "fc1.bias",
    "bn.weight",
    "bn.bias",
    "bn.running_mean",
    "bn.running_var",
    "bn.num_batches_tracked",
    "blocks.0.weight",
    "blocks.0.bias",
    "head.1.weight",
    "head.1.bias",
]
