"""Stand-ins for the data that d2l's helper library downloads (no network here), and the knobs that keep the
chapters short in a test. d2l_torch.py imports them where it would download (lines marked 'synthetic').

- ``synthetic_fashion_mnist``: Fashion-MNIST's shape (1, 28, 28) grey images in [0, 1] (what torchvision's
  ToTensor gives), 10 classes; each class a faint bar of its own direction and (jittered) position in noise,
  resized as ``transforms.Resize`` would (bilinear).
- ``toy_fra_eng``: an English–French corpus in fra.txt's format (``english<TAB>french`` a line), generated from
  a small grammar that contains the four sentences the Transformer chapter translates.
- ``SHRINK`` (env D2L_SHRINK, default 1): the image sets hold 60000 / SHRINK and 10000 / SHRINK examples.
- ``MAX_EPOCHS`` (env D2L_MAX_EPOCHS, default no limit): Trainer runs at most this many epochs.
"""

import os
import random
from types import SimpleNamespace

import numpy as np

import tinygrad_edu as torch
import tinygrad_edu.nn.functional as F

SHRINK = int(os.environ.get("D2L_SHRINK", 1))
MAX_EPOCHS = int(os.environ.get("D2L_MAX_EPOCHS", 10**9))


def synthetic_fashion_mnist(n, resize=(28, 28), seed=0):
    """A TensorDataset of n (image (1, *resize), label) pairs, the same for the same seed."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.uniform(0.0, 0.5, (n, 1, 28, 28)).astype(np.float32)
    for i, k in enumerate(labels):
        p = 4 + 4 * (k % 5) + rng.integers(-2, 3)  # neighbouring classes' bars overlap: not every image is clear
        bar = (slice(p, p + 3), slice(4, 24)) if k < 5 else (slice(4, 24), slice(p, p + 3))
        images[i, 0][bar] += rng.uniform(0.2, 0.5)
    images = torch.tensor(images.clip(0, 1))
    if tuple(resize) != (28, 28):
        images = F.interpolate(images, size=tuple(resize), mode="bilinear", align_corners=False)
    return torch.utils.data.TensorDataset(images, torch.tensor(labels))


SUBJECTS = [("i'm", "je suis", "moi"), ("you're", "tu es", "toi"), ("he's", "il est", "lui"),
            ("she's", "elle est", "elle"), ("we're", "nous sommes", "nous"), ("they're", "ils sont", "eux")]  # fmt: skip
ADJECTIVES = [("calm", "calme"), ("sad", "triste"), ("cold", "froid"), ("tall", "grand"), ("shy", "timide"),
              ("busy", "occupé"), ("old", "vieux"), ("rich", "riche")]  # fmt: skip
PAST = [("i", "j'ai"), ("you", "tu as"), ("he", "il a"), ("she", "elle a"), ("we", "nous avons"),
        ("they", "ils ont")]  # fmt: skip
VERBS = [("lost", "perdu"), ("won", "gagné"), ("ate", "mangé"), ("paid", "payé")]
IMPERATIVES = [("go .", "va !"), ("run !", "cours !"), ("stop !", "arrête !"), ("wait !", "attends !"),
               ("hi .", "salut !"), ("help !", "à l'aide !")]  # fmt: skip


def toy_fra_eng(lines=1200, seed=0):
    """fra.txt's format: short English sentences and their French, one pair a line."""
    pairs = list(IMPERATIVES)
    for en, fr, pronoun in SUBJECTS:
        pairs.append((f"{en} home .", f"{fr} chez {pronoun} ."))
        for a_en, a_fr in ADJECTIVES:
            pairs.append((f"{en} {a_en} .", f"{fr} {a_fr} ."))
            pairs.append((f"{en} very {a_en} .", f"{fr} très {a_fr} ."))
    for en, fr in PAST:
        for v_en, v_fr in VERBS:
            pairs.append((f"{en} {v_en} .", f"{fr} {v_fr} ."))
    rng = random.Random(seed)
    chosen = [rng.choice(pairs) for _ in range(lines)]
    return "\n".join(f"{en}\t{fr}" for en, fr in chosen) + "\n"


class DataFrame:
    """Stands in for pandas (not installed here) in its one use in the Transformer chapter:
    ``pd.DataFrame(rows).fillna(0.0).values``, rows of different lengths padded into one NumPy array."""

    def __init__(self, rows):
        self.rows = [list(r) for r in rows]

    def fillna(self, value):
        width = max(len(r) for r in self.rows)
        return SimpleNamespace(values=np.array([r + [value] * (width - len(r)) for r in self.rows]))
