"""Grad mode and the kernel backend are per thread, as PyTorch's: threads training side by side
give exactly what they give one after the other."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import kernels, nn, optim


def _train(seed: int, steps: int, barrier: threading.Barrier | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with tge.no_grad():
        for p in net.parameters():
            p.copy_(rng.standard_normal(p.shape).astype(np.float32) * 0.5)
    opt = optim.Adam(net.parameters(), lr=0.01)
    x, y = tge.tensor(rng.standard_normal((16, 4)).astype(np.float32)), tge.tensor(rng.integers(0, 2, 16))
    for _ in range(steps):
        if barrier is not None:
            barrier.wait()  # the threads take turns step by step, entering and leaving no_grad interleaved
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()  # inside no_grad
    return [p.detach().numpy().copy() for p in net.parameters()]


def _evaluate(stop: threading.Event, seen: list[bool]) -> None:
    net = nn.Linear(4, 2)
    while not stop.is_set():
        with tge.no_grad():
            seen.append(net(tge.ones(3, 4)).requires_grad)


@settings(max_examples=5, deadline=None)
@given(seeds=st.tuples(st.integers(0, 1000), st.integers(0, 1000)), lockstep=st.booleans())
def test_two_threads_training_while_a_third_evaluates_equal_the_sequential_runs(seeds, lockstep):
    steps = 15
    expected = [_train(s, steps) for s in seeds]
    barrier = threading.Barrier(2) if lockstep else None
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = _train(seeds[i], steps, barrier)
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    stop, seen = threading.Event(), []
    evaluator = threading.Thread(target=_evaluate, args=(stop, seen))
    workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    evaluator.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    evaluator.join()
    assert not errors, errors
    assert not any(seen)  # the evaluator's no_grad held in its own thread
    for i in range(2):
        for got, want in zip(results[i], expected[i]):
            np.testing.assert_array_equal(got, want)
    assert tge.is_grad_enabled()


def test_a_new_thread_starts_with_grad_enabled_and_the_default_backend():
    seen = {}

    def look() -> None:
        seen["grad"], seen["backend"] = tge.is_grad_enabled(), kernels.current().name

    with tge.no_grad(), kernels.use("numpy"):
        t = threading.Thread(target=look)
        t.start()
        t.join()
    assert seen["grad"] is True
    assert seen["backend"] == (kernels.os.environ.get(kernels.ENV_VAR) or "numpy")


def test_set_grad_enabled_and_inference_mode():
    with tge.set_grad_enabled(False):
        assert not tge.is_grad_enabled()
        with tge.enable_grad():
            assert tge.is_grad_enabled()
    assert tge.is_grad_enabled()
    tge.set_grad_enabled(False)
    assert not tge.is_grad_enabled()
    tge.set_grad_enabled(True)
    with tge.inference_mode():
        assert not (tge.ones(1, requires_grad=True) * 2).requires_grad
    with tge.inference_mode(False):
        assert tge.is_grad_enabled()


def test_threads_inside_use_compute_with_their_own_backend():
    pytest.importorskip("numba")
    if "numba" not in kernels.available():
        pytest.skip("numba backend not available here")
    barrier = threading.Barrier(2)
    names: dict[str, list[str]] = {"numpy": [], "numba": []}

    def run(name: str) -> None:
        with kernels.use(name):
            for _ in range(20):
                barrier.wait()
                names[name].append(kernels.current().name)
                (tge.ones(8, 8) @ tge.ones(8, 8)).sum().item()

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert names == {"numpy": ["numpy"] * 20, "numba": ["numba"] * 20}
