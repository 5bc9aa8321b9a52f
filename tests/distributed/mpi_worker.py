"""What each rank runs in the distributed tests: ``mpiexec -n 2 python mpi_worker.py SCENARIO OUT``.

Scenarios write their results (rank 0 only, unless said) to OUT as an .npz, so the test can compare them with
a one-process run of the same scenario (``python mpi_worker.py SCENARIO OUT`` without mpiexec: a group of one).
"""

from __future__ import annotations

import sys
import time

import numpy as np

import tinygrad_edu as tge
import tinygrad_edu.distributed as dist
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim

STEPS, BATCH = 20, 64


def data(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS * BATCH, 12)).astype(dtype)
    y = rng.integers(0, 3, size=STEPS * BATCH)
    return x, y


def train(optimizer: str, dtype: str, rank: int, world: int) -> dict[str, np.ndarray]:
    """20 steps on batches of 64, each rank on its 64/world rows; returns the final weights."""
    tge.manual_seed(1)
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3))
    if dtype == "float64":
        model = model.double()
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0005)  # small buckets: several messages
    opt = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd" else optim.Adam(ddp.parameters())
    x, y = data(dtype)
    shard = BATCH // world
    for step in range(STEPS):
        rows = slice(step * BATCH + rank * shard, step * BATCH + (rank + 1) * shard)
        loss = F.cross_entropy(ddp(tge.tensor(x[rows])), tge.tensor(y[rows]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    weights = {name: p.detach().numpy() for name, p in model.state_dict().items()}
    return weights | {"buckets": np.array(ddp.bucket_sizes)}


def accumulate(rank: int, world: int) -> dict[str, np.ndarray]:
    """Two micro-batches, the first under no_sync: the averaged gradient of both equals the full batch's."""
    tge.manual_seed(2)
    model = nn.Linear(12, 3)
    ddp = nn.parallel.DistributedDataParallel(model)
    x, y = data("float32")
    shard = BATCH // world
    half = shard // 2
    mine = slice(rank * shard, (rank + 1) * shard)
    xs, ys = x[mine], y[mine]
    with ddp.no_sync():
        (F.cross_entropy(ddp(tge.tensor(xs[:half])), tge.tensor(ys[:half])) / 2).backward()
    local_after_no_sync = model.weight.grad.numpy().copy()
    (F.cross_entropy(ddp(tge.tensor(xs[half:])), tge.tensor(ys[half:])) / 2).backward()
    return {"grad": model.weight.grad.numpy(), "local": local_after_no_sync}


def buffers(rank: int, world: int) -> dict[str, np.ndarray]:
    """BatchNorm running statistics: rank 0's are broadcast before every training forward, then updated locally."""
    tge.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    ddp = nn.parallel.DistributedDataParallel(model)
    x = tge.tensor(np.random.default_rng(rank).normal(size=(8, 4)).astype("float32") * (rank + 1))
    ddp(x)  # each rank updates its running mean from its own shard
    gathered = [tge.zeros(4) for _ in range(world)]
    dist.all_gather(gathered, tge.tensor(model[1].running_mean.numpy().copy()))
    ddp(x)  # starts from rank 0's running mean, whatever this rank had
    with tge.no_grad():
        batch_mean = model[0](x).mean(dim=0).numpy()
    return {
        "after_first": np.stack([g.numpy() for g in gathered]),
        "after_second": model[1].running_mean.numpy(),
        "batch_mean": batch_mean,
    }


def collectives(rank: int, world: int) -> dict[str, np.ndarray]:
    """all_reduce (each op), broadcast, all_gather, reduce_scatter, send/recv, barrier on small known values."""
    out = {}
    for op in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        t = tge.tensor([rank + 1.0, -(rank + 1.0)])
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[op] = t.numpy()
    t = tge.tensor([float(rank)] * 3)
    dist.broadcast(t, src=world - 1)
    out["broadcast"] = t.numpy()
    gathered = [tge.zeros(2) for _ in range(world)]
    dist.all_gather(gathered, tge.tensor([rank, 10.0 * rank]))
    out["all_gather"] = np.stack([g.numpy() for g in gathered])
    y = tge.zeros(2)
    dist.reduce_scatter(y, [tge.tensor([10.0 * r + rank, 1.0]) for r in range(world)])
    out["reduce_scatter"] = y.numpy()
    work = dist.all_reduce(tge.ones(3), async_op=True)
    out["async_done"] = np.array(work.wait())
    if world > 1:
        if rank == 0:
            dist.send(tge.tensor([3.0, 4.0]), dst=1)
        elif rank == 1:
            z = tge.zeros(2)
            out["sender"] = np.array(dist.recv(z, src=0))
            out["recv"] = z.numpy()
    dist.barrier()
    return out


def fail(rank: int, world: int) -> dict[str, np.ndarray]:
    """Rank 1 raises while rank 0 waits in an all_reduce: both must stop, with rank 1's message."""
    if rank == 1:
        raise ValueError("boom on rank 1")
    dist.all_reduce(tge.ones(2))
    return {}


def hang(rank: int, world: int) -> dict[str, np.ndarray]:
    """Rank 1 never comes to the collective: rank 0 times out instead of hanging forever."""
    if rank == 1:
        time.sleep(60)
    dist.all_reduce(tge.ones(2))
    return {}


SCENARIOS = {
    "sgd32": lambda r, w: train("sgd", "float32", r, w),
    "adam32": lambda r, w: train("adam", "float32", r, w),
    "sgd64": lambda r, w: train("sgd", "float64", r, w),
    "adam64": lambda r, w: train("adam", "float64", r, w),
    "accumulate": accumulate,
    "buffers": buffers,
    "collectives": collectives,
    "fail": fail,
    "hang": hang,
}


def main() -> None:
    names, out = sys.argv[1].split(","), sys.argv[2]
    under_mpiexec = dist.process_group._started_by_launcher()
    dist.init_process_group("mpi", **({} if under_mpiexec else {"world_size": 1, "rank": 0}))
    rank, world = dist.get_rank(), dist.get_world_size()
    results = {}
    for name in names:
        for key, value in SCENARIOS[name](rank, world).items():
            results[f"{name}/{key}"] = value
    np.savez(f"{out}.rank{rank}.npz", **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
