"""Linear algebra beyond matmul: einsum (any sum of products written in index notation) and the p-norm.

einsum's backward is einsum again. For ``z = einsum("ij,jk->ik", x, y)``, each xᵢⱼ meets yⱼₖ in
the sum for zᵢₖ, so ``dx = einsum("ik,jk->ij", dz, y)``: the gradient of an operand is the product
of dz with all the *other* operands, indexed back to that operand's letters. Letters that only
that operand had were summed away in forward; their gradient is dz broadcast along them.
"""

from __future__ import annotations

import string

from ..autograd import Function
from ..device import xp_of


def parse_equation(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's letters and the output's, with "..." spelled out as capital letters and the
    implicit output (no "->": the letters used once, alphabetically) made explicit.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise RuntimeError(f"einsum(): {equation!r} has {len(inputs)} operands but {len(shapes)} tensors were given")
    spare = [c for c in string.ascii_uppercase if c not in eq]
    batch = max((len(s) - (len(sub) - 3) for sub, s in zip(inputs, shapes) if "..." in sub), default=0)
    ell = "".join(spare[:batch])
    subs = []
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            n = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ell[batch - n :] if n else "")
        if len(sub) != len(shape):
            raise RuntimeError(
                f"einsum(): the operand {sub!r} has {len(sub)} letters for a tensor with {len(shape)} dims"
            )
        subs.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return subs, out


class Einsum(Function):
    """z = einsum(subs → out, x₁, …, xₙ)         dxₖ = einsum(out, subs of the others → subsₖ, dz, x_others)

    (then broadcast along letters only xₖ had, summed over batch dims xₖ broadcast, and written onto the
    diagonal when xₖ repeats a letter, as in "ii->i").
    """

    @staticmethod
    def forward(ctx, subs, out, *xs):
        xp = xp_of(xs[0])
        ctx.save_for_backward(*xs)
        ctx.subs, ctx.out = subs, out
        return xp.einsum(",".join(subs) + "->" + out, *xs, optimize=len(xs) > 2)

    @staticmethod
    def backward(ctx, dz):
        xs, subs = ctx.saved_tensors, ctx.subs
        xp = xp_of(dz)
        grads = []
        for k, (sub, x) in enumerate(zip(subs, xs)):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(subs, xs)) if j != k] + [(ctx.out, dz)]
            seen = set("".join(s for s, _ in others))
            unique = list(dict.fromkeys(sub))
            kept = [c for c in unique if c in seen]
            g = xp.einsum(",".join(s for s, _ in others) + "->" + "".join(kept), *(a for _, a in others))
            own = {c: x.shape[sub.index(c)] for c in unique}
            g = g.reshape([g.shape[kept.index(c)] if c in kept else 1 for c in unique])  # letters in unique order
            summed = tuple(i for i, c in enumerate(unique) if own[c] == 1 and g.shape[i] != 1)
            if summed:
                g = g.sum(axis=summed, keepdims=True)
            g = xp.broadcast_to(g, [own[c] for c in unique])
            if len(unique) == len(sub):
                dx = g.astype(x.dtype, copy=True)
            else:  # a repeated letter: write g onto the diagonal
                dx = xp.zeros(x.shape, dtype=x.dtype)
                grids = [
                    xp.arange(own[c]).reshape([-1 if i == u else 1 for i in range(len(unique))])
                    for u, c in enumerate(unique)
                ]
                dx[tuple(grids[unique.index(c)] for c in sub)] = g
            grads.append(dx)
        return (None, None, *grads)


class PNorm(Function):
    """y = (Σ |xᵢ|ᵖ)^(1/p) over the axes       dx = dy · sign(x) |x|^(p−1) / y^(p−1)   (0 where y = 0)

    For p = 2 that is dy · x / y: the gradient of a length is the unit vector. At y = 0 the norm has
    no derivative; 0 is used, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = xp_of(x)
        a = xp.abs(x)
        y = (
            xp.sqrt((a * a).sum(axis=axes, keepdims=True))
            if p == 2
            else (a**p).sum(axis=axes, keepdims=True) ** (1 / p)
        )
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y if keepdim else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp, p = xp_of(dy), ctx.p
        dy = dy if ctx.keepdim or not ctx.axes else xp.expand_dims(dy, ctx.axes)
        if p == 2:
            dx = dy * x / y
        else:
            dx = dy * xp.sign(x) * xp.abs(x) ** (p - 1) / y ** (p - 1)
        return xp.where(y == 0, 0, dx).astype(x.dtype, copy=False), None, None, None
