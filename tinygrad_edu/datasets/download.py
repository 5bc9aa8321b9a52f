"""Fetching data set files safely: mirrors, a progress bar, an MD5 check, and an atomic rename.

``download_file(filename, folder, mirrors, md5)`` streams ``mirror + filename`` into a temporary
file in ``folder`` while computing its MD5, and renames it to ``folder/filename`` only when the
checksum matches. A failed, corrupt or interrupted (Ctrl-C) download removes the temporary file,
so nothing partial ever sits under the final name. Mirrors are tried in order.

The errors here derive from ``DatasetError``, so a program can catch every data set problem at once;
each names the file, where it was expected, and what to do about it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen  # tests replace download.urlopen with a fake

CHUNK = 1 << 20  # read 1 MiB at a time


class DatasetError(RuntimeError):
    """A data set cannot be loaded (missing, corrupt, or not downloadable); the message says why and how to fix it."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data set file is not on disk (and download=False)."""


class CorruptFileError(DatasetError, ValueError):
    """A data set file is truncated, has the wrong format, or fails its checksum."""


class DownloadError(DatasetError, ConnectionError):
    """No mirror delivered a file with the right checksum (no network, a dead mirror, a corrupt copy)."""


def md5_of(path: str | os.PathLike) -> str:
    """The MD5 checksum of a file, as 32 hex digits."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, final: Path, md5: str) -> None:
    """Stream url into a temporary file next to ``final``; rename it to ``final`` if its MD5 is md5."""
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urlopen(Request(url, headers={"User-Agent": "tinygrad_edu"}), timeout=60) as r:
            headers = getattr(r, "headers", None)
            total = int(headers.get("Content-Length") or 0) if headers is not None else 0
            with tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024, desc=final.name) as bar:
                while chunk := r.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != md5:
            raise CorruptFileError(f"checksum mismatch: expected MD5 {md5}, got {digest.hexdigest()}")
        os.replace(tmp, final)  # atomic: the final name appears only now, complete and verified
    except BaseException:  # includes KeyboardInterrupt: never leave the partial file behind
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def download_file(filename: str, folder: str | os.PathLike, mirrors: Sequence[str], md5: str, what: str = "") -> Path:
    """Download ``filename`` from the first of ``mirrors`` (URL prefixes) that serves it with this MD5.

    Returns the path ``folder/filename``. Raises DownloadError, naming every URL tried and why it
    failed, when none works; nothing is left under the final name in that case.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / filename
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        try:
            _fetch(url, final, md5)
            return final
        except (URLError, OSError, CorruptFileError) as e:
            reason = getattr(e, "reason", None) or e
            failures.append(f"{url}: {reason}")
    tried = "; ".join(failures)
    raise DownloadError(
        f"could not download {what + ' ' if what else ''}file {filename} into {folder} ({tried}). "
        f"Check your network connection and try again, or download {mirrors[0]}{filename} "
        f"by hand and put it in {folder}"
    )
