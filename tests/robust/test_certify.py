"""Interval bound propagation: sound (contains every sampled output), exact where it must be (an
affine layer and a one-hidden-layer ReLU map over a box: vertex enumeration), certificates that PGD
never breaks, IBP training that certifies, and clear errors."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import PGD
from robust.certify import interval_bounds, margin_lower_bounds, verified, verified_accuracy
from robust.certify.ibp import input_box
from robust.config import ModelConfig, TrainConfig
from robust.defenses import DefenseConfig, fit_defense


def _conv_net(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU(), nn.AvgPool2d(2)),
            nn.Flatten(),
            nn.Linear(4, 8),
            nn.BatchNorm1d(8),
            nn.ReLU(),
            nn.Linear(8, 3),
        )
        for bn in (net[1], net[7]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(-1.5, 1.5)
    return net.eval()


def test_bounds_contain_every_sampled_perturbation_of_a_conv_net_with_pooling_and_batch_norm():
    net = _conv_net()
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 8, 8, generator=generator)
    lower, upper = interval_bounds(net, *input_box(x, 0.1))
    samples = (x + 0.2 * (torch.rand(400, 3, 1, 8, 8, generator=generator) - 0.5)).clamp(0, 1)
    with torch.no_grad():
        outputs = torch.stack([net(s) for s in samples])
    assert bool((outputs >= lower - 1e-5).all()) and bool((outputs <= upper + 1e-5).all())
    assert bool((upper - lower > 0).all())
    margins = margin_lower_bounds(net, x, torch.tensor([0, 1, 2]), 0.1)
    sampled = outputs.gather(2, torch.tensor([0, 1, 2]).view(1, 3, 1).expand(400, 3, 3)) - outputs
    margins = margins.masked_fill(torch.isinf(margins), -float("inf"))  # j = y: no margin to bound
    assert bool((sampled.amin(0) >= margins - 1e-5).all())  # the folded margins are sound too


def test_bounds_of_a_one_hidden_layer_relu_map_equal_vertex_enumeration():
    generator = torch.Generator().manual_seed(2)
    layer = nn.Linear(4, 6)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(6, 4, generator=generator))
    net = nn.Sequential(layer, nn.ReLU())
    x, eps = torch.rand(1, 4, generator=generator), 0.3
    lower, upper = interval_bounds(net, x - eps, x + eps)
    vertices = torch.tensor(list(itertools.product([-eps, eps], repeat=4))) + x  # 16 corners
    with torch.no_grad():
        values = net(vertices)  # an affine map then a monotone one: extremes sit at corners
    assert torch.allclose(lower[0], values.amin(0), atol=1e-6)
    assert torch.allclose(upper[0], values.amax(0), atol=1e-6)


@pytest.fixture(scope="module")
def ibp_model(digits):
    train = TrainConfig(
        model=ModelConfig("mlp", image_size=8, widths=(64,)), data="digits", epochs=10, batch_size=32
    )
    config = DefenseConfig(train=train, recipe="ibp", eps=0.05, ibp_warmup_steps=45, ibp_ramp_steps=200)
    model, history = fit_defense(digits, config)
    return model, history


def test_ibp_training_certifies_far_more_than_clean_training(ibp_model, digits_mlp, digits):
    model, history = ibp_model
    assert history[-1]["ibp_kappa"] == 0.5 and history[-1]["ibp_train_eps"] == pytest.approx(0.055)
    certified = verified_accuracy(model, digits.x_test, digits.y_test, 0.05)
    assert (
        certified > verified_accuracy(digits_mlp, digits.x_test, digits.y_test, 0.05) + 0.4
    )  # measured 0.73 vs 0


def test_a_certified_input_is_never_flipped_by_a_strong_pgd(ibp_model, digits):
    model, _ = ibp_model
    x, y = digits.x_test, digits.y_test
    with torch.no_grad():
        certified = verified(model, x, y, 0.05)
    x_adv = PGD(model, eps=0.05, alpha=0.01, steps=30, restarts=3)(x, y)
    with torch.no_grad():
        assert bool((model(x_adv).argmax(1) == y)[certified].all())
    assert int(certified.sum()) > 100


def test_ibp_refuses_unsupported_layers_and_bad_schedules_by_name():
    with pytest.raises(InputError, match="IBP does not support the layer Softmax"):
        interval_bounds(nn.Sequential(nn.Linear(2, 2), nn.Softmax(1)), torch.zeros(1, 2), torch.ones(1, 2))
    with pytest.raises(InputError, match="lower <= upper"):
        interval_bounds(nn.Sequential(nn.Linear(2, 2)), torch.ones(1, 2), torch.zeros(1, 2))
    with pytest.raises(InputError, match=r"last layer must be nn\.Linear"):
        margin_lower_bounds(
            nn.Sequential(nn.Linear(2, 2), nn.ReLU()), torch.zeros(1, 2), torch.tensor([0]), 0.1
        )
    with pytest.raises(InputError, match="kappa schedule runs from 1 down"):
        DefenseConfig(recipe="ibp", ibp_kappa_final=1.5)
    with pytest.raises(InputError, match="ibp_warmup_steps must be an integer >= 0"):
        DefenseConfig(recipe="ibp", ibp_warmup_steps=-1)
    with pytest.raises(InputError, match="IBP certifies L-inf balls"):
        DefenseConfig(recipe="ibp", norm="l2")


@pytest.mark.parametrize("architecture", ["ibp-small", "ibp-medium", "ibp-large"])
def test_gowal_et_al_nets_map_mnist_images_to_logits_and_propagate_bounds(architecture):
    from robust.models import build_model

    net = build_model(ModelConfig(architecture)).eval()
    x = torch.rand(2, 1, 28, 28)
    lower, upper = interval_bounds(net, *input_box(x, 0.01))
    with torch.no_grad():
        out = net(x)
    assert out.shape == (2, 10) and bool((lower <= out + 1e-5).all()) and bool((out <= upper + 1e-5).all())
    with pytest.raises(InputError, match="fixed widths"):
        ModelConfig(architecture, widths=(8,))
    with pytest.raises(InputError, match="too small"):
        build_model(ModelConfig(architecture, image_size=4))
