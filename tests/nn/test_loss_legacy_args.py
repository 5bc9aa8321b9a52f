"""Loss modules (and the functional losses that take them) accept PyTorch's deprecated size_average=/reduce=,
mapped onto reduction as PyTorch maps them, with its deprecation warning."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F

LEGACY = [(None, None), (True, None), (False, None), (None, True), (None, False), (True, True), (False, True),
          (True, False), (False, False)]  # fmt: skip
MODULES = ["MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss",
           "MultiLabelSoftMarginLoss"]  # fmt: skip


@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_the_mapping_and_its_warning(size_average, reduce):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reduction = nn.MSELoss(size_average=size_average, reduce=reduce).reduction
    if size_average is None and reduce is None:
        assert reduction == "mean" and not caught
        return
    want = "none" if reduce is False else "sum" if size_average is False else "mean"
    assert reduction == want
    assert [str(w.message) for w in caught] == [
        f"size_average and reduce args will be deprecated, please use reduction='{want}' instead."
    ]


def test_legacy_arguments_override_reduction_and_change_the_loss():
    x, y = tge.tensor([1.0, 2.0, 4.0]), tge.tensor([0.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = nn.MSELoss(size_average=False, reduction="mean")(x, y)
    assert summed.item() == 21.0
    with pytest.warns(UserWarning, match="reduction='none'"):
        each = nn.L1Loss(reduce=False)(x, y)
    np.testing.assert_array_equal(each.numpy(), [1.0, 2.0, 4.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        ce = nn.CrossEntropyLoss(None, False)(tge.zeros(4, 2), tge.tensor([0, 1, 0, 1]))  # PyTorch's positions
    assert abs(ce.item() - 4 * np.log(2)) < 1e-6


def test_functional_losses_that_take_them_map_them_too():
    x, y = tge.tensor([[0.2, 0.8]]).log(), tge.tensor([[0.5, 0.5]])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = F.kl_div(x, y, size_average=False)
    np.testing.assert_allclose(summed.item(), F.kl_div(x, y, reduction="sum").item(), rtol=1e-6)


@pytest.mark.parametrize("name", MODULES)
def test_signatures_are_pytorchs_in_order_and_the_mapping_agrees(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    for size_average, reduce in LEGACY:
        outcomes = []
        for cls in (ours, theirs):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                reduction = cls(size_average=size_average, reduce=reduce).reduction
            outcomes.append((reduction, [str(w.message) for w in caught]))
        assert outcomes[0] == outcomes[1], (size_average, reduce)
