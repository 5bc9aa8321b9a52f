"""Datasets, DataLoader, splits and transforms, with PyTorch's names (torch.utils.data, torchvision.transforms).

A typical training setup:

    from tinygrad_edu.data import DataLoader, TensorDataset, train_test_split
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y)
    for x, y in DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0):
        ...
"""

from . import transforms
from .dataloader import DataLoader, collate
from .dataset import Dataset, Subset, TensorDataset
from .split import random_split, train_test_split
from .transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, Standardize

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
