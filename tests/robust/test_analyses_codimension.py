"""Khoury & Hadfield-Menell's codimension data and the L2 PGD it is attacked with."""

from __future__ import annotations

import torch
from torch import nn

from robust.analyses import codimension as cd


def test_circles_lie_on_radii_one_and_two_in_a_rotated_plane():
    generator = torch.Generator().manual_seed(0)
    rotation, _ = torch.linalg.qr(torch.randn(10, 10, generator=generator))
    x, y = cd.circles(200, 8, rotation, generator)
    torch.testing.assert_close(x.norm(dim=1), 1.0 + y.float())
    plane = rotation[:, :2]  # the points span the rotated first two axes only
    torch.testing.assert_close(x @ plane @ plane.T, x, atol=1e-5, rtol=0)


def test_l2_pgd_on_a_linear_model_moves_eps_against_the_weight():
    model = nn.Linear(6, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0] * 6, [1.0, 2.0, 0.0, -1.0, 0.5, 3.0]]))
        model.bias.zero_()
    x, y = torch.randn(5, 6), torch.ones(5, dtype=torch.long)
    delta = cd.pgd_l2(model, x, y, eps=0.4) - x
    w = model.weight[1] / model.weight[1].norm()
    torch.testing.assert_close(delta, -0.4 * w.expand(5, -1), atol=1e-5, rtol=0)


def test_nearest_neighbour_certificate_is_sound_by_brute_force_and_blind_to_codimension():
    generator = torch.Generator().manual_seed(0)
    x_train, y_train = cd.circles(60, 0, torch.eye(2), generator)
    x, y = cd.circles(40, 0, torch.eye(2), generator)
    x = x + 0.2 * torch.randn(x.shape, generator=generator)  # off the circles, so margins vary
    eps = 0.3
    correct, certified, survives = cd.nearest_neighbour_robust(x_train, y_train, x, y, eps)
    assert bool((certified <= survives).all() and (survives <= correct).all())
    assert 0 < int(certified.sum()) < int(correct.sum())
    radius = torch.linspace(0, eps, 31)  # every point of a polar grid over each certified point's eps-disc
    angle = torch.linspace(0, 2 * torch.pi, 361)
    offsets = torch.stack([torch.outer(radius, angle.cos()), torch.outer(radius, angle.sin())], -1).flatten(
        0, 1
    )
    for i in torch.nonzero(certified).flatten():
        points = x[i] + offsets
        assert bool((y_train[torch.cdist(points, x_train).argmin(1)] == y[i]).all())
    rotation, _ = torch.linalg.qr(torch.randn(22, 22, generator=generator))  # codimension 20, same points
    lift = lambda p: torch.cat([p, torch.zeros(len(p), 20)], 1) @ rotation.T  # noqa: E731
    lifted = cd.nearest_neighbour_robust(lift(x_train), y_train, lift(x), y, eps)
    assert all(bool((a == b).all()) for a, b in zip(lifted, (correct, certified, survives), strict=True))
