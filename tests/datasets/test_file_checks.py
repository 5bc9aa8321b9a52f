"""Data set files are verified to their end and bounded before allocating; every error names the file."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from tests.datasets.helpers import cifar_arrays, cifar_bytes, idx_bytes, tar_gz, write, write_mnist
from tinygrad_edu import datasets
from tinygrad_edu.datasets import CorruptFileError, read_idx
from tinygrad_edu.datasets.cifar import MANIFEST, RECORD

FILES = [*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"]


def _cifar_archive(n: int = 2, meta: bytes | None = None) -> bytes:
    members = {f"cifar-10-batches-bin/{name}": cifar_bytes(*cifar_arrays(n, seed=k)) for k, name in enumerate(FILES)}
    if meta is not None:
        members["cifar-10-batches-bin/batches.meta.txt"] = meta
    return tar_gz(members)


def test_a_gzip_bomb_idx_is_refused_from_its_header(tmp_path):
    header = bytes([0, 0, 8, 3]) + (3_826_531).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2  # 3 GB of pixels
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(header + bytes(2_000_000)))  # a few KB on disk
    with pytest.raises(
        CorruptFileError,
        match=r"train-images-idx3-ubyte.gz: its header's dims \(3826531, 28, 28\) would need 3,000,000,304 bytes",
    ):
        read_idx(path)


def test_dims_that_overflow_int64_name_the_file(tmp_path):
    path = write(tmp_path / "huge.idx", bytes([0, 0, 8, 4]) + b"\xff\xff\xff\xff" * 4)
    with pytest.raises(CorruptFileError, match=r"huge.idx: its header's dims \(4294967295, .*more than the limit"):
        read_idx(path)


def test_the_limit_can_be_raised_or_lowered(tmp_path, monkeypatch):
    path = write(tmp_path / "x.idx", idx_bytes(np.zeros((100, 10), np.uint8)))
    assert read_idx(path).shape == (100, 10)
    monkeypatch.setenv("TINYGRAD_EDU_MAX_BYTES", "500")
    with pytest.raises(CorruptFileError, match="TINYGRAD_EDU_MAX_BYTES"):
        read_idx(path)
    assert read_idx(path, max_bytes=1000).shape == (100, 10)


@pytest.mark.parametrize("where", ["crc", "length", "data", "trailing-garbage"])
def test_a_damaged_gzip_is_an_error_not_different_pixels(tmp_path, where):
    data = bytearray(gzip.compress(idx_bytes(np.arange(600, dtype=np.uint8).reshape(6, 10, 10) % 251)))
    if where == "crc":
        data[-8] ^= 1
    elif where == "length":
        data[-1] ^= 1
    elif where == "data":
        data[len(data) // 2] ^= 4
    else:
        data += b"junk"
    path = write(tmp_path / "x.idx.gz", bytes(data))
    with pytest.raises(CorruptFileError, match="x.idx.gz"):
        read_idx(path)


def test_an_official_sized_mnist_gz_must_have_the_published_md5(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, "train", 5, gz=True)
    images = raw / "train-images-idx3-ubyte.gz"
    monkeypatch.setattr(datasets.MNIST, "official_counts", (5,))  # pretend 5 images is the official release
    md5s = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in raw.iterdir()}
    monkeypatch.setattr(datasets.MNIST, "md5", md5s)
    assert len(datasets.mnist(tmp_path)) == 5
    data = bytearray(images.read_bytes())
    data[4] ^= 1  # gzip's mtime field: not covered by its CRC, the pixels stay the same
    images.write_bytes(bytes(data))
    assert read_idx(images).shape == (5, 28, 28)  # gzip alone cannot tell
    with pytest.raises(CorruptFileError, match=r"train-images-idx3-ubyte.gz holds 5 samples like the official"):
        datasets.mnist(tmp_path)
    monkeypatch.setattr(datasets.MNIST, "official_counts", (60000, 10000))
    assert len(datasets.mnist(tmp_path)) == 5  # not the official size: a file of one's own, CRC-checked only


def test_a_cifar_archive_is_read_past_the_tar_end_marker(tmp_path):
    data = bytearray(_cifar_archive())
    data[-8] ^= 1  # the gzip CRC, after the tar end marker: tarfile alone never reads it
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"cifar-10-binary.tar.gz is damaged.*CRC"):
        datasets.cifar10(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-binary.tar.gz"]  # nothing half-unpacked


def test_an_official_sized_cifar_archive_must_have_the_published_md5(tmp_path, monkeypatch):
    archive = _cifar_archive()
    monkeypatch.setattr(datasets.CIFAR10, "official_batch_bytes", 2 * RECORD)
    monkeypatch.setattr(datasets.CIFAR10, "md5", hashlib.md5(archive).hexdigest())
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cifar-10-binary.tar.gz").write_bytes(archive)
    assert len(datasets.cifar10(tmp_path / "a")) == 10
    changed = bytearray(archive)
    changed[4] ^= 1  # gzip mtime: same content, another MD5
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "cifar-10-binary.tar.gz").write_bytes(bytes(changed))
    with pytest.raises(CorruptFileError, match=r"has the official CIFAR-10 batches but its MD5"):
        datasets.cifar10(tmp_path / "b")
    assert not (tmp_path / "b" / "cifar-10-batches-bin").exists()


def test_unpacked_batches_are_checked_against_their_recorded_md5(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(_cifar_archive())
    first = datasets.cifar10(tmp_path).data.copy()
    folder = tmp_path / "cifar-10-batches-bin"
    assert (folder / MANIFEST).is_file()
    np.testing.assert_array_equal(datasets.cifar10(tmp_path).data, first)
    batch = folder / "data_batch_3.bin"
    data = bytearray(batch.read_bytes())
    data[100] ^= 1  # one pixel: no format could notice, the recorded MD5 does
    batch.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"data_batch_3.bin has changed since it was unpacked"):
        datasets.cifar10(tmp_path)


def test_a_non_utf8_meta_file_names_the_file(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(_cifar_archive(meta=b"airplane\n\xff\xfe\n"))
    with pytest.raises(CorruptFileError, match=r"batches.meta.txt is not UTF-8 text"):
        datasets.cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text("a\nb\nc\n")
    with pytest.raises(CorruptFileError, match=r"batches.meta.txt should name the 10 CIFAR-10 classes.*names 3"):
        datasets.cifar10(tmp_path)


def test_a_huge_cifar_batch_is_refused_before_reading(tmp_path, monkeypatch):
    for name in FILES:
        write(tmp_path / "cifar-10-batches-bin" / name, cifar_bytes(*cifar_arrays(3)))
    monkeypatch.setenv("TINYGRAD_EDU_MAX_BYTES", str(2 * RECORD))
    with pytest.raises(CorruptFileError, match=r"data_batch_1.bin: this batch file would need 9,219 bytes"):
        datasets.cifar10(tmp_path)
