"""``torch.utils.data``'s path to tinygrad_edu.data: Dataset, DataLoader, the samplers, random_split, ….

from tinygrad_edu.utils.data import DataLoader, TensorDataset, RandomSampler
"""

from ...data import *  # noqa: F403  (the same objects, under PyTorch's module path)
from ...data import __all__ as _names
from . import distributed

__all__ = [*_names, "distributed"]
