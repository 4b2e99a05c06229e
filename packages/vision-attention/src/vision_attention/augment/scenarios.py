"""The paper's 13 augmentation scenarios as named torchvision-v2 pipelines (Perez et al. 2018, sec. 3.1).

A scenario is a list of steps applied in order to one image ``(3, s, s)`` float in [0, 1]:

- ``color``: brightness, contrast and saturation (`v2.ColorJitter`); ``color-hue``: the same and hue;
- ``affine``: rotation, shear and scaling (`v2.RandomAffine`); ``flips``: horizontal and vertical flips;
- ``crops``: random crops of 40-100% of the area, resized back (`v2.RandomResizedCrop`);
- ``erasing``: one random rectangle filled with noise (`v2.RandomErasing`);
- ``elastic``: a smooth random displacement field (`v2.ElasticTransform`);
- ``lesion-mix``: the image's lesion (its mask) pasted onto the skin of another image of the set, whose
  own lesion is first filled in from the surrounding skin (`lesion_mix`); the label is the pasted lesion's.

Every pipeline ends by clipping to [0, 1] (the noise of random erasing is N(0, 1)). v2 draws its random
parameters from torch's global generator, so `augment_images` runs under a forked RNG seeded explicitly:
the same seed gives the same augmented batch and the caller's RNG is left alone.
Test-time augmentation (`predict_tta`) averages the predicted probabilities of k augmented copies, the
paper's "same data augmentation as training" (64 copies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from core.errors import InputError
from vision_attention.augment.config import SCENARIO_NAMES, AugmentConfig, check_scenarios

__all__ = [
    "SCENARIO_STEPS",
    "Scenario",
    "augment_images",
    "build_scenario",
    "fill_lesion",
    "lesion_mix",
    "predict_probabilities",
    "predict_tta",
]

SCENARIO_STEPS: dict[str, tuple[str, ...]] = {
    "a-none": (),
    "b-color": ("color",),
    "c-color-hue": ("color-hue",),
    "d-affine": ("affine",),
    "e-flips": ("flips",),
    "f-crops": ("crops",),
    "g-erasing": ("erasing",),
    "h-elastic": ("elastic",),
    "i-lesion-mix": ("lesion-mix",),
    "j-basic": ("crops", "affine", "flips", "color-hue"),
    "k-basic-erasing": ("crops", "erasing", "affine", "flips", "color-hue"),
    "l-basic-elastic": ("crops", "affine", "elastic", "flips", "color-hue"),
    "m-basic-mix": ("lesion-mix", "crops", "affine", "flips", "color-hue"),
}
"""The steps of each scenario, in the paper's order (j = f d e c, k = f g d e c, l = f d h e c, m = i f d e c)."""
assert tuple(SCENARIO_STEPS) == SCENARIO_NAMES


def _clip(image: torch.Tensor) -> torch.Tensor:
    return image.clamp(0.0, 1.0)


def _step(name: str, config: AugmentConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    c = config
    if name == "color":
        return v2.ColorJitter(brightness=c.color, contrast=c.color, saturation=c.color)
    if name == "color-hue":
        return v2.ColorJitter(brightness=c.color, contrast=c.color, saturation=c.color, hue=c.hue)
    if name == "affine":
        return v2.RandomAffine(degrees=c.degrees, shear=c.shear, scale=(1 - c.scale, 1 + c.scale))
    if name == "flips":
        return v2.Compose([v2.RandomHorizontalFlip(), v2.RandomVerticalFlip()])
    if name == "crops":
        return v2.RandomResizedCrop(c.size, scale=(c.crop_area, 1.0), ratio=(3 / 4, 4 / 3), antialias=True)
    if name == "erasing":
        return v2.RandomErasing(p=c.erase_probability, scale=c.erase_area, ratio=(0.3, 3.3), value="random")
    if name == "elastic":
        return v2.ElasticTransform(alpha=c.elastic_alpha, sigma=c.elastic_sigma)
    raise InputError("unknown augmentation step", item=name)


@dataclass(frozen=True)
class Scenario:
    """One named scenario: ``mixes`` (lesion mix first) and the v2 ``pipeline`` of the image-only steps."""

    name: str
    steps: tuple[str, ...]
    mixes: bool
    mix_probability: float
    pipeline: v2.Compose

    @property
    def is_identity(self) -> bool:
        """True for scenario (a): no augmentation."""
        return not self.steps


def build_scenario(name: str, config: AugmentConfig | None = None) -> Scenario:
    """The scenario `name` (one of `SCENARIO_NAMES`, or its letter) with the parameters of `config`.

    Raises:
        InputError: an unknown scenario name (the message lists the valid ones).
    """
    config = AugmentConfig() if config is None else config
    (name,) = check_scenarios([name])
    steps = SCENARIO_STEPS[name]
    image_steps = [_step(step, config) for step in steps if step != "lesion-mix"]
    return Scenario(
        name=name,
        steps=steps,
        mixes="lesion-mix" in steps,
        mix_probability=config.mix_probability,
        pipeline=v2.Compose([*image_steps, _clip]),
    )


def fill_lesion(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`image` ``(3, s, s)`` with its lesion (soft `mask` ``(1, s, s)`` in [0, 1]) filled in from the
    surrounding skin: a normalised Gaussian convolution of the skin pixels (sigma s/6), blended by the mask."""
    side = image.shape[-1]
    sigma = side / 6
    kernel = 2 * round(1.5 * sigma) + 1
    weight = (1 - mask).clamp(0, 1)
    numerator = TF.gaussian_blur(image * weight, [kernel, kernel], [sigma, sigma])
    denominator = TF.gaussian_blur(weight, [kernel, kernel], [sigma, sigma])
    mean_skin = (image * weight).sum((1, 2), keepdim=True) / weight.sum().clamp_min(1e-6)
    smooth = torch.where(denominator > 1e-3, numerator / denominator.clamp_min(1e-3), mean_skin)
    return weight * image + (1 - weight) * smooth


def lesion_mix(
    image: torch.Tensor, mask: torch.Tensor, background: torch.Tensor, background_mask: torch.Tensor
) -> torch.Tensor:
    """The lesion of `image` (where `mask` is 1) on the skin of `background`, whose own lesion
    (`background_mask`) is filled in first (`fill_lesion`). All ``(3 or 1, s, s)`` in [0, 1]."""
    return mask * image + (1 - mask) * fill_lesion(background, background_mask)


def augment_images(
    scenario: Scenario,
    images: torch.Tensor,
    seed: int,
    masks: torch.Tensor | None = None,
    pool: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Each of ``images (n, 3, s, s)`` augmented independently by `scenario`, deterministic in `seed`.

    Lesion mix needs the images' `masks` ``(n, 1, s, s)`` and a `pool` ``(images, masks)`` of backgrounds
    (the training set at training time, the test set at test time); a background is drawn at random.

    Raises:
        InputError: a lesion-mix scenario without masks or pool.
    """
    if scenario.is_identity:
        return images
    if scenario.mixes and (masks is None or pool is None):
        raise InputError(
            f"scenario {scenario.name} needs lesion masks (ISIC: the Part 1 segmentation ground truth) "
            "for the images and the background pool",
            item="masks=None" if masks is None else "pool=None",
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = []
        for k in range(len(images)):
            image = images[k]
            if scenario.mixes and float(torch.rand(())) < scenario.mix_probability:
                other = int(torch.randint(len(pool[0]), ()))
                image = lesion_mix(image, masks[k], pool[0][other], pool[1][other])
            out.append(scenario.pipeline(image))
    return torch.stack(out)


def predict_probabilities(
    model: torch.nn.Module, images: torch.Tensor, batch_size: int = 256
) -> torch.Tensor:
    """``sigmoid(model(images))`` ``(n,)`` for a model with one output logit, in eval mode, in batches."""
    model.eval()
    with torch.no_grad():
        return torch.cat([torch.sigmoid(model(part)).reshape(-1) for part in images.split(batch_size)])


def predict_tta(
    model: torch.nn.Module,
    images: torch.Tensor,
    scenario: Scenario,
    copies: int,
    seed: int,
    masks: torch.Tensor | None = None,
    pool: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Test-time augmentation: the mean over `copies` augmented copies (copy c seeded ``seed + c``) of the
    predicted probabilities ``(n,)``. For scenario (a) this is the plain prediction.

    Raises:
        InputError: copies below 1.
    """
    if not isinstance(copies, int) or isinstance(copies, bool) or copies < 1:
        raise InputError("test-time augmentation needs copies >= 1", item=copies)
    if scenario.is_identity:
        return predict_probabilities(model, images)
    total = torch.zeros(len(images))
    for c in range(copies):
        total += predict_probabilities(model, augment_images(scenario, images, seed + c, masks, pool))
    return total / copies
