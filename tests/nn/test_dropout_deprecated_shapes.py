"""Channel dropout on inputs of other ranks: PyTorch's deprecated behaviour, with its warnings (PyTorch's own
mnist_rnn example feeds dropout2d a 2-D input)."""

from __future__ import annotations

import warnings

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


def _constant_dims(y: np.ndarray) -> tuple[int, ...]:
    """The dims along which the dropout mask does not vary (the channel's own dims)."""
    return tuple(d for d in range(y.ndim) if (np.ptp(y, axis=d) == 0).all())


@pytest.mark.parametrize(
    "shape, dropped_along",
    [((40,), ()), ((30, 40), (1,)), ((30, 4, 5), (1, 2)), ((30, 2, 3, 2, 2, 2), (1, 2, 3, 4, 5))],
)
def test_dropout3d_of_another_rank_warns_like_pytorch_and_reads_dim_0_as_channels(shape, dropped_along):
    """PyTorch 2.13: a rank other than 4 or 5 warns, then is read as unbatched (C, ...): dim 0 its channels."""
    tge.manual_seed(0)
    with pytest.warns(UserWarning, match=f"dropout3d: Received a {len(shape)}-D input to dropout3d, which is depre"):
        y = F.dropout3d(tge.ones(*shape), 0.5).numpy()
    assert y.shape == shape and set(np.unique(y)) == {0.0, 2.0}
    assert _constant_dims(y) == dropped_along


def test_dropout3d_of_an_unbatched_volume_drops_channels_without_a_warning(recwarn):
    tge.manual_seed(0)
    y = F.dropout3d(tge.ones(30, 2, 3, 4), 0.5).numpy()
    assert _constant_dims(y) == (1, 2, 3) and not recwarn.list


def test_dropout2d_of_three_dims_reads_them_as_n_c_l_like_pytorch():
    tge.manual_seed(0)
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout behavior is desired"):
        y = F.dropout2d(tge.ones(20, 30, 6), 0.5).numpy()
    assert _constant_dims(y) == (2,)  # one draw per (n, c): (N, C, L), not an unbatched (C, H, W)


@pytest.mark.parametrize("op", ["dropout2d", "dropout3d"])
@pytest.mark.parametrize("shape", [(6,), (6, 5), (6, 5, 4), (6, 5, 4, 3), (6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 2)])
def test_channel_dropout_warnings_and_errors_agree_with_torch(op, shape):
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib, functional in ((torch, torch.nn.functional), (tge, F)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                shape_out = tuple(getattr(functional, op)(lib.ones(shape), 0.5).shape)
            except RuntimeError:
                shape_out = "RuntimeError"
        outcomes.append((shape_out, [str(w.message) for w in caught]))
    assert outcomes[0] == outcomes[1]
