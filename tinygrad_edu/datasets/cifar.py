"""CIFAR-10 from its *binary* release (cifar-10-binary.tar.gz), never from the pickled one.

    train = cifar10("data", download=True)   # reads data/cifar-10-batches-bin/data_batch_1..5.bin
    x, y = train[0]                           # x: (3, 32, 32) float32 in [0, 1], y: an int
    train.data.shape                          # (50000, 32, 32, 3) uint8, as torchvision's

Each .bin file is a run of 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes — the
1024 red values of the 32×32 image row by row, then the 1024 green, then the 1024 blue. The
pickled "python version" of CIFAR would run code from the file when loaded; these are plain bytes.
The archive is unpacked member by member, refusing links and any path that leaves the folder.

What is verified, and what cannot be:

- The archive is read to its very end — past the tar end marker, to the end of the gzip stream —
  so gzip's CRC-32 and length are always checked; members are unpacked into a staging folder and
  moved into place only when the whole archive proved intact (a damaged archive leaves nothing).
- An archive whose batches have the official size (10,000 records each) is the official release,
  so it must also have the published MD5 (``CIFAR10.md5``), also when it was put there by hand.
- When unpacking, the MD5 of every file is recorded in ``cifar-10-batches-bin/.tinygrad_edu-md5.json``;
  later loads check each batch against it, so a file changed on disk since is refused.
- A ``.bin`` file that did not come from an archive we unpacked has no checksum: its length and its
  label bytes (0..9) are checked, but a flipped pixel byte cannot be told from a real one.
- Sizes are bounded by ``tinygrad_edu.limits`` before reading; ``batches.meta.txt`` must be UTF-8
  text naming 10 classes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from ..limits import max_bytes as limit_of
from ..limits import too_big
from .download import CHUNK, CorruptFileError, DatasetNotFoundError, download_file

RECORD = 1 + 3 * 32 * 32  # 1 label byte + 3072 pixel bytes
MANIFEST = ".tinygrad_edu-md5.json"  # MD5s of the files we unpacked, checked on every load


def read_cifar_batch(
    path: str | os.PathLike, md5: str | None = None, max_bytes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read one binary CIFAR-10 batch file: images (N, 32, 32, 3) uint8 and labels (N,) int64.

    ``md5``, when known (recorded when the file was unpacked), must match the file's.
    """
    path = Path(path)
    size, limit = path.stat().st_size, limit_of(max_bytes)
    if size > limit:
        raise CorruptFileError(too_big(str(path), "this batch file", size, limit))
    raw = path.read_bytes()
    if md5 is not None and hashlib.md5(raw, usedforsecurity=False).hexdigest() != md5:
        raise CorruptFileError(
            f"{path} has changed since it was unpacked (its MD5 is not the one recorded in {MANIFEST}): it is damaged"
        )
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


class _Hashing:
    """A file reader that computes the MD5 of everything read through it."""

    def __init__(self, f: Any) -> None:
        self.f, self.md5 = f, hashlib.md5(usedforsecurity=False)

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.md5.update(data)
        return data


def _unpack(tar: tarfile.TarFile, archive: Path, dest: Path, staging: Path) -> dict[str, str]:
    """Write every member of ``tar`` under ``staging``; returns {member name: MD5}."""
    md5s = {}
    for member in tar:
        target = (dest / member.name).resolve()
        if os.path.isabs(member.name) or not target.is_relative_to(dest) or target == dest:
            raise CorruptFileError(
                f"{archive}: member {member.name!r} would be written outside {dest}; refusing to extract"
            )
        staged = staging / target.relative_to(dest)
        if member.isdir():
            staged.mkdir(parents=True, exist_ok=True)
            continue
        if not member.isfile():
            raise CorruptFileError(f"{archive}: member {member.name!r} is a link or a device; refusing to extract")
        staged.parent.mkdir(parents=True, exist_ok=True)
        source, digest = tar.extractfile(member), hashlib.md5(usedforsecurity=False)
        with open(staged, "wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
        md5s[target.relative_to(dest).as_posix()] = digest.hexdigest()
    return md5s


Check = Callable[[Path, dict[str, str], str], None]  # (staging folder, {member: MD5}, archive MD5)


def extract_tar(archive: str | os.PathLike, dest: str | os.PathLike, check: Check | None = None) -> dict[str, str]:
    """Unpack a .tar.gz into ``dest`` safely; returns the MD5 of each file unpacked, by relative path.

    Regular files and folders only, all inside ``dest``. The whole archive is read, to the end of
    its gzip stream (so its CRC is checked), into a staging folder; ``check(staging, md5s,
    archive_md5)`` may then refuse it; only then are the files moved into place. Raises CorruptFileError for a
    damaged archive, a link, or a member whose path would escape ``dest`` ("../x", "/etc/x").
    """
    archive, dest = Path(archive), Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest / f".{archive.name}.unpack-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with open(archive, "rb") as raw:
            hashing = _Hashing(raw)
            try:
                with gzip.GzipFile(fileobj=hashing, mode="rb") as gz:  # type: ignore[arg-type]
                    with tarfile.open(fileobj=gz, mode="r|") as tar:
                        md5s = _unpack(tar, archive, dest, staging)
                    while gz.read(CHUNK):  # past the tar end marker, to gzip's CRC-32 and length check
                        pass
                while hashing.read(CHUNK):
                    pass
            except CorruptFileError:
                raise
            except Exception as e:  # TarError, BadGzipFile (CRC), EOFError (truncated), zlib.error, OSError
                raise CorruptFileError(
                    f"{archive} is damaged or not a .tar.gz ({type(e).__name__}: {e}); delete it and download it again"
                ) from e
        if check is not None:
            check(staging, md5s, hashing.md5.hexdigest())
        for name in md5s:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
        return md5s
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
    official_batch_bytes = 10000 * RECORD
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
            md5s = self._manifest()
            batches = [read_cifar_batch(self.folder / f, md5=md5s.get(f)) for f in files]
            self._read_classes()
        except CorruptFileError as e:
            fix = f"call cifar10({str(root)!r}, download=True)"
            raise CorruptFileError(f"{e}; delete {self.folder} and {fix} to unpack a fresh copy") from None
        self.data = np.concatenate([images for images, _ in batches])
        self.targets = np.concatenate([labels for _, labels in batches])

    def _manifest(self) -> dict[str, str]:
        """The MD5s recorded when the archive was unpacked ({} if the files were put here another way)."""
        path = self.folder / MANIFEST
        if not path.is_file():
            return {}
        try:
            md5s = json.loads(path.read_bytes().decode("utf-8"))
            if not isinstance(md5s, dict) or not all(isinstance(v, str) for v in md5s.values()):
                raise ValueError("not a {file: md5} object")
        except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
            raise CorruptFileError(f"{path} is damaged ({type(e).__name__}: {e})") from e
        return md5s

    def _read_classes(self) -> None:
        meta = self.folder / "batches.meta.txt"
        if not meta.is_file():
            return
        try:
            text = meta.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise CorruptFileError(f"{meta} is not UTF-8 text (byte {e.start} is 0x{e.object[e.start]:02x})") from e
        names = [line.strip() for line in text.splitlines() if line.strip()]
        if len(names) != 10:
            raise CorruptFileError(f"{meta} should name the 10 CIFAR-10 classes, one per line; it names {len(names)}")
        self.classes = names

    def _check_archive(self, staging: Path, md5s: dict[str, str], archive_md5: str) -> None:
        """An archive with official-sized batches must be the official one: its MD5 must match."""
        names = [f"{self.base_folder}/{f}" for f in self.train_files + self.test_files]
        official = all(n in md5s and (staging / n).stat().st_size == self.official_batch_bytes for n in names)
        if official and archive_md5 != self.md5:
            raise CorruptFileError(
                f"{Path(self.root) / self.archive} has the official CIFAR-10 batches but its MD5 is {archive_md5}, "
                f"not the published {self.md5}: it is damaged; delete it and download it again"
            )

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
        md5s = extract_tar(archive, self.root, check=self._check_archive)
        prefix = f"{self.base_folder}/"
        mine = {name[len(prefix) :]: md5 for name, md5 in md5s.items() if name.startswith(prefix)}
        if mine:
            (self.folder / MANIFEST).write_text(json.dumps(mine, indent=1))
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
