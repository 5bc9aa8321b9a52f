"""The first compile is visible: the Numba target in words, and the one line printed before a run compiles.

Each check that depends on Numba's cache runs in a subprocess with its own empty NUMBA_CACHE_DIR,
as a learner's first run would find it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")
import llvmlite.binding as ll  # noqa: E402
from tinygrad_edu.kernels import numba_compile  # noqa: E402


def _python(code: str, cache, **env: str) -> str:
    environ = {**os.environ, "NUMBA_CACHE_DIR": str(cache), **env}
    for var in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES"):
        if var not in env:
            environ.pop(var, None)
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "cpu, isa",
    [
        ("haswell", "AVX2 (256-bit ymm, FMA)"),
        ("znver3", "AVX2 (256-bit ymm, FMA)"),
        ("skylake-avx512", "AVX-512 (512-bit zmm, FMA)"),
        ("icelake-server", "AVX-512 (512-bit zmm, FMA)"),
        ("znver4", "AVX-512 (512-bit zmm, FMA)"),
        ("sandybridge", "AVX (256-bit ymm, no FMA)"),
        ("x86-64", "SSE (128-bit xmm, no FMA)"),
    ],
)
def test_isa_is_read_from_what_llvm_compiles_for_a_cpu_name(cpu, isa):
    if not ll.get_process_triple().startswith("x86_64"):
        pytest.skip("x86-64 CPU names")
    assert numba_compile.isa(cpu, "") == isa


def test_isa_respects_features_that_switch_avx512_off():
    if not ll.get_process_triple().startswith("x86_64"):
        pytest.skip("x86-64 CPU names")
    off = ",".join(f"-{f}" for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"))
    assert numba_compile.isa("znver4", off).startswith("AVX2")


def test_target_follows_numba_cpu_name_and_features(tmp_path):
    code = "from tinygrad_edu.kernels import numba_compile as c; print(c.target()[0]); print(c.describe_target())"
    cpu, text = _python(code, tmp_path, NUMBA_CPU_NAME="haswell", NUMBA_CPU_FEATURES="").splitlines()
    assert cpu == "haswell"
    assert text == "haswell (set by NUMBA_CPU_NAME and NUMBA_CPU_FEATURES) with AVX2 (256-bit ymm, FMA)"
    host = _python(code, tmp_path).splitlines()
    assert host[0] == ll.get_host_cpu_name() and "set by" not in host[1]


def test_notice_when_the_cache_is_empty_and_silence_once_compiled(tmp_path):
    code = """
import numpy as np
from tinygrad_edu import kernels
from tinygrad_edu.kernels import numba_compile as c
print(c.notice(["matmul"]))
kernels.get("numba").matmul(np.ones((8, 8), np.float32), np.ones((8, 8), np.float32))  # compiles, fills the cache
print(c.notice(["matmul"]))
print(c.uncached(["matmul"], np.float64))
"""
    cold, warm, float64 = _python(code, tmp_path).splitlines()
    cpu = ll.get_host_cpu_name()
    assert cold.startswith("numba: compiling the matmul kernels (float32) for " + cpu + " with ")
    assert numba_compile.isa() in cold and "about 5 s" in cold and "once" in cold and str(tmp_path) in cold
    assert warm == "None"  # the same process, now cached
    assert float64 == "['numba_matmul']"  # a float64 run would still compile
    again = _python("from tinygrad_edu.kernels import numba_compile as c; print(c.notice(['matmul']))", tmp_path)
    assert again.strip() == "None"  # a new process finds the cache
    other_cpu = _python(
        "from tinygrad_edu.kernels import numba_compile as c; print(c.notice(['matmul']))",
        tmp_path,
        NUMBA_CPU_NAME="x86-64",
        NUMBA_CPU_FEATURES="",
    )
    assert other_cpu.startswith("numba: compiling the matmul kernels (float32) for x86-64")  # cached for another CPU


def test_train_with_numba_prints_the_line_before_the_first_epoch_only_when_compiling(tmp_path):
    argv = [sys.executable, "-m", "tinygrad_edu.cli", "train", "--kernels", "numba", "--epochs", "1", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    outputs = []
    for run in ("first", "second"):
        done = subprocess.run(
            [*argv, "--out", str(tmp_path / run)], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.splitlines())
    first, second = outputs
    compiling = [i for i, line in enumerate(first) if line.startswith("numba: compiling the matmul kernels")]
    epoch = next(i for i, line in enumerate(first) if line.startswith("epoch"))
    assert len(compiling) == 1 and compiling[0] < epoch
    assert not any(line.startswith("numba:") for line in second)
