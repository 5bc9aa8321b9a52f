import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.data.distributed_sampler import DistributedSampler, torch_randperm


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    world=st.integers(1, 5),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31),
    epoch=st.integers(0, 5),
)
def test_the_ranks_together_cover_the_epoch(n, world, shuffle, drop_last, seed, epoch):
    if drop_last and n < world:
        return
    samplers = [
        DistributedSampler(range(n), world, r, shuffle=shuffle, seed=seed, drop_last=drop_last) for r in range(world)
    ]
    for s in samplers:
        s.set_epoch(epoch)
    shares = [list(s) for s in samplers]
    assert {len(share) for share in shares} == {len(samplers[0])}
    seen = sorted(i for share in shares for i in share)
    if drop_last:
        assert len(set(seen)) == len(seen) == n - n % world  # each kept sample once
    else:
        assert set(seen) == set(range(n)) and len(seen) - n < world  # all of them, fewer than `world` repeats


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 80),
    world=st.integers(1, 4),
    rank=st.integers(0, 3),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**40),
    epoch=st.integers(0, 3),
)
def test_equals_pytorchs_index_assignment(n, world, rank, shuffle, drop_last, seed, epoch):
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler

    rank = rank % world
    ours = DistributedSampler(range(n), world, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
    theirs = TorchSampler(range(n), world, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
    ours.set_epoch(epoch)
    theirs.set_epoch(epoch)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_torch_randperm_known_permutation():
    torch = pytest.importorskip("torch")
    for n, seed in [(1, 0), (2, 1), (10, 0), (257, 12345)]:
        g = torch.Generator()
        g.manual_seed(seed)
        np.testing.assert_array_equal(torch_randperm(n, seed), torch.randperm(n, generator=g).numpy())


def test_docstring_example_deals_out_like_cards():
    s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    assert list(s) == [1, 4, 7, 0] and len(s) == 4  # positions 1, 4, 7, 10 of 0…9 padded with 0, 1


def test_bad_rank_and_missing_group_are_refused():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(10), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(10))


def test_equals_pytorchs_index_assignment_on_an_mnist_sized_data_set():
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler

    for rank in (0, 1):
        ours, theirs = DistributedSampler(range(60_000), 2, rank, seed=0), TorchSampler(range(60_000), 2, rank, seed=0)
        ours.set_epoch(3)
        theirs.set_epoch(3)
        assert list(ours) == list(theirs)
