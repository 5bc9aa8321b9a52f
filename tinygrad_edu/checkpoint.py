"""Reading a training checkpoint back: every key checked, every problem one error naming the file and the key.

``tinygrad-edu evaluate``, ``predict`` and ``train --resume`` start here. A checkpoint is a
``tge.save`` file (see serialization.py) holding the dict ``Run.checkpoint()`` builds. Before any of
it is used, ``read_checkpoint`` checks the structure (every key present, of the right type and
range: the config's names among the known models, data sets and optimizers, the epoch within the
run, the random generator's state one NumPy accepts), then ``resume`` / ``load_model`` check it
against what it is loaded into (the weights' names, shapes and dtypes against the model built
from the config, the optimizer's parameter groups and moment shapes, the scheduler's keys, the
epoch's sample order against the data). Any problem is a ``CheckpointError`` whose one line names
the file and the key, e.g. ``ckpt.npz: key 'model/fc1.weight' has shape (3, 64), the model needs
(128, 64)``: a damaged or foreign file never ends in a traceback and never trains another model.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import DatasetError
from .models import MODEL_NAMES, build_model
from .npz import CheckpointError
from .serialization import load
from .tasks import DATASETS, Task, load_task
from .trainer import CHECKPOINT_FORMAT, OPTIMIZERS, SCHEDULERS, Config, Run

FORMATS = (CHECKPOINT_FORMAT, "tinygrad_edu checkpoint 1")
REQUIRED = ("config", "model", "optimizer", "scheduler", "epoch", "history", "classes", "normalisation", "rng")
FLAG_NAMES = {"model": "--model", "dataset": "--dataset", "optimizer": "--optimizer", "lr": "--lr",
              "batch_size": "--batch-size", "momentum": "--momentum", "weight_decay": "--weight-decay",
              "scheduler": "--scheduler", "val_fraction": "--val-fraction", "seed": "--seed"}  # fmt: skip


class ResumeError(ValueError):
    """``--resume`` was asked for something the checkpoint cannot give (fewer epochs, another model...)."""


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) and math.isfinite(float(v))


class _Checker:
    """Raises CheckpointError("{file}: key '{key}' {problem}") for the first problem found."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, key: str, problem: str) -> CheckpointError:
        return CheckpointError(
            f"{self.name}: key {key!r} {problem}; the checkpoint is damaged or not from tinygrad-edu"
        )

    def get(self, d: dict, key: str, where: str = "") -> Any:
        full = f"{where}/{key}" if where else key
        if key not in d:
            raise CheckpointError(f"{self.name}: key {full!r} is missing; the checkpoint is damaged or incomplete")
        return d[key]

    def kind(self, value: Any, key: str, types: Any, what: str) -> Any:
        if not isinstance(value, types):
            raise self.fail(key, f"should be {what}, found {type(value).__name__}")
        return value

    def choice(self, value: Any, key: str, choices: Any) -> None:
        if not isinstance(value, str) or value not in choices:
            raise self.fail(key, f"is {value!r}, not one of {', '.join(choices)}")

    def number(
        self, value: Any, key: str, low: float | None = None, integer: bool = False, above: bool = False
    ) -> None:
        ok = _is_int(value) if integer else _is_real(value)
        if ok and low is not None:
            ok = value > low if above else value >= low
        if not ok:
            bound = "" if low is None else f" {'>' if above else '>='} {low}"
            raise self.fail(key, f"is {value!r}, expected {'an integer' if integer else 'a finite number'}{bound}")


def _check_config(c: _Checker, config: Any) -> Config:
    c.kind(config, "config", dict, "a dict")
    names = [f.name for f in fields(Config)]
    unknown = [k for k in config if k not in names]
    if unknown:
        raise c.fail(f"config/{unknown[0]}", "is not a setting of tinygrad-edu train")
    values = {k: c.get(config, k, "config") for k in names}
    c.choice(values["dataset"], "config/dataset", DATASETS)
    c.choice(values["model"], "config/model", MODEL_NAMES)
    c.choice(values["optimizer"], "config/optimizer", sorted(OPTIMIZERS))
    c.choice(values["scheduler"], "config/scheduler", SCHEDULERS)
    c.number(values["lr"], "config/lr", 0, above=True)
    c.number(values["epochs"], "config/epochs", 1, integer=True)
    c.number(values["batch_size"], "config/batch_size", 1, integer=True)
    c.number(values["momentum"], "config/momentum")
    c.number(values["weight_decay"], "config/weight_decay", 0)
    c.number(values["val_fraction"], "config/val_fraction", 0, above=True)
    if not values["val_fraction"] < 1:
        raise c.fail("config/val_fraction", f"is {values['val_fraction']!r}, expected a fraction below 1")
    c.number(values["seed"], "config/seed", 0, integer=True)
    c.kind(values["root"], "config/root", str, "a folder name")
    for k in ("epochs", "batch_size", "seed"):
        values[k] = int(values[k])
    for k in ("lr", "momentum", "weight_decay", "val_fraction"):
        values[k] = float(values[k])
    return Config(**values)


def _check_rng(c: _Checker, state: Any) -> dict:
    if isinstance(state, str):  # format 1 kept it as JSON text
        import json

        try:
            state = json.loads(state)
        except ValueError as e:
            raise c.fail("rng", f"is not the JSON of a generator state ({e})") from None
    c.kind(state, "rng", dict, "the state of a NumPy generator (a dict)")
    if state.get("bit_generator") != "PCG64":
        raise c.fail("rng/bit_generator", f"is {state.get('bit_generator')!r}, expected 'PCG64'")
    try:
        np.random.default_rng().bit_generator.state = state
    except Exception as e:  # ValueError, TypeError, KeyError, OverflowError: a damaged state
        raise c.fail("rng", f"is not a valid PCG64 state ({type(e).__name__}: {e})") from None
    return state


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by ``Run.save`` and check its structure, or explain what the file is not."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist (train writes one to OUT/checkpoint.npz)")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file (try {path / 'checkpoint.npz'})")
    ckpt = load(path)
    c = _Checker(str(path))
    if not isinstance(ckpt, dict) or ckpt.get("format") not in FORMATS:
        raise CheckpointError(f"{path} is not a tinygrad-edu training checkpoint (no '{CHECKPOINT_FORMAT}' marker)")
    for key in REQUIRED:
        c.get(ckpt, key)
    ckpt["config"] = _check_config(c, ckpt["config"])
    config = ckpt["config"]
    c.kind(ckpt["model"], "model", dict, "a dict of weights")
    for key, value in ckpt["model"].items():
        c.kind(value, f"model/{key}", np.ndarray, "an array")
    opt = c.kind(ckpt["optimizer"], "optimizer", dict, "a dict")
    c.kind(c.get(opt, "state", "optimizer"), "optimizer/state", dict, "a dict")
    groups = c.kind(c.get(opt, "param_groups", "optimizer"), "optimizer/param_groups", list, "a list")
    for i, group in enumerate(groups):
        c.kind(group, f"optimizer/param_groups/{i}", dict, "a dict")
        c.number(c.get(group, "lr", f"optimizer/param_groups/{i}"), f"optimizer/param_groups/{i}/lr", 0)
    if (ckpt["scheduler"] is None) != (config.scheduler == "none"):
        raise c.fail("scheduler", f"is {type(ckpt['scheduler']).__name__} but config/scheduler is {config.scheduler!r}")
    if ckpt["scheduler"] is not None:
        c.kind(ckpt["scheduler"], "scheduler", dict, "a dict")
    c.number(ckpt["epoch"], "epoch", 0, integer=True)
    ckpt["epoch"] = int(ckpt["epoch"])
    if ckpt["epoch"] > config.epochs:
        raise c.fail("epoch", f"is {ckpt['epoch']}, more than config/epochs = {config.epochs}")
    history = c.kind(ckpt["history"], "history", list, "a list")
    if len(history) != ckpt["epoch"]:
        raise c.fail("history", f"has {len(history)} rows for {ckpt['epoch']} epochs")
    for i, row in enumerate(history):
        c.kind(row, f"history/{i}", dict, "a dict")
        for key, value in row.items():
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise c.fail(f"history/{i}/{key}", f"is {value!r}, not a number")
    classes = c.kind(ckpt["classes"], "classes", list, "a list of class names")
    if not classes or not all(isinstance(k, str) for k in classes):
        raise c.fail("classes", "should be a non-empty list of class names")
    norm = c.kind(ckpt["normalisation"], "normalisation", dict, "a dict")
    for key in ("mean", "std"):
        value = c.kind(c.get(norm, key, "normalisation"), f"normalisation/{key}", np.ndarray, "an array")
        if value.dtype.kind != "f" or not np.isfinite(value).all():
            raise c.fail(f"normalisation/{key}", f"should be finite floats, found {value.dtype}")
    ckpt["rng"] = _check_rng(c, ckpt["rng"])
    position = ckpt.setdefault(
        "position", {"batch": 0, "loss": 0.0, "correct": 0, "seen": 0, "seconds": 0.0, "order": None}
    )  # fmt: skip  (format 1: epochs only)
    c.kind(position, "position", dict, "a dict")
    for key in ("batch", "correct", "seen"):
        c.number(c.get(position, key, "position"), f"position/{key}", 0, integer=True)
    for key in ("loss", "seconds"):
        c.number(c.get(position, key, "position"), f"position/{key}")
    order = c.get(position, "order", "position")
    if order is not None and not (isinstance(order, np.ndarray) and order.ndim == 1 and order.dtype.kind in "iu"):
        raise c.fail("position/order", "should be a 1-d array of sample indices")
    finished = ckpt.setdefault("finished", False)
    c.kind(finished, "finished", bool, "True or False")
    return ckpt


def _check_task(c: _Checker, ckpt: dict, task: Task) -> None:
    """The data must be the data the checkpoint was trained on: same classes, same normalisation."""
    norm = ckpt["normalisation"]
    if len(ckpt["classes"]) != task.num_classes:
        raise c.fail(
            "classes", f"lists {len(ckpt['classes'])} classes, the data set {task.dataset} has {task.num_classes}"
        )
    for key, own in (("mean", task.mean), ("std", task.std)):
        saved = norm[key]
        if saved.shape != own.shape or not np.allclose(saved, own, rtol=1e-4, atol=1e-6):
            raise c.fail(
                f"normalisation/{key}",
                f"does not match the data in {ckpt['config'].root!r} (the checkpoint was trained on other files)",
            )


def _check_weights(c: _Checker, saved: dict, model: Any) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    if missing:
        raise c.fail(f"model/{missing[0]}", f"is missing (the {type(model).__name__} built from config needs it)")
    extra = [k for k in saved if k not in own]
    if extra:
        raise c.fail(f"model/{extra[0]}", f"is not a weight of the {type(model).__name__} built from config")
    for key, t in own.items():
        value = saved[key]
        if value.shape != tuple(t.shape):
            raise c.fail(f"model/{key}", f"has shape {value.shape}, the model needs {tuple(t.shape)}")
        if value.dtype != t.dtype:
            raise c.fail(f"model/{key}", f"has dtype {value.dtype}, the model needs {t.dtype}")
    model.load_state_dict(saved)


def _check_optimizer(c: _Checker, saved: dict, run: Run) -> None:
    params = list(run.model.parameters())
    groups = saved["param_groups"]
    if len(groups) != 1:
        raise c.fail("optimizer/param_groups", f"has {len(groups)} groups, tinygrad-edu train uses 1")
    ids = c.get(groups[0], "params", "optimizer/param_groups/0")
    if not isinstance(ids, list | tuple | np.ndarray) or [int(i) for i in np.asarray(ids).reshape(-1)] != list(
        range(len(params))
    ):
        raise c.fail("optimizer/param_groups/0/params", f"should number the model's {len(params)} parameters 0, 1, ...")
    own = {k for k in run.optimizer.param_groups[0] if k != "params"}
    unknown = sorted(set(groups[0]) - own - {"params"})
    if unknown:
        raise c.fail(f"optimizer/param_groups/0/{unknown[0]}", f"is not a setting of {type(run.optimizer).__name__}")
    lacking = sorted(own - set(groups[0]))
    if lacking:
        raise c.fail(f"optimizer/param_groups/0/{lacking[0]}", "is missing")
    for key, state in saved["state"].items():
        where = f"optimizer/state/{key}"
        if not _is_int(key) or not 0 <= key < len(params):
            raise c.fail(where, f"names no parameter (the model has {len(params)})")
        c.kind(state, where, dict, "a dict")
        for name, value in state.items():
            if isinstance(value, np.ndarray) and value.size > 1 and value.shape != tuple(params[key].shape):
                raise c.fail(
                    f"{where}/{name}", f"has shape {value.shape}, parameter {key} has {tuple(params[key].shape)}"
                )
            if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
                raise c.fail(f"{where}/{name}", f"has dtype {value.dtype}, expected numbers")
            if not isinstance(value, np.ndarray | numbers.Number):
                raise c.fail(f"{where}/{name}", f"is {type(value).__name__}, expected an array or a number")
    run.optimizer.load_state_dict(saved)


def _check_position(c: _Checker, ckpt: dict, run: Run) -> None:
    """The position inside the epoch. ``seen`` (samples of the epoch's order consumed) is the global progress;
    a checkpoint with ``world_size`` was written by --distributed (or after resuming one): its steps took
    batch_size · world_size samples each, the last one fewer, so seen ≤ batch · batch_size · world_size.
    """
    p, n, b = ckpt["position"], len(run.dataset), run.config.batch_size
    world = p.get("world_size", 1)
    if not _is_int(world) or world < 1:
        raise c.fail("position/world_size", f"is {world!r}, expected a number of processes ≥ 1")
    steps = -(-n // (b * world))
    if p["batch"] > steps:
        raise c.fail("position/batch", f"is {p['batch']}, an epoch has {steps} batches")
    if "world_size" in p:
        if not (
            p["seen"] <= min(p["batch"] * b * world, n) and (p["seen"] >= p["batch"]) and p["correct"] <= p["seen"]
        ):
            raise c.fail("position/seen", f"is {p['seen']} after {p['batch']} steps of {b} × {world} processes")
    elif p["seen"] != min(p["batch"] * b, n) or p["correct"] > p["seen"]:
        raise c.fail("position/seen", f"is {p['seen']} after {p['batch']} batches of {b}")
    order = p["order"]
    if order is None and p["batch"]:
        raise c.fail("position/order", "is missing although the epoch has begun")
    if order is not None and not np.array_equal(np.sort(order), np.arange(n)):
        raise c.fail("position/order", f"is not an order of the {n} training samples")
    if ckpt["epoch"] == run.config.epochs and p["batch"]:
        raise c.fail("position/batch", "is inside an epoch after the last one")
    run.epoch, run.order = ckpt["epoch"], None if order is None else order.astype(np.int64)
    # steps done, counted in this run's steps (batch_size · its world size): the same number on the same world
    run.batch = p["batch"] if world == run.world else -(-p["seen"] // (b * run.world))
    run.sums = {"loss": float(p["loss"]), "correct": int(p["correct"]), "seen": int(p["seen"]),
                "seconds": float(p["seconds"])}  # fmt: skip


def _guard(name: str, what: str, action: Any) -> Any:
    """Run ``action``; any exception that is not already a clear one becomes a CheckpointError naming the file."""
    try:
        return action()
    except (CheckpointError, ResumeError, DatasetError, FileNotFoundError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise CheckpointError(f"{name}: cannot {what} ({type(e).__name__}: {e}); the checkpoint is damaged") from e


def check_flags(path: str | Path, config: Config, flags: dict[str, Any]) -> None:
    """Refuse flags that contradict the checkpoint's config: resuming never silently trains another model."""
    for key, value in flags.items():
        if value is None or key == "root":
            continue
        saved = getattr(config, key)
        if value != saved:
            flag = FLAG_NAMES.get(key, f"--{key}")
            raise ResumeError(
                f"{path} was trained with {flag} {saved}, not {flag} {value}: drop {flag} to resume it, "
                "or leave out --resume to start a new run"
            )


def resume(
    path: str | Path, device: str = "cpu", epochs: int | None = None, distributed: bool = False, **flags: Any
) -> Run:
    """A Run restored from ``path`` exactly as it was saved, to continue to ``epochs`` in total.

    ``flags`` are the other settings given on the command line (None when not given): each must
    agree with the checkpoint's, except ``root`` (where the data files now are). Raises
    ResumeError when ``epochs`` is fewer than already trained, or nothing is left to do. ``distributed``
    continues data-parallel, on however many processes this run has (see trainer_parallel.py).
    """
    name = str(path)
    ckpt = read_checkpoint(path)
    config = ckpt["config"]
    check_flags(path, config, flags)
    if flags.get("root") is not None:
        config.root = flags["root"]
    done = ckpt["epoch"] + (1 if ckpt["position"]["batch"] else 0)
    if epochs is not None and epochs < done:
        raise ResumeError(
            f"{path} has already trained {ckpt['epoch']} epochs{' and part of one more' * (done > ckpt['epoch'])}, "
            f"so --epochs {epochs} is too few: pass --epochs N with N >= {max(done, ckpt['epoch'] + 1)} "
            "to train further, "
            f"or run `tinygrad-edu evaluate {path}` for its metrics"
        )
    target = config.epochs if epochs is None else epochs
    if ckpt["finished"] and target <= ckpt["epoch"]:
        raise ResumeError(
            f"{path} has finished all {ckpt['epoch']} epochs: pass --epochs N with N > {ckpt['epoch']} to train "
            f"further, or run `tinygrad-edu evaluate {path}` for its metrics"
        )
    config.epochs = target
    task = load_task(config.dataset, config.root, config.seed, False, config.val_fraction)
    c = _Checker(name)

    def restore() -> Run:
        _check_task(c, ckpt, task)
        run = Run(config, task, device, distributed)
        _check_weights(c, ckpt["model"], run.model)
        _check_optimizer(c, ckpt["optimizer"], run)
        if run.scheduler is not None:
            own, saved = set(run.scheduler.state_dict()), set(ckpt["scheduler"])
            if own != saved:
                key = sorted(own ^ saved)[0]
                raise c.fail(f"scheduler/{key}", "is missing" if key in own else "is not a setting of the scheduler")
            run.scheduler.load_state_dict(ckpt["scheduler"])
        _check_position(c, ckpt, run)
        run.history = [dict(row) for row in ckpt["history"]]
        from . import random

        random.generator().bit_generator.state = ckpt["rng"]
        run.model.to(device)
        return run

    return _guard(name, "restore the run", restore)


def load_model(path: str | Path, device: str = "cpu") -> tuple[Any, Task, dict[str, Any]]:
    """The trained model of a checkpoint, its data (same split and normalisation), and the checkpoint."""
    name = str(path)
    ckpt = read_checkpoint(path)
    config = ckpt["config"]
    task = load_task(config.dataset, config.root, config.seed, False, config.val_fraction)
    c = _Checker(name)

    def restore() -> Any:
        _check_task(c, ckpt, task)
        model = build_model(config.model, task.input_shape, task.num_classes, task.vocab_size)
        _check_weights(c, ckpt["model"], model)
        return model.to(device).eval()

    return _guard(name, "load its model", restore), task, ckpt
