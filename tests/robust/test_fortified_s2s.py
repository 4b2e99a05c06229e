"""Fortified networks and S2SNets: forward passes written out, what each phase trains, white-box PGD
through each, and bad configs refused by name."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from core.checkpoint import load_checkpoint
from core.errors import InputError
from robust.attacks import PGD
from robust.config import ModelConfig, TrainConfig
from robust.defenses.fortified import FortifiedConfig, FortifiedNet, fit_fortified
from robust.defenses.s2snet import S2SConfig, S2SNet, fit_s2snet
from robust.models import accuracy


def test_fortified_forward_runs_each_autoencoder_between_its_layers():
    torch.manual_seed(0)
    base = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)
    )
    net = FortifiedNet(base, (2, 4), (1, 4, 4))
    x = torch.rand(7, 1, 4, 4)
    assert torch.allclose(net(x), base(x))  # new fortified layers are the identity
    for p in net.autoencoders.parameters():
        nn.init.normal_(p)
    first, second = net.autoencoders
    h = torch.rand(3, 6)
    assert torch.allclose(first(h), h + first.body[2](first.body[1](first.body[0](h))))
    h1 = first(base[2](base[1](base[0](x))))
    expected = base[5](second(base[4](base[3](h1))))
    logits, pairs = net.states(x)
    assert torch.allclose(logits, expected) and torch.allclose(net(x), expected)
    assert len(pairs) == 2 and torch.allclose(pairs[0][1], h1)
    conv = FortifiedNet(
        nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2)),
        (1,),
        (1, 4, 4),
    )
    assert isinstance(conv.autoencoders[0].body[0], nn.Conv2d) and conv(x).shape == (7, 2)


def test_bad_fortified_and_s2s_input_is_refused_by_name():
    base = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(InputError, match=r"\[1\]"):
        FortifiedNet(base, (1,), (1, 2, 2))  # after the last layer
    with pytest.raises(InputError, match=r"nn\.Sequential"):
        FortifiedNet(nn.Linear(4, 2), (0,), (1, 2, 2))
    with pytest.raises(InputError, match="layers"):
        FortifiedConfig(layers=(8, 2))
    with pytest.raises(InputError, match="noise_sigma"):
        FortifiedConfig(noise_sigma=-1.0)
    with pytest.raises(InputError, match="finetune_epochs"):
        S2SConfig(finetune_epochs=-1)
    with pytest.raises(InputError, match="c=1"):
        S2SNet(1)(torch.rand(2, 3, 8, 8))


def test_adversarial_fortification_beats_plain_training_under_white_box_pgd(digits_mlp, digits):
    """Measured (digits, 5 epochs of PGD-3 fortified training at eps 0.1, 150 images): clean accuracy
    0.93; white-box PGD-10 through the whole fortified network at eps 0.1: 0.61 vs 0.41 for the
    plainly trained MLP; at eps 0.2: 0.11 (not robust there). The autoencoder does not shrink the
    adversarial shift of its hidden state (|g(h_adv) - g(h)| / |h_adv - h| = 1.66 under that PGD),
    so the gain is adversarial training's, not the denoiser's."""
    train = TrainConfig(
        model=ModelConfig("mlp", image_size=8, widths=(64, 64)), data="digits", epochs=5, batch_size=32
    )
    config = FortifiedConfig(train=train, layers=(2,), eps=0.1, alpha=0.05, steps=3)  # noise sigma 0.1
    small = dataclasses.replace(digits, x_test=digits.x_test[:150], y_test=digits.y_test[:150])
    net, history = fit_fortified(small, config)
    x, y = small.x_test, small.y_test

    robust = {}
    for eps in (0.1, 0.2):
        budget = {"eps": eps, "alpha": eps / 4, "steps": 10, "seed": 0}
        robust[eps] = (
            accuracy(net, PGD(net, **budget)(x, y), y),
            accuracy(digits_mlp, PGD(digits_mlp, **budget)(x, y), y),
        )
    assert history[-1]["test_accuracy"] > 0.85
    assert robust[0.1][0] > robust[0.1][1] + 0.1  # white-box PGD through the whole fortified network
    assert robust[0.2][0] < 0.5  # and far from robust at twice the training radius


def test_s2s_fine_tuning_trains_the_decoder_only_and_white_box_pgd_breaks_it(digits_mlp, digits, tmp_path):
    """Measured (digits, 4 + 2 epochs): test MSE 0.049 vs 0.073 for the mean image; accuracy through it 0.73.
    L-inf PGD-10 at eps 0.1, 150 images: crafted on the bare MLP, 0.41 bare and 0.35 through the S2SNet;
    white-box through the S2SNet, 0.06 (Folz et al.'s class-agnostic gradients do not protect it)."""
    config = S2SConfig(
        width=8, code_channels=4, pretrain_epochs=4, finetune_epochs=2, batch_size=16, learning_rate=3e-3
    )
    small = dataclasses.replace(digits, x_test=digits.x_test[:150], y_test=digits.y_test[:150])
    before = [p.detach().clone() for p in digits_mlp.parameters()]
    net, history = fit_s2snet(digits_mlp, small, config, tmp_path / "s2s.safetensors")
    assert all(torch.equal(a, b) for a, b in zip(before, digits_mlp.parameters(), strict=True))
    phase1 = load_checkpoint(tmp_path / "s2s-autoencoder.safetensors", S2SConfig).state["module"]
    for name, value in net.state_dict().items():
        assert torch.equal(value, phase1[name]) == name.startswith("encoder"), name
    mean_image = digits.x_train.mean(0, keepdim=True)
    baseline = float((small.x_test - mean_image).pow(2).mean())
    pretrained = [row for row in history if row["phase"] == 1]
    finetuned = [row for row in history if row["phase"] == 2]
    print(baseline, pretrained[-1], finetuned[-1])
    assert pretrained[-1]["test_mse"] < 0.8 * baseline  # the mean image
    assert finetuned[-1]["test_accuracy"] > 0.6  # chance: 0.1
    assert all(p.requires_grad for p in net.parameters())
    x, y = small.x_test, small.y_test
    defended = nn.Sequential(net, digits_mlp)

    budget = {"eps": 0.1, "alpha": 0.025, "steps": 10, "seed": 0}
    oblivious = PGD(digits_mlp, **budget)(x, y)
    white_box = PGD(defended, **budget)(x, y)
    bare = accuracy(digits_mlp, oblivious, y)
    assert accuracy(defended, oblivious, y) < bare + 0.05  # no robustness even against the oblivious attack
    assert (
        accuracy(defended, white_box, y) < bare - 0.2
    )  # and white-box PGD through f(D(E(x))) does better still
