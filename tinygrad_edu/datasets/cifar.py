"""CIFAR-10 from its *binary* release (cifar-10-binary.tar.gz), never from the pickled one.

    train = cifar10("data", download=True)   # reads data/cifar-10-batches-bin/data_batch_1..5.bin
    x, y = train[0]                           # x: (3, 32, 32) float32 in [0, 1], y: an int
    train.data.shape                          # (50000, 32, 32, 3) uint8, as torchvision's

Each .bin file is a run of 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes — the
1024 red values of the 32×32 image row by row, then the 1024 green, then the 1024 blue. The
pickled "python version" of CIFAR would run code from the file when loaded; these are plain bytes.
The archive is unpacked member by member, refusing links and any path that leaves the folder.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from .download import CorruptFileError, DatasetNotFoundError, download_file

RECORD = 1 + 3 * 32 * 32  # 1 label byte + 3072 pixel bytes


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one binary CIFAR-10 batch file: images (N, 32, 32, 3) uint8 and labels (N,) int64."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) == 0 or len(raw) % RECORD:
        raise CorruptFileError(
            f"{path} is truncated or not a CIFAR-10 binary batch: expected a whole number of {RECORD}-byte "
            f"records (1 label byte + 3072 pixel bytes), found {len(raw)} bytes "
            f"({len(raw) // RECORD} records and {len(raw) % RECORD} bytes over)"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(labels.argmax())
        raise CorruptFileError(
            f"{path} is not a CIFAR-10 binary batch: expected a label 0..9 as the first byte of every record, "
            f"found {labels[bad]} in record {bad} (CIFAR-100 files have 2 label bytes)"
        )
    images = records[:, 1:].reshape(-1, 3, 32, 32)  # channels first, as stored
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)), labels  # (N, H, W, C) like torchvision


def extract_tar(archive: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Unpack a .tar.gz into ``dest`` safely: regular files and folders only, all inside ``dest``.

    Each file is written to a temporary name and renamed when complete. Raises CorruptFileError
    for a damaged archive, a link, or a member whose path would escape ``dest`` ("../x", "/etc/x").
    """
    archive, dest = Path(archive), Path(dest).resolve()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                target = (dest / member.name).resolve()
                if os.path.isabs(member.name) or not target.is_relative_to(dest):
                    raise CorruptFileError(
                        f"{archive}: member {member.name!r} would be written outside {dest}; refusing to extract"
                    )
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise CorruptFileError(
                        f"{archive}: member {member.name!r} is a link or a device; refusing to extract"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(tar.extractfile(member), target)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise CorruptFileError(
            f"{archive} is damaged or not a .tar.gz ({type(e).__name__}: {e}); delete it and download it again"
        ) from e


def _write_atomic(source: Any, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


class CIFAR10(Dataset):
    """CIFAR-10: 60,000 colour images of 32×32 pixels in 10 classes (50,000 train, 10,000 test), torchvision-style.

    Files live in ``root/cifar-10-batches-bin`` (the archive itself in ``root``). ``data``:
    (N, 32, 32, 3) uint8 (height, width, channel, as torchvision's); ``targets``: (N,) int64;
    ``classes``: the names. ``ds[i]`` is ``(x, y)``: x a (3, 32, 32) float32 image scaled to
    [0, 1] (then passed through ``transform``), y an int.
    """

    base_folder = "cifar-10-batches-bin"
    archive = "cifar-10-binary.tar.gz"
    mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        download: bool = False,
        transform: Callable[[np.ndarray], Any] | None = None,
    ):
        self.root, self.train, self.transform = root, train, transform
        self.folder = Path(root) / self.base_folder
        files = self.train_files if train else self.test_files
        self._prepare(files, download)
        try:
            batches = [read_cifar_batch(self.folder / f) for f in files]
        except CorruptFileError as e:
            fix = f"call cifar10({str(root)!r}, download=True)"
            raise CorruptFileError(f"{e}; delete {self.folder} and {fix} to unpack a fresh copy") from None
        self.data = np.concatenate([images for images, _ in batches])
        self.targets = np.concatenate([labels for _, labels in batches])
        meta = self.folder / "batches.meta.txt"
        if meta.is_file():
            self.classes = [line.strip() for line in meta.read_text().splitlines() if line.strip()]

    def _prepare(self, files: list[str], download: bool) -> None:
        """Make sure the batch files exist: unpack the archive if it is there, download it if asked to."""
        missing = [f for f in files if not (self.folder / f).is_file()]
        if not missing:
            return
        archive = Path(self.root) / self.archive
        if not archive.is_file():
            if not download:
                raise DatasetNotFoundError(
                    f"CIFAR-10 file {missing[0]} not found in {self.folder} (nor the archive {self.archive} in "
                    f"{self.root}); call cifar10({str(self.root)!r}, download=True) or run "
                    "`tinygrad-edu train --dataset cifar10 --download`"
                )
            download_file(self.archive, self.root, self.mirrors, self.md5, what="CIFAR-10")
        extract_tar(archive, self.root)
        still = [f for f in files if not (self.folder / f).is_file()]
        if still:
            raise CorruptFileError(
                f"{archive} does not contain {self.base_folder}/{still[0]}: it is not the CIFAR-10 binary release; "
                f"delete it and call cifar10({str(self.root)!r}, download=True)"
            )

    def __getitem__(self, index: int) -> tuple[Any, int]:
        x = self.data[index].transpose(2, 0, 1).astype(np.float32) / 255.0  # (3, 32, 32) in [0, 1]
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"CIFAR10({split}: {len(self)} images (32, 32, 3), root={str(self.root)!r})"


def cifar10(
    root: str | os.PathLike,
    train: bool = True,
    download: bool = False,
    transform: Callable[[np.ndarray], Any] | None = None,
) -> CIFAR10:
    """CIFAR-10's training (or test) split from ``root/cifar-10-batches-bin``; ``download=True`` fetches it."""
    return CIFAR10(root, train=train, download=download, transform=transform)
