"""The Tensor itself: dtype rules, factories, seeding, conversions, comparisons, printing, Python
protocols, devices, the ``tge.`` namespace, and the issue's one-line demo.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import Tensor

# ---- dtype rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([1, 2.5], np.float32),  # mixed: float, as PyTorch
        ([], np.float32),
        (3, np.int64),
        ([[1, 2], [3, 4]], np.int64),
        (True, np.bool_),
        ([True, False], np.bool_),
        (np.array([1.0, 2.0]), np.float64),  # NumPy float64 stays float64, as torch.tensor(ndarray)
        (np.float64(1.5), np.float64),
        (np.array([1.0], dtype=np.float32), np.float32),
        (np.array([1, 2], dtype=np.int32), np.int32),
    ],
)
def test_dtype_rules(data, dtype):
    t = tge.tensor(data)
    assert t.dtype == dtype
    assert isinstance(t.array, np.ndarray)
    assert Tensor(data).dtype == dtype


def test_dtype_argument_forms():
    for dtype in (tge.float64, np.float64, "float64", tge.double):
        assert tge.tensor([1, 2], dtype=dtype).dtype == np.float64
    assert tge.tensor([1.7, -1.7], dtype=tge.int64).tolist() == [1, -1]
    with pytest.raises(TypeError, match="is not a dtype: use tge.float32"):
        tge.tensor([1.0], dtype="floaty")


def test_mixed_dtypes_promote_like_pytorch():
    i, f32, f64 = tge.arange(3), tge.ones(3), tge.ones(3, dtype=tge.float64)
    assert (i * f32).dtype == np.float32 and (f32 + i).dtype == np.float32  # NumPy alone would say float64
    assert (f32 * tge.tensor([True, False, True])).dtype == np.float32
    assert (f64 - i).dtype == np.float64 and (f32 * f64).dtype == np.float64
    assert (f32 * np.array([1, 2, 3])).dtype == np.float32
    assert (i / 2).dtype == np.float32 and (i / 2).tolist() == [0.0, 0.5, 1.0]  # true division of ints
    assert (7 / tge.arange(1, 3)).tolist() == [7.0, 3.5] and (i / i[:1] + 1).dtype == np.float32
    assert (i * 2).dtype == np.int64 and (i + i).dtype == np.int64 and (i**2).dtype == np.int64
    assert (i * 0.5).dtype == np.float32 and tge.arange(4).mean().item() == 1.5
    w = tge.ones(3, requires_grad=True)
    (w * i).sum().backward()  # an integer side never needs a gradient
    assert w.grad.tolist() == [0.0, 1.0, 2.0] and w.grad.dtype == np.float32


def test_float_functions_of_integer_tensors_are_float32():
    i = tge.tensor([1, 2])
    for y in (i.exp(), i.log(), i.sqrt(), i.sin(), i.cos(), i.tanh(), i.sigmoid(), i.softmax(0), i.log_softmax(0)):
        assert y.dtype == np.float32
    assert i.sigmoid().numpy() == pytest.approx([0.7310586, 0.8807971])  # not truncated to ints
    assert i.logsumexp(0).dtype == np.float32
    assert i.abs().dtype == np.int64 and i.relu().dtype == np.int64 and i.clamp(0, 1).dtype == np.int64


def test_bad_data_is_refused():
    with pytest.raises(TypeError, match="cannot make a tensor from str data"):
        tge.tensor("abc")


def test_requires_grad_on_an_int_tensor_raises_with_advice():
    with pytest.raises(RuntimeError, match=r"only floating-point tensors can require gradients.*\.float\(\)"):
        tge.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        tge.arange(3).requires_grad_()


def test_tensor_copies_its_data():
    a = np.zeros(3)
    t = tge.tensor(a)
    a[0] = 1.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    u = tge.tensor(t)
    t.array[1] = 5.0
    assert u.tolist() == [0.0, 0.0, 0.0]


# ---- factories ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [tge.zeros, tge.ones, tge.randn, tge.rand])
def test_shape_forms(factory):
    assert factory(2, 3).shape == (2, 3)
    assert factory((2, 3)).shape == (2, 3)
    assert factory([2, 3]).shape == (2, 3)
    assert factory(4).shape == (4,)
    assert factory(()).shape == ()
    assert factory(2, 3).dtype == np.float32
    assert factory(2, dtype=tge.float64).dtype == np.float64
    assert factory(2, requires_grad=True).requires_grad


def test_factory_values():
    assert tge.zeros(2).tolist() == [0.0, 0.0] and tge.ones(2).tolist() == [1.0, 1.0]
    assert tge.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]] and tge.full((2,), 1.5).dtype == np.float32
    assert tge.full((2,), 7).dtype == np.int64 and tge.full(3, True).dtype == np.bool_
    assert tge.arange(4).tolist() == [0, 1, 2, 3] and tge.arange(4).dtype == np.int64
    assert tge.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert tge.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75] and tge.arange(0, 1, 0.25).dtype == np.float32
    assert tge.arange(3.0).dtype == np.float32
    assert tge.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tge.linspace(0, 1, 5).dtype == np.float32
    assert tge.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]] and tge.eye(2, 3).shape == (2, 3)
    r = tge.rand(1000)
    assert 0.0 <= r.numpy().min() and r.numpy().max() < 1.0
    n = tge.randn(2000, dtype=tge.float64).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    i = tge.randint(0, 5, (200,))
    assert i.dtype == np.int64 and set(i.tolist()) == {0, 1, 2, 3, 4}
    assert tge.randint(3, 6, 4).shape == (4,) and set(tge.randint(3, 6, 50).tolist()) <= {3, 4, 5}
    assert set(tge.randint(2, (50,)).tolist()) == {0, 1}  # PyTorch's randint(high, size)


def test_like_factories_keep_shape_dtype_and_device():
    t = tge.ones(2, 3, dtype=tge.float64)
    for f in (tge.zeros_like, tge.ones_like, tge.randn_like, tge.rand_like, lambda t: tge.full_like(t, 2.0)):
        u = f(t)
        assert u.shape == (2, 3) and u.dtype == np.float64 and u.device == "cpu" and not u.requires_grad
    assert tge.zeros_like(t, dtype=tge.float32).dtype == np.float32
    assert tge.ones_like(t, requires_grad=True).requires_grad
    assert tge.full_like(t, 2.0).tolist() == [[2.0] * 3] * 2


def test_manual_seed_makes_every_draw_repeatable():
    def draws():
        w = tge.zeros(3)
        w.uniform_(-1, 1)
        v = tge.zeros(2)
        v.normal_(0, 2)
        return [tge.randn(3).tolist(), tge.rand(2).tolist(), tge.randint(0, 100, (4,)).tolist(), w.tolist(), v.tolist()]

    tge.manual_seed(123)
    first = draws()
    tge.manual_seed(123)
    assert draws() == first
    tge.manual_seed(124)
    assert draws() != first


# ---- attributes and conversions -------------------------------------------------------------------------


def test_attributes():
    t = tge.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24
    assert t.size() == (2, 3, 4) and t.size(-1) == 4 and t.size(0) == 2
    assert isinstance(t.dtype, np.dtype) and t.device == "cpu"
    assert not t.requires_grad and t.grad is None and t.is_leaf


def test_item_tolist_numpy():
    assert tge.tensor(2.5).item() == 2.5 and isinstance(tge.tensor(2.5).item(), float)
    assert tge.tensor([7]).item() == 7 and isinstance(tge.tensor([7]).item(), int)
    with pytest.raises(ValueError, match=r"only one-element tensors .* shape \(2,\)"):
        tge.tensor([1.0, 2.0]).item()
    assert tge.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert tge.tensor(3.0).tolist() == 3.0
    t = tge.tensor([1.0, 2.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 9.0  # on the CPU it shares memory, as torch's .numpy()
    assert t.tolist() == [9.0, 2.0]
    assert np.asarray(t).tolist() == [9.0, 2.0]
    assert float(tge.tensor(1.5)) == 1.5 and int(tge.tensor(3)) == 3


def test_detach_and_data():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for d in (y.detach(), y.data, x.detach(), x.data):
        assert not d.requires_grad and d.is_leaf
    assert np.shares_memory(x.data.array, x.array) and np.shares_memory(x.detach().array, x.array)
    x.data = tge.tensor([5.0, 6.0])  # replacing the numbers keeps the leaf
    assert x.tolist() == [5.0, 6.0] and x.requires_grad


def test_casts():
    x = tge.tensor([1.7, -2.2], requires_grad=True)
    assert x.to(tge.float64).dtype == np.float64 and x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.to(tge.float32) is x  # nothing to do
    assert x.to("cpu") is x and x.cpu() is x
    assert x.long().tolist() == [1, -2] and x.long().dtype == np.int64 and not x.long().requires_grad
    assert x.to("cpu", tge.float64).dtype == np.float64
    assert x.to(dtype=tge.float64).requires_grad  # casts are differentiable
    assert x.type() == "float32"
    x.double().sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_to_cuda_without_cupy_raises_clearly():
    if tge.cuda_is_available():
        pytest.skip("a GPU is usable here")
    assert not tge.cuda_is_available()
    with pytest.raises(RuntimeError, match="device 'cuda'"):
        tge.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="device 'cuda'"):
        tge.ones(2).cuda()
    with pytest.raises(RuntimeError, match="device 'cuda'"):
        tge.zeros(2, device="cuda")


def test_unknown_device_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown device 'tpu': use 'cpu' or 'cuda'"):
        tge.ones(2).to("tpu")


# ---- comparisons ---------------------------------------------------------------------------------------


def test_comparisons_return_bool_tensors_without_grad():
    x = tge.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tge.tensor([3.0, 2.0, 1.0])
    cases = {
        "==": (x == y, [False, True, False]),
        "!=": (x != y, [True, False, True]),
        "<": (x < y, [True, False, False]),
        "<=": (x <= y, [True, True, False]),
        ">": (x > 2, [False, False, True]),
        ">=": (x >= 2.0, [False, True, True]),
        "reflected": (2 < x, [False, False, True]),  # Python calls x > 2
        "broadcast": (x[:, None] > y, [[False, False, False], [False, False, True], [False, True, True]]),
    }
    for op, (result, expected) in cases.items():
        assert result.dtype == np.bool_, op
        assert not result.requires_grad and result.grad_fn is None, op
        assert result.tolist() == expected, op
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert ((x < 2) | (x > 2)).tolist() == [True, False, True]
    assert (~(x > 1)).tolist() == [True, False, False]
    assert (x > 2).any().item() and not (x > 5).any().item() and (x > 0).all().item()
    assert (x == None) is False and (x != None) is True  # noqa: E711 (what `x.grad == None` does)


# ---- printing --------------------------------------------------------------------------------------------


def test_repr_like_pytorch():
    assert repr(tge.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(tge.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(tge.tensor(2.0)) == "tensor(2.)"
    assert repr(tge.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tge.tensor([True, False])) == "tensor([ True, False])"
    assert repr(tge.tensor([1.0], dtype=tge.float64)) == "tensor([1.], dtype=float64)"
    assert repr(tge.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    y = tge.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<MulBackward>)"


# ---- Python protocols --------------------------------------------------------------------------------------


def test_len_iter_bool():
    x = tge.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    sum(r.sum() for r in rows).backward()  # iteration stays in the graph
    assert x.grad.tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tge.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(tge.tensor(1.0))
    assert bool(tge.tensor(1.0)) and not bool(tge.tensor([0.0]))
    with pytest.raises(RuntimeError, match="truth value of a tensor with 2 elements is ambiguous"):
        bool(tge.tensor([1.0, 2.0]))
    assert [0, 10, 20][tge.tensor(1)] == 10  # an int tensor works as an index
    with pytest.raises(TypeError, match="only integer tensors can be used as an index"):
        [0, 1][tge.tensor(1.0)]


def test_tensors_hash_by_identity():
    a, b = tge.zeros(2), tge.zeros(2)
    assert len({a, b, a}) == 2
    assert {a: 1}[a] == 1


# ---- the tge. namespace ----------------------------------------------------------------------------------


PUBLIC_NAMES = """
Tensor tensor zeros ones full arange linspace eye randn rand randint zeros_like ones_like full_like randn_like
rand_like from_numpy manual_seed no_grad enable_grad is_grad_enabled gradcheck GradcheckError Function
cat stack where exp log sqrt abs sin cos tanh sigmoid relu pow clamp maximum minimum sum mean var std max min amax
amin argmax argmin softmax log_softmax logsumexp matmul reshape flatten squeeze unsqueeze transpose permute
movedim gather masked_fill split chunk clone detach add sub mul div neg square is_tensor numel
float32 float64 float16 int64 int32 bool float double long cuda_is_available kernels unbroadcast
""".split()


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_name_exists(name):
    assert hasattr(tge, name), f"tge.{name} is missing"


def test_module_functions_work_like_pytorch():
    x = tge.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert tge.exp(x).tolist() == x.exp().tolist()
    assert tge.sum(x, dim=1).tolist() == [-1.0, 3.5] and tge.sum(x).item() == 2.5
    assert tge.mean(x, 0).tolist() == [2.0, -0.75]
    values, indices = tge.max(x, 1)
    assert values.tolist() == [1.0, 3.0] and indices.tolist() == [0, 0]
    assert tge.max(x).item() == 3.0 and tge.argmax(x).item() == 2
    assert tge.cat([x, x], dim=1).shape == (2, 4) and tge.stack([x, x]).shape == (2, 2, 2)
    assert tge.where(x > 0, x, 0.0).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert tge.clamp(x, min=0.0).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert tge.add(x, 1).tolist() == (x + 1).tolist() and tge.mul(x, x).tolist() == (x * x).tolist()
    assert tge.sub(x, x).tolist() == [[0.0, 0.0], [0.0, 0.0]] and tge.div(x, 2).tolist() == (x / 2).tolist()
    assert x.add(1).tolist() == (x + 1).tolist() and x.mul(2).tolist() == (x * 2).tolist()
    assert tge.matmul(x, x).tolist() == (x @ x).tolist()
    assert tge.transpose(x, 0, 1).tolist() == x.T.tolist()
    assert tge.softmax(x, dim=1).shape == (2, 2) and tge.logsumexp(x, 1).shape == (2,)
    assert tge.is_tensor(x) and not tge.is_tensor(x.numpy()) and tge.numel(x) == 4
    a = np.arange(3.0)
    t = tge.from_numpy(a)
    assert t.dtype == np.float64 and np.shares_memory(t.array, a)  # shares memory, as torch.from_numpy


def test_issue_command_prints_a_gradient():
    code = (
        "import tinygrad_edu as tge; x=tge.randn(3,requires_grad=True); (x.sigmoid()*x).sum().backward(); print(x.grad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.startswith("tensor([") and out.stdout.count(",") == 2, out.stdout
    grad = [float(v) for v in out.stdout.strip()[len("tensor([") : -len("])")].split(",")]
    assert len(grad) == 3 and all(-0.2 < g < 1.2 for g in grad)  # d(x·σ(x))/dx = σ + xσ(1−σ) ∈ (−0.1, 1.1)
