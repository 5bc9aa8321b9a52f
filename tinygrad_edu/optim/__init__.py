"""Optimizers, written out like their papers, and learning-rate schedulers."""
