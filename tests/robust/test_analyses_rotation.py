"""The p4 group convolutions: equivariance of each layer and exact invariance to 90-degree rotations."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.analyses import rotation as rt


def _rot(x: torch.Tensor, k: int = 1) -> torch.Tensor:
    return torch.rot90(x, k, dims=(-2, -1))


def test_p4_layers_are_equivariant_and_the_pooled_net_is_invariant_to_90_degree_rotations():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 12, 12)
    lift, conv = rt.P4Lift(1, 4), rt.P4Conv(4, 5)
    with torch.no_grad():
        f, f_rot = lift(x), lift(_rot(x))  # (n, c, 4, h, w)
        torch.testing.assert_close(f_rot, _rot(torch.roll(f, 1, dims=2)), atol=1e-5, rtol=0)
        g, g_rot = conv(f), conv(f_rot)
        torch.testing.assert_close(g_rot, _rot(torch.roll(g, 1, dims=2)), atol=1e-5, rtol=0)
        net = rt.RotationCNN((4, 6, 6), p4=True, seed=0).eval()
        plain = rt.RotationCNN((4, 6, 6), p4=False, seed=0).eval()
        x = torch.rand(4, 1, 28, 28)
        for k in (1, 2, 3):
            torch.testing.assert_close(net(_rot(x, k)), net(x), atol=1e-5, rtol=1e-5)
        assert (plain(_rot(x)) - plain(x)).abs().max() > 1e-3  # the plain net is not invariant
    with pytest.raises(InputError, match="odd kernel"):
        rt.P4Conv(2, 2, kernel=4)


def test_augmentation_stays_within_the_attack_budget():
    generator = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 29, 29)
    x[:, :, 14, 14] = 1.0  # a dot at the centre pixel moves by the (rotated) shift only: <= 3 sqrt(2) px
    moved = rt.augment(x, generator)
    mass = moved[:, 0].flatten(1)
    coords = torch.stack(torch.meshgrid(torch.arange(29.0), torch.arange(29.0), indexing="ij"), -1).flatten(
        0, 1
    )
    centre = mass @ coords / mass.sum(1, keepdim=True)
    offset = (centre - torch.tensor([14.0, 14.0])).norm(dim=1)
    assert float(offset.max()) <= 3 * 2**0.5 + 1e-3 and float(offset.max()) > 2.0
