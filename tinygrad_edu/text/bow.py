"""The bag-of-words classifier: word counts → Linear → ReLU → Linear, the seed's 1000 → 500 → classes network.

    model = BagOfWordsMLP(vocab_size=1000, hidden=500, num_classes=2)
    logits = model(counts)        # counts (N, V) floats, e.g. CountVectorizer(max_features=1000).transform(texts)
    logits = model(input_ids)     # or token ids (N, L): counted here, <pad>/<cls>/<sep>/<mask> left out

Counting forgets the order, so "good but boring" and "boring but good" give the model the same
input: whatever it learns, it answers both the same way.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from .tokenizer import SPECIAL_TOKENS, UNK


def bag_of_ids(input_ids: Tensor | np.ndarray, vocab_size: int) -> np.ndarray:
    """Token ids (N, L) → counts (N, vocab_size) float32; the special tokens but ``<unk>`` are not counted."""
    ids = input_ids.numpy() if isinstance(input_ids, Tensor) else np.asarray(input_ids)
    counts = np.zeros((ids.shape[0], vocab_size), dtype=np.float32)
    np.add.at(counts, (np.arange(ids.shape[0])[:, None], ids), 1)
    ignored = [i for i, t in enumerate(SPECIAL_TOKENS) if t != UNK]
    counts[:, ignored] = 0
    return counts


class BagOfWordsMLP(nn.Module):
    """vocab_size → hidden (ReLU) → num_classes on word counts; ids (integer input) are counted first."""

    def __init__(self, vocab_size: int, hidden: int = 500, num_classes: int = 2) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.fc1 = nn.Linear(vocab_size, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Counts (N, vocab_size) or token ids (N, L) → logits (N, num_classes)."""
        if x.dtype.kind in "iu":
            x = Tensor(bag_of_ids(x, self.vocab_size), device=x.device)
        return self.fc2(F.relu(self.fc1(x)))
