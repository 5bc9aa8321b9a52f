"""A catalogue of damaged and foreign checkpoints: the CLI ends each with one line naming the file (and key).

Every kind is fed to ``tinygrad-edu train --resume``, ``evaluate`` and ``predict`` (through
``cli.main``, and a few through the installed command in a subprocess): each must exit non-zero
with exactly one line on stderr that names the file — and, for a damaged entry, its key — and no
traceback. Kinds that only concern resuming (optimizer state, the position inside an epoch) may
still be evaluated; those are marked ``resume_only`` and then evaluate/predict must either
succeed or fail in the same clear way.
"""

from __future__ import annotations

import copy
import io
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import cli

FIRST_WEIGHT = "layers.0.weight"  # of the MLP


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good")
    args = ["train", "--epochs", "2", "--batch-size", "256", "--no-progress", "--out", str(out)]
    assert cli.main(args) == 0
    return out / "checkpoint.npz"


def _key(node, p: str):
    """Path parts are text; lists and the optimizer's state (keyed by parameter number) take ints."""
    return int(p) if p.isdigit() and (isinstance(node, list) or any(isinstance(k, int) for k in node)) else p


def _set(path: str, value):
    def change(ckpt):
        *parents, last = path.split("/")
        node = ckpt
        for p in parents:
            node = node[_key(node, p)]
        if value is DELETE:
            del node[_key(node, last)]
        else:
            node[_key(node, last)] = value(node) if callable(value) else value

    return change


DELETE = object()
W = lambda ckpt: next(iter(ckpt["model"]))  # noqa: E731  (the first weight's name)

# (id, change to the loaded dict, text the line must hold, resume_only)
STRUCTURAL = [
    ("no-config-model", _set("config/model", DELETE), "'config/model' is missing", False),
    ("unknown-model", _set("config/model", "resnet"), "'config/model' is 'resnet'", False),
    ("unknown-dataset", _set("config/dataset", "imagenet"), "'config/dataset'", False),
    ("unknown-optimizer", _set("config/optimizer", "lion"), "'config/optimizer' is 'lion'", False),
    ("negative-lr", _set("config/lr", -1.0), "'config/lr'", False),
    ("nan-lr", _set("config/lr", float("nan")), "'config/lr'", False),
    ("zero-epochs", _set("config/epochs", 0), "'config/epochs'", False),
    ("text-batch-size", _set("config/batch_size", "32"), "'config/batch_size'", False),
    ("negative-seed", _set("config/seed", -1), "'config/seed'", False),
    ("val-fraction-1.5", _set("config/val_fraction", 1.5), "'config/val_fraction'", False),
    ("unknown-config-key", _set("config/colour", "red"), "'config/colour'", False),
    ("config-not-dict", _set("config", [1, 2]), "'config'", False),
    ("no-root", _set("config/root", DELETE), "'config/root' is missing", False),
    ("root-not-str", _set("config/root", 3), "'config/root'", False),
    ("no-model", _set("model", DELETE), "'model' is missing", False),
    ("model-not-dict", _set("model", 3), "'model'", False),
    ("missing-weight", lambda c: c["model"].pop(W(c)), "is missing", False),
    ("extra-weight", _set("model/extra.weight", np.ones(2, np.float32)), "'model/extra.weight'", False),
    (
        "wrong-shape-weight",
        lambda c: c["model"].__setitem__(W(c), np.ones((3, 2), np.float32)),
        "has shape (3, 2)",
        False,
    ),
    (
        "float64-weight",
        lambda c: c["model"].__setitem__(W(c), c["model"][W(c)].astype(np.float64)),
        "dtype float64",
        False,
    ),
    ("weight-not-array", lambda c: c["model"].__setitem__(W(c), "w"), "should be an array", False),
    ("no-optimizer-state", _set("optimizer/state", DELETE), "'optimizer/state' is missing", False),
    ("no-group-lr", _set("optimizer/param_groups/0/lr", DELETE), "'optimizer/param_groups/0/lr' is missing", False),
    ("no-param-groups", _set("optimizer/param_groups", []), "'optimizer/param_groups'", True),
    (
        "moment-wrong-shape",
        _set("optimizer/state/0/exp_avg", np.ones(5, np.float32)),
        "'optimizer/state/0/exp_avg'",
        True,
    ),
    ("moment-text", _set("optimizer/state/0/exp_avg", np.array(["a", "b"])), "'optimizer/state/0/exp_avg'", True),
    ("state-of-param-99", _set("optimizer/state/99", {"step": 1}), "'optimizer/state/99'", True),
    ("wrong-param-ids", _set("optimizer/param_groups/0/params", [5, 6]), "'optimizer/param_groups/0/params'", True),
    ("unknown-group-key", _set("optimizer/param_groups/0/nesterov2", True), "nesterov2", True),
    ("no-rng", _set("rng", DELETE), "'rng' is missing", False),
    ("mt19937-rng", _set("rng/bit_generator", "MT19937"), "'rng/bit_generator'", False),
    ("garbage-rng-state", _set("rng/state", "garbage"), "'rng'", False),
    ("rng-not-dict", _set("rng", 5), "'rng'", False),
    ("epoch-99", _set("epoch", 99), "'epoch' is 99", False),
    ("epoch-negative", _set("epoch", -1), "'epoch'", False),
    ("epoch-text", _set("epoch", "two"), "'epoch'", False),
    ("history-short", lambda c: c["history"].pop(), "'history' has 1 rows for 2 epochs", False),
    ("history-text", _set("history/0/train_loss", "low"), "'history/0/train_loss'", False),
    ("no-classes", _set("classes", []), "'classes'", False),
    ("three-classes", _set("classes", ["a", "b", "c"]), "'classes' lists 3 classes", False),
    ("mean-wrong-shape", _set("normalisation/mean", np.zeros(3, np.float32)), "'normalisation/mean'", False),
    ("mean-nan", _set("normalisation/mean", lambda n: n["mean"] * np.nan), "'normalisation/mean'", False),
    ("mean-other-data", _set("normalisation/mean", lambda n: n["mean"] + 1), "does not match the data", False),
    ("no-std", _set("normalisation/std", DELETE), "'normalisation/std' is missing", False),
    ("batch-999", _set("position/batch", 999), "'position/batch'", True),
    ("order-not-permutation", _set("position/order", np.zeros(5, np.int64)), "'position/order'", True),
    ("order-floats", _set("position/order", np.zeros(5)), "'position/order'", False),
    ("seen-inconsistent", _set("position/seen", 7), "'position/seen'", True),
    ("finished-text", _set("finished", "yes"), "'finished'", False),
    ("no-format", _set("format", DELETE), "not a tinygrad-edu training checkpoint", False),
    ("other-format", _set("format", "tinygrad_edu checkpoint 99"), "not a tinygrad-edu training checkpoint", False),
    ("scheduler-without-config", _set("scheduler", {"x": 1}), "'scheduler'", False),
    ("config-scheduler-without-state", _set("config/scheduler", "step"), "'scheduler'", False),
]


def _npy(array) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, np.asarray(array), allow_pickle=True)
    return f.getvalue()


def _rezip(good_bytes: bytes, change) -> bytes:
    members = {}
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as zf:
        for info in zf.infolist():
            members[info.filename] = zf.read(info)
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _damaged_header(members):
    raw = bytearray(members[f"model/{FIRST_WEIGHT}.npy"])
    at = raw.find(b"'shape': (")
    raw[at + 10 : at + 13] = b'"""'
    members[f"model/{FIRST_WEIGHT}.npy"] = bytes(raw)


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0x10
    return bytes(b)


# (id, bytes of the damaged file from the good file's bytes, text the line must hold)
BYTES = [
    ("truncated-half", lambda g: g[: len(g) // 2], "truncated or not an .npz"),
    ("truncated-tail", lambda g: g[:-10], "truncated or not an .npz"),
    ("random-bytes", lambda g: np.random.default_rng(0).bytes(4000), "truncated or not an .npz"),
    ("empty-file", lambda g: b"", "truncated or not an .npz"),
    ("bit-flip", _flip, "is damaged"),
    ("zip-not-npz", lambda g: _rezip(g, lambda m: m.__setitem__("readme.txt", b"hello")), "'readme.txt' is not"),
    ("plain-numpy-npz", lambda g: _rezip(g, lambda m: m.pop("__tinygrad_edu__.npy")), "not a tinygrad_edu file"),
    ("extra-member", lambda g: _rezip(g, lambda m: m.__setitem__("spare.npy", _npy([1.0]))), "entry 'spare'"),
    ("missing-member", lambda g: _rezip(g, lambda m: m.pop(f"model/{FIRST_WEIGHT}.npy")), FIRST_WEIGHT),
    (
        "pickled-member",
        lambda g: _rezip(
            g, lambda m: m.__setitem__(f"model/{FIRST_WEIGHT}.npy", _npy(np.array([object()], dtype=object)))
        ),
        "never unpickles",
    ),  # fmt: skip
    ("damaged-npy-header", lambda g: _rezip(g, _damaged_header), "damaged .npy header"),
    ("a-pickle-file", lambda g: pickle.dumps({"model": 1}), "truncated or not an .npz"),
    ("an-npy-file", lambda g: _npy(np.ones(3)), "truncated or not an .npz"),
]


def _run_all(path, message: str, resume_only: bool, capsys) -> None:
    commands = [["train", "--resume", str(path), "--no-progress", "--epochs", "3"], ["evaluate", str(path)],
                ["predict", str(path), "--samples", "2"]]  # fmt: skip
    for i, command in enumerate(commands):
        code = cli.main(command)
        out, err = capsys.readouterr()
        if resume_only and i > 0 and code == 0:
            continue  # evaluate/predict do not need the optimizer or the epoch's position
        lines = err.strip().splitlines()
        assert code != 0, (command, out, err)
        assert len(lines) == 1, (command, err)
        assert "Traceback" not in err and str(path) in lines[0], (command, err)
        if i == 0 or not resume_only:
            assert message in lines[0], (command, lines[0])


@pytest.mark.parametrize("name, change, message, resume_only", STRUCTURAL, ids=[c[0] for c in STRUCTURAL])
def test_a_damaged_entry_is_one_line_naming_file_and_key(name, change, message, resume_only, good, tmp_path, capsys):
    ckpt = copy.deepcopy(tge.load(good))
    change(ckpt)
    path = tmp_path / f"{name}.npz"
    tge.save(ckpt, path)
    _run_all(path, message, resume_only, capsys)


@pytest.mark.parametrize("name, damage, message", BYTES, ids=[c[0] for c in BYTES])
def test_a_damaged_or_foreign_file_is_one_line_naming_it(name, damage, message, good, tmp_path, capsys):
    path = tmp_path / f"{name}.npz"
    path.write_bytes(damage(good.read_bytes()))
    _run_all(path, message, False, capsys)


def test_a_folder_and_a_missing_file(tmp_path, capsys):
    _run_all(tmp_path, "is a folder", False, capsys)
    _run_all(tmp_path / "nothing.npz", "does not exist", False, capsys)


def test_the_catalogue_is_complete():
    assert len(STRUCTURAL) + len(BYTES) + 2 >= 44


@pytest.mark.parametrize("kind", ["wrong-shape-weight", "unknown-optimizer", "no-rng"])
def test_the_installed_command_prints_no_traceback(kind, good, tmp_path):
    _, change, message, _ = next(c for c in STRUCTURAL if c[0] == kind)
    ckpt = copy.deepcopy(tge.load(good))
    change(ckpt)
    path = tmp_path / "ckpt.npz"
    tge.save(ckpt, path)
    for command in (["train", "--resume", str(path), "--epochs", "3"], ["evaluate", str(path)]):
        done = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", *command], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr and str(path) in done.stderr
