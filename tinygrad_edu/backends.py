"""``tge.backends``: the switches PyTorch programs check or set, ``backends.mps.is_available()``,
``backends.cudnn.benchmark = True``...

tinygrad_edu has no Apple-GPU (MPS) backend and no cuDNN, so the checks answer False and the
switches are plain attributes that change nothing (kept so that PyTorch code runs unchanged).
"""

from __future__ import annotations

from types import SimpleNamespace


def _false() -> bool:
    """False: this backend does not exist in tinygrad_edu."""
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=False, is_available=_false)
mkldnn = SimpleNamespace(is_available=_false, enabled=False)
openmp = SimpleNamespace(is_available=_false)

__all__ = ["cudnn", "mkldnn", "mps", "openmp"]
