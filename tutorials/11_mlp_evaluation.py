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
# # 11 · An MLP on the digits, evaluated properly
#
# **You will be able to:** split data into training, validation and test parts and say what each is for;
# standardise with statistics of the training part only, and show what goes wrong otherwise; read training and
# validation curves; build a confusion matrix and look at the digits the model gets wrong; compute precision,
# recall and F1 per class and their macro average by hand; and estimate accuracy with k-fold cross-validation
# as a mean ± standard deviation.
#
# **Run time:** about 6 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# The data: the 1797 handwritten digits bundled with scikit-learn (8×8 pixels, values in [0, 1]). The rule of the
# whole lesson: **the test set is looked at once, at the end.** Everything learned from data — the scaler's
# μ and σ, the weights, the number of epochs — is learned from the training part; choices are made on the
# validation part.

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import metrics, nn, optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import DataLoader, Standardize, TensorDataset, train_test_split
from tinygrad_edu.datasets import load_digits

digits = load_digits()
X, y = digits.data, digits.targets
X_dev, X_test, y_dev, y_test = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
X_train, X_val, y_train, y_val = train_test_split(X_dev, y_dev, test_size=0.2, seed=1, stratify=y_dev)
print(digits)
print(f"train {len(y_train)}, validation {len(y_val)}, test {len(y_test)}")
assert len(y_train) + len(y_val) + len(y_test) == 1797
assert np.all(np.bincount(y_test) >= 35)  # stratified: every digit has its share (about 36) in the test part

# %% [markdown]
# ## 1 · Standardisation, fitted on the training part only
#
# Each pixel $j$ is rescaled to $x'_j = (x_j - \mu_j)/\sigma_j$ with $\mu_j$ and $\sigma_j$ the mean and standard
# deviation over the **training** samples. The same $\mu, \sigma$ are then applied to validation and test data,
# as they would be to a new digit tomorrow. The library's `Standardize`:

# %%
quote(Standardize.fit)
quote(Standardize.__call__)
scaler = Standardize().fit(X_train)
Xs_train, Xs_val, Xs_test = scaler(X_train), scaler(X_val), scaler(X_test)
used = X_train.std(axis=0) > 0  # pixels that are not constant in training
assert np.allclose(Xs_train.mean(axis=0), 0, atol=1e-5) and np.allclose(Xs_train.std(axis=0)[used], 1, atol=1e-4)
print(f"test part after the training scaler: mean of pixel means {Xs_test.mean():+.3f} (not exactly 0, as it should)")

# %% [markdown]
# **The leak.** Fitting the scaler on *all* the data (`Standardize().fit(X)`) is a common slip: the test digits
# then help decide how the training digits are scaled. That is visible directly — change only the test set (here:
# make its digits 30 % brighter, as another scanner might) and the *training* inputs change too, while with the
# training-only scaler they do not:

# %%
brighter_test = np.clip(X_test * 1.3, 0, 1)
leaky_a = Standardize().fit(np.concatenate([X_dev, X_test]))(X_train)
leaky_b = Standardize().fit(np.concatenate([X_dev, brighter_test]))(X_train)
clean_a = Standardize().fit(X_train)(X_train)
clean_b = Standardize().fit(X_train)(X_train)  # the test set is not even an argument
leak = np.abs(leaky_a - leaky_b).max()
print(f"fitted on all data: the training inputs moved by up to {leak:.3f} when only the test set changed")
print(f"fitted on training: they moved by {np.abs(clean_a - clean_b).max():.3f}")
assert leak > 0.05 and np.array_equal(clean_a, clean_b)
mu_gap = np.abs(Standardize().fit(X).mean - scaler.mean).max()
print(f"largest difference of a pixel mean μ_j, all data vs training only: {mu_gap:.3f}")
assert 0 < mu_gap < 0.05  # small statistics, but taken from the test digits

# %% [markdown]
# On these digits the leak changes the test accuracy by little (we measure it at the end of section 2): the harm
# is not a big number but that the number stops being a measurement of unseen data. With fewer samples, or with
# more fitted on all data (feature selection, picking the epoch by the test score), the optimism grows.
#
# ## 2 · Training, with validation curves
#
# A 64 → 64 → 10 MLP with ReLU, cross-entropy and Adam. After each epoch we record the training loss and the
# validation loss and accuracy:
#
# $$ \mathcal L = -\frac1N\sum_{n}\log \operatorname{softmax}(f(x_n))_{y_n}. $$


# %%
def make_model(seed: int) -> nn.Module:
    tge.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def fit(X_a, y_a, X_b, y_b, epochs, seed=0, lr=1e-3):
    """Train on (X_a, y_a); after every epoch evaluate on (X_b, y_b). Returns the model and the history
    as rows (training loss, validation loss, validation accuracy)."""
    model = make_model(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    xb_all, yb_all = tge.tensor(X_b), tge.tensor(y_b)
    history = []
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in DataLoader(TensorDataset(X_a, y_a), batch_size=32, shuffle=True, seed=1000 * seed + epoch):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        model.eval()
        with tge.no_grad():
            logits = model(xb_all)
            history.append((total / count, F.cross_entropy(logits, yb_all).item(), metrics.accuracy(y_b, logits)))
    return model, np.array(history)


epochs = sized(full=40, fast=15)
model, hist = fit(Xs_train, y_train, Xs_val, y_val, epochs)
best_epoch = int(hist[:, 1].argmin()) + 1
print(f"after {epochs} epochs: training loss {hist[-1, 0]:.3f}, validation loss {hist[-1, 1]:.3f}, "
      f"validation accuracy {hist[-1, 2]:.3f}; lowest validation loss at epoch {best_epoch}")  # fmt: skip
assert hist[-1, 0] < hist[0, 0] / 5 and hist[-1, 2] > 0.93
assert hist[-1, 0] < hist[-1, 1]  # the model fits its own data better than unseen data

# %%
fig = Figure(figsize=(11, 4))
ax1, ax2 = fig.subplots(1, 2)
ep = np.arange(1, epochs + 1)
ax1.plot(ep, hist[:, 0], label="training loss")
ax1.plot(ep, hist[:, 1], label="validation loss")
ax1.axvline(best_epoch, color="k", ls=":", lw=0.8, label=f"lowest validation loss (epoch {best_epoch})")
ax1.set(title="Cross-entropy per epoch", xlabel="epoch", ylabel="loss", yscale="log")
ax1.legend()
ax2.plot(ep, hist[:, 2], color="C1")
ax2.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
show(fig, "11_curves.png")

# %% [markdown]
# The gap between the two losses is what the model has learned about *these* training digits rather than digits
# in general. Having picked the recipe on the validation part, we now train once on training + validation
# (the development set, with its own scaler) and evaluate on the test set — once.

# %%
dev_scaler = Standardize().fit(X_dev)
final, final_hist = fit(dev_scaler(X_dev), y_dev, dev_scaler(X_test), y_test, epochs)
with tge.no_grad():
    final.eval()
    pred = final(tge.tensor(dev_scaler(X_test))).numpy().argmax(axis=1)
test_acc = float(np.mean(pred == y_test))
leaky_scaler = Standardize().fit(X)
_, leaky_hist = fit(leaky_scaler(X_dev), y_dev, leaky_scaler(X_test), y_test, epochs)
print(f"test accuracy {test_acc:.4f} (scaler fitted on all data instead: {leaky_hist[-1, 2]:.4f})")
assert test_acc > 0.93 and abs(leaky_hist[-1, 2] - test_acc) < 0.03

# %% [markdown]
# ## 3 · The confusion matrix, and the digits it gets wrong
#
# $C_{ij}$ counts the test digits of true class $i$ predicted as $j$: the diagonal holds the correct ones, every
# off-diagonal cell is one kind of mistake. By hand, then checked against `tinygrad_edu.metrics` and
# scikit-learn:

# %%
C = np.zeros((10, 10), dtype=np.int64)
np.add.at(C, (y_test, pred), 1)
import sklearn.metrics as skm  # noqa: E402  (imported here: only to check our numbers)

assert np.array_equal(C, metrics.confusion_matrix(y_test, pred)) and np.array_equal(
    C, skm.confusion_matrix(y_test, pred)
)
assert C.sum() == len(y_test) and np.trace(C) == int((pred == y_test).sum())
off = C - np.diag(np.diag(C))
i, j = np.unravel_index(off.argmax(), off.shape)
print(C)
print(f"most frequent mistake: true {i} predicted as {j} ({off[i, j]} times)")

fig = Figure(figsize=(5.5, 5))
ax = fig.subplots()
ax.imshow(C, cmap="Blues")
for r in range(10):
    for k in range(10):
        if C[r, k]:
            ax.text(k, r, C[r, k], ha="center", va="center", color="white" if C[r, k] > C.max() / 2 else "black")
ax.set(title=f"Confusion matrix on the test digits (accuracy {test_acc:.3f})", xlabel="predicted digit",
       ylabel="true digit", xticks=range(10), yticks=range(10))  # fmt: skip
show(fig, "11_confusion.png")

# %%
wrong = np.flatnonzero(pred != y_test)
print(f"{len(wrong)} of {len(y_test)} test digits are misclassified")
shown = wrong[:12]
fig = Figure(figsize=(9, 2.2 * ((len(shown) + 5) // 6)))
axes = fig.subplots((len(shown) + 5) // 6, 6, squeeze=False).ravel()
for ax, k in zip(axes, shown):
    ax.imshow(X_test[k].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_test[k]} → {pred[k]}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
for ax in axes[len(shown) :]:
    ax.set_visible(False)
fig.suptitle("Test digits the MLP gets wrong (true → predicted)")
show(fig, "11_misclassified.png")
assert len(wrong) == C.sum() - np.trace(C)

# %% [markdown]
# ## 4 · Precision, recall and F1, per class and macro
#
# For class $k$: $TP_k = C_{kk}$, $FP_k = \sum_i C_{ik} - C_{kk}$ (predicted $k$, truly something else),
# $FN_k = \sum_j C_{kj} - C_{kk}$ (truly $k$, predicted something else).
#
# $$ P_k = \frac{TP_k}{TP_k + FP_k},\qquad R_k = \frac{TP_k}{TP_k + FN_k},\qquad
#    F1_k = \frac{2P_kR_k}{P_k + R_k} = \frac{2\,TP_k}{2\,TP_k + FP_k + FN_k}. $$
#
# Precision answers "when it says $k$, how often is it right?", recall "of the real $k$s, how many does it find?".
# The **macro** average is the plain mean over classes (every digit counts the same); pooling the counts first
# (**micro**) gives, for one label per sample, exactly the accuracy.

# %%
tp = np.diag(C).astype(float)
fp = C.sum(axis=0) - tp
fn = C.sum(axis=1) - tp
P, R = tp / (tp + fp), tp / (tp + fn)
F1 = 2 * P * R / (P + R)
print("digit  precision  recall    F1")
for k in range(10):
    print(f"  {k}      {P[k]:.3f}    {R[k]:.3f}   {F1[k]:.3f}")
print(f"macro     {P.mean():.3f}    {R.mean():.3f}   {F1.mean():.3f}")
assert np.allclose(F1, 2 * tp / (2 * tp + fp + fn))
assert np.allclose(P, metrics.precision(y_test, pred, average=None)) and np.allclose(
    R, metrics.recall(y_test, pred, average=None)
)
assert np.isclose(F1.mean(), metrics.f1_score(y_test, pred, average="macro"))
sk_p, sk_r, sk_f, _ = skm.precision_recall_fscore_support(y_test, pred)
assert np.allclose(P, sk_p) and np.allclose(R, sk_r) and np.allclose(F1, sk_f)
assert np.isclose(tp.sum() / (tp.sum() + fp.sum()), test_acc)  # micro precision = accuracy
worst = int(F1.argmin())
print(f"the hardest digit for this model: {worst} (F1 {F1[worst]:.3f})")

# %% [markdown]
# ## 5 · k-fold cross-validation
#
# One test split gives one number, and another split would give another. With $k$-fold cross-validation the
# development set is cut into $k$ parts; each part is the validation set once, while the model (and its scaler!)
# is fitted on the other $k-1$. The $k$ scores give a mean and a spread:
#
# $$ \bar a = \frac1k\sum_{i=1}^k a_i,\qquad s = \sqrt{\frac1{k-1}\sum_{i=1}^k (a_i - \bar a)^2}. $$

# %%
k, cv_epochs = 5, sized(full=30, fast=6)
folds = np.array_split(np.random.default_rng(0).permutation(len(y_dev)), k)
scores = []
for i, val_idx in enumerate(folds):
    train_idx = np.concatenate([f for j, f in enumerate(folds) if j != i])
    fold_scaler = Standardize().fit(X_dev[train_idx])  # fitted inside the fold, on its training part only
    _, h = fit(fold_scaler(X_dev[train_idx]), y_dev[train_idx], fold_scaler(X_dev[val_idx]), y_dev[val_idx],
               cv_epochs, seed=i)  # fmt: skip
    scores.append(h[-1, 2])
scores = np.array(scores)
mean, std = scores.mean(), scores.std(ddof=1)
print("fold accuracies:", np.round(scores, 4))
print(f"{k}-fold cross-validation: {mean:.3f} ± {std:.3f} ({cv_epochs} epochs)")
assert sorted(np.concatenate(folds).tolist()) == list(range(len(y_dev)))  # every sample validated exactly once
assert mean > (0.95 if not FAST else 0.9) and std < 0.03

# %% [markdown]
# ## Exercises
#
# 1. Compute the **weighted** F1 (each class weighted by its number of test samples, its *support*) by hand and
#    check it against `metrics.f1_score(..., average="weighted")`. Why is it close to the macro F1 here?
# 2. Make the test set imbalanced: keep only the first 5 test samples of digit 0 and all others. Which of macro
#    precision, macro recall and accuracy change, and by how much? (Use the predictions `pred` you already have.)
# 3. Show that cross-validation with the scaler fitted once on the whole development set leaks: in a fold, the
#    validation samples then influence the training inputs (as in section 1).

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Weighted F1: the support of each digit is about 36 in the stratified test set, so the weights are almost equal.
support = C.sum(axis=1)
weighted = float(F1 @ support / support.sum())
print(f"weighted F1 {weighted:.4f}, macro F1 {F1.mean():.4f}")
assert np.isclose(weighted, metrics.f1_score(y_test, pred, average="weighted"))
assert support.min() >= 35 and support.max() <= 37 and abs(weighted - F1.mean()) < 0.01

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Keep 5 zeros: accuracy now weights digit 0 less; per-class recall of the other digits is unchanged, and so
#    is digit 0's recall if those five are right; precision of the others rises where zeros were mistaken for them.
keep = np.concatenate([np.flatnonzero(y_test == 0)[:5], np.flatnonzero(y_test != 0)])
y_i, p_i = y_test[keep], pred[keep]
acc_i = metrics.accuracy(y_i, p_i)
print(f"accuracy {test_acc:.4f} → {acc_i:.4f}; macro precision {P.mean():.4f} → {metrics.precision(y_i, p_i):.4f}; "
      f"macro recall {R.mean():.4f} → {metrics.recall(y_i, p_i):.4f}")  # fmt: skip
r_i = metrics.recall(y_i, p_i, average=None)
assert np.allclose(r_i[1:], R[1:])  # the other digits keep all their samples: same recall
assert abs(acc_i - test_acc) < 0.02

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. One scaler for the whole development set: the fold's validation samples shape the training inputs.
val_idx, train_idx = folds[0], np.concatenate(folds[1:])
X_changed = X_dev.copy()
X_changed[val_idx] = np.clip(X_changed[val_idx] * 1.3, 0, 1)  # change only the validation fold
once_a = Standardize().fit(X_dev)(X_dev[train_idx])
once_b = Standardize().fit(X_changed)(X_changed[train_idx])
inside_a = Standardize().fit(X_dev[train_idx])(X_dev[train_idx])
inside_b = Standardize().fit(X_changed[train_idx])(X_changed[train_idx])
print(f"scaler on the whole dev set: training inputs moved by {np.abs(once_a - once_b).max():.3f}; "
      f"scaler inside the fold: {np.abs(inside_a - inside_b).max():.3f}")  # fmt: skip
assert np.abs(once_a - once_b).max() > 0.05 and np.array_equal(inside_a, inside_b)
