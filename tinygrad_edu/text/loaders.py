"""Reading labelled text from disk: the IMDb folder layout and CSV/TSV files of (text, label).

    train = load_imdb("data", split="train")          # data/aclImdb/train/pos/*.txt, .../neg/*.txt
    ds = load_text_csv("reviews.tsv")                 # a header row with "text" and "label" columns

Both give a ``TextDataset`` (texts, integer labels, class names). Every problem is one
``DatasetError`` that names the file: a missing folder (and the layout expected), a file that is
not UTF-8 (with the byte offset of the first bad byte), an empty file, a missing column (and the
columns found), a row with too few fields (its line). Nothing is half-loaded: the data set is
returned only when every file has been read.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..datasets import CorruptFileError, DatasetNotFoundError
from .sentiment import TextDataset

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def read_text(path: str | Path) -> str:
    """The UTF-8 text of ``path``; a clear error for a missing, empty or non-UTF-8 file."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    if not data.strip():
        raise CorruptFileError(f"{path}: the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorruptFileError(
            f"{path}: not valid UTF-8 at byte offset {e.start} (byte 0x{data[e.start]:02x}); re-save the file as UTF-8"
        ) from None


def load_imdb(root: str | Path = "data", split: str = "train", max_per_class: int | None = None) -> TextDataset:
    """The IMDb reviews of ``split`` ("train" or "test"): label 0 = neg, 1 = pos, files in name order.

    ``root`` is the folder holding ``aclImdb/`` (or ``aclImdb`` itself). HTML line breaks
    (``<br />``) become spaces. ``max_per_class`` reads only the first reviews of each class.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_imdb: split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    base = root if (root / split).is_dir() and root.name == "aclImdb" else root / "aclImdb"
    folders = [base / split / "neg", base / split / "pos"]  # label 0, label 1
    for folder in folders:
        if not folder.is_dir():
            raise DatasetNotFoundError(
                f"IMDb folder {folder} not found: expected {base}/{split}/pos and {base}/{split}/neg with one "
                f"review per .txt file (download {IMDB_URL} and extract it into {root})"
            )
    texts, labels = [], []
    for label, folder in enumerate(folders):
        files = sorted(folder.glob("*.txt"))[:max_per_class]
        if not files:
            raise CorruptFileError(f"IMDb folder {folder} has no .txt reviews")
        for f in files:
            texts.append(read_text(f).replace("<br />", " ").strip())
            labels.append(label)
    return TextDataset(texts, np.array(labels, dtype=np.int64), ["neg", "pos"])


def load_text_csv(
    path: str | Path, text_column: str = "text", label_column: str = "label", delimiter: str | None = None
) -> TextDataset:
    """(text, label) rows of a CSV (or, for .tsv files, tab-separated) file with a header row.

    The classes are the distinct labels, sorted (numerically when all are integers), so the
    labels "neg"/"pos" become 0/1 and "1"/"2"/"10" keep their numeric order.
    """
    path = Path(path)
    content = read_text(path)
    sep = delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=sep)
    header = [h.strip() for h in next(reader)]
    for column in (text_column, label_column):
        if column not in header:
            raise CorruptFileError(
                f"{path}: no column {column!r} in the header (found {', '.join(map(repr, header))}); "
                f"pass text_column=/label_column= to name yours"
            )
    t, y = header.index(text_column), header.index(label_column)
    texts, raw = [], []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) <= max(t, y):
            raise CorruptFileError(f"{path}: line {reader.line_num} has {len(row)} fields, the header {len(header)}")
        if not row[y].strip():
            raise CorruptFileError(f"{path}: line {reader.line_num} has an empty {label_column!r}")
        texts.append(row[t])
        raw.append(row[y].strip())
    if not texts:
        raise CorruptFileError(f"{path}: a header but no rows of data")
    names = set(raw)
    numeric = all(s.lstrip("-").isdigit() for s in names)
    classes = sorted(names, key=int) if numeric else sorted(names)
    index = {c: i for i, c in enumerate(classes)}
    return TextDataset(texts, np.array([index[s] for s in raw], dtype=np.int64), classes)
