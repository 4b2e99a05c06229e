"""`evaluate`: the clean / adversarial accuracy table every robust experiment reports.

One row per attack: the clean accuracy of the model on the examples, the robust accuracy (the
fraction still classified correctly after the attack), the attack's success rate on the examples
the model got right, the mean cost per example (gradient calls or queries) and the mean L-inf /
L2 size of the perturbations; with ``verify=True`` the L-inf rows also get the IBP-verified
accuracy at the attack's eps. A model that can abstain (a detector: any module with a
``reject(x) -> (n,) bool`` method, e.g. `robust.defenses.DkNN`) also gets the rejection columns:
rejection rate on the clean and on the adversarial inputs, and accuracy on the accepted ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from core.errors import InputError
from core.results import ResultTable
from robust.attacks import Attack, make_attack
from robust.attacks.norms import l2_norm, linf_norm
from robust.data import ImageData
from robust.guard import evaluation_mode

__all__ = ["AttackSpec", "attack_in_batches", "can_reject", "evaluate", "rejection_columns"]

AttackSpec = Attack | str | tuple[str, dict[str, Any]]
"""An attack instance, a registry name, or ``(name, budget)``."""


def attack_in_batches(attack: Attack, x: Tensor, y: Tensor, batch_size: int = 256) -> tuple[Tensor, Tensor]:
    """Run `attack` over ``x (n, ...)``, ``y (n,)`` in batches; returns ``(x_adv, cost (n,))``."""
    adversarial, costs = [], []
    for start in range(0, len(x), batch_size):
        adversarial.append(attack(x[start : start + batch_size], y[start : start + batch_size]))
        costs.append(attack.cost_)
    return torch.cat(adversarial), torch.cat(costs)


def can_reject(model: nn.Module) -> bool:
    """True when `model` is a detector: it has a callable ``reject(x) -> (n,) bool``."""
    return callable(getattr(model, "reject", None))


def rejection_columns(
    rejected_clean: Tensor, correct: Tensor, rejected_adversarial: Tensor, robust: Tensor
) -> dict[str, float]:
    """The rejection part of an evaluation row, from ``(n,)`` bool masks.

    Returns ``clean_rejection_rate``, ``adversarial_rejection_rate``, ``accepted_clean_accuracy``
    and ``accepted_robust_accuracy`` (accuracy among the accepted clean / adversarial inputs; NaN
    when none is accepted) and ``robust_or_rejected`` (adversarial inputs either classified
    correctly or rejected: the detector's success against the attack).
    """

    def among_accepted(right: Tensor, rejected: Tensor) -> float:
        accepted = ~rejected
        return float((right & accepted).sum() / accepted.sum()) if accepted.any() else float("nan")

    return {
        "clean_rejection_rate": float(rejected_clean.float().mean()),
        "adversarial_rejection_rate": float(rejected_adversarial.float().mean()),
        "accepted_clean_accuracy": among_accepted(correct, rejected_clean),
        "accepted_robust_accuracy": among_accepted(robust, rejected_adversarial),
        "robust_or_rejected": float((robust | rejected_adversarial).float().mean()),
    }


def evaluate(
    model: nn.Module,
    data: ImageData | tuple[Tensor, Tensor],
    attacks: Sequence[AttackSpec],
    *,
    limit: int | None = None,
    batch_size: int = 256,
    name: str = "evaluation",
    verify: bool = False,
    attack_model: nn.Module | None = None,
) -> ResultTable:
    """Clean and adversarial accuracy of `model` under each attack, on the test split of `data`.

    Args:
        model: classifier returning logits.
        data: an `ImageData` (its test split is used) or ``(x (n, c, h, w), y (n,))``.
        attacks: attack instances, registry names or ``(name, budget)`` pairs.
        limit: evaluate only the first `limit` test examples.
        batch_size: examples per attack call.
        name: the table's name.
        verify: add ``verified_accuracy`` (IBP certificate, `robust.certify`) to the rows of L-inf
            attacks with an ``eps`` (the model must be an ``nn.Sequential`` IBP supports).
        attack_model: the model attacks given by name are built on (default `model`): the base
            network of a non-differentiable defense, whose adversarial examples transfer to it.

    Returns:
        A `ResultTable` with one row per attack: ``attack``, its budget, ``clean_accuracy``,
        ``robust_accuracy``, ``success_rate`` (among correctly classified examples), ``cost``
        (mean per example), ``cost_unit``, ``linf``, ``l2`` (mean perturbation sizes), ``n``;
        for a detector (`can_reject`) also the `rejection_columns`.

    Raises:
        InputError: no attacks, a bad attack spec, or bad images/labels (from the attack).
    """
    if isinstance(data, ImageData):
        x, y, source = data.x_test, data.y_test, data.describe()
    else:
        x, y = data
        source = f"{len(x)} given images"
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if not attacks:
        raise InputError("evaluate needs at least one attack")
    built = [_build(spec, model if attack_model is None else attack_model) for spec in attacks]
    detector = can_reject(model)
    with evaluation_mode(model), torch.no_grad():
        correct = (
            torch.cat([model(x[s : s + batch_size]).argmax(1) for s in range(0, len(x), batch_size)]) == y
        )
        rejected_clean = _rejected(model, x, batch_size) if detector else None
    table = ResultTable(name, title=f"Clean and adversarial accuracy ({len(x)} test images)", data=source)
    for attack in built:
        x_adv, cost = attack_in_batches(attack, x, y, batch_size)
        with evaluation_mode(model), torch.no_grad():
            predicted = torch.cat(
                [model(x_adv[s : s + batch_size]).argmax(1) for s in range(0, len(x), batch_size)]
            )
            rejected_adversarial = _rejected(model, x_adv, batch_size) if detector else None
        robust = predicted == y
        delta = x_adv - x
        table.add(
            attack=attack.name,
            **attack.budget(),
            clean_accuracy=float(correct.float().mean()),
            robust_accuracy=float(robust.float().mean()),
            success_rate=float((correct & ~robust).sum() / correct.sum().clamp_min(1)),
            cost=float(cost.float().mean()),
            cost_unit=attack.cost_unit,
            linf=float(linf_norm(delta).mean()),
            l2=float(l2_norm(delta).mean()),
            n=len(x),
        )
        if rejected_clean is not None and rejected_adversarial is not None:
            table.rows[-1].update(
                rejection_columns(rejected_clean, correct.cpu(), rejected_adversarial, robust.cpu())
            )
        budget = attack.budget()
        if verify and budget.get("norm") == "linf" and "eps" in budget:
            from robust.certify import verified_accuracy

            table.rows[-1]["verified_accuracy"] = verified_accuracy(
                model, x, y, float(budget["eps"]), batch_size
            )
    return table


def _rejected(model: nn.Module, x: Tensor, batch_size: int) -> Tensor:
    masks = [model.reject(x[s : s + batch_size]) for s in range(0, len(x), batch_size)]
    return torch.cat(masks).to(torch.bool).cpu() if masks else torch.zeros(0, dtype=torch.bool)


def _build(spec: AttackSpec, model: nn.Module) -> Attack:
    if isinstance(spec, Attack):
        return spec
    if isinstance(spec, str):
        return make_attack(spec, model)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], dict):
        return make_attack(spec[0], model, **spec[1])
    raise InputError("an attack must be an Attack, a registry name or (name, budget)", item=repr(spec))
