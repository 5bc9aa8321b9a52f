"""Data sets: bundled (scikit-learn), generated, and loaders for MNIST / Fashion-MNIST / CIFAR-10 files."""
