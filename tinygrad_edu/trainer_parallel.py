"""Data-parallel epochs for ``mpiexec -n p tinygrad-edu train --distributed``: one Run per process.

Every rank builds the same Run (same seed, so the same initial weights; DistributedDataParallel broadcasts
rank 0's anyway) and walks the *same* order of the epoch, ``default_rng([seed, epoch])`` — the order a
one-process run walks. ``--batch-size b`` is per process, PyTorch's convention: one optimizer step consumes
the next b·p positions of the order, dealt out by a DistributedSampler (rank r takes positions r, r + p, …):

    order  = [o₀ o₁ o₂ o₃ o₄ o₅ o₆ o₇ …]     b = 2, p = 2: step 0 is o₀…o₃, rank 0 gets o₀ o₂, rank 1 gets o₁ o₃

So a run on p processes with batch b takes the steps of a one-process run with batch b·p (the gradients are
averaged by DDP: see nn/parallel/distributed.py). The last step of an epoch may hold fewer than b·p samples;
the sampler pads each rank's share with repeats to equal length, and those repeats get weight 0. Each rank's
loss is the *sum* of its per-sample losses times p / N (N: the real samples of this step), so that DDP's
average (1/p) Σ_r is exactly the mean over the N samples, however unevenly they fall on the ranks.

Progress is global: the checkpoint stores how many samples of the epoch's order are consumed (``seen``), not
per-rank batches, so it resumes on any number of processes from the same point of the epoch (the remaining
positions are dealt out again). The running loss and accuracy sums, and whether to stop (Ctrl-C on any rank),
travel in one small all-reduce per step, so every rank agrees on them; only rank 0 prints and writes.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .data import DataLoader, DistributedSampler, Subset
from .nn import functional as F
from .tensor import Tensor


class DataParallel:
    """A Run's data-parallel side: this rank, the world, the DDP wrapper and the time spent communicating."""

    def __init__(self) -> None:
        from . import distributed

        if not distributed.is_initialized():
            raise RuntimeError("--distributed: call tinygrad_edu.distributed.init_process_group('mpi') first")
        self.dist = distributed
        self.rank, self.world = distributed.get_rank(), distributed.get_world_size()
        self.ddp: Any = None
        self.comm_seconds = 0.0  # gradient all-reduces (DDP) and the per-step metrics all-reduce

    def wrap(self, model: Any) -> Any:
        """The DDP wrapper of ``model`` (made once, after any checkpoint was loaded into the model)."""
        if self.ddp is None:
            from .nn.parallel import DistributedDataParallel

            self.ddp = DistributedDataParallel(model)
        return self.ddp

    def agree(self, values: list[float]) -> np.ndarray:
        """The sum over the ranks of a few numbers (one all-reduce), timed as communication."""
        start = time.perf_counter()
        t = Tensor(np.asarray(values, dtype=np.float64))
        self.dist.all_reduce(t)
        self.comm_seconds += time.perf_counter() - start
        return t.numpy()

    def should_stop(self, local: bool) -> bool:
        """True on every rank when any rank wants to stop (so all stop at the same step)."""
        return bool(self.agree([float(local)])[0] > 0)


def train_epoch_parallel(run: Any, progress: bool = False) -> tuple[float, float]:
    """Run.train_epoch for p processes: the rest of this epoch's order, b·p samples per step, b on each rank."""
    from tqdm.auto import tqdm

    par: DataParallel = run.parallel
    p, r, b = par.world, par.rank, run.config.batch_size
    if run.order is None:
        run.order = run.epoch_order(run.epoch)
    sums = run.sums
    remaining = Subset(run.dataset, run.order[sums["seen"] :])
    n_left = len(remaining)
    sampler = DistributedSampler(remaining, num_replicas=p, rank=r, shuffle=False)  # the order is drawn above
    sampler.set_epoch(run.epoch)
    loader = DataLoader(remaining, batch_size=b, sampler=sampler)
    model = par.wrap(run.model)
    model.train()
    comm_before = (model.comm_seconds, par.comm_seconds)
    batches = tqdm(loader, desc=f"epoch {run.epoch + 1}/{run.config.epochs}", leave=False, unit="batch",
                   disable=not progress or r != 0, initial=run.batch, total=run.batches_per_epoch)  # fmt: skip
    start = time.perf_counter()
    for j, (x, y) in enumerate(batches):
        x, y = x.to(run.device), y.to(run.device)
        positions = r + (j * b + np.arange(len(y))) * p  # where this rank's samples sit in the remaining order
        real = positions < n_left  # the sampler's padding repeats are not real samples
        n_step = min(n_left, (j + 1) * b * p) - j * b * p  # real samples of this step, over all ranks
        weight = Tensor((real * (p / n_step)).astype(np.float32 if x.dtype == np.float32 else x.dtype))
        logits = model(x)
        losses = F.cross_entropy(logits, y, reduction="none")
        loss = (losses * weight).sum()  # Σ over this rank · p/N: DDP's mean over ranks is the step's mean
        run.optimizer.zero_grad()
        loss.backward()
        run.optimizer.step()
        hits = (logits.argmax(dim=1) == y).numpy() & real
        loss_sum, correct, stop = par.agree(
            [float((losses.detach().numpy() * real).sum()), float(hits.sum()), float(run.stop())]
        )
        sums["loss"] += float(loss_sum)
        sums["correct"] += int(round(correct))
        sums["seen"] += n_step
        run.batch += 1
        batches.set_postfix(loss=f"{loss_sum / n_step:.4f}")
        if stop > 0:
            sums["seconds"] += time.perf_counter() - start
            raise KeyboardInterrupt  # every rank stops after the same step
    sums["seconds"] += time.perf_counter() - start
    run.comm_seconds_epoch = (model.comm_seconds - comm_before[0]) + (par.comm_seconds - comm_before[1])
    return sums["loss"] / max(sums["seen"], 1), sums["correct"] / max(sums["seen"], 1)
