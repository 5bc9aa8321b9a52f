"""Downloads with a fake URL opener (no network): checksum, atomic rename, mirrors, Ctrl-C, no network."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.datasets.helpers import FakeOpener, cifar_arrays, cifar_bytes, idx_bytes, md5, mnist_arrays, tar_gz
from tinygrad_edu import datasets
from tinygrad_edu.datasets import CIFAR10, MNIST, DatasetError, DownloadError, download_file, md5_of
from tinygrad_edu.datasets import download as download_module

MIRROR = "https://mirror.example/mnist/"


@pytest.fixture
def mnist_files():
    """The four MNIST .gz files (tiny), by name."""
    train_images, train_labels = mnist_arrays(4, seed=0)
    test_images, test_labels = mnist_arrays(2, seed=1)
    arrays = {
        "train-images-idx3-ubyte.gz": train_images,
        "train-labels-idx1-ubyte.gz": train_labels,
        "t10k-images-idx3-ubyte.gz": test_images,
        "t10k-labels-idx1-ubyte.gz": test_labels,
    }
    return {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}


def _serve(monkeypatch, files: dict[str, bytes], **kwargs) -> FakeOpener:
    opener = FakeOpener(files, **kwargs)
    monkeypatch.setattr(download_module, "urlopen", opener)
    return opener


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_success_puts_verified_files_in_place(tmp_path, monkeypatch, mnist_files):
    monkeypatch.setattr(MNIST, "mirrors", (MIRROR,))
    monkeypatch.setattr(MNIST, "md5", {name: md5(data) for name, data in mnist_files.items()})
    opener = _serve(monkeypatch, {MIRROR + name: data for name, data in mnist_files.items()})
    ds = datasets.mnist(tmp_path, download=True)
    raw = tmp_path / "MNIST" / "raw"
    assert _leftovers(raw) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # no temp files
    assert len(ds) == 4 and ds.data.shape == (4, 28, 28)
    assert (raw / "train-images-idx3-ubyte.gz").read_bytes() == mnist_files["train-images-idx3-ubyte.gz"]
    datasets.mnist(tmp_path, download=True)  # already there: nothing fetched again
    assert len(opener.urls) == 2


def test_second_mirror_is_used_when_the_first_fails(tmp_path, monkeypatch):
    data = b"hello, mirror two"
    opener = _serve(monkeypatch, {"https://two.example/f.bin": data})
    path = download_file("f.bin", tmp_path, ["https://one.example/", "https://two.example/"], md5(data))
    assert path.read_bytes() == data and md5_of(path) == md5(data)
    assert opener.urls == ["https://one.example/f.bin", "https://two.example/f.bin"]


def test_checksum_mismatch_leaves_no_file(tmp_path, monkeypatch):
    _serve(monkeypatch, {"https://one.example/f.bin": b"tampered bytes"})
    with pytest.raises(DownloadError) as err:
        download_file("f.bin", tmp_path, ["https://one.example/"], md5(b"the real bytes"))
    message = str(err.value)
    assert "f.bin" in message and "checksum mismatch" in message and md5(b"the real bytes") in message
    assert _leftovers(tmp_path) == []


def test_checksum_mismatch_does_not_replace_an_existing_file(tmp_path, monkeypatch):
    (tmp_path / "f.bin").write_bytes(b"old copy")
    _serve(monkeypatch, {"https://one.example/f.bin": b"tampered"})
    with pytest.raises(DownloadError):
        download_file("f.bin", tmp_path, ["https://one.example/"], md5(b"real"))
    assert (tmp_path / "f.bin").read_bytes() == b"old copy" and _leftovers(tmp_path) == ["f.bin"]


def test_no_network_gives_the_teaching_error(tmp_path, monkeypatch):
    _serve(monkeypatch, {})  # every URL fails with URLError
    with pytest.raises(DownloadError) as err:
        datasets.mnist(tmp_path, download=True)
    message = str(err.value)
    raw = tmp_path / "MNIST" / "raw"
    assert "MNIST file train-images-idx3-ubyte.gz" in message and str(raw) in message
    assert "name resolution" in message and "network" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message  # where to get it
    assert isinstance(err.value, DatasetError) and _leftovers(raw) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), ConnectionResetError("connection reset by peer")])
def test_interrupted_download_removes_the_partial_file(tmp_path, monkeypatch, error):
    data = bytes(range(256)) * 50
    _serve(monkeypatch, {"https://one.example/f.bin": data}, fail_after=1000, error=error)
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else DownloadError
    with pytest.raises(expected):
        download_file("f.bin", tmp_path, ["https://one.example/"], md5(data))
    assert _leftovers(tmp_path) == []


def test_cifar_download_then_extract(tmp_path, monkeypatch):
    names = [*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"]
    archive = tar_gz({f"cifar-10-batches-bin/{n}": cifar_bytes(*cifar_arrays(2, seed=k)) for k, n in enumerate(names)})
    monkeypatch.setattr(CIFAR10, "md5", md5(archive))
    _serve(monkeypatch, {"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz": archive})
    ds = datasets.cifar10(tmp_path, train=False, download=True)
    assert len(ds) == 2 and (tmp_path / "cifar-10-binary.tar.gz").read_bytes() == archive
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    np.testing.assert_array_equal(ds.data[0].transpose(2, 0, 1), cifar_arrays(2, seed=5)[0][0])


def test_known_checksums_are_in_the_code():
    assert MNIST.md5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert datasets.FashionMNIST.md5["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert CIFAR10.md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert all(len(v) == 32 for v in {**MNIST.md5, **datasets.FashionMNIST.md5}.values())
