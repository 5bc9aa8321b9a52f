"""Errors of the same type as PyTorch's: shape mismatches are RuntimeError (our ShapeError, also a ValueError,
so older ``except ValueError`` code still catches them)."""

from __future__ import annotations

import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as TF
from tinygrad_edu.errors import ShapeError

CASES = {
    "permute dims": lambda m, F: m.ones(2, 3).permute(0),
    "permute repeat": lambda m, F: m.ones(2, 3).permute(0, 0),
    "reshape": lambda m, F: m.ones(2, 3).reshape(4, 2),
    "reshape two -1": lambda m, F: m.ones(2, 3).reshape(-1, -1),
    "view": lambda m, F: m.ones(2, 3).view(5),
    "view_as": lambda m, F: m.ones(2, 3).view_as(m.ones(5)),
    "unflatten": lambda m, F: m.ones(2, 6).unflatten(1, (4, 2)),
    "flatten": lambda m, F: m.ones(2, 3).flatten(1, 0),
    "matmul": lambda m, F: m.ones(2, 3) @ m.ones(2, 3),
    "matmul 1d": lambda m, F: m.ones(3) @ m.ones(4),
    "mm": lambda m, F: m.mm(m.ones(2, 3), m.ones(2, 3)),
    "bmm": lambda m, F: m.bmm(m.ones(2, 2, 3), m.ones(2, 2, 3)),
    "dot": lambda m, F: m.dot(m.ones(3), m.ones(4)),
    "gather": lambda m, F: m.ones(2, 3).gather(1, m.zeros(2, 3, 1, dtype=m.int64)),
    "expand": lambda m, F: m.ones(2, 3).expand(4, 3),
    "expand fewer": lambda m, F: m.ones(2, 3).expand(3),
    "expand_as": lambda m, F: m.ones(2, 3).expand_as(m.ones(4, 4)),
    "cat": lambda m, F: m.cat([m.ones(2, 3), m.ones(2, 4)]),
    "cat dims": lambda m, F: m.cat([m.ones(2, 3), m.ones(3)]),
    "stack": lambda m, F: m.stack([m.ones(2, 3), m.ones(2, 4)]),
    "split 0": lambda m, F: m.ones(2, 6).split(0, 1),
    "chunk 0": lambda m, F: m.ones(2, 3).chunk(0),
    "add broadcast": lambda m, F: m.ones(2, 3) + m.ones(4),
    "where broadcast": lambda m, F: m.where(m.ones(2, 3) > 0, m.ones(2, 3), m.ones(4)),
    "linear": lambda m, F: F.linear(m.ones(2, 3), m.ones(4, 5)),
    "conv2d channels": lambda m, F: F.conv2d(m.ones(1, 3, 5, 5), m.ones(2, 4, 3, 3)),
    "max_pool2d too big": lambda m, F: F.max_pool2d(m.ones(1, 1, 2, 2), 3),
    "mse_loss shapes": lambda m, F: F.mse_loss(m.ones(2, 3), m.ones(4, 3)),
    "layer_norm": lambda m, F: F.layer_norm(m.ones(2, 3), (4,)),
    "batch_norm stats": lambda m, F: F.batch_norm(m.ones(2, 3), m.zeros(4), m.ones(4)),
    "item": lambda m, F: m.ones(2, 3).item(),
    "index_select 2-d": lambda m, F: m.ones(2, 3).index_select(0, m.tensor([[0]])),
    "squeeze dim": lambda m, F: m.ones(2, 3).squeeze(5),
    "sum dim": lambda m, F: m.ones(2, 3).sum(dim=4),
    "cross_entropy target": lambda m, F: F.cross_entropy(m.ones(2, 3), m.zeros(3, dtype=m.int64)),
    "bce shapes": lambda m, F: F.binary_cross_entropy(m.ones(2, 3) * 0.5, m.ones(4, 3)),
    "ragged tensor": lambda m, F: m.tensor([[1, 2], [3]]),
    "inv not square": lambda m, F: m.linalg.inv(m.ones(2, 3)),
    "solve shapes": lambda m, F: m.linalg.solve(m.eye(3), m.ones(4)),
}


def _raised(fn):
    try:
        fn()
    except Exception as e:  # the type is what is compared
        return type(e)
    return None


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's broadcast warning for mse_loss shapes
@pytest.mark.parametrize("name", sorted(CASES))
def test_error_type_is_pytorchs(name):
    torch = pytest.importorskip("torch")
    theirs = _raised(lambda: CASES[name](torch, torch.nn.functional))
    ours = _raised(lambda: CASES[name](tge, TF))
    assert theirs is not None and ours is not None
    assert issubclass(ours, theirs), f"{name}: PyTorch raises {theirs.__name__}, we raise {ours.__name__}"


def test_shape_error_is_also_a_value_error_and_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        tge.ones(2, 3) @ tge.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) \(6 elements\) as \(4, 2\)"):
        tge.ones(2, 3).reshape(4, 2)
    assert issubclass(ShapeError, RuntimeError) and issubclass(ShapeError, ValueError)
