"""One training run of ``tinygrad-edu train``: the loop a PyTorch user writes, plus checkpoints.

    run = Run.start(Config(dataset="digits", model="mlp"))
    for row in run.epochs():           # trains one epoch per step, yields its history row
        print(row)
    print(run.test_metrics())

The loop itself (``train_epoch``) is the usual five lines: forward, loss, zero_grad, backward,
step. A checkpoint holds everything needed to continue exactly where the run stopped: the
weights, the optimizer's state (Adam's moments), the scheduler, the epoch, the history and the
random generator's state, so a resumed run follows the same trajectory as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics, optim, random
from .autograd import no_grad
from .data import DataLoader, TensorDataset
from .models import build_model
from .nn import functional as F
from .serialization import load, save
from .tasks import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, Task, load_task
from .tensor import Tensor

OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
              "adagrad": optim.Adagrad}  # fmt: skip
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULERS = ("none", "step", "cosine", "plateau")
CHECKPOINT_FORMAT = "tinygrad_edu checkpoint 1"


@dataclass
class Config:
    """Everything that defines a run; unset values (None) take the per-dataset or per-optimizer default."""

    dataset: str = "digits"
    model: str = "mlp"
    optimizer: str = "adam"
    lr: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    momentum: float = 0.9  # SGD and RMSprop only
    weight_decay: float = 0.0
    scheduler: str = "none"
    val_fraction: float = 0.1
    seed: int = 0
    root: str = "data"

    def resolved(self) -> Config:
        """A copy with every default filled in."""
        values = asdict(self)
        values["lr"] = DEFAULT_LR[self.optimizer] if self.lr is None else self.lr
        values["epochs"] = DEFAULT_EPOCHS[self.dataset] if self.epochs is None else self.epochs
        values["batch_size"] = DEFAULT_BATCH_SIZE[self.dataset] if self.batch_size is None else self.batch_size
        return Config(**values)


def make_optimizer(config: Config, params: Any) -> optim.Optimizer:
    """The optimizer named in the config, with its learning rate and options."""
    options: dict[str, Any] = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    return OPTIMIZERS[config.optimizer](params, **options)


def make_scheduler(config: Config, opt: optim.Optimizer) -> Any:
    """The learning-rate schedule: none, step (×0.1 every third of the run), cosine, or plateau."""
    if config.scheduler == "step":
        return optim.lr_scheduler.StepLR(opt, step_size=max(1, config.epochs // 3), gamma=0.1)
    if config.scheduler == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    if config.scheduler == "plateau":
        return optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=5)
    return None


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, device: str = "cpu", batch_size: int = 512) -> dict:
    """Mean cross-entropy, accuracy and the predictions of ``model`` on (x, y), in eval mode, without a graph."""
    was_training = model.training
    model.eval()
    total, predictions = 0.0, []
    with no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(Tensor(x[i : i + batch_size], device=device))
            target = Tensor(y[i : i + batch_size], device=device)
            total += F.cross_entropy(logits, target, reduction="sum").item()
            predictions.append(logits.argmax(dim=1).numpy())
    model.train(was_training)
    predicted = np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)
    return {"loss": total / max(len(x), 1), "accuracy": metrics.accuracy(y, predicted), "predictions": predicted}


def scores(model: Any, x: np.ndarray, y: np.ndarray, num_classes: int, device: str = "cpu") -> dict[str, Any]:
    """Loss, accuracy, macro precision/recall/F1 and the confusion matrix of ``model`` on (x, y)."""
    result = evaluate(model, x, y, device=device)
    p = result.pop("predictions")
    return {**result, "precision": metrics.precision(y, p, num_classes=num_classes),
            "recall": metrics.recall(y, p, num_classes=num_classes),
            "f1": metrics.f1_score(y, p, num_classes=num_classes),
            "confusion_matrix": metrics.confusion_matrix(y, p, num_classes=num_classes)}  # fmt: skip


class Run:
    """The state of one training run: config, data, model, optimizer, history."""

    def __init__(self, config: Config, task: Task, device: str = "cpu") -> None:
        self.config, self.task, self.device = config, task, device
        random.manual_seed(config.seed)  # the initial weights depend on the seed only
        self.model = build_model(config.model, task.input_shape, task.num_classes).to(device)
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.scheduler = make_scheduler(config, self.optimizer)
        x, y = task.train
        self.loader = DataLoader(TensorDataset(x, y), batch_size=config.batch_size, shuffle=True, seed=config.seed)
        self.epoch = 0  # epochs completed
        self.history: list[dict[str, float]] = []

    @classmethod
    def start(cls, config: Config, device: str = "cpu", download: bool = False) -> Run:
        """A fresh run: load and split the data, build the model and the optimizer."""
        config = config.resolved()
        return cls(config, load_task(config.dataset, config.root, config.seed, download, config.val_fraction), device)

    @classmethod
    def resume(cls, path: str | Path, device: str = "cpu", epochs: int | None = None) -> Run:
        """Continue a run from its checkpoint (optionally to a new total number of ``epochs``)."""
        ckpt = read_checkpoint(path)
        config = Config(**{f.name: ckpt["config"][f.name] for f in fields(Config)})
        if epochs is not None:
            config.epochs = epochs
        run = cls(config, load_task(config.dataset, config.root, config.seed, False, config.val_fraction), device)
        run.model.load_state_dict(ckpt["model"])
        run.optimizer.load_state_dict(ckpt["optimizer"])
        if run.scheduler is not None and ckpt.get("scheduler") is not None:
            run.scheduler.load_state_dict(ckpt["scheduler"])
        run.epoch = int(ckpt["epoch"])
        run.loader.epoch = run.epoch  # the next epoch shuffles as it would have without the break
        run.history = [dict(row) for row in ckpt["history"]]
        random.generator().bit_generator.state = json.loads(ckpt["rng"])
        return run

    def train_epoch(self, progress: bool = False) -> tuple[float, float]:
        """One pass over the training data; returns its mean loss and accuracy."""
        from tqdm.auto import tqdm

        self.model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = tqdm(self.loader, desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False,
                       disable=not progress, unit="batch")  # fmt: skip
        for x, y in batches:
            x, y = x.to(self.device), y.to(self.device)
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += loss.item() * len(y)
            correct += int((logits.argmax(dim=1) == y).sum().item())
            seen += len(y)
            batches.set_postfix(loss=f"{loss.item():.4f}")
        return total_loss / seen, correct / seen

    def epochs(self, progress: bool = False) -> Iterator[dict[str, float]]:
        """Train until ``config.epochs``, yielding each epoch's history row."""
        while self.epoch < self.config.epochs:
            start = time.perf_counter()
            train_loss, train_acc = self.train_epoch(progress)
            val = evaluate(self.model, *self.task.val, device=self.device)
            self.epoch += 1
            row = {"epoch": self.epoch, "train_loss": train_loss, "train_acc": train_acc,
                   "val_loss": val["loss"], "val_acc": val["accuracy"],
                   "lr": self.optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - start}  # fmt: skip
            if isinstance(self.scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(val["loss"])
            elif self.scheduler is not None:
                self.scheduler.step()
            self.history.append(row)
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"the training loss became {train_loss} in epoch {self.epoch}: lower the learning rate "
                    f"(--lr, now {self.config.lr})"
                )
            yield row

    def test_metrics(self) -> dict[str, Any]:
        """Loss, accuracy, macro precision/recall/F1 and the confusion matrix on the test set."""
        return scores(self.model, *self.task.test, self.task.num_classes, device=self.device)

    def checkpoint(self) -> dict[str, Any]:
        """Everything needed to resume or evaluate this run, as a state dict of arrays and numbers."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(self.config),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "epoch": self.epoch,
            "history": self.history,
            "classes": self.task.classes,
            "normalisation": {"mean": self.task.mean, "std": self.task.std},
            "rng": json.dumps(random.generator().bit_generator.state),
        }

    def save(self, path: str | Path) -> None:
        """Write the checkpoint (atomically: a crash mid-write leaves the previous one intact)."""
        save(self.checkpoint(), path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by ``Run.save``, or explain what the file is not."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist (train writes one to OUT/checkpoint.npz)")
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a tinygrad-edu training checkpoint (no '{CHECKPOINT_FORMAT}' marker)")
    return ckpt


def load_model(path: str | Path, device: str = "cpu") -> tuple[Any, Task, dict[str, Any]]:
    """The trained model of a checkpoint, its data (same split and normalisation), and the checkpoint."""
    ckpt = read_checkpoint(path)
    config = Config(**{f.name: ckpt["config"][f.name] for f in fields(Config)})
    task = load_task(config.dataset, config.root, config.seed, False, config.val_fraction)
    model = build_model(config.model, task.input_shape, task.num_classes)
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), task, ckpt
