"""The int8 GEMM against the float32 ones: numba int8 (exact int32 sums), numba float32, NumPy's BLAS float32.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/int8_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/int8_bench.py --runs 31 --json bench_out/int8.json

Square products M = K = N plus the shape of a quantized digits layer (a batch of 256 rows through
a 64 → 256 Linear). Every timing is the median of ``--runs`` runs after a warm-up call (the
first call compiles), and every result is checked first (int8 exactly against the NumPy
reference, float32 against float64), so a fast wrong kernel cannot be reported. Other jobs
on a shared machine make single runs noisy: the median and the interquartile range are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numba
import numpy as np
from tinygrad_edu.kernels import numba_compile, numba_cpu, numpy_ref

SHAPES = ((256, 64, 256), (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024))


def _time(fn, *args, runs: int) -> tuple[float, float, float]:
    """(median, first quartile, third quartile) of ``runs`` calls, in milliseconds."""
    fn(*args)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - start) * 1e3)
    q = statistics.quantiles(times, n=4)
    return statistics.median(times), q[0], q[2]


def main() -> None:
    """Run the comparison and print one table (optionally save it as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"numba target: {numba_compile.describe_target()}; threads: {numba.get_num_threads()}; runs: {args.runs}")
    print(f"{'M×K×N':>16} {'int8 numba ms':>15} {'f32 numba ms':>14} {'f32 NumPy ms':>14} {'int8 GOP/s':>11}")
    rows = []
    for m, k, n in SHAPES:
        a8, b8 = rng.integers(-128, 128, (m, k)).astype(np.int8), rng.integers(-128, 128, (k, n)).astype(np.int8)
        af, bf = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
        assert np.array_equal(numba_cpu.matmul_int8(a8, b8), numpy_ref.matmul_int8(a8, b8))
        np.testing.assert_allclose(numba_cpu.matmul(af, bf), af.astype(np.float64) @ bf, rtol=1e-3, atol=1e-3)
        int8 = _time(numba_cpu.matmul_int8, a8, b8, runs=args.runs)
        f32 = _time(numba_cpu.matmul, af, bf, runs=args.runs)
        blas = _time(np.matmul, af, bf, runs=args.runs)
        gops = 2 * m * n * k / int8[0] / 1e6
        print(f"{f'{m}×{k}×{n}':>16} {int8[0]:15.3f} {f32[0]:14.3f} {blas[0]:14.3f} {gops:11.1f}")
        rows.append({"shape": [m, k, n], "int8_numba_ms": int8, "f32_numba_ms": f32, "f32_numpy_ms": blas})
    print("(median ms; interquartile ranges in --json)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"target": numba_compile.describe_target(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
