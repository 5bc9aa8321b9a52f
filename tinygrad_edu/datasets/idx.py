"""MNIST and Fashion-MNIST from their IDX files (``.gz`` or not), as torchvision lays them out.

    train = mnist("data", download=True)   # reads data/MNIST/raw/train-images-idx3-ubyte(.gz), ...
    x, y = train[0]                         # x: (1, 28, 28) float32 in [0, 1], y: an int
    train.data.shape, train.targets.shape   # (60000, 28, 28) uint8, (60000,) int64

The IDX format (Y. LeCun): a 4-byte magic number — two zero bytes, a type code (0x08 =
unsigned byte) and the number of dims — then each dim as a big-endian uint32, then the values
in C order. Image files have magic 2051 (0x00000803: bytes, 3 dims N×28×28), label files 2049
(0x00000801: bytes, 1 dim N). The reader checks the magic, the dims and the file length, so a
truncated or foreign file is refused with a message naming it.

What is verified, and what cannot be:

- The header's dims are multiplied out in Python integers (no overflow) and the size is compared
  with the file's, and with ``tinygrad_edu.limits`` (1 GiB unless raised), before anything is
  allocated or decompressed: a 1.6 MB .gz cannot make us inflate gigabytes.
- A ``.gz`` file is decompressed to its very end, so gzip's CRC-32 and length check always run: a
  flipped bit or a truncation anywhere in it is an error, never different pixels.
- A file whose header declares the official image count (60,000 or 10,000) *is* the official
  release, so its ``.gz`` must also have the published MD5 (``MNIST.md5``), checked on every load
  — also when the file was put there by hand rather than downloaded.
- A plain (gunzipped) IDX file has no checksum of its own: a flipped bit in its header is caught
  (magic, dims and length no longer agree), but one in a pixel or a label cannot be told from real
  data (a label flipped above 9 is caught). Keep the .gz files to be protected.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from ..limits import max_bytes as limit_of
from ..limits import too_big
from .download import CorruptFileError, DatasetNotFoundError, download_file, md5_of

# IDX type codes → the big-endian dtype of the values
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def _describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = IDX_DTYPES.get(code, "an unknown type")
    return f"{magic} (0x{magic:08X}: type {kind}, {ndim} dims)"


def _read_exactly(f: Any, n: int, path: Path, why: str, offset: int) -> bytearray:
    """``n`` bytes from ``f`` (which is at byte ``offset`` of the file), or CorruptFileError: truncated."""
    buffer = bytearray(n)
    view, done = memoryview(buffer), 0
    while done < n:
        got = f.readinto(view[done:])
        if not got:
            raise CorruptFileError(f"{path} is truncated: {why}, so expected {offset + n} bytes, found {offset + done}")
        done += got
    return buffer


def _parse(f: Any, path: Path, magic: int | None, size: int | None, limit: int) -> np.ndarray:
    """Read header then values from the open stream ``f``; ``size`` is the file's length when known (not .gz)."""
    head = f.read(4)
    if len(head) < 4:
        raise CorruptFileError(f"{path} is truncated: expected at least a 4-byte IDX header, found {len(head)} bytes")
    found = int.from_bytes(head, "big")
    if magic is not None and found != magic:
        raise CorruptFileError(
            f"{path} has the wrong magic number: expected {_describe_magic(magic)}, found {_describe_magic(found)}"
        )
    code, ndim = head[2], head[3]
    if head[:2] != b"\0\0" or code not in IDX_DTYPES:
        raise CorruptFileError(
            f"{path} is not an IDX file: expected a magic number 0x0000TTDD (TT a type code among "
            f"{[hex(c) for c in IDX_DTYPES]}), found 0x{found:08X}"
        )
    raw_dims = _read_exactly(f, 4 * ndim, path, f"its magic number announces {ndim} dims", 4)
    dims = tuple(int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[code])
    nbytes = dtype.itemsize
    for d in dims:
        nbytes *= d  # Python integers: dims of 2**32 - 1 cannot overflow
    header = 4 + 4 * ndim
    if nbytes > limit:
        raise CorruptFileError(too_big(str(path), f"its header's dims {dims}", nbytes, limit))
    if size is not None and size != header + nbytes:
        problem = "is truncated" if size < header + nbytes else "has trailing bytes"
        raise CorruptFileError(
            f"{path} {problem}: its header announces dims {dims}, so expected {header + nbytes} bytes, found {size}"
        )
    values = _read_exactly(f, nbytes, path, f"its header announces dims {dims}", header)
    if f.read(1):  # for .gz this read reaches the end of the stream, where gzip checks its CRC-32
        raise CorruptFileError(
            f"{path} has trailing bytes: "
            f"its header announces dims {dims}, so {header + nbytes} bytes, but it holds more"
        )
    return np.frombuffer(values, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, magic: int | None = None, max_bytes: int | None = None) -> np.ndarray:
    """Read one IDX file (plain or .gz) into a NumPy array in native byte order.

    ``magic``, when given, is the magic number the file must start with (2051 for images,
    2049 for labels). ``max_bytes`` bounds what the header may declare (default: tinygrad_edu.limits).
    Raises CorruptFileError naming the file, what was expected and what was found.
    """
    path = Path(path)
    limit = limit_of(max_bytes)
    if path.suffix != ".gz":
        with open(path, "rb") as f:
            return _parse(f, path, magic, os.fstat(f.fileno()).st_size, limit)
    try:
        with gzip.open(path, "rb") as f:
            return _parse(f, path, magic, None, limit)
    except CorruptFileError:
        raise
    except Exception as e:  # BadGzipFile (CRC, length, not gzip), EOFError (truncated), zlib.error
        raise CorruptFileError(f"{path} is not a complete gzip file ({type(e).__name__}: {e})") from e


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
    official_counts = (60000, 10000)  # a file with this many samples is the published release: MD5 checked
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
            for path, n in ((images_path, len(self.data)), (labels_path, len(self.targets))):
                self._check_md5(path, n)
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

    def _check_md5(self, path: Path, count: int) -> None:
        """An official-sized .gz must be the official file: its MD5 must be the published one."""
        expected = self.md5.get(path.name)
        if expected is None or count not in self.official_counts:
            return
        found = md5_of(path)
        if found != expected:
            raise CorruptFileError(
                f"{path} holds {count} samples like the official {type(self).__name__} file but its MD5 is {found}, "
                f"not the published {expected}: it is damaged"
            )

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
