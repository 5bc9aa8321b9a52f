"""Every lesson runs as a notebook, top to bottom, so the numbers its assertions check cannot drift.

Each ``tutorials/NN_*.py`` (a jupytext percent file) is converted to a notebook and executed by nbclient in a
fresh Jupyter kernel, with ``TGE_FAST=1`` (smaller sizes; only the claims that depend on them are relaxed, never
the math), its working directory ``tutorials/`` as in JupyterLab, the Agg backend and one BLAS/Numba thread.
Two or three lessons run at once, each in its own process and kernel, so two cores are shared rather than
oversubscribed. Then every lesson is checked for the course's form (COURSE.md): no cell fails, at least one
figure shows inline, at least two hidden answer cells (tagged ``solution``) ran, the first cell says what the
learner will be able to do and how long it takes, and the markdown carries its math in LaTeX.

One lesson also runs as a plain script from another directory, to prove that form works too and saves its
figure to ``tutorials/out/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

try:
    import fcntl  # to share one run between pytest-xdist workers (POSIX)
except ImportError:  # pragma: no cover - Windows runs the lessons once per worker
    fcntl = None

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"
LESSONS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]_*.py"))
NAMES = [p.name for p in LESSONS]
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
CELL_TIMEOUT_S = 240  # per cell; a fast-mode lesson takes well under 20 s in all
WORKERS = 3


def lesson_env() -> dict[str, str]:
    """The environment a lesson runs in: fast mode, no display, one thread, the default (numpy) kernels."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYGRAD_EDU_", "TGE_"))}
    env.update({"TGE_FAST": "1", "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    env.update(dict.fromkeys(ONE_THREAD, "1"))
    return env


def execute_notebook(lesson: Path, executed: Path) -> None:
    """Convert ``lesson`` with jupytext, execute it in a fresh python3 kernel (cwd ``tutorials/``), and write the
    executed notebook to ``executed``, with ``metadata.tge`` = {"error": traceback text or None, "seconds": ...}.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = jupytext.read(lesson)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(lesson.parent)}},
    )
    error = None
    start = time.perf_counter()
    try:
        client.execute(env=lesson_env())
    except (CellExecutionError, CellTimeoutError) as e:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # the traceback without its terminal colours
    nb.metadata["tge"] = {"error": error, "seconds": round(time.perf_counter() - start, 2)}
    nbformat.write(nb, executed)


def _run_in_process(lesson: Path, executed: Path) -> dict:
    """Execute one lesson in a process of its own; why it failed (or None) and how long it took."""
    done = subprocess.run(
        [sys.executable, __file__, str(lesson), str(executed)],
        env=lesson_env(),
        capture_output=True,
        text=True,
        timeout=CELL_TIMEOUT_S * 3,
        check=False,
    )
    if done.returncode != 0 or not executed.exists():
        return {"ipynb": None, "error": f"the runner exited with {done.returncode}:\n{done.stderr[-4000:]}"}
    meta = nbformat.read(executed, as_version=4).metadata["tge"]
    return {"ipynb": str(executed), "error": meta["error"], "seconds": meta["seconds"]}


def _execute_all(root: Path) -> dict[str, dict]:
    """Every lesson executed once as a notebook, a few at a time; the summary is also written to root."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {p.name: pool.submit(_run_in_process, p, root / f"{p.stem}.ipynb") for p in LESSONS}
        results = {name: future.result() for name, future in futures.items()}
    (root / "summary.json").write_text(json.dumps(results))
    for name, result in results.items():  # shown with pytest -s: each lesson's time as a notebook
        print(f"{name}: {result.get('seconds', '-')} s as a notebook{'' if result['error'] is None else ' (FAILED)'}")
    return results


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every lesson executed as a notebook, by file name: {"nb": the executed notebook or None, "error": ...}.

    Under pytest-xdist the workers share one run (the first to take the lock executes, the others read it).
    """
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        root = tmp_path_factory.getbasetemp().parent / "tge_notebooks"
        root.mkdir(exist_ok=True)
        with open(root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            summary = root / "summary.json"
            results = json.loads(summary.read_text()) if summary.exists() else _execute_all(root)
    else:
        results = _execute_all(tmp_path_factory.mktemp("notebooks"))
    for result in results.values():
        result["nb"] = nbformat.read(result["ipynb"], as_version=4) if result["ipynb"] else None
    return results


def _source(name: str):
    return jupytext.read(TUTORIALS_DIR / name)


def _ran(name: str, executed: dict[str, dict]):
    result = executed[name]
    if result["nb"] is None:
        pytest.fail(f"{name} did not run: {result['error']}")
    return result["nb"]


def test_lessons_are_found() -> None:
    numbers = [p.name[:2] for p in LESSONS]
    assert numbers[:8] == ["01", "02", "03", "04", "05", "06", "07", "08"]
    assert len(numbers) == len(set(numbers)), f"two lessons share a number: {numbers}"
    assert len(LESSONS) >= 9


@pytest.mark.parametrize("name", NAMES)
def test_lesson_runs_as_a_notebook(name: str, executed: dict[str, dict]) -> None:
    _ran(name, executed)
    assert executed[name]["error"] is None, f"{name}: a cell failed\n{executed[name]['error']}"


@pytest.mark.parametrize("name", NAMES)
def test_lesson_shows_a_figure_inline(name: str, executed: dict[str, dict]) -> None:
    nb = _ran(name, executed)
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") in ("display_data", "execute_result") and "image/png" in out.get("data", {})
    ]
    assert images, f"{name}: no figure shown inline (use tinygrad_edu.course.show)"


@pytest.mark.parametrize("name", NAMES)
def test_lesson_has_hidden_answers_that_ran(name: str, executed: dict[str, dict]) -> None:
    solutions = [c for c in _source(name).cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 2, f"{name}: {len(solutions)} answer cells tagged 'solution', want at least 2"
    for cell in solutions:
        assert cell.cell_type == "code"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{name}: answer not hidden"
        assert "assert" in cell.source, f"{name}: an answer that asserts nothing:\n{cell.source[:300]}"
    nb = _ran(name, executed)
    ran = [c for c in nb.cells if "solution" in c.metadata.get("tags", []) and c.get("execution_count")]
    assert len(ran) == len(solutions), f"{name}: only {len(ran)} of {len(solutions)} answer cells ran"
    markdown = "\n".join(c.source for c in _source(name).cells if c.cell_type == "markdown")
    assert "## Exercises" in markdown, f"{name}: no '## Exercises' section"


@pytest.mark.parametrize("name", NAMES)
def test_lesson_opens_with_objectives_and_run_time(name: str) -> None:
    first = _source(name).cells[0]
    assert first.cell_type == "markdown", f"{name}: the first cell is not markdown"
    assert first.source.startswith(f"# {name[:2]} · "), f"{name}: the heading is not '# {name[:2]} · Title'"
    assert "You will be able to" in first.source, f"{name}: the first cell does not say what you will be able to do"
    assert "Run time" in first.source, f"{name}: the first cell does not say how long the lesson runs"


@pytest.mark.parametrize("name", NAMES)
def test_lesson_writes_its_math_in_latex(name: str) -> None:
    markdown = "\n".join(c.source for c in _source(name).cells if c.cell_type == "markdown")
    assert markdown.count("$") >= 2, f"{name}: no LaTeX ($...$) in the markdown"


def test_the_readme_lists_every_lesson_with_its_run_time() -> None:
    readme = (TUTORIALS_DIR.parent / "README.md").read_text()
    learn = readme.split("## Learn\n", 1)[1].split("\n## ", 1)[0]
    assert 'pip install -e ".[learn]"' in learn and "jupyter lab tutorials" in learn
    rows = {line.split("|")[1].strip().strip("`"): line for line in learn.splitlines() if line.startswith("| `")}
    for name in NAMES:
        assert name in rows, f"README's Learn section does not list {name}"
        assert rows[name].rstrip().endswith("|") and " s" in rows[name].split("|")[-2], f"{name}: no run time"


def test_a_lesson_runs_as_a_script_and_saves_its_figure(tmp_path: Path) -> None:
    lesson = TUTORIALS_DIR / "01_derivatives.py"
    figure = TUTORIALS_DIR / "out" / "01_step_size.png"
    before = figure.stat().st_mtime_ns if figure.exists() else None
    done = subprocess.run(
        [sys.executable, str(lesson)],
        cwd=tmp_path,
        env=lesson_env(),
        capture_output=True,
        text=True,
        timeout=CELL_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"stdout (end):\n{done.stdout[-3000:]}\nstderr (end):\n{done.stderr[-3000:]}"
    assert figure.exists() and figure.stat().st_mtime_ns != before, "01 did not save its figure to tutorials/out/"
    assert not list(tmp_path.iterdir()), f"the script wrote into its working directory: {list(tmp_path.iterdir())}"


if __name__ == "__main__":  # the runner: python tests/test_tutorials.py LESSON.py EXECUTED.ipynb
    execute_notebook(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps({"ok": True}))
