"""``tinygrad-edu pretrain`` and ``train --pretrained``: masked-LM pretraining, then fine-tuning from the encoder.

    tinygrad-edu pretrain --out runs/pretrain-bert          # a tiny BERT learns to fill in hidden words
    tinygrad-edu train --dataset sentiment --model bert --pretrained runs/pretrain-bert/pretrained.npz

``pretrain`` trains a ``BertForMaskedLM`` of the sizes ``train --model bert`` builds on unlabelled
text (the synthetic reviews of ``text.make_unlabelled``, or ``--input FILE.txt`` with one text per
line) and writes ``OUT/pretrained.npz``, a ``tge.save`` file holding

    {"format": "tinygrad_edu pretrained bert 1", "config": the BertConfig as a dict,
     "vocab": the tokenizer's tokens, id order, "model": mlm.state_dict(), "losses": every step's loss}

``train --pretrained PATH`` builds the classifier as usual, then copies the encoder's weights
(``bert.*``) from PATH; the classification head on ``<cls>`` starts from random weights, as in
PyTorch's ``BertForSequenceClassification.from_pretrained``. The fine-tuning data has its own
vocabulary (built from its training sentences), so each of its words takes the row of the
pretrained token embedding for the same word, and a word the pretraining never saw takes the
``<unk>`` row: exactly what tokenizing with the pretrained tokenizer would have given. The
checkpoint written afterwards is an ordinary one (``evaluate``, ``predict`` and ``--resume`` need
nothing more).

PATH may also be a plain state dict written by ``tge.save(model.state_dict(), PATH)`` of a
``BertForMaskedLM``, a ``BertClassifier`` or their ``.bert`` encoder. It carries no vocabulary, so
its token embedding is taken row for row as the fine-tuning data's vocabulary (which must then
have that many words), and ``train`` says so. To keep the vocabulary with the weights, save
``{"vocab": tok.vocab.itos, "model": mlm.state_dict()}`` instead.

Files are read with ``tge.load`` (never unpickled) and checked before any weight is copied and
before anything is written: every problem is one line naming the file and the key.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from .npz import CheckpointError
from .serialization import load, save

PRETRAINED_FORMAT = "tinygrad_edu pretrained bert 1"
HEADS = {"BertForMaskedLM": ("transform.", "transform_norm.", "bias"), "BertClassifier": ("classifier.",)}


def _expected_config(vocab_size: int) -> Any:
    """The BertConfig ``train --model bert`` builds for sentences of the CLI's length."""
    from .tasks import TEXT_MAX_LENGTH
    from .text import BertConfig

    return BertConfig(vocab_size, max_length=TEXT_MAX_LENGTH)


# ---- pretrain ------------------------------------------------------------------------------------


def _corpus(args: argparse.Namespace) -> tuple[list[str], str]:
    """The unlabelled texts, and a few words saying where they came from."""
    from .text import make_unlabelled, read_text

    if args.input is None:
        return make_unlabelled(args.texts), f"{args.texts} synthetic unlabelled reviews"
    path = Path(args.input)
    if path.suffix not in (".txt", ""):
        raise ValueError(f"--input must be a .txt file with one text per line, got {path.name}")
    lines = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    return lines, f"{len(lines)} texts from {path}"


def cmd_pretrain(args: argparse.Namespace) -> int:
    """Pretrain a tiny BERT with masked-LM on unlabelled text and write OUT/pretrained.npz."""
    from . import random
    from .text import BertForMaskedLM, WordTokenizer
    from .text.training import encode, pretrain_mlm

    texts, source = _corpus(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; name a folder for pretrained.npz")
    tokenizer = WordTokenizer.from_texts(texts, min_freq=args.min_freq)
    config = _expected_config(len(tokenizer))
    ids = encode(tokenizer, texts, config.max_length)
    random.manual_seed(args.seed)
    model = BertForMaskedLM(config)
    n_params = sum(p.numel() for p in model.parameters())
    steps = args.epochs * -(-len(ids) // args.batch_size)
    print(f"pretraining on {source}: vocabulary {len(tokenizer)} words, {config.max_length} tokens per text")
    print(f"BertForMaskedLM ({n_params:,} parameters: d_model {config.d_model}, {config.num_layers} layers, "
          f"{config.num_heads} heads), AdamW lr {args.lr:g}, batch {args.batch_size}, {args.epochs} epochs "
          f"= {steps} steps, seed {args.seed}", flush=True)  # fmt: skip
    start = time.perf_counter()
    losses = pretrain_mlm(model, tokenizer, ids, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          seed=args.seed)  # fmt: skip
    seconds = time.perf_counter() - start
    if not np.isfinite(losses).all():
        raise FloatingPointError(f"the masked-LM loss became {losses[-1]}: lower the learning rate (--lr {args.lr})")
    head, tail = float(np.mean(losses[:10])), float(np.mean(losses[-10:]))
    print(f"masked-LM loss {head:.3f} → {tail:.3f} (first and last 10 steps; ln V = {np.log(len(tokenizer)):.3f}), "
          f"{seconds:.1f} s")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    save({"format": PRETRAINED_FORMAT, "config": asdict(config), "vocab": list(tokenizer.vocab.itos),
          "model": model.state_dict(), "losses": [float(v) for v in losses]}, out / "pretrained.npz")  # fmt: skip
    print(f"wrote {out / 'pretrained.npz'}; fine-tune it with: tinygrad-edu train --dataset sentiment "
          f"--model bert --pretrained {out / 'pretrained.npz'}")  # fmt: skip
    return 0


def add_pretrain_parser(sub: Any, positive: Any) -> None:
    """The ``pretrain`` subcommand (``positive(int)`` parses numbers > 0, as ``train``'s flags do)."""
    pt = sub.add_parser("pretrain", help="pretrain a tiny BERT with masked-LM on unlabelled text (for train "
                        "--model bert --pretrained)")  # fmt: skip
    pt.add_argument("--input", help="a .txt file of unlabelled texts, one per line (default: synthetic reviews)")
    pt.add_argument("--texts", type=positive(int), default=10000, help="synthetic reviews without --input (10000)")
    pt.add_argument("--min-freq", type=positive(int), default=1, help="keep words seen this often (default 1)")
    pt.add_argument("--epochs", type=positive(int), default=3, help="passes over the texts (default 3)")
    pt.add_argument("--batch-size", type=positive(int), default=64, help="texts per step (default 64)")
    pt.add_argument("--lr", type=positive(float), default=1e-3, help="peak AdamW learning rate (default 1e-3)")
    pt.add_argument("--seed", type=int, default=0, help="seed of the weights and the masking (default 0)")
    pt.add_argument("--out", default="runs/pretrain-bert", help="output folder (default: runs/pretrain-bert)")
    pt.set_defaults(func=cmd_pretrain)


# ---- train --pretrained ----------------------------------------------------------------------------


def _fail(path: Any, key: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{path}: key {key!r} {problem}; it is not a usable pretrained BERT")


def read_pretrained(path: str | Path) -> dict[str, Any]:
    """Load ``path`` and check its structure: {"model": {name: array}, "vocab": tokens or None, "config": ...}.

    Accepts the file ``tinygrad-edu pretrain`` writes, a dict {"vocab": ..., "model": ...}, or a
    plain state dict (name → array). Shapes are checked later, against the model (``load_pretrained``).
    """
    from .text import SPECIAL_TOKENS

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a pretrained model (try {path / 'pretrained.npz'})")
    if not path.exists():
        raise FileNotFoundError(f"pretrained model {path} does not exist (tinygrad-edu pretrain writes one)")
    saved = load(path)
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path} holds a {type(saved).__name__}, not a state dict of a pretrained BERT")
    if str(saved.get("format", "")).startswith("tinygrad_edu checkpoint"):
        raise CheckpointError(
            f"{path} is a training checkpoint of tinygrad-edu train, not a pretrained encoder: continue it with "
            f"--resume {path}, or pretrain one with tinygrad-edu pretrain"
        )
    if "model" in saved:  # written by pretrain (or by hand): weights with their vocabulary
        if "format" in saved and saved["format"] != PRETRAINED_FORMAT:
            raise _fail(path, "format", f"is {saved['format']!r}, expected {PRETRAINED_FORMAT!r}")
        unknown = sorted(set(saved) - {"format", "config", "vocab", "model", "losses"})
        if unknown:
            raise _fail(path, unknown[0], "is not part of a pretrained model (format, config, vocab, model, losses)")
        weights, vocab, config = saved["model"], saved.get("vocab"), saved.get("config")
        where = "model/"
    else:
        weights, vocab, config, where = saved, None, None, ""
    if not isinstance(weights, dict) or not weights:
        raise _fail(path, where.rstrip("/") or "model", "should be a non-empty dict of weights")
    for key, value in weights.items():
        if not isinstance(key, str):
            raise _fail(path, f"{where}{key}", "should be the name of a weight (a string), not a number")
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise _fail(path, f"{where}{key}", f"should be an array of floats, found {type(value).__name__}")
        if not np.isfinite(value).all():
            raise _fail(path, f"{where}{key}", "holds NaN or infinite values")
    if vocab is not None:
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise _fail(path, "vocab", "should be the list of the tokenizer's tokens")
        if len(set(vocab)) != len(vocab) or tuple(vocab[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise _fail(path, "vocab", f"should be distinct tokens starting with {' '.join(SPECIAL_TOKENS)}")
    if config is not None and not isinstance(config, dict):
        raise _fail(path, "config", f"should be a dict of BertConfig sizes, found {type(config).__name__}")
    return {"path": path, "model": weights, "vocab": vocab, "config": config, "where": where}


def _encoder_weights(pre: dict[str, Any]) -> dict[str, np.ndarray]:
    """The encoder's weights (names as in ``BertEncoder.state_dict()``) out of whichever model was saved."""
    weights, path, where = pre["model"], pre["path"], pre["where"]
    if not any(k.startswith("bert.") for k in weights):
        return dict(weights)  # a BertEncoder's own state dict
    encoder = {}
    for key, value in weights.items():
        if key.startswith("bert."):
            encoder[key[len("bert.") :]] = value
        elif not any(key.startswith(p) for heads in HEADS.values() for p in heads):
            raise _fail(path, f"{where}{key}", "is not a weight of a BertForMaskedLM, BertClassifier or BertEncoder")
    return encoder


def _check_config(pre: dict[str, Any], expected: Any) -> None:
    """A saved BertConfig must give the sizes ``train --model bert`` builds (the heads are invisible in shapes)."""
    config, path = pre["config"], pre["path"]
    if config is None:
        return
    names = {f.name for f in fields(expected)}
    for key in sorted(config):
        if key not in names:
            raise _fail(path, f"config/{key}", "is not a size of BertConfig")
    for key in sorted(names - {"vocab_size", "dropout"}):
        if key in config and config[key] != getattr(expected, key):
            raise _fail(path, f"config/{key}", f"is {config[key]!r}, but train --model bert builds "
                        f"{key} = {getattr(expected, key)!r}")  # fmt: skip


def load_pretrained(model: Any, tokenizer: Any, pre: dict[str, Any]) -> str:
    """Copy the pretrained encoder of ``pre`` (from ``read_pretrained``) into ``model.bert``; returns a summary.

    Every encoder weight must be present with the shape ``model.bert`` has; the token embedding is
    mapped from the pretrained vocabulary to ``tokenizer``'s, word by word (unknown words: ``<unk>``).
    Nothing is copied unless everything fits.
    """
    from .text.tokenizer import UNK

    path, where = pre["path"], pre["where"]
    prefix = f"{where}bert." if any(k.startswith("bert.") for k in pre["model"]) else where
    _check_config(pre, _expected_config(len(tokenizer)))
    saved = _encoder_weights(pre)
    own = model.bert.state_dict()
    missing = [k for k in own if k not in saved]
    if missing:
        raise _fail(path, f"{prefix}{missing[0]}", "is missing (the BERT encoder of train --model bert needs it)")
    extra = [k for k in saved if k not in own]
    if extra:
        raise _fail(path, f"{prefix}{extra[0]}", "is not a weight of the BERT encoder train --model bert builds")
    table = "token_embeddings.weight"
    for key, t in own.items():
        want = tuple(t.shape) if key != table else (saved[key].shape[0], t.shape[1])
        if saved[key].shape != want:
            raise _fail(path, f"{prefix}{key}", f"has shape {saved[key].shape}, the encoder needs {want}")
    rows, vocab, words = saved[table], pre["vocab"], list(tokenizer.vocab.itos)
    if vocab is None:
        if len(rows) != len(words):
            raise _fail(path, f"{prefix}{table}", f"has {len(rows)} rows but the data's vocabulary has {len(words)} "
                        "words, and the file holds no vocabulary to match them by: pretrain with tinygrad-edu "
                        "pretrain, or save {'vocab': tok.vocab.itos, 'model': mlm.state_dict()}")  # fmt: skip
        summary = (f"the file holds no vocabulary: its {len(rows)} token embeddings are taken as the data's "
                   f"{len(words)} words, in the data's order")  # fmt: skip
    else:
        if len(vocab) != len(rows):
            raise _fail(path, "vocab", f"lists {len(vocab)} tokens for {len(rows)} rows of {prefix}{table}")
        index = {t: i for i, t in enumerate(vocab)}
        source = [index.get(w, index[UNK]) for w in words]
        rows = rows[source]
        known = sum(w in index for w in words)
        rest = "" if known == len(words) else f", the other {len(words) - known} start from <unk>"
        summary = f"{known} of the data's {len(words)} words found in its vocabulary of {len(vocab)}{rest}"
    model.bert.load_state_dict({**saved, table: rows})
    return summary


def read_for_train(args: argparse.Namespace, usage_error: type[Exception]) -> dict[str, Any] | None:
    """``train --pretrained``: the flags checked and the file read (``read_pretrained``); None without the flag.

    ``usage_error`` is the CLI's exception for a flag that does not fit the others.
    """
    if args.pretrained is None:
        return None
    if args.resume:
        raise usage_error(f"--pretrained starts a new run; --resume continues one, whose checkpoint already holds "
                          f"its weights: drop --pretrained to resume {args.resume}")  # fmt: skip
    if args.model != "bert":
        raise usage_error("--pretrained loads a pretrained BERT encoder: use it with --model bert --dataset sentiment")
    return read_pretrained(args.pretrained)


def start_from_pretrained(run: Any, pre: dict[str, Any] | None) -> None:
    """Copy the encoder of ``pre`` into the run's fresh BertClassifier and say what was found (nothing if None)."""
    if pre is None:
        return
    summary = load_pretrained(run.model, run.task.tokenizer, pre)
    print(f"encoder from {pre['path']}: {summary}; the classifier head starts from random weights")
