"""The CUDA backend: our own kernels (kernels/cuda/*.cu), compiled by CuPy and launched from here.

Arrays are CuPy arrays on the GPU. Each table function allocates its outputs with CuPy, works out
how many threads the kernel needs, and launches it:

    kernel(grid, block, args)      grid = how many blocks, block = how many threads per block

``block`` is always (256,) here: 8 warps of 32 threads, enough for the GPU to switch to another
warp while one waits for memory, few enough that several blocks share a multiprocessor (SM).
``args`` go to the kernel's C parameters in order: CuPy arrays become pointers, and every number
is wrapped in the NumPy type of its C parameter (``np.int32`` for ``int``, ``np.int64`` for
``long long``), because CuPy copies arguments into the launch byte by byte.

* GEMM (sgemm.cu): one block per 128×128 tile of C (64×64 in float64), so
  ``grid = (ceil(N / 128), ceil(M / 128), batch)``.
* int8 GEMM (gemm_int8.cu, quantized layers): one block per 64×64 tile of the int32 C, so
  ``grid = (ceil(N / 64), ceil(M / 64))``.
* Everything else (im2col.cu, pool.cu): one thread per output element,
  ``grid = (ceil(total / 256),)`` capped at 65535 blocks; the kernels loop ("grid-stride") when
  there are more elements than threads.

Convolution is im2col + GEMM: cols[n] (C·KH·KW, OH·OW) holds every receptive field of image n
as a column, and y[n] = W @ cols[n], W = w.reshape(F, C·KH·KW); backward-input is col2im of
Wᵀ @ dy[n], backward-weight Σₙ dy[n] @ cols[n]ᵀ (kernels/numpy_ref.py derives all three).
The transposes are free: the GEMM reads a column-major operand directly.

The .cu files are compiled the first time a kernel is needed (NVRTC, a few seconds for
sgemm.cu) and kept: in memory for this process, and in CuPy's kernel cache (~/.cupy) for the
next ones. CUDA launches are asynchronous: a function returns while the GPU still works, so
call ``synchronize()`` before reading a clock.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import KernelUnavailable

try:
    import cupy as cp
except ImportError:  # the module still imports (docs, the compile tests); check_available says why it cannot run
    cp = None

name = "cupy"
device = "cuda"

CUDA_DIR = Path(__file__).with_name("cuda")  # the .cu files, shipped as package data
THREADS = 256  # threads per block, for every kernel
MAX_BLOCKS = 65535  # grid size cap for the one-thread-per-element kernels (they loop past it)
MAX_GRID_YZ = 65535  # the hardware limit on gridDim.y and gridDim.z
GEMM_TILE = {"f32": 128, "f64": 64}  # rows (= columns) of C per GEMM block, as in sgemm.cu
INT8_TILE = 64  # rows (= columns) of C per block of the int8 GEMM, as in gemm_int8.cu
COLS_LIMIT = 1 << 26  # im2col runs over batch chunks of at most this many cols elements (256 MB in float32)


def check_available() -> None:
    """Raise KernelUnavailable, saying why, unless CuPy is installed and sees a GPU."""
    if cp is None:
        raise KernelUnavailable(
            "kernel backend 'cupy' needs CuPy, which is not installed here: "
            "pip install -e '.[cuda]' on a machine with an NVIDIA GPU"
        )
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError: no driver, or one older than CuPy's CUDA runtime
        raise KernelUnavailable(
            f"kernel backend 'cupy': CuPy is installed but could not use the CUDA driver ({e}). "
            "It needs an NVIDIA GPU with a driver at least as new as CuPy's CUDA version."
        ) from e
    if count == 0:
        raise KernelUnavailable("kernel backend 'cupy': CuPy is installed but this machine has no GPU")


def synchronize() -> None:
    """Wait until the GPU has finished all the work queued so far (launches return at once)."""
    cp.cuda.Device().synchronize()


# ---------------------------------------------------------------------------------------------
# Compiling and launching
# ---------------------------------------------------------------------------------------------

_modules: dict[str, Any] = {}
_kernels: dict[tuple[str, str], Any] = {}


def _compile(file: str) -> Any:
    """The compiled module of kernels/cuda/<file> (compiled once per process)."""
    if file not in _modules:
        source = (CUDA_DIR / file).read_text()
        _modules[file] = cp.RawModule(code=source, options=("-std=c++17",))
    return _modules[file]


def _kernel(file: str, kernel: str) -> Any:
    """The kernel called ``kernel`` (an extern "C" name) in kernels/cuda/<file>."""
    key = (file, kernel)
    if key not in _kernels:
        _kernels[key] = _compile(file).get_function(kernel)
    return _kernels[key]


def _address(a: Any) -> int:
    """The GPU address of a's first element (for the 16-byte alignment the float4 loads need)."""
    return a.data.ptr


def _suffix(dtype: Any, op: str) -> str:
    """The kernels' name suffix for a dtype: f32 or f64."""
    if dtype == np.float32:
        return "f32"
    if dtype == np.float64:
        return "f64"
    raise TypeError(f"{op} (cupy kernels): needs float32 or float64 arrays, got {dtype}")


def _int32(*values: int) -> tuple[np.int32, ...]:
    """Sizes as the kernels' C ``int`` parameters, refusing any that would overflow it."""
    for v in values:
        if not 0 <= v < 2**31:
            raise ValueError(f"cupy kernels: size {v} does not fit the kernels' 32-bit int parameters")
    return tuple(np.int32(v) for v in values)


def _launch_per_element(file: str, kernel: str, total: int, args: tuple[Any, ...]) -> None:
    """Launch a one-thread-per-element kernel over ``total`` elements."""
    if total == 0:
        return
    blocks = min(math.ceil(total / THREADS), MAX_BLOCKS)
    _kernel(file, kernel)((blocks,), (THREADS,), args)


def _contiguous(*arrays: Any) -> tuple[Any, ...]:
    return tuple(cp.ascontiguousarray(a) for a in arrays)


# ---------------------------------------------------------------------------------------------
# Matrix multiplication
# ---------------------------------------------------------------------------------------------


def _as_matrices(x: Any) -> tuple[bool, Any, int, int]:
    """How the GEMM reads a stack of matrices x (B, R, S): (transposed, array, ld, batch stride).

    Row-major matrices (each row contiguous, rows ``ld`` elements apart) are read as they are;
    column-major ones, such as ``y.swapaxes(1, 2)`` of a row-major y, are read as a transposed
    operand (stored S×R, rows ``ld`` apart); anything else is first copied to row-major. The batch
    stride may be 0 (one matrix shared by the whole batch, from ``broadcast_to``).
    """
    _, r, s = x.shape
    stride_b, stride_r, stride_s = (st // x.itemsize for st in x.strides)
    if stride_b >= 0 and stride_s == 1 and stride_r >= max(s, 1):
        return False, x, stride_r, stride_b
    if stride_b >= 0 and stride_r == 1 and stride_s >= max(r, 1):
        return True, x, stride_s, stride_b
    x = cp.ascontiguousarray(x)
    return False, x, s, r * s


def _gemm(a: Any, b: Any, c: Any) -> Any:
    """c[z] = a[z] @ b[z] for a (B, M, K), b (B, K, N) and a C-contiguous c (B, M, N); returns c."""
    batch, m, k = a.shape
    n = b.shape[2]
    if not a.dtype == b.dtype == c.dtype:
        raise TypeError(f"matmul (cupy kernels): dtypes differ: {a.dtype} @ {b.dtype} -> {c.dtype}")
    if c.size == 0:
        return c
    if k == 0:  # an empty sum
        c[...] = 0
        return c
    suffix = _suffix(c.dtype, "matmul")
    trans_a, a, lda, stride_a = _as_matrices(a)
    trans_b, b, ldb, stride_b = _as_matrices(b)
    ldc, stride_c = n, m * n
    # float4 loads and stores need every row (and every matrix) to start on a 16-byte boundary
    vec = (
        suffix == "f32"
        and all(v % 4 == 0 for v in (lda, ldb, ldc, stride_a, stride_b, stride_c))
        and all(_address(v) % 16 == 0 for v in (a, b, c))
    )
    kernel = _kernel("sgemm.cu", f"gemm_{suffix}_{'nt'[trans_a]}{'nt'[trans_b]}{'_vec' if vec else ''}")
    tile = GEMM_TILE[suffix]
    rows = MAX_GRID_YZ * tile  # rows of C one launch can cover (gridDim.y ≤ 65535); a multiple of 4
    strides = (np.int64(stride_a), np.int64(stride_b), np.int64(stride_c))
    for z0 in range(0, batch, MAX_GRID_YZ):
        z1 = min(z0 + MAX_GRID_YZ, batch)
        for m0 in range(0, m, rows):
            m1 = min(m0 + rows, m)
            grid = (math.ceil(n / tile), math.ceil((m1 - m0) / tile), z1 - z0)
            args = (a[z0:z1, m0:m1], b[z0:z1], c[z0:z1, m0:m1], *_int32(m1 - m0, n, k, lda, ldb, ldc), *strides)
            kernel(grid, (THREADS,), args)
    return c


def matmul(a: Any, b: Any) -> Any:
    """C = A @ B for (M, K) @ (K, N), or per matrix for (B, M, K) @ (B, K, N), on our tiled GEMM.

    Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ, each block of 256 threads computing a 128×128 tile of C (sgemm.cu).
    Transposed views (``x.T``, ``swapaxes``) are read in place, other non-contiguous inputs copied.
    """
    if a.ndim != b.ndim or a.ndim not in (2, 3) or a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(
            f"matmul (cupy kernels): expects (M, K) @ (K, N) or (B, M, K) @ (B, K, N), got {a.shape} @ {b.shape}"
        )
    if a.dtype != b.dtype:
        raise TypeError(f"matmul (cupy kernels): dtypes differ: {a.dtype} @ {b.dtype}")
    if a.ndim == 2:
        return matmul(a[None], b[None])[0]
    c = cp.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=a.dtype)
    return _gemm(a, b, c)


def matmul_int8(a: Any, b: Any) -> Any:
    """C = A @ B for (M, K) int8 or uint8 @ (K, N) int8 → (M, N) int32, every sum exact (gemm_int8.cu).

    Each block of 256 threads computes a 64×64 tile of C with ``__dp4a``, 4 byte products per
    instruction; uint8 A is shifted to int8 and corrected by 128 · Σₖ Bₖⱼ inside the kernel.
    """
    if a.dtype not in (np.int8, np.uint8) or b.dtype != np.int8:
        raise TypeError(f"matmul_int8 (cupy kernels): needs int8 or uint8 @ int8 arrays, got {a.dtype} @ {b.dtype}")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul_int8 (cupy kernels): shapes {a.shape} @ {b.shape} are not (M, K) @ (K, N)")
    (m, k), n = a.shape, b.shape[1]
    c = cp.zeros((m, n), dtype=np.int32)  # zeros: an empty sum (K = 0) is 0
    if c.size == 0 or k == 0:
        return c
    a, b = _contiguous(a, b)
    kernel = _kernel("gemm_int8.cu", "gemm_u8s8" if a.dtype == np.uint8 else "gemm_s8s8")
    tile = INT8_TILE
    rows = MAX_GRID_YZ * tile  # rows of C one launch can cover (gridDim.y ≤ 65535)
    for m0 in range(0, m, rows):
        m1 = min(m0 + rows, m)
        grid = (math.ceil(n / tile), math.ceil((m1 - m0) / tile))
        kernel(grid, (THREADS,), (a[m0:m1], b, c[m0:m1], *_int32(m1 - m0, n, k)))
    return c


# ---------------------------------------------------------------------------------------------
# Convolution: im2col + GEMM (+ col2im)
# ---------------------------------------------------------------------------------------------


def relu(x: Any) -> Any:
    """y = max(x, 0), elementwise (NaN stays NaN): one CuPy elementwise kernel."""
    return cp.maximum(x, 0)


def relu_backward(dy: Any, y: Any) -> Any:
    """dx = dy · [y > 0], y the forward's output."""
    return dy * (y > 0)


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _chunks(n_images: int, per_image: int) -> list[tuple[int, int]]:
    """Batch ranges whose cols fit in COLS_LIMIT elements (at least one image each)."""
    step = max(1, COLS_LIMIT // max(per_image, 1))
    return [(i, min(i + step, n_images)) for i in range(0, n_images, step)]


def _im2col(x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]) -> Any:
    """cols (N, C·KH·KW, OH·OW): cols[n, (c·KH + kh)·KW + kw, oh·OW + ow] = x_pad[n, c, oh·sh + kh, ow·sw + kw]."""
    n, c, h, w = x.shape
    oh, ow = _out_size(h, kernel[0], stride[0], padding[0]), _out_size(w, kernel[1], stride[1], padding[1])
    cols = cp.empty((n, c * kernel[0] * kernel[1], oh * ow), dtype=x.dtype)
    sizes = _int32(n, c, h, w, *kernel, *stride, *padding, oh, ow)
    _launch_per_element("im2col.cu", f"im2col_{_suffix(x.dtype, 'im2col')}", cols.size, (x, cols, *sizes))
    return cols


def conv2d_forward(x: Any, w: Any, stride: tuple[int, int], padding: tuple[int, int], b: Any = None) -> Any:
    """y[n] = W @ cols[n] + b: im2col, then one batched GEMM whose A (the filters) is shared by every image."""
    x, w = _contiguous(x, w)
    n, _, h, wd = x.shape
    f, c, kh, kw = w.shape
    oh, ow = _out_size(h, kh, stride[0], padding[0]), _out_size(wd, kw, stride[1], padding[1])
    r, p = c * kh * kw, oh * ow
    filters = w.reshape(f, r)
    y = cp.empty((n, f, oh, ow), dtype=x.dtype)
    for n0, n1 in _chunks(n, r * p):
        cols = _im2col(x[n0:n1], (kh, kw), stride, padding)
        _gemm(cp.broadcast_to(filters, (n1 - n0, f, r)), cols, y[n0:n1].reshape(n1 - n0, f, p))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv2d_backward_bias(dy: Any) -> Any:
    """db[f] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] (CuPy's reduction)."""
    return dy.sum(axis=(0, 2, 3))


def conv2d_backward_input(
    dy: Any, w: Any, x_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> Any:
    """dx = col2im(Wᵀ @ dy[n]): each column's gradient, gathered back onto the pixels it came from."""
    dy, w = _contiguous(dy, w)
    n, f, oh, ow = dy.shape
    _, c, kh, kw = w.shape
    h, wd = int(x_shape[2]), int(x_shape[3])
    r, p = c * kh * kw, oh * ow
    filters_t = w.reshape(f, r).T  # (r, f), read in place as a transposed operand
    dx = cp.empty((n, c, h, wd), dtype=dy.dtype)
    suffix = _suffix(dy.dtype, "conv2d_backward_input")
    for n0, n1 in _chunks(n, r * p):
        dcols = cp.empty((n1 - n0, r, p), dtype=dy.dtype)
        _gemm(cp.broadcast_to(filters_t, (n1 - n0, r, f)), dy[n0:n1].reshape(n1 - n0, f, p), dcols)
        sizes = _int32(n1 - n0, c, h, wd, kh, kw, *stride, *padding, oh, ow)
        _launch_per_element("im2col.cu", f"col2im_{suffix}", (n1 - n0) * c * h * wd, (dcols, dx[n0:n1], *sizes))
    return dx


def conv2d_backward_weight(
    dy: Any, x: Any, w_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> Any:
    """dW = Σₙ dy[n] @ cols[n]ᵀ: one GEMM per image (batched), then a sum over the images."""
    dy, x = _contiguous(dy, x)
    n, f, oh, ow = dy.shape
    _, c, kh, kw = (int(s) for s in w_shape)
    r, p = c * kh * kw, oh * ow
    dw = cp.zeros((f, r), dtype=dy.dtype)
    for n0, n1 in _chunks(n, r * p):
        cols = _im2col(x[n0:n1], (kh, kw), stride, padding)
        per_image = cp.empty((n1 - n0, f, r), dtype=dy.dtype)
        _gemm(dy[n0:n1].reshape(n1 - n0, f, p), cols.transpose(0, 2, 1), per_image)  # colsᵀ read in place
        dw += per_image.sum(axis=0)
    return dw.reshape(f, c, kh, kw)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def max_pool2d_forward(
    x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[Any, Any]:
    """y = the max of each window (padding = −∞) and indices = h·W + w of its winner (int64)."""
    (x,) = _contiguous(x)
    n, c, h, w = x.shape
    oh, ow = _out_size(h, kernel[0], stride[0], padding[0]), _out_size(w, kernel[1], stride[1], padding[1])
    y = cp.empty((n, c, oh, ow), dtype=x.dtype)
    indices = cp.empty((n, c, oh, ow), dtype=np.int64)
    sizes = _int32(n * c, h, w, *kernel, *stride, *padding, oh, ow)
    kernel_name = f"max_pool2d_forward_{_suffix(x.dtype, 'max_pool2d')}"
    _launch_per_element("pool.cu", kernel_name, y.size, (x, y, indices, *sizes))
    return y, indices


def max_pool2d_backward(dy: Any, indices: Any, x_shape: tuple[int, ...]) -> Any:
    """dx[n, c].flat[indices[n, c, i, j]] += dy[n, c, i, j] (atomicAdd: windows may overlap)."""
    (dy,) = _contiguous(dy)
    indices = cp.ascontiguousarray(indices, dtype=np.int64)
    n, c, h, w = (int(s) for s in x_shape)
    dx = cp.zeros((n, c, h, w), dtype=dy.dtype)
    sizes = _int32(n * c, h * w, dy.shape[2] * dy.shape[3])
    kernel_name = f"max_pool2d_backward_{_suffix(dy.dtype, 'max_pool2d_backward')}"
    _launch_per_element("pool.cu", kernel_name, dy.size, (dy, indices, dx, *sizes))
    return dx


def avg_pool2d_forward(x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]) -> Any:
    """y = the mean of each window, padding counted as zeros (divisor KH·KW)."""
    (x,) = _contiguous(x)
    n, c, h, w = x.shape
    oh, ow = _out_size(h, kernel[0], stride[0], padding[0]), _out_size(w, kernel[1], stride[1], padding[1])
    y = cp.empty((n, c, oh, ow), dtype=x.dtype)
    sizes = _int32(n * c, h, w, *kernel, *stride, *padding, oh, ow)
    kernel_name = f"avg_pool2d_forward_{_suffix(x.dtype, 'avg_pool2d')}"
    _launch_per_element("pool.cu", kernel_name, y.size, (x, y, *sizes))
    return y


def avg_pool2d_backward(
    dy: Any, x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> Any:
    """dx[pixel] = Σ over the windows covering it of dy / (KH·KW) (a gather: no atomics)."""
    (dy,) = _contiguous(dy)
    n, c, h, w = (int(s) for s in x_shape)
    oh, ow = dy.shape[2], dy.shape[3]
    dx = cp.empty((n, c, h, w), dtype=dy.dtype)
    sizes = _int32(n * c, h, w, *kernel, *stride, *padding, oh, ow)
    kernel_name = f"avg_pool2d_backward_{_suffix(dy.dtype, 'avg_pool2d_backward')}"
    _launch_per_element("pool.cu", kernel_name, dx.size, (dy, dx, *sizes))
    return dx
