"""Training defenses: adversarial training recipes on the shared loop of `robust.train`.

``fit_defense(data, DefenseConfig(train=TrainConfig(...), recipe=...), checkpoint=...)`` trains a
reference classifier with one of these per-minibatch objectives (resumable and checkpointed like
clean training; the run length ``train.epochs`` is the only field that may change on resume):

- ``"pgd"``: Madry et al. (2018) PGD adversarial training: the loss at an L-inf / L2 PGD example
  with random start (MNIST: eps 0.3, 40 steps of 0.01, the paper's budget and our defaults).
- ``"alp"``: adversarial logit pairing (Kannan, Kurakin & Goodfellow 2018): the mixed clean and
  adversarial cross-entropy plus ``alp_weight`` times the mean squared L2 distance between the clean
  and adversarial logits.
- ``"universal"``: universal adversarial training (Shafahi et al. 2020, Algorithm 2): one
  perturbation ``v`` shared by all images, updated by a signed ascent step of size
  `universal_alpha` from the *same* backward pass that updates the weights (the simultaneous
  min-max), projected onto the eps-ball.
- ``"universal-fp"``: game-theoretic universal adversarial training (Perolat et al. 2018,
  fictitious play): the first epoch trains on clean images; after every epoch the adversary plays a
  best response, a universal perturbation fitted against the current model
  (`robust.attacks.universal.fit_universal_perturbation`), which joins a pool; every later
  minibatch trains on the clean images and on the images each shifted by a perturbation drawn
  uniformly from the pool (the empirical mixture of the adversary's past strategies).
- ``"ibp"``: interval-bound-propagation training (Gowal et al. 2018): ``kappa CE(z, y) +
  (1 - kappa) CE(z_hat, y)`` with ``z_hat_j = -lower bound of (z_y - z_j)`` over the L-inf ball
  (`robust.certify.ibp`). The reference code's schedules: the training radius is 0 for
  `ibp_warmup_steps` minibatch steps, then ramps linearly to ``ibp_eps_factor * eps`` (1.1 x the test
  eps) over `ibp_ramp_steps` steps, while kappa ramps from 1 to `ibp_kappa_final` (0.5); the paper's
  2k warm-up and 10k ramp steps are the defaults (shorten them for short runs).
- ``"ibp-cost"``: cost-sensitive certified training (Zhang & Evans 2019): ``CE(z, y) + cost_alpha
  * log(1 + sum_j C[y, j] exp(u_j))`` with ``u_j`` IBP's upper bound of ``z_j - z_y`` and ``C`` the
  config's `cost_matrix` (`robust.certify.cost`); the radius follows the ``"ibp"`` ramp (their
  bounds are Wong & Kolter's dual network, ours IBP's).
- ``"noise"``: training on ``x + noise_sigma * z`` (Gaussian data augmentation: the base model of
  PixelDP, whose noise layer sits at the input, and of the random-noise defense).

Attack randomness (PGD starts, pool draws) comes from generators seeded by ``train.seed`` and saved
in the checkpoint, so an interrupted run resumes bit-identically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from robust.data import ImageData
from robust.defenses.config import RECIPES, DefenseConfig
from robust.train import EpochCallback, Objective, run_training

__all__ = ["RECIPES", "DefenseConfig", "fit_defense", "load_defense"]


class _PGDObjective(Objective):
    """PGD adversarial training, with logit pairing when ``pairing`` is set."""

    def __init__(self, config: DefenseConfig, pairing: bool) -> None:
        self.config, self.pairing = config, pairing
        self.attack: Any = None

    def setup(self, model: nn.Module, device: torch.device) -> None:
        from robust.attacks.pgd import PGD

        c = self.config
        self.attack = PGD(model, c.eps, c.alpha, c.steps, c.norm, True, seed=c.train.seed)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        x_adv = self.attack(x, y)  # the model in eval mode while attacked, then back in train mode
        adversarial = model(x_adv)
        if not self.pairing:
            return nn.functional.cross_entropy(adversarial, y)
        clean = model(x)
        mixed = 0.5 * (nn.functional.cross_entropy(clean, y) + nn.functional.cross_entropy(adversarial, y))
        return mixed + self.config.alp_weight * (clean - adversarial).pow(2).sum(1).mean()

    def state_dict(self) -> dict[str, Any]:
        return {"attack_generator": self.attack.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.attack.generator.set_state(state["attack_generator"])


class _UniversalObjective(Objective):
    """Shafahi et al.'s simultaneous update of the weights and one universal perturbation."""

    def __init__(self, config: DefenseConfig, shape: tuple[int, ...]) -> None:
        self.config = config
        self.v = torch.zeros(1, *shape)
        self._point: Tensor | None = None

    def setup(self, model: nn.Module, device: torch.device) -> None:
        self.v = self.v.to(device)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        self._point = self.v.clone().requires_grad_(True)
        return nn.functional.cross_entropy(model((x + self._point).clamp(0, 1)), y)

    def after_step(self) -> None:
        assert self._point is not None and self._point.grad is not None
        eps, step = self.config.eps, self.config.universal_alpha
        self.v = (self.v + step * self._point.grad.sign()).clamp(-eps, eps).detach()
        self._point = None

    def end_epoch(self, model: nn.Module, x: Tensor, y: Tensor) -> dict[str, float]:
        from robust.attacks.universal import fooling_rate

        return {"universal_fooling_rate_train": fooling_rate(model, x[: self.config.fp_images], self.v)}

    def state_dict(self) -> dict[str, Any]:
        return {"v": self.v}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.v = state["v"].to(self.v.device)


class _FictitiousPlayObjective(Objective):
    """Perolat et al.'s fictitious play: train against the uniform mixture of past best responses."""

    def __init__(self, config: DefenseConfig) -> None:
        self.config = config
        self.pool: list[Tensor] = []
        self.generator = torch.Generator().manual_seed(config.train.seed)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        clean = nn.functional.cross_entropy(model(x), y)
        if not self.pool:
            return clean
        pick = torch.randint(len(self.pool), (len(x),), generator=self.generator).to(x.device)
        shifted = (x + torch.cat(self.pool)[pick]).clamp(0, 1)
        return 0.5 * (clean + nn.functional.cross_entropy(model(shifted), y))

    def end_epoch(self, model: nn.Module, x: Tensor, y: Tensor) -> dict[str, float]:
        from robust.attacks.universal import fit_universal_perturbation

        c = self.config
        seed = c.train.seed + len(self.pool)
        response = fit_universal_perturbation(
            model, x[: c.fp_images], y[: c.fp_images], c.eps, epochs=c.fp_epochs, seed=seed
        )
        self.pool.append(response.perturbation.detach())
        return {"best_response_fooling_rate_train": response.history[-1]["fooling_rate"]}

    def state_dict(self) -> dict[str, Any]:
        return {"pool": list(self.pool), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pool = list(state["pool"])
        self.generator.set_state(state["generator"])


class _IBPObjective(Objective):
    """Gowal et al.'s IBP loss with the eps and kappa ramps, counted in minibatch steps."""

    def __init__(self, config: DefenseConfig) -> None:
        self.config = config
        self.step = 0

    def schedule(self) -> tuple[float, float]:
        """``(training eps, kappa)`` at the current step."""
        c = self.config
        progress = min(max(self.step - c.ibp_warmup_steps, 0) / c.ibp_ramp_steps, 1.0)
        return progress * c.ibp_eps_factor * c.eps, 1.0 - progress * (1.0 - c.ibp_kappa_final)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        from robust.certify.ibp import margin_lower_bounds

        eps, kappa = self.schedule()
        clean = nn.functional.cross_entropy(model(x), y)
        if eps == 0 or kappa == 1:
            return clean
        worst = -margin_lower_bounds(model, x, y, eps).scatter(1, y[:, None], 0.0)
        return kappa * clean + (1 - kappa) * nn.functional.cross_entropy(worst, y)

    def after_step(self) -> None:
        self.step += 1

    def end_epoch(self, model: nn.Module, x: Tensor, y: Tensor) -> dict[str, float]:
        eps, kappa = self.schedule()
        return {"ibp_train_eps": eps, "ibp_kappa": kappa}

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])


class _CostSensitiveObjective(_IBPObjective):
    """Zhang & Evans' cost-sensitive certified loss on IBP bounds, with the ``"ibp"`` radius ramp."""

    def __init__(self, config: DefenseConfig) -> None:
        super().__init__(config)
        self.cost: Tensor | None = None

    def setup(self, model: nn.Module, device: torch.device) -> None:
        from robust.certify.cost import validate_cost_matrix

        c = self.config
        self.cost = validate_cost_matrix(c.cost_matrix, c.train.model.num_classes).to(device)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        from robust.certify.cost import cost_sensitive_loss

        assert self.cost is not None
        eps, _ = self.schedule()
        clean = nn.functional.cross_entropy(model(x), y)
        if eps == 0:
            return clean
        return clean + self.config.cost_alpha * cost_sensitive_loss(model, x, y, eps, self.cost)

    def end_epoch(self, model: nn.Module, x: Tensor, y: Tensor) -> dict[str, float]:
        return {"ibp_train_eps": self.schedule()[0]}


class _NoiseObjective(Objective):
    """Cross-entropy at Gaussian-noised inputs (draws from a checkpointed generator)."""

    def __init__(self, config: DefenseConfig) -> None:
        self.sigma = config.noise_sigma
        self.generator = torch.Generator().manual_seed(config.train.seed)

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        noise = torch.randn(x.shape, generator=self.generator).to(x.device, x.dtype)
        return nn.functional.cross_entropy(model(x + self.sigma * noise), y)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


def _objective(config: DefenseConfig, data: ImageData) -> Objective:
    if config.recipe in ("pgd", "alp"):
        return _PGDObjective(config, pairing=config.recipe == "alp")
    if config.recipe == "universal":
        return _UniversalObjective(config, data.image_shape)
    if config.recipe == "ibp":
        return _IBPObjective(config)
    if config.recipe == "ibp-cost":
        return _CostSensitiveObjective(config)
    if config.recipe == "noise":
        return _NoiseObjective(config)
    return _FictitiousPlayObjective(config)


def fit_defense(
    data: ImageData,
    config: DefenseConfig,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
    callback: EpochCallback | None = None,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train ``config.train.model`` on ``data`` with the defense ``config.recipe``.

    Returns:
        ``(model, history)`` as `robust.train.fit`; the universal recipes add per-epoch fooling
        rates of the current universal perturbation on the training images.

    Raises:
        InputError: data that does not fit the config; CheckpointMismatchError on resuming with a
            config that differs other than in ``train.epochs``.
    """
    return run_training(
        data, config, config.train, _objective(config, data), checkpoint, device=device, callback=callback
    )


def load_defense(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, DefenseConfig]:
    """The trained model (eval mode) and its `DefenseConfig` from a checkpoint of `fit_defense`."""
    from core.checkpoint import load_checkpoint, load_state_into
    from robust.models import build_model

    saved = load_checkpoint(path, DefenseConfig, map_location=device)
    model = build_model(saved.config.train.model).to(device)
    load_state_into(model, saved.state["model"], source=path)
    return model.eval(), saved.config
