"""Data-parallel training over MPI, with ``torch.distributed``'s names.

    import tinygrad_edu.distributed as dist
    dist.init_process_group("mpi")                  # in a program started by: mpiexec -n 2 python train.py
    rank, world = dist.get_rank(), dist.get_world_size()
    model = nn.parallel.DistributedDataParallel(model)   # same weights everywhere; gradients averaged
    sampler = DistributedSampler(dataset)           # each rank sees its own 1/world of every epoch
    ...
    dist.destroy_process_group()

process_group.py holds the group (set-up, the timeout on every wait, one rank's failure reaching all);
collectives.py the collectives (all_reduce, broadcast, all_gather, reduce_scatter, barrier, send/recv);
the gradient averaging is nn/parallel/distributed.py; the sampler is data/distributed_sampler.py.
"""

from ..data.distributed_sampler import DistributedSampler
from .collectives import Work, all_gather, all_reduce, barrier, broadcast, recv, reduce_scatter, send
from .process_group import (
    DEFAULT_TIMEOUT,
    DistributedError,
    DistributedTimeout,
    RankFailed,
    ReduceOp,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    notify_failure,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedError",
    "DistributedSampler",
    "DistributedTimeout",
    "RankFailed",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "notify_failure",
    "recv",
    "reduce_scatter",
    "send",
]
