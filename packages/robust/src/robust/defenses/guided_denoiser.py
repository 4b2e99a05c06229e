"""High-level representation guided denoiser (HGD; Liao et al., CVPR 2018; sec. 30 of the notes).

A denoising U-Net ``D`` in front of a fixed target classifier ``f``, trained on pairs (adversarial
image, clean image) to minimise

- ``"pixel"`` (the paper's pixel-guided denoiser, PGD in its tables): ``|D(x_adv) - x|_1``,
- ``"logits"`` (LGD, the paper's best): ``|f(D(x_adv)) - f(x)|_1`` on the logits,
- ``"feature"`` (FGD): the same on the output of hidden layer ``feature_layer`` of ``f``,

each a mean over the elements (`guided_loss`). Like the paper's DUNET the network predicts the
adversarial noise and subtracts it, ``D(x) = x - U(x)``; its last convolution starts at zero, so an
untrained denoiser is the identity. The adversarial training images are crafted once on the target
(L-inf PGD, radii cycled over `train_eps`; the paper uses FGSM / I-FGSM of random radius on
several ImageNet models).

Athalye & Carlini (2018) break it: the denoiser is differentiable, so white-box PGD through
``f(D(x))`` (or BPDA with an identity backward) reaches the undefended error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from core.errors import InputError
from core.resume import extendable
from robust.data import ImageData

__all__ = [
    "DenoiserConfig",
    "DenoisingUNet",
    "adversarial_pairs",
    "fit_guided_denoiser",
    "guided_loss",
    "representation",
]

LOSSES = ("pixel", "logits", "feature")


@dataclass(frozen=True)
class DenoiserConfig:
    """One denoiser training run.

    Attributes:
        loss: ``"pixel"``, ``"logits"`` (LGD) or ``"feature"`` (FGD); see the module docstring.
        feature_layer: FGD's layer: index into the target ``nn.Sequential`` whose output is matched
            (``-2``: the last hidden ReLU of the LeNet / MLP).
        width: channels of the U-Net's first level (the second has twice as many).
        train_eps: L-inf radii of the training attacks, cycled over the training images.
        attack_steps: PGD steps of each training attack (step 2.5 eps / steps, random start).
        epochs: passes over the adversarial training set (extendable on resume).
        batch_size, learning_rate: Adam minibatches (the paper: Adam, lr 1e-3 then decayed).
        seed: the denoiser's initialisation, shuffling and attack seeds.
    """

    loss: Literal["pixel", "logits", "feature"] = "logits"
    feature_layer: int = -2
    width: int = 16
    train_eps: tuple[float, ...] = (0.1, 0.2, 0.3)
    attack_steps: int = 10
    epochs: int = extendable(10)
    batch_size: int = 50
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise InputError("unknown denoiser loss", item=f"loss={self.loss!r}", expected=" | ".join(LOSSES))
        for name in ("width", "attack_steps", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer", item=f"{name}={value!r}")
        if not self.train_eps or any(not (0 <= e <= 1) or math.isnan(e) for e in self.train_eps):
            raise InputError("train_eps must be radii in [0, 1]", item=f"train_eps={self.train_eps!r}")
        if not self.learning_rate > 0:
            raise InputError("learning_rate must be > 0", item=f"learning_rate={self.learning_rate!r}")


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=1), nn.ReLU())


class DenoisingUNet(nn.Module):
    """A two-level U-Net that predicts the noise: ``D(x) = x - U(x)`` for ``x (n, c, h, w)``.

    Levels: two 3x3 convolutions at full resolution (`width` channels), a stride-2 convolution and
    one more at half resolution (``2 width``), bilinear upsampling back, concatenation with the
    full-resolution features (the skip connection), one 3x3 and a zero-initialised 1x1 convolution
    to ``c`` channels. Any image size works (the upsampling targets the input size).
    """

    def __init__(self, channels: int = 1, width: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(_conv(channels, width), _conv(width, width))
        self.bottom = nn.Sequential(_conv(width, 2 * width, stride=2), _conv(2 * width, 2 * width))
        self.decoder = _conv(3 * width, width)
        self.noise = nn.Conv2d(width, channels, 1)
        nn.init.zeros_(self.noise.weight)
        nn.init.zeros_(self.noise.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.noise.out_channels:
            raise InputError(
                "the denoiser takes (n, c, h, w) images",
                item=tuple(x.shape),
                expected=f"c={self.noise.out_channels}",
            )
        skip = self.encoder(x)
        low = nn.functional.interpolate(
            self.bottom(skip), size=x.shape[-2:], mode="bilinear", align_corners=False
        )
        return x - self.noise(self.decoder(torch.cat([skip, low], 1)))


def representation(target: nn.Module, x: Tensor, loss: str, feature_layer: int = -2) -> Tensor:
    """What the guided loss compares: ``x`` itself (pixel), ``f(x)`` (logits) or ``f[: layer + 1](x)`` (feature)."""
    if loss == "pixel":
        return x
    if loss == "logits":
        return target(x)
    if loss == "feature":
        if not isinstance(target, nn.Sequential):
            raise InputError(
                "the feature-guided loss needs an nn.Sequential target", item=type(target).__name__
            )
        n = len(target)
        if not -n <= feature_layer < n:
            raise InputError(
                "feature_layer outside the target", item=feature_layer, expected=f"in [-{n}, {n})"
            )
        return target[: feature_layer % n + 1](x)
    raise InputError("unknown denoiser loss", item=repr(loss), expected=" | ".join(LOSSES))


def guided_loss(
    target: nn.Module, denoised: Tensor, clean: Tensor, loss: str = "logits", feature_layer: int = -2
) -> Tensor:
    """HGD's loss: the mean absolute difference ``mean |r(D(x_adv)) - r(x)|`` of the representations ``r``.

    The clean side carries no gradient (the target is fixed; only the denoiser learns).
    """
    with torch.no_grad():
        reference = representation(target, clean, loss, feature_layer)
    return (representation(target, denoised, loss, feature_layer) - reference).abs().mean()


def adversarial_pairs(
    target: nn.Module, x: Tensor, y: Tensor, eps: tuple[float, ...], steps: int, seed: int = 0
) -> Tensor:
    """L-inf PGD images on `target`, image ``i`` at radius ``eps[i % len(eps)]``; returns ``x_adv`` like `x`."""
    from robust.attacks import PGD
    from robust.evaluate import attack_in_batches

    out = x.clone()
    index = torch.arange(len(x))
    for k, radius in enumerate(eps):
        chosen = index[index % len(eps) == k]
        if radius == 0 or len(chosen) == 0:
            continue
        attack = PGD(target, eps=radius, alpha=2.5 * radius / steps, steps=steps, seed=seed + k)
        out[chosen] = attack_in_batches(attack, x[chosen], y[chosen])[0]
    return out


def fit_guided_denoiser(
    target: nn.Module,
    data: ImageData,
    config: DenoiserConfig,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
) -> tuple[DenoisingUNet, list[dict[str, float]]]:
    """Train a `DenoisingUNet` for the fixed classifier `target` on `data`'s training split.

    The target's mode, parameters and ``requires_grad`` flags are restored afterwards
    (`robust.guard.evaluation_mode`). Resumable: `checkpoint` is rewritten after every epoch.

    Returns:
        ``(denoiser in eval mode, history)``; each history row has ``train_loss`` and the
        ``test_accuracy`` of ``target(D(x))`` on the clean test split.
    """
    from robust.defenses.module_training import train_module
    from robust.guard import evaluation_mode
    from robust.models import accuracy

    device = torch.device(device)
    target.to(device)
    x, y = data.x_train.to(device), data.y_train.to(device)
    with evaluation_mode(target):
        representation(target, x[:1], config.loss, config.feature_layer)  # refuses a bad layer early
        x_adv = adversarial_pairs(target, x, y, config.train_eps, config.attack_steps, config.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            denoiser = DenoisingUNet(data.image_shape[0], config.width).to(device)

        def batch_loss(epoch: int, batch: tuple[Tensor, ...]) -> Tensor:
            adversarial, clean = batch
            return guided_loss(target, denoiser(adversarial), clean, config.loss, config.feature_layer)

        def end_epoch(module: nn.Module) -> dict[str, float]:
            x_test, y_test = data.x_test.to(device), data.y_test.to(device)
            return {"test_accuracy": accuracy(nn.Sequential(module, target), x_test, y_test)}

        history = train_module(
            denoiser,
            list(denoiser.parameters()),
            (x_adv, x),
            batch_loss,
            config,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            seed=config.seed,
            checkpoint=checkpoint,
            desc=f"{config.loss}-guided denoiser",
            end_epoch=end_epoch,
        )
    return denoiser, history
