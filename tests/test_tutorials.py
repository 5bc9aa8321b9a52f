"""Every tutorial runs from top to bottom, so the numbers its assertions check cannot drift.

Each tutorials/NN_*.py runs as a plain script in its own process, from an empty working directory,
with TINYGRAD_EDU_TUTORIAL_QUICK=1 (fewer epochs and steps; only the accuracy checks that depend on
them are relaxed, never the math). The scripts run in parallel, one BLAS thread each, so that
two cores are shared rather than oversubscribed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _run(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYGRAD_EDU_")}  # the defaults: numpy kernels
    env.update({"TINYGRAD_EDU_TUTORIAL_QUICK": "1", "MPLBACKEND": "Agg", **dict.fromkeys(ONE_THREAD, "1")})
    cwd.mkdir()
    return subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    """Run every tutorial once, in parallel; the finished processes by file name."""
    root = tmp_path_factory.mktemp("tutorials")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {p.name: pool.submit(_run, p, root / p.stem) for p in TUTORIALS}
        return {name: future.result() for name, future in futures.items()}


def test_all_lessons_are_found() -> None:
    assert [p.name[:2] for p in TUTORIALS][:8] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("name", [p.name for p in TUTORIALS])
def test_tutorial_runs(name: str, results: dict[str, subprocess.CompletedProcess]) -> None:
    done = results[name]
    assert done.returncode == 0, (
        f"{name} exited with {done.returncode}\n--- stdout (end) ---\n{done.stdout[-3000:]}\n"
        f"--- stderr (end) ---\n{done.stderr[-3000:]}"
    )
