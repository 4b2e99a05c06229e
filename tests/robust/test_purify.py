"""Weight-perturbation ensembles and pixel deflection: closed forms, and BPDA + EOT breaking deflection."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import BPDA, EOT, PGD
from robust.defenses import Defended, PixelDeflection, WeightPerturbationEnsemble
from robust.defenses.purify import haar_soft_threshold
from robust.models import accuracy


def test_weight_ensemble_at_zero_noise_is_the_network(digits_mlp, digits):
    x = digits.x_test[:20]
    ensemble = WeightPerturbationEnsemble(digits_mlp, sigma=0.0, members=3)
    with torch.no_grad():
        assert torch.allclose(ensemble(x), digits_mlp(x).log_softmax(-1), atol=1e-5)


def test_weight_noise_has_the_stated_scale_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = nn.Linear(200, 300)
    before = [p.detach().clone() for p in model.parameters()]
    ensemble = WeightPerturbationEnsemble(model, sigma=0.2, members=2, seed=1)
    for member in ensemble.members:
        for original, perturbed in zip(model.parameters(), member.parameters(), strict=True):
            ratio = float((perturbed - original).detach().std() / original.detach().std())
            assert ratio == pytest.approx(0.2, rel=4 / (2 * original.numel()) ** 0.5)  # 4 SE of a sample std
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    first, second = ensemble.members
    assert not torch.equal(first.weight, second.weight)


def test_haar_denoiser_closed_forms():
    x = torch.rand(2, 3, 6, 8)
    assert torch.allclose(haar_soft_threshold(x, 0.0), x, atol=1e-6)
    # a threshold above every detail coefficient leaves the 2x2 block means
    blocks = torch.nn.functional.avg_pool2d(x, 2).repeat_interleave(2, -1).repeat_interleave(2, -2)
    assert torch.allclose(haar_soft_threshold(x, 10.0), blocks, atol=1e-6)
    with pytest.raises(InputError, match="even"):
        haar_soft_threshold(torch.rand(1, 1, 5, 4), 0.1)


def test_deflection_copies_pixels_from_within_the_window():
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(PixelDeflection(deflections=0, threshold=0.0)(x), x)
    out = PixelDeflection(window=1, deflections=10, threshold=0.0, seed=2)(x)
    changed = out != x
    assert 0 < int(changed.sum()) <= 40
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=float("nan"))
    neighbours = padded.unfold(2, 3, 1).unfold(3, 3, 1).reshape(4, 1, 8, 8, 9)
    assert bool((neighbours == out[..., None]).any(-1).all())  # each value comes from its 3x3 window


def test_bpda_with_eot_attacks_pixel_deflection_as_well_as_the_bare_network(digits_mlp, digits):
    """On 8x8 digits deflection barely helps even against oblivious PGD (measured: accuracy 0.47 vs 0.42
    undefended at eps 0.1); BPDA + EOT removes what it gives (0.43)."""
    x, y = digits.x_test[:150], digits.y_test[:150]
    defended = Defended(digits_mlp, PixelDeflection(window=1, deflections=6, threshold=0.2, seed=0))

    budget = {"eps": 0.1, "alpha": 0.025, "steps": 8, "seed": 0}
    x_plain = PGD(digits_mlp, **budget)(x, y)  # crafted on the bare network (oblivious to the defense)
    undefended, oblivious = accuracy(digits_mlp, x_plain, y), accuracy(defended, x_plain, y)
    adapted_model = nn.Sequential(BPDA(defended.transform), digits_mlp)
    adapted = accuracy(defended, EOT(PGD(adapted_model, **budget), samples=4)(x, y), y)
    assert accuracy(defended, x, y) > 0.85
    assert adapted <= undefended + 0.05  # the adapted attack gets back the undefended success
    assert adapted <= oblivious + 0.02
    assert undefended < accuracy(digits_mlp, x, y) - 0.3
