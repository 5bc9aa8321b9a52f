"""Fuzz: random single-bit flips and truncations of every file format end in a clear error or in identical data.

Formats with an integrity check of their own — the checkpoint .npz (zip CRC-32 over every member),
.gz (CRC-32 and length), the CIFAR .tar.gz (gzip's CRC, read to the end) and CIFAR batches we
unpacked (the recorded MD5s) — must never load different data. The plain formats have no
checksum: a flip in a raw IDX file's or CIFAR .bin's header is caught, but one in a value can
only change that one value (and a CIFAR .bin cut at a record boundary just has fewer records).
Those tests assert exactly this documented limit, so a loader that let more through would fail.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.datasets.helpers import cifar_arrays, cifar_bytes, idx_bytes, tar_gz
from tinygrad_edu import datasets
from tinygrad_edu.datasets import CorruptFileError, read_cifar_batch, read_idx
from tinygrad_edu.datasets.cifar import RECORD
from tinygrad_edu.npz import CheckpointError

FUZZ = settings(max_examples=60, deadline=None)

STATE = {
    "model": {"fc.weight": np.arange(12, dtype=np.float32).reshape(3, 4), "fc.bias": np.ones(3, np.float32)},
    "optimizer": {"state": {0: {"step": 3, "exp_avg": np.full(4, 0.5)}}, "param_groups": [{"lr": 1e-3}]},
    "epoch": 2,
    "name": "run",
}
IMAGES = (np.arange(4 * 5 * 6) % 256).astype(np.uint8).reshape(4, 5, 6)
CIFAR = [cifar_arrays(2, seed=k) for k in range(6)]
CIFAR_FILES = [*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"]


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return type(a) is type(b) and a == b


def _flip(data: bytes, position: int, bit: int) -> bytes:
    out = bytearray(data)
    out[position % len(out)] ^= 1 << bit
    return bytes(out)


def _checkpoint_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        tge.save(STATE, Path(d) / "c.npz")
        return (Path(d) / "c.npz").read_bytes()


CKPT = _checkpoint_bytes()
IDX = idx_bytes(IMAGES)
IDX_GZ = __import__("gzip").compress(IDX)


def _load_checkpoint(data: bytes):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "c.npz").write_bytes(data)
        try:
            return tge.load(Path(d) / "c.npz")
        except CheckpointError as e:
            assert str(Path(d) / "c.npz") in str(e)
            return None


@FUZZ
@given(st.integers(0, len(CKPT) - 1), st.integers(0, 7))
def test_checkpoint_bit_flip(position, bit):
    loaded = _load_checkpoint(_flip(CKPT, position, bit))
    assert loaded is None or _same(STATE, loaded)


@FUZZ
@given(st.integers(0, len(CKPT) - 1))
def test_checkpoint_truncation(length):
    assert _load_checkpoint(CKPT[:length]) is None


def _read_idx(data: bytes, name: str):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / name).write_bytes(data)
        try:
            return read_idx(Path(d) / name)
        except CorruptFileError as e:
            assert name in str(e)
            return None


@FUZZ
@given(st.integers(0, len(IDX_GZ) - 1), st.integers(0, 7))
def test_idx_gz_bit_flip(position, bit):
    out = _read_idx(_flip(IDX_GZ, position, bit), "x.idx.gz")
    assert out is None or _same(IMAGES, out)


@FUZZ
@given(st.integers(0, len(IDX_GZ) - 1))
def test_idx_gz_truncation(length):
    assert _read_idx(IDX_GZ[:length], "x.idx.gz") is None


@FUZZ
@given(st.integers(0, len(IDX) - 1), st.integers(0, 7))
def test_raw_idx_bit_flip_is_caught_in_the_header_and_changes_one_value_at_most(position, bit):
    out = _read_idx(_flip(IDX, position, bit), "x.idx")
    header = 4 + 4 * IMAGES.ndim
    if position < header:
        assert out is None  # magic, type, rank and dims are all checked against the length
    else:  # the documented limit: a plain IDX file has no checksum
        assert (
            out is not None
            and (out != IMAGES).sum() == 1
            and out.flat[position - header] != IMAGES.flat[position - header]
        )


@FUZZ
@given(st.integers(0, len(IDX) - 1))
def test_raw_idx_truncation(length):
    assert _read_idx(IDX[:length], "x.idx") is None


BIN = cifar_bytes(*CIFAR[0])


@FUZZ
@given(st.integers(0, len(BIN) - 1), st.integers(0, 7))
def test_raw_cifar_bin_flip_is_caught_or_changes_one_byte(position, bit):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "b.bin"
        path.write_bytes(_flip(BIN, position, bit))
        try:
            images, labels = read_cifar_batch(path)
        except CorruptFileError as e:
            assert "b.bin" in str(e) and position % RECORD == 0  # only a label byte pushed above 9 is noticed
            return
    record, offset = divmod(position, RECORD)
    want_images, want_labels = CIFAR[0]
    if offset == 0:
        assert (labels != want_labels).sum() == 1 and (images == want_images.transpose(0, 2, 3, 1)).all()
    else:
        assert (labels == want_labels).all() and (images != want_images.transpose(0, 2, 3, 1)).sum() == 1


@FUZZ
@given(st.integers(0, len(BIN) - 1))
def test_raw_cifar_bin_truncation(length):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "b.bin"
        path.write_bytes(BIN[:length])
        try:
            images, labels = read_cifar_batch(path)
        except CorruptFileError as e:
            assert "b.bin" in str(e)
            return
    assert length % RECORD == 0 and len(labels) == length // RECORD  # the documented limit: whole records cut


ARCHIVE = tar_gz({f"cifar-10-batches-bin/{n}": cifar_bytes(*CIFAR[k]) for k, n in enumerate(CIFAR_FILES)})


def _load_cifar(archive: bytes, change=None):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "cifar-10-binary.tar.gz").write_bytes(archive)
        try:
            if change is not None:
                datasets.cifar10(d)  # unpack once (verified), then damage a batch on disk
                change(Path(d) / "cifar-10-batches-bin")
            return datasets.cifar10(d).data, datasets.cifar10(d, train=False).targets
        except CorruptFileError as e:
            assert "cifar-10" in str(e)
            return None


EXPECTED = _load_cifar(ARCHIVE)


@FUZZ
@given(st.integers(0, len(ARCHIVE) - 1), st.integers(0, 7))
def test_cifar_tar_gz_bit_flip(position, bit):
    out = _load_cifar(_flip(ARCHIVE, position, bit))
    assert out is None or (_same(EXPECTED[0], out[0]) and _same(EXPECTED[1], out[1]))


@FUZZ
@given(st.integers(0, len(ARCHIVE) - 1))
def test_cifar_tar_gz_truncation(length):
    assert _load_cifar(ARCHIVE[:length]) is None


@FUZZ
@given(st.sampled_from(CIFAR_FILES[:5]), st.integers(0, 2 * RECORD - 1), st.integers(0, 7), st.booleans())
def test_unpacked_cifar_batches_are_protected_by_their_recorded_md5(name, position, bit, truncate):
    def damage(folder):
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[:position] if truncate else _flip(data, position, bit))

    assert _load_cifar(ARCHIVE, damage) is None
