"""Showing the figures: the machine, one table per section and thread count, bench.json and bench.png.

Ratios follow the issue's wording: matmul speed ÷ numpy's (GFLOP/s, higher is faster); conv and
train time ÷ numpy's and ÷ PyTorch's on the same device (lower is faster).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import kernels, memory
from .timing import Timing, device_of_line, numpy_blas

SLOW_FACTOR = 3.0  # a CPU backend of ours taking more than 3× NumPy's time on a case is slow on this CPU
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ENV_VARS = (
    *OPENBLAS_VARS,
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "TINYGRAD_EDU_KERNELS",
    "TINYGRAD_EDU_KEEP_MEMORY",
)


@dataclass
class Result:
    """One figure: a line (backend) on a case of a section, with its timing and, for matmul, its flops."""

    section: str
    case: str
    line: str
    timing: Timing
    flops: float | None = None
    threads: int = 1

    @property
    def gflops(self) -> float | None:
        """GFLOP/s at the median time (matmul only)."""
        return None if self.flops is None else self.flops / self.timing.median / 1e9

    def to_json(self) -> dict[str, Any]:
        """Every raw figure, in seconds."""
        t = self.timing
        d = dict(section=self.section, case=self.case, line=self.line, threads=self.threads)
        d.update(median_s=t.median, best_s=t.best)
        d.update(first_s=t.first, samples_s=t.samples, calls_per_sample=t.calls_per_sample)
        return d if self.flops is None else {**d, "flops": self.flops, "gflops": self.gflops}


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_target_info() -> dict[str, Any]:
    """LLVM's name for this CPU, and the target and ISA the Numba kernels compile for (None without Numba)."""
    try:
        import llvmlite.binding as ll

        from ..kernels import numba_compile
    except ImportError:
        return dict(llvm_cpu=None, kernel_target=None, kernel_isa=None)
    cpu, features = numba_compile.target()
    return dict(llvm_cpu=ll.get_host_cpu_name(), kernel_target=numba_compile.describe_target(),
                kernel_isa=numba_compile.isa(cpu, features))  # fmt: skip


def blas_core(numpys: dict[str, Any] | None, coretype: str | None) -> str:
    """NumPy's BLAS core type: its library and the kernel it chose (threadpoolctl), and OPENBLAS_CORETYPE."""
    if numpys is None:
        return "unknown (threadpoolctl found no BLAS)"
    kernel = numpys.get("architecture") or "no core type reported"
    forced = f"forced by OPENBLAS_CORETYPE={coretype}" if coretype else "OPENBLAS_CORETYPE unset: chosen for this CPU"
    return f"{numpys['internal_api']} {kernel} ({forced})"


def machine_info(torch: Any | None) -> dict[str, Any]:
    """CPU, versions, the BLAS libraries loaded (threadpoolctl), thread counts, environment, GPU."""
    from threadpoolctl import threadpool_info

    info: dict[str, Any] = dict(cpu=_cpu_model(), cores=os.cpu_count(), platform=platform.platform())
    info.update(python=sys.version.split()[0], numpy=np.__version__, threadpools=threadpool_info())
    info["env"] = {k: os.environ.get(k) for k in ENV_VARS}
    info["load_average_at_start"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    numpys = numpy_blas(info["threadpools"])
    info["threads"] = {"numpy_blas": numpys["num_threads"] if numpys else None}
    try:
        import numba

        info["numba"], info["threads"]["numba"] = numba.__version__, numba.get_num_threads()
    except ImportError:
        pass
    info.update(cpu_target_info())
    info["blas_core"] = blas_core(numpys, info["env"].get("OPENBLAS_CORETYPE"))
    info["malloc"] = memory.describe()
    if torch is not None:
        info["torch"], info["threads"]["torch"] = torch.__version__, torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def machine_lines(info: dict[str, Any]) -> list[str]:
    """The header printed before the tables."""
    lines = [f"machine: {info['cpu']}, {info['cores']} cores; {info['platform']}; Python {info['python']}"]
    versions = [f"NumPy {info['numpy']}"] + [f"{k} {info[k]}" for k in ("numba", "torch") if k in info]
    lines.append("versions: " + ", ".join(versions) + (f"; GPU: {info['gpu']}" if "gpu" in info else ""))
    if info.get("llvm_cpu"):
        lines.append(f"LLVM CPU name: {info['llvm_cpu']}; Numba kernels compiled for {info['kernel_target']}")
    lines.append(f"BLAS core type: {info['blas_core']}")
    if info.get("malloc"):
        lines.append(info["malloc"])
    numpys = numpy_blas(info["threadpools"])
    for p in info["threadpools"]:
        whose = "NumPy's BLAS" if p is numpys else p["user_api"]
        version = f" {p['version']}" if p.get("version") else ""
        kernel = f", kernel {p['architecture']}" if p.get("architecture") else ""
        lines.append(
            f"{whose}: {p['internal_api']}{version}{kernel}, {p['num_threads']} thread{'s' * (p['num_threads'] != 1)} "
            f"({os.path.basename(p['filepath'])})"
        )
    load = info.get("load_average_at_start")
    if load is not None:
        busy = " (other programs are running: expect noisy figures)" if load[0] > 1 else ""
        lines.append(
            f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in load)} on {info['cores']} cores{busy}"
        )
    lines.append("threads: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in info["threads"].items()))
    others = [f"{k}={v}" for k, v in info["env"].items() if v is not None and k not in OPENBLAS_VARS]
    lines.append("environment: " + (", ".join(others) or "no thread or kernel variables set"))
    if all(info["env"].get(var) is None for var in OPENBLAS_VARS):
        lines.append(f"{' and '.join(OPENBLAS_VARS)} are unset: OpenBLAS picks its kernel for this CPU")
    for var in OPENBLAS_VARS:
        if info["env"].get(var) is not None:
            lines.append(
                f"WARNING: {var}={info['env'][var]} is set: NumPy's BLAS may not use its best kernel; the issue's "
                "targets are measured with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE tinygrad-edu bench`"
            )
    return lines


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> str:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])


def ratio(value: float | None, reference: float | None) -> str:
    """value ÷ reference as "0.42×", or "" when either is missing."""
    return "" if value is None or reference is None else f"{value / reference:.2f}×"


def _figure(r: Result) -> float:
    """The number a section is judged by: GFLOP/s for matmul, ms otherwise."""
    return r.gflops if r.flops is not None else r.timing.median * 1e3  # type: ignore[return-value]


def _reference(results: Sequence[Result], r: Result, line: str, threads: int | None = None) -> Result | None:
    """The result of ``line`` on the same case as r, at r's thread count (or at ``threads``), or None."""
    n = r.threads if threads is None else threads
    return next((o for o in results if (o.section, o.case, o.line, o.threads) == (r.section, r.case, line, n)), None)


def torch_line(r: Result) -> str:
    """The PyTorch line r compares with: same device."""
    return "torch-cuda" if device_of_line(r.line) == "cuda" else "torch-cpu"


FIRST_MS = (
    "first ms: the first call of each line, timed alone before any other: Numba compiles its kernels "
    "then (or loads them from its cache), the libraries allocate and wake their threads; it is not in the median"
)


def is_ours_on_cpu(line: str) -> bool:
    """A CPU kernel backend of ours other than the NumPy reference (the lines the slow rule judges)."""
    return line != "numpy" and line in kernels.NAMES and kernels.DEVICE[line] == "cpu"


def section_table(section: str, results: Sequence[Result], repeat: int) -> str:
    """The printed table of one section: median (best), first call, and the ratios; the thread count in the title."""
    rows = []
    for r in results:
        numpy_r, torch_r = _reference(results, r, "numpy"), _reference(results, r, torch_line(r))
        if section == "matmul":  # speed ratios (the issue: "≥ 0.35× NumPy GFLOP/s")
            value = f"{r.gflops:.1f} ({r.flops / r.timing.best / 1e9:.1f})"  # type: ignore[operator]
            vs_numpy = ratio(r.gflops, numpy_r and numpy_r.gflops)
            vs_torch = ratio(r.gflops, torch_r and torch_r.gflops)
        else:  # time ratios (the issue: "at most 1.5× PyTorch")
            value = f"{r.timing.median * 1e3:.2f} ({r.timing.best * 1e3:.2f})"
            vs_numpy = ratio(r.timing.median, numpy_r and numpy_r.timing.median)
            vs_torch = ratio(r.timing.median, torch_r and torch_r.timing.median)
        slow = is_ours_on_cpu(r.line) and numpy_r is not None and r.timing.median > SLOW_FACTOR * numpy_r.timing.median
        rows.append([r.case, r.line, value, f"{r.timing.first * 1e3:.1f}", vs_numpy, vs_torch, "SLOW here" * slow])
    if section == "matmul":
        title = f"matmul, n×n fp32: GFLOP/s, median (best) of {repeat}; ratios: GFLOP/s ÷ numpy's, ÷ torch's"
        headers = ["n", "line", "GFLOP/s", "first ms", "speed÷numpy", "speed÷torch", ""]
    else:
        what = "conv2d forward+backward" if section == "conv" else "training step"
        title = f"{what}: ms, median (best) of {repeat}; ratios: time ÷ numpy's, ÷ torch's (same device)"
        headers = ["case", "line", "ms", "first ms", "time÷numpy", "time÷torch", ""]
    counts = sorted({r.threads for r in results}, reverse=True)
    title += ", at " + " and ".join(f"{n} thread{'s' * (n != 1)}" for n in counts)
    return f"== {title}\n" + format_table(headers, rows)


def threads_table(results: Sequence[Result]) -> str | None:
    """What threads buy: for each case and line measured at several thread counts, time at 1 thread ÷ time at n."""
    counts = sorted({r.threads for r in results}, reverse=True)
    if len(counts) < 2:
        return None
    rows = []
    for r in results:
        if r.threads != counts[0]:
            continue
        others = [_reference(results, r, r.line, n) for n in counts[1:]]
        if any(o is None for o in others):
            continue
        cells = [f"{o.timing.median / r.timing.median:.2f}×" for o in others]  # type: ignore[union-attr]
        rows.append([f"{r.section} {r.case}", r.line, *cells])
    headers = ["case", "line", *(f"{counts[0]} thr vs {n}" for n in counts[1:])]
    title = f"== what threads buy: time at fewer threads ÷ time at {counts[0]} (speed-up; 1.00× = nothing gained)"
    return title + "\n" + format_table(headers, rows)


# ---------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------


def save_chart(results: Sequence[Result], path: Path, title: str = "") -> None:
    """bench.png: one panel per section, grouped bars (one per line, same colour in every panel) per case, log scale."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    sections = list(dict.fromkeys(r.section for r in results))
    colours = {line: f"C{i}" for i, line in enumerate(dict.fromkeys(r.line for r in results))}
    width_in = 5.5 * len(sections)
    fig = Figure(figsize=(width_in, 4.8))
    fig.subplots_adjust(left=0.9 / width_in, right=1 - 0.2 / width_in, bottom=0.2, top=0.86, wspace=0.3)
    fig.suptitle(title, fontsize=10)
    FigureCanvasAgg(fig)
    for i, section in enumerate(sections, start=1):
        ax = fig.add_subplot(1, len(sections), i)
        mine = [r for r in results if r.section == section]
        cases, lines = list(dict.fromkeys(r.case for r in mine)), list(dict.fromkeys(r.line for r in mine))
        width = 0.8 / len(lines)
        for j, line in enumerate(lines):
            points = [(k, _figure(r)) for k, c in enumerate(cases) for r in mine if r.case == c and r.line == line]
            xs = [k + (j - (len(lines) - 1) / 2) * width for k, _ in points]
            bars = ax.bar(xs, [v for _, v in points], width, label=line, color=colours[line])
            ax.bar_label(bars, fmt="%.3g", fontsize=6)
        ax.set_xticks(range(len(cases)), cases, rotation=20, ha="right", fontsize=8)
        ax.set_yscale("log")
        values = [_figure(r) for r in mine]
        ax.set_ylim(min(values) / 3, max(values) * 4)  # room for the bar labels and the legend
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # ticks at 1, 2, 5, 10, 20, ...
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 20, not 2×10¹
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("GFLOP/s (higher is faster)" if section == "matmul" else "ms (lower is faster)")
        ax.set_title({"matmul": "matmul fp32", "conv": "conv2d fwd+bwd", "train": "training step"}[section])
        ax.legend(fontsize=8, loc="upper left", ncols=len(lines))
    fig.savefig(path, format="png", dpi=110)
