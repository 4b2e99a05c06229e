"""``reproduce robust --only perceptual``: perceptually-aware PGD against plain PGD on the clean CNN.

Table ``perceptual``: at the same mean per-pixel L-inf allowance, robust accuracy and Luo et al.'s
perceptual distance (``sum |delta_i| / SD_i``, 3x3 neighbourhoods) of plain PGD and of PGD whose
budget follows the local standard deviation. Paper finding (Luo et al. 2018): putting the change
where the image is textured keeps the attack effective at a much lower perceptual distance.
Figure: ``examples_perceptual.png`` (original, adversarial, perturbation).
"""

from __future__ import annotations

from pathlib import Path

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks import PGD, PerceptualPGD
from robust.attacks.norms import l2_norm, linf_norm
from robust.attacks.perceptual import perceptual_distance
from robust.evaluate import attack_in_batches
from robust.experiments.models import experiment_data, reference_models
from robust.guard import evaluation_mode
from robust.plots import save_example_grid

__all__ = ["BUDGET", "perceptual"]

BUDGET = {
    "smoke": {"n_test": 200, "steps": 10, "eps": (0.2, 0.3)},
    "full": {"n_test": 1000, "steps": 40, "eps": (0.1, 0.2, 0.3)},
}
"""Test images, steps and mean budgets of each scale."""


def perceptual(options: RunOptions) -> list[ResultTable]:
    """Run plain and perceptually-aware PGD on the CNN; returns the published table."""
    import torch

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("cnn",))
    model = models["cnn"]
    device = next(model.parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    steps = budget["steps"]
    table = ResultTable(
        "perceptual",
        title=f"Perceptually-aware vs plain PGD on the clean CNN ({len(x)} test images, {steps} steps)",
        data=data.describe(),
        notes=(
            "Paper (Luo et al. 2018): budgets shaped by local variation keep attacks effective at a much lower "
            "perceptual distance (sum |delta| / local SD). Both attacks have the same mean per-pixel allowance eps; "
            "alpha = 2.5 eps / steps; plain PGD starts at x (no random start)."
        ),
    )
    for eps in budget["eps"]:
        alpha = 2.5 * eps / steps
        for label, attack in (
            ("PGD", PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=False)),
            ("perceptual PGD", PerceptualPGD(model, eps=eps, alpha=alpha, steps=steps)),
        ):
            x_adv, _ = attack_in_batches(attack, x, y)
            with evaluation_mode(model), torch.no_grad():
                robust = model(x_adv).argmax(1) == y
            table.add(
                attack=label,
                eps=eps,
                robust_accuracy=float(robust.float().mean()),
                linf=float(linf_norm(x_adv - x).mean()),
                l2=float(l2_norm(x_adv - x).mean()),
                perceptual_distance=float(perceptual_distance(x, x_adv).mean()),
            )
            if eps == budget["eps"][-1] and label == "perceptual PGD":
                save_example_grid(
                    x[:8],
                    x_adv[:8],
                    Path(options.out) / "examples_perceptual.png",
                    title=f"Perceptually-aware PGD, mean eps {eps}",
                )
    options.publish(table)
    return [table]
