"""GPU benchmark of the CUDA backend: our SGEMM against cuBLAS, and conv2d on the LeNet shapes.

    python benchmarks/gpu_bench.py            # needs CuPy and an NVIDIA GPU
    python benchmarks/gpu_bench.py --runs 20 --json bench_out/gpu.json

It imports kernels/cupy_cuda.py directly, nothing else of the library. Every timing
synchronises the GPU before starting and before stopping the clock (launches are asynchronous),
comes after warm-up runs (the first call compiles the kernels; that time is reported apart),
and is the median of ``--runs`` runs. Each result is checked against cuBLAS / a float64 product
first, so a fast wrong kernel cannot be reported.

cupy.matmul uses cuBLAS in plain fp32 unless CUPY_TF32=1 (TensorFloat-32 tensor cores), which
the header line reports: compare fp32 with fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

try:
    import cupy as cp
except ImportError:
    sys.exit("gpu_bench: CuPy is not installed (pip install -e '.[cuda]' on a machine with an NVIDIA GPU)")

from tinygrad_edu.kernels import cupy_cuda  # noqa: E402

MATMUL_SIZES = (1024, 2048, 4096)
STRIDE, PADDING = (1, 1), (0, 0)
LENET = {  # name: (x shape, w shape): batch 100, 5×5 kernels, stride 1, no padding
    "conv1 3->6 5x5 on 32x32": ((100, 3, 32, 32), (6, 3, 5, 5)),
    "conv2 6->16 5x5 on 14x14": ((100, 6, 14, 14), (16, 6, 5, 5)),
}


def sync() -> None:
    """Wait for all queued GPU work."""
    cp.cuda.Device().synchronize()


def median_seconds(fn, runs: int, warmup: int = 2) -> float:
    """The median wall time of fn() over ``runs`` runs, each bracketed by device synchronisations."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_call_seconds(fn) -> float:
    """The time of one call, compilation included when it is the first."""
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def bench_matmul(runs: int) -> list[dict]:
    """Our SGEMM and cuBLAS (cupy.matmul) on n×n fp32 matrices: GFLOP/s = 2n³ / seconds."""
    rows = []
    rng = np.random.default_rng(0)
    for n in MATMUL_SIZES:
        a = cp.asarray(rng.uniform(-1, 1, (n, n)).astype(np.float32))
        b = cp.asarray(rng.uniform(-1, 1, (n, n)).astype(np.float32))
        compile_s = first_call_seconds(lambda a=a, b=b: cupy_cuda.matmul(a, b)) if n == MATMUL_SIZES[0] else None
        ours, theirs = cupy_cuda.matmul(a, b), cp.matmul(a, b)
        error = float(cp.abs(ours - theirs).max())
        assert error < 1e-5 * n, f"our SGEMM disagrees with cuBLAS at n={n}: max |difference| {error}"
        flops = 2.0 * n**3
        t_ours = median_seconds(lambda a=a, b=b: cupy_cuda.matmul(a, b), runs)
        t_cublas = median_seconds(lambda a=a, b=b: cp.matmul(a, b), runs)
        rows.append(
            {
                "n": n,
                "ours_gflops": flops / t_ours / 1e9,
                "cublas_gflops": flops / t_cublas / 1e9,
                "ratio": t_cublas / t_ours,
                "ours_ms": t_ours * 1e3,
                "cublas_ms": t_cublas * 1e3,
                "max_abs_diff": error,
                "first_call_s": compile_s,
            }
        )
    return rows


def bench_conv(runs: int) -> list[dict]:
    """conv2d forward, backward-input and backward-weight on LeNet's two layers (ms)."""
    rows = []
    rng = np.random.default_rng(1)
    for name, (x_shape, w_shape) in LENET.items():
        x = cp.asarray(rng.uniform(-1, 1, x_shape).astype(np.float32))
        w = cp.asarray(rng.uniform(-1, 1, w_shape).astype(np.float32))
        y = cupy_cuda.conv2d_forward(x, w, STRIDE, PADDING)
        dy = cp.asarray(rng.uniform(-1, 1, y.shape).astype(np.float32))
        reference = np.einsum(  # float64 check of the forward on the host (a direct sum, not im2col)
            "nchwij,fcij->nfhw",
            np.lib.stride_tricks.sliding_window_view(x.get().astype(np.float64), w_shape[2:], axis=(2, 3)),
            w.get().astype(np.float64),
        )
        error = float(np.abs(y.get() - reference).max())
        assert error < 1e-4, f"conv2d_forward disagrees with the float64 reference on {name}: {error}"
        forward = median_seconds(lambda x=x, w=w: cupy_cuda.conv2d_forward(x, w, STRIDE, PADDING), runs)
        backward_input = median_seconds(
            lambda dy=dy, w=w, shape=x_shape: cupy_cuda.conv2d_backward_input(dy, w, shape, STRIDE, PADDING), runs
        )
        backward_weight = median_seconds(
            lambda dy=dy, x=x, shape=w_shape: cupy_cuda.conv2d_backward_weight(dy, x, shape, STRIDE, PADDING), runs
        )
        row = {
            "layer": name,
            "forward_ms": forward * 1e3,
            "backward_input_ms": backward_input * 1e3,
            "backward_weight_ms": backward_weight * 1e3,
            "total_ms": (forward + backward_input + backward_weight) * 1e3,
        }
        row.update(torch_conv_ms(x, w, dy, runs))
        rows.append(row)
    return rows


def torch_conv_ms(x, w, dy, runs: int) -> dict:
    """The same forward + both backwards with PyTorch on the GPU (cuDNN), when torch has CUDA."""
    try:
        import torch
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    tx = torch.as_tensor(x.get(), device="cuda").requires_grad_()
    tw = torch.as_tensor(w.get(), device="cuda").requires_grad_()
    tdy = torch.as_tensor(dy.get(), device="cuda")

    def step():
        y = torch.nn.functional.conv2d(tx, tw)
        torch.autograd.grad(y, (tx, tw), tdy)
        torch.cuda.synchronize()

    for _ in range(2):
        step()
    times = []
    for _ in range(runs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"torch_cudnn_total_ms": statistics.median(times) * 1e3}


def main() -> None:
    """Print both tables (and write JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measurement (the median is reported)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    cupy_cuda.check_available()

    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    tf32 = os.environ.get("CUPY_TF32", "0")
    print(
        f"GPU: {name}, CuPy {cp.__version__}, CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}, "
        f"CUPY_TF32={tf32} (cuBLAS in {'TF32' if tf32 == '1' else 'plain fp32'})"
    )

    matmul = bench_matmul(args.runs)
    print(f"\nSGEMM fp32, C = A @ B with n×n matrices (median of {args.runs} runs)")
    print(f"{'n':>6} {'ours GFLOP/s':>13} {'cuBLAS GFLOP/s':>15} {'ours/cuBLAS':>12} {'ours ms':>9} {'cuBLAS ms':>10}")
    for r in matmul:
        print(
            f"{r['n']:>6} {r['ours_gflops']:>13.0f} {r['cublas_gflops']:>15.0f} {r['ratio']:>12.2f} "
            f"{r['ours_ms']:>9.3f} {r['cublas_ms']:>10.3f}"
        )
    print(f"(first call, including compiling sgemm.cu: {matmul[0]['first_call_s']:.2f} s)")

    conv = bench_conv(args.runs)
    print(f"\nconv2d fp32 on LeNet's layers, batch 100 (median of {args.runs} runs, ms)")
    torch_header = f" {'torch cuDNN':>12}" if any("torch_cudnn_total_ms" in r for r in conv) else ""
    print(f"{'layer':<26} {'forward':>8} {'bwd input':>10} {'bwd weight':>11} {'total':>8}{torch_header}")
    for r in conv:
        torch_cell = f" {r['torch_cudnn_total_ms']:>12.3f}" if "torch_cudnn_total_ms" in r else ""
        print(
            f"{r['layer']:<26} {r['forward_ms']:>8.3f} {r['backward_input_ms']:>10.3f} "
            f"{r['backward_weight_ms']:>11.3f} {r['total_ms']:>8.3f}{torch_cell}"
        )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"gpu": name, "matmul": matmul, "conv": conv}, indent=2))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
