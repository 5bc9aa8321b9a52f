"""``tinygrad-edu bench``: how fast is each kernel backend, next to NumPy's BLAS and PyTorch, and can it be trusted?

    python -m tinygrad_edu.bench --quick          # about two minutes on 2 cores
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m tinygrad_edu.bench
    python -m tinygrad_edu.bench --threads 1      # one thread count only: steadier on a busy machine

One run measures every available kernel backend (``tge.kernels.available()``: numpy, numba,
cupy on a GPU) and, when PyTorch is installed, PyTorch as a comparison line ("torch-cpu", and
"torch-cuda" on a GPU), every library on the same number of threads: first on as many threads
as NumPy's BLAS uses (2 on the project's machine), then again on 1, so a reader sees what the
threads buy (work.py: matmul GFLOP/s, conv2d forward+backward ms, one training step of the seed
MLP and LeNet). Then the "load" section (load.py) starts a busy process of its own and times a
2-thread call against a 1-thread call while it runs, and stops it again.

The header names the machine: the CPU, LLVM's name for it and the ISA the Numba kernels compile
for (kernels/numba_compile.py; NUMBA_CPU_NAME and NUMBA_CPU_FEATURES are honoured), NumPy's BLAS
and its core type (threadpoolctl's architecture, OPENBLAS_CORETYPE when set), thread counts and
environment. Each table has a "first ms" column: the first call of each line, timed alone
before any other (Numba compiles its kernels then, or loads them from its cache); it is shown,
not used in any ratio. Every verdict at the end is computed from the run's own figures
(verdict.py): a CPU backend that takes more than 3× NumPy's time on any case is reported as slow
on this CPU, with the LLVM CPU name and the ISA, and none of its targets reads "met". It writes
bench.json (every sample) and bench.png to ``--out``. How it times: timing.py.

The package: timing.py (the timer), work.py (what is measured), load.py (threads under load),
report.py (header, tables, chart), verdict.py (slow on this CPU, the issue's targets).
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
from .load import load_line, load_table, measure_load
from .report import FIRST_MS, Result, machine_info, machine_lines, save_chart, section_table, threads_table
from .timing import blas_threads, device_of_line, line_fn, thread_counts, time_interleaved
from .verdict import slow_findings, slow_lines, target_lines, targets
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


def measure(section: str, settings: Settings, lines: list[str], threads: int = 1) -> tuple[list[Result], list[str]]:
    """Every case of a section, its lines timed interleaved (at ``threads``, as set); notes on lines left out."""
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
            results.append(Result(section, str(case), line, timing, flops, threads))
        elapsed = time.perf_counter() - start
        print(f"  measured {section} {case} ({', '.join(case_lines)}) at {threads} thr in {elapsed:.1f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        del fns
        gc.collect()  # the next case starts without this one's models and graphs
    return results, notes


def thread_list(threads: Sequence[int] | None) -> list[int]:
    """The thread counts to measure at, most first: ``--threads``, or NumPy's BLAS count and then 1."""
    if threads:
        return sorted(set(threads), reverse=True)
    n = blas_threads()
    return [n, 1] if n > 1 else [1]


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


def _plural(n: int) -> str:
    return f"{n} thread" + ("s" if n != 1 else "")


def benchmark(settings: Settings, backends: Sequence[str], with_torch: bool = True, out: Path | None = None) -> dict:
    """Measure at every thread count, print the tables and the verdicts; with ``out``, write bench.json and bench.png.

    Returns the report (what bench.json holds).
    """
    torch = _import_torch() if with_torch else None
    counts = thread_list(settings.threads)
    with thread_counts(counts[0], torch):
        info = machine_info(torch)
    notes: list[str] = []
    lines = list(backends)
    if torch is not None:
        lines += ["torch-cpu", "torch-cuda"] if torch.cuda.is_available() else ["torch-cpu"]
    if not any(device_of_line(line) == "cuda" for line in lines):
        from .gpu_check import gpu_unavailable

        why = gpu_unavailable() or "no cupy line was asked for (--backends)"
        notes.append(f"the GPU cases (our SGEMM vs cuBLAS at 4096, the LeNet step at batch 256) are left out: {why}")
    print("\n".join(machine_lines(info)))
    print(f"lines: {', '.join(lines)}; every library computes with the same thread count: "
          f"{' then '.join(_plural(n) for n in counts)}")  # fmt: skip
    print("note: the machine may be shared with other work; figures are medians over interleaved repeats.")
    print(f"note: {FIRST_MS}.\n")
    print("".join(f"note: {note}\n" for note in notes))
    results: list[Result] = []
    timed = [s for s in settings.sections if s != "load"]
    for n in counts:
        with thread_counts(n, torch):
            for section in timed:
                section_results, section_notes = measure(section, settings, lines, n)
                print(section_table(section, section_results, settings.repeat), flush=True)
                print("".join(f"note: {note}\n" for note in section_notes if note not in notes), flush=True)
                results += section_results
                notes += [note for note in section_notes if note not in notes]
    table = threads_table(results)
    if table:
        print(table + "\n")
    load_rows: list[dict[str, Any]] = []
    if "load" in settings.sections:
        line = load_line(counts[0])
        if line is None:
            notes.append(f"the load section needs numba and more than 1 thread (here: {_plural(counts[0])}): skipped")
            print(f"note: {notes[-1]}")
        else:
            with thread_counts(counts[0], torch):
                load_rows = measure_load(counts[0], settings.repeat, settings.min_sample_s, line)
            print(load_table(load_rows, settings.repeat) + "\n")
    if hasattr(os, "getloadavg"):
        info["load_average_at_end"] = os.getloadavg()
        print("load average at the end (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in info["load_average_at_end"]))
    slow = slow_findings(results)
    found = [t for n in counts for t in targets(results, n, slow)]
    print(verdicts_text(info, counts, slow, found, load_rows))
    report = dict(settings=asdict(settings), lines=lines, machine=info, results=[r.to_json() for r in results])
    report.update(skipped=notes, slow=slow, targets=found, load=load_rows)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "bench.json", lambda p: p.write_text(json.dumps(report, indent=1, default=str)))
        chart = [r for r in results if r.threads == counts[0]]
        if chart:
            title = f"tinygrad-edu bench: {info['cpu']}, {_plural(counts[0])}, medians of {settings.repeat}"
            _write_atomic(out / "bench.png", lambda p: save_chart(chart, p, title))
        print(f"\nwrote {out / 'bench.json'}" + (f" and {out / 'bench.png'}" if chart else ""))
    return report


def verdicts_text(
    info: dict[str, Any],
    counts: Sequence[int],
    slow: Sequence[dict[str, Any]],
    found: Sequence[dict[str, Any]],
    load_rows: Sequence[dict[str, Any]],
) -> str:
    """The closing section: backends slow on this CPU, then the targets at each thread count, then under load."""
    out = ["== verdicts, computed from this run's figures (ratios of medians)"]
    out += slow_lines(slow, info.get("llvm_cpu") or "unknown", info.get("kernel_target") or "unknown")
    for n in counts:
        mine = [t for t in found if t["threads"] == n]
        if mine:
            which = "the verdicts" if n == counts[0] else "the same ratios with fewer threads, to show what threads buy"
            out.append(f"at {_plural(n)} ({which}):")
            out += ["  " + line for line in target_lines(mine)]
    for r in load_rows:
        out.append(f"under load, {r['line']} {r['case']}: {r['threads']}-thread time ÷ 1-thread time {r['ratio']:.2f}× "
                   f"(target ≤ {r['bound']}) {'met' if r['met'] else 'NOT met'}")  # fmt: skip
    if len(out) == 1:
        out.append("no target of the issue was measured in this run")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Command line (the CLI's `tinygrad-edu bench` calls add_arguments and run)
# ---------------------------------------------------------------------------------------------


EPILOG = f"""\
columns: "ms" / "GFLOP/s" is the median of --repeat samples (the best in brackets); {FIRST_MS};
"time÷numpy" and "time÷torch" are ratios of medians on the same case and thread count.

verdicts: a CPU backend of ours (numba) that takes more than 3× NumPy's time on any case is reported as
"SLOW on this CPU", naming LLVM's CPU name and the ISA its kernels compiled for; its targets then never read
"met". The issue's targets: numba SGEMM >= 0.75x NumPy's GFLOP/s at 1024 and 2048; numba conv forward+backward
<= 1.0x PyTorch's time on both LeNet layers; the seed LeNet step on numba <= 0.8x and the seed MLP step
<= 1.0x PyTorch's time; on a GPU our SGEMM >= 0.5x cuBLAS at 4096 and the LeNet step (batch 256) on cupy
>= 5x faster than on numba. The load section: with one core kept busy by a process the bench starts (and
always stops), an n-thread call (n: the first thread count) may take at most 1.25x the 1-thread call.

the targets are for `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE tinygrad-edu bench` (OpenBLAS picks its
own kernel for the CPU)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tinygrad-edu bench`` (and its --help text: what the columns and verdicts mean)."""
    parser.description = parser.description or DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--quick", action="store_true", help="matmul up to 512, the LeNet convs, 3 repeats (about 2 min on 2 cores)"
    )
    parser.add_argument(
        "--backends",
        help=f"comma-separated kernel backends (default: all that run here, of {', '.join(kernels.NAMES)})",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated, of: " + ", ".join(SECTIONS) + " (load: threads under load, with a busy process)",
    )
    parser.add_argument("--repeat", type=int, help="samples per figure (default 9, or 3 with --quick)")
    parser.add_argument("--out", default="bench_out", help="folder for bench.json and bench.png (default bench_out/)")
    parser.add_argument(
        "--threads",
        help="comma-separated thread counts for NumPy's BLAS, Numba and PyTorch alike, each measured in turn "
        "(default: as many as NumPy's BLAS uses, then 1, e.g. 2,1); --threads 1 alone steadies the figures on a "
        "busy machine",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch comparison lines")


def _thread_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--threads takes comma-separated whole numbers such as 2,1, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise ValueError(f"--threads must be at least 1, got {text}")
    return counts


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
            settings.threads = _thread_counts(str(args.threads))
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
    parser = argparse.ArgumentParser(prog="tinygrad-edu bench", description=DESCRIPTION)  # epilog: add_arguments
    add_arguments(parser)
    return run(parser.parse_args(argv))


__all__ = [
    "DESCRIPTION",
    "Settings",
    "add_arguments",
    "benchmark",
    "main",
    "measure",
    "run",
    "thread_list",
    "time_interleaved",
    "verdicts_text",
]
