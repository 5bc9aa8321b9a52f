"""The benchmark's machinery: the timer (on a fake clock), the tables and ratios, the targets, and one tiny real run.

No assertion here is about speed: the figures of a real run are only checked to be there and positive.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from tinygrad_edu.bench import _cases, add_arguments, benchmark, run
from tinygrad_edu.bench.report import Result, format_table, ratio, section_table
from tinygrad_edu.bench.timing import Timing, time_interleaved
from tinygrad_edu.bench.verdict import slow_findings, slow_lines, targets
from tinygrad_edu.bench.work import ConvCase, Settings, TrainCase, conv_work, matmul_work, train_work


class FakeClock:
    """A clock that only moves when a fake function 'runs' for a scripted number of seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def scripted(clock: FakeClock, durations: list[float], log: list[str], name: str):
    """A function whose k-th call takes durations[k] seconds of fake time (the last one repeats)."""
    calls = iter(durations)
    last = [durations[-1]]

    def fn() -> None:
        last[0] = next(calls, last[0])
        clock.now += last[0]
        log.append(name)

    return fn


def test_timer_first_call_median_best_and_interleaving():
    clock, log = FakeClock(), []
    fns = {
        # compiles on the first call; each sample's untimed call (9 s) must not count
        "a": scripted(clock, [5.0, 1.0, 1.0, 1.0, 9.0, 3.0, 9.0, 1.0, 9.0, 2.0], log, "a"),
        "b": scripted(clock, [0.5, 0.5, 0.5, 0.5, 9.0, 0.7, 9.0, 0.4, 9.0, 0.6], log, "b"),
    }
    t = time_interleaved(fns, repeat=3, min_sample_s=0.0, clock=clock, settle_s=0.0)
    assert t["a"].first == 5.0 and t["a"].samples == pytest.approx([3.0, 1.0, 2.0])
    assert t["a"].median == pytest.approx(2.0) and t["a"].best == pytest.approx(1.0) and t["a"].calls_per_sample == 1
    assert t["b"].first == 0.5 and t["b"].median == pytest.approx(0.6) and t["b"].best == pytest.approx(0.4)
    # first call and three warm-up calls of each, then rounds (an untimed call, then the sample) that start
    # with a different line each time
    assert log == ["a"] * 4 + ["b"] * 4 + ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]


def test_timer_samples_last_at_least_min_sample_s_and_report_per_call():
    clock, log = FakeClock(), []
    fn = scripted(clock, [0.5, 0.02, 0.003, 0.003], log, "f")  # a compile, one slow call, then 3 ms calls
    t = time_interleaved({"f": fn}, 2, 0.01, clock=clock)
    # the fastest of the three warm-up calls (3 ms, not the slow 20 ms) decides: 4 calls make 10 ms
    assert t["f"].first == 0.5 and t["f"].calls_per_sample == 4
    assert t["f"].samples == pytest.approx([0.003, 0.003])
    assert len(log) == 1 + 3 + 2 * (4 + 4)  # first, warm-up, (as many untimed calls as the sample) per repeat
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        time_interleaved({"f": lambda: None}, 0, 0.0)


def test_timing_median_of_even_count_and_best():
    t = Timing(first=1.0, samples=[4.0, 1.0, 3.0, 2.0])
    assert t.median == 2.5 and t.best == 1.0


def test_format_table_aligns_columns():
    text = format_table(["n", "line", "GFLOP/s"], [["128", "numpy", "12.5"], ["2048", "numba", "3.0"]])
    lines = text.splitlines()
    assert lines[0] == "n     line   GFLOP/s"
    assert lines[1] == "----  -----  -------"
    assert lines[2] == "128   numpy     12.5"  # text left, numbers right
    assert lines[3] == "2048  numba      3.0"
    assert ratio(1.0, 4.0) == "0.25×" and ratio(None, 1.0) == "" and ratio(1.0, None) == ""


def _result(section, case, line, seconds, flops=None):
    return Result(section, case, line, Timing(first=seconds * 10, samples=[seconds, seconds * 2, seconds]), flops)


def test_section_tables_show_speed_ratios_for_matmul_and_time_ratios_otherwise():
    flops = 2.0 * 1024**3
    matmul = [_result("matmul", "1024", "numpy", 0.01, flops), _result("matmul", "1024", "numba", 0.04, flops)]
    text = section_table("matmul", matmul, repeat=3)
    numba_row = next(line for line in text.splitlines() if "numba" in line)
    assert "53.7 (53.7)" in numba_row and "0.25×" in numba_row  # 2·1024³ flops / 40 ms; speed ÷ numpy's
    conv = [
        _result("conv", "c", "numpy", 0.010),
        _result("conv", "c", "numba", 0.004),
        _result("conv", "c", "torch-cpu", 0.002),
    ]
    numba_row = next(line for line in section_table("conv", conv, repeat=3).splitlines() if "numba" in line)
    assert numba_row.split()[-2:] == ["0.40×", "2.00×"]  # time ÷ numpy's, time ÷ torch's
    assert "4.00 (4.00)" in numba_row and "40.0" in numba_row  # median (best) ms, first call ms


def test_targets_are_judged_in_the_issues_direction():
    results = [
        _result("matmul", "1024", "numpy", 0.010, 1.0),
        _result("matmul", "1024", "numba", 0.0125, 1.0),  # 0.8× numpy's speed: met (≥ 0.75)
        _result("train", "mlp b128", "numpy", 0.014),
        _result("train", "mlp b128", "numba", 0.013),
        _result("train", "mlp b128", "torch-cpu", 0.010),  # 1.3× torch's time: not met (≤ 1.0)
    ]
    found = {t["target"]: t for t in targets(results, 1, slow_findings(results))}
    mm, step = "numba matmul 1024: GFLOP/s ÷ numpy's", "numba MLP step b128: time ÷ torch-cpu's"
    assert set(found) == {mm, step}
    assert found[mm]["value"] == pytest.approx(0.8) and found[mm]["met"] and found[mm]["verdict"] == "met"
    assert found[step]["value"] == pytest.approx(1.3) and found[step]["verdict"] == "NOT met"


def test_a_broken_kernel_is_reported_slow_on_this_cpu_never_met():
    results = [
        _result("matmul", "1024", "numpy", 0.010, 1.0),
        _result("matmul", "1024", "numba", 0.0125, 1.0),  # its own target ratio would pass (0.8×) ...
        _result("conv", "c", "numpy", 0.002),
        _result("conv", "c", "numba", 0.100),  # ... but 50× NumPy's time here
    ]
    slow = slow_findings(results)
    assert [(f["line"], f["case"]) for f in slow] == [("numba", "c")] and slow[0]["times_numpy"] == pytest.approx(50)
    (t,) = targets(results, 1, slow)
    assert t["verdict"] == "SLOW on this CPU" and not t["met"]
    (line,) = slow_lines(slow, "znver4", "znver4 with AVX-512 (512-bit zmm, FMA)")
    assert "SLOW on this CPU: numba" in line and "50.0× on conv c" in line
    assert "LLVM CPU znver4" in line and "AVX-512" in line and "not met" in line
    assert "SLOW here" in section_table("conv", results[2:], repeat=3)


def test_gpu_only_cases_run_only_with_a_gpu_line():
    settings = Settings(matmul_sizes=(128,), gpu_matmul_sizes=(4096,), train_cases=(TrainCase("mlp", 128),))
    assert _cases("matmul", settings, ["numpy", "torch-cpu"]) == [(128, ["numpy", "torch-cpu"])]
    cases = _cases("matmul", settings, ["numba", "cupy", "torch-cpu"])
    assert cases == [(128, ["numba", "cupy", "torch-cpu", "cupy.matmul"]), (4096, ["cupy", "cupy.matmul"])]
    assert [str(c) for c, _ in _cases("train", settings, ["numba", "cupy"])] == ["mlp b128", "lenet b256"]


def test_torch_lines_do_the_same_work():
    pytest.importorskip("torch")
    c = matmul_work("torch-cpu", 8)()
    np.testing.assert_allclose(c.numpy(), matmul_work("numpy", 8)(), rtol=1e-5, atol=1e-5)
    conv_work("torch-cpu", ConvCase(2, 3, 8, 8, 4, 3, padding=1))()
    train_work("torch-cpu", TrainCase("lenet", 2))()


def test_a_tiny_real_run_writes_json_and_png(tmp_path, capsys):
    settings = Settings(
        matmul_sizes=(64,),
        conv_cases=(ConvCase(2, 3, 12, 12, 4, 5),),
        train_cases=(TrainCase("mlp", 2), TrainCase("lenet", 2)),
        repeat=1,
        min_sample_s=0.0,
        sections=("matmul", "conv", "train"),
        threads=(1,),
    )
    report = benchmark(settings, ["numpy"], with_torch=False, out=tmp_path)
    printed = capsys.readouterr().out
    assert "NumPy's BLAS:" in printed and "threads:" in printed and "== matmul" in printed and "mlp b2" in printed
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["results"] == json.loads(json.dumps(report["results"]))
    assert [(r["section"], r["case"], r["line"]) for r in saved["results"]] == [
        ("matmul", "64", "numpy"),
        ("conv", "2×3×12×12→4 5×5", "numpy"),
        ("train", "mlp b2", "numpy"),
        ("train", "lenet b2", "numpy"),
    ]
    assert all(r["median_s"] > 0 and len(r["samples_s"]) == 1 for r in saved["results"])
    assert saved["results"][0]["gflops"] > 0 and "cpu" in saved["machine"]
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json", "bench.png"]  # no temporary files left


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--backends", "numpy,tpu"], "unknown backend 'tpu': choose from numpy, numba, cupy"),
        (["--sections", "matmul,fft"], "unknown section 'fft': choose from matmul, conv, train"),
        (["--repeat", "0"], "--repeat must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--threads", "2,x"], "--threads takes comma-separated whole numbers"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys, tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args([*argv, "--out", str(tmp_path)])) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_machine_header_names_blas_threads_and_warns_about_openblas_variables(monkeypatch):
    from tinygrad_edu.bench.report import machine_info, machine_lines

    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    text = "\n".join(machine_lines(machine_info(None)))
    assert "NumPy's BLAS:" in text and "threads: numpy blas" in text
    assert "are unset" in text and "WARNING" not in text
    assert "LLVM CPU name: " in text and "Numba kernels compiled for" in text and "BLAS core type: " in text
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    text = "\n".join(machine_lines(machine_info(None)))
    assert "WARNING: OPENBLAS_CORETYPE=Haswell is set" in text and "env -u OPENBLAS_CORETYPE" in text


def test_a_backend_without_a_kernel_is_left_out_with_a_note(monkeypatch):
    from tinygrad_edu import kernels
    from tinygrad_edu.bench import measure

    monkeypatch.delattr(kernels.get("numpy"), "conv2d_backward_weight")
    settings = Settings(conv_cases=(ConvCase(1, 1, 6, 6, 2, 3),), repeat=1, min_sample_s=0.0)
    results, notes = measure("conv", settings, ["numpy"])
    assert results == []
    assert notes == ["numpy is left out of conv 1×1×6×6→2 3×3: its kernel table has no conv2d_backward_weight yet"]
    results, notes = measure("train", Settings(train_cases=(TrainCase("mlp", 2),), repeat=1, min_sample_s=0), ["numpy"])
    assert [r.case for r in results] == ["mlp b2"] and notes == []  # the MLP needs matmul only


def test_thread_counts_sets_every_library_and_restores():
    numba = pytest.importorskip("numba")
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_info

    from tinygrad_edu.bench.timing import blas_threads, thread_counts

    before = (blas_threads(), numba.get_num_threads(), torch.get_num_threads())
    with thread_counts(1, torch) as n:
        assert n == 1 and (blas_threads(), numba.get_num_threads(), torch.get_num_threads()) == (1, 1, 1)
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert (blas_threads(), numba.get_num_threads(), torch.get_num_threads()) == before


def test_one_run_measures_every_thread_count_and_shows_what_threads_buy(tmp_path, capsys):
    settings = Settings(matmul_sizes=(64,), repeat=1, min_sample_s=0.0, sections=("matmul",), threads=(2, 1))
    report = benchmark(settings, ["numpy"], with_torch=False, out=None)
    assert sorted(r["threads"] for r in report["results"]) == [1, 2]
    printed = capsys.readouterr().out
    assert "at 2 threads" in printed and "at 1 thread" in printed and "what threads buy" in printed
    assert "first ms: the first call" in printed and "LLVM CPU name:" in printed


def test_the_busy_process_is_stopped_even_when_the_measurement_fails():
    from tinygrad_edu.bench.load import busy_core

    with pytest.raises(RuntimeError, match="boom"):
        with busy_core() as proc:
            assert proc.poll() is None  # spinning
            raise RuntimeError("boom")
    assert proc.poll() is not None


def test_help_explains_first_ms_and_the_verdicts():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    text = parser.format_help()
    assert "first ms: the first call" in text and "SLOW on this CPU" in text and "1.25x" in text
