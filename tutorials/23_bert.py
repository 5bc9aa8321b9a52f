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
# # 23 · A tiny BERT: pretraining with masked language modelling, then fine-tuning
#
# **You will be able to:** build BERT's input (token + position + segment embeddings) and its masked-LM head tied to
# the token embedding; apply BERT's masking rule (15 % of tokens; 80 % `<mask>`, 10 % random, 10 % kept; labels
# −100 elsewhere); pretrain on unlabelled sentences, save the weights, and fine-tune a classifier on `<cls>` from
# them; measure what pretraining buys with only a few hundred labels, against the same model from scratch and the
# bag of words of lesson 21, with a zero-shot probe that tells whether pretraining has found the sentiment yet; and
# read an attention heat-map of a negated sentence.
#
# **Run time:** about 190 s of CPU time (3.2 minutes), most of it 3000 pretraining steps; on a busy machine the wall
# time is longer (`TGE_FAST=1`: about 7 s; fast mode pretrains for only a few dozen steps, so its numbers are only
# checked loosely).

# %%
import time

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu import text
from tinygrad_edu.course import FAST, out_dir, quote, show, sized
from tinygrad_edu.text.training import accuracy, encode, pretrain_mlm, train_classifier

tge.manual_seed(0)
L = 48  # tokens per review, <cls> and <sep> included: the longest three-sentence review fits
# no labels: synthetic three-sentence reviews to pretrain on
unlabelled = text.make_unlabelled(sized(full=24000, fast=1500), seed=1, parts=3, p_pair=1.0)
labelled = text.make_sentiment(300, seed=0)  # a few hundred labelled sentences
test = text.make_sentiment(2000, seed=7)  # held out
negated = test.subset(test.negated)  # the sentences with "not": where word order matters most
tok = text.WordTokenizer.from_texts(unlabelled)
print(f"{len(unlabelled)} unlabelled sentences, {len(labelled)} labelled, {len(negated)} held-out negated; "
      f"vocabulary {len(tok)}")  # fmt: skip
print(unlabelled[:3])

# %% [markdown]
# ## The model
#
# Each position $t$ of the input gets the sum of three learned vectors — which token, where, which segment — then a
# LayerNorm, then a stack of Transformer encoder layers (self-attention + feed-forward, each with a residual and a
# LayerNorm, lesson 07):
#
# $$ h^0_t = \mathrm{LayerNorm}\big(E_{\text{tok}}[x_t] + E_{\text{pos}}[t] + E_{\text{seg}}[s_t]\big), \qquad
#    h = \mathrm{Encoder}(h^0). $$
#
# The **masked-LM head** scores every vocabulary word at every position through the *same* token embedding
# (weight tying): $\text{logits}_t = \mathrm{LN}(\mathrm{gelu}(W h_t + c))\,E_{\text{tok}}^{\top} + b$. The
# **classifier** reads the vector at position 0, the `<cls>` token: $\text{logits} = W_c h_0 + b_c$.
# `nn.TransformerEncoderLayer` takes $(L, N, d)$ by default, as in PyTorch; BERT code uses `batch_first=True`,
# $(N, L, d)$.

# %%
config = text.BertConfig(len(tok), max_length=L, d_model=64, num_layers=2, num_heads=4, dim_feedforward=128)
mlm = text.BertForMaskedLM(config)
quote(text.BertForMaskedLM.forward)
n_params = sum(p.numel() for p in mlm.parameters())
print(f"{n_params:,} parameters; the head adds no (vocab × d) matrix of its own")
assert mlm.bert.encoder.layers[0].self_attn.batch_first
ids = tok(["the plot was not bad"], padding="max_length", max_length=L)["input_ids"]
assert mlm(ids).shape == (1, L, len(tok))

# %% [markdown]
# ## Masking
#
# Of the ordinary tokens (not `<pad>`, `<cls>`, `<sep>`), each is chosen with probability $0.15$. A chosen token is
# replaced by `<mask>` with probability $0.8$, by a random word with $0.1$, and left alone with $0.1$; its label is
# the original id, and every other label is $-100$, which `F.cross_entropy(..., ignore_index=-100)` skips:
#
# $$ \mathcal{L}_{\text{MLM}} = -\frac{1}{|M|}\sum_{(i,t)\in M} \log \mathrm{softmax}(\text{logits}_{i,t})_{x_{i,t}}, $$
#
# with $M$ the chosen positions. The random and kept 10 % stop the model from learning "a visible token is never a
# target".

# %%
x_unl = encode(tok, unlabelled, L)
assert (x_unl[:, -1] == tok.pad_token_id).all()  # no review truncated: a cut-off review would lose its verdict
inputs, labels = text.mask_tokens(x_unl, tok, rng=np.random.default_rng(0))
inputs, labels = inputs.numpy(), labels.numpy()
print(tok.convert_ids_to_tokens(x_unl[0][x_unl[0] > 0]), "\n", tok.convert_ids_to_tokens(inputs[0][x_unl[0] > 0]),
      "\n", labels[0][x_unl[0] > 0])  # fmt: skip
ordinary = ~np.isin(x_unl, [tok.pad_token_id, tok.cls_token_id, tok.sep_token_id])
chosen = labels != -100
share = chosen.sum() / ordinary.sum()
as_mask = (inputs[chosen] == tok.mask_token_id).mean()
print(f"chosen {share:.3f} of the tokens; of those {as_mask:.3f} became <mask>")
assert abs(share - 0.15) < 0.02 and abs(as_mask - 0.8) < 0.05 and not (chosen & ~ordinary).any()

# %% [markdown]
# ## Pretraining
#
# The loop is the usual one, on masked batches, with BERT's learning-rate schedule (a linear warm-up, then a linear
# decay to 0). The corpus is made of synthetic multi-sentence reviews that keep one sentiment throughout ("the plot was
# not bad but the music felt dull . the acting was not good . i hated it"), so a hidden adjective or verdict can only
# be filled in from the polarity of the *other* sentences. At the start the model guesses uniformly, a loss of
# $\ln V$. It learns the grammar first (which word may follow which); which adjectives go together ("clever and
# fresh") and which verdict a sentence earns come later, and need far more steps.

# %%
quote(pretrain_mlm)
start = time.perf_counter()
losses = pretrain_mlm(mlm, tok, x_unl, epochs=sized(full=8, fast=1), batch_size=64, lr=1e-3)
print(f"{len(losses)} steps in {time.perf_counter() - start:.0f} s; loss {np.mean(losses[:10]):.2f} → "
      f"{np.mean(losses[-20:]):.2f} (ln V = {np.log(len(tok)):.2f})")  # fmt: skip
assert np.mean(losses[-10:]) < np.mean(losses[:10]) - sized(full=1.0, fast=0.1)
tge.save(mlm.state_dict(), out_dir() / "23_mlm.npz")  # written by this run, read back below

# %% [markdown]
# What did it learn? Every unlabelled sentence ended with a verdict ("… . i loved it"), so the pretrained model can be
# asked to fill one in for sentences it never saw: append " . i <mask> it" and compare the probability of
# {loved, liked} with that of {hated, disliked}. That is a zero-shot classifier, and a direct test of whether
# pretraining has found the sentiment yet (chance is 0.5):
#
# $$ \hat y = \big[\,p(\text{loved}) + p(\text{liked}) > p(\text{hated}) + p(\text{disliked})\,\big]. $$

# %%
mlm.eval()
probe_set = text.make_sentiment(300, seed=9)
with tge.no_grad():
    probe_ids = tok([t + " . i xyz it" for t in probe_set.texts], padding=True)["input_ids"].numpy()
    where = (probe_ids == tok.unk_token_id).argmax(1)  # the blank: "xyz" is not in the vocabulary
    probe_ids[probe_ids == tok.unk_token_id] = tok.mask_token_id
    p = mlm(tge.tensor(probe_ids)).softmax(-1).numpy()[np.arange(len(probe_ids)), where]
good = p[:, [tok.vocab["loved"], tok.vocab["liked"]]].sum(1)
bad = p[:, [tok.vocab["hated"], tok.vocab["disliked"]]].sum(1)
zero_shot = float(((good > bad) == probe_set.labels).mean())
print(f"P(a verdict word in the blank) = {(good + bad).mean():.2f}; zero-shot accuracy {zero_shot:.3f} (chance 0.5)")
assert (good + bad).mean() > sized(full=0.5, fast=0.0)  # it has learned at least that a verdict goes there
assert abs(zero_shot - 0.5) < sized(full=0.1, fast=0.15)  # but not yet which one: near chance (see below)

# %% [markdown]
# ## Fine-tuning versus training from scratch versus the bag of words
#
# Three classifiers see the same few hundred labelled sentences. The first starts from the pretrained encoder
# (loaded back from the file), the second is the same network with fresh random weights, the third is lesson 21's
# bag of words ($V \to 500 \to 2$). We score each on held-out sentences with "not".

# %%
x_lab, x_neg = encode(tok, labelled.texts, L), encode(tok, negated.texts, L)
results, epoch_seconds, models = {}, {}, {}
for name in ("pretrained", "from scratch"):
    tge.manual_seed(1)
    clf = text.BertClassifier(config, num_classes=2)
    if name == "pretrained":
        saved = tge.load(out_dir() / "23_mlm.npz")
        clf.bert.load_state_dict({k[len("bert.") :]: v for k, v in saved.items() if k.startswith("bert.")})
    start = time.perf_counter()
    epochs = sized(full=40, fast=2)  # 300 sentences: 10 steps an epoch, 400 in all
    train_classifier(clf, x_lab, labelled.labels, epochs=epochs, lr=1e-3)
    epoch_seconds[name] = (time.perf_counter() - start) / epochs
    results[name] = accuracy(clf, x_neg, negated.labels)
    models[name] = clf
finetuned, scratch = models["pretrained"], models["from scratch"]
vec = text.CountVectorizer(max_features=1000).fit(labelled.texts)
tge.manual_seed(2)
bow = text.BagOfWordsMLP(len(vec.vocabulary_), 500, 2)
train_classifier(bow, vec.transform(labelled.texts), labelled.labels, epochs=sized(full=30, fast=5), pad_id=None)
results["bag of words"] = accuracy(bow, vec.transform(negated.texts), negated.labels)
for name, acc in results.items():
    print(f"{name:>14}: {acc:.3f} on {len(negated)} held-out negated sentences")
print(f"one fine-tuning epoch: {epoch_seconds['pretrained']:.2f} s")
assert epoch_seconds["pretrained"] < 30 and all(0 <= a <= 1 for a in results.values())
gain = {k: results["pretrained"] - v for k, v in results.items() if k != "pretrained"}
print("pretraining's gain, in accuracy points:", {k: round(100 * v, 1) for k, v in gain.items()}, "(the target is ≥ 5)")
# ≥ 5 points over both; fast mode pretrains too little to gain, but pretraining must not cost 10 points
assert min(gain.values()) >= sized(full=0.05, fast=-0.1)
if not FAST:  # "far ahead" (next cell): tens of points over the scratch model and the bag of words, at chance
    assert min(gain.values()) > 0.15 and max(abs(results[k] - 0.5) for k in gain) < 0.1

# %% [markdown]
# Read the three numbers together with the zero-shot probe above. The probe stays near chance: within this budget
# the masked LM has not learned to fill in the verdict, and a linear layer on the frozen pretrained features does
# no better (Exercise 1). Yet the fine-tuned model is far ahead of the same network trained from scratch on the same
# 300 sentences with the same recipe, and of the bag of words; both of those stay near chance on negated sentences.
# What transfers is not a ready-made sentiment feature but an encoder that has learned the grammar of these sentences
# by filling in their blanks, so that a few hundred labels are enough to learn the rest. From scratch, the same 300
# labels must teach the grammar too; given 1500 instead, the scratch model does read the word order (over 90 %,
# `tests/text/test_bert.py`), so it is data, not the network, that it lacks here.
#
# One run is one sample: with another pretraining seed (`tge.manual_seed` before building the model) or another set of
# 300 labels, the fine-tuned accuracy moves by many points, so compare recipes over several seeds before believing a
# small difference. Fine-tuning also needs its steps (Exercise 4). And the probe is the cheap check to run before
# trusting a pretrained model for zero-shot use: pretrain for longer, re-run it after every epoch, and watch when it
# leaves chance.

# %% [markdown]
# ## Where does `<cls>` look?
#
# The attention weights of the fine-tuned model, for a negated sentence, averaged over the heads of the last layer:
# row $t$ is how position $t$ spreads its attention over the positions $s$ (each row sums to 1; `<pad>` columns get 0).

# %%
sentence = "the acting was not bad but the script felt dull"
enc = tok([sentence])
finetuned.eval()
with tge.no_grad():
    _, attentions = finetuned.bert(enc["input_ids"], enc["attention_mask"], output_attentions=True)
    verdict = finetuned(enc["input_ids"]).softmax(-1).numpy()[0]
weights = attentions[-1].numpy()[0].mean(0)  # (L, L), averaged over the heads
tokens = tok.convert_ids_to_tokens(enc["input_ids"].numpy()[0])
assert np.allclose(weights.sum(-1), 1, atol=1e-5)
print(f"{sentence!r}: P(positive) = {verdict[1]:.2f}; <cls> attends most to {tokens[int(weights[0].argmax())]!r}")
fig = Figure(figsize=(11, 4.4))
ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
ax1.plot(losses, label="MLM loss", alpha=0.6)
ax1.axhline(np.log(len(tok)), color="grey", linestyle=":", label="ln V (uniform guess)")
ax1.set(title="Pretraining: masked-LM loss", xlabel="step", ylabel="cross-entropy")
ax1.legend()
ax2.imshow(weights, cmap="viridis", vmin=0)
ax2.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right")
ax2.set_yticks(range(len(tokens)), tokens)
ax2.set(title="last layer's attention (mean of heads)", xlabel="key position", ylabel="query position")
show(fig, "23_bert.png")

# %% [markdown]
# ## Exercises
#
# 1. **Freeze** the pretrained encoder (`requires_grad_(False)` on `clf.bert`'s parameters) and train only the
#    classification layer — a "linear probe". How much of the fine-tuned accuracy does it keep?
# 2. What is the MLM loss of a model that has learned nothing? Compute it from the first steps and compare with $\ln V$.
# 3. Compare the accuracy of the pretrained and the scratch model on the *whole* test set as well as on the negated
#    sentences.
# 4. **The fine-tuning budget.** Fine-tune the pretrained encoder again with half the epochs at half the learning
#    rate (20 at $5\cdot10^{-4}$ instead of 40 at $10^{-3}$). How much of pretraining's gain is left?

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(1)
probe_clf = text.BertClassifier(config, num_classes=2)
probe_clf.bert.load_state_dict(mlm.bert.state_dict())
for p in probe_clf.bert.parameters():
    p.requires_grad_(False)
train_classifier(probe_clf, x_lab, labelled.labels, epochs=sized(full=20, fast=2), lr=1e-2)
frozen = accuracy(probe_clf, x_neg, negated.labels)
print(f"linear probe on frozen features: {frozen:.3f} vs fine-tuned {results['pretrained']:.3f}")
assert all(p.grad is None for p in probe_clf.bert.parameters())
if not FAST:  # the frozen features alone stay near chance: what transfers needs fine-tuning
    assert abs(frozen - 0.5) < 0.1 and frozen < results["pretrained"] - 0.2

# %% tags=["solution"] jupyter={"source_hidden": true}
print(f"first steps {np.mean(losses[:3]):.2f} vs ln V = ln {len(tok)} = {np.log(len(tok)):.2f}: with weights near zero")
print("every logit is about the same, so the softmax is uniform and each target costs ln V.")
assert abs(np.mean(losses[:3]) - np.log(len(tok))) < 0.6

# %% tags=["solution"] jupyter={"source_hidden": true}
x_test = encode(tok, test.texts, L)
whole = {"pretrained": accuracy(finetuned, x_test, test.labels), "from scratch": accuracy(scratch, x_test, test.labels)}
print({k: round(v, 3) for k, v in whole.items()}, "on all", len(test), "test sentences")
assert 0 <= whole["pretrained"] <= 1 and 0 <= whole["from scratch"] <= 1
if not FAST:  # the easy sentences lift both, the gap stays: pretraining helps everywhere
    assert whole["pretrained"] > whole["from scratch"] + 0.15 and whole["from scratch"] >= results["from scratch"]

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(1)
short = text.BertClassifier(config, num_classes=2)
short.bert.load_state_dict({k[len("bert.") :]: v for k, v in saved.items() if k.startswith("bert.")})
short_epochs = sized(full=20, fast=1)  # half the epochs of the fine-tuning above (fast mode: 1 of its 2)
train_classifier(short, x_lab, labelled.labels, epochs=short_epochs, lr=5e-4)
short_acc = accuracy(short, x_neg, negated.labels)
left = short_acc - results["from scratch"]
print(f"{short_epochs} epochs at 5e-4: {short_acc:.3f} on negated sentences, {100 * left:.1f} points over from scratch")
print(f"({epochs} epochs at 1e-3: {100 * gain['from scratch']:.1f} points): fine-tuning needs its steps, too")
assert 0 <= short_acc <= 1
if not FAST:
    assert left < gain["from scratch"]  # a quarter of the budget (half the steps, half the rate) keeps less
