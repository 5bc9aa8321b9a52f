"""Datasets, DataLoader, splits and transforms, with PyTorch's names (torch.utils.data, torchvision.transforms).

A typical training setup:

    from tinygrad_edu.data import DataLoader, TensorDataset, train_test_split
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y)
    for x, y in DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0):
        ...

PyTorch's path works too: ``from tinygrad_edu.utils.data import DataLoader, RandomSampler``.
"""

from . import transforms
from .dataloader import DataLoader, collate, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset
from .distributed_sampler import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .split import random_split, train_test_split
from .transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, Standardize
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "Compose",
    "DataLoader",
    "Dataset",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Standardize",
    "Subset",
    "TensorDataset",
    "collate",
    "random_split",
    "train_test_split",
    "transforms",
]
__all__ += [
    "BatchSampler",
    "ConcatDataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
]
