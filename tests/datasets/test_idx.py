"""MNIST / Fashion-MNIST IDX reader on tiny files built here: plain and gz, truncated, wrong magic, missing."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.datasets.helpers import idx_bytes, mnist_arrays, write, write_mnist
from tinygrad_edu import datasets
from tinygrad_edu.datasets import CorruptFileError, DatasetError, DatasetNotFoundError, read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    images, labels = write_mnist(tmp_path / "MNIST" / "raw", "train", 5, gz)
    ds = datasets.mnist(tmp_path)
    assert len(ds) == 5 and ds.data.dtype == np.uint8 and ds.data.shape == (5, 28, 28)
    np.testing.assert_array_equal(ds.data, images)
    assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and isinstance(y, int) and y == labels[3]
    np.testing.assert_allclose(x[0], images[3] / 255.0, rtol=1e-6)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert ds.classes[0] == "0 - zero" and len(ds.classes) == 10


def test_test_split_mixed_compression_and_transform(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    images, labels = mnist_arrays(4, seed=1)
    write(raw / "t10k-images-idx3-ubyte", idx_bytes(images), gz=True)
    write(raw / "t10k-labels-idx1-ubyte", idx_bytes(labels), gz=False)
    ds = datasets.fashion_mnist(tmp_path, train=False, transform=lambda x: x * 2 - 1)  # sees pixels in [0, 1]
    x, _ = ds[0]
    np.testing.assert_allclose(x[0], images[0] / 255.0 * 2 - 1, rtol=1e-5, atol=1e-6)
    assert ds.classes[-1] == "Ankle boot" and "test" in repr(ds)


def test_read_idx_other_types_and_byte_order(tmp_path):
    values = np.array([[1, -2, 300], [4, 5, -70000]], dtype=np.int32)
    path = write(tmp_path / "ints.idx", idx_bytes(values, type_code=0x0C))
    out = read_idx(path)
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)
    floats = np.linspace(-1, 1, 6).reshape(3, 2)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "f.idx", idx_bytes(floats, 0x0E))), floats)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_images_file_names_file_expected_and_found(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, "train", 3, gz=False)
    images = (raw / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").unlink()
    path = write(raw / "train-images-idx3-ubyte", images[:-100], gz)
    with pytest.raises(CorruptFileError) as err:
        datasets.mnist(tmp_path)
    message = str(err.value)
    assert str(path) in message and "truncated" in message
    assert f"expected {len(images)} bytes, found {len(images) - 100}" in message
    assert "mnist(" in message and "download=True" in message  # how to fix it


def test_wrong_magic_says_what_was_expected(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    images, labels = mnist_arrays(2)
    write(raw / "train-images-idx3-ubyte", idx_bytes(labels))  # a label file under the image name
    write(raw / "train-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(
        CorruptFileError,
        match=r"train-images-idx3-ubyte has the wrong magic number: expected 2051 "
        r"\(0x00000803.*found 2049 \(0x00000801",
    ):
        datasets.mnist(tmp_path)


def test_not_an_idx_file_at_all(tmp_path):
    path = write(tmp_path / "x.idx", b"PK\x03\x04 this is a zip, not IDX")
    with pytest.raises(CorruptFileError, match="not an IDX file"):
        read_idx(path)
    with pytest.raises(CorruptFileError, match="at least a 4-byte"):
        read_idx(write(tmp_path / "y.idx", b"\x00\x00"))
    with pytest.raises(CorruptFileError, match="trailing bytes"):
        read_idx(write(tmp_path / "z.idx", idx_bytes(np.zeros(3, np.uint8)) + b"\x00"))


def test_broken_gzip_is_reported_with_the_file(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, "train", 2, gz=True)
    gz = raw / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:15])
    with pytest.raises(CorruptFileError, match=r"train-labels-idx1-ubyte.gz is not a complete gzip file"):
        datasets.mnist(tmp_path)


def test_images_and_labels_must_agree(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    images, _ = mnist_arrays(3)
    write(raw / "train-images-idx3-ubyte", idx_bytes(images))
    write(raw / "train-labels-idx1-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(CorruptFileError, match="3 images but .* 2 labels"):
        datasets.mnist(tmp_path)
    write(raw / "train-images-idx3-ubyte", idx_bytes(np.zeros((2, 27, 28), np.uint8)))
    with pytest.raises(CorruptFileError, match="28×28"):
        datasets.mnist(tmp_path)


def test_missing_files_teach_the_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        datasets.mnist(tmp_path / "data")
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert str(err.value) == (
        f"MNIST file train-images-idx3-ubyte.gz not found in {raw}; call mnist({str(tmp_path / 'data')!r}, "
        "download=True) or run `tinygrad-edu train --dataset mnist --download`"
    )
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, DatasetError)
    with pytest.raises(
        DatasetNotFoundError, match=r"FashionMNIST file t10k-images.*fashion_mnist\(.*--dataset fashion_mnist"
    ):
        datasets.fashion_mnist(tmp_path, train=False)


def test_gz_and_plain_give_the_same_arrays(tmp_path):
    images, labels = mnist_arrays(3, seed=5)
    plain = write(tmp_path / "a" / "imgs", idx_bytes(images))
    packed = tmp_path / "b" / "imgs.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(read_idx(plain), read_idx(packed))
