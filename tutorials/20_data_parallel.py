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
# # 20 · Data parallelism: one model, several processes
#
# **You will be able to:** say why averaging the gradients of p shards gives the gradient of the whole batch;
# write an all-reduce by hand (naive, then ring) with `mpi4py`; train with `nn.parallel.DistributedDataParallel`
# and check it against one process; predict what more processes would buy with the α–β cost model; and see, in a
# two-rank pipeline, what *model* parallelism moves and why it idles.
#
# **Run time:** about 5 s of CPU time, both MPI ranks counted (`TGE_FAST=1`: about 5 s). The parallel parts need MPI
# (`pip install -e ".[dist]"`, which brings `mpi4py` and MPICH's `mpiexec`). A notebook is one process, so each parallel
# part writes a small program, starts it with `mpiexec -n 2` from a cell and reads its results back. Without MPI the
# lesson runs its one-process parts and says what it skipped.

# %%
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.course import FAST, out_dir, show
from tinygrad_edu.datasets import load_digits
from tinygrad_edu.distributed import cost_model
from tinygrad_edu.nn.parallel import distributed as ddp_source

OUT = out_dir()  # tutorials/out/ (git-ignored): figures, and the small MPI programs below
MPIEXEC = str(Path(sys.executable).with_name("mpiexec")) if Path(sys.executable).with_name("mpiexec").exists() \
    else shutil.which("mpiexec")  # fmt: skip
try:
    import mpi4py  # noqa: F401

    HAVE_MPI = MPIEXEC is not None
except ImportError:
    HAVE_MPI = False
print("MPI available:", HAVE_MPI)


def mpirun(program: str, processes: int = 2) -> dict:
    """Write `program` to out/, run it under mpiexec, return the JSON that its rank 0 printed last."""
    path = OUT / f"mpi_program_{os.getpid()}.py"  # one per process: two runs of this lesson may share out/
    path.write_text(textwrap.dedent(program))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run([MPIEXEC, "-n", str(processes), sys.executable, str(path)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=OUT)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"mpiexec failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# %% [markdown]
# ## 1. The gradient of a mean is the mean of the shard gradients
#
# A mini-batch of $B$ samples has the mean loss $L = \frac{1}{B}\sum_{i=1}^{B} \ell_i$. Cut it into $p$ shards of
# $B/p$ samples and let rank $r$ compute its shard's mean loss $L_r = \frac{p}{B}\sum_{i \in S_r} \ell_i$. Then
#
# $$L = \frac{1}{p}\sum_{r=0}^{p-1} L_r \qquad\Longrightarrow\qquad
#   \frac{\partial L}{\partial w} = \frac{1}{p}\sum_{r=0}^{p-1} \frac{\partial L_r}{\partial w},$$
#
# because differentiation is linear. So if every rank backpropagates its own shard and then the $p$ gradients
# are *averaged*, every rank holds the gradient of the whole batch, takes the same optimizer step, and the
# copies of the model stay equal. We check it in one process first, in float64: a batch of 64 digits, the
# gradient of its mean loss against the average of the two halves' gradients.

# %%
digits = load_digits()
X = (digits.data[:64] - digits.data.mean()) / digits.data.std()
Y = digits.targets[:64]
tge.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).double()


def gradients(rows: slice) -> list[np.ndarray]:
    """dL/dw for every weight, L the mean cross-entropy of the chosen rows."""
    model.zero_grad()
    F.cross_entropy(model(tge.tensor(X[rows], dtype=np.float64)), tge.tensor(Y[rows])).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


full = gradients(slice(0, 64))
halves = [gradients(slice(0, 32)), gradients(slice(32, 64))]
averaged = [(a + b) / 2 for a, b in zip(*halves)]
gap = max(np.abs(f - a).max() for f, a in zip(full, averaged))
print(f"largest difference, full-batch gradient vs average of the two shard gradients: {gap:.1e}")
assert gap < 1e-12

# %% [markdown]
# ## 2. All-reduce by hand
#
# The operation that averages is an **all-reduce**: every rank contributes an array $x_r$ and every rank ends
# with $\sum_r x_r$. Two ways to do it with `mpi4py`, for $n$ bytes on $p$ ranks:
#
# * **naive**: everybody sends to rank 0, rank 0 adds, then sends the sum to everybody. Rank 0 receives and
#   sends $(p-1)\,n$ bytes: its link is the bottleneck, and it grows with $p$.
# * **ring**: cut the array into $p$ pieces. In $p-1$ steps each rank passes one piece to its right neighbour,
#   which adds it to its own (*reduce-scatter*: afterwards rank $r$ holds the full sum of piece $r+1$); in $p-1$
#   more steps the finished pieces travel round the ring (*all-gather*). Each rank sends
#   $2\,\frac{p-1}{p}\,n$ bytes — less than $2n$, however many ranks there are.
#
# With latency $\alpha$ per message and $\beta$ seconds per byte:
# $t_\text{ring} \approx 2(p-1)\,\alpha + 2\,\frac{p-1}{p}\,n\,\beta$.

# %%
ALLREDUCE_BY_HAND = """
import json
import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, p = comm.Get_rank(), comm.Get_size()
x = np.arange(12, dtype=np.float64) * (rank + 1)          # this rank's gradient, say
sent = {"naive": 0, "ring": 0}

# naive: gather at rank 0, add, broadcast
if rank == 0:
    total = x.copy()
    for r in range(1, p):
        part = np.empty_like(x); comm.Recv(part, source=r); total += part
    for r in range(1, p):
        comm.Send(total, dest=r); sent["naive"] += total.nbytes
else:
    comm.Send(x, dest=0); sent["naive"] += x.nbytes
    total = np.empty_like(x); comm.Recv(total, source=0)
naive = total

# ring: reduce-scatter, then all-gather, each p - 1 steps to the right neighbour
pieces = [piece.copy() for piece in np.array_split(x, p)]
right, left = (rank + 1) % p, (rank - 1) % p
for step in range(p - 1):                                  # reduce-scatter
    send_i, recv_i = (rank - step) % p, (rank - step - 1) % p
    incoming = np.empty_like(pieces[recv_i])
    comm.Sendrecv(pieces[send_i], dest=right, recvbuf=incoming, source=left); sent["ring"] += pieces[send_i].nbytes
    pieces[recv_i] += incoming
for step in range(p - 1):                                  # all-gather: pass the finished pieces on
    send_i, recv_i = (rank + 1 - step) % p, (rank - step) % p
    incoming = np.empty_like(pieces[recv_i])
    comm.Sendrecv(pieces[send_i], dest=right, recvbuf=incoming, source=left); sent["ring"] += pieces[send_i].nbytes
    pieces[recv_i] = incoming
ring = np.concatenate(pieces)

everyone = comm.gather({"naive": naive.tolist(), "ring": ring.tolist(), "sent": sent}, root=0)
if rank == 0:
    print(json.dumps({"p": p, "ranks": everyone, "nbytes": x.nbytes}))
"""

if HAVE_MPI:
    by_hand = mpirun(ALLREDUCE_BY_HAND, processes=2)
    p, nbytes = by_hand["p"], by_hand["nbytes"]
    expected = np.arange(12) * sum(r + 1 for r in range(p))
    for r, result in enumerate(by_hand["ranks"]):
        assert np.allclose(result["naive"], expected) and np.allclose(result["ring"], expected)
        print(f"rank {r}: naive sent {result['sent']['naive']:>3} B, ring sent {result['sent']['ring']:>3} B")
    assert by_hand["ranks"][1]["sent"]["ring"] == cost_model.ring_allreduce_bytes_sent(p, nbytes)
else:
    print("skipped: the hand-written all-reduce needs mpi4py and mpiexec (pip install -e '.[dist]')")

# %% [markdown]
# Both give every rank the sum. With $p = 2$ the ring sends $2 \cdot \frac{1}{2} \cdot 96 = 96$ bytes per rank, the
# naive scheme 96 too; at $p = 8$ rank 0 of the naive scheme would send $7 \times 96$ while each ring rank still
# sends $2 \cdot \frac{7}{8} \cdot 96 = 168$. MPI's own `Allreduce` picks such algorithms for us.
#
# ## 3. DistributedDataParallel
#
# `nn.parallel.DistributedDataParallel` does section 1 for any model: it broadcasts rank 0's weights at
# construction, and a hook on every parameter notes when its gradient has arrived; once a *bucket* of gradients
# (about 25 MB, so a model's gradients travel in a few messages) is complete, they are flattened into one array
# and all-reduced while backward goes on. At the end of backward every `.grad` becomes the sum divided by $p$:

# %%
print(inspect.getsource(ddp_source._Bucket.finish))

# %% [markdown]
# The check that matters: two processes on batches of 32 must take the same steps as one process on batches
# of 64. The program below trains the digits MLP for 20 Adam steps with DDP; this notebook trains the same
# model on the full batches in one process, and we compare the weights.

# %%
STEPS = 10 if FAST else 20
DDP_PROGRAM = f"""
import json, time
import numpy as np
import tinygrad_edu as tge
import tinygrad_edu.distributed as dist
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.datasets import load_digits

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
digits = load_digits()
X = ((digits.data - digits.data.mean()) / digits.data.std()).astype(np.float32)
tge.manual_seed(0)
model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)))
opt = optim.Adam(model.parameters(), lr=1e-2)
shard = 64 // world
start = time.perf_counter()
for step in range({STEPS}):
    rows = slice(step * 64 + rank * shard, step * 64 + (rank + 1) * shard)
    loss = F.cross_entropy(model(tge.tensor(X[rows])), tge.tensor(digits.targets[rows]))
    opt.zero_grad(); loss.backward(); opt.step()
seconds = time.perf_counter() - start
weights = [p.detach().numpy().tolist() for p in model.module.parameters()]
if rank == 0:
    print(json.dumps({{"weights": weights, "seconds": seconds, "comm": model.comm_seconds}}))
"""


def one_process_reference() -> list[np.ndarray]:
    from tinygrad_edu import optim

    x_all = ((digits.data - digits.data.mean()) / digits.data.std()).astype(np.float32)
    tge.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(net.parameters(), lr=1e-2)
    for step in range(STEPS):
        rows = slice(step * 64, (step + 1) * 64)
        loss = F.cross_entropy(net(tge.tensor(x_all[rows])), tge.tensor(digits.targets[rows]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in net.parameters()]


reference = one_process_reference()
if HAVE_MPI:
    two = mpirun(DDP_PROGRAM, processes=2)
    gap = max(np.abs(np.array(w) - r).max() for w, r in zip(two["weights"], reference))
    print(f"after {STEPS} Adam steps: largest weight difference, 2 processes × 32 vs 1 process × 64: {gap:.1e}")
    print(f"rank 0 spent {two['comm'] * 1e3:.1f} ms of {two['seconds'] * 1e3:.0f} ms in the gradient all-reduce")
    assert gap < 1e-6
else:
    print("skipped: training with DistributedDataParallel needs mpiexec")

# %% [markdown]
# The weights agree to float32 rounding (the sums are added in a different order, nothing more).
#
# ## 4. What more processes would buy
#
# Data parallelism splits the *compute* of a step by $p$ but adds the all-reduce of every gradient. We measure
# $\alpha$ and $\beta$ here by timing one-way messages of several sizes between two processes (half a ping-pong)
# and fitting $t = \alpha + n\beta$ (`cost_model.fit_alpha_beta`; it minimises the *relative* error
# $\sum_i \big((\alpha + n_i\beta - t_i)/t_i\big)^2$, since the times span three decades and a plain least-squares line
# would follow the largest message only), then predict a step of the seed MLP (2,022,040 gradient bytes):
#
# $$t_\text{step}(p) = \frac{t_\text{compute}(1)}{p} + 2(p-1)\,\alpha + 2\,\frac{p-1}{p}\,n\,\beta .$$

# %%
PING_PONG = """
import json, time
import numpy as np
import tinygrad_edu as tge
import tinygrad_edu.distributed as dist

dist.init_process_group("mpi")
rank = dist.get_rank()
found = []
for nbytes in [8, 1024, 65536, 1048576, 4194304]:
    x = tge.zeros(nbytes // 4)
    best = 1e9
    for _ in range(10):
        dist.barrier()
        start = time.perf_counter()
        if rank == 0:
            dist.send(x, dst=1); dist.recv(x, src=1)
        else:
            dist.recv(x, src=0); dist.send(x, dst=0)
        best = min(best, (time.perf_counter() - start) / 2)
    found.append([nbytes, best])
if rank == 0:
    print(json.dumps(found))
"""
if HAVE_MPI:
    sizes, seconds = zip(*mpirun(PING_PONG))
else:  # typical figures of two processes on one machine, so that the rest of the lesson still runs
    print("skipped: measuring α and β needs mpiexec; using α = 2 µs, β = 0.1 ns/B (shared memory)")
    sizes, seconds = (8, 1048576), (2e-6, 2e-6 + 1048576 * 1e-10)
alpha, beta = cost_model.fit_alpha_beta(sizes, seconds)
bandwidth = f"{1e-9 / beta:.1f} GB/s" if beta > 0 else "no per-byte cost found: timings too noisy on a busy machine"
print(f"alpha = {alpha * 1e6:.1f} µs, beta = {beta * 1e9:.3f} ns/byte ({bandwidth})")

# %% [markdown]
# Now the measurement to set against it: one step of the seed MLP (1000-500-10, Adam, global batch 128) through
# DDP, on one process and on two (each on one thread, 64 samples each), with the time inside the gradient
# all-reduce (`DistributedDataParallel.comm_seconds`) split from the rest. The median of the steps after two
# warm-up ones:

# %%
SEED_STEP = f"""
import json, time
import numpy as np
import tinygrad_edu as tge
import tinygrad_edu.distributed as dist
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.models import MLP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
tge.manual_seed(0)
model = nn.parallel.DistributedDataParallel(MLP(1000, (500,), 10))
opt = optim.Adam(model.parameters())
x, y = tge.randn(128 // world, 1000), tge.tensor(np.arange(128 // world) % 10)
steps, comm = [], []
for _ in range({8 if FAST else 20}):
    dist.barrier()
    before, start = model.comm_seconds, time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    steps.append(time.perf_counter() - start); comm.append(model.comm_seconds - before)
if rank == 0:
    print(json.dumps({{"step": float(np.median(steps[2:])), "comm": float(np.median(comm[2:]))}}))
"""
import time  # noqa: E402

from tinygrad_edu import optim  # noqa: E402
from tinygrad_edu.models import MLP  # noqa: E402

mlp = MLP(1000, (500,), 10)
grad_bytes = sum(p.array.nbytes for p in mlp.parameters())
assert grad_bytes == 2_022_040
if HAVE_MPI:
    measured = {p: mpirun(SEED_STEP, processes=p) for p in (1, 2)}
else:  # the compute of one step in this process, without DDP, so that the model below still has its input
    adam = optim.Adam(mlp.parameters())
    xb, yb = tge.randn(128, 1000), tge.tensor(np.arange(128) % 10)
    times = []
    for _ in range(5 if FAST else 15):
        start = time.perf_counter()
        loss = F.cross_entropy(mlp(xb), yb)
        adam.zero_grad()
        loss.backward()
        adam.step()
        times.append(time.perf_counter() - start)
    measured = {1: {"step": float(np.median(times)), "comm": 0.0}}
for p, m in measured.items():
    print(f"measured, p = {p}: step {m['step'] * 1e3:6.2f} ms, of which all-reduce {m['comm'] * 1e3:5.2f} ms")
compute_1 = measured[1]["step"] - measured[1]["comm"]

processes = np.array([1, 2, 4, 8, 16, 32, 64])
compute = compute_1 / processes
comm = np.array([cost_model.ring_allreduce_seconds(int(p), grad_bytes, alpha, beta) for p in processes])
for p, c, m in zip(processes, compute, comm):
    print(f"model,    p = {p:>2}: compute {c * 1e3:6.2f} ms + all-reduce {m * 1e3:5.2f} ms = {(c + m) * 1e3:6.2f} ms")

fig = Figure(figsize=(9, 4.3), layout="constrained")
ax_measured, ax_model = fig.subplots(1, 2, width_ratios=[1, 3], sharey=True)
for ax, ps, comp, allreduce, title in [
    (ax_measured, list(measured), [m["step"] - m["comm"] for m in measured.values()],
     [m["comm"] for m in measured.values()], "measured here"),
    (ax_model, list(processes), compute, comm, "α–β model (α, β measured above)"),
]:  # fmt: skip
    comp, allreduce = np.array(comp) * 1e3, np.array(allreduce) * 1e3
    ax.bar(range(len(ps)), comp, color="tab:blue", label="compute")
    ax.bar(range(len(ps)), allreduce, bottom=comp, color="tab:orange", label="gradient all-reduce")
    ax.set_xticks(range(len(ps)), [str(p) for p in ps])
    ax.set_xlabel("processes p")
    ax.set_ylabel("ms per step")
    ax.set_title(title)
ax_model.legend()
fig.suptitle("Seed MLP step (global batch 128): compute shrinks as 1/p, communication does not")
show(fig, "20_time_per_step.png")

# %% [markdown]
# Compute falls as $1/p$ but the all-reduce does not fall at all — its bandwidth term even grows towards
# $2n\beta$ — so past a few processes a step is all communication. The measured bars are rarely as good as the
# model's at $p = 2$: the model assumes both ranks arrive at the all-reduce together, while the measured
# all-reduce time includes waiting for the slower rank (and on a busy machine one of them is often descheduled),
# and it assumes compute halves, which it does only if each process has a core to itself. This is why large-batch
# training on many machines needs fast networks, buckets that overlap communication with backward, and larger
# batches per rank.
# (`benchmarks/distributed_bench.py` measures whole epochs of the seed MLP and LeNet on 1 and 2 processes.)
#
# ## 5. Model parallelism: a two-rank pipeline
#
# When a model does not fit one machine, split its *layers* instead: rank 0 holds the first layer, rank 1 the
# second and the loss. What travels is activations forward and their gradients backward:
#
# $$\text{rank 0: } h = \mathrm{relu}(xW_1^\top + b_1) \;\xrightarrow{\;h\;}\; \text{rank 1: } L(hW_2^\top + b_2)
#   \;\xrightarrow{\;\partial L/\partial h\;}\; \text{rank 0: backward from } h .$$
#
# Rank 1 receives $h$ as a leaf that requires grad, so its backward stops at $h$ and leaves $\partial L/\partial h$
# in `h.grad`; rank 0 resumes with `h.backward(dh)`. With one micro-batch at a time each rank waits while the
# other works: with $p$ stages and $m$ micro-batches the idle fraction (the "bubble") is $\frac{p-1}{m+p-1}$.

# %%
PIPELINE = """
import json, time
import numpy as np
import tinygrad_edu as tge
import tinygrad_edu.distributed as dist
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn

dist.init_process_group("mpi")
rank = dist.get_rank()
tge.manual_seed(0)
layer1, layer2 = nn.Linear(64, 128), nn.Linear(128, 10)      # both ranks build both: the same initial weights
rng = np.random.default_rng(0)
x, y = tge.tensor(rng.normal(size=(32, 64)).astype(np.float32)), tge.tensor(rng.integers(0, 10, 32))
waiting = working = 0.0
for step in range(3):
    t0 = time.perf_counter()
    if rank == 0:
        h = layer1(x).relu()
        dist.send(h.detach(), dst=1)
        t1 = time.perf_counter()
        dh = tge.zeros(32, 128)
        dist.recv(dh, src=1)                                  # idle: rank 1 is busy
        t2 = time.perf_counter()
        h.backward(dh)
        waiting += t2 - t1; working += (t1 - t0) + (time.perf_counter() - t2)
    else:
        h = tge.zeros(32, 128)
        dist.recv(h, src=0)                                   # idle: rank 0 is busy
        t1 = time.perf_counter()
        h.requires_grad = True
        loss = F.cross_entropy(layer2(h), y)
        loss.backward()
        dist.send(h.grad, dst=0)
        waiting += t1 - t0; working += time.perf_counter() - t1
grads = [p.grad.numpy().tolist() for p in (layer1 if rank == 0 else layer2).parameters()]
gathered = [tge.zeros(2), tge.zeros(2)]
dist.all_gather(gathered, tge.tensor([waiting, working]))
if rank == 0:
    print(json.dumps({"grads": grads, "times": [g.tolist() for g in gathered]}))
"""

if HAVE_MPI:
    pipe = mpirun(PIPELINE)
    tge.manual_seed(0)
    layer1, layer2 = nn.Linear(64, 128), nn.Linear(128, 10)
    rng = np.random.default_rng(0)
    x, y = tge.tensor(rng.normal(size=(32, 64)).astype(np.float32)), tge.tensor(rng.integers(0, 10, 32))
    for _ in range(3):
        F.cross_entropy(layer2(layer1(x).relu()), y).backward()
    gap = max(np.abs(np.array(g) - p.grad.numpy()).max() for g, p in zip(pipe["grads"], layer1.parameters()))
    print(f"rank 0's first-layer gradients vs one process: largest difference {gap:.1e}")
    assert gap < 1e-5
    for r, (waiting, working) in enumerate(pipe["times"]):
        print(f"rank {r}: {waiting * 1e3:.2f} ms waiting, {working * 1e3:.2f} ms working")
else:
    print("skipped: the pipeline needs mpiexec")

# %% [markdown]
# The gradients are those of the unsplit model, and each rank spent a good part of its time waiting for the
# other: with one micro-batch the bubble is $\frac{2-1}{1+2-1} = \frac12$ of a step. Pipelines (GPipe, 1F1B)
# feed many micro-batches in a row so that the stages overlap.
#
# ## Exercises
#
# **1.** How many bytes does each rank send per step in a ring all-reduce of the seed MLP's gradients
# (2,022,040 bytes) on 8 processes? On 64?
#
# **2.** Two ranks get shards of 40 and 24 samples (the last, short batch of an epoch). Show that the plain
# average of the two shard-mean gradients is *not* the full-batch gradient, and find the weights that make it so.
#
# **3.** A pipeline of $p = 4$ stages: what fraction of the time does it idle with $m = 1$ and $m = 16$
# micro-batches?
#
# **4.** From the measured steps of section 4: what fraction of the two-process step was the all-reduce, what does
# the α–β model predict for that all-reduce, and what speed-up did two processes give over one?

# %% tags=["solution"] jupyter={"source_hidden": true}
# Answer 1: 2(p − 1)/p · n bytes per rank.
for p in (8, 64):
    print(f"p = {p}: {cost_model.ring_allreduce_bytes_sent(p, 2_022_040):,.0f} bytes per rank per step")
assert cost_model.ring_allreduce_bytes_sent(8, 2_022_040) == 2 * 7 / 8 * 2_022_040

# %% tags=["solution"] jupyter={"source_hidden": true}
# Answer 2: L = (40·L_a + 24·L_b)/64, so the shard gradients must be weighted by their sizes, not by 1/2.
full = gradients(slice(0, 64))
a, b = gradients(slice(0, 40)), gradients(slice(40, 64))
plain = max(np.abs(f - (ga + gb) / 2).max() for f, ga, gb in zip(full, a, b))
weighted = max(np.abs(f - (40 * ga + 24 * gb) / 64).max() for f, ga, gb in zip(full, a, b))
print(f"plain average off by {plain:.1e}; size-weighted average off by {weighted:.1e}")
assert plain > 1e-4 and weighted < 1e-12

# %% tags=["solution"] jupyter={"source_hidden": true}
# Answer 3: the bubble is (p − 1)/(m + p − 1).
for m in (1, 16):
    print(f"p = 4, m = {m}: idle {(4 - 1) / (m + 4 - 1):.0%}")
assert (4 - 1) / (1 + 4 - 1) == 0.75 and abs((4 - 1) / (16 + 4 - 1) - 3 / 19) < 1e-15

# %% tags=["solution"] jupyter={"source_hidden": true}
# Answer 4: the measured split, next to the model's all-reduce 2(p − 1)·α + 2(p − 1)/p · n·β at p = 2.
predicted = cost_model.ring_allreduce_seconds(2, grad_bytes, alpha, beta)
assert predicted == 2 * alpha + grad_bytes * beta
if 2 in measured:
    step_2, comm_2 = measured[2]["step"], measured[2]["comm"]
    print(f"all-reduce: {comm_2 / step_2:.0%} of the 2-process step ({comm_2 * 1e3:.2f} ms; the model: "
          f"{predicted * 1e3:.2f} ms, without waiting for the slower rank)")  # fmt: skip
    print(f"speed-up of 2 processes over 1: {measured[1]['step'] / step_2:.2f}× (the model: "
          f"{(compute_1 + measured[1]['comm']) / (compute_1 / 2 + predicted):.2f}×)")  # fmt: skip
    assert 0 <= comm_2 < step_2
else:
    print(f"the model's all-reduce at p = 2: {predicted * 1e3:.2f} ms (the measured part needs mpiexec)")
