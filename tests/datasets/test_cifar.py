"""CIFAR-10 binary reader on tiny files built here; safe tar extraction."""

from __future__ import annotations

import numpy as np
import pytest

from tests.datasets.helpers import cifar_arrays, cifar_bytes, tar_gz, write
from tinygrad_edu import datasets
from tinygrad_edu.datasets import CorruptFileError, DatasetNotFoundError, extract_tar, read_cifar_batch

TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]


def _batches(n_per_file: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {name: cifar_arrays(n_per_file, seed=k) for k, name in enumerate([*TRAIN, "test_batch.bin"])}


def _write_folder(root, batches) -> None:
    for name, (images, labels) in batches.items():
        write(root / "cifar-10-batches-bin" / name, cifar_bytes(images, labels))


def test_reads_binary_batches_like_torchvision(tmp_path):
    batches = _batches()
    _write_folder(tmp_path, batches)
    train = datasets.cifar10(tmp_path)
    all_images = np.concatenate([batches[n][0] for n in TRAIN])
    all_labels = np.concatenate([batches[n][1] for n in TRAIN])
    assert len(train) == 10 and train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(train.data, all_images.transpose(0, 2, 3, 1))  # stored CHW, served HWC
    assert train.targets.dtype == np.int64 and train.targets.tolist() == all_labels.tolist()
    x, y = train[7]
    assert x.shape == (3, 32, 32) and x.dtype == np.float32 and isinstance(y, int) and y == all_labels[7]
    np.testing.assert_allclose(x, all_images[7] / 255.0, rtol=1e-6)
    assert train.classes[0] == "airplane" and len(train.classes) == 10
    test = datasets.cifar10(tmp_path, train=False, transform=lambda im: im[:, ::2, ::2])
    assert len(test) == 2 and test[0][0].shape == (3, 16, 16)


def test_record_layout_red_plane_first(tmp_path):
    image = np.zeros((1, 3, 32, 32), np.uint8)
    image[0, 0] = 200  # all red
    images, labels = read_cifar_batch(write(tmp_path / "one.bin", cifar_bytes(image, np.array([3]))))
    assert labels.tolist() == [3]
    assert (images[0, :, :, 0] == 200).all() and (images[0, :, :, 1:] == 0).all()
    assert len(cifar_bytes(image, np.array([3]))) == 3073


def test_class_names_from_meta_file(tmp_path):
    _write_folder(tmp_path, _batches(1))
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
    assert datasets.cifar10(tmp_path, train=False).classes == list("abcdefghij")


def test_truncated_batch_names_file_and_record_size(tmp_path):
    batches = _batches()
    _write_folder(tmp_path, batches)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptFileError) as err:
        datasets.cifar10(tmp_path)
    message = str(err.value)
    assert str(path) in message and "3073-byte records" in message and f"found {2 * 3073 - 10} bytes" in message
    assert "download=True" in message


def test_bad_label_byte_is_refused(tmp_path):
    images, labels = cifar_arrays(3)
    labels[1] = 42
    with pytest.raises(CorruptFileError, match=r"label 0..9 .* found 42 in record 1"):
        read_cifar_batch(write(tmp_path / "b.bin", cifar_bytes(images, labels)))
    with pytest.raises(CorruptFileError, match="found 0 bytes"):
        read_cifar_batch(write(tmp_path / "empty.bin", b""))


def test_archive_in_root_is_unpacked(tmp_path):
    batches = _batches(1)
    members = {f"cifar-10-batches-bin/{n}": cifar_bytes(*batches[n]) for n in batches}
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(tar_gz(members))
    ds = datasets.cifar10(tmp_path)
    assert len(ds) == 5 and (tmp_path / "cifar-10-batches-bin" / "data_batch_5.bin").is_file()
    assert not list(tmp_path.rglob("*.part"))


def test_archive_without_the_batches_is_reported(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(tar_gz({"readme.txt": b"hello"}))
    with pytest.raises(CorruptFileError, match="does not contain cifar-10-batches-bin/data_batch_1.bin"):
        datasets.cifar10(tmp_path)


@pytest.mark.parametrize("name", ["../evil.bin", "cifar-10-batches-bin/../../evil.bin", "/tmp/evil_tinygrad_edu.bin"])
def test_extraction_refuses_path_traversal(tmp_path, name):
    archive = tmp_path / "a" / "x.tar.gz"
    write(archive, tar_gz({"ok.txt": b"fine", name: b"pwned"}))
    with pytest.raises(CorruptFileError, match="outside"):
        extract_tar(archive, tmp_path / "a" / "out")
    assert not (tmp_path / "a" / "evil.bin").exists() and not (tmp_path / "evil.bin").exists()


def test_extraction_refuses_links(tmp_path):
    archive = write(tmp_path / "x.tar.gz", tar_gz({}, symlinks={"link": "/etc/passwd"}))
    with pytest.raises(CorruptFileError, match="link"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "link").exists()


def test_damaged_archive(tmp_path):
    data = tar_gz({"cifar-10-batches-bin/test_batch.bin": cifar_bytes(*cifar_arrays(40))})
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"cifar-10-binary.tar.gz is damaged"):
        datasets.cifar10(tmp_path, train=False)
    assert not (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").exists()  # nothing partial


def test_missing_files_teach_the_fix(tmp_path):
    with pytest.raises(
        DatasetNotFoundError,
        match=r"CIFAR-10 file data_batch_1.bin not found in .*cifar-10-batches-bin.*"
        r"cifar10\(.*download=True\).*--dataset cifar10 --download",
    ):
        datasets.cifar10(tmp_path)
