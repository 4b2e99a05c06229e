"""The attack library: one registry of named attacks with one call signature.

``make_attack(name, model, **budget)`` builds any of them; every attack is called as
``attack(x, y) -> x_adv`` and reports ``attack.cost_`` (gradient calls or queries per example).

=========  =====================================================  ==========================
name       attack                                                 paper
=========  =====================================================  ==========================
fgsm       `FGSM`                                                 Goodfellow et al. 2015
bim        `BIM` (I-FGSM)                                         Kurakin et al. 2017
pgd        `PGD` L-inf with random start (``norm="l2"`` for L2)   Madry et al. 2018
pgd-l2     `PGDL2`                                                Madry et al. 2018
mifgsm     `MIFGSM` (momentum)                                    Dong et al. 2018
difgsm     `DIFGSM` (input diversity)                             Xie et al. 2019
nes        `NES` query-limited; ``frequency="low"``: LF-NES        Ilyas et al. 2018; Guo et al. 2019
boundary   `BoundaryAttack`; ``frequency="low"``: LF-BA            Brendel et al. 2018; Guo et al. 2019
spatial    `SpatialGrid` rotation/translation grid or worst-of-k   Engstrom et al. 2019
perceptual-pgd `PerceptualPGD` budget from local pixel variation   Luo et al. 2018
adef       `ADef` iterative smooth deformations (DeepFool-style)   Alaifari et al. 2019
stadv      `StAdv` flow field with the flow-smoothness loss            Xiao et al. 2018
deepfool   `DeepFool` minimal L2 step to the linearised boundary     Moosavi-Dezfooli et al. 2016
second-order `SecondOrder` L2 PGD on noise-averaged gradients      Li et al. 2018
=========  =====================================================  ==========================

`BPDA` (a module) and `EOT` (a wrapper of any gradient attack) adapt these attacks to
non-differentiable and randomised defenses (Athalye et al. 2018).
"""

from __future__ import annotations

import inspect

from torch import nn

from core.errors import InputError
from robust.attacks.adaptive import BPDA, EOT
from robust.attacks.adef import ADef
from robust.attacks.base import Attack
from robust.attacks.boundary import BoundaryAttack
from robust.attacks.deepfool import DeepFool
from robust.attacks.diverse import DIFGSM
from robust.attacks.fgsm import FGSM
from robust.attacks.momentum import MIFGSM
from robust.attacks.nes import NES
from robust.attacks.perceptual import PerceptualPGD
from robust.attacks.pgd import BIM, PGD, PGDL2
from robust.attacks.second_order import SecondOrder
from robust.attacks.spatial import SpatialGrid
from robust.attacks.stadv import StAdv

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
    "ADef",
    "Attack",
    "BoundaryAttack",
    "DeepFool",
    "PerceptualPGD",
    "SecondOrder",
    "SpatialGrid",
    "StAdv",
    "make_attack",
]

ATTACKS: dict[str, type[Attack]] = {
    cls.name: cls
    for cls in (
        FGSM,
        BIM,
        PGD,
        PGDL2,
        MIFGSM,
        DIFGSM,
        NES,
        BoundaryAttack,
        SpatialGrid,
        PerceptualPGD,
        StAdv,
        ADef,
        DeepFool,
        SecondOrder,
    )
}
"""Attack classes by registry name."""


def make_attack(name: str, model: nn.Module, **budget: object) -> Attack:
    """The attack registered as `name` on `model` with `budget` (its constructor's keyword arguments).

    Raises:
        InputError: an unknown attack name (listing the known ones), a budget parameter the
            attack does not take (listing those it does), or a budget value it refuses.
    """
    cls = ATTACKS.get(name)
    if cls is None:
        raise InputError("unknown attack", item=name, expected=", ".join(ATTACKS))
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "model")]
    unknown = [key for key in budget if key not in accepted]
    if unknown:
        raise InputError(f"attack {name!r} takes no parameter {unknown[0]!r}", expected=", ".join(accepted))
    return cls(model, **budget)  # type: ignore[arg-type]
