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
# # 12 · Binary classification and regression
#
# **You will be able to:** train a 30 → 128 → 64 → 1 classifier with `BCEWithLogitsLoss` and Adam, stopped
# early on a validation split; compute precision and recall at a threshold, the ROC curve and its AUC by hand;
# choose a threshold for what the task needs; and fit a linear regression by gradient descent and by SGD and
# compare it with the exact answer of the normal equation.
#
# **Run time:** about 4 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# The classification data: 569 breast tumours (scikit-learn's Wisconsin diagnostic set), 30 measurements each.
# scikit-learn codes *malignant* as 0; here the **positive class is malignant** (y = 1), the one we must not miss,
# so `y = 1 − target`.

# %%
import math

import numpy as np
import sklearn.metrics as skm
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import metrics, nn, optim
from tinygrad_edu.course import quote, show, sized
from tinygrad_edu.data import DataLoader, Standardize, TensorDataset, train_test_split
from tinygrad_edu.datasets import load_breast_cancer, load_diabetes

cancer = load_breast_cancer()
X, y = cancer.data, (1 - cancer.targets).astype(np.float32)  # 1 = malignant
X_dev, X_test, y_dev, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
X_train, X_val, y_train, y_val = train_test_split(X_dev, y_dev, test_size=0.25, seed=1, stratify=y_dev)
scaler = Standardize().fit(X_train)  # the features range from ~0.1 to ~2500: standardise, on training data only
X_train, X_val, X_test = scaler(X_train), scaler(X_val), scaler(X_test)
print(cancer, f"— {y.mean():.1%} malignant")
print(f"train {len(y_train)}, validation {len(y_val)}, test {len(y_test)}")
assert int(y.sum()) == 212 and len(y_train) + len(y_val) + len(y_test) == 569 and len(y_train) == 319

# %% [markdown]
# ## 1 · The loss: binary cross-entropy on logits
#
# The network outputs one number, the *logit* $z$; the probability of "malignant" is $p = \sigma(z)$. The loss
#
# $$ \ell(z, y) = -\bigl(y\log\sigma(z) + (1-y)\log(1-\sigma(z))\bigr) = (1-y)\,z + \log\bigl(1 + e^{-z}\bigr),
#    \qquad \frac{\partial\ell}{\partial z} = \sigma(z) - y $$
#
# is computed from $z$ directly (`BCEWithLogitsLoss`), with $\log(1+e^{-z}) = \max(-z, 0) + \log(1 + e^{-|z|})$ so
# that nothing overflows and no $\log 0$ is ever taken. The library's op:

# %%
quote(tge.ops.loss.BCEWithLogits)
z = tge.tensor([-3.0, 0.0, 2.0, 800.0, -800.0], dtype=tge.float64, requires_grad=True)
t = tge.tensor([1.0, 0.0, 1.0, 0.0, 1.0], dtype=tge.float64)
loss = F.binary_cross_entropy_with_logits(z, t, reduction="sum")
loss.backward()
exact = (1 - t.numpy()) * z.detach().numpy() + np.logaddexp(0, -z.detach().numpy())
assert np.allclose(F.binary_cross_entropy_with_logits(z, t, reduction="none").detach().numpy(), exact)
assert np.allclose(z.grad.numpy(), 0.5 * (1 + np.tanh(z.detach().numpy() / 2)) - t.numpy())  # σ(z) − y
via_probs = F.binary_cross_entropy(z.detach().sigmoid(), t, reduction="none").numpy()
print("from logits        :", exact)
print("sigmoid, then BCE  :", via_probs)
assert np.allclose(via_probs[:3], exact[:3])
assert via_probs[3] == via_probs[4] == 100.0  # σ(±800) is exactly 1 or 0 in float64: log 0, clamped at −100
assert exact[3] == exact[4] == 800.0  # the exact loss is |z|: from the logits nothing is lost

# %% [markdown]
# ## 2 · Training with early stopping
#
# The validation loss falls and then rises again as the network starts to memorise its 319 training tumours.
# **Early stopping** keeps the weights of the epoch with the lowest validation loss and stops once it has not
# improved for `patience` epochs. We also let a copy run on without stopping, to see what it avoided.


# %%
def make_model(seed: int = 0) -> nn.Module:
    tge.manual_seed(seed)
    return nn.Sequential(nn.Linear(30, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))


def train(epochs: int, stopper: optim.EarlyStopping | None = None, seed: int = 0, pos_weight=None):
    """Adam + BCEWithLogitsLoss; the validation loss after every epoch (stopping early if a stopper is given)."""
    model = make_model(seed)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    xv, yv = tge.tensor(X_val), tge.tensor(y_val[:, None])
    train_losses, val_losses = [], []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in DataLoader(TensorDataset(X_train, y_train[:, None]), batch_size=32, shuffle=True, seed=epoch):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        model.eval()
        with tge.no_grad():
            val_losses.append(loss_fn(model(xv), yv).item())
        train_losses.append(total / len(y_train))
        if stopper is not None and stopper.step(val_losses[-1], model):
            break
    return model, np.array(train_losses), np.array(val_losses)


max_epochs, patience = sized(full=100, fast=35), 10
stopper = optim.EarlyStopping(patience=patience)  # restore_best_weights=True by default
model, train_l, val_l = train(max_epochs, stopper)
_, train_all, val_all = train(max_epochs)  # same seed, same batches: the same run, not stopped
best, stop = stopper.best_epoch, len(val_l) - 1
print(f"lowest validation loss {stopper.best:.4f} at epoch {best + 1}; stopped at epoch {stop + 1}")
print(f"without stopping, after {max_epochs} epochs: validation loss {val_all[-1]:.4f}")
assert stop == best + patience < max_epochs - 1
assert np.allclose(val_all[: stop + 1], val_l, rtol=1e-5)  # the unstopped run is the same run, continued
assert val_all[-1] > 1.3 * stopper.best  # it would have overfitted
with tge.no_grad():
    restored = F.binary_cross_entropy_with_logits(model(tge.tensor(X_val)), tge.tensor(y_val[:, None])).item()
assert math.isclose(restored, stopper.best, rel_tol=1e-5)  # the model holds the best epoch's weights again

# %%
fig = Figure(figsize=(8, 4.2))
ax = fig.subplots()
ep = np.arange(1, max_epochs + 1)
ax.plot(ep, train_all, color="C0", alpha=0.4, label="training loss (not stopped)")
ax.plot(ep, val_all, color="C1", alpha=0.4, ls="--", label="validation loss (not stopped)")
ax.plot(ep[: stop + 1], val_l, color="C1", label="validation loss (early stopping)")
ax.axvline(best + 1, color="C2", ls=":", label=f"best epoch {best + 1} (weights kept)")
ax.axvline(stop + 1, color="C3", ls=":", label=f"stopped at epoch {stop + 1} (patience {patience})")
ax.set(title="Early stopping on the validation loss", xlabel="epoch", ylabel="BCE loss", yscale="log")
ax.legend(fontsize=8)
show(fig, "12_early_stopping.png")

# %% [markdown]
# ## 3 · Precision and recall at a threshold
#
# The model gives a probability $p$; a decision needs a threshold $\tau$: "malignant" if $p \ge \tau$. With
# $TP$ = malignant tumours flagged, $FP$ = benign ones flagged, $FN$ = malignant ones missed:
#
# $$ \text{precision} = \frac{TP}{TP + FP},\qquad \text{recall} = \frac{TP}{TP + FN}. $$

# %%
with tge.no_grad():
    p_val = model(tge.tensor(X_val)).sigmoid().numpy().ravel()
    p_test = model(tge.tensor(X_test)).sigmoid().numpy().ravel()


def precision_recall(y_true, p, tau):
    flag = p >= tau
    tp, fp, fn = np.sum(flag & (y_true == 1)), np.sum(flag & (y_true == 0)), np.sum(~flag & (y_true == 1))
    return tp / max(tp + fp, 1), tp / (tp + fn)


prec, rec = precision_recall(y_test, p_test, 0.5)
print(f"test, τ = 0.5: precision {prec:.3f}, recall {rec:.3f}, accuracy {np.mean((p_test >= 0.5) == y_test):.3f}")
assert math.isclose(prec, metrics.precision(y_test, p_test >= 0.5, average="binary"))
assert math.isclose(rec, metrics.recall(y_test, p_test >= 0.5, average="binary"))
assert prec > 0.85 and rec > 0.85

# %% [markdown]
# ## 4 · The ROC curve and its AUC, by hand
#
# Sweep $\tau$ from high to low: each sample passed turns into a flag, raising either the true-positive rate
# $\mathrm{TPR} = TP/P$ (= recall) or the false-positive rate $\mathrm{FPR} = FP/N$. Sorting the scores once gives
# the whole curve. The area under it,
#
# $$ \mathrm{AUC} = \int_0^1 \mathrm{TPR}\; d\,\mathrm{FPR} = \Pr\bigl(p(\text{malignant}) > p(\text{benign})\bigr)
#    \;(+\tfrac12\Pr(\text{tie})), $$
#
# is the chance that a random malignant tumour scores higher than a random benign one: 0.5 is guessing, 1 is
# a perfect ranking. By hand (trapezoids), by counting pairs, and against scikit-learn:


# %%
def roc_by_hand(y_true, score):
    """FPR, TPR and thresholds, one point per distinct score (highest first), starting at (0, 0)."""
    order = np.argsort(-score, kind="stable")
    s, yt = score[order], y_true[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last index of each run of equal scores
    tp, fp = np.cumsum(yt)[last], np.cumsum(1 - yt)[last]
    return np.r_[0, fp / fp[-1]], np.r_[0, tp / tp[-1]], np.r_[np.inf, s[last]]


fpr, tpr, thresholds = roc_by_hand(y_test, p_test)
auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
pos, neg = p_test[y_test == 1], p_test[y_test == 0]
pairs = float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))
print(f"AUC: trapezoids {auc:.6f}, pairs {pairs:.6f}, sklearn {skm.roc_auc_score(y_test, p_test):.6f}")
assert math.isclose(auc, pairs, abs_tol=1e-12) and math.isclose(auc, skm.roc_auc_score(y_test, p_test), abs_tol=1e-12)
sk_fpr, sk_tpr, _ = skm.roc_curve(y_test, p_test, drop_intermediate=False)
assert np.allclose(sk_fpr, fpr) and np.allclose(sk_tpr, tpr)
assert auc > 0.97

# %% [markdown]
# ## 5 · Choosing the threshold
#
# 0.5 is a convention, not a law. Missing a malignant tumour is worse than a second look at a benign one, so we
# ask for a **recall of at least 98 %** and, among the thresholds that give it, take the largest (the one with
# the fewest false alarms). The threshold is chosen on the **validation** part and only then measured on the
# test part — chosen on the test part, its recall would be a promise already peeked at.

# %%
taus = np.unique(p_val)[::-1]  # candidate thresholds: the validation scores, high to low
recalls = np.array([precision_recall(y_val, p_val, tau)[1] for tau in taus])
tau_star = float(taus[np.argmax(recalls >= 0.98)])
val_p, val_r = precision_recall(y_val, p_val, tau_star)
test_p, test_r = precision_recall(y_test, p_test, tau_star)
print(f"τ* = {tau_star:.4f}: validation precision {val_p:.3f}, recall {val_r:.3f}")
print(f"on the test part at τ*: precision {test_p:.3f}, recall {test_r:.3f}  (at τ = 0.5: {prec:.3f}, {rec:.3f})")
assert val_r >= 0.98 and tau_star <= 0.5 and test_r >= rec

# %%
fig = Figure(figsize=(11, 4.4))
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(fpr, tpr, label=f"ROC, AUC = {auc:.3f}")
ax1.plot([0, 1], [0, 1], "k:", lw=0.8, label="guessing (AUC 0.5)")
for tau, marker in [(0.5, "o"), (tau_star, "s")]:
    flag = p_test >= tau
    ax1.plot(np.mean(flag[y_test == 0]), np.mean(flag[y_test == 1]), marker, ms=8, label=f"τ = {tau:.3f}")
ax1.set(title="ROC curve on the test part", xlabel="false-positive rate", ylabel="true-positive rate (recall)")
ax1.legend(fontsize=8)
grid = np.linspace(0.001, 0.999, 300)
pr = np.array([precision_recall(y_val, p_val, g) for g in grid])
ax2.plot(grid, pr[:, 0], label="precision")
ax2.plot(grid, pr[:, 1], label="recall")
ax2.axvline(tau_star, color="k", ls=":", label=f"τ* = {tau_star:.3f} (recall ≥ 98 %)")
ax2.set(title="Precision and recall vs threshold (validation)", xlabel="threshold τ", ylabel="value")
ax2.legend(fontsize=8)
show(fig, "12_roc_threshold.png")

# %% [markdown]
# ## 6 · Linear regression: SGD against the normal equation
#
# The diabetes data: 442 patients, 10 features, a measure of disease progression a year later. A linear model
# $\hat y = Xw + b$ with the mean squared error $L = \frac1n\lVert Xw + b - y\rVert^2$ has an exact minimiser.
# With $A = [X\;\mathbf 1]$ and $\theta = (w, b)$, setting the gradient $\frac2n A^\top(A\theta - y)$ to zero gives
# the **normal equation**
#
# $$ A^\top A\,\theta = A^\top y. $$
#
# Gradient descent reaches the same $\theta$ by steps; how fast depends on the eigenvalues of $\frac2n A^\top A$
# (lesson 10: the smallest sets the time).

# %%
diabetes = load_diabetes()
Xr_train, Xr_test, yr_train, yr_test = train_test_split(diabetes.data, diabetes.targets, test_size=0.2, seed=0)
r_scaler = Standardize().fit(Xr_train)
Xr_train = r_scaler(Xr_train).astype(np.float64)
Xr_test = r_scaler(Xr_test).astype(np.float64)
yr_train, yr_test = yr_train.astype(np.float64), yr_test.astype(np.float64)
A = np.c_[Xr_train, np.ones(len(yr_train))]
theta_exact = np.linalg.solve(A.T @ A, A.T @ yr_train)
mse_exact = float(np.mean((A @ theta_exact - yr_train) ** 2))
eig = np.linalg.eigvalsh(2 * A.T @ A / len(yr_train))
print("normal equation: w =", theta_exact[:-1].round(3), f" b = {theta_exact[-1]:.3f}")
print(f"training MSE {mse_exact:.2f}; curvatures from {eig.min():.4f} to {eig.max():.3f}")


def fit_linear(epochs, lr, batch_size=None):
    """optim.SGD (momentum 0.9, cosine schedule) on a float64 nn.Linear; full batch when batch_size is None."""
    tge.manual_seed(0)
    lin = nn.Linear(10, 1).double()
    opt = optim.SGD(lin.parameters(), lr=lr, momentum=0.9)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    data = TensorDataset(Xr_train, yr_train[:, None])
    for epoch in range(epochs):
        batches = (
            [(tge.tensor(Xr_train), tge.tensor(yr_train[:, None]))]
            if batch_size is None
            else DataLoader(data, batch_size=batch_size, shuffle=True, seed=epoch)
        )
        for xb, yb in batches:
            opt.zero_grad()
            F.mse_loss(lin(xb), yb).backward()
            opt.step()
        sched.step()
    return np.r_[lin.weight.detach().numpy().ravel(), lin.bias.item()]


theta_gd = fit_linear(1500, lr=0.2)  # every step on all 353 patients: gradient descent
theta_sgd = fit_linear(sized(full=300, fast=60), lr=0.05, batch_size=32)  # mini-batches of 32
gap_gd, gap_sgd = np.abs(theta_gd - theta_exact).max(), np.abs(theta_sgd - theta_exact).max()
mse_sgd = float(np.mean((A @ theta_sgd - yr_train) ** 2))
print(f"full-batch SGD: max |θ − θ_exact| = {gap_gd:.1e}")
print(f"mini-batch SGD: max |θ − θ_exact| = {gap_sgd:.2f}, training MSE {mse_sgd:.2f} vs {mse_exact:.2f}")
assert gap_gd < 1e-6 and eig.max() / eig.min() > 100
assert mse_sgd < 1.02 * mse_exact and gap_sgd > 2  # within 2 % of the best error, weights off by units

# %% [markdown]
# Full-batch descent agrees with the normal equation to better than $10^{-6}$. Mini-batch SGD lands within 2 % of
# the best training error, yet some of its weights are off by several units. That is not a bug: blood serum
# measurements are correlated (`s1` and `s2` at 0.90, asserted below), so the loss is almost flat along some
# combinations of their weights (the smallest curvature above). The noise of mini-batches moves the weights
# along those directions at almost no cost in loss. Most of the gap lies in the two flattest directions:

# %%
vals, vecs = np.linalg.eigh(A.T @ A)
gap_parts = (vecs.T @ (theta_sgd - theta_exact)) ** 2
flat_share = gap_parts[:2].sum() / gap_parts.sum()
print(f"share of |θ_SGD − θ_exact|² in the two flattest directions: {flat_share:.1%}")
assert flat_share > 0.7
corr = np.corrcoef(diabetes.data, rowvar=False)
names = diabetes.feature_names
print(f"correlation of {names[4]} and {names[5]}: {corr[4, 5]:.3f}")
assert abs(corr[4, 5] - 0.90) < 0.005  # s1 and s2 nearly carry the same information
test_mse_exact = float(np.mean((np.c_[Xr_test, np.ones(len(yr_test))] @ theta_exact - yr_test) ** 2))
test_mse_sgd = float(np.mean((np.c_[Xr_test, np.ones(len(yr_test))] @ theta_sgd - yr_test) ** 2))
print(f"test MSE: normal equation {test_mse_exact:.1f}, mini-batch SGD {test_mse_sgd:.1f}")
assert abs(test_mse_sgd - test_mse_exact) < 0.05 * test_mse_exact

# %% [markdown]
# ## Exercises
#
# 1. The AUC depends only on the *order* of the scores. Show that the AUC computed from the logits equals the
#    one from the probabilities, while precision at "logit ≥ 0.5" differs from precision at "p ≥ 0.5".
# 2. **Ridge regression.** With `weight_decay=λ` in `optim.SGD`, the gradient gets $+\lambda\theta$ for every
#    parameter. Derive the equation its fixed point solves, $(A^\top A + \tfrac{n\lambda}{2} I)\theta = A^\top y$,
#    and check it with full-batch descent for λ = 0.1.
# 3. The F1 score is the harmonic mean of precision and recall. Which threshold maximises F1 on the validation
#    part, and what are test precision and recall there?

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. σ is increasing, so ranking by logits = ranking by probabilities: same ROC, same AUC. A threshold is not
#    order-only: logit ≥ 0.5 means p ≥ σ(0.5) ≈ 0.62.
with tge.no_grad():
    logit_test = model(tge.tensor(X_test)).numpy().ravel()
auc_logit = skm.roc_auc_score(y_test, logit_test)
print(f"AUC from logits {auc_logit:.6f}, from probabilities {auc:.6f}")
assert math.isclose(auc_logit, auc, abs_tol=1e-9)
# (in float32, σ rounds large logits to exactly 1.0, so the probabilities have fewer distinct values than the
#  logits: ties that a ranking metric would have to share; here they are all malignant and change nothing)
assert len(np.unique(logit_test)) >= len(np.unique(p_test))
assert precision_recall(y_test, logit_test, 0.5) == precision_recall(y_test, p_test, 1 / (1 + math.exp(-0.5)))

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Fixed point: (2/n)Aᵀ(Aθ − y) + λθ = 0  ⇔  (AᵀA + nλ/2 · I) θ = Aᵀy (the bias is decayed too here).
lam, n = 0.1, len(yr_train)
theta_ridge = np.linalg.solve(A.T @ A + n * lam / 2 * np.eye(11), A.T @ yr_train)
tge.manual_seed(0)
lin = nn.Linear(10, 1).double()
opt = optim.SGD(lin.parameters(), lr=0.2, momentum=0.9, weight_decay=lam)
xa, ya = tge.tensor(Xr_train), tge.tensor(yr_train[:, None])
for _ in range(1500):
    opt.zero_grad()
    F.mse_loss(lin(xa), ya).backward()
    opt.step()
theta_wd = np.r_[lin.weight.detach().numpy().ravel(), lin.bias.item()]
print("ridge by the equation:", theta_ridge.round(3), "\nby SGD, weight_decay :", theta_wd.round(3))
assert np.abs(theta_wd - theta_ridge).max() < 1e-6
assert np.linalg.norm(theta_ridge[:-1]) < np.linalg.norm(theta_exact[:-1])  # decay shrinks the weights

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. F1 = 2PR/(P + R) over the validation thresholds.
f1s = []
for tau in taus:
    pv, rv = precision_recall(y_val, p_val, tau)
    f1s.append(2 * pv * rv / (pv + rv) if pv + rv else 0.0)
tau_f1 = float(taus[int(np.argmax(f1s))])
tp_f1, tr_f1 = precision_recall(y_test, p_test, tau_f1)
print(f"best validation F1 {max(f1s):.3f} at τ = {tau_f1:.3f}; test precision {tp_f1:.3f}, recall {tr_f1:.3f}")
assert max(f1s) >= max(2 * val_p * val_r / (val_p + val_r), 0.9)
assert math.isclose(2 * tp_f1 * tr_f1 / (tp_f1 + tr_f1), metrics.f1_score(y_test, p_test >= tau_f1, average="binary"))
