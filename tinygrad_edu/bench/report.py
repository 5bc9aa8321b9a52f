"""Showing the figures: the machine, one table per section, the issue's targets, bench.json and bench.png.

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

from .timing import Timing, device_of_line, numpy_blas

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ENV_VARS = (*OPENBLAS_VARS, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "TINYGRAD_EDU_KERNELS")


@dataclass
class Result:
    """One figure: a line (backend) on a case of a section, with its timing and, for matmul, its flops."""

    section: str
    case: str
    line: str
    timing: Timing
    flops: float | None = None

    @property
    def gflops(self) -> float | None:
        """GFLOP/s at the median time (matmul only)."""
        return None if self.flops is None else self.flops / self.timing.median / 1e9

    def to_json(self) -> dict[str, Any]:
        """Every raw figure, in seconds."""
        t = self.timing
        d = dict(section=self.section, case=self.case, line=self.line, median_s=t.median, best_s=t.best)
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


def _reference(results: Sequence[Result], r: Result, line: str) -> Result | None:
    """The result of ``line`` on the same case as r, or None."""
    return next((o for o in results if o.section == r.section and o.case == r.case and o.line == line), None)


def torch_line(r: Result) -> str:
    """The PyTorch line r compares with: same device."""
    return "torch-cuda" if device_of_line(r.line) == "cuda" else "torch-cpu"


def section_table(section: str, results: Sequence[Result], repeat: int) -> str:
    """The printed table of one section: median (best), first call, and the ratios."""
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
        rows.append([r.case, r.line, value, f"{r.timing.first * 1e3:.1f}", vs_numpy, vs_torch])
    if section == "matmul":
        title = f"matmul, n×n fp32: GFLOP/s, median (best) of {repeat}; ratios: GFLOP/s ÷ numpy's, ÷ torch's"
        headers = ["n", "line", "GFLOP/s", "first ms", "speed÷numpy", "speed÷torch"]
    else:
        what = "conv2d forward+backward" if section == "conv" else "training step"
        title = f"{what}: ms, median (best) of {repeat}; ratios: time ÷ numpy's, ÷ torch's (same device)"
        headers = ["case", "line", "ms", "first ms", "time÷numpy", "time÷torch"]
    return f"== {title}\n" + format_table(headers, rows)


# ---------------------------------------------------------------------------------------------
# The targets, where this run measured them
# ---------------------------------------------------------------------------------------------


def targets(results: Sequence[Result]) -> list[dict[str, Any]]:
    """Each target of the issue that this run has figures for: what, the ratio reached, the bound, met or not."""
    found: list[dict[str, Any]] = []

    def check(what: str, section: str, case: str, line: str, ref: str, bound: float, at_least: bool) -> None:
        mine = next((r for r in results if (r.section, r.case, r.line) == (section, case, line)), None)
        other = mine and _reference(results, mine, ref)
        if mine is None or other is None:
            return
        value = other.timing.median / mine.timing.median if at_least else mine.timing.median / other.timing.median
        met = value >= bound if at_least else value <= bound
        found.append(dict(target=what, value=value, bound=bound, at_least=at_least, met=met))

    for n in ("1024", "2048"):
        check(f"numba matmul {n}: GFLOP/s ÷ numpy's", "matmul", n, "numba", "numpy", 0.35, True)
    for case in sorted({r.case for r in results if r.section == "conv"}):
        check(f"numba conv {case}: time ÷ numpy's", "conv", case, "numba", "numpy", 1.0, False)
        if case.startswith(("100×3×32×32", "100×6×14×14")):
            check(f"numba conv {case}: time ÷ torch-cpu's", "conv", case, "numba", "torch-cpu", 1.5, False)
    # End-to-end steps: the target is for the backend a learner would pick, the fastest of ours on
    # the CPU (numpy for the BLAS-bound MLP, numba for the convolution-bound LeNet); the tables show all.
    for case, model, bound in (("mlp b128", "MLP", 1.25), ("lenet b100", "LeNet", 1.5)):
        ours = [r for r in results if r.section == "train" and r.case == case and r.line in ("numpy", "numba")]
        if ours:
            best = min(ours, key=lambda r: r.timing.median).line
            check(f"{model} step on the fastest CPU backend ({best}): time ÷ torch-cpu's", "train", case, best,
                  "torch-cpu", bound, False)  # fmt: skip
    check("cupy matmul 4096: GFLOP/s ÷ cupy.matmul's", "matmul", "4096", "cupy", "cupy.matmul", 0.5, True)
    check("cupy LeNet step b256: speed-up over numba", "train", "lenet b256", "cupy", "numba", 5.0, True)
    return found


def target_lines(found: Sequence[dict[str, Any]]) -> list[str]:
    """The targets as printed lines."""
    return [
        f"{t['target']}: {t['value']:.2f}× (target {'≥' if t['at_least'] else '≤'} {t['bound']}) "
        + ("met" if t["met"] else "NOT met")
        for t in found
    ]


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
