"""``tge.save(obj, path)`` / ``tge.load(path)``: state dicts in a plain NumPy ``.npz`` file, never pickled.

    tge.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    ckpt = tge.load("ckpt.npz")   # the same nesting, arrays as NumPy arrays

What can be saved: dicts (keys str or int), lists and tuples, nested in any way, whose leaves
are arrays (NumPy, CuPy) or Tensors (both stored as NumPy arrays), NumPy scalars, Python ints,
floats, bools, strings and None. Anything else (a function, an object array) is refused at save time.

The file format — an ordinary .npz (a zip of .npy files), readable without tinygrad_edu:

- every array is one entry, named by its path in the nesting joined with "/", e.g.
  ``model/fc1.weight`` or ``optimizer/state/0/exp_avg`` (a suffix ``~2``, ``~3``… is added if two
  paths would collide);
- one more entry, ``__tinygrad_edu__``, is a 0-d unicode array holding JSON that describes the
  nesting: ``{"format": "tinygrad_edu", "version": 1, "root": NODE}`` where NODE is one of
  ``{"dict": [[key, NODE], ...]}`` (key a JSON string or integer, order kept),
  ``{"list": [NODE, ...]}``, ``{"tuple": [NODE, ...]}``,
  ``{"array": ENTRY}`` (an array stored under that entry name), ``{"scalar": ENTRY}`` (a NumPy scalar
  stored as a 0-d array), or ``{"value": V}`` (a Python int, float, bool, string or None, kept in the JSON).

So ``np.load("ckpt.npz")["model/fc1.weight"]`` reads a weight with plain NumPy, and
``json.loads(str(np.load("ckpt.npz")["__tinygrad_edu__"]))`` shows the whole structure.

Saving to a path writes ``.{name}.tmp-{pid}`` in the same folder and renames it over ``path`` only
once it is complete (``os.replace`` is atomic), so a crash, Ctrl-C or ``kill -9`` never leaves a
half-written checkpoint: the previous file stays intact. The next save of the same path removes
temporary files left by processes that no longer run. Files are created with the process's umask,
like any other file the program writes. ``save`` and ``load`` also take binary file objects
(``io.BytesIO``, ``open(..., "wb")``), as PyTorch's do; a file object is written in place.

Loading never unpickles (object arrays are refused) and trusts no size in the file: see
``tinygrad_edu.npz`` for the checks, and ``tinygrad_edu.limits`` for the 1 GiB default limit and
how to raise it. Every problem is a ``CheckpointError`` (a ``ValueError``) naming the file and key.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from .device import to_device
from .limits import max_bytes as limit_of
from .npz import CheckpointError, read_npz, readable
from .tensor import Tensor

STRUCTURE = "__tinygrad_edu__"  # the entry holding the JSON description of the nesting
FORMAT, VERSION = "tinygrad_edu", 1


class _Writer:
    """Walks the object: collects its arrays under path names and builds the JSON structure."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def entry(self, path: list[str], array: np.ndarray) -> str:
        name = "/".join(path) or "root"
        unique, k = name, 1
        while unique in self.arrays or unique == STRUCTURE:
            k += 1
            unique = f"{name}~{k}"
        if array.dtype.hasobject:
            raise TypeError(
                f"save: {name!r} is an array of Python objects (dtype {array.dtype}); only numeric, bool and "
                "string arrays can be saved without pickle"
            )
        self.arrays[unique] = array
        return unique

    def node(self, obj: Any, path: list[str]) -> dict[str, Any]:
        where = "/".join(path) or "the object"
        if isinstance(obj, Tensor):
            obj = obj.numpy()
        elif hasattr(obj, "__cuda_array_interface__"):
            obj = to_device(obj, "cpu")
        if isinstance(obj, np.ndarray):
            return {"array": self.entry(path, obj)}
        if isinstance(obj, np.generic):
            return {"scalar": self.entry(path, np.asarray(obj))}
        if obj is None or isinstance(obj, bool | int | float | str):
            return {"value": obj}  # JSON as Python writes it (nan and inf included)
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not isinstance(key, str | int) or isinstance(key, bool):
                    raise TypeError(
                        f"save: the keys of {where} must be str or int, found {key!r} ({type(key).__name__})"
                    )
                items.append([key, self.node(value, [*path, str(key)])])
            return {"dict": items}
        if isinstance(obj, list | tuple):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.node(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        if callable(getattr(obj, "state_dict", None)):
            raise TypeError(
                f"save: {where} is a {type(obj).__name__}; tinygrad_edu saves no Python objects (PyTorch would "
                f"pickle it). Save its state_dict() instead: tge.save(model.state_dict(), path), then "
                f"model.load_state_dict(tge.load(path)) on a freshly built {type(obj).__name__}"
            )
        raise TypeError(
            f"save: cannot store {where} of type {type(obj).__name__}; save dicts, lists, tuples, arrays, "
            "Tensors, numbers, strings and None (e.g. model.state_dict(), not the model)"
        )


def _write_npz(f: IO[bytes], entries: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in entries.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


_WRITING: set[str] = set()  # temporary files this process is writing right now (other threads' saves)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (someone else's process), or we cannot tell: keep its file
    return True


def temp_name(path: Path) -> str:
    """The temporary file ``save`` writes before renaming it to ``path``: ``.{name}.tmp-{pid}``."""
    return f".{path.name}.tmp-{os.getpid()}"


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete ``.{name}.tmp-{pid}[-k]`` files next to ``path`` whose process is gone (e.g. killed by ``kill -9``)."""
    pattern = re.compile(re.escape(f".{path.name}.tmp-") + r"(\d+)(-\d+)?")
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            match = pattern.fullmatch(entry.name)
            if not match or entry.path in _WRITING:
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or not _pid_alive(pid):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _open_temp(path: Path) -> tuple[int, str]:
    """Create the temporary file exclusively, mode 0o666 minus the umask (what ``open(path, "w")`` gives)."""
    base, k = os.path.join(path.parent, temp_name(path)), 1
    while True:
        tmp = base if k == 1 else f"{base}-{k}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            k += 1


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a state dict, or any nesting of dicts/lists/tuples of arrays and numbers) to ``f``.

    ``f`` is a path or a binary file object. A path is written atomically: a temporary file
    ``.{name}.tmp-{pid}`` in the same folder, renamed over it once complete; stale temporary files
    of killed processes are removed first. The name is used as given (no ".npz" is appended).
    A Module or optimizer is refused with the advice to save its ``state_dict()``.
    """
    writer = _Writer()
    structure = {"format": FORMAT, "version": VERSION, "root": writer.node(obj, [])}
    entries = {STRUCTURE: np.array(json.dumps(structure)), **writer.arrays}
    if hasattr(f, "write"):
        _write_npz(f, entries)  # type: ignore[arg-type]
        return
    path = Path(f)  # type: ignore[arg-type]
    remove_stale_temps(path)
    fd, tmp = _open_temp(path)
    _WRITING.add(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_npz(out, entries)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:  # includes KeyboardInterrupt
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    finally:
        _WRITING.discard(tmp)


def _rebuild(node: Any, arrays: dict[str, np.ndarray], name: str, where: str, used: set[str]) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise CheckpointError(f"{name} is damaged: the structure at {where!r} is not a node")
    ((kind, content),) = node.items()
    if kind == "value":
        if content is not None and not isinstance(content, bool | int | float | str):
            raise CheckpointError(f"{name} is damaged: the value at {where!r} is not a number or string")
        return content
    if kind in ("array", "scalar"):
        if not isinstance(content, str) or content not in arrays:
            raise CheckpointError(f"{name} is damaged: the structure names an entry {content!r} that the file lacks")
        array = arrays[content]
        used.add(content)
        if kind == "scalar":
            if array.ndim:
                raise CheckpointError(
                    f"{name} is damaged: entry {content!r} should be a scalar, has shape {array.shape}"
                )
            return array[()]
        return array
    if kind == "dict" and isinstance(content, list):
        result = {}
        for item in content:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str | int)):
                raise CheckpointError(f"{name} is damaged: a key of {where!r} is not a [key, node] pair")
            result[item[0]] = _rebuild(item[1], arrays, name, f"{where}/{item[0]}" if where else str(item[0]), used)
        return result
    if kind in ("list", "tuple") and isinstance(content, list):
        items = [_rebuild(c, arrays, name, f"{where}/{i}" if where else str(i), used) for i, c in enumerate(content)]
        return items if kind == "list" else tuple(items)
    raise CheckpointError(f"{name} is damaged: unknown node {kind!r} at {where or 'the root'!r} in its structure")


def load(
    f: str | os.PathLike | IO[bytes], map_location: Any = None, *, weights_only: bool = True,
    max_bytes: int | None = None,
) -> Any:  # fmt: skip
    """Read what ``save`` wrote, from a path or a binary file object: the same nesting, arrays as NumPy arrays.

    Nothing is ever unpickled (``weights_only`` is accepted for PyTorch code and is always true;
    ``map_location`` is accepted and ignored: arrays load on the host, ``.to(device)`` moves them).
    Sizes declared by the file are bounded by ``max_bytes`` (default: ``tinygrad_edu.limits``).
    Raises CheckpointError (a ValueError) naming the file (and the entry) when it is truncated,
    damaged, not an .npz, not written by ``save``, or holds pickled objects; FileNotFoundError
    when the path does not exist.
    """
    if hasattr(f, "read"):
        name = str(getattr(f, "name", None) or f"the {type(f).__name__} file object")
        limit = limit_of(max_bytes)
        source: Any = readable(f, limit)
    else:
        path = Path(f)  # type: ignore[arg-type]
        name, source = str(path), path
        if not path.is_file():
            raise FileNotFoundError(f"load: no file {path}")
    arrays = read_npz(source, name, max_bytes)
    if STRUCTURE not in arrays:
        raise CheckpointError(
            f"{name} is not a tinygrad_edu file (it has no {STRUCTURE!r} entry); open it with numpy.load"
        )
    try:
        structure = json.loads(str(arrays.pop(STRUCTURE)[()]))
    except (ValueError, TypeError, RecursionError) as e:
        raise CheckpointError(f"{name} is damaged: its {STRUCTURE!r} entry is not JSON ({e})") from e
    if not isinstance(structure, dict) or structure.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a tinygrad_edu file (its {STRUCTURE!r} entry is not ours)")
    version = structure.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{name} is damaged: its format version is {version!r}")
    if version > VERSION:
        raise CheckpointError(f"{name} was written by a newer tinygrad_edu (format {version}); upgrade")
    used: set[str] = set()
    try:
        obj = _rebuild(structure.get("root"), arrays, name, "", used)
    except RecursionError as e:
        raise CheckpointError(f"{name} is damaged: its structure nests too deeply") from e
    extra = sorted(set(arrays) - used)
    if extra:
        raise CheckpointError(f"{name} is damaged: entry {extra[0]!r} is not part of its structure")
    return obj
