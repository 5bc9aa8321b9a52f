"""``python -m tinygrad_edu.bench.gpu_check``: the GPU bench that benchmarks/gpu_check.sh runs, in a few minutes.

The same bench as ``tinygrad-edu bench`` (same timer, tables, verdicts), with the cases of the GPU
check: our SGEMM (the cupy backend) against cuBLAS (``cupy.matmul``) at 1024 and 4096, the LeNet
convolutions at batch 256, and one training step of the seed LeNet and MLP at batch 256, each on
cupy against numba (and PyTorch, CPU and CUDA, when installed). It runs at one thread count,
NumPy's BLAS count, to stay short. Without CuPy or a GPU it prints why and exits 0: there is no
GPU section to run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import kernels
from .timing import blas_threads
from .work import ConvCase, Settings, TrainCase

GPU_CONVS = (ConvCase(256, 3, 32, 32, 6, 5), ConvCase(256, 6, 14, 14, 16, 5))
GPU_STEPS = (TrainCase("lenet", 256), TrainCase("mlp", 256))


def gpu_unavailable() -> str | None:
    """Why the GPU section cannot run here (CuPy missing, no GPU), or None when it can."""
    try:
        kernels.get("cupy")
    except kernels.KernelUnavailable as e:
        return str(e)
    return None


def gpu_settings(repeat: int = 5) -> Settings:
    """The GPU check's cases: matmul 1024 (and 4096 for the GPU lines), LeNet convs and steps at batch 256."""
    return Settings(
        matmul_sizes=(1024,),
        conv_cases=GPU_CONVS,
        train_cases=(),
        gpu_matmul_sizes=(4096,),
        gpu_train_cases=GPU_STEPS,
        repeat=repeat,
        sections=("matmul", "conv", "train"),
        threads=(blas_threads(),),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GPU bench (numba and cupy lines), or say why it cannot run here."""
    parser = argparse.ArgumentParser(prog="python -m tinygrad_edu.bench.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples per figure (default 5)")
    parser.add_argument("--out", default=None, help="folder for bench.json and bench.png (default: none written)")
    args = parser.parse_args(argv)
    reason = gpu_unavailable()
    if reason is not None:
        print(f"gpu bench skipped: the cupy backend cannot run here: {reason}")
        return 0
    from . import benchmark

    backends = [name for name in ("numba", "cupy") if name in kernels.available()]
    benchmark(gpu_settings(args.repeat), backends, out=Path(args.out) if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
