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
# # 22 · Tokenizers: words, byte-pair encoding, padding and attention masks
#
# **You will be able to:** build a word vocabulary with `min_freq` and the special tokens
# `<pad> <unk> <cls> <sep> <mask>`; learn byte-pair-encoding merges from pair counts by hand and check them against
# the library's trainer; encode and decode so that the text comes back; and batch sentences of different lengths
# with padding, truncation and an attention mask, the way `tokenizer(texts, padding=True, truncation=True,
# max_length=n)` works in the libraries you will use next.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).

# %%
from collections import Counter

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu import text
from tinygrad_edu.course import quote, show, sized

corpus = text.make_sentiment(sized(full=2000, fast=800), seed=0).texts + [
    "The plot wasn't bad, really!", "Newest, widest, lowest."]  # fmt: skip

# %% [markdown]
# ## Words and a vocabulary
#
# A word tokenizer lower-cases the text and splits it with one regular expression: a run of letters/digits (with
# inner apostrophes, "wasn't") or a single punctuation mark. The vocabulary maps each kept word to an id: the five
# special tokens first (`<pad>` = 0, so padding is the zero id), then the words by frequency. Words seen fewer than
# `min_freq` times, and words never seen, become `<unk>`.

# %%
quote(text.word_tokenize)
print(text.word_tokenize("The plot wasn't bad, really!"))
assert text.word_tokenize("The plot wasn't bad, really!") == ["the", "plot", "wasn't", "bad", ",", "really", "!"]

tok = text.WordTokenizer.from_texts(corpus, min_freq=2)
print(tok, tok.vocab)
assert tok.vocab.itos[:5] == ["<pad>", "<unk>", "<cls>", "<sep>", "<mask>"]
counts = Counter(w for t in corpus for w in text.word_tokenize(t))
assert "wasn't" not in tok.vocab and counts["wasn't"] == 1  # seen once < min_freq = 2
assert tok.vocab.itos[5] == counts.most_common(1)[0][0] == "the"
ids = tok.encode("The plot wasn't bad")
print(ids, "→", tok.convert_ids_to_tokens(ids), "→", repr(tok.decode(ids)))
assert tok.decode(ids) == "the plot <unk> bad"

# %% [markdown]
# ## Byte-pair encoding, step by step
#
# A word vocabulary has no answer for a word it never saw. BPE (Sennrich et al., 2016) starts from characters and
# learns which neighbours to glue together. Each word is split into characters, the last one marked `</w>`, and
# counted with its frequency $f(w)$. Then, repeatedly:
#
# $$ \text{count}(a, b) = \sum_{w} f(w)\cdot\#\{\text{positions where } a \text{ is followed by } b \text{ in } w\},
#    \qquad (a^*, b^*) = \arg\max_{(a,b)} \text{count}(a, b), $$
#
# and every $a^*\,b^*$ becomes the single symbol $a^*b^*$. The list of merges, in order, *is* the tokenizer.
# Here is the classic example, by hand:

# %%
words = {("l", "o", "w</w>"): 5, ("l", "o", "w", "e", "r</w>"): 2, ("n", "e", "w", "e", "s", "t</w>"): 6,
         ("w", "i", "d", "e", "s", "t</w>"): 3}  # fmt: skip
merges_by_hand = []
for step in range(4):
    pairs = Counter()
    for symbols, f in words.items():
        for a, b in zip(symbols, symbols[1:]):
            pairs[a, b] += f
    best = min(pairs, key=lambda p: (-pairs[p], p))  # the most frequent; ties alphabetically
    merges_by_hand.append(best)
    words = {text.merge_pair(best, s): f for s, f in words.items()}
    print(f"merge {step + 1}: {best} (count {pairs[best]})  →  {[' '.join(s) for s in words]}")
assert merges_by_hand[:3] == [("e", "s"), ("es", "t</w>"), ("l", "o")]

learned, _ = text.train_bpe(["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3], num_merges=4)
assert learned == merges_by_hand  # the library's trainer does exactly these steps
quote(text.train_bpe)

# %% [markdown]
# Encoding a new word replays the merges in the order they were learned: take the adjacent pair with the earliest
# merge, glue it, repeat until no learned pair is left. A word seen often in training becomes one token; a word never
# seen falls apart into known pieces instead of becoming `<unk>`. Decoding concatenates the pieces and turns each
# `</w>` back into a space, so **decode(encode(text)) gives the words back**.

# %%
bpe = text.BPETokenizer.train(corpus, vocab_size=sized(full=200, fast=150))
print(bpe, "first merges:", bpe.merges[:6])
for word in ["the", "boring", "lowest", "unforgettable"]:
    print(f"{word!r:>16} → {bpe.bpe(word)}")
sample = "the plot was unforgettable but the acting felt wooden"
assert bpe.decode(bpe.encode(sample)) == sample
assert bpe.unk_token_id not in bpe.encode(sample)  # every piece is known
assert tok.unk_token_id in tok.encode(sample)  # while the word tokenizer loses "unforgettable", "wooden"

# %% [markdown]
# How many tokens a sentence costs depends on the vocabulary size: few merges mean many short pieces, many merges
# approach one token per word. The figure measures the average tokens per word on the corpus as merges are added.

# %%
sizes = sized(full=[70, 90, 120, 160, 200, 300, 400], fast=[70, 120, 200, 400])
held_out = text.make_sentiment(200, seed=5).texts
per_word = []
for size in sizes:
    b = text.BPETokenizer.train(corpus, vocab_size=size)
    n_tokens = sum(len(b.tokenize(t)) for t in held_out)
    per_word.append(n_tokens / sum(len(text.word_tokenize(t)) for t in held_out))
print([f"{s}: {p:.2f}" for s, p in zip(sizes, per_word)])
assert per_word[0] > 2 and per_word[-1] < 1.3 and all(np.diff(per_word) <= 1e-9)

# %% [markdown]
# ## A batch: padding, truncation, attention mask
#
# A model takes a rectangular batch, but sentences have different lengths. The tokenizer adds `<cls>` at the start
# and `<sep>` at the end, **truncates** to `max_length` tokens and **pads** the short ones with `<pad>` (id 0). The
# **attention mask** says which positions are real: $m_{i,t} = 1$ for a token, $0$ for padding. Attention then adds
# $-\infty$ to the scores of padded keys, so
#
# $$ \alpha_{t,s} = \frac{m_s\, e^{q_t\cdot k_s/\sqrt{d}}}{\sum_{s'} m_{s'}\, e^{q_t\cdot k_{s'}/\sqrt{d}}} $$
#
# and padding gets exactly zero weight: the output for a sentence does not depend on how much padding its batch needed.

# %%
batch = tok(["the plot was good", "the acting was not bad but the ending was very dull", "boring"],
            padding=True, truncation=True, max_length=10)  # fmt: skip
print(batch["input_ids"])
print(batch["attention_mask"])
ids_np, mask_np = batch["input_ids"].numpy(), batch["attention_mask"].numpy()
assert ids_np.shape == (3, 10) and (mask_np == (ids_np != 0)).all()
assert ids_np[1, -1] == tok.sep_token_id  # truncated, but still ends with <sep>
padded = tok(["the plot was good"], padding="max_length", max_length=16)
assert padded["input_ids"].shape == (1, 16) and padded["attention_mask"].numpy().sum() == 6

attn = tge.nn.MultiheadAttention(16, 2, batch_first=True).eval()
emb = tge.nn.Embedding(len(tok), 16)
short = tok(["the plot was good"], padding="max_length", max_length=6)
long = tok(["the plot was good"], padding="max_length", max_length=12)
outs = []
for b in (short, long):
    x = emb(b["input_ids"])
    out, w = attn(x, x, x, key_padding_mask=b["attention_mask"].numpy() == 0)
    outs.append(out.numpy()[0, :6])
assert np.allclose(outs[0], outs[1], atol=1e-6) and np.allclose(w.numpy()[0, :, 6:], 0)
print("the same six outputs with 0 or 6 padding positions; padded keys get weight", w.numpy()[0, :, 6:].max())

fig = Figure(figsize=(10, 3.4))
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(sizes, per_word, marker="o", label="BPE")
ax1.axhline(1.0, color="grey", linestyle=":", label="one token per word")
ax1.set(title="BPE: tokens per word vs vocabulary size", xlabel="vocabulary size", ylabel="tokens per word")
ax1.legend()
ax2.imshow(mask_np, cmap="Greens", vmin=0, vmax=1)
ax2.set(title="attention_mask of the batch (1 = token, 0 = <pad>)", xlabel="position", ylabel="sentence")
show(fig, "22_tokenizers.png")

# %% [markdown]
# ## Exercises
#
# 1. Train BPE with `lowercase=False` on the corpus. How does the vocabulary change, and what happens to
#    "The" versus "the"?
# 2. Encode a pair of sentences `tok(a, text_pair=b)`. What do `token_type_ids` hold, and where does BERT use them?
# 3. With a vocabulary from only 40 sentences, `min_freq=1` versus `min_freq=4`: how many test words become
#    `<unk>`? Why is a larger `min_freq` sometimes better for a classifier?

# %% tags=["solution"] jupyter={"source_hidden": true}
cased = text.BPETokenizer.train(corpus, vocab_size=200, lowercase=False)
print(cased.tokenize("The plot"), "vs", bpe.tokenize("The plot"))
print("'T' is a different character from 't', so the cased tokenizer spends merges on both forms,")
print("and 'The' (rare at the start of our sentences) falls into pieces while 'the' is one token.")
assert cased.tokenize("The plot") != bpe.tokenize("The plot") and bpe.tokenize("The") == bpe.tokenize("the")

# %% tags=["solution"] jupyter={"source_hidden": true}
pair = tok("the plot was good", text_pair="the ending was dull")
print(tok.convert_ids_to_tokens(pair["input_ids"].numpy()[0]))
print(pair["token_type_ids"].numpy()[0])
print("0 for the first segment (with <cls> and its <sep>), 1 for the second: BERT adds a segment embedding per")
print("position, which is how it tells question from passage, or sentence A from sentence B.")
assert pair["token_type_ids"].numpy()[0].tolist() == [0] * 6 + [1] * 5

# %% tags=["solution"] jupyter={"source_hidden": true}
test_texts = text.make_sentiment(300, seed=9).texts
shares = []
for k in (1, 4):
    t = text.WordTokenizer.from_texts(corpus[:40], min_freq=k)
    ids = [i for s in test_texts for i in t.encode(s, add_special_tokens=False)]
    share = np.mean(np.array(ids) == t.unk_token_id)
    shares.append(share)
    print(f"min_freq={k}: vocabulary {len(t)}, unknown test tokens {share:.2%}")
print("Rare training words get few, noisy gradient updates; mapping them to <unk> gives one shared, well-trained row.")
assert shares[1] > shares[0]
