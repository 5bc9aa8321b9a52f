"""tge.linalg (norm, vector_norm, matrix_norm, svdvals, inv, det, solve) and copysign: agreement with
torch.linalg, gradcheck of every Function, and the determinant's gradient at a singular matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge

R = np.random.default_rng(0)
A = R.standard_normal((3, 4, 4)) + 3 * np.eye(4)  # well conditioned
M = R.standard_normal((2, 3, 5))
B = R.standard_normal((3, 4, 2))
V = R.standard_normal((3, 4))

CASES = {
    "inv": lambda L, a, m, b, v: L.inv(a),
    "det": lambda L, a, m, b, v: L.det(a),
    "solve matrix": lambda L, a, m, b, v: L.solve(a, b),
    "solve vector": lambda L, a, m, b, v: L.solve(a, v),
    "svdvals": lambda L, a, m, b, v: L.svdvals(m),
    "vector_norm 3": lambda L, a, m, b, v: L.vector_norm(m, 3, dim=-1),
    "vector_norm all": lambda L, a, m, b, v: L.vector_norm(m),
    "norm default": lambda L, a, m, b, v: L.norm(m),
    "norm dim": lambda L, a, m, b, v: L.norm(m, dim=1, keepdim=True),
    "norm 2-d nuc": lambda L, a, m, b, v: L.norm(m[0], "nuc"),
    "norm vector inf": lambda L, a, m, b, v: L.norm(v[0], math.inf),
}
for _ord in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
    CASES[f"matrix_norm {_ord}"] = lambda L, a, m, b, v, o=_ord: L.matrix_norm(m, o)
CASES["matrix_norm dims keepdim"] = lambda L, a, m, b, v: L.matrix_norm(m, 1, dim=(2, 0), keepdim=True)
CASES["matrix_norm 2 dims"] = lambda L, a, m, b, v: L.matrix_norm(m, 2, dim=(0, 2))


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_torch_linalg(name):
    torch = pytest.importorskip("torch")
    ours = [tge.tensor(x, requires_grad=True) for x in (A, M, B, V)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (A, M, B, V)]
    y, yt = CASES[name](tge.linalg, *ours), CASES[name](torch.linalg, *theirs)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = R.standard_normal(y.shape)
    (y * tge.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), batch=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_matrix_functions_gradcheck(n, batch, seed):
    rng = np.random.default_rng(seed)
    a = tge.tensor(rng.standard_normal((batch, n, n)) + 2 * n * np.eye(n), requires_grad=True)
    b = tge.tensor(rng.standard_normal((batch, n, 2)), requires_grad=True)
    assert tge.gradcheck(tge.linalg.inv, [a])
    assert tge.gradcheck(tge.linalg.det, [a])
    assert tge.gradcheck(tge.linalg.solve, [a, b])
    m = tge.tensor(rng.standard_normal((n, n + 1)) * np.arange(1, n + 2), requires_grad=True)  # distinct σ
    assert tge.gradcheck(tge.linalg.svdvals, [m])


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    s = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])  # rank 2: det 0, gradient not 0
    x = tge.tensor(s, requires_grad=True)
    y = tge.linalg.det(x)
    y.backward()
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(s, i, 0), j, 1)) for j in range(3)]
                          for i in range(3)])  # fmt: skip
    assert abs(y.item()) < 1e-12
    np.testing.assert_allclose(x.grad.numpy(), cofactors, atol=1e-12)  # ∂det/∂aᵢⱼ = the (i, j) cofactor
    assert np.abs(cofactors).max() > 1


def test_errors_and_aliases():
    with pytest.raises(RuntimeError, match="singular"):
        tge.linalg.inv(tge.zeros(2, 2, dtype=tge.float64))
    with pytest.raises(RuntimeError, match="square matrices"):
        tge.linalg.det(tge.ones(2, 3))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        tge.linalg.solve(tge.eye(3), tge.ones(2))
    np.testing.assert_allclose(tge.inverse(tge.tensor(A)).numpy(), np.linalg.inv(A))
    np.testing.assert_allclose(tge.det(tge.tensor(A)).numpy(), np.linalg.det(A))


def test_copysign_values_and_gradient_as_torch():
    torch = pytest.importorskip("torch")
    x, y = np.array([1.5, -2.0, 0.0, 3.0, -0.0]), np.array([-1.0, 2.0, -0.0, 0.0, -5.0])
    ours, theirs = tge.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = tge.copysign(ours, tge.tensor(y)), torch.copysign(theirs, torch.tensor(y))
    np.testing.assert_array_equal(out.numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(np.signbit(out.numpy()), np.signbit(out_t.detach().numpy()))
    out.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(tge.tensor([1.0, 2.0]).copysign(-1.0).numpy(), [-1.0, -2.0])
