"""One training run of ``tinygrad-edu train``: the loop a PyTorch user writes, plus checkpoints.

    run = Run.start(Config(dataset="digits", model="mlp"))
    for row in run.epochs():           # trains one epoch per step, yields its history row
        print(row)
    print(run.test_metrics())

The loop itself (``train_epoch``) is the usual five lines: forward, loss, zero_grad, backward,
step. A checkpoint holds everything needed to continue exactly where the run stopped, even in the
middle of an epoch: the weights, the optimizer's state (Adam's moments), the scheduler, the
history, the random generator's state, and the position inside the epoch — its shuffled order
of samples, how many batches are done and the running loss and accuracy sums. So a run resumed
from a checkpoint written at any batch ends with the same weights, bit for bit, as one that was
never interrupted (``tests/test_resume.py`` proves it).

Each epoch's order is drawn here, from ``default_rng([seed, epoch])`` (what
``DataLoader(shuffle=True, seed=seed)`` draws too), so that the checkpoint can hold it and the
DataLoader of a resumed epoch walks only the batches still to do. The loop calls ``run.stop()``
after every optimizer step and between evaluation batches: when it returns True (the CLI's
Ctrl-C handler, see ``interrupt.py``) it raises KeyboardInterrupt there, at a consistent state.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics, optim, random
from .autograd import no_grad
from .data import DataLoader, Subset, TensorDataset
from .models import build_model
from .nn import functional as F
from .serialization import save
from .tasks import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, Task, load_task
from .tensor import Tensor

OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
              "adagrad": optim.Adagrad}  # fmt: skip
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULERS = ("none", "step", "cosine", "plateau")
CHECKPOINT_FORMAT = "tinygrad_edu checkpoint 2"  # 1: no position inside the epoch


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


def _never() -> bool:
    return False


def evaluate(
    model: Any, x: np.ndarray, y: np.ndarray, device: str = "cpu", batch_size: int = 512,
    stop: Callable[[], bool] = _never,
) -> dict:  # fmt: skip
    """Mean cross-entropy, accuracy and the predictions of ``model`` on (x, y), in eval mode, without a graph.

    ``stop`` is polled after each batch; when it returns True, KeyboardInterrupt is raised.
    """
    was_training = model.training
    model.eval()
    total, predictions = 0.0, []
    with no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(Tensor(x[i : i + batch_size], device=device))
            target = Tensor(y[i : i + batch_size], device=device)
            total += F.cross_entropy(logits, target, reduction="sum").item()
            predictions.append(logits.argmax(dim=1).numpy())
            if stop():
                model.train(was_training)
                raise KeyboardInterrupt
    model.train(was_training)
    predicted = np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)
    return {"loss": total / max(len(x), 1), "accuracy": metrics.accuracy(y, predicted), "predictions": predicted}


def scores(
    model: Any, x: np.ndarray, y: np.ndarray, num_classes: int, device: str = "cpu", stop: Callable[[], bool] = _never
) -> dict[str, Any]:
    """Loss, accuracy, macro precision/recall/F1 and the confusion matrix of ``model`` on (x, y)."""
    result = evaluate(model, x, y, device=device, stop=stop)
    p = result.pop("predictions")
    return {**result, "precision": metrics.precision(y, p, num_classes=num_classes),
            "recall": metrics.recall(y, p, num_classes=num_classes),
            "f1": metrics.f1_score(y, p, num_classes=num_classes),
            "confusion_matrix": metrics.confusion_matrix(y, p, num_classes=num_classes)}  # fmt: skip


class Run:
    """The state of one training run: config, data, model, optimizer, history, and where in an epoch it is."""

    def __init__(self, config: Config, task: Task, device: str = "cpu", distributed: bool = False) -> None:
        self.config, self.task, self.device = config, task, device
        self.parallel = None  # the data-parallel side (trainer_parallel.DataParallel) under --distributed
        if distributed:
            from .trainer_parallel import DataParallel

            self.parallel = DataParallel()
        self.world = 1 if self.parallel is None else self.parallel.world  # processes; a step takes b·world samples
        random.manual_seed(config.seed)  # the initial weights depend on the seed only
        self.model = build_model(config.model, task.input_shape, task.num_classes, task.vocab_size).to(device)
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.scheduler = make_scheduler(config, self.optimizer)
        self.dataset = TensorDataset(*task.train)
        self.epoch = 0  # epochs completed
        self.history: list[dict[str, float]] = []
        self.finished = False  # True once the test metrics of the last epoch were computed
        self.stop: Callable[[], bool] = _never  # polled after every step: True → KeyboardInterrupt
        self._new_epoch()

    def _new_epoch(self) -> None:
        """Forget the finished epoch: no order drawn yet, no batch done, sums at zero."""
        self.order: np.ndarray | None = None  # this epoch's order of training samples, once drawn
        self.batch = 0  # steps of this epoch done
        self.sums = {"loss": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}  # running sums of this epoch

    @classmethod
    def start(cls, config: Config, device: str = "cpu", download: bool = False, distributed: bool = False) -> Run:
        """A fresh run: load and split the data, build the model and the optimizer (data-parallel if asked)."""
        config = config.resolved()
        task = load_task(config.dataset, config.root, config.seed, download, config.val_fraction)
        return cls(config, task, device, distributed)

    @classmethod
    def resume(cls, path: str | Path, device: str = "cpu", epochs: int | None = None, distributed: bool = False,
               **flags: Any) -> Run:  # fmt: skip
        """Continue a run from its checkpoint (optionally to a new total of ``epochs``); see checkpoint.resume."""
        from .checkpoint import resume

        return resume(path, device=device, epochs=epochs, distributed=distributed, **flags)

    @property
    def batches_per_epoch(self) -> int:
        """How many steps one epoch has (the last one may be smaller): batch_size · world samples each."""
        return -(-len(self.dataset) // (self.config.batch_size * self.world))

    @property
    def is_main(self) -> bool:
        """True on the process that prints and writes (rank 0; the only one without --distributed)."""
        return self.parallel is None or self.parallel.rank == 0

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The order in which epoch ``epoch`` (0-based) visits the training samples: seeded by (seed, epoch)."""
        return np.random.default_rng([self.config.seed, epoch]).permutation(len(self.dataset))

    def train_epoch(self, progress: bool = False) -> tuple[float, float]:
        """Train on the batches of this epoch still to do; returns the epoch's mean loss and accuracy."""
        from tqdm.auto import tqdm

        if self.parallel is not None:
            from .trainer_parallel import train_epoch_parallel

            return train_epoch_parallel(self, progress)
        if self.order is None:
            self.order = self.epoch_order(self.epoch)
        b = self.config.batch_size
        todo = Subset(self.dataset, self.order[self.sums["seen"] :])  # (= batch · b, or where another world stopped)
        loader = DataLoader(todo, batch_size=b)  # the order is drawn above, so no shuffle here
        self.model.train()
        batches = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False, unit="batch",
                       disable=not progress, initial=self.batch, total=self.batches_per_epoch)  # fmt: skip
        start, sums = time.perf_counter(), self.sums
        for x, y in batches:
            x, y = x.to(self.device), y.to(self.device)
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            sums["loss"] += loss.item() * len(y)
            sums["correct"] += int((logits.argmax(dim=1) == y).sum().item())
            sums["seen"] += len(y)
            self.batch += 1
            batches.set_postfix(loss=f"{loss.item():.4f}")
            if self.stop():
                sums["seconds"] += time.perf_counter() - start
                raise KeyboardInterrupt  # here the state is consistent: the checkpoint resumes exactly
        sums["seconds"] += time.perf_counter() - start
        return sums["loss"] / max(sums["seen"], 1), sums["correct"] / max(sums["seen"], 1)

    def epochs(self, progress: bool = False) -> Iterator[dict[str, float]]:
        """Train until ``config.epochs``, yielding each epoch's history row."""
        while self.epoch < self.config.epochs:
            train_loss, train_acc = self.train_epoch(progress)
            start = time.perf_counter()
            # every rank evaluates (the weights are equal); no rank stops alone inside it
            stop = self.stop if self.parallel is None else _never
            val = evaluate(self.model, *self.task.val, device=self.device, stop=stop)
            seconds = self.sums["seconds"] + time.perf_counter() - start
            self.epoch += 1
            row = {"epoch": self.epoch, "train_loss": train_loss, "train_acc": train_acc,
                   "val_loss": val["loss"], "val_acc": val["accuracy"],
                   "lr": self.optimizer.param_groups[0]["lr"], "seconds": seconds}  # fmt: skip
            if self.parallel is not None:
                row["comm_seconds"] = getattr(self, "comm_seconds_epoch", 0.0)  # all-reduces of this epoch
                row["processes"] = self.world
            if isinstance(self.scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(val["loss"])
            elif self.scheduler is not None:
                self.scheduler.step()
            self.history.append(row)
            self._new_epoch()
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"the training loss became {train_loss} in epoch {self.epoch}: lower the learning rate "
                    f"(--lr, now {self.config.lr})"
                )
            yield row
            if self.stop() if self.parallel is None else self.parallel.should_stop(self.stop()):
                raise KeyboardInterrupt

    def test_metrics(self) -> dict[str, Any]:
        """Loss, accuracy, macro precision/recall/F1 and the confusion matrix on the test set."""
        stop = self.stop if self.parallel is None else _never
        return scores(self.model, *self.task.test, self.task.num_classes, device=self.device, stop=stop)

    def checkpoint(self) -> dict[str, Any]:
        """Everything needed to resume or evaluate this run, as a state dict of arrays and numbers."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(self.config),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "epoch": self.epoch,
            "position": self._position(),
            "finished": self.finished,
            "history": self.history,
            "classes": self.task.classes,
            "normalisation": {"mean": self.task.mean, "std": self.task.std},
            "rng": random.generator().bit_generator.state,
        }

    def _position(self) -> dict[str, Any]:
        """Where in the epoch the run is: steps done, the sums, the order, and (when it is not plain
        batch · batch_size) the world size whose steps these were; ``seen`` is the global progress.
        """
        position = {"batch": self.batch, **self.sums,
                    "order": None if self.order is None else self.order.astype(np.int64)}  # fmt: skip
        if self.world > 1 or self.sums["seen"] != min(self.batch * self.config.batch_size, len(self.dataset)):
            position["world_size"] = self.world
        return position

    def save(self, path: str | Path) -> None:
        """Write the checkpoint (atomically: a crash mid-write leaves the previous one intact).

        Under --distributed only rank 0 writes; the other ranks return at once (the state is the same
        on every rank: the weights and optimizer state are equal, the progress agreed each step).
        """
        if self.is_main:
            save(self.checkpoint(), path)
