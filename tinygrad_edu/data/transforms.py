"""Transforms: small callables that take one sample's NumPy array and return a new one.

    train_tf = Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(), Normalize((0.1307,), (0.3081,))])
    x = train_tf(image)                          # image: (C, H, W) float32 in [0, 1]

    scaler = Standardize().fit(X_train)          # μ and σ of the *training* features only
    X_train, X_test = scaler(X_train), scaler(X_test)

Random transforms draw from the library generator, so ``tge.manual_seed`` repeats them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..random import generator


def _float(x: np.ndarray) -> np.ndarray:
    """x as a floating array (float32 unless it already is floating)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class Compose:
    """Apply transforms one after the other: ``Compose([f, g])(x) = g(f(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        """Apply each transform in turn."""
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Normalize:
    """Per-channel normalisation of a (C, H, W) sample: x'[c] = (x[c] − mean[c]) / std[c].

    ``mean`` and ``std`` hold one number per channel (or one for all), as torchvision's Normalize;
    e.g. MNIST's ``Normalize((0.1307,), (0.3081,))`` on pixels in [0, 1].
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero for every channel, got {self.std.tolist()}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Normalise one (C, ...) sample channel by channel."""
        x = _float(x)
        c = x.shape[0] if x.ndim else 1
        if self.mean.size not in (1, c) or self.std.size not in (1, c):
            raise ValueError(
                f"Normalize: a sample of shape {x.shape} has {c} channels (first dim) but mean has "
                f"{self.mean.size} values and std {self.std.size}"
            )
        per_channel = (-1,) + (1,) * (x.ndim - 1)  # (C, 1, 1): broadcast over H and W
        mean = self.mean.reshape(per_channel).astype(x.dtype)
        std = self.std.reshape(per_channel).astype(x.dtype)
        return (x - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Standardize:
    """Feature standardisation x' = (x − μ) / σ, with μ and σ learned by ``fit`` on the training data.

    ``fit(X_train)`` computes μ and σ per feature over the first dim (σ with ddof=0, as
    scikit-learn's StandardScaler); a constant feature (σ = 0) is centred but left unscaled.
    Calling it works on one sample or a batch. Fit on the training part only: statistics taken
    from the test data would leak it into training.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardize:
        """Learn μ and σ of each feature from X (n_samples, ...); returns self."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 0 or X.shape[0] == 0:
            raise ValueError(f"Standardize.fit needs a batch of samples (n_samples, ...), got shape {X.shape}")
        self.mean = X.mean(axis=0)
        self.std = X.std(axis=0)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        """Standardise x (one sample or a batch) with the fitted μ and σ."""
        if self.mean is None or self.std is None:
            raise RuntimeError(
                "Standardize has not been fitted: call scaler.fit(X_train) on the training data first, "
                "then scaler(x) on any split"
            )
        x = _float(x)
        n = self.mean.ndim  # the dims of one sample
        if n and x.shape[x.ndim - n :] != self.mean.shape:
            raise ValueError(f"Standardize was fitted on samples of shape {self.mean.shape} but got shape {x.shape}")
        scale = np.where(self.std == 0, 1.0, self.std)  # σ = 0: nothing to scale, keep the centred value
        return ((x - self.mean.astype(x.dtype)) / scale.astype(x.dtype)).astype(x.dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then standardise X."""
        return self.fit(X)(X)

    def __repr__(self) -> str:
        state = "fitted" if self.mean is not None else "not fitted"
        return f"Standardize({state})"


class RandomCrop:
    """Cut a random (size × size) window from a (C, H, W) or (H, W) sample, after zero ``padding``.

    With ``padding=p`` the sample is first padded by p zeros on each side, so the crop can shift
    the content by up to p pixels: ``RandomCrop(32, padding=4)`` is the classic CIFAR augmentation.
    """

    def __init__(self, size: int | tuple[int, int], padding: int = 0):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = int(padding)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Pad, then cut a random window."""
        x = np.asarray(x)
        p = self.padding
        if p:
            x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)])
        (h, w), (th, tw) = x.shape[-2:], self.size
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the (padded) image {(h, w)}")
        top = int(generator().integers(0, h - th + 1))
        left = int(generator().integers(0, w - tw + 1))
        return x[..., top : top + th, left : left + tw].copy()

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the sample left–right (its last dim) with probability p."""

    def __init__(self, p: float = 0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p is a probability in [0, 1], got {p}")
        self.p = p

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Flip x left–right with probability p."""
        x = np.asarray(x)
        return x[..., ::-1].copy() if generator().random() < self.p else x

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
