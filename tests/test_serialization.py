"""tge.save / tge.load: round trips of nested state dicts, the plain-NumPy format, atomicity, no pickle."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import serialization


def _optimizer_style_state() -> dict:
    rng = np.random.default_rng(0)
    return {
        "model": {
            "0.weight": rng.standard_normal((4, 3)).astype(np.float32),
            "0.bias": tge.tensor([0.5, -1.0, 2.0, 0.0]),  # a Tensor: stored as an array
            "bn.num_batches_tracked": np.array(7, dtype=np.int64),
        },
        "optimizer": {
            "state": {
                0: {"step": 3, "exp_avg": np.zeros((4, 3)), "exp_avg_sq": np.ones((4, 3))},
                1: {"step": 3, "momentum_buffer": None},
            },
            "param_groups": [
                {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "params": [0, 1], "name": "all"}
            ],
        },
        "epoch": 12,
        "best": float("inf"),
        "history": [{"loss": 0.5, "acc": np.float32(0.875)}, {"loss": 0.25, "acc": np.float32(0.9375)}],
        "mask": np.array([True, False]),
        "labels": np.array(["cat", "dog"]),
        "empty": {},
    }


def _assert_same(a, b, where="root"):
    if isinstance(a, tge.Tensor):
        a = a.numpy()
    assert type(b) is (np.ndarray if isinstance(a, np.ndarray) else type(a)), where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        assert [type(k) for k in a] == [type(k) for k in b], where  # int keys stay int
        for k in a:
            _assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same(u, v, f"{where}/{i}")
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b, where


def test_round_trip_keeps_nesting_key_types_dtypes_and_values(tmp_path):
    state = _optimizer_style_state()
    tge.save(state, tmp_path / "ckpt.npz")
    loaded = tge.load(tmp_path / "ckpt.npz")
    _assert_same(state, loaded)
    assert isinstance(loaded["model"]["0.bias"], np.ndarray)  # Tensors come back as arrays
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    assert loaded["best"] == float("inf")


def test_top_level_array_list_and_str_path(tmp_path):
    tge.save([np.arange(3), (1, "two")], str(tmp_path / "x"))  # the name is used as given
    assert (tmp_path / "x").is_file() and not (tmp_path / "x.npz").exists()
    out = tge.load(str(tmp_path / "x"))
    np.testing.assert_array_equal(out[0], np.arange(3))
    assert out[1] == (1, "two")


def test_file_is_readable_with_plain_numpy(tmp_path):
    tge.save(_optimizer_style_state(), tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["optimizer/state/0/exp_avg_sq"], np.ones((4, 3)))
        assert f["model/0.weight"].dtype == np.float32
        structure = json.loads(str(f["__tinygrad_edu__"]))
    assert structure["format"] == "tinygrad_edu" and structure["version"] == 1
    assert structure["root"]["dict"][0][0] == "model"


def test_colliding_paths_get_distinct_entries(tmp_path):
    state = {"a/b": np.zeros(1), "a": {"b": np.ones(1)}, 1: np.full(1, 2.0), "1": np.full(1, 3.0)}
    tge.save(state, tmp_path / "c.npz")
    _assert_same(state, tge.load(tmp_path / "c.npz"))


def test_unsupported_objects_are_refused_at_save(tmp_path):
    with pytest.raises(TypeError, match=r"model/f.*function"):
        tge.save({"model": {"f": lambda x: x}}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="keys of model must be str or int"):
        tge.save({"model": {(1, 2): np.zeros(1)}}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="objects"):
        tge.save({"w": np.array([{"a": 1}], dtype=object)}, tmp_path / "a.npz")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temp file


def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tge.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    calls = []

    def write_then_fail(f, array, allow_pickle=False):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C halfway through the file
        return real_write(f, array, allow_pickle=allow_pickle)

    real_write = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        tge.save({"w": np.zeros(3), "v": np.zeros(5)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # and no temp file is left
    np.testing.assert_array_equal(tge.load(path)["w"], np.ones(3))


def test_pickled_object_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(
        path,
        __tinygrad_edu__=np.array('{"format": "tinygrad_edu", "version": 1, "root": {"array": "x"}}'),
        x=np.array([object()], dtype=object),
    )
    with pytest.raises(ValueError, match=r"evil.npz holds pickled Python objects.*tinygrad_edu never unpickles"):
        tge.load(path)


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tge.save(_optimizer_style_state(), path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"ckpt.npz is truncated or not an .npz file"):
        tge.load(path)


def test_corrupt_member_names_the_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tge.save({"w": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    start = data.find(b"\x93NUMPY", 200)  # the second .npy member: the array w
    data[start : start + 6] = b"XXXXXX"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="ckpt.npz"):
        tge.load(path)


def test_files_that_are_not_ours(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match=r"plain.npz is not a tinygrad_edu file.*numpy.load"):
        tge.load(tmp_path / "plain.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="text.npz is truncated or not an .npz"):
        tge.load(tmp_path / "text.npz")
    np.save(tmp_path / "arr.npy", np.zeros(2))
    with pytest.raises(ValueError, match="arr.npy"):
        tge.load(tmp_path / "arr.npy")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as zf:
        with zf.open("__tinygrad_edu__.npy", "w") as m:
            np.lib.format.write_array(m, np.array('{"format": "someone-else"}'))
    with pytest.raises(ValueError, match="not ours"):
        tge.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        tge.load(tmp_path / "missing.npz")


def test_exported_names():
    assert tge.save is serialization.save and tge.load is serialization.load
    assert tge.data.DataLoader and tge.datasets.load_digits and tge.metrics.accuracy
