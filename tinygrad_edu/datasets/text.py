"""Small real texts bundled with the package, for character- and word-level language models (offline).

    from tinygrad_edu.datasets import load_text, text_names
    text = load_text("macbeth")        # a str: the whole play, about 100 KB
    text_names()                       # ['macbeth', 'midsummer', 'shakespeare', 'tempest']
    chars = sorted(set(text))          # a character vocabulary (64 symbols for Macbeth)

The texts are three plays by Shakespeare, public domain; ``tinygrad_edu/datasets/data/README.md`` says exactly
where they came from and how they were converted to plain text. ``"shakespeare"`` is the three plays joined.
"""

from __future__ import annotations

from importlib import resources

from .download import DatasetNotFoundError

TEXTS: dict[str, str] = {
    "macbeth": "macbeth.txt",
    "tempest": "tempest.txt",
    "midsummer": "midsummer.txt",
}
"""The bundled texts: name -> file in ``tinygrad_edu/datasets/data/``."""

ALL = "shakespeare"
"""The name of the three plays joined by a blank line (about 290 KB)."""


def text_names() -> list[str]:
    """The names ``load_text`` accepts, sorted."""
    return sorted([*TEXTS, ALL])


def _read(filename: str) -> str:
    path = resources.files(__package__).joinpath("data", filename)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetNotFoundError(
            f"bundled text {filename!r} is missing from {path}: the package is installed without its data files; "
            "reinstall it (pip install -e .) so that tinygrad_edu/datasets/data/*.txt is included"
        ) from None


def load_text(name: str = "macbeth") -> str:
    """Return a bundled public-domain text as one ``str`` (UTF-8, Unix line ends, ending in a newline).

    ``name`` is one of ``text_names()``: ``"macbeth"`` (the default), ``"tempest"``, ``"midsummer"``, or
    ``"shakespeare"`` for all three. An unknown name raises ``ValueError`` listing the names there are.
    """
    if not isinstance(name, str):
        raise TypeError(f"load_text(name) takes the name of a text as a str, got {type(name).__name__}")
    key = name.strip().lower()
    if key == ALL:
        return "\n".join(_read(f) for f in TEXTS.values())
    if key not in TEXTS:
        raise ValueError(f"load_text: no bundled text named {name!r}; the texts are {', '.join(text_names())}")
    return _read(TEXTS[key])
