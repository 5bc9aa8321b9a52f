"""Probability distributions with PyTorch's names and paths (``torch.distributions``): sample them, score
values with ``log_prob`` (differentiable in the parameters), and read their mean, variance and entropy.

    from tinygrad_edu.distributions import Normal
    d = Normal(loc, scale)
    x = d.rsample((100,))            # loc + scale · ε, ε ~ N(0, 1): gradients reach loc and scale
    loss = -d.log_prob(data).mean()  # a likelihood to maximise

Each formula is written out in its class; they are compositions of Tensor ops, so their gradients come with them.
"""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .multinomial import Multinomial
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Multinomial", "Normal", "Uniform"]
