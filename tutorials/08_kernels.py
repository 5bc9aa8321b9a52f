# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Swapping kernels, timing them, and reading a profile
#
# **You will be able to:** swap the kernel backend under an unchanged model and check that the numbers agree to
# rounding; time a kernel without fooling yourself (warm-up, one thread, the median); count a matmul's and a
# convolution's floating-point operations and turn a time into GFLOP/s; say what a blocked matmul does; and read
# a profile to decide, with Amdahl's law, which kernel is worth speeding up.
#
# **Run time:** about 3 s of CPU time, plus up to half a minute for Numba to compile its kernels the first time on a
# machine (they are cached after that) (`TGE_FAST=1`: about 3 s).
#
# Every heavy computation in tinygrad_edu (matmul, convolution, pooling) goes through one small
# table of functions, `tinygrad_edu.kernels`, and that table has several implementations:
#
# - `numpy` (`kernels/numpy_ref.py`): the readable reference; matmul is NumPy's BLAS, convolution is
#   im2col + matmul (lesson 06);
# - `numba` (`kernels/numba_cpu.py` and the files it lists): loops written by hand in Python and
#   compiled to machine code by Numba;
# - `cupy` (`kernels/cupy_cuda.py`): our own CUDA C, on an NVIDIA GPU.
#
# The model code never changes: `with tge.kernels.use("numba"):` swaps the table under it. This
# lesson checks that the backends compute the same numbers, takes a first look at their speed, and
# uses the profiler to see where a training step spends its time.

# %%
import functools
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import threadpoolctl
from matplotlib.figure import Figure
from tinygrad_edu.kernels import numpy_ref

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import kernels, optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.datasets import load_digits
from tinygrad_edu.models import MLP, SmallCNN

print("backends that can run here:", kernels.available(), " current:", kernels.current().name)
CPU_BACKENDS = [name for name in ("numpy", "numba") if name in kernels.available()]


def has_conv(name: str) -> bool:
    """Whether a backend's table has the convolution and pooling kernels (numpy always does)."""
    return all(hasattr(kernels.get(name), function) for function in kernels.TABLE)


# Quick runs leave Numba's conv kernels out: compiling them takes longer than the rest of the lesson.
CONV_BACKENDS = [name for name in CPU_BACKENDS if has_conv(name) and not (FAST and name == "numba")]
print("backends with convolution and pooling:", [name for name in CPU_BACKENDS if has_conv(name)])

# %% [markdown]
# Every timing in this lesson runs on **one thread** (NumPy's BLAS and Numba alike, restored at the
# end). On a machine shared with other programs, a multithreaded kernel can wait milliseconds for a
# free core, and a small matmul then takes a hundred times longer than its work; one thread keeps
# the figures steady and the comparison fair.

# %%
one_thread = threadpoolctl.threadpool_limits(limits=1)  # NumPy's BLAS on one thread, until restored
if "numba" in CPU_BACKENDS:
    import numba

    numba_threads = numba.get_num_threads()
    numba.set_num_threads(1)

# %% [markdown]
# ## Numba compiles on the first call
#
# A Numba function is compiled for the argument types it first meets, when it is first called. The
# numba kernels ask for `cache=True`, so the machine code is also written next to the source (in
# `kernels/__pycache__`) and later processes load it instead of compiling again. The first call in
# a process therefore costs a compilation (seconds: the first time on a machine, or after the
# source changed) or a load from that cache (less); only the calls after it are just the work.
# Measure the first call on its own, and never let it into a timing loop:

# %%
rng = np.random.default_rng(0)
if "numba" in CPU_BACKENDS:
    a = rng.standard_normal((64, 64)).astype(np.float32)
    start = time.perf_counter()
    kernels.get("numba").matmul(a, a)
    first = time.perf_counter() - start
    start = time.perf_counter()
    kernels.get("numba").matmul(a, a)
    second = time.perf_counter() - start
    print(
        f"numba matmul 64×64 float32: first call {first * 1e3:.0f} ms (compile or load), second {second * 1e3:.3f} ms"
    )

# %% [markdown]
# ## Same model, same step, every backend
#
# One forward and backward pass on a batch of 256 digits, once per backend: lesson 05's MLP, and
# lesson 06's CNN on the backends that have the convolution kernels. The losses and every gradient
# must agree, though not bit for bit: a float32 sum rounds differently when its terms are added in
# another order (blocked, vectorised, split between threads), so they agree to float32's rounding.

# %%
digits = load_digits()
x_batch, images, y_batch = (tge.tensor(a[:256]) for a in (digits.data, digits.images, digits.targets))


def model_step(model: tge.nn.Module, x: tge.Tensor, y: tge.Tensor) -> tuple[float, list[np.ndarray]]:
    """Forward, loss and backward; returns the loss and every gradient."""
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in model.parameters()]


tge.manual_seed(0)
for title, model, x, backends in [("MLP 64-128-10", MLP(64, (128,), 10), x_batch, CPU_BACKENDS),
                                  ("SmallCNN", SmallCNN(), images, CONV_BACKENDS)]:  # fmt: skip
    results = {}
    for name in backends:
        with kernels.use(name):
            results[name] = model_step(model, x, y_batch)
    loss_ref, grads_ref = results["numpy"]
    for loss, grads in results.values():
        assert abs(loss - loss_ref) <= 1e-5 * loss_ref
        for g, g_ref in zip(grads, grads_ref):
            np.testing.assert_allclose(g, g_ref, rtol=1e-3, atol=1e-5 * np.abs(g_ref).max())
    print(f"{title}: loss {loss_ref:.6f}; the same loss and gradients (to rounding) with {', '.join(results)}")

# %% [markdown]
# ## A first look at speed
#
# A product of an $m \times k$ and a $k \times n$ matrix does $m n k$ multiplications and as many additions:
# $2 m n k$ floating-point operations, $2n^3$ for square ones, so a call that takes $t$ seconds runs at
# $\frac{2 n^3}{t \cdot 10^9}$ GFLOP/s. The reference kernel hands the product to NumPy (and so to BLAS):

# %%
source = quote(numpy_ref.matmul)
assert "@" in source or "matmul" in source

# %% [markdown]
# Timing code is easy to get wrong. The rules used here: call once before timing (warm-up: the
# compilation above, caches, memory); repeat several times and take the **median** (a background
# process or a frequency change spoils a sample, rarely the median); time with
# `time.perf_counter()`, the clock meant for intervals. Even so, these are a few samples on a
# machine that may be busy with other things. A real comparison uses `tinygrad-edu bench`: every
# backend and PyTorch on the same thread count, interleaved samples, many shapes, a chart. And the
# results of a speed test are never asserted here, only printed: a slow machine is not a bug.
#
# Both backends run on one thread here (set at the top of the lesson), so the comparison is core
# for core; `tinygrad-edu bench --threads N` compares at any thread count.


# %%
def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """The median time of ``fn()`` in milliseconds, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


repeats = sized(full=7, fast=3)
speeds = {name: [] for name in CPU_BACKENDS}  # GFLOP/s per size, for the figure
sizes = sized(full=(64, 128, 256, 512), fast=(64, 256))
print(f"matmul, float32, n×n @ n×n, median of {repeats} ({2}·n³ flops per call)")
print(f"{'n':>5}" + "".join(f"{name + ' ms':>12}{'GFLOP/s':>9}" for name in CPU_BACKENDS))
for n in sizes:
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    line = f"{n:>5}"
    for name in CPU_BACKENDS:
        ms = median_ms(functools.partial(kernels.get(name).matmul, a, b), repeats)
        line += f"{ms:12.3f}{2 * n**3 / ms / 1e6:9.1f}"
        speeds[name].append(2 * n**3 / ms / 1e6)
    print(line)
    c_ref = kernels.get("numpy").matmul(a, b)
    for name in CPU_BACKENDS:  # correctness is asserted; speed is only printed
        np.testing.assert_allclose(kernels.get(name).matmul(a, b), c_ref, rtol=1e-4, atol=1e-4 * np.abs(c_ref).max())

fig = Figure(figsize=(5.5, 3.4))
ax = fig.subplots()
for name, gflops in speeds.items():
    ax.plot(sizes, gflops, "o-", label=f"{name} (one thread)")
ax.set_xscale("log", base=2)
ax.set_xlabel("n (float32 n×n @ n×n)")
ax.set_ylabel("GFLOP/s = 2n³ / t / 1e9")
ax.set_title(f"08: matmul speed on this machine, median of {repeats} (noisy: not asserted)")
ax.legend(fontsize=8)
show(fig, "08_matmul_speed.png")
assert all(len(v) == len(sizes) and min(v) > 0 for v in speeds.values())

# %%
x_conv = rng.standard_normal((32, 16, 16, 16)).astype(np.float32)  # 32 images, 16 channels, 16×16
w_conv = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)  # 32 filters of 16×3×3
flops = 2 * 32 * 32 * 16 * 16 * 16 * 3 * 3  # 2·N·F·OH·OW·C·KH·KW
print(f"conv2d forward of {x_conv.shape} images with {w_conv.shape} filters, padding 1, median of {repeats}:")
y_ref = kernels.get("numpy").conv2d_forward(x_conv, w_conv, (1, 1), (1, 1))
for name in CONV_BACKENDS:
    ms = median_ms(functools.partial(kernels.get(name).conv2d_forward, x_conv, w_conv, (1, 1), (1, 1)), repeats)
    print(f"conv2d forward, {name}: {ms:.3f} ms, {flops / ms / 1e6:.1f} GFLOP/s")
    y = kernels.get(name).conv2d_forward(x_conv, w_conv, (1, 1), (1, 1))
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-4 * np.abs(y_ref).max())

# %% [markdown]
# The convolution's count follows from its formula: each of the $N F O_H O_W$ outputs is a sum of $C K_H K_W$
# products, so $2 N F O_H O_W C K_H K_W$ operations, which is exactly the $2mnk$ of the im2col matmul
# $(F \times C K_H K_W) \cdot (C K_H K_W \times N O_H O_W)$.
#
# ## What the Numba matmul does
#
# `kernels/numba_matmul.py` is the plan of the BLIS and GotoBLAS libraries, written in Python. The
# naive triple loop over i, j, k spends its time waiting for memory, so the work is cut into blocks,
# each sized for one level of the cache, in five loops around a tiny "micro-kernel". The outer loop
# (**jc**) steps through C's columns in blocks of NC. The next (**pc**) cuts the shared dimension K
# into slices of KC and *packs* the KC × NC block of B: copies it into exactly the order the
# micro-kernel will read it, zero-padded to whole tiles, so that every later read is contiguous (and
# a transposed input costs nothing extra: it is read once, while packing); that block stays in the
# large shared L3 cache. The third loop (**ic**) packs an MC × KC block of A that fits in a core's
# L2; the row blocks of C are what the threads share (`kernels/numba_threads.py`). The last two loops (**jr**,
# **ir**) walk those blocks in micro-panels: a thin KC × NR sliver of packed B stays in L1 while every 6 × KC
# sliver of A streams past it. At the bottom, the micro-kernel computes a 6 × NR tile of C held entirely
# *in registers*; NR follows the CPU's vector registers. With AVX2 (16 ymm registers of 8 floats) the tile
# is 6 × 16: at each step k it loads 16 numbers of B as two registers, broadcasts 6 numbers of A and issues
# 12 independent fused multiply-adds, in 12 accumulators. With AVX-512 (32 zmm registers of 16 floats, as on
# this project's znver5 machine) it is 6 × 64: four registers of B, 24 accumulators, 24 FMAs per step.
# The kernels are written with explicit vectors (`kernels/numba_simd.py`) so that LLVM cannot fall back to
# gathers, and `tests/kernels/test_numba_asm.py` checks the instructions for six CPUs. On this machine the
# bench measured it at 0.91× OpenBLAS's speed on one thread at n = 1024 (193 against 212 GFLOP/s) and 0.79×
# on two (298 against 380): `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE tinygrad-edu bench`.
#
# ## Where does a training step spend its time? The profiler
#
# `with tge.profile():` records every op (each Function's forward, and its backward as
# "…Backward") and every kernel call, then prints a table: calls, total milliseconds and, for
# matmul and convolution, the speed in GFLOP/s. Kernel time is counted inside the op that called
# the kernel. Here, three training steps of the CNN with the NumPy kernels:

# %%
tge.manual_seed(0)
cnn = SmallCNN()
opt = optim.Adam(cnn.parameters(), lr=1e-3)


def train_step(x: tge.Tensor, y: tge.Tensor) -> None:
    loss = F.cross_entropy(cnn(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


train_step(images[:64], y_batch[:64])  # warm-up, outside the profile: the first step creates Adam's state
with tge.profile(file=sys.stdout) as prof:
    for i in range(3):
        train_step(images[64 * i : 64 * (i + 1)], y_batch[64 * i : 64 * (i + 1)])

# %%
one_thread.restore_original_limits()  # back to the usual thread counts
if "numba" in CPU_BACKENDS:
    numba.set_num_threads(numba_threads)
op_ms = sum(s.ms for s in prof.ops.values())
kernel_ms = sum(s.ms for s in prof.kernels.values())
conv_ms = prof.ops["Conv2d"].ms + prof.ops["Conv2dBackward"].ms
pool_ms = prof.ops["MaxPool2d"].ms + prof.ops["MaxPool2dBackward"].ms
print(f"ops: {op_ms:.1f} ms in all, of which kernels {kernel_ms / op_ms:.0%}")
print(f"convolution (forward and backward) {conv_ms / op_ms:.0%}, max-pooling {pool_ms / op_ms:.0%}, "
      f"everything else {1 - (conv_ms + pool_ms) / op_ms:.0%}")  # fmt: skip
assert {"Conv2d", "Conv2dBackward", "MaxPool2d", "Linear", "LinearBackward"} <= set(prof.ops)
assert prof.ops["Conv2d"].calls == 2 * 3 and prof.kernels["numpy.conv2d_forward"].calls == 2 * 3
assert prof.kernels["numpy.conv2d_backward_weight"].calls == 2 * 3
assert prof.kernels["numpy.conv2d_backward_input"].calls == 1 * 3  # conv1's input is the image: no dx
assert prof.ops["Conv2d"].seconds >= prof.kernels["numpy.conv2d_forward"].seconds  # the op includes its kernel

# %% [markdown]
# Read the table from the top: the first rows are where the time goes, so that is where a faster
# kernel pays. That is **Amdahl's law**: if a part taking the share $p$ of the time becomes $s$ times faster, the
# whole becomes
#
# $$ S = \frac{1}{(1 - p) + p / s} < \frac{1}{1 - p} $$
#
# times faster, so a ten times faster matmul cannot help a step that spends 5 % of its time in matmul
# ($S = 1/(0.95 + 0.005) \approx 1.05$).
# Two details of this one are worth a second look. `numpy.conv2d_backward_weight` ran 6 times but
# `numpy.conv2d_backward_input` only 3: the first layer's input is the image itself, which needs no
# gradient, so its backward skips dx (`ctx.needs_input_grad` in `tinygrad_edu/ops/conv.py`). And
# max-pooling, which does no arithmetic worth counting, is not free: for each of the four positions
# in its window the reference kernel makes several passes over the whole batch (compare, select the
# value, select the index), and a pass over memory costs time whether or not it multiplies
# anything. The small elementwise ops (ReLU, Add, the reshapes) cost little each, but a model made of
# many small ops also pays Python's overhead once per op, which no kernel backend removes.
#
# To profile a whole program without touching it, set an environment variable:
# `TINYGRAD_EDU_DEBUG=1 python train.py` prints the table at exit, and `TINYGRAD_EDU_DEBUG=2` also
# prints every kernel call as it happens (backend, shapes, milliseconds). `tinygrad-edu train
# --kernels numba` trains with the Numba backend, and `tinygrad-edu bench` times every backend
# properly.
#
# The same profile as a picture, each op's share of the time:

# %%
shares = sorted(((s_.ms / op_ms, name) for name, s_ in prof.ops.items()), reverse=True)[:8]
fig = Figure(figsize=(6, 3.4))
ax = fig.subplots()
ax.barh([name for _, name in shares][::-1], [100 * share for share, _ in shares][::-1], color="tab:blue")
ax.set_xlabel("share of the op time in 3 training steps (%)")
ax.set_ylabel("op (forward, or …Backward)")
ax.set_title("08: where SmallCNN's training step spends its time (numpy kernels)")
show(fig, "08_profile.png")
amdahl = 1 / (0.95 + 0.05 / 10)
print(f"Amdahl: 5 % of the time made 10 × faster gives {amdahl:.3f} × overall")
assert abs(amdahl - 1.047) < 1e-3 and sum(share for share, _ in shares) <= 1 + 1e-9

# %% [markdown]
# ## Exercises
#
# 1. From the profile above, predict the speed-up of the whole step if both convolution ops (forward and
#    backward) became 10 times faster, and the most any convolution kernel could ever give.
# 2. Count the floating-point operations of the conv2d timed above twice: by its formula
#    $2 N F O_H O_W C K_H K_W$, and as the $2mnk$ of its im2col matmul. Check that they agree.
# 3. `with kernels.use("numba"):` swaps the table for the block only. Check that the backend is restored after
#    the block, also when the block raises.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Amdahl with p = the convolution's share of the op time.
p_conv = conv_ms / op_ms
speedup_10, limit = 1 / ((1 - p_conv) + p_conv / 10), 1 / (1 - p_conv)
print(f"convolution share p = {p_conv:.0%}: 10 × faster kernels give {speedup_10:.2f} ×, at most {limit:.2f} ×")
assert 1 < speedup_10 < limit and 0 < p_conv < 1

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. N = 32 images, F = 32 filters, 16×16 outputs (padding 1), C = 16 channels, 3×3 kernel.
N_, F_, OH_, OW_, C_, KH_, KW_ = 32, 32, 16, 16, 16, 3, 3
by_formula = 2 * N_ * F_ * OH_ * OW_ * C_ * KH_ * KW_
m, k, n = F_, C_ * KH_ * KW_, N_ * OH_ * OW_  # (F × CKK) @ (CKK × N·OH·OW)
print(f"by the formula {by_formula:,} flops; as a matmul 2·{m}·{k}·{n} = {2 * m * k * n:,}")
assert by_formula == 2 * m * k * n == flops

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. The context manager restores the previous backend on the way out, exception or not.
before = kernels.current().name
other = "numba" if "numba" in kernels.available() else "numpy"
with kernels.use(other):
    assert kernels.current().name == other
try:
    with kernels.use(other):
        raise RuntimeError("a failing block")
except RuntimeError:
    pass
print("backend before:", before, " inside:", other, " after:", kernels.current().name)
assert kernels.current().name == before

# %% [markdown]
# That is the end of the first tour: from one derivative (01) to a trained CNN (06) and attention (07),
# and now the kernels underneath. Every line of math you met lives in `tinygrad_edu/ops/`, next to
# its backward; read it there.
#
# **Next:** 09 · one neuron: the numbers that circulate, and the right ones.
