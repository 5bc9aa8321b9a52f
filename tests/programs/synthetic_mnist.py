"""The stand-in for torchvision's MNIST that the adapted example programs use (no network here).

Images (1, 28, 28) of noise with a bright bar whose row is the label, so that there is something to learn;
``normalized=True`` applies MNIST's usual (x − 0.1307) / 0.3081, as the examples' transforms do.
"""

import tinygrad_edu as torch


def synthetic_mnist(n, seed, normalized=True):
    """A TensorDataset of n (image, label) pairs, the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    for k in range(10):
        images[labels == k, :, 2 * k + 4, 4:24] += 0.7
    return torch.utils.data.TensorDataset((images - 0.1307) / 0.3081 if normalized else images, labels)
