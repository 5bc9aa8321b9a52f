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
# # 19 · On a GPU: devices, the CuPy kernel backend, and what our tiled SGEMM does
#
# **You will be able to:** move tensors and models to `"cuda"` and pick the kernel backend that computes there;
# read the library's CUDA matrix multiplication (`kernels/cuda/sgemm.cu`) and say what every level of its tiling
# buys; run the same tiling, loop for loop, in NumPy and check it against `@`; compute the arithmetic intensity
# that decides whether a kernel is limited by memory or by arithmetic; and, on a machine with a GPU, time our
# SGEMM against cuBLAS and against the CPU.
#
# **Run time:** about 2 s of CPU time (`TGE_FAST=1`: about 2 s) without a GPU. With a GPU (and `pip install -e
# ".[cuda]"`) section 6 also runs: the first call compiles the CUDA kernels (a few seconds), then a training step and a
# timing.

# %%
import inspect
import math
import time

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from tinygrad_edu.kernels import cupy_cuda  # imports without CuPy: only running its kernels needs a GPU

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import kernels, nn
from tinygrad_edu.course import FAST, show, sized

tge.manual_seed(0)
rng = np.random.default_rng(0)
HAVE_GPU = tge.cuda.is_available()
print("fast mode:", FAST, "| GPU available:", HAVE_GPU)
if not HAVE_GPU:
    print(
        "No usable GPU here (or no CuPy), so this run skips section 6 — moving a model to 'cuda', a training step "
        "on our CUDA kernels and the timing of our SGEMM against cuBLAS and the CPU — and runs everything else."
    )

# %% [markdown]
# ## 1. Devices, as in PyTorch
#
# A tensor lives on a device: `"cpu"` (NumPy arrays) or `"cuda"` (CuPy arrays on the GPU). `x.to("cuda")`,
# `x.cuda()` and `model.to("cuda")` move data; every op's inputs must share one device. The usual PyTorch idiom
# works unchanged, and on a machine without a GPU it simply picks the CPU:

# %%
device = "cuda" if tge.cuda.is_available() else "cpu"
x = tge.randn(4, 3).to(device)
print("x lives on", x.device, "| x.device == device:", x.device == device)
assert x.device == device

if not HAVE_GPU:  # without a GPU, asking for one says what is missing and how to get it
    try:
        tge.ones(3).to("cuda")
        raise AssertionError("moving to 'cuda' should fail without a GPU")
    except RuntimeError as err:
        print("x.to('cuda'):", err)
        assert "cuda" in str(err) and "pip install" in str(err)

# %% [markdown]
# ## 2. Kernel backends: who does the arithmetic
#
# Device and backend are two knobs. The heavy ops (matmul, convolution, pooling) call a small table of kernels,
# one file per backend: `numpy` and `numba` compute on CPU arrays, `cupy` runs our own CUDA C on GPU arrays.
# `tge.kernels.use(name)` switches (also as a `with` block); a backend that cannot run here says why.

# %%
print("available here:", kernels.available(), "| current:", kernels.current().name)
a_cpu, b_cpu = tge.randn(64, 32), tge.randn(32, 16)
reference = (a_cpu @ b_cpu).numpy()
with kernels.use("numpy"):
    assert np.allclose((a_cpu @ b_cpu).numpy(), reference, atol=1e-5)
if not HAVE_GPU:
    try:
        kernels.use("cupy")
        raise AssertionError("the cupy backend should refuse to start without a GPU")
    except kernels.KernelUnavailable as err:
        print("kernels.use('cupy'):", err)
        assert "CuPy" in str(err)

# %% [markdown]
# On the GPU, `kernels/cupy_cuda.py` compiles the `.cu` files with CuPy and launches them. Here is how it
# launches the matrix multiplication: one block of 256 threads per 128×128 tile of $C$, so the grid is
# $\lceil N/128\rceil \times \lceil M/128\rceil \times \text{batch}$ blocks.

# %%
gemm_source = inspect.getsource(cupy_cuda._gemm)
print(gemm_source[gemm_source.index("    kernel = _kernel") :])
assert cupy_cuda.THREADS == 256 and cupy_cuda.GEMM_TILE["f32"] == 128

# %% [markdown]
# ## 3. Why tile? Arithmetic intensity
#
# $C_{ij} = \sum_k A_{ik} B_{kj}$ costs $MNK$ fused multiply-adds (FMAs, 2 FLOPs each). A naive kernel, one thread
# per $C_{ij}$, reads $A_{ik}$ and $B_{kj}$ from the GPU's main memory (DRAM) for every FMA: 8 bytes per 2 FLOPs,
# an **arithmetic intensity** of $I = 0.25$ FLOP/byte. A GPU computes far faster than its DRAM delivers: the
# kernel's header quotes an H100 at 33.5 T FMA/s (67 TFLOP/s) against 3.35 TB/s, so a kernel only reaches peak
# when
#
# $$ I \ \ge\ \frac{67\ \text{TFLOP/s}}{3.35\ \text{TB/s}} = 20\ \text{FLOP/byte}. $$
#
# Tiling reuses every loaded number. A block that computes a $T\times T$ tile of $C$ loads, per step of $B_K$ along
# $k$, a $T\times B_K$ slice of $A$ and a $B_K\times T$ slice of $B$ ($2TB_K$ numbers) into **shared memory**, and
# does $T^2 B_K$ FMAs with them:
#
# $$ \frac{\text{FMAs}}{\text{numbers loaded}} = \frac{T^2 B_K}{2 T B_K} = \frac{T}{2}, \qquad
#    I = \frac{2 \cdot T/2}{4\ \text{bytes}} = \frac{T}{4}\ \text{FLOP/byte}. $$
#
# So $T = 128$ gives 64 FMAs per load and $I = 32$ FLOP/byte, past the ridge of 20. (This counts DRAM traffic
# only and ignores the L2 cache, which in practice helps the smaller tiles too.)

# %%
PEAK_FLOPS, DRAM_BYTES = 67e12, 3.35e12  # H100 fp32 (no tensor cores) and HBM3, as sgemm.cu's header quotes them
ridge = PEAK_FLOPS / DRAM_BYTES


def intensity(tile: int | None) -> float:
    """FLOP per byte of DRAM traffic: naive (tile None) or a tile×tile block tile, fp32."""
    fma_per_load = 0.5 if tile is None else tile / 2
    return 2 * fma_per_load / 4


def attainable(i: float) -> float:
    """The roofline: a kernel of intensity i reaches at most min(peak, i · bandwidth) FLOP/s."""
    return min(PEAK_FLOPS, i * DRAM_BYTES)


tiles = [None, 8, 16, 32, 64, 128, 256]
for t in tiles:
    i = intensity(t)
    print(
        f"{'naive' if t is None else f'{t}×{t} tile':>12}: I = {i:6.2f} FLOP/byte "
        f"→ at most {attainable(i) / 1e12:5.1f} TFLOP/s"
    )
assert intensity(None) == 0.25 and math.isclose(ridge, 20.0)
assert intensity(128) == 32 > ridge > intensity(64) == 16  # 128 is the smallest power of two past the ridge
assert math.isclose(attainable(intensity(None)) / PEAK_FLOPS, 1 / 80)  # naive: 1.25% of peak at best

fig = Figure(figsize=(7, 4.5))
ax = fig.subplots()
grid_i = np.logspace(-1.5, 2.5, 200)
ax.loglog(grid_i, [attainable(i) / 1e12 for i in grid_i], "k-", label="roofline: min(peak, I × bandwidth)")
ax.axvline(ridge, color="gray", linestyle=":", label=f"ridge point, I = {ridge:.0f} FLOP/byte")
for t in tiles:
    i = intensity(t)
    ax.loglog([i], [attainable(i) / 1e12], "o", label="naive kernel" if t is None else f"{t}×{t} shared-memory tile")
ax.set_title("Arithmetic intensity decides: H100 fp32, DRAM traffic only")
ax.set_xlabel("arithmetic intensity I (FLOP per byte from DRAM)")
ax.set_ylabel("attainable TFLOP/s")
ax.legend(fontsize=7)
show(fig, "19_roofline.png")

# %% [markdown]
# ## 4. The kernel, read
#
# The second level of reuse is in **registers**: each of a block's 256 threads computes an $8\times 8$ patch of
# the tile, so per step $k$ it reads 8 numbers of $A$'s column and 8 of $B$'s row from shared memory and does all
# $8\cdot 8 = 64$ FMAs between them (16 reads for 64 FMAs). The header of `sgemm.cu` explains the choices; here is
# the loop at the heart of `gemm_block`: while it computes on tile $t$, it already fetches tile $t+1$ (double
# buffering), and `__syncthreads()` keeps the 256 threads in step.

# %%
cu = (cupy_cuda.CUDA_DIR / "sgemm.cu").read_text()
header = cu[: cu.index("// Read this first")]
loop = cu[cu.index("    const int tiles = (K + BK - 1) / BK;") : cu.index("    // Write the patch into C")]
print(header + "...\n" + loop)
assert "__syncthreads();" in loop and "acc[i][j] += a[i] * b[j];" in loop

# %% [markdown]
# ## 5. The same tiling in NumPy, loop for loop
#
# Below, `tiled_matmul` runs the kernel's schedule on the CPU. The loops over `by` and `bx` are the grid
# (`blockIdx.y`, `blockIdx.x`); the loop over `t` is the kernel's loop over $k$-tiles, with `As` and `Bs` playing
# shared memory (zeros where a tile hangs over the matrix's edge, as the kernel's loader writes them); the loop
# over `k` is its inner loop. The 256 threads of a block run at once in the kernel, so here they are one axis of
# an array: `acc[ty, tx]` is thread $(t_y, t_x)$'s $8\times 8$ accumulator, and `rows[ty]` are its 8 rows of the
# tile, in the kernel's order — two groups of four, $4t_y..4t_y+3$ and $64+4t_y..64+4t_y+3$, so that neighbouring
# threads read neighbouring 16-byte pieces of shared memory.

# %%


def patch_indices(threads: int, per_thread: int) -> np.ndarray:
    """indices[t] = the tile rows (or columns) that thread t owns: s·4·threads + 4·t + i, as in gemm_block."""
    return np.array(
        [[s * 4 * threads + 4 * t + i for s in range(per_thread // 4) for i in range(4)] for t in range(threads)]
    )


def tiled_matmul(A, B, BM=128, BN=128, BK=8, TM=8, TN=8, counts=None):
    """C = A @ B computed as sgemm.cu computes it: block tiles in 'shared memory', thread patches in 'registers'."""
    M, K = A.shape
    N = B.shape[1]
    TY, TX = BM // TM, BN // TN  # 16 × 16 = 256 threads per block
    rows, cols = patch_indices(TY, TM), patch_indices(TX, TN)  # (TY, TM) and (TX, TN)
    C = np.zeros((M, N), dtype=A.dtype)
    written = np.zeros((M, N), dtype=np.int64)
    counts = {} if counts is None else counts
    for key in ("global_loads", "shared_reads", "fma"):
        counts.setdefault(key, 0)
    for by in range(math.ceil(M / BM)):  # blockIdx.y
        for bx in range(math.ceil(N / BN)):  # blockIdx.x
            row0, col0 = by * BM, bx * BN  # this block's corner of C
            acc = np.zeros((TY, TX, TM, TN), dtype=A.dtype)  # every thread's registers
            for t in range(math.ceil(K / BK)):  # the loop over k-tiles
                k0 = t * BK
                As = np.zeros((BK, BM), dtype=A.dtype)  # As[k][m] = A[row0 + m, k0 + k], 0 outside A
                Bs = np.zeros((BK, BN), dtype=B.dtype)  # Bs[k][n] = B[k0 + k, col0 + n], 0 outside B
                a_tile = A[row0 : row0 + BM, k0 : k0 + BK]
                b_tile = B[k0 : k0 + BK, col0 : col0 + BN]
                As[: a_tile.shape[1], : a_tile.shape[0]] = a_tile.T
                Bs[: b_tile.shape[0], : b_tile.shape[1]] = b_tile
                counts["global_loads"] += (BM + BN) * BK
                for k in range(BK):  # the inner loop: every thread at once
                    a = As[k][rows]  # (TY, TM): each thread's 8 numbers of A's column k, into registers
                    b = Bs[k][cols]  # (TX, TN): each thread's 8 numbers of B's row k
                    acc += a[:, None, :, None] * b[None, :, None, :]  # acc[i][j] += a[i] * b[j], 64 per thread
                    counts["shared_reads"] += TY * TX * (TM + TN)
                    counts["fma"] += TY * TX * TM * TN
            # write each thread's patch into C, skipping the cells outside it (the edge tiles overhang)
            r = (row0 + rows)[:, None, :, None] + np.zeros((1, TX, 1, TN), dtype=np.int64)
            c = (col0 + cols)[None, :, None, :] + np.zeros((TY, 1, TM, 1), dtype=np.int64)
            inside = (r < M) & (c < N)
            C[r[inside], c[inside]] = acc[inside]
            np.add.at(written, (r[inside], c[inside]), 1)
    counts["written"] = written
    return C


M, N, K = sized(full=(300, 260, 200), fast=(260, 140, 77))  # not multiples of 128 or 8: the edges are exercised
A = rng.uniform(-1, 1, (M, K)).astype(np.float32)
B = rng.uniform(-1, 1, (K, N)).astype(np.float32)
counts = {}
start = time.perf_counter()
C = tiled_matmul(A, B, counts=counts)
sim_seconds = time.perf_counter() - start
exact = A.astype(np.float64) @ B.astype(np.float64)
print(f"{M}×{K} @ {K}×{N}: max |tiled − exact| = {np.abs(C - exact).max():.2e} (simulated in {sim_seconds:.2f} s)")
assert np.allclose(C, exact, atol=1e-4) and np.allclose(C, A @ B, atol=1e-4)
assert (counts["written"] == 1).all()  # every cell of C is written by exactly one thread

blocks, ktiles = math.ceil(M / 128) * math.ceil(N / 128), math.ceil(K / 8)
assert counts["global_loads"] == blocks * ktiles * (128 + 128) * 8
assert counts["fma"] == blocks * ktiles * 128 * 128 * 8 and counts["fma"] / counts["global_loads"] == 64
assert counts["fma"] / counts["shared_reads"] == 4  # 64 FMAs per 16 shared-memory reads
print(
    f"FMAs per number from global memory: {counts['fma'] / counts['global_loads']:.0f} (naive: 0.5); "
    f"per shared-memory read: {counts['fma'] / counts['shared_reads']:.0f}; "
    f"useful FMAs {M * N * K / counts['fma']:.0%} (the rest multiply the zeros of overhanging tiles)"
)

# %% [markdown]
# Which cells of a tile does a thread own? Thread $(t_y, t_x)$'s 64 cells are four $4\times4$ squares, 64 rows and
# 64 columns apart (orange: thread (0,0); green: (0,1); red: (1,0); purple: (15,15)) — the layout that makes its
# shared-memory reads and its writes to $C$ land next to its neighbours'.

# %%
owner = np.zeros((128, 128))
for colour, (ty, tx) in enumerate([(0, 0), (0, 1), (1, 0), (15, 15)], start=1):
    owner[np.ix_(patch_indices(16, 8)[ty], patch_indices(16, 8)[tx])] = colour
assert (owner > 0).sum() == 4 * 64
fig = Figure(figsize=(5.5, 5))
ax = fig.subplots()
ax.imshow(owner, cmap=ListedColormap(["white", "C1", "C2", "C3", "C4"]), vmin=0, vmax=4, interpolation="nearest")
ax.set_title("The 64 cells of threads (0,0), (0,1), (1,0), (15,15) in a 128×128 tile")
ax.set_xlabel("column n of the tile")
ax.set_ylabel("row m of the tile")
show(fig, "19_thread_patches.png")

# %% [markdown]
# What this tells us about the CPU, measured here: the same product through the library (its `numpy` backend,
# i.e. the machine's BLAS, which tiles for the CPU's caches just as the kernel tiles for shared memory and
# registers). GFLOP/s $= 2MNK / \text{seconds}$.

# %%
n_cpu = sized(full=1024, fast=512)
a_big, b_big = tge.randn(n_cpu, n_cpu), tge.randn(n_cpu, n_cpu)
_ = a_big @ b_big  # warm-up
times = []
for _ in range(3):
    start = time.perf_counter()
    _ = a_big @ b_big
    times.append(time.perf_counter() - start)
cpu_gflops = 2 * n_cpu**3 / min(times) / 1e9
print(f"CPU, tge matmul {n_cpu}×{n_cpu} fp32 (numpy backend): {cpu_gflops:.1f} GFLOP/s (best of 3)")
assert cpu_gflops > 0.5  # a sanity floor only: the machine is shared, timings are noisy

# %% [markdown]
# ## 6. On the GPU (runs only where `tge.cuda.is_available()`)
#
# The same small network trained one step on the CPU and on the GPU, with our CUDA kernels doing its matmuls,
# must give the same loss and gradients (to float32 round-off); then our SGEMM is timed against cuBLAS
# (`cupy.matmul`) and the CPU. GPU launches are asynchronous, so every timing waits with `tge.cuda.synchronize()`.

# %%
if HAVE_GPU:
    import cupy as cp

    print("GPU:", tge.cuda.get_device_name())
    xb, yb = tge.randn(256, 64), tge.tensor(rng.integers(0, 10, size=256))

    def make_net():
        tge.manual_seed(0)
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    net_cpu = make_net()
    loss_cpu = F.cross_entropy(net_cpu(xb), yb)
    loss_cpu.backward()
    with kernels.use("cupy"):
        net_gpu = make_net().to("cuda")
        loss_gpu = F.cross_entropy(net_gpu(xb.to("cuda")), yb.to("cuda"))
        loss_gpu.backward()
    print(f"loss on the CPU {loss_cpu.item():.6f}, on the GPU {loss_gpu.item():.6f}")
    assert net_gpu[0].weight.device == "cuda"
    assert abs(loss_cpu.item() - loss_gpu.item()) < 1e-4
    assert np.allclose(net_gpu[0].weight.grad.numpy(), net_cpu[0].weight.grad.numpy(), atol=1e-4)

    def gpu_seconds(fn, runs=5):
        fn()  # warm-up (the first call of ours compiles sgemm.cu)
        best = math.inf
        for _ in range(runs):
            tge.cuda.synchronize()
            start = time.perf_counter()
            fn()
            tge.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
        return best

    n = 4096
    ag = cp.asarray(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    bg = cp.asarray(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    ours, cublas = cupy_cuda.matmul(ag, bg), cp.matmul(ag, bg)
    rel = float(cp.abs(ours - cublas).max() / cp.abs(cublas).max())
    assert rel < 1e-4, rel
    t_ours, t_cublas = gpu_seconds(lambda: cupy_cuda.matmul(ag, bg)), gpu_seconds(lambda: cp.matmul(ag, bg))
    flop = 2 * n**3
    print(
        f"{n}×{n} fp32: ours {flop / t_ours / 1e12:.1f} TFLOP/s, cuBLAS {flop / t_cublas / 1e12:.1f} TFLOP/s "
        f"({t_cublas / t_ours:.0%} of cuBLAS's speed); CPU here {cpu_gflops / 1e3:.3f} TFLOP/s "
        f"→ the GPU kernel is {flop / t_ours / 1e9 / cpu_gflops:.0f}× the CPU"
    )
    assert flop / t_ours / 1e9 > cpu_gflops  # the GPU beats this CPU
else:
    print("skipped: no GPU (section 6 needs CuPy and an NVIDIA GPU)")

# %% [markdown]
# ## Exercises
#
# 1. **Smaller tiles.** The float64 kernel uses $64\times64$ block tiles with $4\times4$ per thread. Run
#    `tiled_matmul` with `BM=BN=64, TM=TN=4`, check it against `@`, and compare its FMAs per global load and per
#    shared-memory read with the float32 configuration. What intensity $I$ does it reach in float64 (8 bytes)?
# 2. **What fits on a multiprocessor.** With double buffering each block keeps two copies of its $A$ and $B$
#    tiles in shared memory. Compute the bytes per block for the float32 kernel ($B_K = 8$) and for two blocks per
#    SM, and count one thread's registers for numbers: accumulators, the column of $A$ and row of $B$, and the
#    prefetched tile (each thread moves $128\cdot 8/256 = 4$ numbers of each operand).
# 3. **A transposed operand for free.** The backward pass of `Linear` multiplies by $W^\top$. The kernel does not
#    copy it: its loader reads element $(k, n)$ of $B$ from `B[n * ld + k]` instead of `B[k * ld + n]`. Write that
#    loader into a copy of the shared-memory fill of `tiled_matmul` (taking $B^\top$'s storage) and check the result.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. 64×64 tiles, 4×4 per thread (still 256 threads): half the reuse of global loads, and of shared reads.
counts64 = {}
C64 = tiled_matmul(A, B, BM=64, BN=64, TM=4, TN=4, counts=counts64)
assert np.allclose(C64, exact, atol=1e-4)
per_load, per_read = counts64["fma"] / counts64["global_loads"], counts64["fma"] / counts64["shared_reads"]
i_f64 = 2 * per_load / 8  # FLOP per byte with 8-byte doubles
print(
    f"64×64 tiles: {per_load:.0f} FMAs per global load (128×128: 64), {per_read:.0f} per shared read (was 4); "
    f"I = {i_f64} FLOP/byte in float64"
)
assert per_load == 32 and per_read == 2 and i_f64 == 8.0

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Shared memory and registers of the float32 kernel.
BM = BN = 128
BK, TM, TN, THREADS, FLOAT = 8, 8, 8, 256, 4
tile_pair = (BK * BM + BK * BN) * FLOAT  # one A tile and one B tile
per_block = 2 * tile_pair  # double buffering
prefetched = 2 * (BM * BK // THREADS)  # the next tile of A and of B, in flight in registers
registers = TM * TN + (TM + TN) + prefetched
print(
    f"a tile pair {tile_pair // 1024} KB, a block {per_block // 1024} KB, "
    f"two blocks per SM {2 * per_block // 1024} KB; "
    f"{registers} registers of numbers per thread (of the 128 that __launch_bounds__(256, 2) allows)"
)
assert tile_pair == 8 * 1024 and 2 * per_block == 32 * 1024  # sgemm.cu: "a tile pair at 8 KB ... only 32 KB"
assert registers == 88 < 128

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Reading B from its transpose's storage: element (k, n) of B is Bt_flat[n * ld + k], ld = K.
Bt = np.ascontiguousarray(B.T)  # what the backward pass has: Wᵀ's storage, N×K
Bt_flat, ld = Bt.reshape(-1), Bt.shape[1]
C_t = np.zeros((M, N), dtype=np.float32)
for k0 in range(0, K, 8):
    ks = np.arange(k0, min(k0 + 8, K))
    Bs = Bt_flat[np.arange(N)[None, :] * ld + ks[:, None]]  # Bs[k][n] = B[k0 + k, n], read as the kernel's loader does
    C_t += A[:, ks] @ Bs
assert np.allclose(C_t, A @ B, atol=1e-4)
print("B read through its transpose's storage: same product, max difference", float(np.abs(C_t - A @ B).max()))
