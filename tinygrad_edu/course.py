"""What every lesson in ``tutorials/`` shares: fast mode, where figures go, showing a figure, quoting code.

A lesson is a jupytext percent file: ``python tutorials/NN_name.py`` runs it as a script (figures are saved to
``tutorials/out/``), and ``jupyter lab tutorials`` (with the ``learn`` extra) opens it as a notebook (figures also
appear inline). ``TGE_FAST=1`` shrinks the sizes, which is how the test suite executes every lesson.

    from tinygrad_edu.course import FAST, quote, show, sized

    epochs = sized(full=30, fast=3)
    fig, ax = plt.subplots(); ...; show(fig, "10_losses.png")
    quote(tge.ops.activation.Sigmoid)          # the op's forward and backward, as the library has them
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

FAST: bool = bool(os.environ.get("TGE_FAST") or os.environ.get("TINYGRAD_EDU_TUTORIAL_QUICK"))
"""True when ``TGE_FAST=1`` (or the older ``TINYGRAD_EDU_TUTORIAL_QUICK=1``): lessons use smaller sizes."""


def sized(full: Any, fast: Any) -> Any:
    """Pick a size by mode: ``fast`` when ``TGE_FAST=1``, else ``full``.

    For example ``epochs = sized(full=30, fast=3)``.
    """
    return fast if FAST else full


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (then figures are also shown inline)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def out_dir() -> Path:
    """``tutorials/out/`` (git-ignored), created if needed: next to the running script, or under the notebook's
    working directory (``tutorials/`` when opened by Jupyter).
    """
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    here = Path(script).resolve().parent if script and not in_notebook() else Path.cwd()
    out = here / "out"
    out.mkdir(parents=True, exist_ok=True)
    return out


def show(fig: Any, name: str) -> Path:
    """Save a matplotlib figure to ``out/name`` and, in a notebook, display it inline. Returns the saved path.

    Every figure of the course needs a title and axis labels, and a legend when it has more than one line;
    ``show`` refuses one without a title or labels, so that no lesson ships an unlabelled plot.
    """
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.lines or ax.collections or ax.images or ax.patches):
            continue
        if getattr(ax, "_colorbar", None) is not None:  # a colorbar is labelled by fig.colorbar(..., label=...)
            continue
        title = ax.get_title() or (fig._suptitle.get_text() if fig._suptitle is not None else "")
        if not title:
            raise ValueError(f"figure {name!r}: a plot without a title (ax.set_title or fig.suptitle)")
        if not ax.images and not (ax.get_xlabel() and ax.get_ylabel()):
            raise ValueError(f"figure {name!r}: the plot {title!r} needs both axis labels")
        labelled = [line for line in ax.lines if not line.get_label().startswith("_")]
        if len(ax.lines) > 1 and len(labelled) > 1 and ax.get_legend() is None:
            raise ValueError(f"figure {name!r}: the plot {title!r} has several labelled lines but no legend")
    path = out_dir() / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    return path


def quote(obj: Any, *, names: tuple[str, ...] = ("forward", "backward")) -> str:
    """Print (and return) the source of an op, so a lesson can show the equation in the library's own code.

    For a Function class, its docstring line and its ``forward`` and ``backward``; for anything else, its source.
    """
    if inspect.isclass(obj) and all(hasattr(obj, n) for n in names):
        doc = inspect.getdoc(obj) or ""
        parts = [f"class {obj.__name__}:  # {inspect.getsourcefile(obj).split('tinygrad_edu')[-1]}"]
        if doc:
            parts.append(textwrap.indent('"""' + doc + '"""\n', "    "))
        for n in names:
            fn = inspect.getattr_static(obj, n)
            fn = getattr(fn, "__func__", fn)
            fn = getattr(fn, "__wrapped__", fn)
            parts.append(textwrap.indent(textwrap.dedent(inspect.getsource(fn)), "    "))
        text = "\n".join(parts)
    else:
        text = textwrap.dedent(inspect.getsource(obj))
    print(text)
    return text
