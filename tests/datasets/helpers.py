"""Builders for tiny data set files in the real formats (IDX, CIFAR-10 binary, tar.gz) and a fake URL opener."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path
from urllib.error import URLError

import numpy as np


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file: 0x00 0x00, the type code, the number of dims, each dim big-endian, the values big-endian."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(dtypes[type_code]).tobytes()


def mnist_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_mnist(raw: Path, split: str, n: int, gz: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_arrays(n, seed)
    write(raw / f"{split}-images-idx3-ubyte", idx_bytes(images), gz)
    write(raw / f"{split}-labels-idx1-ubyte", idx_bytes(labels), gz)
    return images, labels


def cifar_bytes(images_chw: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR-10 binary records: a label byte, then the 3072 pixel bytes (R plane, G plane, B plane)."""
    records = np.concatenate([labels.astype(np.uint8)[:, None], images_chw.reshape(len(labels), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


def cifar_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


def tar_gz(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class FakeResponse(io.BytesIO):
    """What urlopen returns: read(n), headers, a context manager; can raise partway through."""

    def __init__(self, data: bytes, fail_after: int | None = None, error: BaseException | None = None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after, self.error = fail_after, error

    def read(self, n: int = -1) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise self.error
        return super().read(n if self.fail_after is None else min(n, self.fail_after - self.tell() or n))


class FakeOpener:
    """Serves bytes from memory by URL; unknown URLs fail like a machine without network."""

    def __init__(self, files: dict[str, bytes], fail_after: int | None = None, error: BaseException | None = None):
        self.files, self.fail_after, self.error = files, fail_after, error
        self.urls: list[str] = []

    def __call__(self, request, timeout=None):
        url = request.full_url if hasattr(request, "full_url") else request
        self.urls.append(url)
        if url not in self.files:
            raise URLError("[Errno -3] Temporary failure in name resolution")
        return FakeResponse(self.files[url], self.fail_after, self.error)
