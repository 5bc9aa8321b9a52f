"""tinygrad-edu pretrain, and train --model bert --pretrained PATH: the weights arrive, bad files are one line."""

from __future__ import annotations

import json
import pickle
import zipfile
from dataclasses import asdict

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import cli, text
from tinygrad_edu.cli_pretrain import PRETRAINED_FORMAT, load_pretrained, read_pretrained
from tinygrad_edu.tasks import TEXT_MAX_LENGTH, load_task
from tinygrad_edu.trainer import Config, Run


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """One small pretraining run of the CLI (200 synthetic reviews, 4 steps): its folder."""
    out = tmp_path_factory.mktemp("pretrain")
    assert cli.main(["pretrain", "--texts", "200", "--epochs", "1", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def task():
    return load_task("sentiment", seed=0)


def fresh_run() -> Run:
    return Run(Config(dataset="sentiment", model="bert").resolved(), load_task("sentiment", seed=0))


def run_train(out, *extra: str) -> int:
    return cli.main(["train", "--dataset", "sentiment", "--model", "bert", "--epochs", "1", "--batch-size", "128",
                     "--no-progress", "--out", str(out), *extra])  # fmt: skip


def test_pretrain_writes_the_encoder_with_its_vocabulary_and_config(pretrained):
    saved = tge.load(pretrained / "pretrained.npz")
    assert saved["format"] == PRETRAINED_FORMAT and sorted(saved) == ["config", "format", "losses", "model", "vocab"]
    assert saved["vocab"][:5] == list(text.SPECIAL_TOKENS) and "hated" in saved["vocab"]  # the reviews' verdicts
    config = text.BertConfig(**saved["config"])
    assert config == text.BertConfig(len(saved["vocab"]), max_length=TEXT_MAX_LENGTH)  # train --model bert's sizes
    mlm = text.BertForMaskedLM(config)
    mlm.load_state_dict(saved["model"])  # a complete BertForMaskedLM state dict
    assert len(saved["losses"]) == 4 and all(np.isfinite(saved["losses"]))


def test_pretrain_prints_what_it_does(tmp_path, capsys):
    assert cli.main(["pretrain", "--texts", "64", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "pretraining on 64 synthetic unlabelled reviews" in out and "masked-LM loss" in out
    assert f"--pretrained {tmp_path / 'pretrained.npz'}" in out


def test_load_pretrained_maps_the_embedding_word_by_word(pretrained, task):
    saved = tge.load(pretrained / "pretrained.npz")
    vocab = saved["vocab"]
    run = fresh_run()
    untouched = run.model.classifier.weight.numpy().copy()
    summary = load_pretrained(run.model, run.task.tokenizer, read_pretrained(pretrained / "pretrained.npz"))
    words = run.task.tokenizer.vocab.itos
    assert f"of the data's {len(words)} words found in its vocabulary of {len(vocab)}" in summary
    table = run.model.bert.token_embeddings.weight.numpy()
    rows = saved["model"]["bert.token_embeddings.weight"]
    for word in ("good", "not", "but", "<cls>", "<pad>"):
        assert np.array_equal(table[words.index(word)], rows[vocab.index(word)]), word
    unseen = [i for i, w in enumerate(words) if w not in vocab]
    for i in unseen:  # a word the pretraining never saw: what the pretrained tokenizer would give, <unk>
        assert np.array_equal(table[i], rows[vocab.index("<unk>")])
    for key, value in run.model.bert.state_dict().items():
        if key != "token_embeddings.weight":
            assert np.array_equal(value.numpy(), saved["model"][f"bert.{key}"]), key
    assert np.array_equal(run.model.classifier.weight.numpy(), untouched)  # the head stays as initialised


def test_train_from_the_pretrained_encoder(pretrained, tmp_path, capsys):
    path = pretrained / "pretrained.npz"
    assert run_train(tmp_path, "--pretrained", str(path)) == 0
    out = capsys.readouterr().out
    assert f"encoder from {path}:" in out and "the classifier head starts from random weights" in out
    accuracy = json.loads((tmp_path / "metrics.json").read_text())["accuracy"]
    assert cli.main(["evaluate", str(tmp_path / "checkpoint.npz")]) == 0  # an ordinary checkpoint
    assert f"accuracy {accuracy:.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["masked-lm", "classifier", "encoder"])
def test_plain_state_dicts_with_the_data_vocabulary(tmp_path, task, kind):
    config = text.BertConfig(task.vocab_size, max_length=TEXT_MAX_LENGTH)
    tge.manual_seed(5)
    model = {"masked-lm": text.BertForMaskedLM, "classifier": text.BertClassifier}.get(kind, text.BertEncoder)(config)
    tge.save(model.state_dict(), tmp_path / "plain.npz")
    run = fresh_run()
    summary = load_pretrained(run.model, run.task.tokenizer, read_pretrained(tmp_path / "plain.npz"))
    assert f"no vocabulary: its {task.vocab_size} token embeddings are taken as the data's" in summary
    encoder = model if kind == "encoder" else model.bert
    for key, value in encoder.state_dict().items():
        assert np.array_equal(run.model.bert.state_dict()[key].numpy(), value.numpy()), key


def test_a_vocabulary_saved_by_hand_is_used(tmp_path, task):
    corpus = text.make_unlabelled(50)
    tok = text.WordTokenizer.from_texts(corpus)
    mlm = text.BertForMaskedLM(text.BertConfig(len(tok), max_length=TEXT_MAX_LENGTH))
    tge.save({"vocab": tok.vocab.itos, "model": mlm.state_dict()}, tmp_path / "mine.npz")
    run = fresh_run()
    load_pretrained(run.model, run.task.tokenizer, read_pretrained(tmp_path / "mine.npz"))
    good = run.model.bert.token_embeddings.weight.numpy()[run.task.tokenizer.vocab["good"]]
    assert np.array_equal(good, mlm.bert.token_embeddings.weight.numpy()[tok.vocab["good"]])


# ---- mistakes: one line naming the file, no traceback, nothing written, nothing unpickled ----------------------


def _bad_files(tmp_path, pretrained, task):
    """{name: (path, words the error must contain)} for damaged and foreign files."""
    good = tge.load(pretrained / "pretrained.npz")
    files = {}

    def write(name, obj, *words):
        path = tmp_path / f"{name}.npz"
        tge.save(obj, path)
        files[name] = (path, words)

    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip file at all")
    files["garbage"] = (tmp_path / "garbage.npz", ())
    with zipfile.ZipFile(tmp_path / "truncated.npz", "w") as z:
        z.writestr("x.npy", b"\x93NUMPY")
    files["truncated"] = (tmp_path / "truncated.npz", ())
    files["missing"] = (tmp_path / "nope.npz", ("does not exist",))
    files["folder"] = (pretrained, ("is a folder", "pretrained.npz"))
    np.savez(tmp_path / "plain_numpy.npz", w=np.ones(3))
    files["plain_numpy"] = (tmp_path / "plain_numpy.npz", ("not a tinygrad_edu file",))
    write("a_list", [np.ones(3)], "holds a list")
    write("int_keys", {0: np.ones(3, np.float32)}, "'0'", "a string")
    digits = tmp_path / "digits"
    assert cli.main(["train", "--epochs", "1", "--no-progress", "--out", str(digits)]) == 0
    files["checkpoint"] = (digits / "checkpoint.npz", ("is a training checkpoint", "--resume"))
    narrow = text.BertForMaskedLM(text.BertConfig(len(good["vocab"]), max_length=TEXT_MAX_LENGTH, d_model=32))
    write("narrow", {**good, "model": narrow.state_dict()}, "model/bert.token_embeddings.weight", "has shape", ", 32)")
    write("heads", {**good, "config": {**good["config"], "num_heads": 8}}, "config/num_heads", "is 8")
    write("sizes", {**good, "config": {**good["config"], "depth": 3}}, "config/depth")
    model = dict(good["model"])
    model["bert.norm.weight"] = np.full_like(model["bert.norm.weight"], np.nan)
    write("nan", {**good, "model": model}, "model/bert.norm.weight", "NaN")
    write("ints", {**good, "model": {**good["model"], "bias": np.zeros(3, np.int64)}}, "model/bias", "floats")
    write("foreign_key", {**good, "model": {**good["model"], "pooler.weight": np.ones(2, np.float32)}},
          "model/pooler.weight", "is not a weight")  # fmt: skip
    lacking = {k: v for k, v in good["model"].items() if k != "bert.norm.bias"}
    write("lacking", {**good, "model": lacking}, "model/bert.norm.bias", "is missing")
    write("vocab", {**good, "vocab": ["a", "b"] + good["vocab"][2:]}, "'vocab'", "<pad> <unk>")
    write("vocab_size", {**good, "vocab": good["vocab"][:-1]}, "'vocab'", "tokens for")
    write("extra_key", {**good, "optimizer": {}}, "'optimizer'")
    write("format", {**good, "format": "something else"}, "'format'")
    wrong_size = text.BertForMaskedLM(text.BertConfig(task.vocab_size + 3, max_length=TEXT_MAX_LENGTH))
    write("no_vocab", wrong_size.state_dict(), "bert.token_embeddings.weight", "holds no vocabulary")
    return files


def test_bad_files_end_in_one_line(tmp_path, pretrained, task, capsys):
    for name, (path, words) in _bad_files(tmp_path, pretrained, task).items():
        out = tmp_path / f"out_{name}"
        capsys.readouterr()
        code = run_train(out, "--pretrained", str(path))
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert code == 1, (name, captured)
        assert len(err.splitlines()) == 1 and "Traceback" not in err and str(path) in err, (name, err)
        assert all(w in err for w in words), (name, err)
        assert not out.exists() and "epoch" not in captured.out, name  # nothing trained, nothing written


class _Trap:
    """Unpickling this would create a file: proof that loading never unpickles."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_inside_the_file_is_never_run(tmp_path, capsys):
    target = tmp_path / "pwned"
    np.savez(tmp_path / "evil.npz", __tinygrad_edu__=np.array("{}"), w=np.array([_Trap(str(target))], dtype=object))
    assert pickle.loads(pickle.dumps(_Trap(str(tmp_path / "probe")))) is not None  # the trap works when unpickled
    (tmp_path / "probe").unlink()
    assert run_train(tmp_path / "out", "--pretrained", str(tmp_path / "evil.npz")) == 1
    err = capsys.readouterr().err
    assert "evil.npz" in err and "Traceback" not in err and not target.exists()


def test_flags_that_do_not_fit(tmp_path, pretrained, capsys):
    path = str(pretrained / "pretrained.npz")
    code = cli.main(["train", "--dataset", "sentiment", "--model", "bow", "--pretrained", path, "--out", str(tmp_path)])
    assert code == 2 and "use it with --model bert" in capsys.readouterr().err
    code = cli.main(["train", "--resume", str(tmp_path / "ckpt.npz"), "--model", "bert", "--pretrained", path])
    assert code == 2 and "drop --pretrained to resume" in capsys.readouterr().err
    assert not (tmp_path / "checkpoint.npz").exists()


def test_pretrain_on_a_text_file(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(text.make_unlabelled(40)) + "\n\n", encoding="utf-8")
    assert cli.main(["pretrain", "--input", str(corpus), "--epochs", "1", "--out", str(tmp_path / "a")]) == 0
    assert f"pretraining on 40 texts from {corpus}" in capsys.readouterr().out
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"the plot was good\n\xff\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    for path, words in ((bad, "not valid UTF-8 at byte offset 18"), (empty, "empty"), (tmp_path / "no.txt", "no such"),
                        (tmp_path / "x.csv", "one text per line")):  # fmt: skip
        out = tmp_path / f"out_{path.stem}"
        assert cli.main(["pretrain", "--input", str(path), "--out", str(out)]) != 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and path.name in err and not out.exists(), err


def test_a_diverging_run_is_one_line(tmp_path, capsys):
    """A NaN loss (a learning rate far too large) ends with the advice, not a FloatingPointError traceback."""
    args = ["train", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "1", "--no-progress", "--out", str(tmp_path)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lower the learning rate" in err and "Traceback" not in err


def test_the_saved_config_is_a_bert_config(pretrained):
    saved = tge.load(pretrained / "pretrained.npz")
    assert saved["config"] == asdict(text.BertConfig(len(saved["vocab"]), max_length=TEXT_MAX_LENGTH))
