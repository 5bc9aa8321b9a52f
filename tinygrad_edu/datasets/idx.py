"""MNIST and Fashion-MNIST from their IDX files (``.gz`` or not), as torchvision lays them out.

    train = mnist("data", download=True)   # reads data/MNIST/raw/train-images-idx3-ubyte(.gz), ...
    x, y = train[0]                         # x: (1, 28, 28) float32 in [0, 1], y: an int
    train.data.shape, train.targets.shape   # (60000, 28, 28) uint8, (60000,) int64

The IDX format (Y. LeCun): a 4-byte magic number — two zero bytes, a type code (0x08 =
unsigned byte) and the number of dims — then each dim as a big-endian uint32, then the values
in C order. Image files have magic 2051 (0x00000803: bytes, 3 dims N×28×28), label files 2049
(0x00000801: bytes, 1 dim N). The reader checks the magic, the dims and the file length, so a
truncated or foreign file is refused with a message naming it.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from .download import CorruptFileError, DatasetNotFoundError, download_file

# IDX type codes → the big-endian dtype of the values
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the name ends in .gz."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptFileError(f"{path} is not a complete gzip file ({type(e).__name__}: {e})") from e


def _describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = IDX_DTYPES.get(code, "an unknown type")
    return f"{magic} (0x{magic:08X}: type {kind}, {ndim} dims)"


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read one IDX file (plain or .gz) into a NumPy array in native byte order.

    ``magic``, when given, is the magic number the file must start with (2051 for images,
    2049 for labels). Raises CorruptFileError naming the file, what was expected and what was found.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise CorruptFileError(f"{path} is truncated: expected at least a 4-byte IDX header, found {len(raw)} bytes")
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise CorruptFileError(
            f"{path} has the wrong magic number: expected {_describe_magic(magic)}, found {_describe_magic(found)}"
        )
    code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or code not in IDX_DTYPES:
        raise CorruptFileError(
            f"{path} is not an IDX file: expected a magic number 0x0000TTDD (TT a type code among "
            f"{[hex(c) for c in IDX_DTYPES]}), found 0x{found:08X}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptFileError(
            f"{path} is truncated: expected a {header}-byte header for {ndim} dims, found {len(raw)} bytes"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[code])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        problem = "is truncated" if len(raw) < expected else "has trailing bytes"
        raise CorruptFileError(
            f"{path} {problem}: its header announces dims {dims}, so expected {expected} bytes, found {len(raw)}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST handwritten digits (60,000 train / 10,000 test images, 28×28 grey), torchvision-style.

    Files live in ``root/MNIST/raw``. ``data``: (N, 28, 28) uint8; ``targets``: (N,) int64;
    ``classes``: the class names. ``ds[i]`` is ``(x, y)``: x a (1, 28, 28) float32 image scaled to
    [0, 1] (then passed through ``transform``), y an int.
    """

    folder = "MNIST"
    function = "mnist"  # how users call us, for the messages
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four"]
    classes += ["5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        download: bool = False,
        transform: Callable[[np.ndarray], Any] | None = None,
    ):
        self.root, self.train, self.transform = root, train, transform
        self.raw_folder = Path(root) / self.folder / "raw"
        split = "train" if train else "t10k"
        images_path = self._find(f"{split}-images-idx3-ubyte", download)
        labels_path = self._find(f"{split}-labels-idx1-ubyte", download)
        try:
            self.data = read_idx(images_path, IMAGES_MAGIC)
            self.targets = read_idx(labels_path, LABELS_MAGIC).astype(np.int64)
        except CorruptFileError as e:
            raise CorruptFileError(f"{e}; delete the file and {self._fix()}") from None
        if self.data.shape[1:] != (28, 28):
            raise CorruptFileError(f"{images_path}: expected images of 28×28 pixels, found dims {self.data.shape}")
        if len(self.data) != len(self.targets):
            raise CorruptFileError(
                f"{images_path} holds {len(self.data)} images but {labels_path} holds {len(self.targets)} labels; "
                "they must come from the same release"
            )
        if self.targets.size and self.targets.max() >= len(self.classes):
            raise CorruptFileError(f"{labels_path}: expected labels 0..9, found {self.targets.max()}")

    def _fix(self) -> str:
        """How to get the files: the call and the command that download them."""
        call = f"{self.function}({str(self.root)!r}, download=True)"
        return f"call {call} or run `tinygrad-edu train --dataset {self.function} --download`"

    def _find(self, name: str, download: bool) -> Path:
        """The path of ``name`` or ``name.gz`` in the raw folder, downloading the .gz if asked to."""
        for candidate in (self.raw_folder / name, self.raw_folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
        gz = f"{name}.gz"
        if not download:
            raise DatasetNotFoundError(f"{type(self).__name__} file {gz} not found in {self.raw_folder}; {self._fix()}")
        return download_file(gz, self.raw_folder, self.mirrors, self.md5[gz], what=type(self).__name__)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        x = self.data[index][None].astype(np.float32) / 255.0  # (1, 28, 28) in [0, 1]
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}: {len(self)} images {self.data.shape[1:]}, root={str(self.root)!r})"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28×28 grey images of 10 kinds of clothing, MNIST's drop-in replacement.

    Files live in ``root/FashionMNIST/raw``; everything else is as in MNIST.
    """

    folder = "FashionMNIST"
    function = "fashion_mnist"
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    classes += ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def mnist(
    root: str | os.PathLike,
    train: bool = True,
    download: bool = False,
    transform: Callable[[np.ndarray], Any] | None = None,
) -> MNIST:
    """MNIST's training (or test) split from ``root/MNIST/raw``; ``download=True`` fetches missing files."""
    return MNIST(root, train=train, download=download, transform=transform)


def fashion_mnist(
    root: str | os.PathLike,
    train: bool = True,
    download: bool = False,
    transform: Callable[[np.ndarray], Any] | None = None,
) -> FashionMNIST:
    """Fashion-MNIST's training (or test) split from ``root/FashionMNIST/raw``; ``download=True`` fetches it."""
    return FashionMNIST(root, train=train, download=download, transform=transform)
