"""What each rank runs in the distributed tests: ``mpiexec -n 2 python mpi_worker.py SCENARIO OUT``.

Scenarios write their results (rank 0 only, unless said) to OUT as an .npz, so the test can compare them with
a one-process run of the same scenario (``python mpi_worker.py SCENARIO OUT`` without mpiexec: a group of one).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

import tinygrad_edu as tge
import tinygrad_edu.distributed as dist
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim

STEPS, BATCH = 20, 64
INIT: dict[str, Any] = {}  # init_process_group's arguments: none under mpiexec, a group of one without it


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


def construct(rank: int, world: int) -> dict[str, np.ndarray]:
    """Each rank initialises its own weights and buffers; DDP's construction leaves every rank rank 0's."""
    tge.manual_seed(10 + rank)  # a different initialisation on every rank
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))
    model[1].running_mean.array[...] = rank + 1.0
    mine = np.concatenate([model[0].weight.numpy().ravel(), model[1].running_mean.numpy()])
    nn.parallel.DistributedDataParallel(model)
    after = np.concatenate([model[0].weight.numpy().ravel(), model[1].running_mean.numpy()])
    before_all = [tge.zeros(mine.size) for _ in range(world)]
    dist.all_gather(before_all, tge.tensor(mine))
    after_all = [tge.zeros(after.size) for _ in range(world)]
    dist.all_gather(after_all, tge.tensor(after))
    return {"before": np.stack([t.numpy() for t in before_all]), "after": np.stack([t.numpy() for t in after_all])}


def _message(call: Any) -> np.ndarray:
    """The exception ``call()`` raises, as 'Type: message' (or 'no error')."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the test reads which one
        return np.array(f"{type(error).__name__}: {error}")
    return np.array("no error")


class OneHeadUsed(nn.Module):
    """Two heads, one of them never used by forward: its parameters receive no gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.used, self.unused = nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x: tge.Tensor) -> tge.Tensor:
        return self.used(x)


def api(rank: int, world: int) -> dict[str, np.ndarray]:
    """The group's bookkeeping and refusals: is_initialized, init twice, destroy, the errors naming the fix."""
    out = {"initialized": np.array(dist.is_initialized()), "rank_world": np.array([dist.get_rank(), world])}
    out["twice"] = _message(lambda: dist.init_process_group("mpi"))
    out["bad_src"] = _message(lambda: dist.broadcast(tge.ones(1), src=world))
    out["gather_count"] = _message(lambda: dist.all_gather([tge.zeros(1)] * (world + 1), tge.ones(1)))
    out["device_ids"] = _message(lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0]))
    ddp = nn.parallel.DistributedDataParallel(OneHeadUsed())
    out["unused"] = _message(lambda: ddp(tge.ones(1, 2)).sum().backward())
    ddp = nn.parallel.DistributedDataParallel(OneHeadUsed(), find_unused_parameters=True)
    out["unused_allowed"] = _message(lambda: ddp(tge.ones(1, 2)).sum().backward())
    out["unused_grad"] = ddp.module.unused.weight.grad.numpy()  # the zeros it contributed
    dist.destroy_process_group()
    out["after_destroy"] = np.array(dist.is_initialized())
    out["all_reduce_after"] = _message(lambda: dist.all_reduce(tge.ones(1)))
    out["rank_after"] = _message(dist.get_rank)
    out["ddp_without"] = _message(lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)))
    out["nccl"] = _message(lambda: dist.init_process_group("nccl"))
    out["world_size"] = _message(lambda: dist.init_process_group("mpi", world_size=world + 1))
    dist.init_process_group("mpi", **INIT)  # and again, as at the start
    t = tge.ones(2)
    dist.all_reduce(t)
    out["again"] = t.numpy()
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
    "construct": construct,
    "api": api,
    "fail": fail,
    "hang": hang,
}


def main() -> None:
    names, out = sys.argv[1].split(","), sys.argv[2]
    INIT.update({} if dist.process_group._started_by_launcher() else {"world_size": 1, "rank": 0})
    dist.init_process_group("mpi", **INIT)
    rank, world = dist.get_rank(), dist.get_world_size()
    results = {}
    for name in names:
        for key, value in SCENARIOS[name](rank, world).items():
            results[f"{name}/{key}"] = value
    np.savez(f"{out}.rank{rank}.npz", **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
