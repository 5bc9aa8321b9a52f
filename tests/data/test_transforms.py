"""Transforms: Normalize per channel, Standardize fitted on training data, RandomCrop, RandomHorizontalFlip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu.data import (
    Compose,
    DataLoader,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    Standardize,
    TensorDataset,
    train_test_split,
)


def test_normalize_per_channel_known_values():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0), np.full((2, 2), 5.0)]).astype(np.float32)
    out = Normalize((1.0, 2.0, 3.0), (1.0, 0.5, 2.0))(x)
    assert out.shape == (3, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], 0.0)
    np.testing.assert_allclose(out[1], 2.0)
    np.testing.assert_allclose(out[2], 1.0)


def test_normalize_matches_torchvision_formula_on_random_images():
    rng = np.random.default_rng(0)
    x = rng.random((3, 5, 4)).astype(np.float32)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.247, 0.243, 0.261])
    expected = (x - mean[:, None, None]) / std[:, None, None]
    np.testing.assert_allclose(Normalize(mean, std)(x), expected, rtol=1e-6)
    np.testing.assert_allclose(Normalize(0.5, 0.25)(x), (x - 0.5) / 0.25, rtol=1e-6)  # one value for all


def test_normalize_errors():
    with pytest.raises(ValueError, match="3 channels"):
        Normalize((0.1, 0.2), (1.0, 1.0))(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="non-zero"):
        Normalize((0.1,), (0.0,))


def test_standardize_is_fitted_on_training_data_only():
    X, y = np.random.default_rng(0).normal(5.0, 3.0, (200, 4)).astype(np.float32), np.arange(200)
    X[:, 2] = 7.0  # a constant feature: σ = 0
    X_train, X_test, _, _ = train_test_split(X, y, seed=0)
    scaler = Standardize().fit(X_train)
    Z_train, Z_test = scaler(X_train), scaler(X_test)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z_train[:, [0, 1, 3]].std(axis=0), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(Z_train[:, 2], 0.0)  # centred, not divided by zero
    # the test part uses the training statistics, not its own
    np.testing.assert_allclose(
        Z_test, (X_test - X_train.mean(0)) / np.where(X_train.std(0) == 0, 1, X_train.std(0)), rtol=1e-4, atol=1e-5
    )
    assert abs(Z_test[:, 0].mean()) > 1e-4  # so the test mean is not exactly zero
    assert Z_train.dtype == np.float32
    np.testing.assert_allclose(scaler(X_test[0]), Z_test[0], rtol=1e-6)  # one sample works too


def test_standardize_equals_sklearn_standard_scaler():
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(1).normal(0, 2, (50, 3))
    X[:, 1] = 3.0
    np.testing.assert_allclose(Standardize().fit_transform(X), StandardScaler().fit_transform(X), atol=1e-12)


def test_standardize_refuses_before_fit():
    with pytest.raises(RuntimeError, match=r"fit\(X_train\)"):
        Standardize()(np.zeros((3, 2)))


def test_standardize_shape_mismatch():
    scaler = Standardize().fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(5, 4\)"):
        scaler(np.zeros((5, 4)))


@given(size=st.integers(1, 6), padding=st.integers(0, 3), channels=st.integers(1, 3), seed=st.integers(0, 50))
def test_random_crop_keeps_size_and_is_a_window_of_the_padded_image(size, padding, channels, seed):
    tge.manual_seed(seed)
    x = np.arange(channels * 36, dtype=np.float32).reshape(channels, 6, 6) + 1  # no zeros inside
    out = RandomCrop(size, padding=padding)(x)
    assert out.shape == (channels, size, size) and out.dtype == np.float32
    padded = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    windows = [
        padded[:, i : i + size, j : j + size]
        for i in range(6 + 2 * padding - size + 1)
        for j in range(6 + 2 * padding - size + 1)
    ]
    assert any(np.array_equal(out, w) for w in windows)


def test_random_crop_with_padding_moves_content_and_is_seeded():
    x = np.ones((1, 8, 8), dtype=np.float32)
    tge.manual_seed(0)
    crops = [RandomCrop(8, padding=2)(x) for _ in range(20)]
    assert all(c.shape == (1, 8, 8) for c in crops)
    assert any((c == 0).any() for c in crops)  # some crops include padding zeros
    tge.manual_seed(0)
    again = [RandomCrop(8, padding=2)(x) for _ in range(20)]
    assert all(np.array_equal(a, b) for a, b in zip(crops, again))
    with pytest.raises(ValueError, match="larger than"):
        RandomCrop(10)(x)


def test_random_horizontal_flip():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)
    tge.manual_seed(0)
    flips = [RandomHorizontalFlip(0.5)(x)[0, 0, 0] == 3 for _ in range(400)]
    assert 0.4 < np.mean(flips) < 0.6
    with pytest.raises(ValueError, match="probability"):
        RandomHorizontalFlip(1.5)


def test_compose_applies_in_order_and_works_in_a_loader():
    tf = Compose([RandomHorizontalFlip(p=1.0), Normalize((1.0,), (2.0,))])
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
    np.testing.assert_allclose(tf(x), (x[:, :, ::-1] - 1.0) / 2.0)
    assert "Normalize" in repr(tf)
    X = np.random.default_rng(0).random((10, 1, 6, 6)).astype(np.float32)
    batch, _ = next(iter(DataLoader(TensorDataset(X, np.arange(10)), batch_size=10, transform=RandomCrop(4, 1))))
    assert batch.shape == (10, 1, 4, 4)
