"""Hypothesis, at the edges PyTorch users meet: masked (−inf) logits with ignored rows, weights and label
smoothing; two-tensor arithmetic over all of float32; pow at 0, −0 and negative bases; var/std with any
correction. Forward and backward are compared with PyTorch's, inf and nan at the same places, and no
NumPy warning is allowed (pyproject turns RuntimeWarning into an error).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tests.ops.test_stability_fuzz import FLOAT32, _same, matrices

torch = pytest.importorskip("torch")
TF = torch.nn.functional

IGNORE = -100


@st.composite
def masked_logits(draw) -> tuple[np.ndarray, np.ndarray]:
    """(N, C) float32 logits, some entries −inf (masked classes), and targets with some rows ignored."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    x = draw(hnp.arrays(np.float32, (n, c), elements=FLOAT32))
    masked = draw(hnp.arrays(np.bool_, (n, c)))
    x[masked] = -np.inf
    t = np.array(draw(st.lists(st.sampled_from([*range(c), IGNORE]), min_size=n, max_size=n)))
    return x, t


@settings(max_examples=120, deadline=None)
@given(
    xt=masked_logits(),
    loss=st.sampled_from(["cross_entropy", "nll_loss"]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    smoothing=st.sampled_from([0.0, 0.1]),
    weighted=st.booleans(),
)
@example(  # every row ignored: the mean is 0/0 = nan, yet PyTorch's gradient is 0, not nan
    xt=(np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 0.0]], np.float32), np.array([IGNORE, IGNORE])),
    loss="cross_entropy", reduction="mean", smoothing=0.0, weighted=False,
)  # fmt: skip
@example(  # a masked row that is ignored, next to a kept one
    xt=(np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 3e38]], np.float32), np.array([IGNORE, 2])),
    loss="cross_entropy", reduction="mean", smoothing=0.0, weighted=False,
)  # fmt: skip
def test_masked_logits_and_ignored_rows_match_pytorch(xt, loss, reduction, smoothing, weighted):
    """Loss and gradient as PyTorch's; an ignored row's gradient is exactly 0.

    Where an ignored row is all −inf, PyTorch's cross_entropy gives that row nan · 0 = nan (from its
    softmax of −inf − (−inf)); ours gives the 0 the row's weight says, so ignored rows are checked to
    be 0 and the rows that count are compared with PyTorch's.
    """
    x, t = xt
    c = x.shape[1]
    w = np.linspace(0.5, 2.0, c).astype(np.float32) if weighted else None
    a, b = tge.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw_a = {"reduction": reduction, "weight": None if w is None else tge.tensor(w)}
    kw_b = {"reduction": reduction, "weight": None if w is None else torch.tensor(w)}
    if loss == "cross_entropy":
        la = F.cross_entropy(a, tge.tensor(t), label_smoothing=smoothing, **kw_a)
        lb = TF.cross_entropy(b, torch.tensor(t), label_smoothing=smoothing, **kw_b)
    else:
        la = F.nll_loss(F.log_softmax(a, 1), tge.tensor(t), **kw_a)
        lb = TF.nll_loss(TF.log_softmax(b, 1), torch.tensor(t), **kw_b)
    what = f"{loss}({x!r}, {t}, {reduction}, smoothing={smoothing}, weight={w})"
    _same(la.numpy(), lb.detach().numpy(), what)
    la.sum().backward()
    lb.sum().backward()
    kept = t != IGNORE
    ours, theirs = a.grad.numpy(), b.grad.numpy()
    if loss == "cross_entropy":
        assert not ours[~kept].any(), f"{what}: an ignored row got a gradient {ours[~kept]}"
        ours, theirs = ours[kept], theirs[kept]
    _same(ours, theirs, f"{what} backward")


BINARY = [
    ("add", lambda u, v: u + v),
    ("sub", lambda u, v: u - v),
    ("mul", lambda u, v: u * v),
    ("div", lambda u, v: u / v),
    ("maximum", lambda u, v: u.maximum(v)),
]


@pytest.mark.parametrize("name,op", BINARY, ids=[b[0] for b in BINARY])
@settings(max_examples=60, deadline=None)
@given(data=st.data(), x=matrices())
@example(data=None, x=np.array([3.4e38, 1e-45, 0.0, -1e30], np.float32))
def test_two_tensor_arithmetic_on_any_float32_matches_pytorch(name, op, data, x):
    """Overflow to inf, 0/0 = nan, a subnormal divisor: the same numbers and gradients as PyTorch."""
    if data is None:  # the @example: x against its own reverse
        y = x[::-1].copy()
    else:
        y = data.draw(hnp.arrays(np.float32, x.shape, elements=FLOAT32), label="y")
    a, b = tge.tensor(x, requires_grad=True), tge.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    ours, theirs = op(a, b), op(ta, tb)
    _same(ours.numpy(), theirs.detach().numpy(), f"{name}({x!r}, {y!r})")
    ours.sum().backward()
    theirs.sum().backward()
    _same(a.grad.numpy(), ta.grad.numpy(), f"{name}({x!r}, {y!r}) d/dx")
    _same(b.grad.numpy(), tb.grad.numpy(), f"{name}({x!r}, {y!r}) d/dy")


POW_EDGES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 1e-300, 1e300, -1e300])
POW_VALUES = st.one_of(POW_EDGES, st.floats(-5, 5, allow_nan=False), st.integers(-3, 3).map(float))


@settings(max_examples=150, deadline=None)
@given(
    base=hnp.arrays(np.float64, st.integers(1, 6), elements=POW_VALUES),
    exponent=st.data(),
)
def test_pow_at_zero_and_negative_bases_matches_pytorch(base, exponent):
    """x**y and both gradients at 0**0, 0**−1, (−2)**y, −0 and huge values, as PyTorch (float64)."""
    y = exponent.draw(hnp.arrays(np.float64, base.shape, elements=POW_VALUES), label="exponent")
    a, b = tge.tensor(base, requires_grad=True), tge.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(base, requires_grad=True), torch.tensor(y, requires_grad=True)
    ours, theirs = a**b, ta**tb
    _same(ours.numpy(), theirs.detach().numpy(), f"{base!r} ** {y!r}")
    ours.sum().backward()
    theirs.sum().backward()
    _same(a.grad.numpy(), ta.grad.numpy(), f"d({base!r} ** {y!r})/dx")
    _same(b.grad.numpy(), tb.grad.numpy(), f"d({base!r} ** {y!r})/dy")


def _rounded(a: np.ndarray) -> np.ndarray:
    """float64 → float32, beyond 3.4e38 to inf (NumPy would warn about the overflow)."""
    with np.errstate(over="ignore"):
        return a.astype(np.float32)


def _slack(x: np.ndarray, name: str, dim: int | None, correction: int) -> np.ndarray | float:
    """How far float32 may miss var's gradient 2(x − x̄)/(n − c): x̄ itself is only known to float32's
    precision of the slice's largest |x| (3.4e38 − 3.4e38 + 1 cannot keep the 1), so the bound scales
    with max|x| · 2/(n − c), per slice. std's gradient (x − x̄)/((n − c)σ) is O(1): no slack needed."""
    if name != "var":
        return 0.0
    n = x.size if dim is None else x.shape[dim]
    biggest = np.abs(x.astype(np.float64)).max(axis=dim, keepdims=dim is not None)
    return 2 * biggest / max(n - correction, 1)


def _torch_var_grad(x: np.ndarray, name: str, dim: int | None, correction: int) -> np.ndarray:
    """PyTorch's gradient of Σ var (or std), through its whole-tensor rule where N − correction ≤ 0.

    PyTorch has two rules there: over the whole tensor, dvar = dy · (inf, or nan where x = mean),
    the derivative of the inf it returns; along a dim, 2 / (N − correction) · (x − mean) unclamped,
    a finite slope (of the wrong sign) for an infinite value. We follow the first everywhere, so the
    reference takes each slice along ``dim`` through PyTorch's whole-tensor rule. PyTorch runs in
    float64 here, the result rounded to float32: its float32 kernel loses what the answer keeps
    (the mean of [3.4e38, 3.4e38] overflows, so var = inf where it is 0).
    """
    n = x.size if dim is None else x.shape[dim]
    if dim is None or n - correction > 0:
        t = torch.tensor(x.astype(np.float64), requires_grad=True)
        getattr(t, name)(dim=dim, correction=correction).sum().backward()
        return _rounded(t.grad.numpy())
    moved = np.moveaxis(x, dim, -1)
    rows = moved.reshape(-1, n)
    grads = np.stack([_torch_var_grad(row, name, None, correction) for row in rows])
    return np.moveaxis(grads.reshape(moved.shape), -1, dim)


@settings(max_examples=100, deadline=None)
@given(
    x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4), elements=FLOAT32),
    data=st.data(),
)
@example(x=np.array([1.0, 0.0], np.float32), data=None)  # N − correction = 0 and −1, along dim 0
@example(x=np.array([0.0, 1e-30], np.float32), data=None)  # squares that underflow float32
@example(x=np.array([3.4e38, -3.4e38, -3.4e38], np.float32), data=None)  # x − x̄ = 4.5e38 > float32's max
def test_var_and_std_with_any_correction_match_pytorch(x, data):
    """N − correction ≤ 0 gives inf (or nan for 0/0), never a negative variance; huge and tiny slices
    give the float64 answer rounded to float32 (std of [0, 1e−30] is 5e−31, its gradient ±0.5)."""
    cases = [(0, 0), (0, 1), (0, 2), (0, 3), (None, 3)] if data is None else []
    if data is not None:
        dim = data.draw(st.sampled_from([None, *range(x.ndim)]), label="dim")
        n = x.size if dim is None else x.shape[dim]
        cases = [(dim, data.draw(st.integers(0, n + 2), label="correction"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch warns "degrees of freedom is <= 0"
        for (dim, correction), name in ((case, name) for case in cases for name in ("var", "std")):
            a = tge.tensor(x, requires_grad=True)
            ours = getattr(a, name)(dim=dim, correction=correction)
            theirs = getattr(torch.tensor(x.astype(np.float64)), name)(dim=dim, correction=correction)
            what = f"{name}({x!r}, dim={dim}, correction={correction})"
            assert not (ours.numpy() < 0).any(), what
            _same(ours.numpy(), _rounded(theirs.numpy()), what)
            ours.sum().backward()
            _same(
                a.grad.numpy(),
                _torch_var_grad(x, name, dim, correction),
                f"{what} backward",
                atol=_slack(x, name, dim, correction),
            )


@settings(max_examples=100, deadline=None)
@given(x=matrices(), data=st.data())
@example(x=np.array([1e-45, -1e-45, 5.0, -7.0], np.float32), data=None)
def test_floor_divide_and_remainder_round_as_python(x, data):
    """x // y is ⌊x / y⌋ of the exact quotient (1e−45 // −1e30 = −1, as Python and PyTorch), and
    remainder's dy = −dz · (x // y): PyTorch's, wherever PyTorch's x / y is not far out of range."""
    y = np.array([-1e30, 1e30, -3.0, 2.0], np.float32) if data is None else None
    if y is None:
        y = data.draw(hnp.arrays(np.float32, x.shape, elements=FLOAT32), label="y")
    a, b = tge.tensor(x, requires_grad=True), tge.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    _same((a // b).numpy(), (ta // tb).detach().numpy(), f"{x!r} // {y!r}")
    r, tr = a.remainder(b), ta.remainder(tb)
    r.sum().backward()
    tr.sum().backward()
    with np.errstate(all="ignore"):
        sane = np.abs(x.astype(np.float64) / y) < 1e30  # beyond, PyTorch's x − (x // y)·y is nan; ours exact
    _same(r.numpy()[sane], tr.detach().numpy()[sane], f"remainder({x!r}, {y!r})")
    _same(b.grad.numpy()[sane], tb.grad.numpy()[sane], f"remainder({x!r}, {y!r}) d/dy")
    if data is None:
        assert (a // b).numpy().tolist() == [-1.0, -1.0, -2.0, -4.0] == [float(u // v) for u, v in zip(x, y)]


def test_digamma_at_signed_zero_is_the_side_of_the_pole():
    """ψ(+0) = −inf and ψ(−0) = +inf (the limits from the right and the left), as PyTorch and SciPy."""
    x = np.array([0.0, -0.0], np.float32)
    ours = tge.tensor(x).digamma().numpy()
    assert ours.tolist() == [-np.inf, np.inf] == torch.tensor(x).digamma().tolist()
    a = tge.tensor(x, requires_grad=True)
    a.lgamma().sum().backward()  # d ln|Γ(x)| / dx = ψ(x)
    assert a.grad.numpy().tolist() == [-np.inf, np.inf]


VECTORS = [[0.0, 0.0], [1e-30, 1e-30], [1e-25, 2e-25], [1.0, -2.0], [1e18, 3e18], [1e20, 1e20], [3e38, 1.0]]


@pytest.mark.parametrize("v", VECTORS, ids=str)
def test_cosine_similarity_normalize_and_distances_at_zero_tiny_and_huge_vectors(v):
    """Zero vectors (the norm has no derivative: 0, as PyTorch), vectors whose x1·x2 or norm overflows:
    PyTorch's values and gradients, never the nan of √′(0) · 0 or inf / inf."""
    u = np.array([[0.5, 1.5]], np.float32)
    cases = [
        (lambda x: F.cosine_similarity(x, tge.tensor(u)), lambda x: TF.cosine_similarity(x, torch.tensor(u))),
        (lambda x: F.normalize(x, dim=1) * tge.tensor(u), lambda x: TF.normalize(x, dim=1) * torch.tensor(u)),
        (lambda x: F.pairwise_distance(x, tge.tensor(u), p=3), lambda x: TF.pairwise_distance(x, torch.tensor(u), p=3)),
    ]
    for ours_f, theirs_f in cases:
        a, b = tge.tensor(np.array([v], np.float32), requires_grad=True), torch.tensor([v], requires_grad=True)
        ours, theirs = ours_f(a), theirs_f(b)
        _same(ours.numpy(), theirs.detach().numpy(), f"forward at {v}")
        ours.sum().backward()
        theirs.sum().backward()
        _same(a.grad.numpy(), b.grad.numpy(), f"backward at {v}")
