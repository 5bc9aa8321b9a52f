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
# # 21 · Text classification with a bag of words
#
# **You will be able to:** turn sentences into bag-of-words and TF-IDF vectors (and check them by hand);
# train the classic text classifier, vocabulary → 500 ReLU → classes, with the PyTorch loop (forward, loss,
# `zero_grad`, `backward`, `step`) and evaluate it in `eval()` mode under `no_grad`; and show, with a pair of
# sentences, exactly where a model that forgets word order must fail: negation and contrast.
#
# **Run time:** about 4 s of CPU time (`TGE_FAST=1`: about 2 s).
#
# The data is **synthetic**: sentences generated from a small grammar (`tinygrad_edu/text/sentiment.py`), such as
# "the plot was not bad" (positive) or "the acting was clever but the script felt dull" (negative). Real reviews
# (IMDb's `aclImdb/train/pos`, `…/neg` folders, or a CSV of text and label) load with `text.load_imdb` and
# `text.load_text_csv`; the grammar's advantage is that we *know* which sentences need the word order.

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import text
from tinygrad_edu.course import show, sized
from tinygrad_edu.data import DataLoader, TensorDataset

tge.manual_seed(0)
train = text.make_sentiment(sized(full=3000, fast=1500), seed=0)
test = text.make_sentiment(1000, seed=1)
for sentence, label, kind in list(zip(train.texts, train.labels, train.kinds))[:6]:
    print(f"{train.classes[label]:>8}  {kind:>8}  {sentence}")

# %% [markdown]
# ## Bag of words
#
# Fix a vocabulary of $V$ words. A text $d$ becomes the vector of its word counts,
#
# $$ x_{d,t} = \#\{\text{occurrences of word } t \text{ in } d\}, \qquad x_d \in \mathbb{R}^V, $$
#
# and nothing else: the order of the words is gone. `CountVectorizer(max_features=1000)` keeps the 1000 most
# frequent training words (the vocabulary is sorted alphabetically, as scikit-learn sorts it). Our grammar has
# fewer than 1000 words, so here $V$ is the whole vocabulary.

# %%
vec = text.CountVectorizer(max_features=1000).fit(train.texts)
x_train, x_test = vec.transform(train.texts), vec.transform(test.texts)
V = x_train.shape[1]
words = vec.get_feature_names_out()
print(f"V = {V} words, e.g. {list(words[:8])}")
row = vec.transform(["the plot was not bad and the cast was not dull"])[0]
print({words[j]: int(row[j]) for j in np.flatnonzero(row)})
assert row[vec.vocabulary_["not"]] == 2 and row[vec.vocabulary_["the"]] == 2 and row.sum() == 11

# %% [markdown]
# TF-IDF weighs each count by how *rare* the word is in the $n$ training texts ($\mathrm{df}(t)$ = how many contain
# $t$), then scales each row to length 1 — scikit-learn's formula with `smooth_idf=True`:
#
# $$ \mathrm{idf}(t) = \ln\frac{1 + n}{1 + \mathrm{df}(t)} + 1, \qquad
#    x_{d,t} = \frac{\mathrm{tf}(t,d)\,\mathrm{idf}(t)}{\lVert \mathrm{tf}(\cdot,d)\,\mathrm{idf} \rVert_2}. $$
#
# "the" is in every sentence, so its idf is the smallest possible, 1; a rare adjective gets a large one.

# %%
from tinygrad_edu.course import quote

quote(text.TfidfVectorizer._fitted)
tfidf = text.TfidfVectorizer().fit(train.texts)
n = len(train.texts)
df_not = sum("not" in text.word_tokenize(t) for t in train.texts)
idf_not = np.log((1 + n) / (1 + df_not)) + 1
assert np.isclose(tfidf.idf_[tfidf.vocabulary_["not"]], idf_not, rtol=1e-6)
assert np.isclose(tfidf.idf_[tfidf.vocabulary_["the"]], 1.0)
one = tfidf.transform(["the plot was not bad"])[0]
by_hand = vec.transform(["the plot was not bad"])[0] * tfidf.idf_
assert np.allclose(one, by_hand / np.linalg.norm(by_hand), atol=1e-6)
print(f"idf(not) = ln({1 + n}/{1 + df_not}) + 1 = {idf_not:.4f};  idf(the) = 1")

# %% [markdown]
# ## The classifier and the PyTorch loop
#
# The seed network of this part of the course: $V \to 500$ (ReLU) $\to 2$ classes, logits into cross-entropy,
# Adam with learning rate $10^{-3}$:
#
# $$ \text{logits} = W_2\,\mathrm{relu}(W_1 x + b_1) + b_2, \qquad
#    \mathcal{L} = -\frac{1}{N}\sum_i \log \mathrm{softmax}(\text{logits}_i)_{y_i}. $$
#
# The loop is the five lines every PyTorch program has; evaluation switches the model to `eval()` (no dropout, none
# here, but the habit matters) and runs under `no_grad()`, so no graph is built.

# %%
model = text.BagOfWordsMLP(V, hidden=500, num_classes=2)
print(model, f"\n{sum(p.numel() for p in model.parameters()):,} parameters  (= {V}·500 + 500 + 500·2 + 2)")
assert sum(p.numel() for p in model.parameters()) == V * 500 + 500 + 500 * 2 + 2
opt = tge.optim.Adam(model.parameters(), lr=1e-3)
loader = DataLoader(TensorDataset(x_train, train.labels), batch_size=32, shuffle=True, seed=0)


def evaluate(model, x, y):
    """Accuracy in eval mode, without a graph."""
    model.eval()
    with tge.no_grad():
        predicted = model(tge.tensor(x)).argmax(dim=1).numpy()
    model.train()
    return float((predicted == y).mean()), predicted


history = []
for epoch in range(sized(full=15, fast=6)):
    total = 0.0
    for xb, yb in loader:
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(yb)
    row = (total / len(train), evaluate(model, x_train, train.labels)[0], evaluate(model, x_test, test.labels)[0])
    history.append(row)
    print(f"epoch {epoch + 1:2d}  loss {row[0]:.4f}  train acc {row[1]:.3f}  test acc {row[2]:.3f}")
test_acc, predicted = evaluate(model, x_test, test.labels)
assert history[-1][0] < history[0][0] and test_acc > sized(full=0.65, fast=0.58)

# %% [markdown]
# ## Where a bag of words fails
#
# Split the test accuracy by the kind of sentence. One-clause sentences without "not", and "… and …" sentences
# (both clauses agree), are easy. Negated clauses need the *pair* (not, adjective), which a ReLU layer can learn
# only partly. "A but B" (B decides) and "A although B" (A decides) are hopeless: "A but B" and "B but A" have the
# **same** bag of words and **opposite** labels.

# %%
kinds = np.array(test.kinds)
groups = {"single": (kinds == "single") & ~test.negated, "single + not": (kinds == "single") & test.negated,
          "and": kinds == "and", "but": kinds == "but", "although": kinds == "although"}  # fmt: skip
by_group = {g: float((predicted[m] == test.labels[m]).mean()) for g, m in groups.items()}
for g, acc in by_group.items():
    print(f"{g:>13}: {acc:.3f}  ({groups[g].sum()} sentences)")
assert by_group["single"] > 0.85 and max(by_group["but"], by_group["although"]) < 0.7

a = "the plot was clever but the script felt dull"
b = text.swap_clauses(a)
with tge.no_grad():
    logits = model(tge.tensor(vec.transform([a, b]))).numpy()
print(f"{a!r} (negative) and {b!r} (positive) →\n  the same input, the same logits: {logits.round(3).tolist()}")
assert (vec.transform([a]) == vec.transform([b])).all() and np.allclose(logits[0], logits[1])

fig = Figure(figsize=(10, 3.6))
ax1, ax2 = fig.subplots(1, 2)
epochs = np.arange(1, len(history) + 1)
ax1.plot(epochs, [h[1] for h in history], label="train")
ax1.plot(epochs, [h[2] for h in history], label="test")
ax1.set(title="Bag of words: accuracy per epoch", xlabel="epoch", ylabel="accuracy")
ax1.legend()
ax2.bar(list(by_group), list(by_group.values()), color=["tab:green", "tab:orange", "tab:green", "tab:red", "tab:red"])
ax2.axhline(0.5, color="grey", linestyle=":")
ax2.set(title="Test accuracy by kind of sentence", xlabel="kind", ylabel="accuracy", ylim=(0, 1))
show(fig, "21_bag_of_words.png")

# %% [markdown]
# Even with unlimited data the bag of words has a ceiling below 100 %: half of the contrast sentences come in both
# orders. The next lessons build models that read the order — tokenizers (22), then a tiny BERT (23) that also
# learns from unlabelled text first.
#
# ## Exercises
#
# 1. Add **bigrams** (pairs of neighbouring words) to the vocabulary by hand, retrain, and compare the accuracy on
#    "single + not" and on "but". Which failures do bigrams reduce, and why not entirely?
# 2. Train the same network on **TF-IDF** vectors instead of counts. Does the accuracy change much?
# 3. Remove the hidden layer (logistic regression, `nn.Linear(V, 2)`). Why can it not learn "not bad" = positive
#    and "not good" = negative at the same time?


# %% tags=["solution"] jupyter={"source_hidden": true}
def bigrams(t):
    w = text.word_tokenize(t)
    return w + [f"{p}_{q}" for p, q in zip(w, w[1:])]


vec2 = text.CountVectorizer(tokenizer=bigrams).fit(train.texts)
tge.manual_seed(0)
m2 = text.BagOfWordsMLP(len(vec2.vocabulary_), 500, 2)
from tinygrad_edu.text.training import accuracy, predict, train_classifier

train_classifier(m2, vec2.transform(train.texts), train.labels, epochs=sized(full=10, fast=5), pad_id=None)
p2 = predict(m2, vec2.transform(test.texts))
neg2 = float((p2[groups["single + not"]] == test.labels[groups["single + not"]]).mean())
but2 = float((p2[groups["but"]] == test.labels[groups["but"]]).mean())
print(f"bigrams: single + not {neg2:.3f} (was {by_group['single + not']:.3f}), ", end="")
print(f"but {but2:.3f} (was {by_group['but']:.3f})")
print("'not_bad' is one feature, and so is 'dull_but': the adjective just before 'but' belongs to the first clause,")
print("whose polarity is the opposite of the label. Bigrams recover part of the order, not all of it: 'not very good',")
print("'clever and fresh but ...' put the telling word two or more places away.")
assert but2 > by_group["but"] + 0.03 and but2 < 0.95

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(0)
m3 = text.BagOfWordsMLP(V, 500, 2)
train_classifier(m3, tfidf.transform(train.texts), train.labels, epochs=sized(full=10, fast=5), pad_id=None)
acc3 = accuracy(m3, tfidf.transform(test.texts), test.labels)
print(f"TF-IDF: test accuracy {acc3:.3f} vs counts {test_acc:.3f}: the weighting cannot bring back the order")
assert abs(acc3 - test_acc) < 0.1

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(0)
m4 = tge.nn.Linear(V, 2)
train_classifier(m4, x_train, train.labels, epochs=sized(full=15, fast=6), lr=1e-2, pad_id=None)
p4 = predict(m4, x_test)
neg4 = float((p4[groups["single + not"]] == test.labels[groups["single + not"]]).mean())
print(f"logistic regression on 'single + not': {neg4:.3f}. Its score is a sum of one weight per word, so 'not' adds")
print("the same amount to 'not good' and to 'not bad': it cannot flip the adjective's sign (XOR needs a hidden layer).")
assert neg4 < 0.8
