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
# # 24 · Compression and deployment: pruning, int8 quantization, distillation, ONNX
#
# **You will be able to:** prune a trained network with `nn.utils.prune` (and say why a 90%-sparse model is not
# faster by itself); write the affine int8 map $q = \mathrm{clamp}(\mathrm{round}(x/s) + z)$ and the integer
# arithmetic of a quantized layer, run post-training quantization and quantization-aware training; distil a small
# student from a large teacher, on the digits and on sentences, and explain the $T^2$; export a model to ONNX and
# run it with onnxruntime; and read one table of bytes, accuracy and latency for all of them.
#
# **Run time:** about 10 s of CPU time (`TGE_FAST=1`: about 4 s). The ONNX part needs `pip install -e ".[onnx]"`;
# without it the lesson says so and skips that part. Latencies are measured on a shared machine: read them as rough
# sizes.

# %%
import copy
import inspect
import io
import time

import numpy as np
from matplotlib.figure import Figure
from tinygrad_edu.kernels import numpy_ref

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
import tinygrad_edu.nn.utils.prune as prune
from tinygrad_edu import kernels, nn
from tinygrad_edu import quantization as tq
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.datasets import load_digits
from tinygrad_edu.distillation import distillation_loss

digits = load_digits()
order = np.random.default_rng(0).permutation(len(digits.data))
test, train = order[:360], order[360:]
X_train, y_train = digits.data[train], digits.targets[train]
X_test, y_test = digits.data[test], digits.targets[test]
print(f"digits: {len(train)} training and {len(test)} test images of 8×8 = 64 pixels, 10 classes")


def batches(seed: int, size: int = 64):
    """The training set in shuffled mini-batches (a new order per seed)."""
    perm = np.random.default_rng(seed).permutation(len(X_train))
    for i in range(0, len(perm), size):
        b = perm[i : i + size]
        yield tge.tensor(X_train[b]), tge.tensor(y_train[b])


def fit(model, epochs: int, lr: float = 3e-3, loss_fn=None, seed: int = 0):
    """Adam on cross-entropy (or on ``loss_fn(model, x, y)``); returns the model."""
    opt = tge.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        model.train()
        for x, y in batches(seed * 1000 + epoch):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y) if loss_fn is None else loss_fn(model, x, y)
            loss.backward()
            opt.step()
    return model.eval()


def accuracy(model) -> float:
    """Test accuracy, evaluated under no_grad in eval mode."""
    model.eval()
    with tge.no_grad():
        return float((model(tge.tensor(X_test)).numpy().argmax(1) == y_test).mean())


def mlp(hidden: int, seed: int):
    """64 → hidden → ReLU → 10."""
    tge.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


HIDDEN, EPOCHS = sized(full=256, fast=128), sized(full=20, fast=5)
baseline = fit(mlp(HIDDEN, 0), EPOCHS)
base_acc = accuracy(baseline)
print(f"fp32 baseline 64→{HIDDEN}→10: test accuracy {base_acc:.3f}")
assert base_acc > (0.96 if not FAST else 0.9)

# %% [markdown]
# ## 1 · Pruning: most weights can go
#
# Pruning sets the weights that matter least to zero. *L1 unstructured* pruning keeps a mask
# $m_{ij} \in \{0, 1\}$ and uses $w \odot m$ in place of $w$, with $m_{ij} = 0$ for the fraction $p$ of entries with
# the smallest $|w_{ij}|$. PyTorch's `torch.nn.utils.prune` (and ours, with the same names) does it with a
# **forward pre-hook**: the learned numbers move to `weight_orig`, the mask is a buffer `weight_mask`, and before
# every forward the hook sets
# $$ \texttt{weight} = \texttt{weight\_orig} \odot \texttt{weight\_mask}, \qquad
#    \frac{\partial L}{\partial\, \texttt{weight\_orig}} = \frac{\partial L}{\partial\, \texttt{weight}} \odot m , $$
# so a pruned weight gets no gradient and stays pruned while we fine-tune.

# %%
print(inspect.getsource(prune.BasePruningMethod.__call__))
print(inspect.getsource(prune.BasePruningMethod.apply_mask))
layer = copy.deepcopy(baseline[0])
prune.l1_unstructured(layer, "weight", amount=0.5)
print(sorted(layer.state_dict()))
w, m = layer.weight_orig.numpy(), layer.weight_mask.numpy()
assert m.mean() == 0.5 and np.abs(w[m == 0]).max() <= np.abs(w[m == 1]).min()  # the smallest |w| went
assert np.array_equal(layer.weight.numpy(), w * m)

# %% [markdown]
# `global_unstructured` ranks the weights of several layers together, so a layer of small weights loses more.
# Accuracy against sparsity, without and with a short fine-tune of the surviving weights:

# %%
WEIGHTS = lambda model: [(model[0], "weight"), (model[2], "weight")]  # noqa: E731
FINE_TUNE = sized(full=3, fast=1)


def pruned(amount: float, fine_tune: int):
    """A copy of the baseline with ``amount`` of its weights pruned globally (L1), optionally fine-tuned."""
    model = copy.deepcopy(baseline)
    prune.global_unstructured(WEIGHTS(model), pruning_method=prune.L1Unstructured, amount=amount)
    if fine_tune:
        fit(model, fine_tune, lr=5e-4, seed=7)
    for module, name in WEIGHTS(model):
        prune.remove(module, name)  # permanent: weight = weight_orig · mask, hooks gone
    return model


sparsities = [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
curve = [accuracy(pruned(s, 0)) for s in sparsities]
pruned_50, pruned_90 = pruned(0.5, FINE_TUNE), pruned(0.9, FINE_TUNE)
acc_50, acc_90 = accuracy(pruned_50), accuracy(pruned_90)
zeros_90 = np.mean([(m.weight.numpy() == 0).mean() for m in (pruned_90[0], pruned_90[2])])
print("no fine-tune:", dict(zip(sparsities, np.round(curve, 3))))
print(f"fine-tuned: 50% → {acc_50:.3f}, 90% → {acc_90:.3f}")
assert curve[2] > base_acc - 0.05  # half the weights cost (almost) nothing
assert acc_90 > curve[5]  # fine-tuning recovers much of what 90% pruning lost
assert not prune.is_pruned(pruned_90) and zeros_90 > 0.85

fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
ax.plot([100 * s for s in sparsities], curve, "o-", label="pruned, no fine-tune")
ax.plot([50, 90], [acc_50, acc_90], "s", markersize=9, label=f"pruned + {FINE_TUNE} epoch(s) fine-tune")
ax.axhline(base_acc, color="gray", linestyle=":", label="fp32 baseline")
ax.set_title("Global L1 pruning of the digits MLP")
ax.set_xlabel("weights pruned (%)")
ax.set_ylabel("test accuracy")
ax.legend()
show(fig, "24_pruning.png")

# %% [markdown]
# The zeros make the file smaller once it is compressed (or stored as a sparse matrix), but the dense matrix
# product still multiplies by every zero: unstructured sparsity needs sparse kernels (or hardware such as 2:4
# sparse tensor cores) to be faster. *Structured* pruning (`prune.ln_structured`, whole neurons or channels)
# makes the layers narrower instead; exercise 1 tries it.
#
# ## 2 · Quantization: 8-bit integers
#
# An integer $q$ with a **scale** $s$ and a **zero point** $z$ stands for a real number:
# $$ \hat{x} = s\,(q - z), \qquad q = \mathrm{clamp}\big(\mathrm{round}(x/s) + z,\ q_{\min},\ q_{\max}\big). $$
# `quint8` has $q \in [0, 255]$ (activations), `qint8` $q \in [-128, 127]$ (weights, symmetric: $z = 0$). An
# observer that saw values in $[a, b]$ (widened to contain 0) picks $s = (b - a)/(q_{\max} - q_{\min})$ and
# $z = q_{\min} - \mathrm{round}(a/s)$, so the range uses all 256 levels and the real 0 is exact. Inside the range
# the error is at most $s/2$.

# %%
quote(tq.qtensor._quantize)
x = tge.tensor([-1.0, 0.0, 0.26, 1.0, 30.0])
q = tq.quantize_per_tensor(x, scale=0.1, zero_point=128, dtype=tq.quint8)
print(q)
print(q.dequantize())
assert q.int_repr().numpy().tolist() == [118, 128, 131, 138, 255]  # 30 is clipped to 255 → 12.7
observer = tq.MinMaxObserver()
observer(tge.tensor(np.linspace(-0.5, 2.0, 11, dtype=np.float32)))
s, z = observer.calculate_qparams()
print(f"observed [-0.5, 2.0] → s = 2.5/255 = {s.item():.5f}, z = 0 − round(−0.5/s) = {z.item()}")
assert abs(s.item() - 2.5 / 255) < 1e-7 and z.item() == 51

# %% [markdown]
# A quantized `Linear` never leaves the integers in its inner loop. With $\hat x = s_x(q_x - z_x)$ and symmetric
# weights $\hat W = s_w q_w$:
# $$ y_j = s_x s_w \Big(\underbrace{\textstyle\sum_k q_{x,k}\, q_{w,jk}}_{\text{int8 GEMM, int32 sum}}
#          - z_x \textstyle\sum_k q_{w,jk} + q_{b,j}\Big), \qquad q_{b} = \mathrm{round}\big(b/(s_x s_w)\big), $$
# and the result is **requantized** to the output's scale: $q_y = \mathrm{clamp}(\mathrm{round}(M\cdot\mathrm{acc}) +
# z_y)$ with $M = s_x s_w / s_y$. The sum is a kernel of the table, `matmul_int8`: the NumPy reference widens to
# int32 first (so nothing wraps around) and the Numba kernel uses the CPU's 16-bit multiply-add instruction
# (`vpmaddwd`, or `vpdpwssd` with AVX-512 VNNI) on the widest vector registers.

# %%
quote(numpy_ref.matmul_int8)
quote(tq.quantized._QuantizedProduct._requantize)
a = np.random.default_rng(1).integers(0, 256, (33, 70)).astype(np.uint8)
b = np.random.default_rng(2).integers(-128, 128, (70, 9)).astype(np.int8)
exact = a.astype(np.int64) @ b.astype(np.int64)
assert np.array_equal(numpy_ref.matmul_int8(a, b), exact)
a_signed = np.random.default_rng(1).integers(-128, 128, (33, 70)).astype(np.int8)
wrapped = a_signed @ b  # the mistake the reference avoids: NumPy sums int8 products in int8, which wraps around
wrong = float((wrapped != a_signed.astype(np.int64) @ b.astype(np.int64)).mean())
print(f"summing in int8 instead of int32 is wrong in {100 * wrong:.0f}% of the entries")
assert wrong > 0.9
if not FAST:  # compiles the Numba kernel (a few seconds the first time)
    from tinygrad_edu.kernels import numba_int8

    assert np.array_equal(numba_int8.matmul_int8(a, b), exact)
    print(inspect.getsource(numba_int8._gemm_block))
    big_a = np.random.default_rng(3).integers(-128, 128, (512, 512)).astype(np.int8)
    big_f = big_a.astype(np.float32)
    for name, fn, args in [("int8 numba", numba_int8.matmul_int8, (big_a, big_a)),
                           ("float32 numba", kernels.get("numba").matmul, (big_f, big_f))]:  # fmt: skip
        fn(*args)
        t = []
        for _ in range(7):
            t0 = time.perf_counter()
            fn(*args)
            t.append(time.perf_counter() - t0)
        print(f"{name:>14}: 512³ product in {1e3 * np.median(t):.2f} ms (median of 7)")
else:
    print("(TGE_FAST: the Numba kernel is not compiled here; run without TGE_FAST to check and time it)")

# %% [markdown]
# **Post-training quantization** (PTQ) is PyTorch's eager workflow: wrap the model in quant/dequant stubs, `prepare`
# (observers hang on the layers' outputs as forward hooks), run a few calibration batches, `convert` (each Linear
# becomes a `quantized.Linear` holding int8 weights).

# %%
ptq = tq.QuantWrapper(copy.deepcopy(baseline)).eval()
ptq.qconfig = tq.get_default_qconfig()
tq.prepare(ptq, inplace=True)
with tge.no_grad():
    for x_cal, _ in batches(seed=99, size=256):
        ptq(x_cal)
tq.convert(ptq, inplace=True)
print(ptq)
ptq_acc = accuracy(ptq)
print(f"int8 PTQ accuracy {ptq_acc:.3f} (fp32 {base_acc:.3f})")
assert ptq.module[0].weight.dtype == np.int8 and ptq_acc > base_acc - 0.02

# %% [markdown]
# **Quantization-aware training** (QAT) lets the network adapt to the rounding. Fake quantization rounds in forward
# but stays a float; its derivative is 0 almost everywhere (a staircase), so backward uses the **straight-through
# estimator**:
# $$ y = s\big(\mathrm{clamp}(\mathrm{round}(x/s) + z, q_{\min}, q_{\max}) - z\big), \qquad
#    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\;
#    \mathbb{1}\big[q_{\min} \le \mathrm{round}(x/s) + z \le q_{\max}\big]. $$

# %%
quote(tq.FakeQuantizePerTensorAffine)
xs = tge.tensor([-2.0, 0.04, 1.0, 30.0], requires_grad=True)
tq.fake_quantize_per_tensor_affine(xs, 0.1, 10, 0, 255).sum().backward()
assert xs.grad.numpy().tolist() == [0.0, 1.0, 1.0, 0.0]  # clipped values get no gradient
qat = tq.prepare_qat(tq.QuantWrapper(copy.deepcopy(baseline)))
fit(qat, sized(full=3, fast=1), lr=1e-4, seed=9)
tq.convert(qat, inplace=True)
qat_acc = accuracy(qat)
print(f"int8 QAT accuracy {qat_acc:.3f}")
assert qat_acc > base_acc - 0.03

# %% [markdown]
# ## 3 · Distillation: a small student learns from the teacher's soft outputs
#
# The teacher's probabilities say more than the label (a 7 that looks a bit like a 1). The student minimises
# $$ L = \alpha\, T^2\, \mathrm{KL}\big(p^T_{\text{teacher}} \,\|\, p^T_{\text{student}}\big) + (1-\alpha)\,
#    \mathrm{CE}(\text{student}, y), \qquad p^T = \mathrm{softmax}(z/T). $$
# `F.kl_div(input, target)` takes the **log**-probabilities of the model as `input` (PyTorch's order) and, with
# `log_target=True`, log-probabilities as target; `reduction="batchmean"` is the true KL per sample. Why $T^2$: the
# gradient of the KL term is $(p_i^T(u) - p_i^T(v))/T$, and for large $T$, $\mathrm{softmax}(z/T)_i \approx
# (1 + z_i/T)/N$, so it is $\approx (u_i - v_i)/(N T^2)$: without the factor $T^2$ the soft targets' gradients
# would fade as $1/T^2$ when $T$ grows.

# %%
quote(distillation_loss)
u0 = np.random.default_rng(4).standard_normal((32, 10))
v = tge.tensor(u0 + np.random.default_rng(5).standard_normal((32, 10)))
temperatures = [1.0, 2.0, 4.0, 8.0, 16.0]
norms = {"with T²": [], "without T²": []}
for T in temperatures:
    u = tge.tensor(u0, requires_grad=True)
    distillation_loss(u, v, T=T).backward()
    norms["with T²"].append(np.linalg.norm(u.grad.numpy()))
    norms["without T²"].append(norms["with T²"][-1] / T**2)
ratio = norms["with T²"][-1] / norms["with T²"][2]
print({k: np.round(n, 4).tolist() for k, n in norms.items()})
assert 0.8 < ratio < 1.25 and norms["without T²"][-1] < norms["without T²"][0] / 20

fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
for label, values in norms.items():
    ax.loglog(temperatures, values, "o-", label=label)
ax.set_title("Size of the soft-target gradient against the temperature")
ax.set_xlabel("temperature T")
ax.set_ylabel("‖∂L/∂ student logits‖")
ax.legend()
show(fig, "24_temperature.png")

# %% [markdown]
# First the plain comparison: a student 64 → 16 → 10 (a tenth of the baseline's weights) trained on the same
# labelled images, alone and with the baseline as its teacher.

# %%
STUDENT, T, ALPHA = 16, 2.0, 0.5
SEEDS = sized(full=[1, 2, 3], fast=[1])


def distil_loss(model, x, y):
    """The distillation loss against the (frozen) baseline as teacher."""
    with tge.no_grad():
        teacher_logits = baseline(x)
    return distillation_loss(model(x), teacher_logits, y, T=T, alpha=ALPHA)


alone_accs, distilled_accs, students, alones = [], [], [], []
for seed in SEEDS:
    alones.append(fit(mlp(STUDENT, seed), EPOCHS, seed=seed))
    students.append(fit(mlp(STUDENT, seed), EPOCHS, loss_fn=distil_loss, seed=seed))
    alone_accs.append(accuracy(alones[-1]))
    distilled_accs.append(accuracy(students[-1]))
student, student_alone = students[0], alones[0]
gain = float(np.mean(distilled_accs) - np.mean(alone_accs))
print(f"student 64→{STUDENT}→10 on all {len(X_train)} labels: alone {np.round(alone_accs, 3)}, "
      f"distilled (T={T}, α={ALPHA}) {np.round(distilled_accs, 3)}: {100 * gain:+.1f} points on average")  # fmt: skip
assert min(distilled_accs) > 0.7 and min(alone_accs) > 0.7

# %% [markdown]
# With every image labelled, the labels already say most of what a 16-neuron student can learn, and the two are
# within a few points of each other (the numbers above, for this run; with more seeds and epochs they come closer).
# Distillation earns its keep where labels are scarce but inputs are not: the teacher labels images nobody
# labelled. Here the student gets only 100 labelled images, or the teacher's soft targets on all the training
# images (their labels unused, α = 1):

# %%
few = np.random.default_rng(11).permutation(len(X_train))[:100]
X_few, y_few = tge.tensor(X_train[few]), tge.tensor(y_train[few])
STEPS = sized(full=400, fast=80)


def train_few(soft: bool, seed: int = 1):
    """The student on 100 labels (cross-entropy), or on the teacher's soft targets for unlabelled images."""
    model = mlp(STUDENT, seed)
    opt = tge.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    for _ in range(STEPS):
        opt.zero_grad()
        if soft:
            x = tge.tensor(X_train[rng.integers(0, len(X_train), 64)])
            with tge.no_grad():
                teacher_logits = baseline(x)
            loss = distillation_loss(model(x), teacher_logits, T=T, alpha=1.0)
        else:
            loss = F.cross_entropy(model(X_few), y_few)
        loss.backward()
        opt.step()
    return accuracy(model)


few_alone, few_soft = train_few(False), train_few(True)
print(f"100 labels alone: {few_alone:.3f}; distilled on unlabelled images: {few_soft:.3f}")
assert few_soft > few_alone + 0.03

# %% [markdown]
# ### The same on the text set
#
# Now the synthetic sentiment sentences of lessons 21–23. The teacher is lesson 21's bag-of-words network,
# $V \to 500 \to 2$ on word counts; the student has **8** hidden units (under 2% of the teacher's weights). Two
# regimes again: every training label (alone, or distilled with $T = 2$, $\alpha = 0.5$), or only 40 labels, where
# the student may instead learn from the teacher's soft targets alone ($\alpha = 1$) on 3000 sentences nobody
# labelled (generated with another seed, their labels thrown away). The
# teacher is frozen, so its logits are computed once for all those sentences and looked up per batch: the teacher
# costs one forward pass per sentence, not one per step. Besides accuracy we measure **agreement**, the share of
# test sentences where the student predicts what the teacher predicts: distillation trains the student to copy the
# teacher, mistakes included.

# %%
from tinygrad_edu import text  # noqa: E402

s_train = text.make_sentiment(sized(full=3000, fast=1500), seed=0)
s_test = text.make_sentiment(1000, seed=1)
s_unlabelled = text.make_sentiment(3000, seed=2).texts  # only the sentences: their labels are never used
vectorizer = text.CountVectorizer(max_features=1000).fit(s_train.texts)
S_train, S_test, S_unl = (vectorizer.transform(t) for t in (s_train.texts, s_test.texts, s_unlabelled))
V, TEXT_STUDENT, FEW_LABELS, TEXT_STEPS = S_train.shape[1], 8, 40, sized(full=300, fast=150)


def text_mlp(hidden: int, seed: int):
    """V → hidden → ReLU → 2 on word counts."""
    tge.manual_seed(seed)
    return nn.Sequential(nn.Linear(V, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def text_fit(model, x, y=None, soft=None, steps=TEXT_STEPS, lr=1e-2, seed=0):
    """Adam on random mini-batches of 64: cross-entropy on labels ``y``, or the distillation loss against the
    teacher's logits ``soft`` (rows of ``x``), with the labels too when both are given."""
    opt = tge.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        b = rng.integers(0, len(x), 64)
        logits = model(tge.tensor(x[b]))
        if soft is None:
            loss = F.cross_entropy(logits, tge.tensor(y[b]))
        elif y is None:
            loss = distillation_loss(logits, tge.tensor(soft[b]), T=T, alpha=1.0)
        else:
            loss = distillation_loss(logits, tge.tensor(soft[b]), tge.tensor(y[b]), T=T, alpha=ALPHA)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def text_predictions(model) -> np.ndarray:
    """The predicted classes of the test sentences (eval mode, no_grad)."""
    with tge.no_grad():
        return model.eval()(tge.tensor(S_test)).numpy().argmax(1)


text_teacher = text_fit(text_mlp(500, 0), S_train, s_train.labels, lr=3e-3)
with tge.no_grad():  # the frozen teacher's logits, once for every sentence a student will see
    soft_train, soft_unl = (text_teacher(tge.tensor(x)).numpy() for x in (S_train, S_unl))
teacher_said = text_predictions(text_teacher)
few_text = np.random.default_rng(3).permutation(len(S_train))[:FEW_LABELS]
text_runs = {
    "all labels, alone": lambda s: text_fit(text_mlp(TEXT_STUDENT, s), S_train, s_train.labels, seed=s),
    "all labels, distilled": lambda s: text_fit(text_mlp(TEXT_STUDENT, s), S_train, s_train.labels, soft_train,
                                                seed=s),
    f"{FEW_LABELS} labels, alone": lambda s: text_fit(text_mlp(TEXT_STUDENT, s), S_train[few_text],
                                                     s_train.labels[few_text], seed=s),
    "no labels, soft targets": lambda s: text_fit(text_mlp(TEXT_STUDENT, s), S_unl, None, soft_unl,
                                                             seed=s),
}  # fmt: skip
text_results = {}  # name → (mean test accuracy, mean agreement with the teacher) over the seeds
for name, train_one in text_runs.items():
    said = [text_predictions(train_one(seed)) for seed in SEEDS]
    text_results[name] = (float(np.mean([(p == s_test.labels).mean() for p in said])),
                          float(np.mean([(p == teacher_said).mean() for p in said])))  # fmt: skip
teacher_text_acc = float((teacher_said == s_test.labels).mean())
print(f"teacher {V}→500→2: test accuracy {teacher_text_acc:.3f}")
print(f"| {'student ' + str(V) + '→' + str(TEXT_STUDENT) + '→2':<30} | accuracy | agrees with teacher |")
print(f"|{'-' * 32}|----------|---------------------|")
for name, (acc, agree) in text_results.items():
    print(f"| {name:<30} | {acc:>8.3f} | {agree:>19.3f} |")
few_alone_text = text_results[f"{FEW_LABELS} labels, alone"]
few_soft_text = text_results["no labels, soft targets"]
assert teacher_text_acc > 0.6  # a bag of words cannot read the order: well below 100 % (lesson 21)
assert few_soft_text[0] > few_alone_text[0] + 0.05  # soft targets on unlabelled sentences beat 40 labels
assert few_soft_text[1] > few_alone_text[1] + 0.05  # ... and the student copies the teacher more closely
all_alone, all_distilled = text_results["all labels, alone"], text_results["all labels, distilled"]
assert abs(all_distilled[0] - all_alone[0]) < 0.1 and all_distilled[1] > all_alone[1]  # same accuracy, closer copy
assert few_alone_text[0] < 0.6 and few_soft_text[0] > teacher_text_acc - 0.06  # a coin, against nearly the teacher

# %% [markdown]
# The story of the digits again: with every label the 8-unit student is about as accurate alone as distilled
# (within 10 points; the numbers above are this run's), though the distilled one agrees with the teacher more often;
# with 40 labels it does no better than a coin, while the teacher's soft targets on unlabelled sentences bring it
# within a few points of the teacher. What it cannot do is beat its teacher: a bag of words gets
# "good but boring" wrong whenever it gets "boring but good" right, and a student trained to copy it copies that
# too. To pass on what an order-aware model knows, the teacher must read the order and so must the student:
# exercise 4 gives both of them bigrams.

# %% [markdown]
# ## 4 · Deployment: ONNX and onnxruntime
#
# `tinygrad_edu.onnx.export(model, example_input, path)` runs the model once with a forward hook on every layer and
# writes each call as ONNX operators (here `Gemm`, `Relu`, `Gemm`), with the weights inside the file. Another
# runtime then needs neither this library nor Python.

# %%
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

try:
    import onnxruntime as ort

    import tinygrad_edu.onnx as tge_onnx

    HAVE_ONNX = True
except ImportError:
    HAVE_ONNX = False
    print("onnx/onnxruntime are not installed (pip install -e '.[onnx]'): skipping the export")
onnx_row = None
if HAVE_ONNX:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "digits_mlp.onnx"
        proto = tge_onnx.export(
            baseline, tge.tensor(X_test[:1]), path, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}
        )
        onnx_bytes = path.stat().st_size
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    print("ONNX nodes:", [node.op_type for node in proto.graph.node], f"({onnx_bytes} bytes)")
    ort_logits = session.run(None, {"input": X_test})[0]
    ours = baseline(tge.tensor(X_test)).numpy()
    print("largest difference onnxruntime vs ours:", float(np.abs(ort_logits - ours).max()))
    assert np.abs(ort_logits - ours).max() < 1e-5
    onnx_row = ("fp32 baseline in onnxruntime", onnx_bytes, float((ort_logits.argmax(1) == y_test).mean()),
                lambda: session.run(None, {"input": X_test}))  # fmt: skip

# %% [markdown]
# ## 5 · The table
#
# Bytes on disk: the state dict saved as a compressed `.npz` (zeros compress, int8 weights are a quarter of float32),
# accuracy on the 360 test images, latency of one forward pass over all of them (median of repeated runs, one
# process on a shared machine), with the NumPy kernels and (without `TGE_FAST`) the Numba kernels.

# %%


def saved_bytes(model) -> int:
    """Size of the state dict written with np.savez_compressed."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: v.numpy() for k, v in model.state_dict().items()})
    return buffer.getbuffer().nbytes


def latency_ms(forward, repeats: int = sized(full=30, fast=5)) -> float:
    """Median wall time of ``forward()`` in milliseconds."""
    forward()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


x_all = tge.tensor(X_test)
STUDENT_ROW = f"distilled student ({STUDENT} hidden)"
models = [("fp32 baseline", baseline), ("50% pruned", pruned_50), ("90% pruned", pruned_90),
          ("int8 post-training", ptq), ("int8 QAT", qat), (STUDENT_ROW, student),
          ("same student trained alone", student_alone)]  # fmt: skip
BACKENDS = ["numpy"] if FAST else ["numpy", "numba"]  # TGE_FAST skips compiling the Numba kernels
rows = []
for name, model in models:
    with tge.no_grad():
        times = []
        for backend in BACKENDS:
            with kernels.use(backend):
                times.append(latency_ms(lambda m=model: m(x_all)))
        rows.append((name, saved_bytes(model), accuracy(model), times))
if onnx_row is not None:
    rows.append((*onnx_row[:3], [latency_ms(onnx_row[3])] + [float("nan")] * (len(BACKENDS) - 1)))
header = " | ".join(f"ms, {b} kernels" for b in BACKENDS)
print(f"| {'model':<30} | {'bytes on disk':>13} | {'accuracy':>8} | {header} |")
print("|" + "|".join("-" * (w + 2) for w in [30, 13, 8] + [len(f"ms, {b} kernels") for b in BACKENDS]) + "|")
for name, size, acc, times in rows:
    cells = " | ".join(f"{t:>{len(f'ms, {b} kernels')}.2f}" for t, b in zip(times, BACKENDS))
    print(f"| {name:<30} | {size:>13,} | {acc:>8.3f} | {cells} |")
table = {name: (size, acc) for name, size, acc, _ in rows}
assert table["int8 post-training"][0] < table["fp32 baseline"][0] / 2.5  # int8: about 4× fewer bytes
assert table["90% pruned"][0] < table["50% pruned"][0] < table["fp32 baseline"][0]
assert table[STUDENT_ROW][0] < table["fp32 baseline"][0] / 5

# %% [markdown]
# Reading it: int8 cuts the bytes about fourfold at (almost) no accuracy cost. It is *slower* with the NumPy
# kernels: NumPy has no fast integer matrix product (the reference widens to int32 and loops), while its float32
# product is BLAS; the Numba int8 kernel narrows that gap to the cost of quantizing and requantizing around it
# (written in NumPy here), and an int8 model pays off on hardware whose integer units are faster than its float
# ones (phones, VNNI or AMX servers, NPUs), with those steps fused into the kernel. Pruning shrinks the compressed
# file but not the time of a dense forward pass. The student is the smallest and fastest by far and pays in
# accuracy; distillation is what makes it worth having when labels are few.
#
# ## Exercises
#
# 1. Structured pruning: remove half of the hidden neurons of the baseline with `prune.ln_structured(..., n=2,
#    dim=0)` on the first layer's weight and compare its accuracy with 50% unstructured pruning.
# 2. Per-channel weights: redo the post-training quantization with `tq.get_default_qconfig(per_channel=True)`.
#    How many distinct scales does the first layer have now?
# 3. The temperature: redo the 100-label distillation with T = 1 and T = 8. Which works best here, and why might
#    the answer change with a more confident teacher? Then deploy the distilled student: export it to ONNX and
#    compare the file's size with its row in the table.
# 4. A teacher that reads a little of the order: give teacher and student counts of words *and* bigrams ("not_bad",
#    "dull_but", lesson 21's exercise 1), then redo the 40-label distillation on the text set. Does the distilled
#    8-unit student now beat the bag-of-words teacher above?

# %% tags=["solution"] jupyter={"source_hidden": true}
structured = copy.deepcopy(baseline)
prune.ln_structured(structured[0], "weight", amount=0.5, n=2, dim=0)
alive_rows = int((structured[0].weight_mask.numpy().sum(axis=1) > 0).sum())
print(f"structured: {alive_rows} of {HIDDEN} neurons alive, accuracy {accuracy(structured):.3f}; "
      f"unstructured 50% without fine-tune: {curve[2]:.3f}")  # fmt: skip
assert alive_rows == HIDDEN // 2 and accuracy(structured) > 0.5

# %% tags=["solution"] jupyter={"source_hidden": true}
per_channel = tq.QuantWrapper(copy.deepcopy(baseline)).eval()
per_channel.qconfig = tq.get_default_qconfig(per_channel=True)
tq.prepare(per_channel, inplace=True)
with tge.no_grad():
    per_channel(tge.tensor(X_train[:512]))
tq.convert(per_channel, inplace=True)
scales = per_channel.module[0].weight_scale.numpy()
print(f"{scales.size} scales in the first layer, accuracy {accuracy(per_channel):.3f} (per tensor {ptq_acc:.3f})")
assert scales.size == HIDDEN and accuracy(per_channel) > base_acc - 0.02

# %% tags=["solution"] jupyter={"source_hidden": true}
by_temperature = {}
for T in (1.0, 8.0):  # train_few reads the global T
    by_temperature[T] = train_few(True)
T = 2.0
print({f"T={k:g}": round(v, 3) for k, v in by_temperature.items()}, f"(T=2: {few_soft:.3f})")
print("T = 1 uses the teacher's probabilities as they are; a larger T lifts the small ones (which digits look")
print("alike) but also flattens the large ones: how much that helps depends on how confident the teacher is.")
assert min(by_temperature.values()) > 0.8
if HAVE_ONNX:  # and the student deployed
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "student.onnx"
        tge_onnx.export(student, tge.tensor(X_test[:1]), path)
        size = path.stat().st_size
    print(f"student.onnx: {size} bytes; its compressed state dict: {table[STUDENT_ROW][0]}")
    assert size < table["fp32 baseline"][0]
else:
    print("onnx is not installed: pip install -e '.[onnx]'")


# %% tags=["solution"] jupyter={"source_hidden": true}
def with_bigrams(sentence: str) -> list[str]:
    """The words, then every pair of neighbours joined by "_"."""
    w = text.word_tokenize(sentence)
    return w + [f"{p}_{q}" for p, q in zip(w, w[1:])]


vectorizer = text.CountVectorizer(tokenizer=with_bigrams).fit(s_train.texts)
S_train, S_test, S_unl = (vectorizer.transform(t) for t in (s_train.texts, s_test.texts, s_unlabelled))
V = S_train.shape[1]  # text_mlp reads the global V
bigram_teacher = text_fit(text_mlp(500, 0), S_train, s_train.labels, lr=3e-3)
with tge.no_grad():
    soft_unl = bigram_teacher(tge.tensor(S_unl)).numpy()
bigram_teacher_acc = float((text_predictions(bigram_teacher) == s_test.labels).mean())
bigram_student_acc = float((text_predictions(text_fit(text_mlp(TEXT_STUDENT, 1), S_unl, None, soft_unl, seed=1))
                            == s_test.labels).mean())  # fmt: skip
print(f"V = {V} words and bigrams: teacher {bigram_teacher_acc:.3f} (words only: {teacher_text_acc:.3f}); "
      f"8-unit student on its soft targets: {bigram_student_acc:.3f} "
      f"(words only: {few_soft_text[0]:.3f})")  # fmt: skip
print("The bigram teacher knows 'not_bad' is good and 'dull_but' starts a sentence that ends well; its soft targets")
print("pass that on to a student of 2% of its size, which now beats the bag-of-words teacher.")
assert bigram_teacher_acc > teacher_text_acc + 0.03 and bigram_student_acc > teacher_text_acc  # beats the BoW teacher
