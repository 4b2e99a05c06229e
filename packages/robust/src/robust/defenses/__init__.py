"""Defenses (robust issue 2): training recipes and wrapped models.

- Training recipes (`robust.defenses.training`): `DefenseConfig`, `fit_defense`, `load_defense`
  with PGD adversarial training, adversarial logit pairing, universal adversarial training and
  its game-theoretic (fictitious-play) variant, and IBP certified training.
- Wrapped models (`robust.defenses.noise`): `RandomNoise` (Gaussian input noise, majority vote)
  and `GaussianNoise` (one noisy draw per forward, for EOT attacks).
- `robust.defenses.weight_noise`: `WeightPerturbationEnsemble` (mean softmax of Gaussian
  weight-perturbed copies of a network; Zhou et al.).
- `robust.defenses.purify`: `PixelDeflection` (random local pixel redistribution + Haar
  soft-threshold denoising; Prakash et al.) and `Defended(model, transform)`.
- Detectors (`robust.defenses.dknn`): `DkNN` (deep k-nearest neighbours with conformal
  credibility; `reject(x)` abstains below a credibility threshold); (`robust.defenses.dustbin`)
  `Dustbin` (a network with an extra out-distribution class; Abbasi & Gagné), its adaptive attack
  `DustbinAwarePGD`, NotMNIST-like letters `render_letters` and `with_dustbin` data.

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from robust.defenses.config import RECIPES, DefenseConfig
    from robust.defenses.dknn import DkNN
    from robust.defenses.dustbin import Dustbin, DustbinAwarePGD, render_letters, with_dustbin
    from robust.defenses.noise import GaussianNoise, RandomNoise
    from robust.defenses.purify import Defended, PixelDeflection
    from robust.defenses.training import fit_defense, load_defense
    from robust.defenses.weight_noise import WeightPerturbationEnsemble

_WHERE = {
    **dict.fromkeys(("RECIPES", "DefenseConfig"), "robust.defenses.config"),
    **dict.fromkeys(("fit_defense", "load_defense"), "robust.defenses.training"),
    **dict.fromkeys(("GaussianNoise", "RandomNoise"), "robust.defenses.noise"),
    "DkNN": "robust.defenses.dknn",
    **dict.fromkeys(
        ("Dustbin", "DustbinAwarePGD", "render_letters", "with_dustbin"), "robust.defenses.dustbin"
    ),
    **dict.fromkeys(("Defended", "PixelDeflection"), "robust.defenses.purify"),
    "WeightPerturbationEnsemble": "robust.defenses.weight_noise",
}

__all__ = [
    "RECIPES",
    "Defended",
    "DefenseConfig",
    "DkNN",
    "Dustbin",
    "DustbinAwarePGD",
    "GaussianNoise",
    "PixelDeflection",
    "RandomNoise",
    "WeightPerturbationEnsemble",
    "fit_defense",
    "load_defense",
    "render_letters",
    "with_dustbin",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
