"""The CUDA backend on a real GPU: our kernels against the NumPy reference and cuBLAS, and every
Tensor op of the API on device "cuda" against the same op on "cpu".

Everything here carries the ``gpu`` marker (tests/conftest.py skips it without CuPy and a GPU),
except the last test, which checks the explanation given where there is none. The agreement of
every backend on hypothesis-drawn shapes lives in test_agreement.py; this file adds the cases
particular to the GPU: tile edges, every GEMM layout, big sizes against cuBLAS, chunked launches,
ties and overlapping windows, and whole models moved to the GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad_edu.kernels import cupy_cuda, numpy_ref

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import kernels, nn, optim

gpu = pytest.mark.gpu


@pytest.fixture
def cp():
    """CuPy, with the cupy kernels selected (the autouse fixture restores numpy afterwards)."""
    cupy = pytest.importorskip("cupy")
    kernels.use("cupy")
    return cupy


def close(got, want, length, dtype=None):
    """got (CuPy or NumPy) equals want up to rounding in sums of ``length`` terms of size about 1."""
    got = got.get() if hasattr(got, "get") else np.asarray(got)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == (dtype or want.dtype), (got.dtype, want.dtype)
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    tol = 8 * max(length, 1) * np.finfo(got.dtype).eps * scale
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def uniform(rng, shape, dtype):
    return rng.uniform(-1, 1, shape).astype(dtype)


# ---------------------------------------------------------------------------------------------
# GEMM
# ---------------------------------------------------------------------------------------------

TILE_EDGES = [(1, 1, 1), (2, 3, 5), (127, 129, 131), (128, 128, 128), (129, 8, 127), (257, 64, 255), (64, 1000, 3)]


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("m", "k", "n"), TILE_EDGES)
def test_matmul_at_tile_edges(cp, dtype, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a, b = uniform(rng, (m, k), dtype), uniform(rng, (k, n), dtype)
    close(cupy_cuda.matmul(cp.asarray(a), cp.asarray(b)), a @ b, k)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("aligned", [True, False])
def test_matmul_reads_transposed_views_in_place(cp, dtype, trans_a, trans_b, aligned):
    """All four layouts, through the float4 kernels (sizes divisible by 4) and the scalar ones."""
    m, k, n = (196, 36, 260) if aligned else (197, 37, 259)
    rng = np.random.default_rng(m)
    a = cp.asarray(uniform(rng, (k, m) if trans_a else (m, k), dtype))
    b = cp.asarray(uniform(rng, (n, k) if trans_b else (k, n), dtype))
    a, b = (a.T if trans_a else a), (b.T if trans_b else b)
    close(cupy_cuda.matmul(a, b), a.get() @ b.get(), k)


@gpu
def test_matmul_batched_and_broadcast(cp):
    rng = np.random.default_rng(1)
    a, b = uniform(rng, (5, 33, 17), np.float32), uniform(rng, (5, 17, 40), np.float32)
    close(cupy_cuda.matmul(cp.asarray(a), cp.asarray(b)), a @ b, 17)
    w = uniform(rng, (33, 17), np.float32)
    shared = cp.broadcast_to(cp.asarray(w), (5, 33, 17))  # batch stride 0
    close(cupy_cuda.matmul(shared, cp.asarray(b)), w @ b, 17)


@gpu
def test_matmul_big_against_cublas(cp):
    rng = np.random.default_rng(2)
    a = cp.asarray(uniform(rng, (1024, 1024), np.float32))
    b = cp.asarray(uniform(rng, (1024, 1024), np.float32))
    close(cupy_cuda.matmul(a, b), cp.matmul(a, b).get(), 1024)


@gpu
def test_matmul_in_several_launches(cp, monkeypatch):
    monkeypatch.setattr(cupy_cuda, "MAX_GRID_YZ", 2)  # pretend gridDim.y and .z stop at 2 blocks
    rng = np.random.default_rng(3)
    a, b = uniform(rng, (5, 300, 9), np.float32), uniform(rng, (5, 9, 7), np.float32)
    close(cupy_cuda.matmul(cp.asarray(a), cp.asarray(b)), a @ b, 9)


# ---------------------------------------------------------------------------------------------
# int8 GEMM (gemm_int8.cu): exact, so compared with ==
# ---------------------------------------------------------------------------------------------

INT8_EDGES = [(1, 1, 1), (3, 5, 2), (63, 31, 65), (64, 32, 64), (65, 33, 129), (200, 1000, 70)]


def int8s(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


@gpu
@pytest.mark.parametrize("a_dtype", [np.int8, np.uint8])
@pytest.mark.parametrize(("m", "k", "n"), INT8_EDGES)
def test_matmul_int8_at_tile_edges(cp, a_dtype, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a, b = int8s(rng, (m, k), a_dtype), int8s(rng, (k, n), np.int8)
    got = cupy_cuda.matmul_int8(cp.asarray(a), cp.asarray(b))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got.get(), numpy_ref.matmul_int8(a, b))


@gpu
@pytest.mark.parametrize("a_dtype", [np.int8, np.uint8])
def test_matmul_int8_big_and_extreme(cp, a_dtype):
    """1024 × 4096 × 512 against CuPy's int32 product, then the largest products summed 60 000 times
    (|sum| close to 2³¹: the uint8 shift and its correction stay exact)."""
    rng = np.random.default_rng(4)
    a, b = cp.asarray(int8s(rng, (1024, 4096), a_dtype)), cp.asarray(int8s(rng, (4096, 512), np.int8))
    want = cp.matmul(a.astype(cp.int32), b.astype(cp.int32))
    assert bool((cupy_cuda.matmul_int8(a, b) == want).all())
    extreme = 255 if a_dtype == np.uint8 else -128
    a = cp.full((3, 60000), extreme, dtype=a_dtype)
    b = cp.full((60000, 2), -128, dtype=cp.int8)
    got = cupy_cuda.matmul_int8(a, b).get()
    assert (got == extreme * -128 * 60000).all()


@gpu
def test_matmul_int8_strided_inputs_and_several_launches(cp, monkeypatch):
    monkeypatch.setattr(cupy_cuda, "MAX_GRID_YZ", 2)  # pretend gridDim.y stops at 2 blocks
    rng = np.random.default_rng(5)
    a, b = int8s(rng, (600, 40), np.uint8)[::2, ::2], int8s(rng, (9, 20), np.int8).T  # strided, column-major
    got = cupy_cuda.matmul_int8(cp.asarray(a), cp.asarray(b))
    np.testing.assert_array_equal(got.get(), numpy_ref.matmul_int8(a, b))


# ---------------------------------------------------------------------------------------------
# Convolution and pooling
# ---------------------------------------------------------------------------------------------

CONVS = [
    # (N, C, H, W), (F, KH, KW), stride, padding
    ((100, 3, 32, 32), (6, 5, 5), (1, 1), (0, 0)),  # LeNet's first layer
    ((100, 6, 14, 14), (16, 5, 5), (1, 1), (0, 0)),  # and its second
    ((2, 3, 9, 8), (4, 3, 2), (2, 1), (1, 0)),
    ((1, 1, 7, 7), (3, 3, 3), (2, 2), (1, 1)),
    ((3, 5, 6, 11), (7, 1, 1), (1, 3), (0, 0)),
]


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "fk", "stride", "padding"), CONVS)
def test_conv2d_forward_and_backward(cp, dtype, x_shape, fk, stride, padding):
    rng = np.random.default_rng(sum(x_shape))
    x = uniform(rng, x_shape, dtype)
    w = uniform(rng, (fk[0], x_shape[1], fk[1], fk[2]), dtype)
    want = numpy_ref.conv2d_forward(x, w, stride, padding)
    close(cupy_cuda.conv2d_forward(cp.asarray(x), cp.asarray(w), stride, padding), want, w[0].size)
    dy = uniform(rng, want.shape, dtype)
    dx = cupy_cuda.conv2d_backward_input(cp.asarray(dy), cp.asarray(w), x.shape, stride, padding)
    close(dx, numpy_ref.conv2d_backward_input(dy, w, x.shape, stride, padding), fk[0] * fk[1] * fk[2])
    dw = cupy_cuda.conv2d_backward_weight(cp.asarray(dy), cp.asarray(x), w.shape, stride, padding)
    close(dw, numpy_ref.conv2d_backward_weight(dy, x, w.shape, stride, padding), dy.size // dy.shape[1])


@gpu
def test_conv2d_in_batch_chunks(cp, monkeypatch):
    monkeypatch.setattr(cupy_cuda, "COLS_LIMIT", 3 * 27 * 64)  # the cols of 3 images per chunk
    rng = np.random.default_rng(4)
    x, w = uniform(rng, (7, 3, 8, 8), np.float32), uniform(rng, (4, 3, 3, 3), np.float32)
    args = ((1, 1), (1, 1))
    y = numpy_ref.conv2d_forward(x, w, *args)
    close(cupy_cuda.conv2d_forward(cp.asarray(x), cp.asarray(w), *args), y, 27)
    dy = uniform(rng, y.shape, np.float32)
    close(
        cupy_cuda.conv2d_backward_input(cp.asarray(dy), cp.asarray(w), x.shape, *args),
        numpy_ref.conv2d_backward_input(dy, w, x.shape, *args),
        36,
    )
    close(
        cupy_cuda.conv2d_backward_weight(cp.asarray(dy), cp.asarray(x), w.shape, *args),
        numpy_ref.conv2d_backward_weight(dy, x, w.shape, *args),
        7 * 64,
    )


POOLS = [
    # (N, C, H, W), kernel, stride, padding
    ((100, 6, 28, 28), (2, 2), (2, 2), (0, 0)),  # LeNet
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1)),  # overlapping windows, padding
    ((1, 2, 7, 5), (3, 3), (1, 1), (1, 1)),
    ((2, 1, 5, 6), (5, 4), (3, 2), (2, 0)),
]


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "kernel", "stride", "padding"), POOLS)
def test_pools_forward_and_backward(cp, dtype, x_shape, kernel, stride, padding):
    rng = np.random.default_rng(sum(x_shape))
    x = uniform(rng, x_shape, dtype)
    y, indices = cupy_cuda.max_pool2d_forward(cp.asarray(x), kernel, stride, padding)
    y_ref, indices_ref = numpy_ref.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(y.get(), y_ref)
    np.testing.assert_array_equal(indices.get(), indices_ref)
    dy = uniform(rng, y_ref.shape, dtype)
    dx = cupy_cuda.max_pool2d_backward(cp.asarray(dy), indices, x.shape)
    close(dx, numpy_ref.max_pool2d_backward(dy, indices_ref, x.shape), kernel[0] * kernel[1])
    avg = cupy_cuda.avg_pool2d_forward(cp.asarray(x), kernel, stride, padding)
    close(avg, numpy_ref.avg_pool2d_forward(x, kernel, stride, padding), kernel[0] * kernel[1])
    davg = cupy_cuda.avg_pool2d_backward(cp.asarray(dy), x.shape, kernel, stride, padding)
    close(davg, numpy_ref.avg_pool2d_backward(dy, x.shape, kernel, stride, padding), kernel[0] * kernel[1])


@gpu
def test_max_pool_ties_nan_and_overlap(cp):
    x = np.array([[[[1, 3, 3, 0], [3, 2, np.nan, 1], [0, 0, 0, 0], [0, 0, 0, 0]]]], dtype=np.float32)
    y, indices = cupy_cuda.max_pool2d_forward(cp.asarray(x), (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(indices.get()[0, 0], [[1, 6], [8, 10]])  # first of a tie; NaN wins
    assert np.isnan(y.get()[0, 0, 0, 1])
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre wins all four overlapping windows: atomicAdd sums 4 gradients
    y, indices = cupy_cuda.max_pool2d_forward(cp.asarray(x), (2, 2), (1, 1), (0, 0))
    dx = cupy_cuda.max_pool2d_backward(cp.ones_like(y), indices, x.shape).get()
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


@gpu
def test_synchronize_and_device_queries(cp):
    assert tge.cuda.is_available() and tge.cuda.device_count() >= 1
    assert isinstance(tge.cuda.get_device_name(), str)
    cupy_cuda.synchronize()
    tge.cuda.synchronize()
    assert "cupy" in kernels.available()


# ---------------------------------------------------------------------------------------------
# Models moved to the GPU: same loss, same gradients, same update
# ---------------------------------------------------------------------------------------------


def _train_step(model, x, target, make_optimizer, device, backend):
    """One forward, backward and optimizer step on ``device``: (loss, {name: grad}, {name: new value})."""
    with kernels.use(backend):
        model.to(device)
        optimizer = make_optimizer(model.parameters())
        loss = F.cross_entropy(model(tge.tensor(x, device=device)), tge.tensor(target, device=device))
        loss.backward()
        grads = {n: p.grad.numpy() for n, p in model.named_parameters()}
        optimizer.step()
        values = {n: p.numpy() for n, p in model.named_parameters()}
        return loss.item(), grads, values


def _same_model_twice(make):
    tge.manual_seed(0)
    first = make()
    tge.manual_seed(0)
    return first, make()


MODELS = {
    "mlp": (
        lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10)),
        (16, 20),
    ),
    "cnn": (
        lambda: nn.Sequential(
            nn.Conv2d(3, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.Tanh(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 3 * 3, 10),
        ),
        (4, 3, 16, 16),
    ),
}


@gpu
@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize(
    "make_optimizer",
    # Adam's eps keeps its first step continuous in g (with eps → 0 it is lr·sign(g), and a gradient
    # within rounding of 0 could flip sign between the devices)
    [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=1e-3, eps=1e-4)],
    ids=["sgd", "adam"],
)
def test_a_model_on_cuda_matches_cpu(cp, model_name, make_optimizer):
    make, x_shape = MODELS[model_name]
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape).astype(np.float32)
    target = rng.integers(0, 10, x_shape[0])
    on_cpu, on_gpu = _same_model_twice(make)
    loss_cpu, grads_cpu, values_cpu = _train_step(on_cpu, x, target, make_optimizer, "cpu", "numpy")
    loss_gpu, grads_gpu, values_gpu = _train_step(on_gpu, x, target, make_optimizer, "cuda", "cupy")
    assert all(p.device == "cuda" for p in on_gpu.parameters())
    assert loss_gpu == pytest.approx(loss_cpu, rel=1e-5)
    for name in grads_cpu:
        np.testing.assert_allclose(grads_gpu[name], grads_cpu[name], rtol=1e-4, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(values_gpu[name], values_cpu[name], rtol=1e-4, atol=1e-6, err_msg=name)


@gpu
def test_gradcheck_through_the_cuda_kernels(cp):
    rng = np.random.default_rng(6)
    x = tge.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True, device="cuda")
    w = tge.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True, device="cuda")
    assert tge.gradcheck(lambda x, w: F.max_pool2d(F.conv2d(x, w, stride=1, padding=1), 2), [x, w])
    assert tge.gradcheck(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [x])


# ---------------------------------------------------------------------------------------------
# Every Tensor op of the API on "cuda" against "cpu"
# ---------------------------------------------------------------------------------------------

_rng = np.random.default_rng(7)


def _f(*shape, low=-2.0, high=2.0):
    """float32 inputs, away from 0 and from each other's kinks where the case needs it."""
    return _rng.uniform(low, high, shape).astype(np.float32)


def _away_from_zero(*shape):
    return (_f(*shape, low=0.2, high=2.0) * np.where(_rng.random(shape) < 0.5, -1, 1)).astype(np.float32)


def _mask(*shape):
    return _rng.random(shape) < 0.5


def _index(n, *shape):
    return _rng.integers(0, n, shape)


# name: (function of tensors, input arrays); float inputs require grad, the rest do not
OPS = {
    # creation and conversion (the function gets the device as its last argument when it asks for it)
    "zeros_ones_full": (
        lambda d: tge.zeros(2, 3, device=d) + tge.ones(2, 3, device=d) + tge.full((2, 3), 2.0, device=d),
        [],
    ),
    "arange_randn_rand": (lambda d: (tge.arange(5, device=d), tge.randn(3, device=d), tge.rand(3, device=d)), []),
    "like": (lambda x, d: tge.zeros_like(x) + tge.ones_like(x) * x, [_f(2, 3)]),
    "float_double": (lambda x, d: x.double().sum() + x.float().sum(), [_f(3)]),
    "long": (lambda x, d: x.long(), [_f(4) * 3]),
    "detach": (lambda x, d: x.detach() * x, [_f(3)]),
    "item_tolist": (lambda x, d: tge.tensor([x.sum().item(), float(len(x.tolist()))], device=d), [_f(3)]),
    "to_cpu_and_back": (lambda x, d: x.cpu().to(d) * 2, [_f(3)]),
    # elementwise
    "exp": (lambda x, d: x.exp(), [_f(3, 4)]),
    "log": (lambda x, d: x.log(), [_f(3, 4, low=0.1)]),
    "sqrt": (lambda x, d: x.sqrt(), [_f(3, 4, low=0.1)]),
    "abs": (lambda x, d: x.abs(), [_away_from_zero(3, 4)]),
    "sin_cos": (lambda x, d: x.sin() + x.cos(), [_f(3, 4)]),
    "tanh_sigmoid": (lambda x, d: x.tanh() * x.sigmoid(), [_f(3, 4)]),
    "relu": (lambda x, d: x.relu(), [_away_from_zero(3, 4)]),
    "neg_square": (lambda x, d: -x.square(), [_f(3, 4)]),
    "pow_scalar": (lambda x, d: x.pow(2.5) + x**3, [_f(3, 4, low=0.1)]),
    "clamp": (lambda x, d: x.clamp(min=-0.5, max=0.5) + x.clamp(min=0.7), [_away_from_zero(3, 4) * 2]),
    "maximum_minimum": (lambda x, y, d: x.maximum(y) + x.minimum(y), [_f(3, 4), _f(4)]),
    "add_sub_broadcast": (lambda x, y, d: x + y - 2.0 * x, [_f(3, 1, 4), _f(5, 1)]),
    "mul_div": (lambda x, y, d: x * y / (y.abs() + 1) + 1.0 / y, [_f(3, 4), _away_from_zero(4)]),
    "pow_tensor": (lambda x, y, d: x**y + 2.0**y, [_f(3, 4, low=0.5), _f(3, 4)]),
    "comparisons": (lambda x, y, d: (x == y, x != y, x < y, x <= 0.5, x > y, x >= y), [_f(3, 4), _f(4)]),
    # reductions
    "sum": (lambda x, d: (x.sum(), x.sum(dim=1), x.sum(dim=(0, 2), keepdim=True)), [_f(2, 3, 4)]),
    "mean_var": (lambda x, d: (x.mean(dim=-1), x.var(dim=0), x.var(unbiased=False)), [_f(3, 4)]),
    "max_min": (lambda x, d: (x.max(), *x.max(dim=1), *x.min(dim=0, keepdim=True)), [_f(3, 5)]),
    "amax_amin": (lambda x, d: (x.amax(dim=1), x.amin(dim=(0, 1))), [_f(3, 4, 2)]),
    "argmax_argmin": (lambda x, d: (x.argmax(), x.argmax(dim=1, keepdim=True), x.argmin(dim=0)), [_f(3, 5)]),
    "softmax_family": (lambda x, d: (x.softmax(-1), x.log_softmax(1), x.logsumexp(1)), [_f(3, 6)]),
    # matmul
    "matmul_2d": (lambda x, y, d: x @ y, [_f(3, 4), _f(4, 5)]),
    "matmul_vectors": (lambda x, y, v, d: (v @ y, x.matmul(v)), [_f(3, 4), _f(4, 5), _f(4)]),
    "matmul_batched": (lambda x, y, d: x @ y, [_f(2, 1, 3, 4), _f(5, 4, 2)]),
    # shape
    "reshape_view_flatten": (lambda x, d: (x.reshape(4, 6), x.view(-1), x.flatten(1)), [_f(2, 3, 4)]),
    "squeeze_unsqueeze": (lambda x, d: (x.squeeze(), x.squeeze(1), x.unsqueeze(0)), [_f(3, 1, 4)]),
    "transpose_permute_T": (lambda x, d: (x.transpose(0, 1), x.permute(2, 0, 1), x[0].T), [_f(2, 3, 4)]),
    "expand": (lambda x, d: x.expand(3, 2, 4) * 1.0, [_f(1, 2, 4)]),
    "getitem_basic": (lambda x, d: (x[0], x[:, 1:3], x[None], x[..., -1]), [_f(3, 4, 5)]),
    "getitem_int_tensor": (lambda x, i, d: x[i], [_f(4, 3), np.array([0, 2, 0, 3])]),
    "getitem_bool_mask": (lambda x, m, d: x[m], [_f(3, 4), _mask(3, 4)]),
    "masked_fill": (lambda x, m, d: x.masked_fill(m, 0.0), [_f(3, 4), _mask(3, 4)]),
    "gather": (lambda x, i, d: x.gather(1, i), [_f(3, 4), _index(4, 3, 2)]),
    "cat_stack": (lambda x, y, d: (tge.cat([x, y], dim=1), tge.stack([x, y], dim=0)), [_f(2, 3), _f(2, 3)]),
    "where": (lambda m, x, y, d: (tge.where(m, x, y), tge.where(m, x, 0.0)), [_mask(3, 4), _f(3, 4), _f(4)]),
    # the functional layer on top
    "linear": (lambda x, w, b, d: F.linear(x, w, b), [_f(5, 4), _f(3, 4), _f(3)]),
    "conv_pools": (
        lambda x, w, d: F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, padding=1), 2), 2, stride=1),
        [_f(2, 3, 8, 8), _f(4, 3, 3, 3)],
    ),
    "activations": (lambda x, d: F.gelu(x) + F.leaky_relu(x, 0.1) + F.gelu(x, approximate="tanh"), [_f(3, 4)]),
    "layer_norm": (lambda x, w, b, d: F.layer_norm(x, (4,), w, b), [_f(3, 4), _f(4), _f(4)]),
    "cross_entropy": (
        lambda x, t, d: (F.cross_entropy(x, t), F.cross_entropy(x, t, label_smoothing=0.1, reduction="sum")),
        [_f(5, 4), _index(4, 5)],
    ),
    "nll_loss": (lambda x, t, d: F.nll_loss(x.log_softmax(1), t), [_f(5, 4), _index(4, 5)]),
    "mse_bce": (
        lambda x, y, d: (
            F.mse_loss(x, y),
            F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
            F.binary_cross_entropy_with_logits(x, y.sigmoid()),
        ),
        [_f(3, 4), _f(3, 4)],
    ),
    "embedding": (lambda i, w, d: F.embedding(i, w), [_index(6, 2, 3), _f(6, 4)]),
    "one_hot": (lambda i, d: F.one_hot(i, 5), [_index(5, 2, 3)]),
    "dropout": (lambda x, d: F.dropout(x, 0.3), [_f(4, 5)]),  # the mask comes from the seeded host generator
    "batch_norm": (lambda x, w, b, d: F.batch_norm(x, None, None, w, b, training=True), [_f(4, 3, 2), _f(3), _f(3)]),
    "attention": (
        lambda q, k, v, d: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [_f(2, 3, 4), _f(2, 3, 4), _f(2, 3, 5)],
    ),
    "multihead_attention": (
        lambda x, m, d: nn.MultiheadAttention(8, 2, batch_first=True).to(d)(x, x, x, key_padding_mask=m)[0],
        [_f(2, 3, 8), np.array([[False, False, True], [False, False, False]])],
    ),
}
_PROJECTION_SEED = 8


def run_op(name, device, backend):
    """Outputs and input gradients of OPS[name] on ``device``, all as NumPy arrays.

    Backward runs on L = Σ p · output over the float outputs, p a fixed random projection.
    """
    fn, arrays = OPS[name]
    rng = np.random.default_rng(_PROJECTION_SEED)
    tge.manual_seed(0)
    with kernels.use(backend):
        inputs = [tge.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(*inputs, device)
        outs = list(out) if isinstance(out, tuple | list) else [out]
        for o in outs:
            assert o.device == device, f"{name}: an output is on {o.device}, not {device}"
        projected = [
            (o * tge.tensor(rng.uniform(0.5, 1.5, o.shape), dtype=o.dtype, device=device)).sum()
            for o in outs
            if o.requires_grad
        ]
        if projected:
            sum(projected[1:], projected[0]).backward()
        return [o.numpy() for o in outs], [None if t.grad is None else t.grad.numpy() for t in inputs]


@gpu
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_tensor_op_on_cuda_matches_cpu(cp, name):
    outs_cpu, grads_cpu = run_op(name, "cpu", "numpy")
    outs_gpu, grads_gpu = run_op(name, "cuda", "cupy")
    assert len(outs_gpu) == len(outs_cpu)
    for got, want in [*zip(outs_gpu, outs_cpu), *zip(grads_gpu, grads_cpu)]:
        if want is None:
            assert got is None
            continue
        assert got.shape == want.shape and got.dtype == want.dtype, (name, got.shape, want.shape, got.dtype, want.dtype)
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


# ---------------------------------------------------------------------------------------------
# Without a GPU
# ---------------------------------------------------------------------------------------------


def test_without_a_gpu_the_cupy_backend_says_why():
    if tge.cuda.is_available():
        pytest.skip("this machine has a usable GPU")
    with pytest.raises(kernels.KernelUnavailable, match="CuPy|GPU|driver"):
        kernels.get("cupy")
    assert "cupy" not in kernels.available()
    assert tge.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="cuda"):
        tge.cuda.synchronize()
