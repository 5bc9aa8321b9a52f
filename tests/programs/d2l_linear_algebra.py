# The PyTorch code of Dive into Deep Learning (github.com/d2l-ai/d2l-en, commit 23d7a5a), chapter_preliminaries/linear-algebra.md: its code
# cells for the PyTorch tab in order (the `if tab.selected(...)` branches resolved for PyTorch, as the book's
# PyTorch notebooks have them; Jupyter's %-magics dropped), under the book's MIT-0 sample-code licence:
#
# Copyright 2019 Amazon.com, Inc. or its affiliates. All Rights Reserved.
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of this
# software and associated documentation files (the "Software"), to deal in the Software
# without restriction, including without limitation the rights to use, copy, modify,
# merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
# permit persons to whom the Software is furnished to do so.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
# INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
# PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
# HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
# OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
# SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
#
# Changes: the imports (tinygrad_edu for torch; d2l_torch, our trimmed copy of the d2l 1.0.3 helper library,
# for `from d2l import torch as d2l`); a cell's last bare expression, which the notebook displays, is printed
# (marked 'displayed'). Nothing else. Run by d2l_run.py, which reports what the chapter trained.
import tinygrad_edu as torch

x = torch.tensor(3.0)
y = torch.tensor(2.0)

print(x + y, x * y, x / y, x**y)  # displayed

x = torch.arange(3)
print(x)  # displayed

print(x[2])  # displayed

print(len(x))  # displayed

print(x.shape)  # displayed

A = torch.arange(6).reshape(3, 2)
print(A)  # displayed

print(A.T)  # displayed

A = torch.tensor([[1, 2, 3], [2, 0, 4], [3, 4, 5]])
print(A == A.T)  # displayed

print(torch.arange(24).reshape(2, 3, 4))  # displayed

A = torch.arange(6, dtype=torch.float32).reshape(2, 3)
B = A.clone()  # Assign a copy of A to B by allocating new memory
print(A, A + B)  # displayed

print(A * B)  # displayed

a = 2
X = torch.arange(24).reshape(2, 3, 4)
print(a + X, (a * X).shape)  # displayed

x = torch.arange(3, dtype=torch.float32)
print(x, x.sum())  # displayed

print(A.shape, A.sum())  # displayed

print(A.shape, A.sum(axis=0).shape)  # displayed

print(A.shape, A.sum(axis=1).shape)  # displayed

print(A.sum(axis=[0, 1]) == A.sum())  # Same as A.sum()

print(A.mean(), A.sum() / A.numel())  # displayed

print(A.mean(axis=0), A.sum(axis=0) / A.shape[0])  # displayed

sum_A = A.sum(axis=1, keepdims=True)
print(sum_A, sum_A.shape)  # displayed

print(A / sum_A)  # displayed

print(A.cumsum(axis=0))  # displayed

y = torch.ones(3, dtype = torch.float32)
print(x, y, torch.dot(x, y))  # displayed

print(torch.sum(x * y))  # displayed

print(A.shape, x.shape, torch.mv(A, x), A@x)  # displayed

B = torch.ones(3, 4)
print(torch.mm(A, B), A@B)  # displayed

u = torch.tensor([3.0, -4.0])
print(torch.norm(u))  # displayed

print(torch.abs(u).sum())  # displayed

print(torch.norm(torch.ones((4, 9))))  # displayed
