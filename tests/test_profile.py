"""The profiler: counts, times and GFLOP/s per op and per kernel; level 2 lines; nothing wrapped when off."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import kernels
from tinygrad_edu.autograd import Function
from tinygrad_edu.ops.conv import conv2d, max_pool2d

profile_module = importlib.import_module("tinygrad_edu.profile")  # tge.profile is the class
needs_debug_off = pytest.mark.skipif(bool(os.environ.get("TINYGRAD_EDU_DEBUG")), reason="TINYGRAD_EDU_DEBUG is set")


def small_cnn_step() -> None:
    x = tge.randn(2, 3, 6, 6, requires_grad=True)
    w = tge.randn(4, 3, 3, 3, requires_grad=True)
    v = tge.randn(4 * 3 * 3, 5, requires_grad=True)
    y = max_pool2d(conv2d(x, w, padding=1), 2).reshape(2, -1) @ v
    y.sum().backward()


def test_counts_every_op_and_kernel_call_and_prints_the_table_at_the_end():
    out = io.StringIO()
    with tge.profile(file=out) as p:
        small_cnn_step()
        small_cnn_step()
    for op in ("Conv2d", "Conv2dBackward", "MaxPool2d", "MaxPool2dBackward", "MatMul", "MatMulBackward", "Reshape"):
        assert p.ops[op].calls == 2, op
    calls = {name: s.calls for name, s in p.kernels.items()}
    assert calls == {
        "numpy.conv2d_forward": 2,
        "numpy.conv2d_backward_input": 2,
        "numpy.conv2d_backward_weight": 2,
        "numpy.max_pool2d_forward": 2,
        "numpy.max_pool2d_backward": 2,
        "numpy.matmul": 6,  # forward, and dX and dY in backward
    }
    assert all(s.seconds > 0 for s in [*p.ops.values(), *p.kernels.values()])
    printed = out.getvalue()
    assert printed.strip() == p.table()
    lines = printed.splitlines()
    assert lines[1].split() == ["op", "calls", "total", "ms", "GFLOP/s"]
    assert any(line.split()[:2] == ["numpy.conv2d_backward_weight", "2"] for line in lines)
    assert any(line.split()[:2] == ["Conv2dBackward", "2"] for line in lines)
    assert "[kernel]" not in printed  # level 1: the table only


def test_gflops_of_a_known_matmul():
    a, b = tge.randn(3, 5), tge.randn(5, 7)
    with tge.profile(file=io.StringIO()) as p:
        a @ b
    kernel, op = p.kernels["numpy.matmul"], p.ops["MatMul"]
    assert kernel.flops == op.flops == 2 * 3 * 7 * 5  # 2·M·N·K
    assert kernel.gflops == pytest.approx(210 / kernel.seconds / 1e9)
    assert op.seconds >= kernel.seconds  # the kernel ran inside the op
    row = next(line for line in p.table().splitlines() if line.startswith("numpy.matmul"))
    assert row.split()[-1] == f"{kernel.gflops:.2f}"


def test_flop_counts_of_batched_matmul_and_of_conv_forward_and_backward():
    flops = profile_module.kernel_flops
    a, b = np.ones((4, 3, 5)), np.ones((4, 5, 7))
    assert flops("matmul", (a, b), None) == 2 * 4 * 3 * 7 * 5
    x, w, dy = np.ones((2, 3, 9, 9)), np.ones((4, 3, 3, 2)), np.ones((2, 4, 7, 8))
    conv = 2 * 2 * 4 * 7 * 8 * 3 * 3 * 2  # 2·N·F·OH·OW·C·KH·KW
    assert flops("conv2d_forward", (x, w, (1, 1), (0, 0)), dy) == conv
    assert flops("conv2d_backward_input", (dy, w, x.shape, (1, 1), (0, 0)), x) == conv
    assert flops("conv2d_backward_weight", (dy, x, w.shape, (1, 1), (0, 0)), w) == conv
    assert flops("max_pool2d_forward", (x, (2, 2), (2, 2), (0, 0)), None) == 0


def test_level_2_prints_each_kernel_call_with_shapes_and_time():
    out = io.StringIO()
    with tge.profile(level=2, file=out):
        tge.randn(3, 5) @ tge.randn(5, 7)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[kernel] numpy.matmul(float32(3, 5), float32(5, 7))  ")
    assert " ms  " in lines[0] and lines[0].endswith(" GFLOP/s")
    assert sum(line.startswith("[kernel]") for line in lines) == 1
    assert lines[1].startswith("tinygrad_edu profile")


@needs_debug_off
def test_profiling_off_wraps_nothing():
    untimed = profile_module._untimed_apply
    assert Function.__dict__["apply"] is untimed and kernels._instrument is None
    assert kernels.for_device("cpu", "matmul") is kernels.get("numpy")  # the module itself
    with tge.profile(file=io.StringIO()) as outer:
        assert Function.__dict__["apply"] is not untimed
        assert kernels.for_device("cpu", "matmul") is not kernels.get("numpy")
        with tge.profile(file=io.StringIO()) as inner:
            tge.randn(2, 2) @ tge.randn(2, 2)
        tge.randn(2, 2) @ tge.randn(2, 2)  # the outer block still records
    assert (inner.kernels["numpy.matmul"].calls, outer.kernels["numpy.matmul"].calls) == (1, 2)
    assert Function.__dict__["apply"] is untimed and kernels._instrument is None
    assert kernels.for_device("cpu", "matmul") is kernels.get("numpy")


@needs_debug_off
def test_an_error_inside_the_block_still_switches_profiling_off():
    with pytest.raises(ValueError, match="inner dimensions"), tge.profile(file=io.StringIO()):
        tge.randn(2, 3) @ tge.randn(2, 3)
    assert Function.__dict__["apply"] is profile_module._untimed_apply and kernels._instrument is None
    assert profile_module._op_flops == []


def test_a_backend_with_synchronize_is_synchronised_around_each_call(monkeypatch):
    synced = []
    gpu_like = types.ModuleType("gpu_like")
    gpu_like.name, gpu_like.device = "numba", "cpu"
    gpu_like.matmul = np.matmul
    gpu_like.synchronize = lambda: synced.append(True)
    monkeypatch.setitem(kernels._loaded, "numba", gpu_like)
    with kernels.use("numba"), tge.profile(file=io.StringIO()) as p:
        tge.randn(2, 3) @ tge.randn(3, 4)
    assert p.kernels["numba.matmul"].calls == 1
    assert len(synced) >= 2  # before the clock starts and before it stops


def test_bad_level_is_an_error():
    with pytest.raises(ValueError, match="level must be 1"):
        tge.profile(level=3)


def _run_with_debug(level: str) -> subprocess.CompletedProcess:
    code = "import tinygrad_edu as tge; a = tge.randn(4, 6, requires_grad=True); (a @ a.T).sum().backward()"
    env = {**os.environ, "TINYGRAD_EDU_DEBUG": level}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_environment_variable_prints_the_table_at_exit():
    run = _run_with_debug("1")
    assert run.returncode == 0, run.stderr
    assert "tinygrad_edu profile" in run.stderr and "MatMulBackward" in run.stderr
    assert "numpy.matmul" in run.stderr and "[kernel]" not in run.stderr
    run = _run_with_debug("2")
    assert run.returncode == 0, run.stderr
    assert "[kernel] numpy.matmul(float32(4, 6), float32(6, 4))" in run.stderr
    run = _run_with_debug("yes")
    assert run.returncode != 0 and "TINYGRAD_EDU_DEBUG='yes': use 0 (off), 1" in run.stderr
