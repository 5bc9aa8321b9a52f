"""nn.utils: gradient clipping (clip_grad.py), pruning (prune.py), parameters as one vector
(convert_parameters.py), as in PyTorch.

Used as in PyTorch:

    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    import tinygrad_edu.nn.utils.prune as prune
    prune.l1_unstructured(model.fc1, "weight", amount=0.5)
"""

from . import prune
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "prune", "vector_to_parameters"]
