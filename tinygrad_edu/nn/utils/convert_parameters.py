"""All parameters as one vector and back (``nn.utils.parameters_to_vector`` / ``vector_to_parameters``).

Handy for methods that see the weights as one point θ ∈ ℝⁿ (line searches, second-order methods, weight averaging).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor
from ...tensor_shape import cat


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (in iteration order), differentiable."""
    flat = [p.reshape(-1) for p in parameters]
    if not flat:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of tensors")
    devices = {p.device for p in flat}
    if len(devices) > 1:
        raise TypeError(f"parameters_to_vector: found parameters on different devices {sorted(map(str, devices))}")
    return cat(flat)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's numbers the next slice of ``vec`` (the inverse of parameters_to_vector), as PyTorch."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec of shape {vec.shape} does not hold the {total} parameter values")
    offset = 0
    for p in params:
        n = p.numel()
        p.data = vec.array[offset : offset + n].reshape(p.shape)  # a view of vec, as PyTorch's .data swap
        offset += n
