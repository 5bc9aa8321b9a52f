"""Functions of whole matrices: inverse, determinant, solve, singular values (batched over leading dims).

Matrix calculus in one rule: for a scalar loss L and Y = f(A), the gradient is the matrix Ā with
dL = Σᵢⱼ Āᵢⱼ dAᵢⱼ = tr(Āᵀ dA). Each backward below writes dY in terms of dA and reads Ā off:

    Y = A⁻¹         dY = −Y dA Y                       Ā = −Yᵀ Ȳ Yᵀ
    y = det A       dy = y · tr(A⁻¹ dA) = tr(adj(A) dA)   Ā = ȳ · adj(A)ᵀ      (adj(A) = det A · A⁻¹)
    X = A⁻¹ B       A dX = dB − dA X                   B̄ = A⁻ᵀ X̄,   Ā = −B̄ Xᵀ
    σ = svdvals(A)  dσᵢ = uᵢᵀ dA vᵢ                     Ā = U diag(σ̄) Vᵀ

The adjugate is taken from the SVD A = U S Vᵀ: adj(A) = det(U) det(V) · V diag(Πⱼ≠ᵢ sⱼ) Uᵀ, which stays
exact when A is singular (det A = 0, yet the gradient is adj(A)ᵀ ≠ 0 for rank n − 1).
"""

from __future__ import annotations

from ..autograd import Function
from ..device import xp_of


def _mT(a):  # noqa: N802 (the matrix transpose of the last two dims)
    return a.swapaxes(-1, -2)


def adjugate(a):
    """adj(A), batched, from the SVD (exact also for singular A)."""
    xp = xp_of(a)
    u, s, vt = xp.linalg.svd(a)
    n = s.shape[-1]
    others = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1) if n > 1 else s * 0 + 1
    sign = xp.linalg.det(u) * xp.linalg.det(vt)
    return sign[..., None, None] * ((_mT(vt) * others[..., None, :]) @ _mT(u))


class Inverse(Function):
    """Y = A⁻¹ (square, batched)        dA = −Yᵀ dY Yᵀ"""

    @staticmethod
    def forward(ctx, a):
        y = xp_of(a).linalg.inv(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return -(_mT(y) @ dy @ _mT(y))


class Det(Function):
    """y = det A (square, batched)        dA = dy · adj(A)ᵀ   (= dy · y · A⁻ᵀ when A is invertible)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).linalg.det(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved_tensors
        return dy[..., None, None] * _mT(adjugate(a))


class Solve(Function):
    """X = A⁻¹ B, i.e. A X = B (B a vector (…, n) or a matrix (…, n, k))

    dB = A⁻ᵀ dX (one more solve, with the transposed matrix);   dA = −dB Xᵀ
    """

    @staticmethod
    def forward(ctx, a, b, vector):
        xp = xp_of(a)
        x = xp.linalg.solve(a, b[..., None])[..., 0] if vector else xp.linalg.solve(a, b)
        ctx.save_for_backward(a, x)
        ctx.vector = vector
        return x

    @staticmethod
    def backward(ctx, dx):
        a, x = ctx.saved_tensors
        xp = xp_of(a)
        if ctx.vector:
            db = xp.linalg.solve(_mT(a), dx[..., None])[..., 0]
            da = -db[..., :, None] * x[..., None, :]
        else:
            db = xp.linalg.solve(_mT(a), dx)
            da = -(db @ _mT(x))
        return da, db, None


class SVDVals(Function):
    """σ = the singular values of A (descending), batched        dA = U diag(dσ) Vᵀ  (reduced SVD)"""

    @staticmethod
    def forward(ctx, a):
        u, s, vt = xp_of(a).linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vt)
        return s

    @staticmethod
    def backward(ctx, ds):
        u, vt = ctx.saved_tensors
        return (u * ds[..., None, :]) @ vt
