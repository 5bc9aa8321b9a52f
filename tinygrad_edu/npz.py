"""Reading an .npz (a zip of .npy files) without trusting it: every size is checked before it is allocated.

``numpy.load`` believes what a file says: a member whose header declares shape (10**12,) makes it
allocate 4 TB, a zip member that inflates to 2 GiB is inflated, and a damaged header can surface
as ``tokenize.TokenError``. ``read_npz`` instead, for each member:

1. reads the zip directory and adds up the declared uncompressed sizes (refused over the limit of
   ``limits.max_bytes``, 1 GiB unless raised);
2. parses the .npy header (magic, dtype, shape), refuses object dtypes (pickle is never run) and
   computes the array's bytes as shape × item size with Python integers;
3. requires header + array bytes to be exactly the member's declared size, so nothing is allocated
   that the file does not hold;
4. reads the array to the member's end, where ``zipfile`` checks the CRC-32 of what it read: a
   flipped bit anywhere in a member's data, stored or deflated, is caught.

Every problem is a ``CheckpointError`` (a ``ValueError``) naming the file and the member.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO, Any

import numpy as np

from .limits import max_bytes as limit_of
from .limits import too_big


class CheckpointError(ValueError):
    """A file given to ``tge.load`` (or a training checkpoint) is damaged or not what it should be.

    The message names the file and, when the problem is in one entry, the entry's key.
    """


def _header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from an .npy header; numpy's own parser, versions 1 to 3."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, key: str) -> np.ndarray:
    with zf.open(info) as f:
        try:
            shape, fortran, dtype = _header(f)
        except Exception as e:  # ValueError, SyntaxError, tokenize.TokenError, EOFError...: all "damaged"
            raise CheckpointError(f"{name}: entry {key!r} has a damaged .npy header ({type(e).__name__}: {e})") from e
        if dtype.hasobject:
            raise CheckpointError(
                f"{name} holds pickled Python objects (entry {key!r}, dtype {dtype}); tinygrad_edu never unpickles "
                "(it could run code from the file). Save plain arrays and numbers instead"
            )
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise CheckpointError(f"{name}: entry {key!r} declares an invalid shape {shape}")
        nbytes = dtype.itemsize
        for d in shape:
            nbytes *= d
        if f.tell() + nbytes != info.file_size:
            raise CheckpointError(
                f"{name}: entry {key!r} declares shape {shape} of {dtype} ({nbytes:,} bytes) but holds "
                f"{info.file_size - f.tell():,} bytes; the file is damaged"
            )
        buffer = bytearray(nbytes)
        view, done = memoryview(buffer), 0
        while done < nbytes:
            n = f.readinto(view[done:])
            if not n:
                raise CheckpointError(f"{name}: entry {key!r} ends early; the file is truncated")
            done += n
        if f.read(1):  # also makes zipfile reach the member's end and check its CRC-32
            raise CheckpointError(f"{name}: entry {key!r} holds bytes after its array; the file is damaged")
    array = np.frombuffer(buffer, dtype=dtype) if nbytes else np.zeros(0, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def read_npz(source: str | IO[bytes], name: str, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every member of the .npz at ``source`` (a path or a binary file object) as ``{key: array}``.

    ``name`` is how errors refer to the file; keys are the member names without ".npy".
    Raises CheckpointError for anything that is not a complete, intact .npz within the limit.
    """
    limit = limit_of(max_bytes)
    try:
        with zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
            declared = sum(info.file_size for info in infos)
            if declared > limit:
                raise CheckpointError(too_big(name, "its entries", declared, limit))
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                key = info.filename.removesuffix(".npy")
                if info.is_dir() or not info.filename.endswith(".npy"):
                    raise CheckpointError(f"{name}: member {info.filename!r} is not an .npy array; not an .npz file")
                if key in arrays:
                    raise CheckpointError(f"{name}: entry {key!r} appears twice; the file is damaged")
                try:
                    arrays[key] = _member(zf, info, name, key)
                except CheckpointError:
                    raise
                except Exception as e:  # BadZipFile (bad CRC), zlib.error, EOFError, MemoryError...
                    raise CheckpointError(f"{name}: entry {key!r} is damaged ({type(e).__name__}: {e})") from e
            return arrays
    except CheckpointError:
        raise
    except Exception as e:  # not a zip at all, a truncated directory, an unsupported compression...
        raise CheckpointError(
            f"{name} is truncated or not an .npz file ({type(e).__name__}: {e}); it cannot be loaded"
        ) from e


def readable(f: Any, limit: int) -> IO[bytes]:
    """A seekable binary view of the file object ``f`` (zip needs to seek); reads it into memory if needed."""
    seekable = getattr(f, "seekable", None)
    if callable(seekable) and seekable():
        return f
    data = f.read(limit + 1)
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"load: expected a binary file object (opened with 'rb'), got {type(f).__name__}")
    if len(data) > limit:
        name = getattr(f, "name", "the file object")
        raise CheckpointError(too_big(str(name), "the stream", len(data), limit))
    return io.BytesIO(data)
