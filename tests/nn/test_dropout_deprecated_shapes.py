"""F.dropout2d on a 2-D input: PyTorch's deprecated behaviour (elementwise dropout, with its warning), which its
own mnist_rnn example relies on."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F


def test_dropout2d_on_a_matrix_warns_like_pytorch_and_drops_elements():
    tge.manual_seed(0)
    x = tge.ones(200, 50)
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d, which is deprecated"):
        y = F.dropout2d(x, 0.5, True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    rows_mixed = np.mean([(0 < r.mean() < 2) for r in y])  # elementwise: rows are neither all 0 nor all 2
    assert rows_mixed > 0.99 and abs(y.mean() - 1.0) < 0.05


def test_dropout2d_of_four_dims_still_drops_whole_channels():
    tge.manual_seed(0)
    y = F.dropout2d(tge.ones(8, 16, 3, 3), 0.5, True).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
