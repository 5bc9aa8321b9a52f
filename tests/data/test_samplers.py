"""Samplers, DataLoader(sampler=, batch_sampler=, collate_fn=, generator=, batch_size=None), worker processes
(the same batches as one process, seeds, worker_init_fn, errors, exit), IterableDataset, ConcatDataset and the
``tinygrad_edu.utils.data`` path; argument errors as PyTorch's."""

from __future__ import annotations

import multiprocessing as mp
import os

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu.utils import data as udata
from tinygrad_edu.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i % 3

    def __len__(self) -> int:
        return self.n


class WhoFetched(Dataset):
    """Each sample says which worker fetched it, and in which process, and a draw of its generator."""

    def __getitem__(self, i):
        info = get_worker_info()
        return i, -1 if info is None else info.id, os.getpid(), float(tge.rand(1).item())

    def __len__(self) -> int:
        return 12


class Failing(Squares):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is broken")
        return super().__getitem__(i)


class Stream(IterableDataset):
    """0 … n − 1, split between the workers (each takes every k-th item) as PyTorch's docs show."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def _batches(loader):
    out = []
    for batch in loader:
        out.append(tuple(b.numpy().tolist() for b in batch) if isinstance(batch, tuple) else batch.numpy().tolist())
    return out


def test_the_pytorch_path_is_the_same_module():
    assert udata.DataLoader is tge.data.DataLoader and tge.utils.data.RandomSampler is RandomSampler
    from tinygrad_edu.utils.data.distributed import DistributedSampler

    assert DistributedSampler is tge.data.DistributedSampler


def test_sequential_and_batch_sampler_equal_torch():
    torch = pytest.importorskip("torch")
    for n, b, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)]:
        ours = list(BatchSampler(SequentialSampler(range(n)), b, drop))
        theirs = list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), b, drop))
        assert ours == theirs and len(BatchSampler(SequentialSampler(range(n)), b, drop)) == len(theirs)


def test_random_sampler_permutes_and_follows_its_generator():
    s = RandomSampler(range(20), generator=tge.Generator().manual_seed(1))
    first, second = list(s), list(s)
    assert sorted(first) == list(range(20)) and first != second  # a new order every epoch
    assert list(RandomSampler(range(20), generator=tge.Generator().manual_seed(1))) == first
    tge.manual_seed(4)
    a = list(RandomSampler(range(20)))
    tge.manual_seed(4)
    assert list(RandomSampler(range(20))) == a  # without a generator: the default one
    more = list(RandomSampler(range(5), num_samples=12))
    assert len(more) == 12 and all(sorted(more[k : k + 5]) == list(range(5)) for k in (0, 5))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=300))
    assert len(drawn) == 300 and set(drawn) == {0, 1, 2}


def test_subset_and_weighted_samplers():
    g = tge.Generator().manual_seed(0)
    assert sorted(SubsetRandomSampler([3, 7, 9], generator=g)) == [3, 7, 9]
    w = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g)
    counts = np.bincount(list(w), minlength=3)
    assert len(w) == 4000 and counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.35
    unique = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


def test_dataloader_with_sampler_batch_sampler_collate_and_no_batching():
    ds = Squares(10)
    assert _batches(DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 1, 2]))[0][1] == [0, 2, 1, 1]
    bs = [[0, 1], [5], [2, 3, 4]]
    loader = DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 3 and [b[1].shape[0] for b in loader] == [2, 1, 3]
    assert list(DataLoader(ds, batch_size=3, collate_fn=lambda s: len(s))) == [3, 3, 3, 1]
    one = list(DataLoader(ds, batch_size=None))
    assert len(one) == 10 and one[3][0].shape == (2,) and one[3][1] == 0  # samples unstacked
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=tge.Generator().manual_seed(3), pin_memory=True)
    again = DataLoader(ds, batch_size=4, shuffle=True, generator=tge.Generator().manual_seed(3))
    assert _batches(loader) == _batches(again)


def test_argument_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    ds = Squares(4)
    for kwargs in (
        {"sampler": [0, 1], "shuffle": True},
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "drop_last": True},
        {"batch_size": None, "drop_last": True},
        {"num_workers": -1},
        {"prefetch_factor": 2},
    ):
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(ds, **kwargs)
        with pytest.raises(ValueError) as ours:
            DataLoader(ds, **kwargs)
        assert str(ours.value) == str(theirs.value), kwargs


@pytest.mark.parametrize("shuffle", [False, True, "default generator"])
@pytest.mark.parametrize(
    "make", [lambda: Squares(23), lambda: TensorDataset(np.arange(46.0).reshape(23, 2), np.arange(23))]
)
def test_two_workers_give_the_batches_of_one_process(make, shuffle):
    kwargs = {"batch_size": 4, "shuffle": bool(shuffle), "seed": 5 if shuffle is True else None}
    one = DataLoader(make(), **kwargs)
    two = DataLoader(make(), num_workers=2, **kwargs)
    for epoch in range(2):  # two epochs: the second order differs, and still agrees
        tge.manual_seed(epoch)  # (the default generator draws the orders in the third case)
        a = _batches(one)
        tge.manual_seed(epoch)
        assert _batches(two) == a
    assert not mp.active_children()  # the workers exited at the end of each epoch


def test_workers_are_real_processes_seeded_and_initialised():
    seen = []
    loader = DataLoader(WhoFetched(), batch_size=2, num_workers=2, worker_init_fn=seen.append,
                        generator=tge.Generator().manual_seed(0))  # fmt: skip
    columns = [np.concatenate([b[k].numpy() for b in loader]) for k in range(4)]
    index, worker, pid, draw = (c.tolist() for c in columns)
    assert sorted(index) == list(range(12))
    assert set(worker) == {0, 1} and os.getpid() not in pid and len(set(pid)) == 2
    assert seen == []  # worker_init_fn ran in the workers, not here
    assert len(set(draw)) == 12  # the two workers' generators were seeded differently
    assert not mp.active_children()


def test_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        (tmp_path / f"w{worker_id}-{os.getpid()}").write_text("ok")

    list(DataLoader(Squares(8), batch_size=2, num_workers=2, worker_init_fn=init))
    names = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert names == ["w0", "w1"]
    assert all(int(p.name.split("-")[1]) != os.getpid() for p in tmp_path.iterdir())


def test_an_error_in_a_worker_is_raised_here_and_the_workers_exit():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process .*sample 5 is broken"):
        list(DataLoader(Failing(10), batch_size=2, num_workers=2))
    assert not mp.active_children()


def test_abandoned_iteration_and_persistent_workers():
    loader = DataLoader(WhoFetched(), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    it.close()  # breaking out of the loop ends the workers
    assert not mp.active_children()
    loader = DataLoader(WhoFetched(), batch_size=3, num_workers=2, persistent_workers=True)
    pids = [{p for b in loader for p in b[2].numpy().tolist()} for _ in range(2)]
    assert pids[0] == pids[1] and len(pids[0]) == 2  # the same two processes served both epochs
    assert len(mp.active_children()) == 2
    loader._pool.shutdown()
    assert not mp.active_children()


def test_iterable_dataset_in_one_and_in_two_processes():
    assert [b.numpy().tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.numpy().tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    got = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)]
    assert sorted(sum(got, [])) == list(range(10))
    assert got[0] == [0, 2] and got[1] == [1, 3]  # worker 0's batch, then worker 1's, as PyTorch
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(3), shuffle=True)


def test_concat_dataset_and_random_split_generator():
    cat = ConcatDataset([Squares(3), Squares(2)])
    assert len(cat) == 5 and cat[3][1] == 0 and cat[-1][1] == 1
    with pytest.raises(IndexError):
        cat[5]
    a = [list(p.indices) for p in random_split(Squares(10), [0.5, 0.5], generator=tge.Generator().manual_seed(2))]
    b = [list(p.indices) for p in random_split(Squares(10), [0.5, 0.5], generator=tge.Generator().manual_seed(2))]
    assert a == b and sorted(a[0] + a[1]) == list(range(10))


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_a_temporary_loader_lives_through_its_iteration(context):
    ds = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    got = [b[1].numpy().tolist() for b in DataLoader(ds, batch_size=3, num_workers=2, multiprocessing_context=context)]
    assert got == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert not mp.active_children()
