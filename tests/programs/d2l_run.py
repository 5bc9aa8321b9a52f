"""Runs one adapted d2l chapter (a d2l_*.py file here) and reports what it trained (ours, not the book's).

The chapters only plot (d2l's ProgressBoard); this prints, for every d2l Module the chapter left in its
namespace, the last point of each curve it drew: ``model <name>: train_loss 0.31 val_loss 0.33 val_acc 0.91``.
Usage: python d2l_run.py d2l_lenet.py
"""

import os
import random
import runpy
import sys

import matplotlib
import numpy

matplotlib.use("Agg")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_torch as d2l  # noqa: E402

# Seeded, so that a test's figures do not depend on luck (the book's chapters draw their data and weights unseeded).
random.seed(0)
numpy.random.seed(0)
d2l.torch.manual_seed(0)
namespace = runpy.run_path(sys.argv[1], run_name="__main__")
for name, value in namespace.items():
    if isinstance(value, d2l.Module) and hasattr(value.board, "data"):
        curves = " ".join(f"{k} {v[-1].y:.4f}" for k, v in value.board.data.items() if v)
        print(f"model {name}: {curves}")
