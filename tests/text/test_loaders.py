"""IMDb folders and CSV/TSV files: good files load, every bad one is one clear error naming the file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.datasets import DatasetError
from tinygrad_edu.text import load_imdb, load_text_csv, read_text


def imdb(tmp_path, split="train"):
    for name, reviews in (("pos", ["Great film.<br />Loved it", "fun"]), ("neg", ["dull", "awful, just awful"])):
        folder = tmp_path / "aclImdb" / split / name
        folder.mkdir(parents=True)
        for i, review in enumerate(reviews):
            (folder / f"{i}_{8 if name == 'pos' else 2}.txt").write_text(review, encoding="utf-8")
    return tmp_path


def test_imdb_layout_loads_with_labels(tmp_path):
    ds = load_imdb(imdb(tmp_path))
    assert ds.classes == ["neg", "pos"] and ds.labels.tolist() == [0, 0, 1, 1]
    assert ds.texts[2] == "Great film. Loved it"  # <br /> → space
    assert len(load_imdb(tmp_path / "aclImdb", max_per_class=1)) == 2  # aclImdb itself works too


def test_imdb_missing_folder_names_it(tmp_path):
    with pytest.raises(DatasetError, match=r"aclImdb/test/neg not found.*aclImdb_v1.tar.gz"):
        load_imdb(imdb(tmp_path), split="test")
    (tmp_path / "other" / "aclImdb" / "train" / "neg").mkdir(parents=True)
    with pytest.raises(DatasetError, match="train/pos not found"):
        load_imdb(tmp_path / "other")


def test_imdb_bad_encoding_gives_file_and_byte_offset(tmp_path):
    root = imdb(tmp_path)
    bad = root / "aclImdb" / "train" / "pos" / "0_8.txt"
    bad.write_bytes(b"caf\xe9 was great")
    with pytest.raises(DatasetError, match=r"0_8.txt: not valid UTF-8 at byte offset 3 \(byte 0xe9\)"):
        load_imdb(root)


def test_imdb_empty_review_and_empty_folder(tmp_path):
    root = imdb(tmp_path)
    (root / "aclImdb" / "train" / "neg" / "0_2.txt").write_text("  \n")
    with pytest.raises(DatasetError, match="0_2.txt: the file is empty"):
        load_imdb(root)
    for f in (root / "aclImdb" / "train" / "neg").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="neg has no .txt reviews"):
        load_imdb(root)


def test_csv_and_tsv_load(tmp_path):
    (tmp_path / "a.csv").write_text('text,label\n"good, really",pos\nbad,neg\n\n', encoding="utf-8")
    ds = load_text_csv(tmp_path / "a.csv")
    assert ds.texts == ["good, really", "bad"] and ds.classes == ["neg", "pos"] and ds.labels.tolist() == [1, 0]
    (tmp_path / "b.tsv").write_text("id\tlabel\ttext\n1\t10\tfine\n2\t2\tmeh\n3\t1\tno\n", encoding="utf-8")
    ds = load_text_csv(tmp_path / "b.tsv")
    assert ds.classes == ["1", "2", "10"] and ds.labels.tolist() == [2, 1, 0]  # numeric order
    (tmp_path / "c.csv").write_text("review;stars\nok;3\n", encoding="utf-8")
    assert load_text_csv(tmp_path / "c.csv", "review", "stars", delimiter=";").texts == ["ok"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"text,label\ngood,1\nbad\xff\xfe,0\n", r"not valid UTF-8 at byte offset 21 \(byte 0xff\)"),
        (b"text,sentiment\ngood,1\n", r"no column 'label' in the header \(found 'text', 'sentiment'\)"),
        (b"review,label\ngood,1\n", "no column 'text'"),
        (b"text,label\n", "a header but no rows"),
        (b"text,label\ngood\n", "line 2 has 1 fields"),
        (b"text,label\ngood,\n", "line 2 has an empty 'label'"),
    ],
)
def test_bad_csv_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "reviews.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as info:
        load_text_csv(path)
    assert str(path) in str(info.value)


def test_missing_csv(tmp_path):
    with pytest.raises(DatasetError, match="nope.csv: no such file"):
        load_text_csv(tmp_path / "nope.csv")


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_read_text_decodes_or_names_the_first_bad_byte(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "x.txt"
    path.write_bytes(data)
    try:
        expected = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        with pytest.raises(DatasetError, match=f"byte offset {e.start} "):
            read_text(path)
        return
    if not data.strip():
        with pytest.raises(DatasetError, match="empty"):
            read_text(path)
    else:
        assert read_text(path) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="abc ,\"\t\n", max_size=12), st.sampled_from(["pos", "neg", "x"])),
                min_size=1, max_size=6))  # fmt: skip
def test_csv_round_trips_any_quoted_text(tmp_path_factory, rows):
    import csv

    path = tmp_path_factory.mktemp("c") / "rows.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    ds = load_text_csv(path)
    kept = rows  # every row has a label, so none is skipped as blank
    assert ds.texts == [t for t, _ in kept]
    assert [ds.classes[i] for i in ds.labels] == [y for _, y in kept]
    assert ds.labels.dtype == np.int64
