"""The process group: which process am I, how many are we, and the collectives that move tensors between us.

Data-parallel training runs the same program in p processes (started by ``mpiexec -n p python train.py``).
Each process has a *rank* r ∈ {0, …, p−1}; they cooperate through *collectives*, calls that every rank makes
together:

    all_reduce(x)        every rank ends with x_0 + x_1 + … + x_{p−1}            (in place)
    broadcast(x, src)    every rank ends with x_src                              (in place)
    all_gather(xs, x)    every rank ends with xs = [x_0, x_1, …, x_{p−1}]
    reduce_scatter(y, xs) rank r ends with y = xs_0[r] + xs_1[r] + … (the r-th piece of the sum)
    barrier()            nobody continues before everybody has arrived
    send(x, dst) / recv(x, src)   one rank to one other (point to point)

The engine underneath is MPI, through ``mpi4py`` (``pip install mpi4py mpich`` brings both the Python binding and
the MPICH runtime with its ``mpiexec``). The names and semantics are ``torch.distributed``'s.

Two things MPI does not do for us, and this file adds:

* **A timeout on every collective.** An MPI collective waits forever for a rank that never arrives. Here each one
  is started non-blocking (``Iallreduce``, ``Ibcast`` …) and polled until it completes or ``timeout`` passes
  (``init_process_group(timeout=...)``, default 30 minutes as in PyTorch; env ``TINYGRAD_EDU_DIST_TIMEOUT`` in
  seconds), then raises ``DistributedTimeout`` instead of hanging.
* **One rank's failure stops every rank, with its message.** An exception that escapes on rank r is printed
  there, then sent to every other rank on a separate communicator; a rank waiting in (or entering) a collective
  receives it and stops with ``RankFailed("rank r failed: ...")``. Every rank exits non-zero; a rank that does
  not come to a collective within a few seconds is ended by ``MPI_Abort``.
"""

from __future__ import annotations

import enum
import os
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

DEFAULT_TIMEOUT = timedelta(minutes=30)  # PyTorch's default for the CPU backends
TIMEOUT_ENV = "TINYGRAD_EDU_DIST_TIMEOUT"
_ERROR_TAG = 77  # the tag of failure messages on the error communicator
_ABORT_GRACE_S = 5.0  # how long a failing rank waits for the others to hear of it before MPI_Abort
_LAUNCHER_ENV = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MPI_LOCALRANKID", "HYDI_CONTROL_FD")


class DistributedError(RuntimeError):
    """The process group is missing, misused, or could not be set up; the message says what to do."""


class DistributedTimeout(DistributedError):
    """A collective did not complete within the group's timeout (some rank never arrived)."""


class RankFailed(DistributedError):
    """Another rank raised an exception; its message is this error's message."""


class ReduceOp(enum.Enum):
    """How ``all_reduce``/``reduce_scatter`` combine the ranks' values (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"  # SUM, then divided by the world size


@dataclass
class _Group:
    comm: Any  # the MPI communicator collectives use (a duplicate of COMM_WORLD)
    errors: Any  # a second duplicate, only for failure messages, so they never mix with data
    rank: int
    size: int
    timeout_s: float
    previous_excepthook: Any


_group: _Group | None = None


# ---- set-up -------------------------------------------------------------------------------------------


def _mpi() -> Any:
    """mpi4py's MPI module, or an error that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise DistributedError(
            "tinygrad_edu.distributed needs MPI: pip install mpi4py mpich (or pip install -e '.[dist]'), "
            f"then start the program with mpiexec -n 2 python your_script.py ({error})"
        ) from None
    return MPI


def is_available() -> bool:
    """True if the MPI backend can be used here (mpi4py imports)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _group is not None


def _started_by_launcher() -> bool:
    return any(name in os.environ for name in _LAUNCHER_ENV)


def init_process_group(
    backend: str = "mpi",
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    **unused: Any,
) -> None:
    """Join the group of processes that ``mpiexec`` started (``torch.distributed.init_process_group``).

    ``backend`` is ``"mpi"``; ``"gloo"`` (PyTorch's CPU backend, which many examples name) is accepted and
    runs on MPI too. Rank and world size come from the launcher; ``world_size``/``rank``, when given, must
    agree with it. Without ``mpiexec`` only ``world_size=1`` works (a group of one, handy in a notebook).
    """
    global _group
    if _group is not None:
        raise DistributedError("init_process_group() was called twice; call destroy_process_group() first")
    if backend not in ("mpi", "gloo"):
        raise DistributedError(
            f"backend {backend!r} is not available here: tinygrad_edu runs its collectives on MPI on the CPU; "
            "use init_process_group('mpi')"
        )
    if init_method not in (None, "env://"):
        raise DistributedError(
            f"init_method {init_method!r}: with MPI the launcher (mpiexec) tells each rank who it is"
        )
    if not _started_by_launcher() and world_size != 1:
        raise DistributedError(
            "this program was not started by mpiexec, so there is no group to join: run it as "
            f"mpiexec -n 2 {os.path.basename(sys.executable)} {' '.join(sys.argv) or 'script.py'} "
            "(or pass world_size=1, rank=0 for a group of one)"
        )
    MPI = _mpi()
    world = MPI.COMM_WORLD
    if world_size not in (-1, world.Get_size()) or rank not in (-1, world.Get_rank()):
        raise DistributedError(
            f"init_process_group(world_size={world_size}, rank={rank}) disagrees with mpiexec, which started "
            f"{world.Get_size()} processes and made this one rank {world.Get_rank()}; leave both out"
        )
    if timeout is None:
        timeout = timedelta(seconds=float(os.environ[TIMEOUT_ENV])) if TIMEOUT_ENV in os.environ else DEFAULT_TIMEOUT
    _group = _Group(world.Dup(), world.Dup(), world.Get_rank(), world.Get_size(), timeout.total_seconds(),
                    sys.excepthook)  # fmt: skip
    sys.excepthook = _on_uncaught_exception


def destroy_process_group(group: Any = None) -> None:
    """Leave the group (``torch.distributed.destroy_process_group``): collectives raise again afterwards."""
    global _group
    g = _require("destroy_process_group")
    _group = None
    sys.excepthook = g.previous_excepthook
    g.comm.Free()
    g.errors.Free()


def _require(what: str) -> _Group:
    if _group is None:
        raise DistributedError(
            f"{what}: the default process group has not been initialized; call "
            "tinygrad_edu.distributed.init_process_group('mpi') first (and start the program with mpiexec -n 2 ...)"
        )
    return _group


def get_rank(group: Any = None) -> int:
    """The rank of this process, 0 … world_size − 1."""
    return _require("get_rank").rank


def get_world_size(group: Any = None) -> int:
    """How many processes the group has."""
    return _require("get_world_size").size


# ---- failures: one rank's exception reaches every rank ------------------------------------------------


def _on_uncaught_exception(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    """sys.excepthook while a group is up: print, tell the other ranks, wait a little for them, then end."""
    g = _group
    if g is None:  # destroyed meanwhile
        sys.__excepthook__(kind, error, tb)
        return
    if isinstance(error, RankFailed):
        print(f"[rank {g.rank}] stopped: {error}", file=sys.stderr, flush=True)
        os._exit(1)
    text = "".join(traceback.format_exception_only(kind, error)).strip()
    print(f"[rank {g.rank}] failed:", file=sys.stderr)
    traceback.print_exception(kind, error, tb)
    sys.stderr.flush()
    notify_failure(f"rank {g.rank} failed: {text}")
    os._exit(1)


def notify_failure(message: str) -> None:
    """Tell every other rank that this one failed: each stops with ``RankFailed(message)`` in its next collective.

    What the exception hook does for an uncaught exception, for programs (the CLI) that catch their errors
    and print them as one line: send ``message`` on the error communicator, give the others a few seconds
    to receive it (else MPI_Abort ends them all), and a moment to print before this rank exits.
    """
    g = _group
    if g is None or g.size == 1:
        return
    requests = [g.errors.isend(message, dest=r, tag=_ERROR_TAG) for r in range(g.size) if r != g.rank]
    deadline = time.monotonic() + _ABORT_GRACE_S
    while requests and time.monotonic() < deadline:
        requests = [req for req in requests if not req.Test()]
        time.sleep(0.01)
    if requests:  # some rank did not come to a collective in time: end them all
        g.comm.Abort(1)
    time.sleep(0.2)  # let the others print before mpiexec sees this rank go


def _raise_if_a_rank_failed(g: _Group) -> None:
    MPI = _mpi()
    status = MPI.Status()
    if g.errors.Iprobe(source=MPI.ANY_SOURCE, tag=_ERROR_TAG, status=status):
        message = g.errors.recv(source=status.Get_source(), tag=_ERROR_TAG)
        raise RankFailed(message)


def _wait(request: Any, what: str, status: Any = None) -> None:
    """Poll a non-blocking MPI request until it completes, a rank fails, or the timeout passes.

    It spins for the first few milliseconds (a message between processes on one machine takes microseconds,
    and a sleep would cost more than the message), then sleeps between polls so a long wait leaves the core free.
    """
    g = _require(what)
    start = time.monotonic()
    while not request.Test(status):
        waited = time.monotonic() - start
        if waited > 0.005:
            _raise_if_a_rank_failed(g)
            if waited > g.timeout_s:
                raise DistributedTimeout(
                    f"{what} on rank {g.rank} waited {waited:.0f} s (the group's timeout) for the other ranks; "
                    "one of them never arrived (it hangs, or it skipped this collective)"
                )
            time.sleep(min(0.001, waited / 100))
