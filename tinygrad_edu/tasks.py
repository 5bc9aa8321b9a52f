"""The data of a training run: load a data set, split it, and fit its preprocessing on the training part.

``load_task("digits", seed=0)`` gives train / validation / test arrays plus what a model needs
to know (input shape, classes). The split is stratified and seeded, so the same seed gives the
same split in ``tinygrad-edu train``, ``evaluate`` and ``predict``. Preprocessing (a mean and a
standard deviation) is computed from the training part only, then applied to every part: the
test set must never leak into training, not even through its mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets
from .data import train_test_split

DATASETS = ("digits", "breast_cancer", "spiral", "moons", "mnist", "fashion_mnist", "cifar10", "sentiment")
TEXT_DATASETS = ("sentiment",)  # samples are sentences: tokenized to ids, no mean/std
TEXT_MAX_LENGTH = 32  # tokens per sentence, <cls> and <sep> included

# Sensible defaults per data set: the command works well with no flags.
DEFAULT_EPOCHS = {"digits": 30, "breast_cancer": 50, "spiral": 200, "moons": 100, "mnist": 5,
                  "fashion_mnist": 5, "cifar10": 10, "sentiment": 10}  # fmt: skip
DEFAULT_BATCH_SIZE = {"digits": 32, "breast_cancer": 32, "spiral": 32, "moons": 32, "mnist": 64,
                      "fashion_mnist": 64, "cifar10": 64, "sentiment": 32}  # fmt: skip


@dataclass
class Task:
    """Split, preprocessed data: ``train``, ``val`` and ``test`` are (x, y) pairs of NumPy arrays."""

    dataset: str
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    classes: list[str]
    mean: np.ndarray = field(repr=False)  # x' = (x − mean) / std, fitted on the training part
    std: np.ndarray = field(repr=False)
    tokenizer: Any = field(default=None, repr=False)  # text data sets: the WordTokenizer of the training part

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample: (features,) for tables, (C, H, W) for images."""
        return tuple(self.train[0].shape[1:])

    @property
    def num_classes(self) -> int:
        """How many classes the model must tell apart."""
        return len(self.classes)

    @property
    def vocab_size(self) -> int | None:
        """The tokenizer's vocabulary size for a text data set, None otherwise."""
        return None if self.tokenizer is None else len(self.tokenizer)

    def preprocess(self, x: Any) -> np.ndarray:
        """Apply the training set's normalisation to new raw samples (what ``predict`` needs).

        For a text data set, ``x`` are sentences and become token ids (N, TEXT_MAX_LENGTH).
        """
        if self.tokenizer is not None:
            texts = [str(t) for t in x]
            return self.tokenizer(texts, padding="max_length", truncation=True, max_length=TEXT_MAX_LENGTH)[
                "input_ids"
            ].numpy()
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int) -> tuple[Any, Any, Any, Any]:
    """A stratified, seeded split: x_train, x_test, y_train, y_test."""
    return train_test_split(x, y, test_size=test_size, seed=seed, stratify=y)


def _raw(dataset: str, root: str | Path, download: bool, seed: int) -> tuple[Any, Any, list[str]]:
    """(x, y) of the whole data set, or ((x_train, y_train), (x_test, y_test)) when it comes pre-split."""
    if dataset == "digits":
        d = datasets.load_digits()
        return d.images, d.targets, d.classes
    if dataset == "breast_cancer":
        d = datasets.load_breast_cancer()
        return d.data, d.targets, d.classes
    if dataset == "spiral":
        x, y = datasets.make_spiral(n=100, classes=3, seed=seed)
        return x, y, ["0", "1", "2"]
    if dataset == "sentiment":  # synthetic sentences (text/sentiment.py): the same 2000 for every seed
        from .text import make_sentiment

        d = make_sentiment(2000, seed=0)
        return np.array(d.texts, dtype=object), d.labels, d.classes
    if dataset == "moons":
        x, y = datasets.make_moons(n=400, noise=0.15, seed=seed)
        return x, y, ["0", "1"]
    loader = {"mnist": datasets.mnist, "fashion_mnist": datasets.fashion_mnist, "cifar10": datasets.cifar10}[dataset]
    train, test = loader(root, train=True, download=download), loader(root, train=False, download=download)
    return _images(train), _images(test), [str(c) for c in train.classes]


def _images(ds: Any) -> tuple[np.ndarray, np.ndarray]:
    """All images of an MNIST/CIFAR data set as float32 (N, C, H, W) in [0, 1], with int64 labels."""
    x = np.asarray(ds.data, dtype=np.float32) / 255.0
    if x.ndim == 3:  # MNIST stores (N, 28, 28): add the channel axis
        x = x[:, None]
    elif x.shape[-1] == 3:  # (N, H, W, C) -> (N, C, H, W)
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x), np.asarray(ds.targets, dtype=np.int64)


def _normalisation(dataset: str, x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std to subtract and divide by, from the training part only.

    Tables, and the 8×8 digits (whose 64 pixels are read like 64 features): per feature, so a
    feature with σ = 0 (a corner pixel that is always blank) is left unscaled. Larger grey images:
    one mean and σ for all pixels. Colour images: one per channel.
    """
    if x_train.ndim == 2 or dataset == "digits":
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    else:
        per_channel = (0, 2, 3) if x_train.shape[1] > 1 else (0, 1, 2, 3)
        mean = x_train.mean(axis=per_channel, keepdims=True)[0]
        std = x_train.std(axis=per_channel, keepdims=True)[0]
    return mean.astype(np.float32), np.where(std > 0, std, 1).astype(np.float32)


def load_task(
    dataset: str, root: str | Path = "data", seed: int = 0, download: bool = False, val_fraction: float = 0.1
) -> Task:
    """Load ``dataset``, split it train / val / test (80/20 then ``val_fraction`` of train), normalise.

    MNIST, Fashion-MNIST and CIFAR-10 come with their own test set; the validation part is taken
    from their training set. Files are read from ``root`` (``download=True`` fetches missing ones).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    first, second, classes = _raw(dataset, root, download, seed)
    if isinstance(first, tuple):  # pre-split: (train, test)
        (x_all, y_all), test = first, second
    else:
        x_all, x_test, y_all, y_test = _split(np.asarray(first), np.asarray(second), 0.2, seed)
        test = (x_test, y_test)
    x_train, x_val, y_train, y_val = _split(x_all, y_all, val_fraction, seed)
    if dataset in TEXT_DATASETS:
        return _text_task(dataset, (x_train, y_train), (x_val, y_val), test, classes)
    mean, std = _normalisation(dataset, x_train)
    task = Task(dataset, (x_train, y_train), (x_val, y_val), test, classes, mean, std)
    task.train = (task.preprocess(x_train), y_train)
    task.val = (task.preprocess(x_val), y_val)
    task.test = (task.preprocess(test[0]), test[1])
    return task


def _text_task(dataset: str, train: tuple, val: tuple, test: tuple, classes: list[str]) -> Task:
    """Sentences → token ids with a word vocabulary built from the training part only (no test words leak in)."""
    from .text import WordTokenizer

    tokenizer = WordTokenizer.from_texts(train[0])
    task = Task(dataset, train, val, test, classes, np.zeros(1, np.float32), np.ones(1, np.float32), tokenizer)
    task.train, task.val, task.test = ((task.preprocess(x), y) for x, y in (train, val, test))
    return task
