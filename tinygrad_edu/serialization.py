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

Saving writes a temporary file in the same folder and renames it over ``path`` only once it is
complete (``os.replace`` is atomic), so a crash or Ctrl-C never leaves a half-written checkpoint:
the previous file stays intact. Loading uses ``allow_pickle=False``: a file holding pickled
objects is refused, never executed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .device import to_device
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
        raise TypeError(
            f"save: cannot store {where} of type {type(obj).__name__}; save dicts, lists, tuples, arrays, "
            "Tensors, numbers, strings and None (e.g. model.state_dict(), not the model)"
        )


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (a state dict, or any nesting of dicts/lists/tuples of arrays and numbers) to ``path``.

    The file is an .npz written atomically: a temporary file in the same folder, renamed over
    ``path`` once complete. The name is used as given (no ".npz" is appended).
    """
    path = Path(path)
    writer = _Writer()
    structure = {"format": FORMAT, "version": VERSION, "root": writer.node(obj, [])}
    entries = {STRUCTURE: np.array(json.dumps(structure)), **writer.arrays}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, array in entries.items():
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:  # includes KeyboardInterrupt
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _rebuild(node: dict[str, Any], npz: Any, path: Path) -> Any:
    ((kind, content),) = node.items()
    if kind == "value":
        return content
    if kind in ("array", "scalar"):
        if content not in npz:
            raise ValueError(f"{path} is damaged: the structure names an entry {content!r} that the file lacks")
        array = npz[content]
        return array[()] if kind == "scalar" else array
    if kind == "dict":
        return {key: _rebuild(child, npz, path) for key, child in content}
    if kind in ("list", "tuple"):
        items = [_rebuild(child, npz, path) for child in content]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"{path} is damaged: unknown node kind {kind!r} in its structure")


def load(path: str | os.PathLike) -> Any:
    """Read what ``save`` wrote: the same nesting and key types, arrays as NumPy arrays.

    Raises ValueError naming the file when it is truncated, not an .npz, not written by ``save``,
    or holds pickled objects (which are never unpickled).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no file {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is truncated or not an .npz file (no zip directory found); it cannot be loaded")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if STRUCTURE not in npz.files:
                raise ValueError(
                    f"{path} is not a tinygrad_edu file (it has no {STRUCTURE!r} entry); open it with numpy.load"
                )
            structure = json.loads(str(npz[STRUCTURE]))
            if not isinstance(structure, dict) or structure.get("format") != FORMAT:
                raise ValueError(f"{path} is not a tinygrad_edu file (its {STRUCTURE!r} entry is not ours)")
            if structure.get("version", 0) > VERSION:
                raise ValueError(f"{path} was written by a newer tinygrad_edu (format {structure['version']}); upgrade")
            return _rebuild(structure["root"], npz, path)
    except ValueError as e:
        if str(path) in str(e):
            raise
        if "allow_pickle" in str(e):
            raise ValueError(
                f"{path} holds pickled Python objects; tinygrad_edu never unpickles (it could run code from the "
                "file). Save plain arrays and numbers instead"
            ) from e
        raise ValueError(f"{path} is damaged or not written by tinygrad_edu.save ({e})") from e
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(
            f"{path} is truncated or not an .npz file ({type(e).__name__}: {e}); it cannot be loaded"
        ) from e
