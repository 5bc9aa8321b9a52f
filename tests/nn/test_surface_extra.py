"""The second-wave functional ops and modules against PyTorch (agreement) and gradcheck: convolutions with
groups/dilation/transposed, pad, interpolate, pools with every option, activations, losses; Lazy layers,
hooks and the containers."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn

R = np.random.default_rng(0)
X = R.standard_normal((2, 4, 7, 6))
W = R.standard_normal((6, 2, 3, 3))
WT = R.standard_normal((4, 3, 3, 3))

CASES = {
    "conv2d groups dilation same": (lambda f, t, x, w, wt: f.conv2d(x, w, None, 1, "same", 2, 2)),
    "conv2d stride groups": (lambda f, t, x, w, wt: f.conv2d(x, w, None, 2, (1, 2), 1, 2)),
    "conv_transpose2d": (lambda f, t, x, w, wt: f.conv_transpose2d(x, wt, None, 2, 1, 1, 1, 1)),
    "conv_transpose2d dilation": (lambda f, t, x, w, wt: f.conv_transpose2d(x, wt, None, 1, 0, 0, 1, 2)),
    "conv1d": (lambda f, t, x, w, wt: f.conv1d(x[:, :, 0], w[:, :, 0], None, 1, 1, 1, 2)),
    "pad reflect": (lambda f, t, x, w, wt: f.pad(x, (1, 2, 2, 1), "reflect")),
    "pad replicate": (lambda f, t, x, w, wt: f.pad(x, (1, 2, 2, 1), "replicate")),
    "pad circular": (lambda f, t, x, w, wt: f.pad(x, (1, 2, 2, 1), "circular")),
    "pad constant crop": (lambda f, t, x, w, wt: f.pad(x, (1, -2, 2, 1), value=0.5)),
    "bilinear": (lambda f, t, x, w, wt: f.interpolate(x, size=(9, 13), mode="bilinear", align_corners=False)),
    "bilinear corners": (
        lambda f, t, x, w, wt: f.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)
    ),
    "nearest": (lambda f, t, x, w, wt: f.interpolate(x, scale_factor=2)),
    "max_pool2d options": (lambda f, t, x, w, wt: f.max_pool2d(x, 3, 2, 1, 2, True)),
    "max_pool1d": (lambda f, t, x, w, wt: f.max_pool1d(x[:, :, 0], 2, 2, 1, ceil_mode=True)),
    "avg_pool2d options": (lambda f, t, x, w, wt: f.avg_pool2d(x, 3, 2, 1, True, False)),
    "avg_pool2d divisor": (lambda f, t, x, w, wt: f.avg_pool2d(x, 2, 1, 1, divisor_override=3)),
    "avg_pool1d": (lambda f, t, x, w, wt: f.avg_pool1d(x[:, :, 0], 3, 2, 1)),
    "adaptive_avg_pool2d": (lambda f, t, x, w, wt: f.adaptive_avg_pool2d(x, (3, 4))),
    "adaptive_avg_pool1d": (lambda f, t, x, w, wt: f.adaptive_avg_pool1d(x[:, :, 0], 4)),
    "adaptive_max_pool2d": (lambda f, t, x, w, wt: f.adaptive_max_pool2d(x, (3, 4))),
    "unfold": (lambda f, t, x, w, wt: f.unfold(x, 3, 1, 1, 2)),
    "fold": (lambda f, t, x, w, wt: f.fold(x.reshape(2, 4, 42)[:, :, :30], (6, 7), (2, 2), 1, 0, 1)),
    "glu": (lambda f, t, x, w, wt: f.glu(x, 1)),
    "softmin": (lambda f, t, x, w, wt: f.softmin(x, dim=1)),
    "normalize": (lambda f, t, x, w, wt: f.normalize(x, dim=1)),
}
for _name in "elu selu celu silu mish softplus softsign hardtanh relu6 hardsigmoid hardswish logsigmoid".split():
    CASES[_name] = lambda f, t, x, w, wt, _n=_name: getattr(f, _n)(x)


def _t(torch, a, grad=False):
    return torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_torch_and_gradients(name):
    torch = pytest.importorskip("torch")
    fn = CASES[name]
    ours = [tge.tensor(a, requires_grad=True) for a in (X, W, WT)]
    theirs = [_t(torch, a, True) for a in (X, W, WT)]
    y, yt = fn(F, tge, *ours), fn(torch.nn.functional, torch, *theirs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-8)
    g = R.standard_normal(y.shape)
    (y * tge.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["conv2d groups dilation same", "conv_transpose2d", "max_pool2d options",
                                  "avg_pool2d options", "pad reflect", "bilinear", "adaptive_max_pool2d"])  # fmt: skip
def test_gradcheck(name):
    fn = CASES[name]
    args = [tge.tensor(X[:1, :, :5, :5], requires_grad=True), tge.tensor(W, requires_grad=True),
            tge.tensor(WT, requires_grad=True)]  # fmt: skip
    assert tge.gradcheck(lambda x, w, wt: fn(F, tge, x, w, wt), args)


def test_indices_and_unpool_match_torch():
    torch = pytest.importorskip("torch")
    y, idx = F.max_pool2d(tge.tensor(X), 2, return_indices=True)
    yt, idxt = torch.nn.functional.max_pool2d(torch.tensor(X), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idxt.numpy())
    up = F.max_unpool2d(y, idx, 2, output_size=(7, 6))
    upt = torch.nn.functional.max_unpool2d(yt, idxt, 2, output_size=(7, 6))
    np.testing.assert_allclose(up.numpy(), upt.numpy())
    _, ai = F.adaptive_max_pool2d(tge.tensor(X), 3, return_indices=True)
    _, ait = torch.nn.functional.adaptive_max_pool2d(torch.tensor(X), 3, return_indices=True)
    np.testing.assert_array_equal(ai.numpy(), ait.numpy())


LOSSES = {
    "l1_loss": lambda f, a, b: f.l1_loss(a, b),
    "smooth_l1_loss": lambda f, a, b: f.smooth_l1_loss(a, b, beta=0.5),
    "huber_loss": lambda f, a, b: f.huber_loss(a, b, delta=0.7, reduction="sum"),
    "kl_div": lambda f, a, b: f.kl_div(a.log_softmax(-1), b.softmax(-1), reduction="batchmean"),
    "kl_div log_target": lambda f, a, b: f.kl_div(a, b.log_softmax(-1), reduction="sum", log_target=True),
    "triplet": lambda f, a, b: f.triplet_margin_loss(a, b, a * 0.5 - b, swap=True),
    "margin_ranking": lambda f, a, b: f.margin_ranking_loss(a[:, 0], b[:, 0], (a[:, 1] > 0).float() * 2 - 1, 0.1),
    "poisson_nll": lambda f, a, b: f.poisson_nll_loss(a, b.abs() * 3, full=True),
    "gaussian_nll": lambda f, a, b: f.gaussian_nll_loss(a, b, (a * a)[:, 0] + 0.1, full=True),
    "cosine_embedding": lambda f, a, b: f.cosine_embedding_loss(a, b, (a[:, 0] > 0).float() * 2 - 1, 0.2),
    "multilabel_soft_margin": lambda f, a, b: f.multilabel_soft_margin_loss(a, (b > 0).float()),
    "cosine_similarity": lambda f, a, b: f.cosine_similarity(a, b),
    "pairwise_distance": lambda f, a, b: f.pairwise_distance(a, b, p=3),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_agree_with_torch(name):
    torch = pytest.importorskip("torch")
    a, b = R.standard_normal((5, 4)), R.standard_normal((5, 4))
    ours, theirs = [tge.tensor(v, requires_grad=True) for v in (a, b)], [_t(torch, v, True) for v in (a, b)]
    y, yt = LOSSES[name](F, *ours), LOSSES[name](torch.nn.functional, *theirs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-8)
    y.sum().backward()
    yt.sum().backward()
    for o, t in zip(ours, theirs):
        assert (o.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "kw",
    [
        dict(padding="same", dilation=2, groups=2, padding_mode="reflect"),
        dict(padding=1, padding_mode="circular"),
        dict(padding=(1, 2), stride=2, groups=2),
    ],  # fmt: skip
)
def test_conv2d_module_options_match_torch(kw):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Conv2d(4, 6, 3, **kw), torch.nn.Conv2d(4, 6, 3, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    xa = X[:1, :, :6, :6].astype(np.float32)
    np.testing.assert_allclose(ours(tge.tensor(xa)).numpy(), theirs(torch.tensor(xa)).detach().numpy(), atol=1e-5)


def test_lazy_layers_infer_sizes_and_train():
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))
    params = list(model.parameters())
    assert len(params) == 6 and all(isinstance(p, nn.UninitializedParameter) for p in params)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        model.num_parameters()
    opt = tge.optim.SGD(model.parameters(), lr=0.1)  # made before the dry run: the same objects get materialised
    y = model(tge.randn(2, 2, 5, 5))
    assert y.shape == (2, 3) and type(model[0]) is nn.Conv2d and type(model[4]) is nn.Linear
    assert model[4].in_features == 36 and model[0].in_channels == 2 and model[1].num_features == 4
    before = params[0].numpy().copy()
    y.sum().backward()
    opt.step()
    assert not np.allclose(before, params[0].numpy())
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict({"weight": np.ones((3, 5), np.float32), "bias": np.zeros(3, np.float32)})
    np.testing.assert_allclose(lazy(tge.ones(1, 5)).numpy(), [[5.0, 5.0, 5.0]])


def test_hooks_see_and_replace_values_and_are_removable():
    layer, seen = nn.Linear(3, 2), []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    fwd = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].shape, go[0].shape)))
    x = tge.randn(4, 3, requires_grad=True)
    out = layer(x)
    np.testing.assert_allclose(out.numpy(), F.linear(x * 2, layer.weight, layer.bias).numpy(), rtol=1e-6)
    out.sum().backward()
    assert seen == [(4, 2), ((4, 3), (4, 2))]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((4, 2)) @ layer.weight.numpy(), rtol=1e-6)
    pre.remove()
    fwd.remove()
    layer(x)
    assert len(seen) == 2


def test_backward_hook_can_replace_grad_input():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = tge.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert not x.grad.numpy().any() and layer.weight.grad is not None


def test_containers_register_their_entries():
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    md["b"] = nn.ReLU()
    assert list(md) == ["a", "b"] and "a" in md and list(md.state_dict()) == ["a.weight", "a.bias"]
    pl = nn.ParameterList([tge.randn(3), nn.Parameter(tge.randn(2))])
    pl.append(tge.randn(1))
    assert len(pl) == 3 and list(pl.state_dict()) == ["0", "1", "2"] and len(list(pl.parameters())) == 3
    pd = nn.ParameterDict({"w": tge.randn(2)})
    assert list(pd.state_dict()) == ["w"] and isinstance(pd["w"], nn.Parameter)
