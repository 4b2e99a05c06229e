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
