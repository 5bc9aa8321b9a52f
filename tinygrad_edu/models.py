"""Ready-made models: the ones ``tinygrad-edu train --model ...`` and ``tinygrad-edu bench`` build.

Each is a small nn.Module written the way a PyTorch tutorial writes it, so it doubles as an example:

    MLP(64, (128,), 10)            flatten → Linear → ReLU → ... → Linear          (tabular data, digits)
    LeNet(3, 10, image_size=32)    LeNet-5: two 5×5 convs with pools, three Linear  (CIFAR-10, MNIST)
    SmallCNN(1, 10, image_size=8)  two 3×3 convs with pools, one Linear             (the 8×8 digits)
    LogisticRegression(64, 10)     one Linear layer; softmax lives in the loss
    BagOfWordsMLP(V, 500, 2)       word counts → Linear → ReLU → Linear             (text: text/bow.py)
    BertClassifier(BertConfig(V))  a tiny BERT with a head on <cls>                 (text: text/bert.py)

``build_model("mlp" | "lenet" | "logreg" | "bow" | "bert", input_shape, num_classes)`` picks one by
its CLI name for inputs of one sample's shape (``(features,)``, ``(C, H, W)``, or ``(tokens,)`` for
text, whose models also need the ``vocab_size``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from . import nn
from .nn import functional as F
from .tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}
MODEL_NAMES = ("mlp", "lenet", "logreg", "bow", "bert")
TEXT_MODELS = ("bow", "bert")  # models that read token ids


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    """An image size as (H, W): 32 → (32, 32)."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class MLP(nn.Module):
    """A multi-layer perceptron: flatten → Linear → act → ... → Linear (no activation on the output).

    ``MLP(in_features, hidden=(h1, h2, ...), num_classes)`` has one hidden layer per entry of
    ``hidden``; inputs of any shape (N, ...) are flattened to (N, in_features) first.
    Parameters: Σ over consecutive widths (a, b) of a·b + b, e.g.

        MLP(64, (128,), 10)    64·128 + 128 + 128·10 + 10     =   9,610   (the digits default)
        MLP(1000, (500,), 10)  1000·500 + 500 + 500·10 + 10   = 505,510   (the benchmark's seed MLP)

    ``activation`` is one of "relu", "tanh", "sigmoid", "gelu", "leaky_relu".
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int] = (128,), num_classes: int = 10, activation: str = "relu"
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        widths = [in_features, *hidden, num_classes]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:  # every layer but the last is followed by the activation
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, ...) → logits (N, num_classes)."""
        return self.layers(x.flatten(1))


class LeNet(nn.Module):
    """LeNet-5 (LeCun et al., 1998) with ReLU and max-pooling, as PyTorch's tutorials write it.

    For a 3×32×32 image (CIFAR-10)::

        conv1  5×5, 3 → 6       (N, 6, 28, 28)      456 parameters
        relu, max-pool 2        (N, 6, 14, 14)
        conv2  5×5, 6 → 16      (N, 16, 10, 10)   2,416
        relu, max-pool 2        (N, 16, 5, 5)
        flatten                 (N, 400)
        fc1    400 → 120, relu                   48,120
        fc2    120 → 84, relu                    10,164
        fc3    84 → num_classes                     850
                                                 62,006 in all (61,706 for 1×28×28 inputs)

    The original saw 32×32 images; smaller ones (MNIST's 28×28) get padding 2 on conv1, as
    LeCun padded MNIST, so 28×28 gives the same 16×5×5 features. Images need at least 12×12.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int | Sequence[int] = 32) -> None:
        super().__init__()
        h, w = _pair(image_size)
        padding = 2 if min(h, w) < 32 else 0
        # each 5×5 conv takes 4 pixels off a side, each pool halves it (rounding down)
        side_h, side_w = ((h + 2 * padding - 4) // 2 - 4) // 2, ((w + 2 * padding - 4) // 2 - 4) // 2
        if min(side_h, side_w) < 1:
            raise ValueError(f"LeNet: images of {h}×{w} are too small (at least 12×12); use SmallCNN for those")
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * side_h * side_w, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) → logits (N, num_classes)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class SmallCNN(nn.Module):
    """A small CNN for tiny images such as the 8×8 digits.

    For a 1×8×8 image::

        conv1  3×3, 1 → 16, padding 1    (N, 16, 8, 8)     160 parameters
        relu, max-pool 2                 (N, 16, 4, 4)
        conv2  3×3, 16 → 32, padding 1   (N, 32, 4, 4)   4,640
        relu, max-pool 2                 (N, 32, 2, 2)
        flatten                          (N, 128)
        fc     128 → num_classes                         1,290
                                                         6,090 in all

    The padded 3×3 convs keep the size, so only the pools shrink it: (H // 4) × (W // 4) at the end.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int | Sequence[int] = 8) -> None:
        super().__init__()
        h, w = _pair(image_size)
        if min(h, w) < 4:
            raise ValueError(f"SmallCNN: images of {h}×{w} are too small (two 2×2 pools need at least 4×4)")
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * (h // 4) * (w // 4), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) → logits (N, num_classes)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class LogisticRegression(nn.Module):
    """Multinomial logistic (softmax) regression: logits = x Wᵀ + b, one Linear layer.

    The model returns logits; p = softmax(logits) happens inside F.cross_entropy, which is
    numerically safer than taking softmax here and log later. Inputs (N, ...) are flattened.
    Parameters: in_features·num_classes + num_classes (64·10 + 10 = 650 for the digits).
    """

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, ...) → logits (N, num_classes)."""
        return self.linear(x.flatten(1))


def build_model(name: str, input_shape: Sequence[int], num_classes: int, vocab_size: int | None = None) -> nn.Module:
    """The model called ``name`` (the CLI's ``--model``) for samples of ``input_shape``, batch dim excluded.

    - "mlp": MLP on the flattened input, one hidden layer of 128;
    - "lenet": a CNN for images (C, H, W): LeNet-5, or SmallCNN for images too small for LeNet
      (under 12×12, such as the 8×8 digits);
    - "logreg": LogisticRegression on the flattened input;
    - "bow": BagOfWordsMLP, vocab_size → 500 ReLU → classes, on token ids (text data sets);
    - "bert": BertClassifier, d_model 64, 2 layers, 4 heads, on token ids (text data sets).
    """
    shape = tuple(int(s) for s in input_shape)
    if (name in TEXT_MODELS) != (vocab_size is not None):
        if vocab_size is None:
            raise ValueError(f"model {name!r} reads sentences: use it with a text data set (--dataset sentiment)")
        raise ValueError(f"model {name!r} needs numbers, not sentences: for text use --model bow or --model bert")
    if name == "bow":
        from .text import BagOfWordsMLP

        return BagOfWordsMLP(vocab_size, 500, num_classes)
    if name == "bert":
        from .text import BertClassifier, BertConfig

        return BertClassifier(BertConfig(vocab_size, max_length=shape[0]), num_classes)
    features = math.prod(shape)
    if name == "mlp":
        return MLP(features, (128,), num_classes)
    if name == "logreg":
        return LogisticRegression(features, num_classes)
    if name == "lenet":
        if len(shape) != 3:
            raise ValueError(
                f"model 'lenet' needs images shaped (channels, height, width), but the samples have shape {shape}; "
                "for tabular data use 'mlp' or 'logreg'"
            )
        channels, h, w = shape
        if min(h, w) < 12:
            return SmallCNN(channels, num_classes, (h, w))
        return LeNet(channels, num_classes, (h, w))
    raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODEL_NAMES)}")
