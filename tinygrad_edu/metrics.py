"""Classification metrics, equal to scikit-learn's: accuracy, precision, recall, F1 and the confusion matrix.

Everything starts from the confusion matrix C, where C[i, j] counts samples of true class i
predicted as class j. For each class k:

    TP_k = C[k, k]              (predicted k, truly k)
    FP_k = column k sum − TP_k  (predicted k, truly something else)
    FN_k = row k sum − TP_k     (truly k, predicted something else)
    precision_k = TP_k / (TP_k + FP_k)       recall_k = TP_k / (TP_k + FN_k)
    F1_k = 2·TP_k / (2·TP_k + FP_k + FN_k)   (the harmonic mean of precision_k and recall_k)

A ratio with a zero denominator is ``zero_division`` (0 by default), as in scikit-learn.
Averages: "macro" is the plain mean over classes, "weighted" weights class k by its support
(row k sum), "micro" pools the counts of all classes first (for single-label data micro
precision = micro recall = micro F1 = accuracy), None returns the per-class values, and
"binary" returns the value of the class ``pos_label``.

Inputs may be Tensors, NumPy arrays or lists of labels ((N, 1) columns are read as (N,)). When
``y_pred`` has one more dim than ``y_true`` (scores or logits of shape (N, classes)), its argmax
over the last dim is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor


def _labels(y: Any) -> np.ndarray:
    """Labels as a 1-D NumPy array (from a Tensor, an array or a list)."""
    return np.asarray(y.numpy() if isinstance(y, Tensor) else y)


def _flat(a: np.ndarray) -> np.ndarray:
    """A single label or an (N, 1) column (as binary models give them) as a 1-D array."""
    return a.reshape(-1) if a.ndim == 0 or (a.ndim == 2 and a.shape[1] == 1) else a


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true), _labels(y_pred)
    if p.ndim == t.ndim + 1:
        if p.shape[-1] == 1:
            raise ValueError(
                f"metrics: y_pred has shape {p.shape}, one score per sample: threshold it into labels first, "
                "e.g. (probs > 0.5) for sigmoid outputs or (logits > 0) for raw scores"
            )
        p = p.argmax(axis=-1)  # scores or logits → the predicted class
    t, p = _flat(t), _flat(p)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"metrics: y_true {t.shape} and y_pred {p.shape} must be 1-D with one label per sample")
    return t, p


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """num / den elementwise, with ``zero_division`` where den is 0 (and no NumPy warning)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of samples whose predicted label equals the true label."""
    t, p = _pair(y_true, y_pred)
    if t.size == 0:
        raise ValueError("accuracy: no samples")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """C[i, j] = the number of samples of true class i predicted as class j (int64).

    The classes are 0..num_classes−1 when ``num_classes`` is given, otherwise the sorted labels
    that occur in y_true or y_pred (as scikit-learn does).
    """
    t, p = _pair(y_true, y_pred)
    labels = _classes(t, p, num_classes)
    k = len(labels)
    ti, pi = np.searchsorted(labels, t), np.searchsorted(labels, p)
    # each (true, predicted) pair is one cell k·i + j of the flattened k×k matrix: count them all at once
    return np.bincount(k * ti + pi, minlength=k * k).reshape(k, k).astype(np.int64)


def _classes(t: np.ndarray, p: np.ndarray, num_classes: int | None) -> np.ndarray:
    if num_classes is None:
        return np.union1d(t, p)
    labels = np.arange(num_classes)
    outside = np.setdiff1d(np.union1d(t, p), labels)
    if outside.size:
        raise ValueError(
            f"metrics: labels {outside.tolist()} lie outside 0..{num_classes - 1} (num_classes={num_classes})"
        )
    return labels


def _counts(y_true: Any, y_pred: Any, num_classes: int | None) -> tuple[np.ndarray, ...]:
    """Per-class TP, FP, FN and support (the number of true samples of each class)."""
    c = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(c)
    return tp, c.sum(axis=0) - tp, c.sum(axis=1) - tp, c.sum(axis=1)


def _average(per_class: np.ndarray, support: np.ndarray, average: str) -> float:
    """The macro (plain) or weighted (by support) mean; NaN values (zero_division=nan) are left out."""
    keep = ~np.isnan(per_class)
    if not keep.any():
        return float("nan")
    weights = np.ones_like(per_class) if average == "macro" else support.astype(np.float64)
    weights, values = weights[keep], per_class[keep]
    return float(values @ weights / weights.sum()) if weights.sum() else 0.0


def _score(
    kind: str,
    y_true: Any,
    y_pred: Any,
    average: str | None,
    num_classes: int | None,
    zero_division: float,
    pos_label: int,
) -> Any:
    valid = ("macro", "micro", "weighted", "binary", None)
    if average not in valid:
        raise ValueError(f"{kind}: average must be one of {valid}, got {average!r}")
    tp, fp, fn, support = _counts(y_true, y_pred, num_classes)
    if average == "micro":  # pool the counts over all classes, then take the ratio once
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    if kind == "precision":
        values = _divide(tp, tp + fp, zero_division)
    elif kind == "recall":
        values = _divide(tp, tp + fn, zero_division)
    else:
        values = _divide(2 * tp, 2 * tp + fp + fn, zero_division)
    if average == "micro":
        return float(values[0])
    if average is None:
        return values
    if average == "binary":
        labels = _classes(*_pair(y_true, y_pred), num_classes)
        if len(labels) > 2:
            raise ValueError(f"{kind}: average='binary' needs 2 classes, found {len(labels)}; use average='macro'")
        hit = np.flatnonzero(labels == pos_label)
        if hit.size:
            return float(values[hit[0]])
        if len(labels) == 2:
            raise ValueError(f"{kind}: pos_label={pos_label} is not one of the labels {labels.tolist()}")
        return float(zero_division)  # pos_label never occurs: no positives predicted or present
    return _average(values, support, average)


def precision(
    y_true: Any,
    y_pred: Any,
    average: str | None = "macro",
    num_classes: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """Precision TP / (TP + FP): of the samples predicted as class k, the share that truly is k."""
    return _score("precision", y_true, y_pred, average, num_classes, zero_division, pos_label)


def recall(
    y_true: Any,
    y_pred: Any,
    average: str | None = "macro",
    num_classes: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """Recall TP / (TP + FN): of the samples truly of class k, the share predicted as k."""
    return _score("recall", y_true, y_pred, average, num_classes, zero_division, pos_label)


def f1_score(
    y_true: Any,
    y_pred: Any,
    average: str | None = "macro",
    num_classes: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """F1 = 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall per class."""
    return _score("f1", y_true, y_pred, average, num_classes, zero_division, pos_label)
