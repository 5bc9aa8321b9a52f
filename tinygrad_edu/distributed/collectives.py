"""The collectives on Tensors: all_reduce, broadcast, all_gather, reduce_scatter, barrier, send and recv.

Each is started non-blocking on the group's MPI communicator and finished by ``process_group._wait``, which
polls it with the group's timeout and stops with the failing rank's message if another rank has failed. With
``async_op=True`` a collective returns its ``Work`` at once (``work.wait()`` finishes it), as in PyTorch.
Results are written into the given tensors in place, bumping their version like any in-place change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .process_group import DistributedError, ReduceOp, _Group, _mpi, _require, _wait

# ---- collectives on Tensors ----------------------------------------------------------------------------


def _finish(work: Work, async_op: bool) -> Work | None:
    """PyTorch's convention: an async call returns its Work, a blocking one waits and returns None."""
    if async_op:
        return work
    work.wait()
    return None


class Work:
    """A collective started with ``async_op=True``: ``wait()`` finishes it (``torch.distributed.Work``)."""

    def __init__(self, request: Any, what: str, finish: Any = None) -> None:
        self._request, self._what, self._finish, self._done = request, what, finish, False

    def is_completed(self) -> bool:
        """True once the collective has completed (also finishes it)."""
        if not self._done and self._request.Test():
            self.wait()
        return self._done

    def wait(self) -> bool:
        """Block until the collective completes (or the group's timeout passes)."""
        if not self._done:
            _wait(self._request, self._what)
            if self._finish is not None:
                self._finish()
            self._done = True
        return True


def _host_array(tensor: Any, what: str) -> np.ndarray:
    """The tensor's NumPy array, contiguous, for MPI to read and write."""
    if tensor.device != "cpu":
        raise DistributedError(
            f"{what}: the MPI backend moves CPU tensors; got one on {tensor.device!r}. Call .cpu() first"
        )
    return np.ascontiguousarray(tensor.array)


def _write_back(tensor: Any, values: np.ndarray) -> None:
    """Store a collective's result in the tensor, as an in-place change (it bumps the tensor's version)."""
    if values is not tensor.array:
        tensor.array[...] = values
    bump = getattr(tensor, "_bump_version", None)
    if bump is not None:
        bump()


def _mpi_op(op: ReduceOp) -> Any:
    MPI = _mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[ReduceOp(op)]  # fmt: skip


def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """tensor ← op(tensor on rank 0, …, tensor on rank p−1) on every rank, in place.

    With ``op=ReduceOp.SUM`` every rank ends with Σ_r x_r. (MPI picks the algorithm; for large arrays a ring
    or a reduce-scatter + all-gather, which sends about 2(p−1)/p of the array per rank: see
    nn.parallel.DistributedDataParallel's docstring.)
    """
    g = _require("all_reduce")
    MPI = _mpi()
    x = _host_array(tensor, "all_reduce")
    request = g.comm.Iallreduce(MPI.IN_PLACE, x, op=_mpi_op(op))

    def finish() -> None:
        if ReduceOp(op) is ReduceOp.AVG:
            x[...] /= g.size
        _write_back(tensor, x)

    work = Work(request, "all_reduce", finish)
    return _finish(work, async_op)


def broadcast(tensor: Any, src: int, group: Any = None, async_op: bool = False) -> Work | None:
    """tensor ← tensor on rank ``src``, on every rank, in place."""
    g = _require("broadcast")
    _check_rank(src, g, "broadcast")
    x = _host_array(tensor, "broadcast")
    work = Work(g.comm.Ibcast(x, root=src), "broadcast", lambda: _write_back(tensor, x))
    return _finish(work, async_op)


def all_gather(tensor_list: list[Any], tensor: Any, group: Any = None, async_op: bool = False) -> Work | None:
    """tensor_list[r] ← tensor on rank r, on every rank (every rank's tensor has the same shape)."""
    g = _require("all_gather")
    if len(tensor_list) != g.size:
        raise DistributedError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a world of {g.size}")
    x = _host_array(tensor, "all_gather")
    gathered = np.empty((g.size, *x.shape), dtype=x.dtype)
    request = g.comm.Iallgather(x, gathered)

    def finish() -> None:
        for out, values in zip(tensor_list, gathered):
            _check_same_shape(out, values, "all_gather")
            _write_back(out, values)

    work = Work(request, "all_gather", finish)
    return _finish(work, async_op)


def reduce_scatter(
    output: Any, input_list: list[Any], op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """output on rank r ← op over ranks of input_list[r]: each rank keeps its own piece of the reduced list."""
    g = _require("reduce_scatter")
    MPI = _mpi()
    if len(input_list) != g.size:
        raise DistributedError(f"reduce_scatter: input_list has {len(input_list)} tensors for a world of {g.size}")
    pieces = np.stack([_host_array(t, "reduce_scatter") for t in input_list])
    y = np.empty(pieces.shape[1:], dtype=pieces.dtype)
    _check_same_shape(output, y, "reduce_scatter")
    request = g.comm.Ireduce_scatter_block(pieces, y, op=_mpi_op(op)) if g.size > 1 else None
    if request is None:
        y[...] = pieces[0]
        request = MPI.REQUEST_NULL

    def finish() -> None:
        if ReduceOp(op) is ReduceOp.AVG:
            y[...] /= g.size
        _write_back(output, y)

    work = Work(request, "reduce_scatter", finish)
    return _finish(work, async_op)


def barrier(group: Any = None, async_op: bool = False) -> Work | None:
    """Block until every rank has arrived here (``torch.distributed.barrier``)."""
    g = _require("barrier")
    work = Work(g.comm.Ibarrier(), "barrier")
    return _finish(work, async_op)


def send(tensor: Any, dst: int, group: Any = None, tag: int = 0) -> None:
    """Send the tensor's values to rank ``dst`` (which calls ``recv``)."""
    g = _require("send")
    _check_rank(dst, g, "send")
    _wait(g.comm.Isend(_host_array(tensor, "send"), dest=dst, tag=tag), "send")


def recv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0) -> int:
    """Receive into ``tensor`` (in place) from rank ``src``; returns the sender's rank."""
    g = _require("recv")
    MPI = _mpi()
    source = MPI.ANY_SOURCE if src is None else src
    if src is not None:
        _check_rank(src, g, "recv")
    x = np.empty_like(_host_array(tensor, "recv"))
    status = MPI.Status()
    _wait(g.comm.Irecv(x, source=source, tag=tag), "recv", status)
    _write_back(tensor, x)
    return status.Get_source()


def _check_rank(r: int, g: _Group, what: str) -> None:
    if not 0 <= r < g.size:
        raise DistributedError(f"{what}: rank {r} does not exist in a world of {g.size} (ranks 0 … {g.size - 1})")


def _check_same_shape(tensor: Any, values: np.ndarray, what: str) -> None:
    if tuple(tensor.shape) != tuple(values.shape):
        raise DistributedError(f"{what}: output tensor has shape {tuple(tensor.shape)}, expected {values.shape}")
