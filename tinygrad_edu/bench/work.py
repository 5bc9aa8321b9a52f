"""What the benchmark measures: the cases, and the work of one line (a backend or PyTorch) for each.

- matmul: C = A @ B for n×n fp32 matrices, through the kernel table (``kernels.get(name).matmul``),
  torch.mm, or cupy.matmul (cuBLAS, on a GPU); 2·n³ flops;
- conv: y = F.conv2d(x, w, b) and its backward for x, w and b, through the Tensor ops;
- train: one step (zero_grad, forward, cross-entropy, backward, optimizer step) of the seed MLP
  (1000-500-10, ReLU, Adam, batch 128) and the seed LeNet-5 (3×32×32, SGD momentum 0.9, batch 100).

Every ``*_work`` function builds its inputs once and returns the work to repeat; every line of a
case gets the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels, nn, optim
from ..creation import tensor
from ..device import to_device
from ..models import MLP, LeNet
from ..random import manual_seed
from .timing import device_of_line

SECTIONS = ("matmul", "conv", "train", "load")  # load: threads under load (load.py)


@dataclass(frozen=True)
class ConvCase:
    """x (n, c, h, w) convolved with f filters of k×k (stride 1)."""

    n: int
    c: int
    h: int
    w: int
    f: int
    k: int
    padding: int = 0

    def __str__(self) -> str:
        return f"{self.n}×{self.c}×{self.h}×{self.w}→{self.f} {self.k}×{self.k}"


@dataclass(frozen=True)
class TrainCase:
    """One training step of a seed model: "mlp" (1000-500-10, Adam) or "lenet" (3×32×32, SGD momentum)."""

    model: str
    batch: int

    def __str__(self) -> str:
        return f"{self.model} b{self.batch}"


LENET_CONVS = (ConvCase(100, 3, 32, 32, 6, 5), ConvCase(100, 6, 14, 14, 16, 5))
MORE_CONVS = (ConvCase(64, 1, 28, 28, 32, 3), ConvCase(64, 32, 26, 26, 64, 3))
SEED_STEPS = (TrainCase("mlp", 128), TrainCase("lenet", 100))


@dataclass
class Settings:
    """What to measure and how often."""

    matmul_sizes: Sequence[int] = (128, 256, 512, 1024, 2048)
    conv_cases: Sequence[ConvCase] = LENET_CONVS + MORE_CONVS
    train_cases: Sequence[TrainCase] = SEED_STEPS
    repeat: int = 9  # samples per figure: on a shared machine two noisy samples of 5 could move a median
    min_sample_s: float = 0.05
    sections: Sequence[str] = SECTIONS
    threads: Sequence[int] | None = None  # the thread counts; None: NumPy's BLAS count, then 1
    gpu_matmul_sizes: Sequence[int] = (4096,)  # GPU lines only (the cuBLAS target)
    gpu_train_cases: Sequence[TrainCase] = (TrainCase("lenet", 256),)  # when a GPU line runs (cupy vs numba)

    @classmethod
    def quick(cls) -> Settings:
        """About two minutes on 2 cores: matmul to 512, the LeNet convs, both steps, 3 repeats, two thread counts."""
        return cls(matmul_sizes=(128, 256, 512), conv_cases=LENET_CONVS, repeat=3, min_sample_s=0.02)


CONV_KERNELS = ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight")


def kernels_needed(section: str, case: Any) -> tuple[str, ...]:
    """The kernel-table functions a case calls."""
    if section == "matmul" or (section == "train" and case.model == "mlp"):
        return ("matmul",)
    if section == "conv":
        return CONV_KERNELS
    return ("matmul", *CONV_KERNELS, "max_pool2d_forward", "max_pool2d_backward")


def missing_kernels(line: str, section: str, case: Any) -> list[str]:
    """The functions a case needs that our backend ``line`` does not define yet (none for PyTorch lines)."""
    if line not in kernels.NAMES:
        return []
    backend = kernels.get(line)
    return [f for f in kernels_needed(section, case) if not hasattr(backend, f)]


# ---------------------------------------------------------------------------------------------
# The measurements: each returns the work of one line (called again and again by the timer)
# ---------------------------------------------------------------------------------------------


def _randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def matmul_work(line: str, n: int) -> Callable[[], Any]:
    """C = A @ B for n×n fp32 matrices, through the kernel table (ours) or torch.mm / cupy.matmul."""
    a, b = _randn(n, n, seed=1), _randn(n, n, seed=2)
    if line.startswith("torch"):
        import torch

        ta, tb = (torch.from_numpy(m).to(device_of_line(line)) for m in (a, b))
        return lambda: torch.mm(ta, tb)
    if line == "cupy.matmul":
        import cupy

        ca, cb = cupy.asarray(a), cupy.asarray(b)
        return lambda: cupy.matmul(ca, cb)
    backend = kernels.get(line)
    a, b = to_device(a, backend.device), to_device(b, backend.device)
    return lambda: backend.matmul(a, b)


def conv_work(line: str, case: ConvCase) -> Callable[[], Any]:
    """y = conv2d(x, w, b) and its backward for x, w and b (dy fixed), through the Tensor ops."""
    x, w = _randn(case.n, case.c, case.h, case.w, seed=1), _randn(case.f, case.c, case.k, case.k, seed=2) * 0.1
    b = _randn(case.f, seed=3)
    out = case.h + 2 * case.padding - case.k + 1
    dy = _randn(case.n, case.f, out, out, seed=4)
    if line.startswith("torch"):
        import torch

        tx, tw, tb = (torch.tensor(a, device=device_of_line(line), requires_grad=True) for a in (x, w, b))
        tdy = torch.from_numpy(dy).to(device_of_line(line))

        def torch_step() -> None:
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.conv2d(tx, tw, tb, padding=case.padding).backward(tdy)

        return torch_step
    device = kernels.DEVICE[line]
    gx, gw, gb = (tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    gdy = tensor(dy, device=device)

    def step() -> None:
        gx.grad = gw.grad = gb.grad = None
        nn.functional.conv2d(gx, gw, gb, padding=case.padding).backward(gdy)

    return step


def _torch_seed_model(torch: Any, model: str) -> Any:
    """The seed models in PyTorch, layer for layer the same as tinygrad_edu.models.MLP / LeNet."""
    tnn = torch.nn
    if model == "mlp":
        return tnn.Sequential(tnn.Linear(1000, 500), tnn.ReLU(), tnn.Linear(500, 10))
    return tnn.Sequential(
        tnn.Conv2d(3, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10),
    )  # fmt: skip


def train_work(line: str, case: TrainCase) -> Callable[[], Any]:
    """One step: zero_grad, logits = model(x), loss = cross_entropy(logits, y), backward, step."""
    x_shape = (case.batch, 1000) if case.model == "mlp" else (case.batch, 3, 32, 32)
    x, y = _randn(*x_shape), np.random.default_rng(5).integers(0, 10, case.batch)
    if line.startswith("torch"):
        import torch

        torch.manual_seed(0)
        model = _torch_seed_model(torch, case.model).to(device_of_line(line))
        tx, ty = torch.from_numpy(x).to(device_of_line(line)), torch.from_numpy(y).to(device_of_line(line))
        topt = _optimizer(torch.optim, case.model, model.parameters())

        def torch_step() -> None:
            topt.zero_grad()
            torch.nn.functional.cross_entropy(model(tx), ty).backward()
            topt.step()

        return torch_step
    manual_seed(0)
    device = kernels.DEVICE[line]
    ours = (MLP(1000, (500,), 10) if case.model == "mlp" else LeNet(3, 10, 32)).to(device)
    gx, gy = tensor(x, device=device), tensor(y, device=device)
    opt = _optimizer(optim, case.model, ours.parameters())

    def step() -> None:
        opt.zero_grad()
        nn.functional.cross_entropy(ours(gx), gy).backward()
        opt.step()

    return step


def _optimizer(module: Any, model: str, params: Any) -> Any:
    """The seed recipes: Adam(1e-3) for the MLP, SGD(0.01, momentum 0.9) for LeNet (same for torch.optim)."""
    return module.Adam(params, lr=1e-3) if model == "mlp" else module.SGD(params, lr=0.01, momentum=0.9)
