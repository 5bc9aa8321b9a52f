"""Random numbers: ``tge.Generator`` objects and the one default generator that ``tge.manual_seed(n)`` seeds.

    g = tge.Generator().manual_seed(0)
    x = tge.randn(3, generator=g)        # draws from g only; the default generator is untouched

Every random function takes ``generator=``; without it, draws come from ``tge.default_generator``
(initial weights, dropout, shuffling...). Draws happen on the host with NumPy's PCG64 and are
copied to the GPU when asked for there, so a seed gives the same numbers on "cpu" and on "cuda"
(but not PyTorch's numbers: the bit generators differ).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .device import Device


def _fresh_seed() -> int:
    """A seed from the operating system's entropy (what an unseeded generator starts from)."""
    return int(np.random.SeedSequence().entropy % (2**63))


class Generator:
    """A source of random numbers with its own state, like ``torch.Generator``.

    ``manual_seed(seed)`` (returns self), ``seed()`` (a fresh seed from the OS, returned),
    ``initial_seed()``, ``get_state()`` / ``set_state(state)`` (the state as a uint8 tensor).
    ``rng`` is the NumPy ``np.random.Generator`` that makes the numbers.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = Device(device)
        self._initial_seed = _fresh_seed()
        self.rng = np.random.default_rng(self._initial_seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed`` (any int; negatives are taken modulo 2⁶⁴ as PyTorch does)."""
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self._initial_seed = int(seed) % 2**64
        self.rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Restart from a fresh non-deterministic seed, and return it."""
        self.manual_seed(_fresh_seed())
        return self._initial_seed

    def initial_seed(self) -> int:
        """The seed this generator last started from."""
        return self._initial_seed

    def get_state(self) -> Any:
        """The whole state, as a uint8 tensor (give it back to ``set_state`` to replay the same draws)."""
        from .tensor import Tensor

        text = json.dumps({"seed": self._initial_seed, "bit_generator": self.rng.bit_generator.state})
        return Tensor(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, state: Any) -> Generator:
        """Restore a state made by ``get_state``."""
        data = bytes(np.asarray(getattr(state, "array", state), dtype=np.uint8))
        try:
            saved = json.loads(data.decode())
            self.rng.bit_generator.state = saved["bit_generator"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError("set_state: this is not a state made by Generator.get_state()") from e
        self._initial_seed = saved["seed"]
        return self

    def __repr__(self) -> str:
        return f"<tinygrad_edu.Generator device={self.device}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (initial weights, dropout, randn, shuffling); returns it, as torch.manual_seed."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically, and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(state: Any) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)


def generator(gen: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``gen`` (the default generator when None): every draw goes through here."""
    if gen is None:
        return default_generator.rng
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be a tge.Generator, got {type(gen).__name__}")
    return gen.rng
