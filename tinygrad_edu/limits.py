"""How much memory a file may make us allocate: one documented limit, checked before allocating.

A damaged or hostile file can declare far more data than it holds: a 2 MB .npz whose members
claim 2 GiB, a gzip bomb that inflates 1,000-fold, an IDX header announcing 10¹² images. Every
reader in tinygrad_edu (``tge.load``, the MNIST/IDX and CIFAR-10 readers) computes what a file
*declares* (shape × item size, or the zip directory's sizes) with Python integers, which cannot
overflow, and compares it with this limit before it allocates or decompresses anything.

The limit is ``DEFAULT_MAX_BYTES`` (1 GiB) per file. Raise it for bigger files with the
``max_bytes=`` argument of the reader, or for the whole process with the environment variable
``TINYGRAD_EDU_MAX_BYTES`` (a number of bytes, e.g. ``TINYGRAD_EDU_MAX_BYTES=8000000000``).
"""

from __future__ import annotations

import os

DEFAULT_MAX_BYTES = 1 << 30
ENV = "TINYGRAD_EDU_MAX_BYTES"


def max_bytes(override: int | None = None) -> int:
    """The limit in bytes: ``override`` if given, else ``$TINYGRAD_EDU_MAX_BYTES``, else 1 GiB."""
    if override is not None:
        return int(override)
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{ENV}={text!r} is not a number of bytes; set it to e.g. 8000000000 or unset it") from None
    if value <= 0:
        raise ValueError(f"{ENV}={text!r} must be a positive number of bytes")
    return value


def too_big(name: str, what: str, nbytes: int, limit: int) -> str:
    """The sentence an error gives when ``name`` declares ``nbytes`` > ``limit``: what, and how to allow it."""
    return (
        f"{name}: {what} would need {nbytes:,} bytes, more than the limit of {limit:,} bytes; the file is damaged, "
        f"or, if it really is that big, pass max_bytes= or set {ENV} to a larger number of bytes"
    )
