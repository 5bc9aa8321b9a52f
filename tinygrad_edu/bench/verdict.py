"""The verdicts: every one computed from this run's own figures, none written down in advance.

Two kinds:

- **slow on this CPU.** A CPU kernel backend of ours (numba) that takes more than ``SLOW_FACTOR``
  (3×) NumPy's time on any case it ran, at the same thread count, is reported as slow on this CPU,
  naming the LLVM CPU name and the ISA its kernels were compiled for. Each of its targets then
  reads "SLOW on this CPU", never "met", whatever its own ratio: a kernel that is fast on one
  shape and 30× slow on another (as when LLVM keeps the register tile in memory on one ISA) is
  not a kernel a learner can trust.
- **the issue's targets** (``TARGETS``): a ratio of two medians of this run, at one thread count,
  against a bound; "met" or "NOT met". Matmul ratios are speed ratios (GFLOP/s, higher is
  faster); the others are time ratios (lower is faster) or speed-ups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .report import SLOW_FACTOR, Result, is_ours_on_cpu


@dataclass(frozen=True)
class Target:
    """ratio(line, ref) on a case, against a bound: ``at_least`` for speed ratios, at most for times.

    The ratio is ref's time ÷ line's time when ``at_least`` (a speed ratio or a speed-up), else
    line's time ÷ ref's time.
    """

    what: str
    section: str
    case: str
    line: str
    ref: str
    bound: float
    at_least: bool


TARGETS = (
    Target("numba matmul 1024: GFLOP/s ÷ numpy's", "matmul", "1024", "numba", "numpy", 0.75, True),
    Target("numba matmul 2048: GFLOP/s ÷ numpy's", "matmul", "2048", "numba", "numpy", 0.75, True),
    Target("numba conv 100×3×32×32→6 5×5 fwd+bwd: time ÷ torch-cpu's", "conv", "100×3×32×32→6 5×5", "numba",
           "torch-cpu", 1.0, False),
    Target("numba conv 100×6×14×14→16 5×5 fwd+bwd: time ÷ torch-cpu's", "conv", "100×6×14×14→16 5×5", "numba",
           "torch-cpu", 1.0, False),
    Target("numba LeNet step b100: time ÷ torch-cpu's", "train", "lenet b100", "numba", "torch-cpu", 0.8, False),
    Target("numba MLP step b128: time ÷ torch-cpu's", "train", "mlp b128", "numba", "torch-cpu", 1.0, False),
    Target("cupy matmul 4096: GFLOP/s ÷ cuBLAS's (cupy.matmul)", "matmul", "4096", "cupy", "cupy.matmul", 0.5, True),
    Target("cupy LeNet step b256: speed-up over numba", "train", "lenet b256", "cupy", "numba", 5.0, True),
)  # fmt: skip


def _find(results: Sequence[Result], section: str, case: str, line: str, threads: int | None) -> Result | None:
    return next(
        (
            r
            for r in results
            if (r.section, r.case, r.line) == (section, case, line) and (threads is None or r.threads == threads)
        ),
        None,
    )


def slow_findings(results: Sequence[Result], factor: float = SLOW_FACTOR) -> list[dict[str, Any]]:
    """Every case where a CPU backend of ours took more than ``factor`` × NumPy's time (same case, same threads)."""
    found = []
    for r in results:
        if not is_ours_on_cpu(r.line):
            continue
        numpy_r = _find(results, r.section, r.case, "numpy", r.threads)
        if numpy_r is not None and r.timing.median > factor * numpy_r.timing.median:
            times = r.timing.median / numpy_r.timing.median
            found.append(dict(line=r.line, section=r.section, case=r.case, threads=r.threads, times_numpy=times))
    return found


def targets(
    results: Sequence[Result], threads: int | None = None, slow: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Each target this run has figures for (at ``threads``): the ratio, the bound and the verdict.

    verdict is "met", "NOT met", or "SLOW on this CPU" when ``slow`` (from ``slow_findings``)
    names the target's line; ``met`` is True only for "met".
    """
    slow_lines = {f["line"] for f in slow}
    found = []
    for t in TARGETS:
        mine, ref = (
            _find(results, t.section, t.case, t.line, threads),
            _find(results, t.section, t.case, t.ref, threads),
        )
        if mine is None or ref is None:
            continue
        a, b = mine.timing.median, ref.timing.median
        value = b / a if t.at_least else a / b
        ok = value >= t.bound if t.at_least else value <= t.bound
        verdict = "SLOW on this CPU" if t.line in slow_lines else ("met" if ok else "NOT met")
        found.append(dict(target=t.what, threads=mine.threads, value=value, bound=t.bound, at_least=t.at_least,
                          met=verdict == "met", verdict=verdict))  # fmt: skip
    return found


def target_lines(found: Sequence[dict[str, Any]]) -> list[str]:
    """The targets as printed lines: "what: 0.93× (target ≥ 0.75) met"."""
    return [
        f"{t['target']}: {t['value']:.2f}× (target {'≥' if t['at_least'] else '≤'} {t['bound']}) {t['verdict']}"
        for t in found
    ]


def slow_lines(findings: Sequence[dict[str, Any]], llvm_cpu: str, kernel_target: str) -> list[str]:
    """One line per slow backend: where it was slow, on which CPU, compiled for which ISA."""
    lines = []
    for line in dict.fromkeys(f["line"] for f in findings):
        mine = sorted((f for f in findings if f["line"] == line), key=lambda f: -f["times_numpy"])
        shown = [f"{f['times_numpy']:.1f}× on {f['section']} {f['case']} at {f['threads']} thr" for f in mine[:4]]
        cases = ", ".join(shown) + (f" and {len(mine) - 4} more" if len(mine) > 4 else "")
        lines.append(
            f"SLOW on this CPU: {line} takes more than {SLOW_FACTOR:g}× NumPy's time on {len(mine)} case"
            f"{'s' * (len(mine) != 1)} ({cases}); LLVM CPU {llvm_cpu}, kernels compiled for {kernel_target}. "
            f"Its targets are not met here, whatever their ratios."
        )
    return lines
