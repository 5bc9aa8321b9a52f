"""The int8 GEMM: exact int32 sums against the NumPy reference, extreme values, and its assembly per CPU.

The assembly checks compile the kernel in subprocesses for one AVX2 CPU (haswell) and two AVX-512
CPUs (skylake-avx512, znver4), each with its own empty NUMBA_CACHE_DIR, and read the inner loop:
packed pmaddwd (or its VNNI form vpdpwssd) on the widest registers, no gather or scatter.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("numba")
import llvmlite.binding as ll  # noqa: E402
from tinygrad_edu.kernels import numba_int8, numpy_ref  # noqa: E402

from tinygrad_edu import kernels  # noqa: E402

SIDES = st.integers(1, 70)


@given(m=SIDES, k=SIDES, n=SIDES, unsigned=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_agrees_with_the_reference_exactly(m, k, n, unsigned, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (m, k)).astype(np.uint8) if unsigned else rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    got = numba_int8.matmul_int8(a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, numpy_ref.matmul_int8(a, b))


EXTREMES = [(-128, -128, np.int8), (127, -128, np.int8), (255, -128, np.uint8), (255, 127, np.uint8)]


@pytest.mark.parametrize("a_value, b_value, a_dtype", EXTREMES)
def test_extreme_values_sum_exactly(a_value, b_value, a_dtype):
    k = 1000  # 1000 · 255 · 128 = 32 640 000: far beyond int16, exact in int32
    a = np.full((5, k), a_value, dtype=a_dtype)
    b = np.full((k, 9), b_value, dtype=np.int8)
    got = numba_int8.matmul_int8(a, b)
    assert np.all(got == k * a_value * b_value)
    np.testing.assert_array_equal(got, numpy_ref.matmul_int8(a, b))


def test_known_values_and_empty_shapes():
    a = np.array([[1, -2], [3, 4]], dtype=np.int8)
    b = np.array([[5, 6], [7, -8]], dtype=np.int8)
    np.testing.assert_array_equal(numba_int8.matmul_int8(a, b), [[-9, 22], [43, -14]])
    assert numba_int8.matmul_int8(np.zeros((3, 0), np.int8), np.zeros((0, 4), np.int8)).tolist() == [[0] * 4] * 3
    assert numba_int8.matmul_int8(np.zeros((0, 5), np.int8), np.zeros((5, 4), np.int8)).shape == (0, 4)


def test_errors_name_the_dtypes_and_shapes():
    with pytest.raises(TypeError, match="float32"):
        numba_int8.matmul_int8(np.ones((2, 2), np.float32), np.ones((2, 2), np.int8))
    with pytest.raises(TypeError, match="uint8"):
        numba_int8.matmul_int8(np.ones((2, 2), np.int8), np.ones((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        numba_int8.matmul_int8(np.ones((2, 3), np.int8), np.ones((2, 3), np.int8))


def test_is_in_the_kernel_table():
    assert "matmul_int8" in kernels.TABLE
    assert kernels.get("numba").matmul_int8 is numba_int8.matmul_int8


_ASM = """
import re
import numpy as np
from tinygrad_edu.kernels import numba_int8 as k
a = np.ones((4, 64), np.int8); b = np.ones((64, 8), np.int8)
assert (k.matmul_int8(a, b) == 64).all()
asm = k._gemm_block.inspect_asm(k._gemm_block.signatures[0])
print(k.LANES, k.PMADDWD)
print(len(re.findall(r"vpmaddwd\\s[^\\n]*%zmm|vpdpwssd\\s[^\\n]*%zmm", asm)),
      len(re.findall(r"vpmaddwd\\s[^\\n]*%ymm|vpdpwssd\\s[^\\n]*%ymm", asm)),
      len(re.findall(r"gather|scatter", asm)), len(re.findall(r"\\bimul", asm)))
"""

# (LLVM CPU name, the features numba_simd reads for it, register, lanes)
_TARGETS = [
    ("haswell", "+avx,+avx2,+fma,+sse4.2", "ymm", 8),
    ("skylake-avx512", "+avx,+avx2,+fma,+avx512f,+avx512bw,+avx512dq,+avx512vl", "zmm", 16),
    ("znver4", "+avx,+avx2,+fma,+avx512f,+avx512bw,+avx512dq,+avx512vl,+avx512vnni", "zmm", 16),
]


@pytest.mark.parametrize("cpu, features, register, lanes", _TARGETS)
def test_inner_loop_is_packed_pmaddwd_of_the_widest_width(tmp_path, cpu, features, register, lanes):
    if not ll.get_process_triple().startswith("x86_64"):
        pytest.skip("x86-64 CPU names")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_CPU_NAME": cpu, "NUMBA_CPU_FEATURES": features}
    done = subprocess.run([sys.executable, "-c", _ASM], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    head, counts = done.stdout.splitlines()
    assert head.split()[0] == str(lanes) and "pmadd" in head
    zmm, ymm, gathers, imuls = map(int, counts.split())
    # the 2 × 4 tile: 8 packed multiply-adds per step, all on the widest registers
    assert (zmm if register == "zmm" else ymm) >= numba_int8.ROWS * numba_int8.COLS
    if register == "zmm":
        assert ymm == 0
    assert gathers == 0
