"""Data sets: bundled with scikit-learn (offline), generated, and readers for MNIST / Fashion-MNIST / CIFAR-10 files.

    from tinygrad_edu import datasets
    digits = datasets.load_digits()               # the default: 1797 8×8 digits, no download
    X, y = datasets.make_spiral(n=100, classes=3)
    text = datasets.load_text("macbeth")       # a public-domain play as a str, for language models
    train = datasets.mnist("data", download=True) # IDX files in data/MNIST/raw

Every loading problem raises a ``DatasetError`` whose message names the file, where it was
expected and the call or command that fixes it.
"""

from .bundled import BundledDataset, load_breast_cancer, load_diabetes, load_digits
from .cifar import CIFAR10, cifar10, extract_tar, read_cifar_batch
from .download import CorruptFileError, DatasetError, DatasetNotFoundError, DownloadError, download_file, md5_of
from .idx import MNIST, FashionMNIST, fashion_mnist, mnist, read_idx
from .synthetic import make_moons, make_spiral
from .text import load_text, text_names

__all__ = [
    "CIFAR10",
    "MNIST",
    "BundledDataset",
    "CorruptFileError",
    "DatasetError",
    "DatasetNotFoundError",
    "DownloadError",
    "FashionMNIST",
    "cifar10",
    "download_file",
    "extract_tar",
    "fashion_mnist",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "load_text",
    "make_moons",
    "make_spiral",
    "md5_of",
    "mnist",
    "read_cifar_batch",
    "read_idx",
    "text_names",
]
