"""``torch.utils.data.distributed``'s path: DistributedSampler."""

from ...data.distributed_sampler import DistributedSampler

__all__ = ["DistributedSampler"]
