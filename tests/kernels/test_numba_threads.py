"""The Numba kernels' thread pool: chunks claimed once each, scratch rows apart, threads that poll, sleep and wake."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

numba = pytest.importorskip("numba")
from numba import njit  # noqa: E402
from tinygrad_edu.kernels import numba_threads  # noqa: E402


@njit(nogil=True)
def _mark(items, owner, chunks, counter, slot):
    """items[n] += 1 and owner[n] = slot for every item n this thread claims."""
    mine = np.zeros(2, dtype=np.int64)
    n = numba_threads.claim(chunks, counter, mine)
    while n >= 0:
        items[n] += 1
        owner[n] = slot
        n = numba_threads.claim(chunks, counter, mine)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("count", [1, 5, 37, 1000])
def test_run_shared_gives_every_item_to_exactly_one_thread(threads, count):
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        for _ in range(20):  # repeated: the helpers race for the chunks
            items, owner = np.zeros(count, np.int64), np.full(count, -1, np.int64)
            numba_threads.run_shared(_mark, (items, owner), count)
            np.testing.assert_array_equal(items, 1)
            assert set(owner) <= set(range(numba_threads.threads_for(count)))
    finally:
        numba.set_num_threads(before)


def test_claim_walks_the_chunks_in_order_on_one_thread():
    chunks, counter = np.array([0, 2, 2, 5]), np.zeros(1, np.int64)  # an empty chunk in the middle
    items, owner = np.zeros(5, np.int64), np.full(5, -1, np.int64)
    _mark(items, owner, chunks, counter, 7)
    np.testing.assert_array_equal(items, 1)
    assert counter[0] == 4  # three chunks claimed, then one claim that found none left
    assert set(owner) == {7}


def test_private_rows_start_on_their_own_128_byte_lines_with_a_gap():
    for dtype, length in [(np.float32, 1), (np.float32, 100), (np.int64, 33), (np.float64, 16)]:
        rows = numba_threads.private_rows(3, length, dtype)
        assert rows.flags.c_contiguous and rows.shape[0] == 3 and rows.shape[1] >= length
        starts = [rows[i].ctypes.data for i in range(3)]
        assert all(s % numba_threads.SHARED_BYTES == 0 for s in starts)
        used_end = starts[0] + length * rows.itemsize
        assert starts[1] - used_end >= numba_threads.SHARED_BYTES  # nothing of row 1 within 128 bytes of row 0


def test_wait_for_change_returns_the_new_value_or_gives_up():
    flag = np.zeros(1, np.int64)
    assert numba_threads._wait_for_change(flag, 0, 10, 0) == 0  # no change: gives up after 10 polls
    assert numba_threads._wait_for_change(flag, 0, 10, 10) == 0  # ... and 10 more with a yield between
    flag[0] = 3
    assert numba_threads._wait_for_change(flag, 0, 10**9, 0) == 3  # a change: returns at once
    later = threading.Timer(0.02, lambda: flag.__setitem__(0, 4))
    later.start()
    assert numba_threads._wait_for_change(flag, 3, 10**9, 0) == 4  # another thread's write is seen
    later.join()
    later = threading.Timer(0.02, lambda: flag.__setitem__(0, 5))
    later.start()
    assert numba_threads._wait_for_change(flag, 4, 0, 10**9) == 5  # seen while yielding too
    later.join()


@pytest.fixture
def two_threads():
    """Numba on 2 threads for the test, the old count back after (skipped where Numba has fewer)."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 threads")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    yield
    numba.set_num_threads(before)


def test_helpers_that_went_to_sleep_wake_up_for_the_next_call(two_threads):
    for pause in (0.0, 0.05, 0.0):  # between calls: none, and far longer than the threads poll
        done: list[int] = []
        numba_threads.run_tasks(done.append, [(i,) for i in range(6)])
        assert sorted(done) == list(range(6))
        time.sleep(pause)


def test_publish_bumps_the_generation_and_waits_only_as_long_as_told():
    flag, started = np.zeros(1, np.int64), np.zeros(1, np.int64)
    numba_threads._publish(flag, started, 0)
    assert flag[0] == 1  # no waiting at all
    numba_threads._publish(flag, started, 1000)  # nobody starts: gives up after 1000 polls
    assert flag[0] == 2
    later = threading.Timer(0.02, lambda: started.__setitem__(0, 1))
    later.start()
    numba_threads._publish(flag, started, 10**10)  # returns once a helper has claimed a chunk
    later.join()
    assert flag[0] == 3 and started[0] == 1


def test_a_helper_polls_for_the_next_batch_after_a_call_and_sleeps_later(two_threads):
    items, owner = np.zeros(64, np.int64), np.full(64, -1, np.int64)
    seen = set()
    for _ in range(5):  # a few calls: on a busy machine the helper may not run at once
        numba_threads.run_shared(_mark, (items, owner), 64)
        for _ in range(10):  # the sleeps let the helper have the GIL to get back to its polling
            time.sleep(2e-5)
            seen.add(int(numba_threads._pool.polling[0]))
        if 1 in seen:
            break
    assert 1 in seen  # right after a call the helper polls: the next caller holds back for it
    time.sleep(0.1)  # far longer than SPIN_POLLS + YIELD_POLLS
    assert numba_threads._pool.polling[0] == 0  # asleep on the condition: nobody waits for it
    numba_threads.run_shared(_mark, (items, owner), 64)
    np.testing.assert_array_equal(items, len(items) * [items[0]])
    assert items[0] >= 2
