"""tge.save / tge.load on file objects, bounded loading, one error class, predictable temp files, umask modes."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn, serialization
from tinygrad_edu.npz import CheckpointError


def _npy(array: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, array)
    return f.getvalue()


def _ours(root: str = '{"array": "w"}') -> bytes:
    return _npy(np.array('{"format": "tinygrad_edu", "version": 1, "root": ' + root + "}"))


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_bytesio_round_trip_like_pytorch():
    state = {"w": np.arange(6.0).reshape(2, 3), "step": 3, "name": "adam", "t": tge.tensor([1.0, 2.0])}
    buffer = io.BytesIO()
    tge.save(state, buffer)
    buffer.seek(0)
    back = tge.load(buffer)
    np.testing.assert_array_equal(back["w"], state["w"])
    np.testing.assert_array_equal(back["t"], [1.0, 2.0])
    assert back["step"] == 3 and back["name"] == "adam"


def test_open_files_and_unseekable_streams(tmp_path):
    with open(tmp_path / "a.pt", "wb") as f:
        tge.save({"w": np.ones(4, np.float32)}, f)
    with open(tmp_path / "a.pt", "rb") as f:
        assert tge.load(f, map_location="cpu", weights_only=True)["w"].dtype == np.float32

    class Stream:  # a pipe-like object: read() only
        def __init__(self, data):
            self.f = io.BytesIO(data)

        def read(self, n=-1):
            return self.f.read(n)

    np.testing.assert_array_equal(tge.load(Stream((tmp_path / "a.pt").read_bytes()))["w"], np.ones(4))


def test_a_module_or_optimizer_is_refused_with_the_state_dict_advice(tmp_path):
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"Linear.*Save its state_dict\(\) instead"):
        tge.save(model, tmp_path / "m.pt")
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        tge.save({"opt": tge.optim.SGD(model.parameters(), lr=0.1)}, io.BytesIO())
    assert list(tmp_path.iterdir()) == []
    tge.save(model.state_dict(), tmp_path / "m.pt")
    assert set(tge.load(tmp_path / "m.pt")) == {"weight", "bias"}


def test_damaged_npy_header_is_a_checkpoint_error_not_token_error(tmp_path):
    raw = bytearray(_npy(np.arange(3.0)))
    at = raw.find(b"(3,)")
    raw[at : at + 4] = b'"""('  # numpy's own parser raises tokenize.TokenError on this
    _zip(tmp_path / "bad.npz", {"__tinygrad_edu__.npy": _ours(), "w.npy": bytes(raw)})
    with pytest.raises(CheckpointError, match=r"bad.npz: entry 'w' has a damaged .npy header"):
        tge.load(tmp_path / "bad.npz")


def test_a_declared_shape_larger_than_the_file_is_refused_before_allocating(tmp_path):
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
    npy = b"\x93NUMPY\x01\x00" + (len(text) + 1).to_bytes(2, "little") + text + b"\n" + bytes(16)
    _zip(tmp_path / "big.npz", {"__tinygrad_edu__.npy": _ours(), "w.npy": npy})
    with pytest.raises(CheckpointError, match=r"big.npz: entry 'w' declares shape \(1000000000000,\).*holds 16 bytes"):
        tge.load(tmp_path / "big.npz")


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    zeros = _npy(np.zeros(50_000_000, np.float32))  # 200 MB of zeros deflate to ~200 KB
    _zip(tmp_path / "bomb.npz", {"__tinygrad_edu__.npy": _ours(), "w.npy": zeros}, zipfile.ZIP_DEFLATED)
    assert (tmp_path / "bomb.npz").stat().st_size < 1_000_000
    monkeypatch.setenv("TINYGRAD_EDU_MAX_BYTES", "100000000")
    with pytest.raises(
        CheckpointError, match=r"bomb.npz: its entries would need 200,000,\d+ bytes.*TINYGRAD_EDU_MAX_BYTES"
    ):
        tge.load(tmp_path / "bomb.npz")
    assert tge.load(tmp_path / "bomb.npz", max_bytes=300_000_000).shape == (50_000_000,)  # the override
    monkeypatch.setenv("TINYGRAD_EDU_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="TINYGRAD_EDU_MAX_BYTES='lots' is not a number"):
        tge.load(tmp_path / "bomb.npz")


@pytest.mark.parametrize(
    "members, message",
    [
        (
            {"__tinygrad_edu__.npy": _ours(), "w.npy": _npy(np.ones(2)), "notes.txt": b"hi"},
            "'notes.txt' is not an .npy",
        ),
        ({"__tinygrad_edu__.npy": _ours('{"array": "v"}'), "w.npy": _npy(np.ones(2))}, "names an entry 'v'"),
        ({"__tinygrad_edu__.npy": _npy(np.array("{not json"))}, "is not JSON"),
        ({"__tinygrad_edu__.npy": _ours('{"dict": [[1]]}')}, "not a \\[key, node\\] pair"),
        ({"__tinygrad_edu__.npy": _ours('{"what": 1}')}, "unknown node 'what'"),
        ({"__tinygrad_edu__.npy": _ours('{"scalar": "w"}'), "w.npy": _npy(np.ones(2))}, "should be a scalar"),
        ({"__tinygrad_edu__.npy": _ours() + b"x", "w.npy": _npy(np.ones(2))}, "but holds 257 bytes"),
        ({"__tinygrad_edu__.npy": _ours(), "w.npy": _npy(np.ones(2))[:-3]}, "declares shape \\(2,\\)"),
        ({"__tinygrad_edu__.npy": _npy(np.array('{"format": "tinygrad_edu", "version": 99}'))}, "newer tinygrad_edu"),
        ({"__tinygrad_edu__.npy": _npy(np.array('{"format": "tinygrad_edu", "version": "1"}'))}, "format version"),
    ],
)
def test_every_problem_is_one_error_class_naming_the_file(tmp_path, members, message):
    _zip(tmp_path / "x.npz", members)
    with pytest.raises(CheckpointError, match=message) as e:
        tge.load(tmp_path / "x.npz")
    assert str(tmp_path / "x.npz") in str(e.value)


def test_temp_files_are_named_predictably_and_made_with_the_umask(tmp_path):
    path = tmp_path / "ckpt.npz"
    old = os.umask(0o022)
    try:
        tge.save({"w": np.ones(2)}, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # like open(path, "w"), not mkstemp's 0600
    assert serialization.temp_name(path) == f".ckpt.npz.tmp-{os.getpid()}"


KILLED = """
import os, signal, sys
import numpy as np
import tinygrad_edu as tge
real = np.lib.format.write_array
def write_then_die(f, array, allow_pickle=False):
    if array.size > 1000:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of the file
    return real(f, array, allow_pickle=allow_pickle)
np.lib.format.write_array = write_then_die
tge.save({"big": np.zeros(100000), "small": np.ones(3)}, sys.argv[1])
"""


def test_kill_9_during_save_leaves_the_old_file_and_the_next_save_removes_the_temp(tmp_path):
    path = tmp_path / "ckpt.npz"
    tge.save({"w": np.arange(3.0)}, path)
    for _ in range(3):  # each killed save first removes the temp file the previous one left
        done = subprocess.run([sys.executable, "-c", KILLED, str(path)], capture_output=True, timeout=120)
        assert done.returncode == -9
        temps = [p.name for p in tmp_path.iterdir() if p.name != "ckpt.npz"]
        assert len(temps) == 1 and temps[0].startswith(".ckpt.npz.tmp-"), temps
    np.testing.assert_array_equal(tge.load(path)["w"], np.arange(3.0))  # the old checkpoint is intact
    (tmp_path / "other.txt").write_text("not ours")
    tge.save({"w": np.ones(1)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz", "other.txt"]


def test_temp_files_of_running_processes_are_kept(tmp_path):
    path = tmp_path / "ckpt.npz"
    alive = tmp_path / f".ckpt.npz.tmp-{os.getppid()}"  # the parent process is alive
    alive.write_bytes(b"partial")
    tge.save({"w": np.ones(1)}, path)
    assert alive.exists()


def test_structure_is_still_plain_json(tmp_path):
    tge.save({"a": 1}, tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        assert json.loads(str(f["__tinygrad_edu__"]))["root"] == {"dict": [["a", {"value": 1}]]}
