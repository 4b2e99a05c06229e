"""MMD-GAN with the repulsive loss and the bounded Gaussian kernel (Wang, Sun & Halgamuge 2019), and a hinge GAN.

With a kernel ``k_D(a, b) = k(D(a), D(b))`` on the discriminator's outputs, the unbiased estimate
``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` (x real, y generated, off-diagonal means within a
set) is the generator's loss for every MMD variant. The discriminator minimises

- ``mmd`` (standard MMD-GAN): ``-MMD^2``;
- ``repulsive`` (the paper's eq. 4): ``E k(x, x') - E k(y, y')``, which pulls generated outputs
  together and pushes real ones apart, so D learns the fine differences between real samples.

RBF-B (sec. 4): in the discriminator's loss only, real-real squared distances are clipped above at
``b_u`` and generated-generated ones below at ``b_l``: ``exp(-min(d2, b_u) / 2 sigma^2)`` and
``exp(-max(d2, b_l) / 2 sigma^2)``, so, as with a hinge, D gains nothing from pushing real outputs
apart beyond ``b_u`` or pulling generated ones closer than ``b_l`` (as in the authors' code,
``mmd_g_bounded`` with the repulsive weights). Spectral normalisation is torch's
``parametrizations.spectral_norm`` on every discriminator layer.

Sample quality: `frechet_distance` between Gaussians fitted to the features of a classifier trained
on the real data (`FeatureClassifier`), an FID-style score for images too small for Inception.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from core.errors import InputError
from genmodels.config import MMDGANConfig, MMDGANRunConfig

__all__ = [
    "MMDGAN",
    "FeatureClassifier",
    "MMDGANConfig",
    "MMDGANRunConfig",
    "discriminator_loss",
    "fit_classifier",
    "fit_mmd_gan",
    "frechet_distance",
    "generator_loss",
    "kernel_terms",
    "mmd2_unbiased",
]


def _sq_distances(a: Tensor, b: Tensor) -> Tensor:
    return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)


def _off_diagonal_mean(matrix: Tensor) -> Tensor:
    n = matrix.shape[0]
    return (matrix.sum() - matrix.diagonal().sum()) / (n * (n - 1))


def kernel_terms(
    fx: Tensor, fy: Tensor, sigma: float, bounds: tuple[float, float] | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """``(E k(x, x'), E k(y, y'), E k(x, y))`` of the Gaussian kernel on features ``(n, d)`` and ``(m, d)``.

    Within-set means leave out the diagonal (the unbiased estimator). `bounds` ``(b_l, b_u)``: RBF-B's
    clipping of real-real distances above at b_u and generated-generated distances below at b_l.

    Raises:
        InputError: not two 2-D tensors of one feature size with at least 2 rows each.
    """
    if fx.dim() != 2 or fy.dim() != 2 or fx.shape[1] != fy.shape[1] or min(len(fx), len(fy)) < 2:
        raise InputError(
            "kernel terms take (n >= 2, d) and (m >= 2, d) features", item=(tuple(fx.shape), tuple(fy.shape))
        )
    dxx, dyy, dxy = _sq_distances(fx, fx), _sq_distances(fy, fy), _sq_distances(fx, fy)
    if bounds is not None:
        dxx, dyy = dxx.clamp(max=bounds[1]), dyy.clamp(min=bounds[0])
    scale = 2.0 * sigma**2
    return (
        _off_diagonal_mean(torch.exp(-dxx / scale)),
        _off_diagonal_mean(torch.exp(-dyy / scale)),
        torch.exp(-dxy / scale).mean(),
    )


def mmd2_unbiased(fx: Tensor, fy: Tensor, sigma: float) -> Tensor:
    """The unbiased MMD^2 estimate of the Gaussian kernel of bandwidth `sigma` between two samples ``(n, d)``."""
    kxx, kyy, kxy = kernel_terms(fx, fy, sigma)
    return kxx + kyy - 2.0 * kxy


def discriminator_loss(config: MMDGANConfig, dx: Tensor, dy: Tensor) -> Tensor:
    """The discriminator's loss from its outputs on real `dx` and generated `dy` (see the module docstring)."""
    if config.loss == "hinge":
        return torch.relu(1.0 - dx).mean() + torch.relu(1.0 + dy).mean()
    bounds = (config.lower_bound, config.upper_bound) if config.kernel == "rbf-b" else None
    kxx, kyy, kxy = kernel_terms(dx, dy, config.sigma, bounds)
    if config.loss == "repulsive":
        return kxx - kyy
    return -(kxx + kyy - 2.0 * kxy)


def generator_loss(config: MMDGANConfig, dx: Tensor, dy: Tensor) -> Tensor:
    """The generator's loss: the unbiased MMD^2 (unbounded kernel) for the MMD losses, ``-E D(y)`` for hinge."""
    if config.loss == "hinge":
        return -dy.mean()
    return mmd2_unbiased(dx, dy, config.sigma)


class MMDGAN(nn.Module):
    """Generator ``z -> (c, h, w)`` in [0, 1] (linear, two stride-2 transposed convolutions with batch
    norm, a 3x3 convolution, sigmoid) and discriminator (three convolutions, leaky ReLU 0.1, linear to
    `features` outputs, 1 for hinge), spectrally normalised when configured."""

    def __init__(self, config: MMDGANConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        k = config.width
        self.base = (4 * k, h // 4, w // 4)
        self.generator = nn.Sequential(
            nn.Linear(config.noise_dim, 4 * k * (h // 4) * (w // 4)),
            nn.ReLU(),
            nn.Unflatten(1, self.base),
            nn.ConvTranspose2d(4 * k, 2 * k, 4, 2, 1),
            nn.BatchNorm2d(2 * k),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * k, k, 4, 2, 1),
            nn.BatchNorm2d(k),
            nn.ReLU(),
            nn.Conv2d(k, c, 3, 1, 1),
            nn.Sigmoid(),
        )
        norm = spectral_norm if config.spectral_norm else (lambda layer: layer)
        out = 1 if config.loss == "hinge" else config.features
        self.discriminator = nn.Sequential(
            norm(nn.Conv2d(c, k, 3, 1, 1)),
            nn.LeakyReLU(0.1),
            norm(nn.Conv2d(k, 2 * k, 4, 2, 1)),
            nn.LeakyReLU(0.1),
            norm(nn.Conv2d(2 * k, 4 * k, 4, 2, 1)),
            nn.LeakyReLU(0.1),
            nn.Flatten(),
            norm(nn.Linear(4 * k * (h // 4) * (w // 4), out)),
        )

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """`n` images ``(n, c, h, w)`` from ``z ~ N(0, I)`` drawn with `generator`."""
        z = torch.randn(n, self.config.noise_dim, generator=generator)
        return self.generator(z.to(next(self.parameters()).device))


def fit_mmd_gan(
    images: Tensor,
    config: MMDGANRunConfig,
    *,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[MMDGAN, list[dict[str, float]]]:
    """Train on images ``(n, c, h, w)`` in [0, 1] through the shared resumable loop (`genmodels.train`).

    Each step: one Adam step of the discriminator, then one of the generator on fresh noise
    (Adam betas 0.5, 0.99, the paper's). Returns the model (generator in eval mode) and the history.

    Raises:
        InputError: images of another shape than ``config.model.image_shape``.
    """
    from genmodels.train import run_epochs

    if images.dim() != 4 or tuple(images.shape[1:]) != tuple(config.model.image_shape):
        raise InputError(
            "images do not fit the MMD-GAN config",
            item=f"shape {tuple(images.shape)}",
            expected=f"(n, {', '.join(map(str, config.model.image_shape))})",
        )
    data = images.float()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = MMDGAN(config.model)
    rate, betas = config.train.learning_rate, (0.5, 0.99)
    d_opt = torch.optim.Adam(model.discriminator.parameters(), lr=rate, betas=betas)
    g_opt = torch.optim.Adam(model.generator.parameters(), lr=rate, betas=betas)
    noise = torch.Generator().manual_seed(config.train.seed)

    def step(index: Tensor, generator: torch.Generator, global_step: int) -> dict[str, float]:
        model.train()
        real = data[index]
        fake = model.sample(len(index), generator)
        d_loss = discriminator_loss(
            config.model, model.discriminator(real), model.discriminator(fake.detach())
        )
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        fake = model.sample(len(index), generator)
        g_loss = generator_loss(config.model, model.discriminator(real), model.discriminator(fake))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(model.generator.parameters()))
        g_opt.step()
        return {"discriminator": float(d_loss.detach()), "generator": float(g_loss.detach())}

    history = run_epochs(
        desc=f"MMD-GAN {config.model.loss}",
        train=config.train,
        run_config=config,
        run_type=MMDGANRunConfig,
        size=len(data),
        step=step,
        stateful={"model": model, "d_opt": d_opt, "g_opt": g_opt},
        generator=noise,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    model.eval()
    return model, history


class FeatureClassifier(nn.Module):
    """A small CNN classifier of ``(c, h, w)`` images; `features` gives its penultimate layer (the FD features)."""

    def __init__(
        self, image_shape: tuple[int, ...], classes: int, width: int = 32, features: int = 64
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.body = nn.Sequential(
            nn.Conv2d(c, width, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * (h // 4) * (w // 4), features),
            nn.ReLU(),
        )
        self.head = nn.Linear(features, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def features(self, x: Tensor, batch_size: int = 500) -> np.ndarray:
        """Penultimate activations ``(n, features)`` as float64 numpy."""
        self.eval()
        return (
            torch.cat([self.body(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
            .double()
            .numpy()
        )


def fit_classifier(
    images: Tensor, labels: Tensor, epochs: int = 5, seed: int = 0, batch_size: int = 64
) -> FeatureClassifier:
    """Train a `FeatureClassifier` by cross-entropy (Adam 1e-3); deterministic given `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(tuple(images.shape[1:]), int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), batch_size):
            index = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between Gaussians fitted to features ``(n, d)``, ``(m, d)``.

    Raises:
        InputError: not 2-D arrays of one feature size with at least 2 rows each.
    """
    from scipy.linalg import sqrtm

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InputError(
            "frechet_distance takes (n >= 2, d) and (m >= 2, d) features", item=(a.shape, b.shape)
        )
    mean = a.mean(0) - b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = sqrtm(cov_a @ cov_b)
    root = np.real(root)
    return float(mean @ mean + np.trace(cov_a + cov_b - 2.0 * root))
