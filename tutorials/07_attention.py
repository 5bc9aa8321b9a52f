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
# # 07 · Attention, from the formula to a tiny transformer
#
# **You will be able to:** compute attention by hand for one query and for a whole batch of heads; measure why
# the scores are divided by $\sqrt{d}$; build and check the causal mask; rebuild `nn.MultiheadAttention` from its
# parameters; and train a one-layer transformer on a task no per-position model can solve, then read its
# attention map.
#
# **Run time:** about 4 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# A convolution mixes each pixel with its fixed neighbours. Attention lets every position of a
# sequence decide, from the data, *which* other positions to read from. It is three matrix products
# and a softmax:
#
# $$ \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V $$
#
# Each query (a row of Q) is compared with every key (a row of K) by a dot product; softmax turns
# one query's scores into weights that sum to 1; the output is that weighted average of the values
# (rows of V). This lesson computes it by hand, measures why the √d is there, adds the causal mask,
# checks everything against the library, and trains a one-layer transformer on a task that cannot be
# solved without attention. The library's version is `attention` and `scaled_dot_product_attention`
# in `tinygrad_edu/nn/functional.py`; the layers are in `tinygrad_edu/nn/attention.py`.

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.course import FAST, quote, show, sized

# %% [markdown]
# ## One query, by hand
#
# Three keys in two dimensions, $k_1 = (1, 0)$, $k_2 = (0, 1)$, $k_3 = (1, 1)$, and the query $q = (2, 0)$. The
# values are one-hot, so the output *is* the weights. Scores: $q \cdot k / \sqrt{2} = (2, 0, 2) / 1.4142 =
# (1.4142, 0, 1.4142)$. Softmax: $e^{1.4142} = 4.1133$, and $\frac{4.1133}{4.1133 + 1 + 4.1133} = \mathbf{0.4458}$,
# $\frac{1}{9.2266} = \mathbf{0.1084}$. The query points along the first axis, so it ignores k₂ and splits its
# attention between the two keys that have a first component.

# %%
q = np.array([[2.0, 0.0]])
k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
v = np.eye(3)
scores = q @ k.T / np.sqrt(2)
weights = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
print("scores  =", scores.round(4), "\nweights =", weights.round(4), "\noutput  =", (weights @ v).round(4))
np.testing.assert_allclose(weights, [[0.4458, 0.1084, 0.4458]], atol=5e-5)
by_library = F.scaled_dot_product_attention(tge.tensor(q), tge.tensor(k), tge.tensor(v)).numpy()
np.testing.assert_allclose(by_library, weights @ v, rtol=1e-12)

# %% [markdown]
# ## A whole sequence at once
#
# With $L$ queries and $S$ keys, $Q K^\top$ is an $L \times S$ table of scores, one row per query. The same few
# lines handle it, with a batch and several heads in front: $(N, h, L, d)$. The library's `F.attention` is the
# formula, line for line (`scaled_dot_product_attention` adds the mask options around it):

# %%
source = quote(F.attention)
assert "scores = (query @ key.transpose(-2, -1)) * scale" in source and "weights @ value" in source


# %%
def attention_by_hand(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """softmax(q kᵀ / √d + mask) v over the last two axes; mask is 0 where allowed, −inf where not."""
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    scores = scores - scores.max(axis=-1, keepdims=True)  # lesson 04: softmax(s) = softmax(s − max)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    return weights @ v


rng = np.random.default_rng(0)
qs, ks, vs = (rng.standard_normal((2, 3, 5, 8)) for _ in range(3))  # N = 2, h = 3 heads, L = S = 5, d = 8
out = F.scaled_dot_product_attention(tge.tensor(qs), tge.tensor(ks), tge.tensor(vs))
np.testing.assert_allclose(out.numpy(), attention_by_hand(qs, ks, vs), rtol=1e-10)
print("by hand == F.scaled_dot_product_attention, shape", out.shape)

# %% [markdown]
# The gradients come from the ops attention is made of (two matmuls, a scale, a softmax), each with
# its backward checked in earlier lessons; `tge.gradcheck` confirms the composition with finite
# differences for all three inputs:

# %%
q_t, k_t, v_t = (tge.tensor(a[:1, :1], requires_grad=True) for a in (qs, ks, vs))
assert tge.gradcheck(F.scaled_dot_product_attention, [q_t, k_t, v_t])
print("gradcheck: q, k and v agree with finite differences")

# %% [markdown]
# ## Why divide by √d? Measure it
#
# If the $d$ components of $q$ and $k$ are independent with mean 0 and variance 1, then
# $q \cdot k = \sum_i q_i k_i$ is a sum of $d$ terms of variance 1, so $\mathrm{Var}(q \cdot k) = d$. Wide heads
# give wild scores:

# %%
tge.manual_seed(0)  # every draw below is repeatable
print(f"{'d':>5} {'Var(q·k)':>10} {'Var(q·k / √d)':>15}")
for d in (4, 16, 64, 256, 1024):
    a, b = tge.randn(20000, d), tge.randn(20000, d)
    dots = (a * b).sum(dim=1)
    var_raw, var_scaled = dots.var().item(), (dots / d**0.5).var().item()
    print(f"{d:>5} {var_raw:10.1f} {var_scaled:15.3f}")
    assert abs(var_raw / d - 1) < 0.05 and abs(var_scaled - 1) < 0.05

# %% [markdown]
# Scores with a standard deviation of 16 (d = 256) push softmax into saturation: one key takes
# nearly all the weight, as if the query had already decided, before learning. And a saturated
# softmax passes almost no gradient: its derivative $\partial p_i / \partial s_i = p_i (1 - p_i)$ vanishes as
# $p_i \to 0$ or $1$.
# Below, 1000 rows of 16 random keys each, with d = 256:

# %%
d, n_keys = 256, 16
qd, kd = tge.randn(1000, n_keys, d), tge.randn(1000, n_keys, d)
stats = {}
for name, scale in (("q·k (unscaled)", 1.0), ("q·k / √d", d**-0.5)):
    p = ((qd @ kd.transpose(1, 2)) * scale).softmax(-1).numpy()
    stats[name] = (p.max(-1).mean(), (p.max(-1) > 0.99).mean(), (p * (1 - p)).sum(-1).mean())
    print(f"{name:>15}: largest weight {stats[name][0]:.2f} on average, rows with one weight > 0.99: "
          f"{stats[name][1]:.0%}, Σ p(1 − p) = {stats[name][2]:.2f}")  # fmt: skip
raw, scaled = stats["q·k (unscaled)"], stats["q·k / √d"]
assert raw[0] > 0.85 and raw[1] > 0.5 and scaled[0] < 0.35 and scaled[1] < 0.01 and scaled[2] > 5 * raw[2]

# %% [markdown]
# Unscaled, more than half of the rows are practically one-hot and the softmax's slope is several
# times smaller. Dividing by √d keeps the scores' variance at 1 whatever the width, so attention
# starts out spread and learnable. (Vaswani et al., 2017, section 3.2.1, give this argument.)
#
# ## The causal mask
#
# A model that writes text one token at a time must not peek at the tokens it has not written yet:
# query $i$ may only attend to keys $0..i$. Adding $-\infty$ to the forbidden scores does it, since $e^{-\infty} = 0$;
# each row's remaining weights still sum to 1:
#
# $$ M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i \end{cases}, \qquad
#    \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}} + M\right) V. $$

# %%
L = 5
causal = np.triu(np.full((L, L), -np.inf), k=1)  # −inf above the diagonal: key j > query i
print("additive mask:\n", causal)
q1, k1, v1 = qs[0, 0], ks[0, 0], vs[0, 0]
s = q1 @ k1.T / np.sqrt(8) + causal
w_causal = np.exp(s - s.max(-1, keepdims=True))
w_causal /= w_causal.sum(-1, keepdims=True)
print("weights (rows: queries, columns: keys):\n", w_causal.round(3))
assert np.all(w_causal[np.triu_indices(L, k=1)] == 0) and np.allclose(w_causal.sum(-1), 1)
masked = F.scaled_dot_product_attention(tge.tensor(qs), tge.tensor(ks), tge.tensor(vs), is_causal=True).numpy()
np.testing.assert_allclose(masked, attention_by_hand(qs, ks, vs, causal), rtol=1e-10)

# changing the *future* values cannot change the past outputs
vs_changed = vs.copy()
vs_changed[..., 3:, :] += 100.0
masked_changed = F.scaled_dot_product_attention(tge.tensor(qs), tge.tensor(ks), tge.tensor(vs_changed), is_causal=True)
np.testing.assert_array_equal(masked_changed.numpy()[..., :3, :], masked[..., :3, :])
print("is_causal=True == the −inf mask, and outputs 0..2 ignore values 3..4")

# %% [markdown]
# ## Multi-head attention is the same formula per head
#
# `nn.MultiheadAttention(E, h)` projects its inputs to queries, keys and values with one stacked weight
# `in_proj_weight` = [W_q; W_k; W_v] (PyTorch's layout), cuts the E features into h heads of E/h,
# runs attention in each head on its own, glues the heads back together and mixes them with
# `out_proj`. Like PyTorch it takes (L, N, E) unless `batch_first=True` ((N, L, E), used here).
# Rebuilt here from its parameters:

# %%
tge.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)  # inputs (N, L, E)
x = rng.standard_normal((1, 5, 8)).astype(np.float32)
out_layer, w_layer = mha(tge.tensor(x), tge.tensor(x), tge.tensor(x))
W, bias = mha.in_proj_weight.numpy(), mha.in_proj_bias.numpy()
q_h, k_h, v_h = ((x @ W[i * 8 : (i + 1) * 8].T + bias[i * 8 : (i + 1) * 8]).reshape(1, 5, 2, 4).transpose(0, 2, 1, 3)
                 for i in range(3))  # fmt: skip
heads = attention_by_hand(q_h, k_h, v_h)  # (1, 2 heads, 5, 4)
out_by_hand = heads.transpose(0, 2, 1, 3).reshape(1, 5, 8) @ mha.out_proj.weight.numpy().T + mha.out_proj.bias.numpy()
np.testing.assert_allclose(out_layer.numpy(), out_by_hand, rtol=1e-4, atol=1e-6)
print("nn.MultiheadAttention == per-head formula; weights returned averaged over heads:", w_layer.shape)

# %% [markdown]
# ## A tiny transformer that reverses sequences
#
# The task: read 8 random digits, output them in reverse order. Output position i must copy the
# token at input position 7 − i, so every output needs information from *another* position, chosen
# by position alone. A model that processes each position separately cannot do better than
# guessing (10 %); attention can learn to look in the right place.
#
# The model: token embeddings plus learned position embeddings (attention itself has no notion of
# order), one `nn.TransformerEncoderLayer` (2 heads of 16 features, a feed-forward block of 64, each
# with a residual connection and LayerNorm), and a linear head giving 10 logits per position. The
# baseline swaps the encoder layer for a per-position MLP of the same width; no number of parameters
# could help it, since position i never sees the token it has to output.

# %%
VOCAB, LENGTH, D_MODEL = 10, 8, 32


class Reverser(nn.Module):
    """Embed tokens and positions, mix the positions (or not), predict one token per position."""

    def __init__(self, mixer: nn.Module) -> None:
        super().__init__()
        self.token = nn.Embedding(VOCAB, D_MODEL)
        self.position = nn.Embedding(LENGTH, D_MODEL)
        self.mixer = mixer
        self.head = nn.Linear(D_MODEL, VOCAB)

    def embed(self, tokens: tge.Tensor) -> tge.Tensor:
        return self.token(tokens) + self.position(tge.arange(tokens.shape[1]))

    def forward(self, tokens: tge.Tensor) -> tge.Tensor:
        return self.head(self.mixer(self.embed(tokens)))  # (N, LENGTH, VOCAB)


def train(model: nn.Module, steps: int, seed: int = 0) -> float:
    """Adam on fresh random batches; returns the accuracy per token on 1000 new sequences."""
    data = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        tokens = data.integers(0, VOCAB, size=(64, LENGTH))
        logits = model(tge.tensor(tokens))
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tge.tensor(tokens[:, ::-1].reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens = data.integers(0, VOCAB, size=(1000, LENGTH))
    with tge.no_grad():
        predicted = model(tge.tensor(tokens)).argmax(dim=-1).numpy()
    return float((predicted == tokens[:, ::-1]).mean())


steps = sized(full=300, fast=150)
tge.manual_seed(0)
baseline = Reverser(nn.Sequential(nn.Linear(D_MODEL, 64), nn.ReLU(), nn.Linear(64, D_MODEL)))
baseline_acc = train(baseline, steps)
tge.manual_seed(0)
transformer = Reverser(nn.TransformerEncoderLayer(D_MODEL, nhead=2, dim_feedforward=64, dropout=0.0, batch_first=True))
transformer_acc = train(transformer, steps)
print(f"after {steps} steps: per-position MLP {baseline_acc:.3f} of tokens right, transformer {transformer_acc:.3f}")
print(f"parameters: MLP {baseline.num_parameters():,}, transformer {transformer.num_parameters():,}")
assert baseline_acc < 0.2 and transformer_acc >= (0.9 if FAST else 0.99)

# %% [markdown]
# ## Where does it look?
#
# The encoder's attention weights, averaged over its two heads (what `MultiheadAttention` returns),
# for one sequence and averaged over 1000. Each row is an output position (a query), each column an
# input position (a key). Reversal means row i should look at column 7 − i: the anti-diagonal.

# %%
tokens = np.random.default_rng(1).integers(0, VOCAB, size=(1000, LENGTH))
with tge.no_grad():
    h = transformer.embed(tge.tensor(tokens))
    _, attn = transformer.mixer.self_attn(h, h, h)  # (1000, LENGTH, LENGTH), the mean over heads
attn = attn.numpy()
mean_attn = attn.mean(axis=0)
print("mean attention (rows: outputs, columns: inputs):\n", mean_attn.round(2))
looks_at = mean_attn.argmax(axis=1)
print("row i looks hardest at column", looks_at, " (7 − i:", LENGTH - 1 - np.arange(LENGTH), ")")
if not FAST:  # a half-trained model may still split its attention
    np.testing.assert_array_equal(looks_at, LENGTH - 1 - np.arange(LENGTH))
    assert np.diag(mean_attn[:, ::-1]).min() > 0.5

fig = Figure(figsize=(8.5, 4))
for i, (matrix, title) in enumerate([(attn[0], f"one sequence: {' '.join(map(str, tokens[0]))}"),
                                     (mean_attn, "mean over 1000 sequences")]):  # fmt: skip
    ax = fig.add_subplot(1, 2, i + 1)
    image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    ax.set_xlabel("input position (key)")
    ax.set_ylabel("output position (query)")
    ax.set_title(title, fontsize=9)
    if i == 0:
        ax.set_xticks(range(LENGTH), [f"{p}:{t}" for p, t in enumerate(tokens[0])], fontsize=7)
fig.colorbar(image, ax=fig.axes, shrink=0.8, label="attention weight")
fig.suptitle("07: where the transformer's outputs look (the anti-diagonal is reversal)", fontsize=10)
print("attention map drawn to", show(fig, "07_attention_map.png"))

# %% [markdown]
# The model found the anti-diagonal by itself: nothing in the code says "reverse". The positions'
# embeddings became queries and keys whose dot products are largest for the mirrored position, and
# the values carry the token across. That is the whole idea of attention: which positions talk to
# each other is computed from the data, not wired in like a convolution's neighbourhood.
#
# ## Exercises
#
# 1. If every key is the same, what are the weights, and what is the output? Check with
#    `F.scaled_dot_product_attention` on random values.
# 2. Without position embeddings, self-attention cannot tell positions apart: permuting the input sequence just
#    permutes the output. Check it with an `nn.MultiheadAttention` and a random permutation.
# 3. With the causal mask, what is the first query's output, whatever the queries and keys? Check it on `qs`,
#    `ks`, `vs`.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Equal scores give equal weights 1/S, so the output is the mean of the values.
rng_ex = np.random.default_rng(3)
same_keys = np.repeat(rng_ex.standard_normal((1, 4)), 6, axis=0)  # S = 6 identical keys
values = rng_ex.standard_normal((6, 3))
out_same = F.scaled_dot_product_attention(tge.tensor(rng_ex.standard_normal((2, 4))), tge.tensor(same_keys),
                                          tge.tensor(values)).numpy()  # fmt: skip
print("output rows:", out_same.round(4), " mean of the values:", values.mean(0).round(4))
np.testing.assert_allclose(out_same, np.broadcast_to(values.mean(0), (2, 3)), rtol=1e-10)

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Attention treats its inputs as a set: out(P x) = P out(x) for every permutation P.
tge.manual_seed(0)
mha_ex = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
seq = rng_ex.standard_normal((1, 5, 8)).astype(np.float32)
perm = rng_ex.permutation(5)
out_seq, _ = mha_ex(tge.tensor(seq), tge.tensor(seq), tge.tensor(seq))
out_perm, _ = mha_ex(tge.tensor(seq[:, perm]), tge.tensor(seq[:, perm]), tge.tensor(seq[:, perm]))
print("permutation", perm, "- max |out(Px) − P out(x)| =", np.abs(out_perm.numpy() - out_seq.numpy()[:, perm]).max())
np.testing.assert_allclose(out_perm.numpy(), out_seq.numpy()[:, perm], rtol=1e-5, atol=1e-6)

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Query 0 may see key 0 only: its one weight is 1, so its output is v[0], exactly.
first = F.scaled_dot_product_attention(tge.tensor(qs), tge.tensor(ks), tge.tensor(vs), is_causal=True).numpy()
print("max |out[..., 0, :] − v[..., 0, :]| =", np.abs(first[..., 0, :] - vs[..., 0, :]).max())
np.testing.assert_allclose(first[..., 0, :], vs[..., 0, :], rtol=1e-12)

# %% [markdown]
# **Next:** 08 · swapping kernels, timing them, and reading a profile.
