"""Adaptive JPEG quantisation: IJG tables, a per-block scipy reference, near-identity at quality 100,
saliency choosing the tiles' qualities, and BPDA DeepFool breaking what it does against the oblivious one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.fft import dctn, idctn
from torch import nn

from core.errors import InputError
from robust.attacks import BPDA, DeepFool
from robust.defenses.adaptive_jpeg import (
    LUMINANCE_TABLE,
    AdaptiveJPEG,
    jpeg_quantise,
    quantisation_table,
    spectral_residual_saliency,
)
from robust.models import accuracy


def test_quantisation_tables_follow_the_ijg_scaling():
    base = np.array(LUMINANCE_TABLE, dtype=float)
    assert np.array_equal(quantisation_table(50).numpy(), base)
    assert np.array_equal(quantisation_table(10).numpy(), np.clip(np.floor((base * 500 + 50) / 100), 1, 255))
    assert np.array_equal(quantisation_table(90).numpy(), np.clip(np.floor((base * 20 + 50) / 100), 1, 255))
    assert np.array_equal(quantisation_table(100).numpy(), np.ones((8, 8)))


def test_block_quantisation_equals_a_per_block_scipy_loop():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1, 13, 16, generator=generator, dtype=torch.float64)  # 13 rows: edge padding
    qualities = torch.tensor([[[10, 50], [90, 30]], [[75, 75], [5, 100]]])
    out = jpeg_quantise(x, qualities, 8).numpy()
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (0, 3), (0, 0)), mode="edge")
    expected = np.empty_like(padded)
    for i in range(2):
        for r in range(2):
            for c in range(2):
                tile = padded[i, 0, 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] * 255 - 128
                table = quantisation_table(int(qualities[i, r, c])).double().numpy()
                coefficients = np.round(dctn(tile, norm="ortho") / table) * table
                expected[i, 0, 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] = (
                    idctn(coefficients, norm="ortho") + 128
                ) / 255
    assert np.allclose(out, np.clip(expected, 0, 1)[..., :13, :], atol=1e-9)


def test_quality_100_is_near_the_identity(digits):
    x = digits.x_test[:100]
    error = AdaptiveJPEG((100,), block=4)(x) - x
    # unit quantisation steps on the 0..255 scale: RMS of a rounding error is 1/sqrt(12) / 255
    assert float(error.pow(2).mean().sqrt()) * 255 < 0.35
    assert (
        float(error.abs().max()) * 255 <= 0.5 * 16 * 0.5
    )  # sum of 16 coefficient errors times |basis| <= 1/2


def test_salient_tiles_keep_the_higher_quality():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 2:6, 1:5] = 1.0  # an object in the top-left 8x8 tile only
    saliency = spectral_residual_saliency(x)
    assert saliency.shape == (1, 16, 16) and float(saliency.max()) == pytest.approx(1.0)
    levels = AdaptiveJPEG((10, 50, 90)).tile_levels(x)[0]
    assert int(levels[0, 0]) == 2 and int(levels[1, 1]) == 0


def test_bad_jpeg_input_is_refused_by_name():
    with pytest.raises(InputError, match="quality=0"):
        AdaptiveJPEG((0, 50))
    with pytest.raises(InputError, match="ascending"):
        AdaptiveJPEG((50, 10))
    with pytest.raises(InputError, match="block"):
        AdaptiveJPEG((50,), block=0)
    with pytest.raises(InputError, match="one quality per tile"):
        jpeg_quantise(torch.rand(1, 1, 16, 16), torch.full((1, 3, 2), 50))


def test_bpda_breaks_adaptive_jpeg(digits_mlp, digits):
    """Adaptive JPEG undoes minimal perturbations crafted on the bare network (DeepFool, one of the
    attacks Prakash et al. ran), and DeepFool through BPDA fools it again at about the same L2 cost.

    Measured (digits, block 4, 150 images): DeepFool on the bare MLP leaves it 0.21 accurate, the
    defended MLP 0.69 on those images; BPDA DeepFool leaves the defended MLP 0.007 accurate with a
    median L2 of 0.49 (oblivious: 0.46). Against L-inf PGD at eps 0.1 the purifier barely helps even
    obliviously (0.45 vs 0.41 bare), so PGD is not the attack that shows the defense working.
    """
    x, y = digits.x_test[:150], digits.y_test[:150]
    jpeg = AdaptiveJPEG((10, 50, 90), block=4)
    defended = nn.Sequential(jpeg, digits_mlp)

    oblivious = DeepFool(digits_mlp)(x, y)
    adapted = DeepFool(nn.Sequential(BPDA(jpeg), digits_mlp))(x, y)
    norm = {
        name: float((a - x).flatten(1).norm(dim=1).median())
        for name, a in (("obl", oblivious), ("bpda", adapted))
    }
    assert accuracy(defended, x, y) > 0.9
    assert (
        accuracy(defended, oblivious, y) > accuracy(digits_mlp, oblivious, y) + 0.3
    )  # robust to the plain attack
    assert accuracy(defended, adapted, y) < 0.1  # broken once adapted
    assert norm["bpda"] < 1.3 * norm["obl"]  # at about the same cost
