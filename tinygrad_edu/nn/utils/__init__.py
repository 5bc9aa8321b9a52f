"""nn.utils: gradient clipping (clip_grad.py) and pruning (prune.py), as in PyTorch.

Used as in PyTorch:

    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    import tinygrad_edu.nn.utils.prune as prune
    prune.l1_unstructured(model.fc1, "weight", amount=0.5)
"""

from . import prune
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "prune"]
