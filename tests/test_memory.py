"""tinygrad_edu.memory: a step's freed arrays are reused, not faulted in again from the OS."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import tinygrad_edu.memory as memory

# 20 rounds of eight 2 MiB arrays written and freed, as a training step allocates and frees its
# activations; prints whether malloc was changed and the minor page faults per round.
ROUNDS = """
import resource, numpy as np
import tinygrad_edu.memory as m
def rounds(n):
    for _ in range(n):
        arrays = [np.ones(1 << 19, dtype=np.float32) for _ in range(8)]
        del arrays
rounds(3)
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
print(m.kept, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 20)
"""

glibc_only = pytest.mark.skipif(not memory._glibc(), reason="tinygrad_edu.memory changes glibc's malloc only")


def _faults_per_round(keep: str) -> tuple[bool, float]:
    env = {**os.environ, "TINYGRAD_EDU_KEEP_MEMORY": keep}
    out = subprocess.run([sys.executable, "-c", ROUNDS], env=env, capture_output=True, text=True, check=True)
    kept, faults = out.stdout.split()
    return kept == "True", float(faults)


@glibc_only
def test_freed_arrays_are_reused_without_page_faults_and_opting_out_leaves_malloc_alone() -> None:
    kept, faults = _faults_per_round("1")
    assert kept
    # 8 × 2 MiB = 4096 pages per round would fault if the memory went back to the OS
    assert faults < 100, faults
    kept_off, faults_off = _faults_per_round("0")
    assert not kept_off
    # with glibc's own thresholds the heap is trimmed each round (here: all 4096 pages fault again)
    assert faults_off > faults, (faults_off, faults)


def test_describe_says_what_was_done() -> None:
    line = memory.describe()
    assert line.startswith("malloc: ")
    assert ("64 MiB" in line) == memory.kept
