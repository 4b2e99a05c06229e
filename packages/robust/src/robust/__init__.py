"""robust: adversarial robustness — a torchattacks-like attack library on real digits.

Public API (loaded on first use, so ``import robust`` and ``robust --help`` never import torch):

- attacks: `ATTACKS`, `make_attack`, `Attack`, `FGSM`, `BIM`, `PGD`, `PGDL2`, `MIFGSM`, `DIFGSM`,
  `NES`, `BoundaryAttack`, `SpatialGrid`, and the adaptive wrappers `BPDA`, `EOT` (``robust.attacks``;
  universal perturbations in ``robust.attacks.universal``);
- `evaluate` (the clean/adversarial accuracy table);
- data: `load_dataset`, `ImageData`, `load_mnist_idx`, `load_cifar10` (``robust.data``);
- models and training: `ModelConfig`, `build_model`, `TrainConfig`, `fit`, `load_model`;
- defenses (``robust.defenses``: `DefenseConfig`, `fit_defense`, `RandomNoise`, the `DkNN` detector), certificates
  (``robust.certify``: IBP, PixelDP), the differentiable renderer (``robust.render``) and the
  physical attacks (``robust.attacks.physical``).

See the package README for what exists and what is planned (the rest of the defenses, analyses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from robust.attacks import (
        ATTACKS,
        BIM,
        BPDA,
        DIFGSM,
        EOT,
        FGSM,
        MIFGSM,
        NES,
        PGD,
        PGDL2,
        Attack,
        BoundaryAttack,
        SpatialGrid,
        make_attack,
    )
    from robust.config import ModelConfig, TrainConfig
    from robust.data import ImageData, load_cifar10, load_dataset, load_mnist_idx
    from robust.evaluate import evaluate
    from robust.models import build_model
    from robust.train import fit, load_model

_ATTACK_NAMES = (
    "ATTACKS",
    "BIM",
    "BPDA",
    "DIFGSM",
    "EOT",
    "FGSM",
    "MIFGSM",
    "NES",
    "PGD",
    "PGDL2",
    "Attack",
    "BoundaryAttack",
    "SpatialGrid",
    "make_attack",
)

_WHERE = {
    **dict.fromkeys(_ATTACK_NAMES, "robust.attacks"),
    **dict.fromkeys(("ImageData", "load_cifar10", "load_dataset", "load_mnist_idx"), "robust.data"),
    "evaluate": "robust.evaluate",
    "ModelConfig": "robust.config",
    "TrainConfig": "robust.config",
    "build_model": "robust.models",
    "fit": "robust.train",
    "load_model": "robust.train",
}

__all__ = [
    "ATTACKS",
    "BIM",
    "BPDA",
    "DIFGSM",
    "EOT",
    "FGSM",
    "MIFGSM",
    "NES",
    "PGD",
    "PGDL2",
    "Attack",
    "BoundaryAttack",
    "ImageData",
    "ModelConfig",
    "SpatialGrid",
    "TrainConfig",
    "build_model",
    "evaluate",
    "fit",
    "load_cifar10",
    "load_dataset",
    "load_mnist_idx",
    "load_model",
    "make_attack",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
