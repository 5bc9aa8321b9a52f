"""tge.device objects, tge.Generator and generator=, the random factories, the creation additions and
the top-level habits (cuda/accelerator/backends, default dtype, inference_mode, FloatTensor)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge


def test_device_objects_behave_like_torch_device():
    d = tge.device("cuda", 0)
    assert (d.type, d.index, str(d), repr(d)) == ("cuda", 0, "cuda:0", "device(type='cuda', index=0)")
    assert tge.device("cuda:1").index == 1 and tge.device("cpu").index is None
    x = tge.ones(2, device=tge.device("cpu"))
    assert x.device.type == "cpu" and x.device == "cpu" and x.to(tge.device("cpu")) is x
    assert isinstance(x.device, tge.device)
    with pytest.raises(RuntimeError, match="unknown device"):
        tge.device("tpu")
    device = tge.device("cuda" if tge.cuda.is_available() else "cpu")
    assert tge.zeros(1).to(device).device.type == device.type


def test_cuda_accelerator_and_backends_answer_without_a_gpu():
    tge.cuda.manual_seed(0)
    tge.cuda.manual_seed_all(0)
    assert tge.cuda.device_count() >= 0
    if not tge.cuda.is_available():
        assert tge.accelerator.current_accelerator() is None and not tge.accelerator.is_available()
    assert tge.backends.mps.is_available() is False
    tge.backends.cudnn.benchmark = True


def test_generator_streams_are_independent_and_repeatable():
    g = tge.Generator().manual_seed(3)
    a = tge.randn(4, generator=g)
    tge.manual_seed(0)
    b = tge.rand(3)
    g.manual_seed(3)
    assert np.array_equal(tge.randn(4, generator=g).numpy(), a.numpy())
    tge.manual_seed(0)
    assert np.array_equal(tge.rand(3).numpy(), b.numpy())
    state = g.get_state()
    first = tge.randint(0, 100, (5,), generator=g)
    g.set_state(state)
    assert tge.randint(0, 100, (5,), generator=g).tolist() == first.tolist()
    assert g.initial_seed() == 3 and state.dtype == tge.uint8


@pytest.mark.parametrize(
    "draw",
    [
        lambda g: tge.rand(3, generator=g),
        lambda g: tge.randn(2, 2, generator=g),
        lambda g: tge.randint(5, (4,), generator=g),
        lambda g: tge.randperm(6, generator=g),
        lambda g: tge.normal(0.0, 1.0, size=(3,), generator=g),
        lambda g: tge.normal(tge.zeros(3), tge.ones(3), generator=g),
        lambda g: tge.multinomial(tge.tensor([0.1, 0.5, 0.4]), 2, generator=g),
        lambda g: tge.bernoulli(tge.full((4,), 0.5), generator=g),
        lambda g: tge.rand_like(tge.zeros(2), generator=g),
        lambda g: tge.randn_like(tge.zeros(2), generator=g),
    ],
)
def test_every_random_function_takes_a_generator(draw):
    assert np.array_equal(draw(tge.Generator().manual_seed(1)).numpy(), draw(tge.Generator().manual_seed(1)).numpy())


def test_sampling_distributions_and_errors():
    g = tge.Generator().manual_seed(0)
    assert sorted(tge.randperm(10, generator=g).tolist()) == list(range(10))
    s = tge.multinomial(tge.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), 3, replacement=True, generator=g)
    assert s.tolist() == [[1, 1, 1], [0, 0, 0]] and s.dtype == tge.int64
    with pytest.raises(RuntimeError, match="without replacement"):
        tge.multinomial(tge.tensor([0.0, 1.0]), 2)
    x = tge.normal(2.0, 0.5, size=(20000,), generator=g)
    assert abs(x.mean().item() - 2.0) < 0.02 and abs(x.std().item() - 0.5) < 0.02
    assert tge.bernoulli(tge.full((1000,), 0.3), generator=g).mean().item() == pytest.approx(0.3, abs=0.05)
    with pytest.raises(RuntimeError, match="std >= 0"):
        tge.normal(tge.zeros(2), -tge.ones(2))


def test_creation_additions_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tge.logspace(0, 2, 5).numpy(), torch.logspace(0, 2, 5).numpy(), rtol=1e-6)
    assert tge.empty(2, 3).shape == (2, 3) and tge.eye(2, 3).tolist() == torch.eye(2, 3).tolist()
    assert tge.full_like(tge.zeros(2, dtype=tge.int64), 7).dtype == tge.int64
    x = tge.zeros(2, dtype=tge.float64)
    assert x.new_ones(3).dtype == tge.float64 and x.new_full((2,), 4.0).tolist() == [4.0, 4.0]
    assert x.new_tensor([1, 2]).dtype == tge.float64


def test_default_dtype_inference_mode_and_legacy_types():
    try:
        tge.set_default_dtype(tge.float64)
        assert tge.get_default_dtype() == tge.float64
        assert tge.tensor([1.5]).dtype == tge.float64 and tge.zeros(2).dtype == tge.float64
    finally:
        tge.set_default_dtype(tge.float32)
    assert tge.tensor([1.5]).dtype == tge.float32
    w = tge.ones(2, requires_grad=True)
    with tge.inference_mode():
        assert not (w * 2).requires_grad and tge.is_inference_mode_enabled()
    assert (w * 2).requires_grad

    @tge.inference_mode()
    def f(v):
        return v * 2

    assert not f(w).requires_grad
    assert tge.FloatTensor([1, 2]).dtype == tge.float32 and tge.LongTensor([1]).dtype == tge.int64
    assert tge.FloatTensor(2, 3).shape == (2, 3)
    assert tge.tensor([1, 2]).type(tge.FloatTensor).dtype == tge.float32
    assert isinstance(tge.zeros(1), tge.FloatTensor) and not isinstance(tge.zeros(1), tge.LongTensor)
