"""The loops of lessons 21–23 and of ``tinygrad-edu train --dataset sentiment``: pretrain with masked LM, fine-tune.

Each is the usual PyTorch loop (forward, loss, zero_grad, backward, step), on token ids:

    ids = encode(tok, texts, max_length=32)                       # (N, 32) int64, padded with <pad>
    pretrain_mlm(mlm, tok, ids, epochs=5)                         # masked-LM, warm-up + linear decay
    clf.bert.load_state_dict(mlm.bert.state_dict())
    train_classifier(clf, ids_train, y_train, epochs=10)          # fine-tuning (or training from scratch)
    accuracy(clf, ids_test, y_test)                               # in eval mode, under no_grad
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import optim
from ..autograd import no_grad
from ..nn import Module
from ..nn import functional as F
from ..tensor import Tensor
from .bert import BertForMaskedLM, mask_tokens
from .tokenizer import Tokenizer


def encode(tokenizer: Tokenizer, texts: Sequence[str], max_length: int) -> np.ndarray:
    """Texts → (N, max_length) int64 ids with ``<cls>``/``<sep>``, truncated and padded to ``max_length``."""
    return tokenizer(list(texts), padding="max_length", truncation=True, max_length=max_length)["input_ids"].numpy()


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _trim(ids: np.ndarray, pad_id: int) -> np.ndarray:
    """Drop the columns that are padding in every row (a batch of short sentences runs on fewer positions)."""
    used = np.flatnonzero((ids != pad_id).any(0))
    return ids[:, : used[-1] + 1] if len(used) else ids[:, :1]


def pretrain_mlm(
    model: BertForMaskedLM,
    tokenizer: Tokenizer,
    ids: np.ndarray,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    warmup: float = 0.1,
) -> list[float]:
    """Masked-language-model pretraining on token ids (N, L); returns every step's loss.

    AdamW with BERT's schedule: the learning rate rises linearly from 0 to ``lr`` over the first
    ``warmup`` share of the steps, then falls linearly back to 0 at the last step.
    """
    rng = np.random.default_rng(seed)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total = epochs * -(-len(ids) // batch_size)
    rise = max(1, int(warmup * total))

    def factor(step: int) -> float:  # the share of ``lr`` at this step
        return min((step + 1) / rise, max(0.0, (total - step) / (total - rise + 1)))

    schedule = optim.lr_scheduler.LambdaLR(opt, factor)
    vocab, losses = len(tokenizer.vocab), []
    model.train()
    for _ in range(epochs):
        for index in _batches(len(ids), batch_size, rng):
            inputs, labels = mask_tokens(_trim(ids[index], tokenizer.pad_token_id), tokenizer, rng=rng)
            logits = model(inputs)
            loss = F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            losses.append(loss.item())
    return losses


def train_classifier(
    model: Module,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    pad_id: int | None = 0,
) -> list[float]:
    """Train (or fine-tune) a classifier with Adam and cross-entropy; returns each epoch's mean loss.

    ``x`` are token ids (trimmed of all-padding columns per batch when ``pad_id`` is given) or features.
    """
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        total = 0.0
        batches = _batches(len(x), batch_size, rng)
        for index in batches:
            xb = _trim(x[index], pad_id) if pad_id is not None and x.dtype.kind in "iu" else x[index]
            loss = F.cross_entropy(model(Tensor(xb)), Tensor(y[index]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total / len(batches))
    return losses


def predict(model: Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The predicted classes of ``x``, in eval mode and without building a graph."""
    was_training = model.training
    model.eval()
    with no_grad():
        out = [model(Tensor(x[i : i + batch_size])).argmax(dim=1).numpy() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def accuracy(model: Module, x: np.ndarray, y: np.ndarray) -> float:
    """The share of ``x`` the model classifies as ``y``."""
    return float((predict(model, x) == np.asarray(y)).mean()) if len(y) else float("nan")
