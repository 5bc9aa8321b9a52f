"""The operations, one family per file; each op is a Function with forward, backward and its math.

- elementwise.py: add mul div pow exp log sqrt sin cos abs clamp maximum ... and ``unbroadcast``
- activation.py: tanh sigmoid relu leaky_relu gelu
- reduce.py: sum amax logsumexp softmax log_softmax
- movement.py: reshape permute expand getitem gather cat where copy
- matmul.py: matmul (through the kernel table)
- conv.py: conv2d max_pool2d avg_pool2d (through the kernel table)
- norm.py: layer_norm batch_norm (one Normalize Function)
- loss.py: cross_entropy nll_loss binary_cross_entropy(_with_logits) mse_loss
"""

from .elementwise import unbroadcast

__all__ = ["unbroadcast"]
