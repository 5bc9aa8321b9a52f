"""Choosing the kernel backend: use() as a call and as a context manager, the environment
variable, available(), and the errors (unknown name, a backend that cannot run, device mismatch).
"""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

import tinygrad_edu as tge
from tinygrad_edu import kernels


@pytest.fixture
def fake_numba(monkeypatch):
    """A stand-in "numba" backend (the reference under another name), so switching is testable anywhere."""
    fake = types.ModuleType("fake_numba")
    fake.name, fake.device = "numba", "cpu"
    monkeypatch.setitem(kernels._loaded, "numba", fake)
    return fake


def test_use_as_a_plain_call_switches_until_switched_back(fake_numba):
    assert kernels.current().name == "numpy"
    kernels.use("numba")
    assert kernels.current() is fake_numba
    kernels.use("numpy")
    assert kernels.current().name == "numpy"


def test_use_as_a_context_manager_restores_the_previous_backend(fake_numba):
    with kernels.use("numba") as backend:
        assert backend is fake_numba and kernels.current() is fake_numba
        with kernels.use("numpy"):
            assert kernels.current().name == "numpy"
        assert kernels.current() is fake_numba
    assert kernels.current().name == "numpy"


def test_use_restores_even_when_the_block_raises(fake_numba):
    with pytest.raises(ZeroDivisionError), kernels.use("numba"):
        1 / 0  # noqa: B018
    assert kernels.current().name == "numpy"


def test_tge_kernels_is_the_registry():
    assert tge.kernels is kernels
    assert tge.kernels.get("numpy").name == "numpy"


def test_unknown_name_lists_the_backends():
    with pytest.raises(ValueError, match=r"unknown kernel backend 'tensorflow': choose one of numpy, numba, cupy"):
        kernels.use("tensorflow")
    assert kernels.current().name == "numpy"


@pytest.mark.skipif(tge.cuda_is_available(), reason="this machine has CuPy and a GPU, so 'cupy' can run")
def test_cupy_without_a_gpu_says_why_and_never_falls_back():
    with pytest.raises(kernels.KernelUnavailable, match=r"'cupy'.*CuPy"):
        kernels.use("cupy")
    assert kernels.current().name == "numpy"  # the failed switch changed nothing
    assert "cupy" not in kernels.available()


def test_available_lists_what_runs_here_in_a_fixed_order():
    names = kernels.available()
    assert names[0] == "numpy"
    assert names == [n for n in kernels.NAMES if n in names]
    for name in kernels.NAMES:
        if name in names:
            assert kernels.get(name).name == name
        else:
            with pytest.raises(kernels.KernelUnavailable):
                kernels.get(name)
    if "cupy" in names:
        assert tge.cuda_is_available()


def test_for_device_mismatch_names_both_knobs():
    with pytest.raises(RuntimeError) as e:
        kernels.for_device("cuda", "conv2d")
    message = str(e.value)
    assert "conv2d: the kernel backend is 'numpy', which computes on 'cpu', but the tensors are on 'cuda'" in message
    assert "tge.kernels.use('cupy')" in message  # knob 1: the backend
    assert ".to('cpu')" in message  # knob 2: the device
    assert kernels.for_device("cpu", "conv2d").name == "numpy"


def _current_in_a_fresh_process(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, kernels.ENV_VAR: value}
    code = "import tinygrad_edu as tge; print(tge.kernels.current().name)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_environment_variable_chooses_the_backend():
    last = kernels.available()[-1]  # "numpy" here; "numba" or "cupy" where they run
    run = _current_in_a_fresh_process(last)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == last


def test_environment_variable_with_a_bad_name_or_an_unavailable_backend_is_an_error():
    run = _current_in_a_fresh_process("numpyy")
    assert run.returncode != 0
    assert "TINYGRAD_EDU_KERNELS='numpyy' is not a kernel backend: choose one of numpy, numba, cupy" in run.stderr
    if not tge.cuda_is_available():
        run = _current_in_a_fresh_process("cupy")
        assert run.returncode != 0 and "KernelUnavailable" in run.stderr and "CuPy" in run.stderr
