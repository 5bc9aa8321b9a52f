"""Datasets, DataLoader, splits and transforms."""
