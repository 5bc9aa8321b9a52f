"""benchmarks/distributed_bench.py's table (no timing here): the rows the note needs, from fake measurements."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tinygrad_edu.distributed.cost_model import ring_allreduce_seconds

BENCH = Path(__file__).parents[2] / "benchmarks" / "distributed_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("distributed_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_has_1_and_2_processes_measured_then_the_model_at_2_8_and_64():
    bench = _bench()
    fake = {"epoch_s": 1.0, "comm_s": 0.1, "steps": 20, "batch": 128, "grad_bytes": 2_022_040}
    runs = {1: {"mlp": fake, "lenet": fake}, 2: {"mlp": dict(fake, epoch_s=0.6, comm_s=0.2), "lenet": fake}}
    alpha, beta = 3e-6, 0.15e-9
    rows = bench._rows(runs, alpha, beta)
    assert [(r["model"], r["processes"], r["source"]) for r in rows[:5]] == [
        ("mlp", 1, "measured"), ("mlp", 2, "measured"), ("mlp", 2, "α–β model"), ("mlp", 8, "α–β model"),
        ("mlp", 64, "α–β model"),
    ]  # fmt: skip
    assert [r["model"] for r in rows[5:]] == ["lenet"] * 5
    two = rows[1]
    assert two["allreduce_s"] == 0.2 and two["compute_s"] == pytest.approx(0.4) and two["speed_up"] == 1 / 0.6
    at_64 = rows[4]
    comm = 20 * ring_allreduce_seconds(64, 2_022_040, alpha, beta)  # every step's all-reduce
    assert at_64["allreduce_s"] == pytest.approx(comm) and at_64["compute_s"] == pytest.approx(0.9 / 64)
    assert at_64["epoch_s"] == pytest.approx(0.9 / 64 + comm) and at_64["speed_up"] == pytest.approx(
        1 / (0.9 / 64 + comm)
    )
