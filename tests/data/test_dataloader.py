"""Dataset, TensorDataset, Subset and DataLoader: batching arithmetic, seeded shuffling, the fast path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu.data import DataLoader, Dataset, Subset, TensorDataset, collate


def _xy(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.arange(n)


class Squares(Dataset):
    """A map-style dataset written the PyTorch way: (x, y) pairs from __getitem__."""

    def __init__(self, n: int):
        self.n = n

    def __getitem__(self, i: int):
        return np.array([i, i * i], dtype=np.float32), i % 3

    def __len__(self) -> int:
        return self.n


# ---- TensorDataset --------------------------------------------------------------------------------


def test_tensor_dataset_indexing_and_tensors():
    X, y = _xy()
    ds = TensorDataset(X, tge.tensor(y))
    x0, y0 = ds[3]
    np.testing.assert_array_equal(x0, X[3])
    assert y0 == 3 and len(ds) == 10
    tx, ty = ds.tensors
    assert isinstance(tx, tge.Tensor) and tx.shape == (10, 2) and ty.dtype == np.int64


def test_tensor_dataset_lists_follow_tensor_rules():
    ds = TensorDataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    assert ds.arrays[0].dtype == np.float32 and ds.arrays[1].dtype == np.int64


def test_tensor_dataset_mismatched_first_dims_names_shapes():
    with pytest.raises(ValueError, match=r"same first dim.*\(10, 2\).*\(9,\)"):
        TensorDataset(np.zeros((10, 2)), np.zeros(9))


def test_tensor_dataset_needs_an_array():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="single number"):
        TensorDataset(np.zeros(3), np.float32(1.0))


def test_dataset_base_class_explains_what_to_define():
    with pytest.raises(TypeError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(TypeError, match="__len__"):
        len(Dataset())


def test_subset_maps_indices_and_checks_range():
    X, y = _xy()
    sub = Subset(TensorDataset(X, y), [7, 2])
    assert len(sub) == 2 and sub[0][1] == 7 and sub[1][1] == 2
    with pytest.raises(IndexError, match=r"\[0, 10\)"):
        Subset(TensorDataset(X, y), [10])


# ---- batching arithmetic --------------------------------------------------------------------------


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_batches_cover_the_data_with_the_right_sizes(n, batch_size, drop_last, shuffle):
    X, y = _xy(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=1)
    batches = list(loader)
    expected_len = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected_len == len(batches)
    sizes = [b[1].shape[0] for b in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if batches:
        assert sizes[-1] == (batch_size if drop_last else n - batch_size * (expected_len - 1))
    seen = np.concatenate([b[1].numpy() for b in batches]) if batches else np.array([], dtype=np.int64)
    assert len(set(seen.tolist())) == len(seen)  # no sample twice
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))
    for bx, by in batches:  # rows stay paired with their labels
        np.testing.assert_array_equal(bx.numpy(), X[by.numpy()])


def test_yields_tensors_with_dtypes_kept():
    X, y = _xy()
    x, t = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert isinstance(x, tge.Tensor) and x.dtype == np.float32 and x.shape == (4, 2)
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2, 3]


def test_no_shuffle_keeps_order():
    X, y = _xy(7)
    labels = np.concatenate([t.numpy() for _, t in DataLoader(TensorDataset(X, y), batch_size=3)])
    assert labels.tolist() == list(range(7))


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(*_xy()), batch_size=0)


# ---- reproducibility ------------------------------------------------------------------------------


def _epoch_orders(loader: DataLoader, epochs: int = 3) -> list[list[int]]:
    return [np.concatenate([t.numpy() for _, t in loader]).tolist() for _ in range(epochs)]


def test_seed_makes_runs_identical_and_epochs_differ():
    X, y = _xy(30)
    a = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=5))
    b = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=5))
    c = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=6))
    assert a == b
    assert a != c
    assert a[0] != a[1] != a[2]  # each epoch reshuffles
    assert all(sorted(order) == list(range(30)) for order in a)


def test_seed_does_not_depend_on_the_library_generator():
    X, y = _xy(30)
    tge.manual_seed(1)
    a = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=5), 1)
    tge.manual_seed(2)
    tge.randn(10)
    b = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=5), 1)
    assert a == b


def test_without_seed_manual_seed_repeats_the_shuffle():
    X, y = _xy(30)
    tge.manual_seed(3)
    a = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True), 2)
    tge.manual_seed(3)
    b = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True), 2)
    tge.manual_seed(4)
    c = _epoch_orders(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True), 2)
    assert a == b and a != c


# ---- fast path and generic path agree ------------------------------------------------------------


class Wrapped(Dataset):
    """The same samples as a TensorDataset, but served one by one (the generic path)."""

    def __init__(self, ds: TensorDataset):
        self.ds = ds

    def __getitem__(self, i: int):
        return self.ds[i]

    def __len__(self) -> int:
        return len(self.ds)


def test_fast_path_equals_per_item_path_including_subsets():
    X, y = _xy(23)
    ds = TensorDataset(X, y)
    sub_fast = Subset(Subset(ds, np.arange(3, 23)), np.arange(0, 20, 2))
    sub_slow = Subset(Subset(Wrapped(ds), np.arange(3, 23)), np.arange(0, 20, 2))
    for fast_ds, slow_ds in ((ds, Wrapped(ds)), (sub_fast, sub_slow)):
        fast = list(DataLoader(fast_ds, batch_size=4, shuffle=True, seed=9))
        slow = list(DataLoader(slow_ds, batch_size=4, shuffle=True, seed=9))
        assert len(fast) == len(slow)
        for (fx, fy), (sx, sy) in zip(fast, slow):
            np.testing.assert_array_equal(fx.numpy(), sx.numpy())
            np.testing.assert_array_equal(fy.numpy(), sy.numpy())
            assert fx.dtype == sx.dtype and fy.dtype == sy.dtype


def test_fast_path_fancy_indexes_instead_of_calling_getitem(monkeypatch):
    ds = TensorDataset(*_xy(12))
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-item call on the fast path"))
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert [b[1].tolist() for b in DataLoader(Subset(ds, [5, 1, 2]), batch_size=2)] == [[5, 1], [2]]


def test_generic_path_collates_tuples_numbers_and_dicts():
    loader = DataLoader(Squares(5), batch_size=2)
    x, y = next(iter(loader))
    assert x.shape == (2, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert y.tolist() == [0, 1]
    batch = collate([{"a": 1.5, "b": np.int32(2)}, {"a": 2.5, "b": np.int32(3)}])
    assert batch["a"].dtype == np.float32 and batch["b"].dtype == np.int32
    assert collate([tge.tensor([1.0, 2.0]), tge.tensor([3.0, 4.0])]).shape == (2, 2)


def test_transform_applies_to_inputs_on_both_paths():
    X, y = _xy(6)
    double = lambda x: x * 2  # noqa: E731
    for ds in (TensorDataset(X, y), Wrapped(TensorDataset(X, y))):
        x, t = next(iter(DataLoader(ds, batch_size=6, transform=double)))
        np.testing.assert_array_equal(x.numpy(), 2 * X)
        np.testing.assert_array_equal(t.numpy(), y)
