"""Analysis by synthesis (ABS; Schott et al. 2019, sec. 22): one VAE per class, classification by optimised ELBOs.

One small VAE per class (`ClassVAE`: an MLP encoder and a sigmoid MLP decoder ``G_y``, latent size
``latent``, Gaussian likelihood of fixed standard deviation ``sigma_x``) is trained on that class's
images (`fit_abs`: resumable, checkpointed every epoch). The encoders are then discarded: for an
input ``x`` and each class ``y``, `ABS` maximises over the latent ``z`` the lower bound

    ``b_y(x, z) = log N(x; G_y(z), sigma_x^2 I) - KL(N(z, sigma_q^2 I) || N(0, I))``
    ``         = -|x - G_y(z)|^2 / (2 sigma_x^2) - D/2 log(2 pi sigma_x^2) - 1/2 sum_j (sigma_q^2 + z_j^2 - 1 - log sigma_q^2)``

(the decoder is evaluated at the posterior mean, as in ABS), first by the best of ``samples``
latents drawn once from the prior (their decodings are cached), then by ``steps`` Adam steps of
size ``lr`` from it. ``l_y*(x) = max_z b_y(x, z)``; the class scores are ``alpha x l_y*(x)``
(ABS's scaled softmax: ``p(y | x) = softmax(alpha l*)``; the forward pass returns these logits).

Gradients for attacks (the attacks through the latent optimisation):

- ``gradient="danskin"`` (default): the optimised ``z*`` is treated as a constant and ``b_y(x, z*)``
  differentiated in ``x``; by Danskin's theorem this is the gradient of ``l_y*`` where ``z*`` is the
  exact maximiser, so attacks see the true gradient of the bound.
- ``gradient="unrolled"``: the gradient flows back through the ``steps`` Adam steps (the latent
  optimisation unrolled, differentiated with ``create_graph``), from the random-search start.

`reject(x)` abstains where the best bound ``max_y l_y*`` is below a threshold calibrated on clean
images (`calibrate`), i.e. where no class explains the input. `L0Greedy` is a gradient-guided
L0 attack (each step sets the ``pixels_per_step`` untouched pixels with the largest first-order gain
to 0 or 1) for ABS's L0 threat model.

Both attacks on ABS ascend the logit margin (`margin_loss`, as `MarginPGD` does for L-inf / L2):
ABS's logits are unnormalised bounds hundreds of nats apart, where softmax cross-entropy saturates
and its gradient underflows to zero in float32 (a gradient-masking artefact, not robustness).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from core.resume import extendable
from robust.attacks.base import Attack, check_budget
from robust.attacks.pgd import PGD
from robust.data import ImageData
from robust.defenses.gp_reject import conformal_threshold
from robust.train import resume_from

__all__ = [
    "ABS",
    "ABSConfig",
    "ClassVAE",
    "L0Greedy",
    "MarginPGD",
    "elbo_bound",
    "fit_abs",
    "fit_abs_genmodels",
    "load_abs",
    "margin_loss",
]


def margin_loss(logits: Tensor, y: Tensor, targeted: bool = False) -> Tensor:
    """``(n,)`` best other logit minus the label's (targeted: the target's minus the best other)."""
    true = logits.gather(1, y[:, None])[:, 0]
    other = logits.scatter(1, y[:, None], float("-inf")).max(1).values
    return true - other if targeted else other - true


class MarginPGD(PGD):
    """`PGD` (same arguments) ascending `margin_loss` instead of cross-entropy (no saturation)."""

    name = "pgd-margin"

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        return margin_loss(logits, y, self.targeted)


class ClassVAE(nn.Module):
    """MLP VAE: ``x (n, D) -> (mean, log_var) (n, latent)``; ``decoder: (n, latent) -> (n, D)`` in [0, 1]."""

    def __init__(self, pixels: int, latent: int = 8, hidden: int = 256) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Sigmoid()
        )
        self.latent = latent

    def loss(self, x: Tensor, sigma_x: float, generator: torch.Generator) -> Tensor:
        """Negative ELBO (one reparameterised sample), summed over the batch ``x (n, D)``."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        eps = torch.randn(mean.shape, generator=generator).to(mean.device, mean.dtype)
        z = mean + eps * (0.5 * log_var).exp()
        squared = (x - self.decoder(z)).pow(2).sum()
        kl = 0.5 * (log_var.exp() + mean.pow(2) - 1 - log_var).sum()
        return squared / (2 * sigma_x**2) + kl


def elbo_bound(x: Tensor, decoded: Tensor, z: Tensor, sigma_x: float, sigma_q: float) -> Tensor:
    """ABS's bound ``b(x, z)`` for flat ``x (..., D)``, ``decoded = G(z) (..., D)``, ``z (..., k)``; shape ``(...)``."""
    pixels, latent = x.shape[-1], z.shape[-1]
    likelihood = -(x - decoded).pow(2).sum(-1) / (2 * sigma_x**2) - 0.5 * pixels * math.log(
        2 * math.pi * sigma_x**2
    )
    kl = 0.5 * (z.pow(2).sum(-1) + latent * (sigma_q**2 - 1 - math.log(sigma_q**2)))
    return likelihood - kl


class ABS(nn.Module):
    """The ABS classifier over per-class decoders.

    Args:
        decoders: one module per class mapping ``(n, latent)`` to ``(n, D)`` flat images.
        latent: latent size.
        image_shape: ``(c, h, w)`` of the inputs (``D = c h w``).
        sigma_x: the likelihood's standard deviation; sigma_q: the fixed posterior standard deviation.
        samples: prior draws of the random search (ABS: 8,000).
        steps, lr: Adam steps on the latents and their size (ABS: 50 steps).
        alpha: the scaled softmax's factor (logits ``alpha l*``).
        gradient: ``"danskin"`` or ``"unrolled"`` (see the module docstring).
        seed: the prior draws' generator.
    """

    def __init__(
        self,
        decoders: list[nn.Module] | nn.ModuleList,
        latent: int,
        image_shape: tuple[int, int, int],
        *,
        sigma_x: float = 0.3,
        sigma_q: float = 1.0,
        samples: int = 1000,
        steps: int = 20,
        lr: float = 0.05,
        alpha: float = 1.0,
        gradient: Literal["danskin", "unrolled"] = "danskin",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if len(decoders) < 2:
            raise InputError("ABS needs one decoder per class (at least 2)", item=f"{len(decoders)} decoders")
        for name, value in (("sigma_x", sigma_x), ("sigma_q", sigma_q), ("lr", lr), ("alpha", alpha)):
            check_budget(name, value, positive=True)
        check_budget("samples", samples, positive=True, integer=True)
        check_budget("steps", steps, integer=True)
        check_budget("latent", latent, positive=True, integer=True)
        if gradient not in ("danskin", "unrolled"):
            raise InputError(
                "unknown gradient", item=f"gradient={gradient!r}", expected="'danskin' or 'unrolled'"
            )
        self.decoders = nn.ModuleList(decoders)
        self.latent, self.image_shape = latent, tuple(image_shape)
        self.sigma_x, self.sigma_q, self.steps, self.lr, self.alpha = sigma_x, sigma_q, steps, lr, alpha
        self.gradient = gradient
        for p in self.decoders.parameters():
            p.requires_grad_(False)
        prior = torch.randn(samples, latent, generator=torch.Generator().manual_seed(seed))
        self.register_buffer("prior", prior)
        with torch.no_grad():
            self.register_buffer("prior_images", torch.stack([d(prior) for d in self.decoders]))  # (C, S, D)
        self.threshold = -float("inf")

    def _decode(self, z: Tensor) -> Tensor:
        """``z (n, C, k) -> (n, C, D)``: each class's decoder on its latents."""
        return torch.stack([d(z[:, c]) for c, d in enumerate(self.decoders)], dim=1)

    def _flat(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x[0].numel() != self.prior_images.shape[-1]:
            raise InputError(
                f"ABS expects images of {self.image_shape} ({self.prior_images.shape[-1]} values each)",
                item=f"shape {tuple(x.shape)}",
            )
        return x.flatten(1)

    def search(self, x: Tensor) -> Tensor:
        """``(n, C, k)`` the best prior sample per class (no gradient)."""
        flat = self._flat(x).detach()
        with torch.no_grad():
            images = self.prior_images  # (C, S, D)
            squared = (
                flat.pow(2).sum(1)[:, None, None]
                - 2 * torch.einsum("nd,csd->ncs", flat, images)
                + images.pow(2).sum(-1)[None]
            )
            bound = -squared / (2 * self.sigma_x**2) - 0.5 * self.prior.pow(2).sum(1)
            return self.prior[bound.argmax(2)]  # (n, C, k)

    def optimise(self, x: Tensor, z: Tensor, *, keep_graph: bool = False) -> Tensor:
        """Adam ascent of the bound from ``z (n, C, k)``; differentiable in ``x`` when `keep_graph`."""
        flat = self._flat(x)
        target = flat if keep_graph else flat.detach()
        first, second = torch.zeros_like(z), torch.zeros_like(z)
        z = z.detach().requires_grad_(True)
        for step in range(1, self.steps + 1):
            with torch.enable_grad():
                z_in = z if z.requires_grad else z.requires_grad_(True)
                value = elbo_bound(
                    target[:, None], self._decode(z_in), z_in, self.sigma_x, self.sigma_q
                ).sum()
                (grad,) = torch.autograd.grad(value, z_in, create_graph=keep_graph)
            first = 0.9 * first + 0.1 * grad
            second = 0.999 * second + 0.001 * grad.pow(2)
            update = (
                self.lr * (first / (1 - 0.9**step)) / ((second / (1 - 0.999**step) + 1e-16).sqrt() + 1e-8)
            )
            z = z + update if keep_graph else (z + update).detach()
        return z

    def bounds(self, x: Tensor) -> Tensor:
        """``(n, C)`` the optimised bounds ``l_y*(x)``, differentiable in ``x`` (by `gradient`)."""
        flat = self._flat(x)
        z = self.search(x)
        if self.gradient == "unrolled" and torch.is_grad_enabled() and flat.requires_grad:
            z = self.optimise(x, z, keep_graph=True)
        else:
            z = self.optimise(x, z).detach()  # Danskin: z* fixed, gradient of b(x, z*) in x
        return elbo_bound(flat[:, None], self._decode(z), z, self.sigma_x, self.sigma_q)

    def forward(self, x: Tensor) -> Tensor:
        return self.alpha * self.bounds(x)

    def rejection_score(self, x: Tensor) -> Tensor:
        """``(n,)`` minus the best class bound (high: no class explains the input)."""
        return -self.bounds(x).max(1).values

    @torch.no_grad()
    def calibrate(self, x: Tensor, fpr: float) -> float:
        """Set the rejection threshold to a clean false-positive rate `fpr` on images ``x``."""
        self.threshold = conformal_threshold(self.rejection_score(x), fpr)
        return self.threshold

    @torch.no_grad()
    def reject(self, x: Tensor) -> Tensor:
        """``(n,)`` bool: True where the best bound is below the calibrated level."""
        return self.rejection_score(x) > self.threshold


class L0Greedy(Attack):
    """Gradient-guided L0 attack: up to ``pixels`` pixel values set to 0 or 1, ``pixels_per_step`` at a time.

    Each step takes the gradient ``g`` of `margin_loss` and, among pixels not yet changed, sets those with the
    largest first-order gain ``g (t - x)`` (``t = 1`` where ``g > 0``, else 0) to ``t``; it stops per
    example once the model is fooled. Cost: ``ceil(pixels / pixels_per_step)`` gradient calls at most.
    """

    name = "l0-greedy"

    def __init__(
        self,
        model: nn.Module,
        pixels: int = 20,
        pixels_per_step: int = 2,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        check_budget("pixels", pixels, positive=True, integer=True)
        check_budget("pixels_per_step", pixels_per_step, positive=True, integer=True)
        self.pixels, self.pixels_per_step = pixels, pixels_per_step

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        return margin_loss(logits, y, self.targeted)

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        x_adv = x.clone()
        changed = torch.zeros_like(x, dtype=torch.bool).flatten(1)
        active = ~self.succeeded(x_adv, y)
        used = 0
        while used < self.pixels and bool(active.any()):
            take = min(self.pixels_per_step, self.pixels - used)
            grad = self.loss_gradient(x_adv, y, active).flatten(1)
            flat = x_adv.flatten(1)
            target = (grad > 0).to(flat.dtype)
            gain = (grad * (target - flat)).masked_fill(changed, float("-inf"))
            chosen = gain.topk(take, dim=1).indices
            rows = torch.nonzero(active).flatten()
            new = flat.clone()
            new[rows[:, None], chosen[rows]] = target[rows[:, None], chosen[rows]]
            changed[rows[:, None], chosen[rows]] = True
            x_adv = new.view_as(x)
            used += take
            active &= ~self.succeeded(x_adv, y)
        return x_adv

    def budget(self) -> dict[str, object]:
        return {"norm": "l0", "eps": self.pixels, "pixels_per_step": self.pixels_per_step}


# --- training ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABSConfig:
    """Training of the per-class VAEs.

    Attributes:
        latent, hidden: VAE latent size (ABS: 8) and hidden width.
        sigma_x: the Gaussian likelihood's standard deviation (also used by `ABS`).
        image_shape: ``(c, h, w)``; num_classes; data: the data set's name (checked).
        epochs (extendable), batch_size, learning_rate (Adam), seed.
    """

    latent: int = 8
    hidden: int = 256
    sigma_x: float = 0.3
    image_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    data: str = "mnist5000"
    epochs: int = extendable(20)
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latent", "hidden", "num_classes", "epochs", "batch_size"):
            check_budget(name, getattr(self, name), positive=True, integer=True)
        check_budget("sigma_x", self.sigma_x, positive=True)
        check_budget("learning_rate", self.learning_rate, positive=True)
        if len(self.image_shape) != 3:
            raise InputError("image_shape must be (c, h, w)", item=f"image_shape={self.image_shape!r}")


def _build_vaes(config: ABSConfig) -> nn.ModuleList:
    pixels = math.prod(config.image_shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return nn.ModuleList(
            ClassVAE(pixels, config.latent, config.hidden) for _ in range(config.num_classes)
        )


def fit_abs(
    data: ImageData,
    config: ABSConfig,
    checkpoint: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
) -> tuple[nn.ModuleList, list[dict[str, float]]]:
    """Train one VAE per class on ``data``'s training split (all in one loop, one Adam; resumable).

    Returns ``(vaes, history)`` with per-epoch ``train_loss`` (negative ELBO per image) and
    cumulative ``train_seconds``. Build the classifier with ``ABS([v.decoder for v in vaes], ...)``.
    """
    if data.name != config.data or tuple(data.image_shape) != tuple(config.image_shape):
        raise InputError(
            f"the data ({data.name}, {tuple(data.image_shape)}) does not fit the config "
            f"({config.data}, {tuple(config.image_shape)})"
        )
    if data.num_classes != config.num_classes:
        raise InputError(f"the data has {data.num_classes} classes, the config {config.num_classes}")
    device = torch.device(device)
    vaes = _build_vaes(config).to(device)
    optimizer = torch.optim.Adam(vaes.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    path = Path(checkpoint) if checkpoint is not None else None
    history, start, _ = resume_from(path, config, vaes, optimizer, generator, device=device)
    x_train, y_train = data.x_train.flatten(1).to(device), data.y_train.to(device)
    seconds = history[-1]["train_seconds"] if history else 0.0
    for epoch in progress(range(start + 1, config.epochs + 1), desc="train ABS VAEs"):
        began = time.perf_counter()
        vaes.train()
        order = torch.randperm(len(x_train), generator=generator).to(device)
        total = 0.0
        for batch in order.split(config.batch_size):
            xb, yb = x_train[batch], y_train[batch]
            loss = sum(vaes[c].loss(xb[yb == c], config.sigma_x, generator) for c in yb.unique().tolist())
            optimizer.zero_grad(set_to_none=True)
            (loss / len(batch)).backward()
            optimizer.step()
            total += float(loss.detach())
        vaes.eval()
        seconds += time.perf_counter() - began
        history.append({"epoch": epoch, "train_loss": total / len(x_train), "train_seconds": seconds})
        if path is not None:
            state = {
                "model": vaes.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
            }
            save_checkpoint(path, state, config, extra={"epoch": epoch, "history": history})
    return vaes.eval(), history


def load_abs(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.ModuleList, ABSConfig]:
    """The VAEs saved by `fit_abs` and their config."""
    saved = load_checkpoint(path, ABSConfig, map_location=device)
    vaes = _build_vaes(saved.config)
    load_state_into(vaes, saved.state["model"], source=Path(path))
    return vaes.to(device).eval(), saved.config


def fit_abs_genmodels(
    data: ImageData,
    config: ABSConfig,
    folder: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
) -> tuple[list[nn.Module], list[dict[str, float]]]:
    """ABS's per-class VAEs as `genmodels` VAEs: one `genmodels.fit_vae` run per class (resumable).

    Each class's training images train an MLP `genmodels.VAE` (``VAEConfig("mlp", hidden=(config.hidden,),
    latent_dim=config.latent, likelihood="gaussian", sigma=config.sigma_x)``, objective ``"elbo"``, Adam
    ``config.learning_rate``, batch ``config.batch_size``, ``config.epochs`` epochs, seed ``config.seed + c``),
    checkpointed as ``folder/class<c>.safetensors``. The Gaussian likelihood's mean is the decoder's output
    itself (no sigmoid, unlike `ClassVAE`), the same bound up to that.

    Returns:
        ``(decoders, history)``: one module per class mapping ``(n, latent)`` to flat ``(n, D)``
        images (`ABS`'s input), and one row per class with its final ``elbo`` (per image, nats) and
        ``train_seconds``.
    """
    import numpy as np

    from genmodels import ImageSet, ObjectiveConfig, VAEConfig, VAERunConfig, fit_vae
    from genmodels import TrainConfig as VAETrainConfig

    if tuple(data.image_shape) != tuple(config.image_shape) or data.num_classes != config.num_classes:
        raise InputError(
            f"the data ({data.name}, {tuple(data.image_shape)}, {data.num_classes} classes) does not fit the "
            f"config ({config.data}, {tuple(config.image_shape)}, {config.num_classes} classes)"
        )
    decoders: list[nn.Module] = []
    history: list[dict[str, float]] = []
    images, labels = data.x_train.cpu().numpy().astype(np.float32), data.y_train.cpu().numpy()
    for c in range(config.num_classes):
        members = ImageSet(images[labels == c], None, f"{data.name} class {c}")
        run_config = VAERunConfig(
            VAEConfig(
                architecture="mlp",
                image_shape=tuple(config.image_shape),
                latent_dim=config.latent,
                hidden=(config.hidden,),
                likelihood="gaussian",
                sigma=config.sigma_x,
            ),
            ObjectiveConfig(kind="elbo"),
            VAETrainConfig(
                epochs=config.epochs,
                batch_size=config.batch_size,
                learning_rate=config.learning_rate,
                seed=config.seed + c,
            ),
        )
        path = Path(folder) / f"class{c}.safetensors" if folder is not None else None
        run = fit_vae(members, run_config, checkpoint=path, device=torch.device(device))
        vae = run.model.eval()
        decoders.append(nn.Sequential(vae.decoder, nn.Flatten()))
        last = run.history[-1]
        history.append(
            {
                "class": c,
                "elbo": float(last.get("elbo", float("nan"))),
                **{k: float(v) for k, v in last.items() if k in ("train_seconds", "seconds")},
            }
        )
    return decoders, history
