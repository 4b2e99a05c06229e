"""FIDO: concrete masks, the SSR / SDR objectives, in-fills, the box scores, the canvases, one-line errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from torch import nn

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.infill.config import INFILLS, CanvasConfig, FidoConfig, InpainterConfig
from vision_attention.infill.data import box_masks, make_canvases
from vision_attention.infill.fido import concrete_mask, explain, fido_loss, total_variation
from vision_attention.infill.infills import compose, gaussian_blur, make_infill
from vision_attention.infill.metrics import mass_in_box, pointing, saliency_metric
from vision_attention.infill.models import Inpainter
from vision_attention.infill.study import random_keep_masks, train_inpainter


class SquareDetector(nn.Module):
    """Class 1 when the top-left 4x4 square of an 8x8 image is bright: logits (0, 4 * (sum - 8))."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        evidence = 4 * (images[:, 0, :4, :4].sum((1, 2)) - 8.0)
        return torch.stack([torch.zeros_like(evidence), evidence], 1)


def _square_images(count: int = 3) -> torch.Tensor:
    images = torch.zeros(count, 1, 8, 8)
    images[:, :, :4, :4] = 1.0
    return images


def _quadrant_logits(count: int, top_left: bool) -> torch.Tensor:
    logits = torch.full((count, 1, 8, 8), -12.0)
    if top_left:
        logits[:, :, :4, :4] = 12.0
    else:
        logits[:, :, 4:, 4:] = 12.0
    return logits


def test_concrete_masks_become_hard_bernoulli_samples_as_the_temperature_goes_to_zero():
    logits = torch.tensor([-1.5, 0.0, 0.8, 2.0])
    distances = []
    for temperature in (1.0, 0.1, 0.01, 1e-4):
        z = concrete_mask(logits, temperature, samples=20000, generator=torch.Generator().manual_seed(0))
        assert ((z >= 0) & (z <= 1)).all()
        distances.append(float(torch.minimum(z, 1 - z).mean()))
    assert all(a > b for a, b in itertools.pairwise(distances)) and distances[-1] < 1e-3
    hard = (z > 0.5).float().mean(0)  # at 1e-4 these are the Bernoulli draws; their rate is sigmoid(logits)
    standard_error = torch.sqrt(torch.sigmoid(logits) * torch.sigmoid(-logits) / 20000)
    assert ((hard - torch.sigmoid(logits)).abs() < 4 * standard_error).all()


def test_ssr_prefers_keeping_the_evidence_and_sdr_prefers_deleting_it():
    images, labels = _square_images(), torch.ones(3, dtype=torch.long)
    model, fill = SquareDetector(), make_infill("mean", mean=0.0)
    for objective in ("ssr", "sdr"):
        config = FidoConfig(objective=objective, temperature=0.01, samples=4, sparsity=0.0, smoothness=0.0)
        on = fido_loss(model, fill, images, labels, _quadrant_logits(3, True), config)
        off = fido_loss(model, fill, images, labels, _quadrant_logits(3, False), config)
        # ssr keeps the square (score log p ~ 0) or loses it (log p ~ -32); sdr the other way round
        assert (on < off - 10).all(), objective
    # the penalties: mean(theta) and TV(theta) of a 4x4 block of ones on 8x8 (hand: 16/64; 2 * 4/56)
    theta = torch.sigmoid(_quadrant_logits(1, True))
    assert float(total_variation(theta)) == pytest.approx(2 * 4 / 56, abs=1e-4)
    assert float(theta.mean()) == pytest.approx(16 / 64, abs=1e-4)


@pytest.mark.parametrize("objective", ["ssr", "sdr"])
def test_fido_finds_the_evidence_of_a_toy_classifier(objective):
    images, labels = _square_images(2), torch.ones(2, dtype=torch.long)
    boxes = torch.tensor([[0, 0, 4, 4]] * 2)
    config = FidoConfig(objective=objective, steps=150, learning_rate=0.1, sparsity=1.0, smoothness=0.2)
    result = explain(SquareDetector(), make_infill("mean", mean=0.0), images, labels, config)
    # a uniform map puts 0.25 of its mass in the square
    assert (mass_in_box(result.theta, boxes) > 0.8).all()
    assert pointing(result.theta, boxes).all()


@pytest.mark.parametrize("name", INFILLS)
def test_infills_keep_shape_and_range_and_leave_kept_pixels_untouched(name):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(4, 1, 12, 12, generator=generator)
    keep = (torch.rand(4, 1, 12, 12, generator=generator) > 0.5).float()
    fill = make_infill(name, mean=0.3, blur_sigma=1.5, inpainter=Inpainter(InpainterConfig(width=4)))
    filled = compose(images, keep, fill(images, keep, generator))
    assert filled.shape == images.shape
    assert ((filled >= 0) & (filled <= 1)).all()
    assert torch.equal(filled[keep == 1], images[keep == 1])
    assert not torch.equal(filled[keep == 0], images[keep == 0])


def test_blur_infill_equals_scipy_gaussian_filter():
    image = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ours = gaussian_blur(image, 1.5)[0, 0].numpy()
    # radius ceil(3 * 1.5) = 5 = int(truncate * sigma + 0.5) with truncate 3; torch's "reflect" is scipy's "mirror"
    reference = gaussian_filter(image[0, 0].numpy(), 1.5, mode="mirror", truncate=3.0)
    np.testing.assert_allclose(ours, reference, atol=1e-12)


def test_box_scores_equal_hand_values():
    boxes = torch.tensor([[2, 1, 5, 5], [0, 0, 8, 8]])
    uniform = torch.ones(2, 1, 8, 8)
    torch.testing.assert_close(mass_in_box(uniform, boxes), torch.tensor([12 / 64, 1.0]))
    peaked = torch.zeros(2, 1, 8, 8)
    peaked[0, 0, 4, 4] = 1.0  # inside the first box (rows 2-4, cols 1-4)
    peaked[1, 0, 7, 7] = 1.0
    assert pointing(peaked, boxes).tolist() == [True, True]
    peaked[0, 0, 4, 4], peaked[0, 0, 5, 5] = 0.0, 1.0
    assert pointing(peaked, boxes).tolist() == [False, True]

    class Fixed(nn.Module):
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return torch.tensor([[0.0, math.log(3.0)]]).repeat(len(images), 1)  # p(class 1) = 3/4

    maps = torch.zeros(2, 1, 8, 8)
    maps[0, :, 2:6, 0:4] = 0.9  # 16 / 64 of the image
    maps[1, :, 3, 3] = 0.9  # one pixel: area clamped to 0.05
    metric = saliency_metric(Fixed(), torch.rand(2, 1, 8, 8), torch.tensor([1, 1]), maps)
    expected = torch.tensor([math.log(0.25) - math.log(0.75), math.log(0.05) - math.log(0.75)])
    torch.testing.assert_close(metric, expected)


def test_canvases_are_deterministic_and_their_boxes_hold_the_digit():
    generator = torch.Generator().manual_seed(0)
    digits = torch.zeros(5, 1, 8, 8)
    digits[:, :, 2:6, 3:5] = torch.rand(5, 1, 4, 2, generator=generator) * 0.5 + 0.5
    labels = torch.arange(5)
    config = CanvasConfig(canvas=24, digit=8, fragments=2, fragment=4, texture=0.1)
    first = make_canvases(digits, labels, 20, config, seed=3)
    second = make_canvases(digits, labels, 20, config, seed=3)
    assert torch.equal(first.images, second.images) and torch.equal(first.boxes, second.boxes)
    assert first.images.shape == (20, 1, 24, 24) and 0 <= first.images.min() and first.images.max() <= 1
    top, left, bottom, right = first.boxes.unbind(1)
    assert ((bottom - top == 4) & (right - left == 2)).all()  # the ink block of every digit
    assert (first.images[box_masks(first.boxes, 24)] >= 0.5).all()


def test_inpainter_training_resumes_bit_identically(tmp_path):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(48, 1, 8, 8, generator=generator)
    data = make_canvases(
        images, torch.zeros(48, dtype=torch.long), 48, CanvasConfig(canvas=16, digit=8, fragments=0)
    )
    config, train = InpainterConfig(width=4), TrainConfig(model="inpainter", epochs=2, batch_size=16)
    whole = train_inpainter(data, config, train)
    train_inpainter(
        data, config, TrainConfig(model="inpainter", epochs=1, batch_size=16), tmp_path / "c.safetensors"
    )
    resumed = train_inpainter(data, config, train, tmp_path / "c.safetensors")
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    masks = random_keep_masks(300, 16, torch.Generator().manual_seed(0))
    assert set(masks.unique().tolist()) <= {0.0, 1.0} and 0.2 < float(masks.mean()) < 0.8


def test_bad_configs_and_inputs_raise_one_line_errors():
    cases = [
        (lambda: FidoConfig(objective="smallest"), "objective"),
        (lambda: FidoConfig(infill="gan"), "infill"),
        (lambda: FidoConfig(temperature=0), "temperature"),
        (lambda: FidoConfig(sparsity=-1), "sparsity"),
        (lambda: FidoConfig(initial=1.0), "initial"),
        (lambda: CanvasConfig(digit=40), "digit"),
        (lambda: CanvasConfig(source="cifar"), "source"),
        (lambda: CanvasConfig(texture=2), "texture"),
        (lambda: make_infill("zeros"), "zeros"),
        (lambda: make_infill("generative"), "in-painter"),
        (
            lambda: explain(
                SquareDetector(), make_infill("mean"), torch.rand(2, 8, 8), torch.ones(2), FidoConfig()
            ),
            "explain",
        ),
        (lambda: concrete_mask(torch.zeros(3), 0.0), "temperature"),
    ]
    for make, word in cases:
        with pytest.raises(InputError) as error:
            make()
        assert word in str(error.value) and "\n" not in str(error.value)
