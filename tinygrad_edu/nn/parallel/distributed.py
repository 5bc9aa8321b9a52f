r"""DistributedDataParallel: p copies of one model, each on its own shard of the batch, gradients averaged.

Why averaging is right. A mini-batch of B samples has the mean loss L = (1/B) Σᵢ ℓᵢ. Cut it into p shards of
B/p samples, one per rank; rank r computes its shard's mean loss L_r = (p/B) Σ_{i ∈ shard r} ℓᵢ. Then

    L = (1/p) Σ_r L_r        so        ∂L/∂w = (1/p) Σ_r ∂L_r/∂w

(the gradient is linear). Each rank backpropagates its own L_r, then one all-reduce sums the p gradients and
every rank divides by p: every rank now holds ∂L/∂w of the whole batch, takes the same optimizer step, and the
copies stay equal — p processes on batch B/p take the same steps as one process on batch B. (Exactly so for
losses that are means over samples; BatchNorm's batch statistics are per shard, so a BatchNorm model is close
to, not equal to, the one-process run, as in PyTorch.)

What it costs. Each step moves the gradients: 4·P bytes for P float32 parameters. A ring all-reduce passes
pieces of P/p around the ring twice (a reduce-scatter, then an all-gather), so each rank sends and receives

    2(p − 1)/p · 4P bytes   in 2(p − 1) messages:   t ≈ 2(p − 1)·α + 2(p − 1)/p · 4P·β

(α the latency of one message, β the seconds per byte). The bytes per rank stay below 2·4P however many ranks
there are; the latency term grows with p. That is why gradients travel in *buckets* of about
``bucket_cap_mb`` MB (default 25, as in PyTorch) rather than one message per parameter: a model of 40 small
tensors pays 1 latency, not 40.

How it works here, as in PyTorch:
* at construction, rank 0's parameters and buffers are broadcast, so every copy starts equal;
* the parameters are grouped into buckets in reverse order (the order backward produces their gradients);
* a hook on each parameter (``register_post_accumulate_grad_hook``) marks its gradient ready; when a bucket is
  complete its gradients are flattened into one array and a non-blocking all-reduce starts;
* when the backward walk has finished (``autograd.queue_callback``) we wait for every bucket and write
  gradient / p back into each ``.grad``;
* before each forward in training mode, rank 0's buffers (BatchNorm's running statistics) are broadcast
  (``broadcast_buffers=True``, PyTorch's default);
* inside ``with model.no_sync():`` gradients only accumulate locally; the next backward outside it averages the
  accumulated sum (gradient accumulation over several micro-batches at the cost of one all-reduce).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ... import autograd, distributed
from ...tensor import Tensor
from ..module import Module


def _buckets(params: list[Tensor], cap_bytes: int) -> list[list[Tensor]]:
    """Parameters in reverse order, cut into groups of one dtype and at most ``cap_bytes`` (at least one each)."""
    buckets: list[list[Tensor]] = []
    size = 0
    for p in reversed(params):
        nbytes = p.array.nbytes
        if not buckets or size + nbytes > cap_bytes or buckets[-1][0].dtype != p.dtype:
            buckets.append([])
            size = 0
        buckets[-1].append(p)
        size += nbytes
    return buckets


def _broadcast_coalesced(tensors: list[Tensor], src: int = 0) -> None:
    """Every tensor ← rank ``src``'s values, in one message per dtype (flatten, broadcast, unflatten)."""
    by_dtype: dict[Any, list[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for group in by_dtype.values():
        flat = Tensor._wrap(np.concatenate([t.array.ravel() for t in group]))
        distributed.broadcast(flat, src=src)
        offset = 0
        for t in group:
            t.array[...] = flat.array[offset : offset + t.array.size].reshape(t.array.shape)
            offset += t.array.size


class _Bucket:
    """One group of parameters whose gradients travel in one all-reduce."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.ready: set[int] = set()
        self.flat: Tensor | None = None
        self.work: distributed.Work | None = None

    def start(self) -> None:
        """Flatten the gradients (zeros for a parameter that got none) and start summing them across ranks."""
        grads = [np.zeros(p.array.size, p.dtype) if p.grad is None else p.grad.array.ravel() for p in self.params]
        self.flat = Tensor._wrap(np.concatenate(grads))
        self.work = distributed.all_reduce(self.flat, async_op=True)

    def finish(self, world_size: int) -> None:
        """Wait for the sum, then every parameter's gradient ← its piece of the sum / world_size."""
        assert self.work is not None and self.flat is not None
        self.work.wait()
        mean = self.flat.array / world_size
        offset = 0
        for p in self.params:
            piece = mean[offset : offset + p.array.size].reshape(p.array.shape)
            offset += p.array.size
            if p.grad is None:
                p.grad = Tensor._wrap(piece.astype(p.dtype, copy=True))
            else:
                p.grad.array[...] = piece
        self.ready.clear()
        self.flat = self.work = None


class DistributedDataParallel(Module):
    """Wrap ``module`` so that, run by every rank on its shard, backward leaves every rank the full-batch gradient.

    PyTorch's signature; ``device_ids``/``output_device`` are accepted for CPU use (they must be None).
    ``model.module`` is the wrapped model (save ``model.module.state_dict()`` to load it without DDP).
    """

    def __init__(
        self,
        module: Module,
        device_ids: list[int] | None = None,
        output_device: int | None = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float = 25.0,
        find_unused_parameters: bool = False,
        **unused: Any,
    ) -> None:
        super().__init__()
        if not distributed.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel: the default process group has not been initialized; call "
                "tinygrad_edu.distributed.init_process_group('mpi') first (and start with mpiexec -n 2 ...)"
            )
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError(
                "DistributedDataParallel: device_ids/output_device are for GPUs; leave them out on the CPU"
            )
        if bucket_cap_mb <= 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.world_size = distributed.get_world_size()
        params = [p for p in module.parameters() if p.requires_grad]
        _broadcast_coalesced(list(module.parameters()) + list(module.buffers()))
        self._buckets = [_Bucket(b) for b in _buckets(params, int(bucket_cap_mb * 2**20))]
        self._bucket_of = {id(p): bucket for bucket in self._buckets for p in bucket.params}
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._gradient_ready) for p in params]
        self._sync_this_backward = False
        self._callback_queued = False
        self._next_bucket = 0  # the first bucket whose all-reduce has not started in this backward
        self.comm_seconds = 0.0  # time spent flattening, all-reducing and writing back gradients (for the bench)

    @property
    def bucket_sizes(self) -> list[int]:
        """How many parameters each bucket holds (in the order their all-reduces start)."""
        return [len(b.params) for b in self._buckets]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Broadcast rank 0's buffers (training mode), note whether the next backward syncs, run the module."""
        if self.training and self.broadcast_buffers and self.world_size > 1:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers)
        self._sync_this_backward = self.require_backward_grad_sync and autograd.is_grad_enabled()
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside: backward accumulates gradients locally, no communication. The first backward after it averages."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _gradient_ready(self, p: Tensor) -> None:
        if not self._sync_this_backward:
            return
        if not self._callback_queued:
            autograd.queue_callback(self._finish_backward)
            self._callback_queued = True
        self._bucket_of[id(p)].ready.add(id(p))
        # Start complete buckets strictly in bucket order: MPI needs every rank to issue its collectives in the
        # same order, and the order in which gradients arrive may differ between ranks.
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if len(bucket.ready) < len(bucket.params):
                break
            started = time.perf_counter()
            bucket.start()
            self.comm_seconds += time.perf_counter() - started
            self._next_bucket += 1

    def _finish_backward(self) -> None:
        started = time.perf_counter()
        self._callback_queued = False
        self._sync_this_backward = False
        for bucket in self._buckets[self._next_bucket :]:
            if not self.find_unused_parameters:
                missing = len(bucket.params) - len(bucket.ready)
                raise RuntimeError(
                    f"DistributedDataParallel: {missing} parameter(s) received no gradient in this backward, so "
                    "their bucket's all-reduce could not start. If your model has parameters that the loss does "
                    "not use, pass find_unused_parameters=True"
                )
            bucket.start()  # the unused parameters contribute zeros
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.finish(self.world_size)
        self.comm_seconds += time.perf_counter() - started
