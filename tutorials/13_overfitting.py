# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 13 · Overfitting, and six cures measured
#
# **You will be able to:** recognise overfitting in a training run (training accuracy 100 %, the validation loss
# turning back up); say what dropout, weight decay (L2 in Adam vs AdamW's decoupled decay), batch normalisation,
# data augmentation, early stopping and a learning-rate schedule each change in the update; and measure, not guess,
# which of them helps on a given problem, with a validation set to choose and a test set to report.
#
# **Run time:** about 9 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# One network, one small training set, one seed: every run below starts from the *same* initial weights and
# sees the *same* batches, so a difference between two runs is the cure's doing, not luck.

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import train_test_split
from tinygrad_edu.datasets import load_digits

SEED = 0
EPOCHS = sized(full=300, fast=60)
N_TRAIN, N_VAL, BATCH = 100, 400, 25
print("fast mode" if FAST else "full mode", f"- {EPOCHS} epochs")

# %% [markdown]
# ## A training set small enough to memorise
#
# The 1797 digits of 8×8 pixels are split three ways: **100 to train on** (10 of each digit), 400 to
# *validate* on (to watch the run and to choose: when to stop, which cure), and the remaining 1297 to *test*
# on, looked at once at the end. Choosing by the validation set and reporting the test set keeps the reported
# number honest: the validation score of the run we *picked* is biased upwards by the picking.

# %%
digits = load_digits()
X_rest, X_train, y_rest, y_train = train_test_split(
    digits.data, digits.targets, test_size=N_TRAIN, seed=SEED, stratify=digits.targets
)
X_test, X_val, y_test, y_val = train_test_split(X_rest, y_rest, test_size=N_VAL, seed=SEED, stratify=y_rest)
print(f"train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}")
print("training digits per class:", np.bincount(y_train))
assert np.all(np.bincount(y_train) == 10) and len(X_test) == 1797 - N_TRAIN - N_VAL

# %% [markdown]
# The model: 64 → 128 → 128 → 10 with ReLU, about 26 000 weights for 100 examples, trained with Adam
# (lr $10^{-3}$) on mini-batches of 25 to minimise the mean cross-entropy
# $L = -\frac{1}{N}\sum_n \log \mathrm{softmax}(z_n)_{y_n}$. With 260 weights per training example it can
# memorise the training set, and it will.


# %%
def make_mlp(dropout: float = 0.0, batchnorm: bool = False, hidden: int = 128) -> nn.Sequential:
    """64 → hidden → hidden → 10, ReLU; optionally BatchNorm before and Dropout after each ReLU."""
    layers, width = [], 64
    for _ in range(2):
        layers.append(nn.Linear(width, hidden))
        if batchnorm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in evaluation mode: dropout off, BatchNorm on its running statistics."""
    model.eval()
    with tge.no_grad():
        logits = model(tge.tensor(X))
        loss = F.cross_entropy(logits, tge.tensor(y)).item()
    model.train()
    return loss, float((logits.numpy().argmax(1) == y).mean())


def nudge(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Data augmentation: shift each 8×8 digit by one pixel up, down, left or right, or leave it (1/5 each)."""
    images = np.pad(xb.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)))  # a zero border to shift into
    moves = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    shifted = np.stack([images[:, 1 - dy : 9 - dy, 1 - dx : 9 - dx] for dy, dx in moves])  # (5, B, 8, 8)
    pick = rng.integers(0, len(moves), len(xb))
    return shifted[pick, np.arange(len(xb))].reshape(-1, 64)


def train(name, *, dropout=0.0, batchnorm=False, weight_decay=0.0, decoupled=False, augment=False,
          schedule=False, early_stopping=False, lr=1e-3, X=None, y=None, epochs=None):  # fmt: skip
    """Train one model from the shared seed; return its history and final numbers."""
    X = X_train if X is None else X
    y = y_train if y is None else y
    epochs = EPOCHS if epochs is None else epochs
    tge.manual_seed(SEED)  # the same initial weights (and dropout masks) for every run
    rng = np.random.default_rng(SEED)  # the same batches for every run
    shift_rng = np.random.default_rng(SEED + 1)  # the shifts draw from their own generator, not from the batches
    model = make_mlp(dropout, batchnorm)
    opt = (optim.AdamW if decoupled else optim.Adam)(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule else None
    stopper = optim.EarlyStopping(patience=sized(full=30, fast=10)) if early_stopping else None
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for _epoch in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start : start + BATCH]
            xb = nudge(X[idx], shift_rng) if augment else X[idx]
            loss = F.cross_entropy(model(tge.tensor(xb)), tge.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if scheduler is not None:
            scheduler.step()
        for split, (Xs, ys) in (("train", (X, y)), ("val", (X_val, y_val))):
            split_loss, split_acc = evaluate(model, Xs, ys)
            history[f"{split}_loss"].append(split_loss)
            history[f"{split}_acc"].append(split_acc)
        if stopper is not None and stopper.step(history["val_loss"][-1], model):
            break  # the best weights are back in the model
    final = dict(zip(("train_loss", "train_acc"), evaluate(model, X, y)))
    final.update(zip(("val_loss", "val_acc"), evaluate(model, X_val, y_val)))
    final.update(zip(("test_loss", "test_acc"), evaluate(model, X_test, y_test)))
    final["epochs"] = len(history["val_loss"])
    final["best_epoch"] = stopper.best_epoch if stopper is not None else None
    return {"name": name, "history": history, **final}


# %%
n_weights = sum(p.numel() for p in make_mlp().parameters())
print(f"{n_weights} weights, {n_weights / N_TRAIN:.0f} per training example")
assert n_weights == (64 * 128 + 128) + (128 * 128 + 128) + (128 * 10 + 10) == 26_122

# %% [markdown]
# ## Overfitting, seen
#
# The baseline has no cure at all. Watch two things: the training accuracy reaches 100 % (every training digit
# right), and the validation loss reaches a minimum and then *rises* while the training loss keeps falling.
# The network has started to learn the particular 100 examples, not digits: it grows ever more confident,
# including on the validation digits it gets wrong, and each confident mistake costs a large $-\log p$.

# %%
runs = {"baseline": train("baseline")}
base = runs["baseline"]
h = base["history"]
best_val = min(h["val_loss"])
print(f"baseline: train acc {base['train_acc']:.3f}, val acc {base['val_acc']:.3f}, "
      f"train loss {base['train_loss']:.4f}, val loss {base['val_loss']:.3f} "
      f"(its minimum {best_val:.3f} at epoch {int(np.argmin(h['val_loss']))})")  # fmt: skip
assert base["train_acc"] == 1.0, "the network memorises its 100 training digits"
assert base["train_acc"] - base["val_acc"] >= 0.05, "and does clearly worse on digits it has not seen"
assert base["train_loss"] < 0.05 < base["val_loss"]
if not FAST:
    assert h["val_loss"][-1] > 1.05 * best_val, "the validation loss turned back up: overfitting"

# %%
fig = Figure(figsize=(10, 3.6))
ax_loss, ax_acc = fig.subplots(1, 2)
epochs_axis = np.arange(1, len(h["val_loss"]) + 1)
ax_loss.plot(epochs_axis, h["train_loss"], label="train")
ax_loss.plot(epochs_axis, h["val_loss"], label="validation")
ax_loss.set_yscale("log")
ax_loss.set(title="Baseline: the losses part ways", xlabel="epoch", ylabel="cross-entropy (log scale)")
ax_loss.legend()
ax_acc.plot(epochs_axis, h["train_acc"], label="train")
ax_acc.plot(epochs_axis, h["val_acc"], label="validation")
ax_acc.set(title="Baseline: 100 % on train, not on validation", xlabel="epoch", ylabel="accuracy")
ax_acc.legend()
show(fig, "13_baseline.png")

# %% [markdown]
# ## The cures, and what each changes
#
# **Dropout** (Srivastava et al., 2014). In training each hidden unit is zeroed with probability $p$ and the
# survivors are scaled by $1/(1-p)$, so that the expected activation is unchanged; in evaluation the layer is
# the identity:
# $$ \tilde h_i = \frac{m_i}{1-p}\, h_i,\quad m_i \sim \mathrm{Bernoulli}(1-p), \qquad
#    \mathbb{E}[\tilde h_i] = h_i . $$
# No unit can rely on a particular other unit being there, which discourages memorising co-adaptations.
# The library's code:

# %%
quote(F.dropout)
tge.manual_seed(1)
h_in = tge.ones(200_000)
h_drop = F.dropout(h_in, p=0.5, training=True).numpy()
print(f"share zeroed {np.mean(h_drop == 0):.4f}, survivors scaled to {h_drop.max():.1f}, mean {h_drop.mean():.4f}")
assert abs(np.mean(h_drop == 0) - 0.5) < 0.01 and h_drop.max() == 2.0 and abs(h_drop.mean() - 1.0) < 0.01
assert np.array_equal(F.dropout(h_in, p=0.5, training=False).numpy(), h_in.numpy())  # evaluation: identity

# %% [markdown]
# **Weight decay**, two ways that are *not* the same for Adam.
#
# *L2 regularisation* adds $\frac{\lambda}{2}\lVert\theta\rVert^2$ to the loss, so the gradient becomes
# $g + \lambda\theta$, and Adam then divides that sum by $\sqrt{\hat v}+\epsilon$: a weight with large gradients
# (large $\hat v$) is hardly decayed at all, one with tiny gradients is decayed enormously.
#
# *Decoupled weight decay* (AdamW, Loshchilov & Hutter 2019) shrinks every weight by the same factor, outside
# the adaptive step:
# $$ \theta \leftarrow \theta - \eta\lambda\theta, \qquad \text{then the Adam step on } g \text{ alone}. $$
# For plain SGD the two are the same thing; for Adam they differ. The cure used below is **AdamW** (decoupled),
# with $\lambda = 1$; `Adam(weight_decay=...)`, the L2 form, is run alongside for comparison. In the library:

# %%
quote(optim.AdamW.update)
w_test = tge.tensor(np.array([0.5, -2.0], dtype=np.float32), requires_grad=True)
w_test.grad = tge.zeros(2)  # no data gradient: only the decay acts
optim.AdamW([w_test], lr=0.1, weight_decay=1.0).step()
print("AdamW, lr 0.1, λ 1, zero gradient: [0.5, -2.0] →", w_test.detach().numpy())
assert np.allclose(w_test.detach().numpy(), [0.45, -1.8])  # θ ← θ(1 − ηλ) = 0.9·θ

# %% [markdown]
# **Batch normalisation** (lesson 14 derives it) standardises each hidden unit over the mini-batch. Its
# regularising effect is a side effect: each example's output depends a little on which others share its batch,
# a kind of noise. It mainly makes training better-conditioned.
#
# **Data augmentation** trains on transformed copies of the data that keep their label: here every digit is
# shifted by one pixel (or not) each time it is drawn, so the net sees 5 variants of each training digit.
#
# **Early stopping** watches the validation loss after every epoch and, after `patience` epochs without a
# new minimum, stops and restores the weights of the best epoch (`optim.EarlyStopping`).
#
# **A learning-rate schedule**: cosine annealing from $\eta_0$ to 0 over the run,
# $\eta_t = \tfrac12\eta_0\bigl(1+\cos(\pi t/T)\bigr)$, started from a larger $\eta_0 = 3\cdot10^{-3}$.
# Large early steps are noisy, and noise keeps the net out of sharp, memorising minima; the small late steps settle.

# %%


def rolled(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The same shift another way: np.roll, then blank the row/column that wrapped around."""
    out = np.roll(image.reshape(8, 8), (dy, dx), axis=(0, 1))
    if dy:
        out[0 if dy == 1 else -1, :] = 0
    if dx:
        out[:, 0 if dx == 1 else -1] = 0
    return out.reshape(64)


shifted = nudge(X_train[:8], np.random.default_rng(3))
found = [[m for m in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)] if np.array_equal(rolled(a, *m), b)]
         for a, b in zip(X_train[:8], shifted)]  # fmt: skip
print("the shift each of 8 digits got (dy, dx):", [f[0] for f in found])
assert all(len(f) >= 1 for f in found)
cures = {
    "dropout 0.5": dict(dropout=0.5),
    "L2 in Adam (λ=1e-3)": dict(weight_decay=1e-3),
    "AdamW (λ=1)": dict(weight_decay=1.0, decoupled=True),
    "batch norm": dict(batchnorm=True),
    "augmentation (shifts)": dict(augment=True),
    "early stopping": dict(early_stopping=True),
    "cosine schedule": dict(schedule=True, lr=3e-3),
}
for name, settings in cures.items():
    runs[name] = train(name, **settings)

# %% [markdown]
# ## All of them on one plot, and in one table
#
# The left plot is each run's validation loss per epoch; the right one its validation accuracy. The table's
# "gap" is training accuracy minus test accuracy: how much better the model does on what it has seen.

# %%
fig = Figure(figsize=(11, 4.2))
ax_loss, ax_acc = fig.subplots(1, 2)
for name, run in runs.items():
    e = np.arange(1, run["epochs"] + 1)
    style = dict(lw=2.2, color="black") if name == "baseline" else dict(lw=1.2)
    ax_loss.plot(e, run["history"]["val_loss"], label=name, **style)
    ax_acc.plot(e, run["history"]["val_acc"], label=name, **style)
ax_loss.set(title="Validation loss of each cure", xlabel="epoch", ylabel="validation cross-entropy", ylim=(0, 1.2))
ax_acc.set(title="Validation accuracy of each cure", xlabel="epoch", ylabel="validation accuracy", ylim=(0.6, 1))
ax_loss.legend(fontsize=7)
ax_acc.legend(fontsize=7, loc="lower right")
show(fig, "13_cures.png")

print(f"{'run':24s} {'epochs':>6s} {'train acc':>9s} {'val loss':>8s} {'val acc':>7s} {'test acc':>8s} {'gap':>6s}")
for name, run in runs.items():
    run["gap"] = run["train_acc"] - run["test_acc"]
    print(f"{name:24s} {run['epochs']:6d} {run['train_acc']:9.3f} {run['val_loss']:8.3f} {run['val_acc']:7.3f} "
          f"{run['test_acc']:8.3f} {run['gap']:6.3f}")  # fmt: skip

# %% [markdown]
# What the table says (and the cell below asserts):
#
# - **Most cures lower the validation loss** the baseline ends with; dropout and early stopping always do here.
#   Early stopping ends near the baseline's best epoch, with that epoch's weights.
# - **Several narrow the gap** between training and test accuracy; none of them makes it vanish: with 100
#   examples the best medicine is more data (exercise 3).
# - The differences in *accuracy* are a few points at most, a few dozen of 1297 test digits: on a problem this
#   small, a cure worth having shows up first in the loss. Do not read a 0.5-point difference as a win: another
#   seed or split can reverse it.
# - Augmenting an MLP with shifts is not a clear win (a lower validation loss, but no better test accuracy):
#   the digits are centred already, and an MLP has no notion that a shifted 3 is still a 3, so it has to learn
#   each shift as a new pattern. A convolutional net (lesson 15) builds that in.
# - **The cosine schedule is no cure here**: started from a larger learning rate it ends with a *higher*
#   validation loss than the baseline. A schedule is a tool of optimisation: it helps the net fit its
#   training set, and a net that fits 100 examples better also memorises them better. It pays off combined
#   with a regulariser, or on a problem where the constant rate was too high to converge.

# %%
cure_names = list(cures)
lower_loss = [n for n in cure_names if runs[n]["val_loss"] < base["val_loss"]]
narrower = [n for n in cure_names if runs[n]["gap"] < base["gap"]]
print("lower final validation loss than the baseline:", lower_loss)
print("narrower train−test gap than the baseline:    ", narrower)
assert len(lower_loss) >= 4, lower_loss
assert runs["dropout 0.5"]["val_loss"] < base["val_loss"] and runs["early stopping"]["val_loss"] < base["val_loss"]
assert len(narrower) >= 2, narrower
assert runs["cosine schedule"]["val_loss"] > base["val_loss"], "the schedule alone does not regularise"
assert all(abs(runs[n]["test_acc"] - base["test_acc"]) < 0.05 for n in cure_names), "a few points at most"
assert runs["augmentation (shifts)"]["test_acc"] < base["test_acc"] + 0.01, "shifts: no clear win for an MLP"
assert runs["augmentation (shifts)"]["val_loss"] < base["val_loss"], "... though a lower validation loss"
assert all(runs[n]["gap"] > 0 for n in cure_names), "no cure closes the gap completely"
stopped = runs["early stopping"]
assert stopped["epochs"] < EPOCHS and stopped["val_loss"] <= best_val + 1e-6
print(f"early stopping: stopped after {stopped['epochs']} epochs, kept epoch {stopped['best_epoch']}")

# %% [markdown]
# ## Exercises
#
# 1. **L2 in Adam is not weight decay.** A weight $\theta = 0.5$ has no data gradient at all. Take one Adam step
#    with L2 `weight_decay` $\lambda = 10^{-4}$ and one with $\lambda = 10^{-1}$ (lr $10^{-3}$), and one AdamW step
#    with the same two $\lambda$. How far does the weight move in each case, and why is Adam's move the same for
#    both $\lambda$?
# 2. **Dropout's scaling.** Train the dropout model once more, but divide nothing: use a layer that zeroes with
#    probability $p$ and does *not* scale the survivors by $1/(1-p)$. What happens to the activations' mean
#    between training and evaluation? (Measure it on the first hidden layer of a fresh net, no training needed.)
# 3. **More data.** Train the baseline on 200 digits instead of 100 (same validation and test sets). How much
#    does the validation accuracy gain, compared with the best cure above?

# %% tags=["solution"] jupyter={"source_hidden": true}
moves = {}
for lam in (1e-4, 1e-1):
    for opt_class in (optim.Adam, optim.AdamW):
        theta = tge.tensor(np.array([0.5]), requires_grad=True)  # float64: the tiny AdamW move is resolved
        theta.grad = tge.zeros(1, dtype=tge.float64)
        opt_class([theta], lr=1e-3, weight_decay=lam).step()
        moves[opt_class.__name__, lam] = 0.5 - theta.item()
        print(f"{opt_class.__name__:5s} λ={lam:g}: moved by {moves[opt_class.__name__, lam]:.3g}")
# Adam: g = λθ, and the first step is m̂/√v̂ = g/|g| = 1: a full lr step whatever λ is (λ only sets the direction).
assert np.allclose([moves["Adam", 1e-4], moves["Adam", 1e-1]], 1e-3, rtol=1e-3)  # (to within ε)
# AdamW: θ·η·λ, proportional to λ, as a decay should be.
assert np.isclose(moves["AdamW", 1e-4], 0.5 * 1e-3 * 1e-4, rtol=1e-6, atol=0)
assert np.isclose(moves["AdamW", 1e-1], 0.5 * 1e-3 * 1e-1, rtol=1e-6, atol=0)

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(0)
layer = nn.Linear(64, 128)
with tge.no_grad():
    hidden = F.relu(layer(tge.tensor(X_train)))
    keep = tge.tensor((np.random.default_rng(0).random(hidden.shape) >= 0.5).astype(np.float32))
    unscaled_train = (hidden * keep).numpy().mean()  # zeroed, not scaled
    scaled_train = F.dropout(hidden, 0.5, training=True).numpy().mean()
    evaluation = hidden.numpy().mean()  # dropout off
print(f"mean activation: evaluation {evaluation:.4f}, training unscaled {unscaled_train:.4f}, "
      f"training scaled {scaled_train:.4f}")  # fmt: skip
# Without the 1/(1-p) the net trains on activations half as large as it sees in evaluation.
assert abs(unscaled_train / evaluation - 0.5) < 0.03 and abs(scaled_train / evaluation - 1) < 0.05

# %% tags=["solution"] jupyter={"source_hidden": true}
X_more, _, y_more, _ = train_test_split(X_test, y_test, test_size=0.5, seed=1, stratify=y_test)
X_200 = np.concatenate([X_train, X_more[:100]])
y_200 = np.concatenate([y_train, y_more[:100]])
more = train("baseline, 200 digits", X=X_200, y=y_200, epochs=sized(full=150, fast=30))
best_cure = max(runs[n]["val_acc"] for n in cure_names)
print(f"validation accuracy: baseline 100 digits {base['val_acc']:.3f}, best cure {best_cure:.3f}, "
      f"baseline 200 digits {more['val_acc']:.3f}")  # fmt: skip
assert more["val_acc"] > base["val_acc"] + 0.02
