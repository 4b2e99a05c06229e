"""Fortified networks: denoising autoencoders in hidden layers (Lamb et al. 2018; sec. 21 of the notes).

A classifier ``nn.Sequential`` gets a denoising autoencoder ``g_l`` after each chosen layer ``l``;
the forward pass continues from ``g_l(h_l)`` instead of ``h_l``. Each ``g_l(h) = h + dec(enc(h))``
starts as the identity (`ResidualAutoencoder`; the residual form is ours). Network and autoencoders train
jointly on (Lamb et al.'s objective)

    CE(f(x_adv), y) + CE(f(x), y)
      + rec_weight * sum_l mean (g_l(h_l + sigma e) - h_l)^2      (denoising, clean hidden states)
      + adv_weight * sum_l mean (g_l(h_l^adv) - h_l)^2            (adversarial states to clean ones)

with ``x_adv`` from L-inf PGD through the whole fortified network (white-box, recomputed every
minibatch as in adversarial training). ``adversarial=False`` drops the adversarial terms (the
autoencoders then only denoise clean hidden states). The reconstruction targets ``h_l`` are
detached (the autoencoder learns to reach them, the layers below are not pulled towards it).
Evaluate with PGD on the fortified network itself: it is differentiable end to end, so the
white-box attack is the adaptive one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.config import TrainConfig
from robust.data import ImageData

__all__ = ["FortifiedConfig", "FortifiedNet", "ResidualAutoencoder", "fit_fortified", "load_fortified"]


@dataclass(frozen=True)
class FortifiedConfig:
    """One fortified-network run.

    Attributes:
        train: the classifier, data, epochs (extendable), batch size, learning rate and seed.
        layers: indices into the classifier ``nn.Sequential`` after which an autoencoder sits
            (default: after the LeNet's first pooling and its first hidden ReLU).
        hidden: autoencoder bottleneck: channels (conv states) or units (flat states) relative to
            the state's, as a fraction.
        noise_sigma: Gaussian noise added to hidden states before the denoising reconstruction.
        rec_weight, adv_weight: weights of the two reconstruction terms (ours: 1 and 1).
        adversarial: train on PGD examples (the paper's fortified + adversarial training).
        eps, alpha, steps: the training PGD (L-inf).
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    layers: tuple[int, ...] = (2, 8)
    hidden: float = 0.5
    noise_sigma: float = 0.1
    rec_weight: float = 1.0
    adv_weight: float = 1.0
    adversarial: bool = True
    eps: float = 0.1
    alpha: float = 0.025
    steps: int = 10

    def __post_init__(self) -> None:
        if not self.layers or list(self.layers) != sorted(set(self.layers)) or min(self.layers) < 0:
            raise InputError("layers must be ascending non-negative indices", item=f"layers={self.layers!r}")
        for name in ("noise_sigma", "rec_weight", "adv_weight", "eps", "alpha"):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(f"{name} must be >= 0", item=f"{name}={value!r}")
        if not 0 < self.hidden <= 4:
            raise InputError("hidden must be a fraction in (0, 4]", item=f"hidden={self.hidden!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise InputError("steps must be a positive integer", item=f"steps={self.steps!r}")


class ResidualAutoencoder(nn.Module):
    """``g(h) = h + body(h)``: an encoder / decoder pair whose last layer starts at zero, so a new
    fortified layer is the identity and fortification starts from the classifier it wraps (ours:
    with a plain encoder / decoder in front of a randomly initialised network the joint PGD training
    underfits, clean accuracy 0.53 after 4 epochs on MNIST-5000)."""

    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = body
        nn.init.zeros_(body[-1].weight)
        nn.init.zeros_(body[-1].bias)

    def forward(self, h: Tensor) -> Tensor:
        return h + self.body(h)


def _autoencoder(shape: tuple[int, ...], hidden: float) -> nn.Module:
    if len(shape) == 3:  # (c, h, w) feature maps: 3x3 conv encoder / decoder
        c = shape[0]
        k = max(1, round(c * hidden))
        return ResidualAutoencoder(
            nn.Sequential(nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.Conv2d(k, c, 3, padding=1))
        )
    if len(shape) == 1:
        d = shape[0]
        k = max(1, round(d * hidden))
        return ResidualAutoencoder(nn.Sequential(nn.Linear(d, k), nn.ReLU(), nn.Linear(k, d)))
    raise InputError("a fortified layer needs a (c, h, w) or flat hidden state", item=shape)


class FortifiedNet(nn.Module):
    """`base` (an ``nn.Sequential`` classifier) with a denoising autoencoder after each of `layers`.

    Args:
        base: the classifier; its layers are used as they are (not copied).
        layers: indices of `base` after which an autoencoder is inserted (not the last layer).
        input_shape: ``(c, h, w)`` of the images (to size the autoencoders).
        hidden: bottleneck fraction; noise_sigma: training noise of the denoising term.
    """

    def __init__(
        self,
        base: nn.Module,
        layers: tuple[int, ...],
        input_shape: tuple[int, int, int],
        hidden: float = 0.5,
        noise_sigma: float = 0.1,
    ) -> None:
        super().__init__()
        if not isinstance(base, nn.Sequential):
            raise InputError("FortifiedNet wraps an nn.Sequential classifier", item=type(base).__name__)
        bad = [i for i in layers if not 0 <= i < len(base) - 1]
        if bad:
            raise InputError(
                "fortified layer index outside the classifier", item=bad, expected=f"in [0, {len(base) - 1})"
            )
        self.base, self.layers, self.noise_sigma = base, tuple(layers), float(noise_sigma)
        shapes = {}
        with torch.no_grad():
            h = torch.zeros(1, *input_shape)
            for i, layer in enumerate(base):
                h = layer(h)
                if i in self.layers:
                    shapes[i] = tuple(h.shape[1:])
        self.autoencoders = nn.ModuleList([_autoencoder(shapes[i], hidden) for i in self.layers])

    def states(self, x: Tensor) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        """``(logits, [(h_l, g_l(h_l)) per fortified layer])``; the pass continues from ``g_l(h_l)``."""
        pairs = []
        h = x
        position = dict(zip(self.layers, self.autoencoders, strict=True))
        for i, layer in enumerate(self.base):
            h = layer(h)
            if i in position:
                reconstructed = position[i](h)
                pairs.append((h, reconstructed))
                h = reconstructed
        return h, pairs

    def forward(self, x: Tensor) -> Tensor:
        return self.states(x)[0]

    def denoising_loss(self, x: Tensor) -> Tensor:
        """``sum_l mean (g_l(h_l + sigma e) - h_l)^2`` along the clean pass (noise from torch's RNG)."""
        total = x.new_zeros(())
        h = x
        position = dict(zip(self.layers, self.autoencoders, strict=True))
        for i, layer in enumerate(self.base):
            h = layer(h)
            if i in position:
                target = h.detach()
                noisy = target + self.noise_sigma * torch.randn_like(target)
                total = total + (position[i](noisy) - target).pow(2).mean()
                h = position[i](h)
        return total


def _build(config: FortifiedConfig) -> FortifiedNet:
    from robust.models import build_model

    m = config.train.model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        base = build_model(m)
        return FortifiedNet(
            base,
            config.layers,
            (m.in_channels, m.image_size, m.image_size),
            config.hidden,
            config.noise_sigma,
        )


def fit_fortified(
    data: ImageData,
    config: FortifiedConfig,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
) -> tuple[FortifiedNet, list[dict[str, float]]]:
    """Train a fortified network on `data` (resumable; `checkpoint` rewritten after every epoch).

    Returns ``(network in eval mode, history)``; history rows carry ``test_accuracy``.
    """
    from robust.attacks import PGD
    from robust.defenses.module_training import train_module
    from robust.models import accuracy

    if data.name != config.train.data:
        raise InputError("data does not match the config", item=data.name, expected=config.train.data)
    device = torch.device(device)
    net = _build(config).to(device)
    attack = PGD(net, eps=config.eps, alpha=config.alpha, steps=config.steps, seed=config.train.seed)
    noise = torch.Generator().manual_seed(config.train.seed + 1)

    def batch_loss(epoch: int, batch: tuple[Tensor, ...]) -> Tensor:
        x, y = batch
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=noise)))
            denoise = net.denoising_loss(x)
        logits, clean_pairs = net.states(x)
        loss = nn.functional.cross_entropy(logits, y) + config.rec_weight * denoise
        if config.adversarial:
            x_adv = attack(x, y)
            adv_logits, adv_pairs = net.states(x_adv)
            matched = sum(
                (g_adv - h.detach()).pow(2).mean()
                for (h, _), (_, g_adv) in zip(clean_pairs, adv_pairs, strict=True)
            )
            loss = loss + nn.functional.cross_entropy(adv_logits, y) + config.adv_weight * matched
        return loss

    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    history = train_module(
        net,
        list(net.parameters()),
        (data.x_train.to(device), data.y_train.to(device)),
        batch_loss,
        config,
        epochs=config.train.epochs,
        batch_size=config.train.batch_size,
        learning_rate=config.train.learning_rate,
        seed=config.train.seed,
        checkpoint=checkpoint,
        desc="fortified " + config.train.model.architecture,
        end_epoch=lambda module: {"test_accuracy": accuracy(module, x_test, y_test)},
    )
    return net, history


def load_fortified(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[FortifiedNet, FortifiedConfig]:
    """The fortified network saved by `fit_fortified` at `path`, and its config."""
    from core.checkpoint import load_checkpoint, load_state_into

    saved = load_checkpoint(path, FortifiedConfig, map_location=device)
    net = _build(saved.config).to(device)
    load_state_into(net, saved.state["module"], source=path)
    return net.eval(), saved.config
