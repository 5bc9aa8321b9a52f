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
# # 17 · Recurrent networks: an RNN by hand, backpropagation through time, LSTMs, and a character model of *Macbeth*
#
# **You will be able to:** write an RNN cell and its forward pass over a sequence in NumPy; write
# backpropagation through time (BPTT) by hand and check it against `backward()` of `nn.RNN`; measure how the
# gradient $\partial L/\partial h_t$ vanishes as it travels back in time, and say why the LSTM's cell state does
# not suffer as much; read the LSTM's four gates in the library's code and plot them on real text; and train a
# character-level language model (`nn.Embedding` → `nn.LSTM` → `nn.Linear`, cross-entropy) on a bundled play,
# sampling from it before and after training.
#
# **Run time:** about 60 s of CPU time (`TGE_FAST=1`: about 6 s); longer while other work shares the cores.

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.datasets import load_text
from tinygrad_edu.nn import rnn as rnn_source
from tinygrad_edu.ops.rnn import LSTMCell as LSTMStep

tge.manual_seed(0)
rng = np.random.default_rng(0)
print("fast mode:", FAST)

# %% [markdown]
# ## 1. The RNN cell
#
# A recurrent network reads a sequence $x_1, \dots, x_T$ one step at a time and carries a **hidden state**
# $h_t \in \mathbb{R}^H$ from step to step. The Elman cell that `nn.RNN` implements is
#
# $$ a_t = W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}, \qquad h_t = \tanh(a_t), \qquad h_0 = 0. $$
#
# The same weights are used at every step: the network is a very deep net (depth $T$) whose layers share
# parameters. Here is that step in the library (`nn/rnn.py`; `F.linear(x, w, b)` is $x W^\top + b$, rows are
# samples):

# %%
quote(rnn_source._rnn_step)

# %% [markdown]
# Written out in NumPy for a batch of $N$ sequences of length $T$ (time first, as `nn.RNN` expects:
# input `(T, N, I)`), with the weights copied from an `nn.RNN`:

# %%
T, N, I, H = 6, 3, 4, 5
layer = nn.RNN(I, H)
Wih, Whh = layer.weight_ih_l0.numpy().astype(np.float64), layer.weight_hh_l0.numpy().astype(np.float64)
b = (layer.bias_ih_l0.numpy() + layer.bias_hh_l0.numpy()).astype(np.float64)  # the two biases only ever add up
x = rng.normal(size=(T, N, I))


def rnn_forward(x, Wih, Whh, b):
    """h_t = tanh(W_ih x_t + W_hh h_{t−1} + b) for t = 1..T; returns hs with hs[0] = h_0 = 0, hs[t] = h_t."""
    hs = [np.zeros((x.shape[1], Whh.shape[0]))]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ Wih.T + hs[-1] @ Whh.T + b))
    return np.stack(hs)


hs = rnn_forward(x, Wih, Whh, b)
xt = tge.tensor(x.astype(np.float32), requires_grad=True)
out, h_n = layer(xt)
print("output", out.shape, "h_n", h_n.shape)
assert np.allclose(out.numpy(), hs[1:], atol=1e-5)  # every h_t agrees
assert np.allclose(h_n.numpy()[0], hs[-1], atol=1e-5)  # h_n is the last one

# %% [markdown]
# ## 2. Backpropagation through time, written out
#
# Take a loss that reads every hidden state, $L = \sum_t \langle r_t, h_t\rangle$ for fixed random $r_t$, so
# that $g_t = \partial L/\partial h_t\big|_{\text{direct}} = r_t$. The hidden state $h_t$ reaches the loss
# directly and through $h_{t+1}$, so the **total** gradient $\delta_t = \partial L / \partial h_t$ obeys a
# recursion that runs backwards in time:
#
# $$ \delta_T = g_T, \qquad \delta_t = g_t + W_{hh}^\top \big[(1 - h_{t+1}^2) \odot \delta_{t+1}\big]. $$
#
# With $\mathrm{d}a_t = (1 - h_t^2)\odot\delta_t$ (since $\tanh' = 1 - \tanh^2$), the parameter gradients add up
# over the steps, because the same weights act at every step:
#
# $$ \frac{\partial L}{\partial W_{ih}} = \sum_t \mathrm{d}a_t\, x_t^\top, \qquad
#    \frac{\partial L}{\partial W_{hh}} = \sum_t \mathrm{d}a_t\, h_{t-1}^\top, \qquad
#    \frac{\partial L}{\partial b} = \sum_t \mathrm{d}a_t, \qquad
#    \frac{\partial L}{\partial x_t} = W_{ih}^\top\, \mathrm{d}a_t . $$

# %%
r = rng.normal(size=(T, N, H))


def rnn_bptt(x, hs, Wih, Whh, g):
    """BPTT for h_t = tanh(W_ih x_t + W_hh h_{t−1} + b) given g[t−1] = ∂L/∂h_t (direct). Rows are samples."""
    dWih, dWhh, db = np.zeros_like(Wih), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dx = np.zeros_like(x)
    delta_next = np.zeros_like(hs[0])  # (1 − h²_{t+1}) ⊙ δ_{t+1} W_hh  — nothing after the last step
    deltas = np.zeros_like(hs[1:])
    for t in range(x.shape[0], 0, -1):  # t = T .. 1; hs[t] is h_t, x[t−1] is x_t
        delta = g[t - 1] + delta_next  # δ_t = g_t + W_hhᵀ da_{t+1}
        da = (1 - hs[t] ** 2) * delta  # da_t = (1 − h_t²) ⊙ δ_t
        dWih += da.T @ x[t - 1]
        dWhh += da.T @ hs[t - 1]
        db += da.sum(axis=0)
        dx[t - 1] = da @ Wih
        delta_next = da @ Whh  # (rows are samples, so W_hhᵀ da becomes da W_hh)
        deltas[t - 1] = delta
    return dWih, dWhh, db, dx, deltas


dWih, dWhh, db, dx, deltas = rnn_bptt(x, hs, Wih, Whh, r)

loss = (out * tge.tensor(r.astype(np.float32))).sum()
loss.backward()  # the library's backward through the unrolled loop
assert np.allclose(layer.weight_ih_l0.grad.numpy(), dWih, atol=1e-5)
assert np.allclose(layer.weight_hh_l0.grad.numpy(), dWhh, atol=1e-5)
assert np.allclose(layer.bias_ih_l0.grad.numpy(), db, atol=1e-5)
assert np.allclose(layer.bias_hh_l0.grad.numpy(), db, atol=1e-5)
assert np.allclose(xt.grad.numpy(), dx, atol=1e-5)
print("BPTT by hand = nn.RNN's backward; max |ΔW_hh| =", float(np.abs(layer.weight_hh_l0.grad.numpy() - dWhh).max()))

# %% [markdown]
# ## 3. Vanishing gradients, measured
#
# Unroll the recursion with only the last step in the loss ($g_t = 0$ for $t < T$):
#
# $$ \delta_t = \Big(\prod_{k=t+1}^{T} W_{hh}^\top \operatorname{diag}(1 - h_k^2)\Big)\, \delta_T, \qquad
#    \|\delta_{t-1}\| \le \sigma_{\max}(W_{hh})\,\|\delta_t\| . $$
#
# Each step multiplies by a Jacobian whose norm is at most the largest singular value of $W_{hh}$ (the factor
# $1 - h^2 \le 1$ can only shrink it). That bound is loose: repeated products of the same matrix grow or shrink like
# its **spectral radius** $\rho(W_{hh}) = \max|\lambda|$, which for a random matrix is well below $\sigma_{\max}$.
# With $\rho < 1$ the gradient decays geometrically: what the loss says about $h_t$ fades out for early $t$, and
# the network cannot learn long-range dependencies.
# We measure $\|\partial L/\partial h_t\|$ with the library: run `nn.RNNCell` step by step, keep each $h_t$'s
# gradient with `retain_grad()`, and call `backward()` on $L = \langle r, h_T\rangle$.

# %%
T_long, H_long = sized(full=80, fast=60), 32
x_long = tge.tensor(rng.normal(size=(T_long, 1, 8)).astype(np.float32))
r_last = tge.tensor(rng.normal(size=(1, H_long)).astype(np.float32))


def grad_norms_rnn(scale: float) -> tuple[np.ndarray, float, float]:
    """‖∂L/∂h_t‖ for t = 1..T through an RNNCell whose W_hh is multiplied by `scale`; also σ_max and ρ of W_hh."""
    tge.manual_seed(1)
    cell = nn.RNNCell(8, H_long)
    with tge.no_grad():
        cell.weight_hh.mul_(scale)
    h, states = None, []
    for t in range(T_long):
        h = cell(x_long[t], h)
        h.retain_grad()
        states.append(h)
    (states[-1] * r_last).sum().backward()
    w = cell.weight_hh.numpy().astype(np.float64)
    sigma, rho = float(np.linalg.norm(w, 2)), float(np.abs(np.linalg.eigvals(w)).max())
    return np.array([float(np.linalg.norm(s.grad.numpy())) for s in states]), sigma, rho


def grad_norms_lstm(forget_bias: float) -> np.ndarray:
    """‖∂L/∂h_t‖ through an LSTMCell whose forget-gate biases are set to `forget_bias`."""
    tge.manual_seed(1)
    cell = nn.LSTMCell(8, H_long)
    with tge.no_grad():
        cell.bias_ih[H_long : 2 * H_long] = forget_bias  # rows H..2H are the forget gate (order i, f, g, o)
        cell.bias_hh[H_long : 2 * H_long] = 0.0
    state, states = None, []
    for t in range(T_long):
        state = cell(x_long[t], state)
        state[0].retain_grad()
        states.append(state[0])
    (states[-1] * r_last).sum().backward()
    return np.array([float(np.linalg.norm(s.grad.numpy())) for s in states])


rnn_default, sigma_default, rho_default = grad_norms_rnn(1.0)
rnn_big, sigma_big, rho_big = grad_norms_rnn(3.0)
lstm_f3 = grad_norms_lstm(3.0)
steps_back = np.arange(T_long)[::-1]  # T − t
rate = (rnn_default[0] / rnn_default[-1]) ** (1 / (T_long - 1))  # the measured shrink factor per step
print(f"default init: σ_max(W_hh) = {sigma_default:.3f}, ρ(W_hh) = {rho_default:.3f}; shrink per step {rate:.3f}")
for name, g in [("RNN default", rnn_default), ("RNN W_hh×3", rnn_big), ("LSTM f-bias 3", lstm_f3)]:
    print(f"{name:14s} ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {g[0] / g[-1]:.2e}")

# the bound: every step back shrinks the gradient by at most σ_max(W_hh)
assert np.all(rnn_default[:-1] <= sigma_default * rnn_default[1:] * (1 + 1e-4))
assert rnn_default[0] / rnn_default[-1] < 1e-6  # vanished: less than a millionth left after T steps
assert rho_default < 0.7 and rate < 0.7 < 1 < sigma_default  # it shrinks like ρ, not like the bound σ_max
assert rnn_default[-20] / rnn_default[-1] < 1e-2  # already down by 100× after 20 steps
assert rnn_big[0] / rnn_big[-1] < 1e-2  # a larger W_hh does not cure it (the tanh saturates)
assert lstm_f3[0] / lstm_f3[-1] > 1e4 * rnn_default[0] / rnn_default[-1]  # the LSTM keeps far more

fig = Figure(figsize=(7, 4))
ax = fig.subplots()
ax.semilogy(steps_back, rnn_default, label="RNN, default init")
ax.semilogy(steps_back, rnn_big, label=f"RNN, W_hh × 3 (ρ = {rho_big:.2f})")
ax.semilogy(steps_back, lstm_f3, label="LSTM, forget-gate bias 3")
ax.semilogy(steps_back, rnn_default[-1] * rho_default**steps_back, "k:", label=f"ρ(W_hh)^(T−t), ρ = {rho_default:.2f}")
ax.set_title("How far back does the gradient reach?")
ax.set_xlabel("steps back in time, T − t")
ax.set_ylabel("‖∂L/∂h_t‖")
ax.legend()
show(fig, "17_vanishing.png")

# %% [markdown]
# Scaling $W_{hh}$ up does not cure the decay for a tanh RNN: the states saturate ($|h|\to 1$), and the factor
# $1 - h^2$ kills the gradient instead. The LSTM's gradient survives because its cell state is updated
# additively, as the next section shows.
#
# ## 4. The LSTM's gates
#
# An LSTM carries two states, $h_t$ and the **cell state** $c_t$. Four gates are computed from $x_t$ and
# $h_{t-1}$ (in PyTorch's order $i, f, g, o$, stacked in the rows of $W_{ih}$ and $W_{hh}$):
#
# $$ i = \sigma(a_i),\quad f = \sigma(a_f),\quad g = \tanh(a_g),\quad o = \sigma(a_o), \qquad
#    c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t). $$
#
# The **input gate** $i$ says how much of the candidate $g$ to write, the **forget gate** $f$ how much of the
# old cell to keep, the **output gate** $o$ how much of the cell to show. Backward, the cell state's gradient is
# $\mathrm{d}c_{t-1} = \mathrm{d}c_t^{\text{total}} \odot f$: no matrix, no squashing derivative — only the forget
# gate, which the network can hold near 1 (a forget-gate bias of 3 gives $f \approx \sigma(3) = 0.95$). That is
# the "gradient highway" of the figure above. Here is the library's step, with every gate derivative written out
# ($\sigma' = \sigma(1-\sigma)$, $\tanh' = 1 - \tanh^2$):

# %%
quote(LSTMStep)

# %% [markdown]
# Check the Function twice: its forward against the equations in NumPy, and its backward against central
# finite differences with `tge.gradcheck` in float64.

# %%


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step_numpy(x, h, c, Wih, Whh, bih, bhh):
    """One LSTM step by the equations above; returns (h', c', gates) with gates = (i, f, g, o)."""
    a_i, a_f, a_g, a_o = np.split(x @ Wih.T + bih + h @ Whh.T + bhh, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, (i, f, g, o)


cell = nn.LSTMCell(I, H)
xc, hc, cc = (rng.normal(size=(N, k)).astype(np.float32) for k in (I, H, H))
h1, c1 = cell(tge.tensor(xc), (tge.tensor(hc), tge.tensor(cc)))
weights = [p.numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
h1_np, c1_np, _ = lstm_step_numpy(xc, hc, cc, *weights)
assert np.allclose(h1.numpy(), h1_np, atol=1e-6) and np.allclose(c1.numpy(), c1_np, atol=1e-6)

inputs64 = [tge.tensor(a.astype(np.float64), requires_grad=True) for a in (xc, hc, cc, *weights)]
assert tge.gradcheck(lambda *args: LSTMStep.apply(*args), inputs64)  # all 7 inputs, both outputs h', c'
assert abs(sigmoid(3.0) - 0.95) < 0.005  # a forget-gate bias of 3: f ≈ 0.95
print("LSTM step: forward = the equations, backward = finite differences")

# %% [markdown]
# ## 5. A character-level language model of *Macbeth*
#
# The library bundles three public-domain plays (`tinygrad_edu.datasets.load_text`; where they come from is in
# `tinygrad_edu/datasets/data/README.md`). A character-level language model reads the text one character at a
# time and predicts the next one: with a vocabulary of $V$ characters, input indices $c_1 \dots c_T$ and the
# model's logits $z_t \in \mathbb{R}^V$ after reading $c_1..c_t$,
#
# $$ L = -\frac{1}{T}\sum_{t=1}^{T} \log \operatorname{softmax}(z_t)_{c_{t+1}} . $$
#
# A model that knows nothing predicts the uniform distribution, whose loss is $\log V$; predicting each
# character's frequency (a unigram model) gives the entropy of the character distribution; counting which
# character follows which (a bigram table) does better still. The LSTM should beat them all.

# %%
text = load_text("macbeth")
chars = sorted(set(text))
V = len(chars)
stoi = {ch: k for k, ch in enumerate(chars)}
data = np.array([stoi[ch] for ch in text], dtype=np.int64)
split = int(0.9 * len(data))
train_ids, val_ids = data[:split], data[split:]
print(f"{len(text):,} characters, vocabulary V = {V}: {''.join(chars)!r}")
print(text[:300])

freq = (np.bincount(train_ids, minlength=V) + 1) / (len(train_ids) + V)
unigram_loss = float(-np.log(freq[val_ids]).mean())
pairs = np.ones((V, V))  # add-one smoothed bigram counts
np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1)
bigram_loss = float(-np.log((pairs / pairs.sum(axis=1, keepdims=True))[val_ids[:-1], val_ids[1:]]).mean())
print(f"log V = {math.log(V):.3f}   unigram = {unigram_loss:.3f}   bigram = {bigram_loss:.3f} (nats per character)")
assert V == 64 and bigram_loss < unigram_loss < math.log(V)

# %% [markdown]
# The model: an embedding of each character, one LSTM layer, and a linear head to $V$ logits at every step.
# Training takes random windows of the text (truncated BPTT: the gradient flows back at most `seq_len` steps).

# %%


class CharLM(nn.Module):
    """Embedding(V, E) → LSTM(E, H) → Linear(H, V): logits for the next character at every step."""

    def __init__(self, vocab: int, embed: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        """idx (T, N) int64 → logits (T, N, V) and the final (h, c)."""
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


@tge.no_grad()
def sample(model, n: int, temperature: float = 1.0, seed: int = 0, start: str = "\n") -> str:
    """Generate n characters: feed one character, draw the next from softmax(logits / temperature), repeat."""
    draw = np.random.default_rng(seed)
    idx, state, out = stoi[start], None, []
    for _ in range(n):
        logits, state = model(tge.tensor([[idx]]), state)
        p = F.softmax(logits[0, 0] / temperature, dim=-1).numpy().astype(np.float64)
        idx = int(draw.choice(V, p=p / p.sum()))
        out.append(chars[idx])
    return "".join(out)


@tge.no_grad()
def val_loss(model, length: int = sized(full=2000, fast=1000)) -> float:
    """Cross-entropy per character on the first `length` held-out characters, read as one sequence."""
    seq = val_ids[: length + 1]
    logits, _ = model(tge.tensor(seq[:-1, None]))
    return F.cross_entropy(logits.reshape(-1, V), tge.tensor(seq[1:])).item()


def batches(ids, steps, seq_len, batch, seed=0):
    """`steps` batches of `batch` random windows, as (seq_len, batch) inputs and next-character targets."""
    draw = np.random.default_rng(seed)
    for _ in range(steps):
        start = draw.integers(0, len(ids) - seq_len - 1, size=batch)
        window = np.stack([ids[s : s + seq_len + 1] for s in start], axis=1)  # (seq_len + 1, batch)
        yield tge.tensor(window[:-1]), tge.tensor(window[1:])


def train_lm(model, steps, seq_len, batch, lr):
    """Adam on the cross-entropy of next-character prediction; returns the training loss of every step."""
    opt = tge.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for inp, target in batches(train_ids, steps, seq_len, batch):
        logits, _ = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, V), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # guards against the rare exploding step
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


HIDDEN, STEPS, SEQ_LEN = sized(full=128, fast=64), sized(full=900, fast=150), sized(full=64, fast=32)
tge.manual_seed(0)
model = CharLM(V, 32, HIDDEN)
before_sample = sample(model, 200)
before_val = val_loss(model)
print(f"before training (validation loss {before_val:.3f}):\n{before_sample}\n")

losses = train_lm(model, STEPS, SEQ_LEN, 32, lr=1e-2)
after_val = val_loss(model)
after_sample = sample(model, 300, temperature=0.8)
print(f"after {STEPS} steps (validation loss {after_val:.3f}):\n{after_sample}")

# %% [markdown]
# How English is each sample? Count the fraction of its words that occur somewhere in the play.

# %%
play_words = set("".join(ch if ch.isalpha() or ch == "'" else " " for ch in text.lower()).split())


def real_word_fraction(s: str) -> float:
    """Fraction of the alphabetic words of s that are words of the play."""
    words = "".join(ch if ch.isalpha() or ch == "'" else " " for ch in s.lower()).split()
    return sum(w in play_words for w in words) / max(len(words), 1)


before_words, after_words = real_word_fraction(before_sample), real_word_fraction(after_sample)
print(f"real words: before {before_words:.0%}, after {after_words:.0%}")
assert abs(before_val - math.log(V)) < 0.1  # untrained: about the uniform loss log V
assert after_val < math.log(V) - 1.5 and after_val < unigram_loss - 0.5  # well below log V and below the unigram
assert after_words > before_words + 0.25
if not FAST:
    assert after_val < bigram_loss - 0.3 and after_words > 0.6  # longer training beats the bigram table clearly

fig = Figure(figsize=(7, 4))
ax = fig.subplots()
smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
ax.plot(np.arange(len(losses)), losses, alpha=0.3, label="training loss (per step)")
ax.plot(np.arange(len(smooth)) + 9, smooth, label="training loss (mean of 10 steps)")
ax.axhline(math.log(V), color="k", linestyle=":", label=f"uniform, log V = {math.log(V):.2f}")
ax.axhline(unigram_loss, color="gray", linestyle="--", label=f"unigram = {unigram_loss:.2f}")
ax.axhline(bigram_loss, color="gray", linestyle="-.", label=f"bigram = {bigram_loss:.2f}")
ax.axhline(after_val, color="C3", label=f"LSTM validation = {after_val:.2f}")
ax.set_title("Character-level LSTM on Macbeth")
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy (nats per character)")
ax.legend()
show(fig, "17_char_lm_loss.png")

# %% [markdown]
# ### The gates at work
#
# Replay the trained LSTM over a line of the play in NumPy, with the equations of section 4 and the model's own
# weights, and check that it reproduces the library's hidden states. Then look at the gates: each row of the
# heat map is one unit's forget gate $f$ along the text (1 = keep the cell, 0 = forget it).

# %%
snippet = val_ids[200:260]
sd = {k: v.numpy() for k, v in model.state_dict().items()}
emb = sd["embed.weight"][snippet]  # (60, E): the embedded characters
h_np, c_np = np.zeros((1, HIDDEN), np.float32), np.zeros((1, HIDDEN), np.float32)
gate_trace, h_trace = [], []
lstm_weights = [sd[f"lstm.{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
for e in emb:
    h_np, c_np, gates = lstm_step_numpy(e[None], h_np, c_np, *lstm_weights)
    gate_trace.append([gt[0] for gt in gates])
    h_trace.append(h_np[0])
with tge.no_grad():
    lib_out, _ = model.lstm(model.embed(tge.tensor(snippet[:, None])))
assert np.allclose(lib_out.numpy()[:, 0], np.array(h_trace), atol=1e-5)
gate_trace = np.array(gate_trace)  # (60, 4, H): i, f, g, o for every step
mean_gates = gate_trace.mean(axis=2)
print("mean gate values over the line: " + ", ".join(f"{n} = {m:.2f}" for n, m in zip("ifgo", mean_gates.mean(0))))
sigma_gates = gate_trace[:, [0, 1, 3]]
assert np.all((sigma_gates >= 0) & (sigma_gates <= 1))  # σ gates lie in [0, 1] (float32 rounds σ(9) up to 1)
assert np.all(np.abs(gate_trace[:, 2]) <= 1)  # g = tanh(a_g) lies in [−1, 1]

fig = Figure(figsize=(10, 6))
ax_map, ax_mean = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
ax_map.imshow(gate_trace[:, 1, :16].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
ax_map.set_title("Forget gate f of 16 units along a line of the play (yellow: f ≈ 1, keep; dark: f ≈ 0, forget)")
ax_map.set_ylabel("unit")
for name, k in (("input gate i", 0), ("forget gate f", 1), ("output gate o", 3)):
    ax_mean.plot(mean_gates[:, k], label=name)
ax_mean.set_xticks(range(len(snippet)))
ax_mean.set_xticklabels([repr(chars[k])[1:-1] for k in snippet], fontsize=7)
ax_mean.set_title("Mean over all units")
ax_mean.set_xlabel("character read")
ax_mean.set_ylabel("gate value")
ax_mean.legend(fontsize=8)
show(fig, "17_lstm_gates.png")

# %% [markdown]
# ## Exercises
#
# 1. **A GRU instead.** Replace `nn.LSTM` by `nn.GRU` (its step has two gates, $r$ and $z$; see
#    `tinygrad_edu.ops.rnn.GRUCell`), train it the same way, and compare its validation loss with the LSTM's.
# 2. **Exploding gradients and clipping.** Build a ReLU RNN cell (`nn.RNNCell(..., nonlinearity="relu")`) whose
#    $W_{hh}$ is $1.5\,I$, measure $\|\partial L/\partial h_1\|$ after 30 steps, and show that
#    `nn.utils.clip_grad_norm_` caps the parameters' total gradient norm at the `max_norm` you give it.
# 3. **Temperature.** Dividing the logits by a temperature $\tau$ before the softmax sharpens ($\tau < 1$) or
#    flattens ($\tau > 1$) the distribution. Measure the trained model's average entropy of the next-character
#    distribution on held-out text for $\tau = 0.5, 1, 2$ and print a sample at each.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. The GRU: the same CharLM with nn.GRU (its state is h alone).


class CharGRU(CharLM):
    def __init__(self, vocab: int, embed: int, hidden: int):
        super().__init__(vocab, embed, hidden)
        self.lstm = nn.GRU(embed, hidden)  # same attribute name, so forward() is unchanged


tge.manual_seed(0)
gru_model = CharGRU(V, 32, HIDDEN)
gru_losses = train_lm(gru_model, STEPS, SEQ_LEN, 32, lr=1e-2)
gru_val = val_loss(gru_model)
print(f"validation loss: LSTM {after_val:.3f}, GRU {gru_val:.3f} (log V = {math.log(V):.3f})")
print(sample(gru_model, 200, temperature=0.8))
n_lstm = sum(p.numel() for p in model.lstm.parameters())
n_gru = sum(p.numel() for p in gru_model.lstm.parameters())
print(f"recurrent weights: LSTM {n_lstm:,}, GRU {n_gru:,}")
assert n_gru * 4 == n_lstm * 3  # three blocks of gates instead of four
assert gru_val < math.log(V) - 1.5 and abs(gru_val - after_val) < 0.5  # about as good, with a quarter fewer weights

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Exploding gradients: with h = relu(W_hh h + …) and W_hh = 1.5 I, each step back multiplies by 1.5 where h > 0.
tge.manual_seed(0)
relu_cell = nn.RNNCell(8, 16, nonlinearity="relu")
with tge.no_grad():
    relu_cell.weight_hh.copy_(tge.tensor(1.5 * np.eye(16, dtype=np.float32)))
    relu_cell.bias_ih.fill_(1.0)  # keep the units active (h > 0), so the gradient passes every step
h, hs_relu = None, []
for t in range(30):
    h = relu_cell(x_long[t], h)
    h.retain_grad()
    hs_relu.append(h)
hs_relu[-1].sum().backward()
growth = np.linalg.norm(hs_relu[0].grad.numpy()) / np.linalg.norm(hs_relu[-1].grad.numpy())
total = math.sqrt(sum(float((p.grad * p.grad).sum().item()) for p in relu_cell.parameters()))
returned = float(nn.utils.clip_grad_norm_(relu_cell.parameters(), max_norm=1.0))
clipped = math.sqrt(sum(float((p.grad * p.grad).sum().item()) for p in relu_cell.parameters()))
print(f"‖∂L/∂h_1‖ / ‖∂L/∂h_30‖ = {growth:.3g} (1.5^29 = {1.5**29:.3g}); gradient norm {total:.3g} → {clipped:.3f}")
assert growth > 1e4 and abs(growth - 1.5**29) / 1.5**29 < 1e-3  # exactly 1.5 per step back
assert abs(returned - total) / total < 1e-4 and abs(clipped - 1.0) < 1e-3

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Temperature: the entropy of softmax(z / τ) grows with τ.
with tge.no_grad():
    seq = val_ids[: sized(full=1001, fast=501)]
    logits, _ = model(tge.tensor(seq[:-1, None]))
    z = logits.numpy()[:, 0].astype(np.float64)
entropies = []
for tau in (0.5, 1.0, 2.0):
    zt = z / tau
    logp = zt - zt.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    entropies.append(float(-(np.exp(logp) * logp).sum(axis=1).mean()))
    print(f"τ = {tau}: mean entropy {entropies[-1]:.2f} nats; sample: {sample(model, 80, tau, seed=1)!r}")
assert entropies[0] < entropies[1] < entropies[2] < math.log(V)
