"""Bundled scikit-learn data sets and the generated spiral / moons: shapes, dtypes, ranges, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import datasets
from tinygrad_edu.data import DataLoader


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits()


def test_digits_shapes_dtypes_and_range(digits):
    assert len(digits) == 1797
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.float32
    assert digits.targets.shape == (1797,) and digits.targets.dtype == np.int64
    assert digits.data.min() == 0.0 and digits.data.max() == 1.0  # 0..16 scaled to [0, 1]
    assert set(digits.targets.tolist()) == set(range(10))
    assert digits.classes == [str(i) for i in range(10)] and digits.num_classes == 10
    assert len(digits.feature_names) == 64


def test_digits_images_is_a_cnn_view_of_data(digits):
    assert digits.images.shape == (1797, 1, 8, 8) and digits.images.dtype == np.float32
    assert np.shares_memory(digits.images, digits.data)
    np.testing.assert_array_equal(digits.images[5, 0].reshape(-1), digits.data[5])
    from sklearn.datasets import load_digits

    np.testing.assert_allclose(digits.images[5, 0], load_digits().images[5] / 16)


def test_digits_indexing_and_loader(digits):
    x, y = digits[10]
    assert x.shape == (64,) and int(y) == digits.targets[10]
    xb, yb = next(iter(DataLoader(digits, batch_size=32)))
    assert xb.shape == (32, 64) and yb.dtype == np.int64


def test_breast_cancer_and_diabetes():
    bc = datasets.load_breast_cancer()
    assert bc.data.shape == (569, 30) and bc.data.dtype == np.float32 and bc.targets.dtype == np.int64
    assert bc.classes == ["malignant", "benign"] and len(bc.feature_names) == 30
    db = datasets.load_diabetes()
    assert db.data.shape == (442, 10) and db.data.dtype == np.float32
    assert db.targets.dtype == np.float32 and db.classes is None and db.num_classes is None
    assert 25 <= db.targets.min() and db.targets.max() <= 346
    x, y = db[0]
    assert x.shape == (10,) and y.dtype == np.float32
    assert "regression" in repr(db) and "2 classes" in repr(bc)


def test_spiral_shape_labels_and_determinism():
    X, y = datasets.make_spiral(n=50, classes=4, seed=0)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50] * 4
    assert np.abs(np.linalg.norm(X, axis=1) - np.tile(np.linspace(0, 1, 50), 4)).max() < 1e-6  # radius r ∈ [0, 1]
    X2, y2 = datasets.make_spiral(n=50, classes=4, seed=0)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, datasets.make_spiral(n=50, classes=4, seed=1)[0])
    Xc, _ = datasets.make_spiral(n=50, classes=4, seed=0, noise=0.0)
    t = np.linspace(0, 4, 50)
    np.testing.assert_allclose(
        Xc[:50], np.stack([np.linspace(0, 1, 50) * np.sin(t), np.linspace(0, 1, 50) * np.cos(t)], 1), atol=1e-6
    )


def test_moons_shape_balance_and_determinism():
    X, y = datasets.make_moons(n=201, noise=0.1, seed=0)
    assert X.shape == (201, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 101]
    np.testing.assert_array_equal(X, datasets.make_moons(n=201, noise=0.1, seed=0)[0])
    X0, y0 = datasets.make_moons(n=200, noise=0.0, seed=0)
    outer, inner = X0[y0 == 0], X0[y0 == 1]
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, atol=1e-6)  # the unit half circle
    np.testing.assert_allclose(np.linalg.norm(inner - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    from sklearn.datasets import make_moons

    Xs, ys = make_moons(200, noise=0.0, shuffle=False)
    assert np.allclose(np.sort(outer, axis=0), np.sort(Xs[ys == 0], axis=0), atol=1e-6)


def test_generators_reject_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        datasets.make_spiral(n=0)
    with pytest.raises(ValueError, match="at least 2"):
        datasets.make_moons(n=1)
