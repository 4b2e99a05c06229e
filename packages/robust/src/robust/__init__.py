"""robust: adversarial robustness — a torchattacks-like attack library on real digits.

Public API (loaded on first use, so ``import robust`` and ``robust --help`` never import torch):

- attacks: `ATTACKS`, `make_attack`, `Attack`, `FGSM`, `BIM`, `PGD`, `PGDL2`, `MIFGSM`, `DIFGSM`,
  and the adaptive wrappers `BPDA`, `EOT` (``robust.attacks``);
- `evaluate` (the clean/adversarial accuracy table);
- data: `load_dataset`, `ImageData`, `load_mnist_idx`, `load_cifar10` (``robust.data``);
- models and training: `ModelConfig`, `build_model`, `TrainConfig`, `fit`, `load_model`.

See the package README for what exists and what is planned (defenses, certificates, analyses).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from robust.attacks import ATTACKS, BIM, BPDA, DIFGSM, EOT, FGSM, MIFGSM, PGD, PGDL2, Attack, make_attack
    from robust.data import ImageData, load_cifar10, load_dataset, load_mnist_idx
    from robust.evaluate import evaluate
    from robust.models import ModelConfig, build_model
    from robust.train import TrainConfig, fit, load_model

_WHERE = {
    **{
        name: "robust.attacks"
        for name in (
            "ATTACKS",
            "BIM",
            "BPDA",
            "DIFGSM",
            "EOT",
            "FGSM",
            "MIFGSM",
            "PGD",
            "PGDL2",
            "Attack",
            "make_attack",
        )
    },
    **{name: "robust.data" for name in ("ImageData", "load_cifar10", "load_dataset", "load_mnist_idx")},
    "evaluate": "robust.evaluate",
    "ModelConfig": "robust.models",
    "build_model": "robust.models",
    "TrainConfig": "robust.train",
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
    "PGD",
    "PGDL2",
    "Attack",
    "ImageData",
    "ModelConfig",
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'robust' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
