"""Small real data sets that work offline: scikit-learn ships them inside its package.

    ds = load_digits()                 # 1797 handwritten digits, 8×8 pixels
    ds.data.shape, ds.images.shape     # (1797, 64), (1797, 1, 8, 8)
    x, y = ds[0]                       # one sample: (64,) float32 in [0, 1], an int64 label

Each loader returns a ``BundledDataset``: a TensorDataset of ``(data, targets)`` (so the
DataLoader batches it with its fast path) that also carries ``feature_names``, ``classes``
(None for regression), ``images`` (digits only) and the data set's description ``descr``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.dataset import TensorDataset


class BundledDataset(TensorDataset):
    """A table of features ``data`` (float32, one row per sample) and ``targets``, indexable as (x, y)."""

    def __init__(
        self,
        name: str,
        data: np.ndarray,
        targets: np.ndarray,
        feature_names: list[str],
        classes: list[str] | None,
        descr: str = "",
    ):
        super().__init__(data, targets)
        self.name = name
        self.data = data
        self.targets = targets
        self.feature_names = feature_names
        self.classes = classes
        self.descr = descr
        self.images: np.ndarray | None = None  # (N, C, H, W) for image data sets (digits)

    @property
    def num_features(self) -> int:
        """The number of features per sample (the input size of a model)."""
        return self.data.shape[1]

    @property
    def num_classes(self) -> int | None:
        """The number of classes (None for a regression target)."""
        return None if self.classes is None else len(self.classes)

    def __repr__(self) -> str:
        kind = f"{self.num_classes} classes" if self.classes is not None else "regression target"
        return f"{self.name}: {len(self)} samples, {self.num_features} features, {kind}"


def _sklearn_datasets() -> Any:
    import sklearn.datasets  # imported here: scikit-learn takes a second to import

    return sklearn.datasets


def load_digits() -> BundledDataset:
    """Handwritten digits 0–9: 1797 images of 8×8 pixels, the default data set of tinygrad_edu.

    ``data`` is (1797, 64) float32 with pixel values scaled from scikit-learn's 0..16 to [0, 1]
    (divided by 16); ``images`` is the same memory viewed as (1797, 1, 8, 8) for a CNN;
    ``targets`` is int64 in 0..9.
    """
    bunch = _sklearn_datasets().load_digits()
    data = (bunch.data / 16.0).astype(np.float32)
    ds = BundledDataset(
        "digits",
        data,
        bunch.target.astype(np.int64),
        list(bunch.feature_names),
        [str(c) for c in bunch.target_names],
        bunch.DESCR,
    )
    ds.images = data.reshape(-1, 1, 8, 8)  # a view: (N, C=1, H=8, W=8)
    return ds


def load_breast_cancer() -> BundledDataset:
    """Breast cancer Wisconsin (diagnostic): 569 samples, 30 features, 2 classes.

    Targets are int64: 0 = malignant, 1 = benign. The features have very different scales
    (areas in the thousands, smoothness around 0.1): standardise them (``Standardize``) first.
    """
    bunch = _sklearn_datasets().load_breast_cancer()
    return BundledDataset(
        "breast_cancer",
        bunch.data.astype(np.float32),
        bunch.target.astype(np.int64),
        list(bunch.feature_names),
        [str(c) for c in bunch.target_names],
        bunch.DESCR,
    )


def load_diabetes() -> BundledDataset:
    """Diabetes progression: 442 patients, 10 features, a float32 regression target (25 to 346).

    The features come as scikit-learn ships them: mean-centred and scaled so each column has
    unit Euclidean norm. ``classes`` is None.
    """
    bunch = _sklearn_datasets().load_diabetes()
    return BundledDataset(
        "diabetes",
        bunch.data.astype(np.float32),
        bunch.target.astype(np.float32),
        list(bunch.feature_names),
        None,
        bunch.DESCR,
    )
