"""``tinygrad-edu bench``: how fast is each kernel backend, next to NumPy's BLAS and PyTorch?

    python -m tinygrad_edu.bench --quick          # under a minute on 2 cores
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m tinygrad_edu.bench
    python -m tinygrad_edu.bench --threads 1      # steadier figures when other programs share the cores

One run measures every available kernel backend (``tge.kernels.available()``: numpy, numba,
cupy on a GPU) and, when PyTorch is installed, PyTorch as a comparison line ("torch-cpu", and
"torch-cuda" on a GPU), every library on the same number of threads, in three sections (work.py):
matmul GFLOP/s, conv2d forward+backward ms, and one training step of the seed MLP and LeNet.
It prints the machine and one table per section (report.py), then the issue's targets, and
writes bench.json (every sample) and bench.png to ``--out``. How it times: timing.py.

The package: timing.py (the timer), work.py (what is measured), report.py (tables, chart, machine).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import kernels
from .report import Result, machine_info, machine_lines, save_chart, section_table, target_lines, targets
from .timing import device_of_line, line_fn, thread_counts, time_interleaved
from .work import SECTIONS, Settings, conv_work, matmul_work, missing_kernels, train_work

DESCRIPTION = "How fast is each kernel backend, next to NumPy's BLAS and PyTorch: matmul, conv2d, a training step."
WORK: dict[str, Callable[..., Callable[[], Any]]] = {"matmul": matmul_work, "conv": conv_work, "train": train_work}


def _cases(section: str, settings: Settings, lines: list[str]) -> list[tuple[Any, list[str]]]:
    """(case, the lines that run it) for one section. GPU-only extras run when a GPU line is present."""
    gpu = [line for line in lines if device_of_line(line) == "cuda"]
    if section == "matmul":
        cublas = ["cupy.matmul"] if "cupy" in lines else []  # the yardstick for our SGEMM
        cases = [(n, lines + cublas) for n in settings.matmul_sizes]
        return cases + [(n, gpu + cublas) for n in settings.gpu_matmul_sizes if gpu]
    if section == "conv":
        return [(case, lines) for case in settings.conv_cases]
    return [(case, lines) for case in settings.train_cases] + [(c, lines) for c in settings.gpu_train_cases if gpu]


def measure(section: str, settings: Settings, lines: list[str]) -> tuple[list[Result], list[str]]:
    """Every case of a section, its lines timed interleaved; and notes on the lines left out."""
    results, notes = [], []
    for case, case_lines in _cases(section, settings, lines):
        missing = {line: missing_kernels(line, section, case) for line in case_lines}
        for line, names in missing.items():
            if names:
                notes.append(f"{line} is left out of {section} {case}: its kernel table has no {', '.join(names)} yet")
        case_lines = [line for line in case_lines if not missing[line]]
        if not case_lines:
            continue
        start = time.perf_counter()
        fns = {line: line_fn(line, WORK[section](line, case)) for line in case_lines}
        for line, timing in time_interleaved(fns, settings.repeat, settings.min_sample_s).items():
            flops = 2.0 * case**3 if section == "matmul" else None
            results.append(Result(section, str(case), line, timing, flops))
        elapsed = time.perf_counter() - start
        print(f"  measured {section} {case} ({', '.join(case_lines)}) in {elapsed:.1f} s", file=sys.stderr, flush=True)
        del fns
        gc.collect()  # the next case starts without this one's models and graphs
    return results, notes


def _import_torch() -> Any | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary name in the same folder, then rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def benchmark(settings: Settings, backends: Sequence[str], with_torch: bool = True, out: Path | None = None) -> dict:
    """Measure, print the tables, and (with ``out``) write bench.json and bench.png there; returns the report."""
    torch = _import_torch() if with_torch else None
    with thread_counts(settings.threads, torch) as threads:
        info = machine_info(torch)
        lines = list(backends)
        if torch is not None:
            lines += ["torch-cpu", "torch-cuda"] if torch.cuda.is_available() else ["torch-cpu"]
        print("\n".join(machine_lines(info)))
        threads_text = f"{threads} thread" + ("s" if threads != 1 else "")
        print(f"lines: {', '.join(lines)}; every library computes with {threads_text}")
        print("note: the machine may be shared with other work; figures are medians over interleaved repeats.\n")
        results, notes = [], []
        for section in settings.sections:
            section_results, section_notes = measure(section, settings, lines)
            print(section_table(section, section_results, settings.repeat), flush=True)
            print("".join(f"note: {note}\n" for note in section_notes), flush=True)
            results, notes = results + section_results, notes + section_notes
    if hasattr(os, "getloadavg"):
        info["load_average_at_end"] = os.getloadavg()
        print("load average at the end (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in info["load_average_at_end"]))
    found = targets(results)
    if found:
        print("== the issue's targets (ratios of medians from this run)\n" + "\n".join(target_lines(found)))
    report = dict(settings=asdict(settings), lines=lines, machine=info, results=[r.to_json() for r in results])
    report.update(skipped=notes, targets=found)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "bench.json", lambda p: p.write_text(json.dumps(report, indent=1, default=str)))
        if results:
            title = f"tinygrad-edu bench: {info['cpu']}, {threads_text}, medians of {settings.repeat}"
            _write_atomic(out / "bench.png", lambda p: save_chart(results, p, title))
        print(f"\nwrote {out / 'bench.json'}" + (f" and {out / 'bench.png'}" if results else ""))
    return report


# ---------------------------------------------------------------------------------------------
# Command line (the CLI's `tinygrad-edu bench` calls add_arguments and run)
# ---------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tinygrad-edu bench``."""
    parser.add_argument("--quick", action="store_true", help="matmul up to 512, the LeNet convs, 3 repeats (< 1 min)")
    parser.add_argument(
        "--backends",
        help=f"comma-separated kernel backends (default: all that run here, of {', '.join(kernels.NAMES)})",
    )
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated, of: " + ", ".join(SECTIONS))
    parser.add_argument("--repeat", type=int, help="samples per figure (default 5, or 3 with --quick)")
    parser.add_argument("--out", default="bench_out", help="folder for bench.json and bench.png (default bench_out/)")
    parser.add_argument(
        "--threads",
        type=int,
        help="threads for NumPy's BLAS, Numba and PyTorch alike (default: as many as NumPy's BLAS uses); "
        "--threads 1 steadies the figures on a busy machine",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch comparison lines")


def _names(text: str, valid: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise ValueError(
            f"unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}: choose from {', '.join(valid)}"
        )
    return names


def run(args: argparse.Namespace) -> int:
    """Run the benchmark the arguments describe; 0 on success, 2 (and one line on stderr) on bad arguments."""
    settings = Settings.quick() if args.quick else Settings()
    try:
        settings.sections = _names(args.sections, SECTIONS, "section")
        backends = kernels.available() if args.backends is None else _names(args.backends, kernels.NAMES, "backend")
        for name in backends:
            kernels.get(name)  # a backend that cannot run here says why, rather than vanishing from the table
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"--threads must be at least 1, got {args.threads}")
            settings.threads = args.threads
        if args.repeat is not None:
            if args.repeat < 1:
                raise ValueError(f"--repeat must be at least 1, got {args.repeat}")
            settings.repeat = args.repeat
    except (ValueError, kernels.KernelUnavailable) as e:
        print(f"tinygrad-edu bench: {e}", file=sys.stderr)
        return 2
    benchmark(settings, backends, with_torch=not args.no_torch, out=Path(args.out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinygrad_edu.bench [options]``."""
    parser = argparse.ArgumentParser(prog="tinygrad-edu bench", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


__all__ = ["DESCRIPTION", "Settings", "add_arguments", "benchmark", "main", "measure", "run", "time_interleaved"]
