"""The command line: ``tinygrad-edu train | evaluate | predict | pretrain | bench``.

    tinygrad-edu train                                  # an MLP on the bundled digits, with Adam
    tinygrad-edu train --model lenet --kernels numba    # a CNN, convolutions in Numba
    tinygrad-edu evaluate runs/digits-mlp/checkpoint.npz
    tinygrad-edu predict runs/digits-mlp/checkpoint.npz --samples 5
    tinygrad-edu train --dataset sentiment --model bert  # a tiny BERT on synthetic sentences (or --model bow)
    tinygrad-edu predict runs/sentiment-bert/checkpoint.npz --text "good but boring"
    tinygrad-edu pretrain                               # masked-LM, for train --model bert --pretrained PATH
    tinygrad-edu bench --quick

Mistakes in the arguments, missing data files and damaged or foreign files end with one line
saying what is wrong (naming the file, and for a checkpoint the key) and how to fix it, and a
non-zero exit status: never a traceback. Ctrl-C during training stops after the current batch
and saves a checkpoint that ``train --resume`` continues exactly (see interrupt.py); further
Ctrl-C while it is being written are ignored, so the save always completes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import kernels
from .checkpoint import load_model
from .cli_pretrain import add_pretrain_parser, read_for_train, start_from_pretrained
from .datasets import DatasetError
from .interrupt import DeferredInterrupt
from .kernels.numba_compile import announce as announce_numba_compile
from .models import MODEL_NAMES
from .tasks import DATASETS
from .trainer import OPTIMIZERS, SCHEDULERS, Config, Run, scores


class CLIError(Exception):
    """An expected problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the usage text is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


# ---- train -------------------------------------------------------------------------------------


def _setup_device(kernel_name: str | None, device: str) -> str:
    """Choose the kernel backend; the two knobs must agree (numpy|numba on cpu, cupy on cuda)."""
    if kernel_name is None:
        kernel_name = "cupy" if device == "cuda" else kernels.current().name
    if kernels.DEVICE[kernel_name] != device:
        raise CLIError(
            f"--kernels {kernel_name} computes on {kernels.DEVICE[kernel_name]}, but --device is {device}: "
            "use --kernels numpy or numba with --device cpu, and --kernels cupy with --device cuda"
        )
    kernels.use(kernel_name)
    return kernel_name


def _write_outputs(run: Run, out: Path, test: dict[str, Any] | None) -> None:
    """Checkpoint, history (CSV and JSON), curves (PNG) and test metrics (JSON) into ``out``."""
    from .viz import plot_history

    out.mkdir(parents=True, exist_ok=True)
    run.save(out / "checkpoint.npz")
    (out / "history.json").write_text(json.dumps(run.history, indent=1))
    if run.history:
        with open(out / "history.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(run.history[0]))
            writer.writeheader()
            writer.writerows(run.history)
        plot_history(run.history, path=out / "curves.png")
    if test is not None:
        summary = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in test.items()}
        (out / "metrics.json").write_text(json.dumps(summary, indent=1))


def _print_confusion(matrix: np.ndarray, classes: list[str]) -> None:
    width = max(4, *(len(c) + 1 for c in classes), len(str(matrix.max())) + 1)
    print("confusion matrix (rows: true class, columns: predicted)")
    print(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for name, row in zip(classes, matrix):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))


def _print_test(test: dict[str, Any], classes: list[str]) -> None:
    print(f"test: loss {test['loss']:.4f}  accuracy {test['accuracy']:.4f}  precision {test['precision']:.4f}  "
          f"recall {test['recall']:.4f}  f1 {test['f1']:.4f} (macro)")  # fmt: skip
    _print_confusion(test["confusion_matrix"], classes)


RESUMABLE = ("model", "dataset", "optimizer", "lr", "batch_size", "momentum", "weight_decay", "scheduler",
             "val_fraction", "seed", "root")  # fmt: skip


def _start_or_resume(args: argparse.Namespace) -> tuple[Run, Path]:
    if args.resume:
        flags = {key: getattr(args, key) for key in RESUMABLE}
        run = Run.resume(args.resume, device=args.device, epochs=args.epochs, distributed=args.distributed, **flags)
        out = Path(args.out or Path(args.resume).parent)
        where = f" (batch {run.batch}/{run.batches_per_epoch} of epoch {run.epoch + 1})" if run.batch else ""
        print(f"resuming {args.resume} at epoch {run.epoch}/{run.config.epochs}{where}")
        return run, out
    defaults = {"model": "mlp", "dataset": "digits", "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0,
                "scheduler": "none", "val_fraction": 0.1, "seed": 0, "root": "data"}  # fmt: skip
    values = {key: getattr(args, key) for key in RESUMABLE}
    values.update({k: v for k, v in defaults.items() if values[k] is None})
    config = Config(**values, epochs=args.epochs)
    run = Run.start(config, device=args.device, download=args.download, distributed=args.distributed)
    return run, Path(args.out or f"runs/{run.config.dataset}-{run.config.model}")


def _join_process_group() -> tuple[int, int]:
    """--distributed: join the processes mpiexec started (a group of one without mpiexec); (rank, world size)."""
    from . import distributed as dist
    from .distributed.process_group import _started_by_launcher

    try:
        if _started_by_launcher():
            dist.init_process_group("mpi")
        else:
            dist.init_process_group("mpi", world_size=1, rank=0)
    except dist.DistributedError as e:
        raise CLIError(str(e)) from None
    return dist.get_rank(), dist.get_world_size()


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model, print each epoch, then the test metrics; write everything into --out.

    With --distributed, under ``mpiexec -n p``: p processes train data-parallel (trainer_parallel.py), each
    on --batch-size samples per step (PyTorch's convention: the batch size is per process, a step takes
    batch_size · p). Only rank 0 prints and writes; a failure on any rank ends every rank with its message.
    """
    if not args.distributed:
        return _train(args)
    from . import distributed as dist

    rank, world = _join_process_group()
    if args.device != "cpu":
        raise CLIError("--distributed runs on the CPU (MPI): leave out --device cuda")
    try:
        if rank == 0:
            code = _train(args)
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # only rank 0 prints progress
                code = _train(args)
    except dist.RankFailed as e:  # another rank failed: stop with its message
        _exit_rank(world, f"tinygrad-edu {args.command}: error: {e}", 1)
    except (CLIError, DatasetError, kernels.KernelUnavailable, FileNotFoundError, ValueError, RuntimeError,
            FloatingPointError) as e:  # fmt: skip
        message = " ".join(str(e).split())
        print(f"tinygrad-edu {args.command}: error: [rank {rank}] {message}", file=sys.stderr, flush=True)
        dist.notify_failure(f"rank {rank} failed: {type(e).__name__}: {message}")  # (before mpiexec sees us go)
        _exit_rank(world, None, 2 if isinstance(e, CLIError) else 1)
    dist.barrier()  # rank 0 has written its outputs
    dist.destroy_process_group()
    return code


def _exit_rank(world: int, line: str | None, code: int) -> NoReturn:
    """Print one line and leave at once (a failed group cannot finalise together: MPI would wait)."""
    if line is not None:
        print(line, file=sys.stderr, flush=True)
    sys.stdout.flush()
    if world > 1:
        os._exit(code)
    sys.exit(code)


def _train(args: argparse.Namespace) -> int:
    """The training command itself (one process, or one rank of --distributed)."""
    kernel_name = _setup_device(args.kernels, args.device)
    pretrained = read_for_train(args, CLIError)  # --pretrained: read and checked before anything starts
    run, out = _start_or_resume(args)
    start_from_pretrained(run, pretrained)
    c, task = run.config, run.task
    n_params = sum(p.numel() for p in run.model.parameters())
    print(f"{c.dataset}: {len(task.train[0])} train / {len(task.val[0])} val / {len(task.test[0])} test samples, "
          f"{task.num_classes} classes, input {task.input_shape}")  # fmt: skip
    print(f"{c.model} ({n_params:,} parameters), {c.optimizer} lr {c.lr:g}, batch {c.batch_size}, "
          f"{c.epochs} epochs, seed {c.seed}, kernels {kernel_name} on {args.device}")  # fmt: skip
    if run.parallel is not None:
        print(f"data-parallel on {run.world} process{'es' * (run.world > 1)}: batch {c.batch_size} per process, "
              f"{c.batch_size * run.world} per step")  # fmt: skip
    if kernel_name == "numba":  # one line before the progress bar when the kernels compile first
        announce_numba_compile(("matmul",) if c.model == "mlp" else None)
    with DeferredInterrupt() as interrupt:
        run.stop = interrupt.requested  # Ctrl-C stops at the next safe point
        try:
            for row in run.epochs(progress=not args.no_progress):
                comm = f" ({row['comm_seconds']:.2f} s all-reduce)" if "comm_seconds" in row else ""
                print(f"epoch {row['epoch']:>3}/{c.epochs}  train loss {row['train_loss']:.4f} acc "
                      f"{row['train_acc']:.4f}  |  val loss {row['val_loss']:.4f} acc {row['val_acc']:.4f}  |  "
                      f"{row['seconds']:.1f} s{comm}", flush=True)  # fmt: skip
            test = run.test_metrics() if run.is_main else None
        except KeyboardInterrupt:
            with interrupt.shielded():  # no further Ctrl-C can stop the save
                if run.is_main:
                    _write_outputs(run, out, None)
            where = f"batch {run.batch}/{run.batches_per_epoch} of epoch {run.epoch + 1}" if run.batch else (
                f"{run.epoch} complete epochs")  # fmt: skip
            if run.is_main:
                again = " --distributed (under mpiexec -n P, any P)" if run.parallel is not None else ""
                print(f"\ninterrupted after {where}: checkpoint saved to {out / 'checkpoint.npz'}; "
                      f"continue with: tinygrad-edu train --resume {out / 'checkpoint.npz'}{again}",
                      file=sys.stderr)  # fmt: skip
            return 130
        run.finished = True
        with interrupt.shielded():
            if run.is_main:
                _print_test(test, task.classes)
                _write_outputs(run, out, test)
    print(f"wrote {out}/: checkpoint.npz, history.csv, history.json, curves.png, metrics.json")
    return 0


# ---- evaluate / predict --------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Rebuild the data split of a checkpoint and report the model's metrics on it."""
    model, task, ckpt = load_model(args.checkpoint)
    x, y = {"train": task.train, "val": task.val, "test": task.test}[args.split]
    print(f"{ckpt['config'].model} on {task.dataset} ({args.split}, {len(y)} samples), "
          f"after {ckpt['epoch']} epochs")  # fmt: skip
    test = scores(model, x, y, task.num_classes)
    _print_test(test, task.classes)
    return 0


def _read_inputs(path: Path) -> np.ndarray:
    """Samples to predict, from a .npy array or a .csv of numbers (one sample per row)."""
    if not path.exists():
        raise CLIError(f"input file {path} does not exist")
    if path.suffix not in (".npy", ".csv"):
        raise CLIError(f"--input must be a .npy or .csv file, got {path.name}")
    try:
        if path.suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        else:
            x = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        if x.ndim < 2 or x.dtype.kind not in "biuf":
            raise ValueError(f"expected rows of numbers, found shape {x.shape} of {x.dtype}")
        return x.astype(np.float32)
    except Exception as e:  # a damaged .npy header, a pickled array, text in the CSV...
        raise CLIError(f"cannot read --input {path}: {type(e).__name__}: {e}") from e


def _read_lines(path: Path) -> list[str]:
    """Sentences to classify, one per line of a UTF-8 text file (blank lines skipped)."""
    from .text import read_text

    if path.suffix not in (".txt", ""):
        raise CLIError(f"--input for a text model must be a .txt file with one sentence per line, got {path.name}")
    lines = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    return lines


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the predicted class (and its probability) for new samples or for test samples."""
    from .autograd import no_grad
    from .tensor import Tensor

    model, task, _ = load_model(args.checkpoint)
    texts = None
    if task.tokenizer is not None and (args.text or args.input):  # a text model: sentences in, ids to the model
        texts = list(args.text or []) + (_read_lines(Path(args.input)) if args.input else [])
        x, truth = task.preprocess(texts), None
    elif args.text:
        raise CLIError(f"--text is for models trained on sentences; {task.dataset} samples are numbers (use --input)")
    elif args.input:
        x = _read_inputs(Path(args.input))
        if x.shape[1:] != task.input_shape and x.reshape(len(x), -1).shape[1] == int(np.prod(task.input_shape)):
            x = x.reshape(len(x), *task.input_shape)  # flat rows of image pixels
        if x.shape[1:] != task.input_shape:
            raise CLIError(f"the model expects samples of shape {task.input_shape}, the input has {x.shape[1:]}")
        x = task.preprocess(x)  # the training set's normalisation
        truth = None
    else:
        x, truth = task.test[0][: args.samples], task.test[1][: args.samples]
    with no_grad():
        probabilities = model(Tensor(x)).softmax(dim=1).numpy()
    for i, p in enumerate(probabilities):
        k = int(p.argmax())
        known = "" if truth is None else f"  (true: {task.classes[truth[i]]})"
        said = "" if texts is None else f"  {texts[i]!r}"
        print(f"sample {i}: class {task.classes[k]}  p = {p[k]:.3f}{known}{said}")
    return 0


# ---- the parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-edu`` and its subcommands."""
    parser = _Parser(prog="tinygrad-edu", description="Train, evaluate and benchmark with tinygrad_edu.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a model (default: an MLP on the bundled digits)")
    train.add_argument("--model", choices=MODEL_NAMES, help="the model (default: mlp)")
    train.add_argument("--dataset", choices=DATASETS, help="the data set (default: digits)")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help="the optimizer (default: adam)")
    train.add_argument("--lr", type=_positive(float), help="learning rate (default: 1e-3 for Adam, 0.05 for SGD)")
    train.add_argument("--epochs", type=_positive(int), help="epochs (default: per dataset, 30 for digits)")
    train.add_argument("--batch-size", type=_positive(int), help="batch size (default: per dataset, 32 for digits)")
    train.add_argument("--momentum", type=float, help="momentum of SGD and RMSprop (default 0.9)")
    train.add_argument("--weight-decay", type=float, help="L2 penalty (default 0)")
    train.add_argument("--scheduler", choices=SCHEDULERS, help="learning-rate schedule (default: none)")
    train.add_argument("--val-fraction", type=float, help="share of the training data kept for validation (0.1)")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--kernels", choices=kernels.NAMES, help="kernel backend (default: numpy on cpu, cupy on cuda)")
    train.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    train.add_argument("--out", help="output folder (default: runs/DATASET-MODEL)")
    train.add_argument(
        "--resume", metavar="CKPT", help="continue a run from its checkpoint (other flags must agree with it)"
    )
    train.add_argument("--pretrained", metavar="PATH", help="--model bert: the encoder starts from PATH, written "
                       "by tinygrad-edu pretrain (or a tge.save'd state dict of a BertForMaskedLM)")  # fmt: skip
    train.add_argument("--root", help="folder for MNIST / Fashion-MNIST / CIFAR-10 files (default: data)")
    train.add_argument("--download", action="store_true", help="download the data set files if they are missing")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (per-epoch lines only)")
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI: start with mpiexec -n P tinygrad-edu train --distributed; --batch-size is "
        "per process (a step takes P times it); rank 0 prints and writes; resumes on any number of processes",
    )
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="metrics of a trained checkpoint on its test (or val/train) split")
    ev.add_argument("checkpoint")
    ev.add_argument("--split", choices=("test", "val", "train"), default="test")
    ev.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="predict classes with a trained checkpoint")
    pr.add_argument("checkpoint")
    pr.add_argument("--input", help="a .npy or .csv file of raw samples, or for a text model a .txt file with one "
                    "sentence per line (default: the first test samples)")  # fmt: skip
    pr.add_argument(
        "--text", action="append", metavar="SENTENCE", help="a sentence to classify (text models; repeatable)"
    )
    pr.add_argument("--samples", type=_positive(int), default=10, help="how many test samples without --input")
    pr.set_defaults(func=cmd_predict)

    from . import bench

    add_pretrain_parser(sub, _positive)
    bn = sub.add_parser("bench", help="time matmul, convolution and training steps on every kernel backend")
    bench.add_arguments(bn)
    bn.set_defaults(func=bench.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinygrad-edu`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CLIError, DatasetError, kernels.KernelUnavailable, FileNotFoundError, ValueError, FloatingPointError) as e:
        message = " ".join(str(e).split())  # one line, whatever the message holds
        print(f"tinygrad-edu {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(e, CLIError) else 1
    except RuntimeError as e:  # e.g. device 'cuda' without a GPU
        if "cuda" not in str(e).lower() and "CuPy" not in str(e):
            raise
        print(f"tinygrad-edu {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ntinygrad-edu {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
