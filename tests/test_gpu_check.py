"""benchmarks/gpu_check.sh and the GPU bench it runs: what can be checked without a GPU."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tinygrad_edu.bench import gpu_check
from tinygrad_edu.bench.verdict import TARGETS

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.sh"


def test_script_parses_and_installs_without_fetching():
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = SCRIPT.read_text()
    assert "pip install --no-deps --no-build-isolation --no-index -e ." in text
    assert "-m gpu" in text and "tinygrad_edu.bench.gpu_check" in text and "gpu_check.txt" in text
    assert 'REPORT_DIR="${OUT:-benchmarks/out}"' in text
    install = int(re.search(r"\bstep install (\d+) ", text).group(1))
    tests, bench = (int(re.search(rf"{name}:-(\d+)}}", text).group(1)) for name in ("TEST_SECONDS", "BENCH_SECONDS"))
    assert install + tests + bench + 15 < 8 * 60  # every step's time limit, and the kill grace, under 8 minutes


def test_gpu_settings_hold_the_issues_cases():
    settings = gpu_check.gpu_settings()
    assert tuple(settings.matmul_sizes) == (1024,) and tuple(settings.gpu_matmul_sizes) == (4096,)
    assert [c.n for c in settings.conv_cases] == [256, 256]
    assert [str(c) for c in settings.gpu_train_cases] == ["lenet b256", "mlp b256"]
    assert len(settings.threads) == 1
    gpu_targets = {t.case for t in TARGETS if t.line == "cupy"}
    assert gpu_targets == {"4096", "lenet b256"}


def test_without_cupy_the_gpu_bench_says_why_and_exits_0(capsys):
    if gpu_check.gpu_unavailable() is None:
        pytest.skip("the cupy backend runs here: the bench would run")
    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gpu bench skipped: the cupy backend cannot run here: ")
