# Adapted from github.com/karpathy/nn-zero-to-hero (commit 73c3fcc), lectures/makemore/makemore_part2_mlp.ipynb, its code cells in
# order, under its MIT licence:
#
# MIT License
#
# Copyright (c) 2022 Andrej Karpathy
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
# documentation files (the "Software"), to deal in the Software without restriction, including without limitation
# the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
# to permit persons to whom the Software is furnished to do so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in all copies or substantial portions of
# the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
# THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
# CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
# IN THE SOFTWARE.
#
# Changes: the torch imports (now tinygrad_edu); the notebook's '%matplotlib inline' line removed (plots are drawn
# and not shown: run with MPLBACKEND=Agg); a cell's last bare expression, which the notebook displays, is printed
# (marked 'displayed'); names.txt is the stand-in names_generate.py writes (no network here); the 200,000 steps
# and the learning-rate drop at step 100,000 read MAKEMORE_STEPS (default 200000, the notebook's; marked 'steps');
# cell 19 dropped: it indexes prob[torch.arange(32), Y], which holds only in the video, where X was built from the
# first 5 names (32 examples); with all the names it raises in PyTorch too (shape mismatch).
import os  # steps

STEPS = int(os.environ.get("MAKEMORE_STEPS", 200000))  # steps

# %% notebook cell 0
import tinygrad_edu as torch
import tinygrad_edu.nn.functional as F
import matplotlib.pyplot as plt # for making figures

# %% notebook cell 1
# read in all the words
words = open('names.txt', 'r').read().splitlines()
print(words[:8])  # displayed

# %% notebook cell 2
print(len(words))  # displayed

# %% notebook cell 3
# build the vocabulary of characters and mappings to/from integers
chars = sorted(list(set(''.join(words))))
stoi = {s:i+1 for i,s in enumerate(chars)}
stoi['.'] = 0
itos = {i:s for s,i in stoi.items()}
print(itos)

# %% notebook cell 4
# build the dataset

block_size = 3 # context length: how many characters do we take to predict the next one?
X, Y = [], []
for w in words:
  
  #print(w)
  context = [0] * block_size
  for ch in w + '.':
    ix = stoi[ch]
    X.append(context)
    Y.append(ix)
    #print(''.join(itos[i] for i in context), '--->', itos[ix])
    context = context[1:] + [ix] # crop and append
  
X = torch.tensor(X)
Y = torch.tensor(Y)

# %% notebook cell 5
print(X.shape, X.dtype, Y.shape, Y.dtype)  # displayed

# %% notebook cell 6
# build the dataset
block_size = 3 # context length: how many characters do we take to predict the next one?

def build_dataset(words):  
  X, Y = [], []
  for w in words:

    #print(w)
    context = [0] * block_size
    for ch in w + '.':
      ix = stoi[ch]
      X.append(context)
      Y.append(ix)
      #print(''.join(itos[i] for i in context), '--->', itos[ix])
      context = context[1:] + [ix] # crop and append

  X = torch.tensor(X)
  Y = torch.tensor(Y)
  print(X.shape, Y.shape)
  return X, Y

import random
random.seed(42)
random.shuffle(words)
n1 = int(0.8*len(words))
n2 = int(0.9*len(words))

Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:n2])
Xte, Yte = build_dataset(words[n2:])

# %% notebook cell 7
C = torch.randn((27, 2))

# %% notebook cell 8
emb = C[X]
print(emb.shape)  # displayed

# %% notebook cell 9
W1 = torch.randn((6, 100))
b1 = torch.randn(100)

# %% notebook cell 10
h = torch.tanh(emb.view(-1, 6) @ W1 + b1)

# %% notebook cell 11
print(h)  # displayed

# %% notebook cell 12
print(h.shape)  # displayed

# %% notebook cell 13
W2 = torch.randn((100, 27))
b2 = torch.randn(27)

# %% notebook cell 14
logits = h @ W2 + b2

# %% notebook cell 15
print(logits.shape)  # displayed

# %% notebook cell 16
counts = logits.exp()

# %% notebook cell 17
prob = counts / counts.sum(1, keepdims=True)

# %% notebook cell 18
print(prob.shape)  # displayed

# %% notebook cell 19: dropped (see the header)

# %% notebook cell 20
# ------------ now made respectable :) ---------------

# %% notebook cell 21
print(Xtr.shape, Ytr.shape) # dataset

# %% notebook cell 22
g = torch.Generator().manual_seed(2147483647) # for reproducibility
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g)
b1 = torch.randn(200, generator=g)
W2 = torch.randn((200, 27), generator=g)
b2 = torch.randn(27, generator=g)
parameters = [C, W1, b1, W2, b2]

# %% notebook cell 23
print(sum(p.nelement() for p in parameters)) # number of parameters in total

# %% notebook cell 24
for p in parameters:
  p.requires_grad = True

# %% notebook cell 25
lre = torch.linspace(-3, 0, 1000)
lrs = 10**lre

# %% notebook cell 26
lri = []
lossi = []
stepi = []

# %% notebook cell 27
for i in range(STEPS):  # steps
  
  # minibatch construct
  ix = torch.randint(0, Xtr.shape[0], (32,))
  
  # forward pass
  emb = C[Xtr[ix]] # (32, 3, 10)
  h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 200)
  logits = h @ W2 + b2 # (32, 27)
  loss = F.cross_entropy(logits, Ytr[ix])
  #print(loss.item())
  
  # backward pass
  for p in parameters:
    p.grad = None
  loss.backward()
  
  # update
  #lr = lrs[i]
  lr = 0.1 if i < STEPS // 2 else 0.01  # steps
  for p in parameters:
    p.data += -lr * p.grad

  # track stats
  #lri.append(lre[i])
  stepi.append(i)
  lossi.append(loss.log10().item())

#print(loss.item())

# %% notebook cell 28
plt.plot(stepi, lossi)

# %% notebook cell 29
emb = C[Xtr] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
loss = F.cross_entropy(logits, Ytr)
print(loss)  # displayed

# %% notebook cell 30
emb = C[Xdev] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
loss = F.cross_entropy(logits, Ydev)
print(loss)  # displayed

# %% notebook cell 31
# visualize dimensions 0 and 1 of the embedding matrix C for all characters
plt.figure(figsize=(8,8))
plt.scatter(C[:,0].data, C[:,1].data, s=200)
for i in range(C.shape[0]):
    plt.text(C[i,0].item(), C[i,1].item(), itos[i], ha="center", va="center", color='white')
plt.grid('minor')

# %% notebook cell 32
# training split, dev/validation split, test split
# 80%, 10%, 10%

# %% notebook cell 33
context = [0] * block_size
print(C[torch.tensor([context])].shape)  # displayed

# %% notebook cell 34


# sample from the model
g = torch.Generator().manual_seed(2147483647 + 10)

for _ in range(20):
    
    out = []
    context = [0] * block_size # initialize with all ...
    while True:
      emb = C[torch.tensor([context])] # (1,block_size,d)
      h = torch.tanh(emb.view(1, -1) @ W1 + b1)
      logits = h @ W2 + b2
      probs = F.softmax(logits, dim=1)
      ix = torch.multinomial(probs, num_samples=1, generator=g).item()
      context = context[1:] + [ix]
      out.append(ix)
      if ix == 0:
        break
    
    print(''.join(itos[i] for i in out))
