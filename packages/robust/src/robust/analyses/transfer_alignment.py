"""Why adversarial examples transfer (Demontis et al. 2019): gradient size and gradient alignment.

For a surrogate (source) model ``s`` and a target ``t``, a first-order expansion of the target's loss
under the surrogate's L-inf FGSM step ``eps sign(g_s)`` gives ``Delta L_t ~ eps g_t . sign(g_s)``, so
transfer grows with the target's gradient size ``||g_t||_1`` and with the alignment of the two input
gradients (`gradient_alignment`, the cosine of ``g_s`` and ``g_t``). `study` trains MLPs of different
widths and weight decays and a linear model on the digits, and relates every ordered pair's transfer
rate to both quantities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["ALIGNMENT", "gradient_alignment", "input_gradient", "study"]

ALIGNMENT = {
    "smoke": {"widths": (0, 64, 256), "decays": (0.0, 1e-3, 1e-2), "epochs": 30, "eps": 0.1, "steps": 10},
    "full": {
        "widths": (0, 32, 128, 512),
        "decays": (0.0, 1e-4, 1e-3, 1e-2, 3e-2),
        "epochs": 100,
        "eps": 0.1,
        "steps": 20,
    },
}
"""Hidden widths (0 = linear softmax regression; else two hidden layers), L2 weight decays, epochs,
L-inf eps of the transferred attack (BIM from the surrogate), BIM steps."""


def input_gradient(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """``(n, ...)``: gradient of each example's cross-entropy loss with respect to its input."""
    x = x.detach().clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    return grad.detach()


def gradient_alignment(source: nn.Module, target: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """``(n,)`` cosine between the two models' input gradients of the loss at each ``(x_i, y_i)``."""
    a, b = input_gradient(source, x, y).flatten(1), input_gradient(target, x, y).flatten(1)
    return nn.functional.cosine_similarity(a, b, dim=1, eps=1e-20)


def study(options: RunOptions) -> list[ResultTable]:
    """Transfer rate of every ordered pair against target gradient size and pair alignment."""
    from scipy.stats import spearmanr

    from core.plots import new_figure, save_figure
    from robust.analyses.small import mlp, train_classifier
    from robust.attacks import BIM
    from robust.data import load_dataset

    budget = ALIGNMENT[options.scale]
    data = load_dataset("digits")
    models: dict[str, nn.Module] = {}
    for i, width in enumerate(budget["widths"]):
        for j, decay in enumerate(budget["decays"]):
            model = mlp(64, (width, width) if width else (), data.num_classes, seed=options.seed + 10 * i + j)
            train_classifier(
                model, data.x_train, data.y_train, epochs=budget["epochs"], weight_decay=decay, seed=i
            )
            models[f"{'linear' if not width else f'mlp{width}'} wd{decay:g}"] = model
    x, y = data.x_test, data.y_test
    eps = budget["eps"]
    adversarial = {
        name: BIM(model, eps=eps, alpha=eps / 4, steps=budget["steps"])(x, y)
        for name, model in models.items()
    }
    gradients = {name: input_gradient(model, x, y).flatten(1) for name, model in models.items()}
    table = ResultTable(
        "transfer_alignment",
        title="Demontis et al.: transfer rate against target gradient size and surrogate-target alignment",
        data=data.describe(),
        notes=(
            f"L-inf BIM eps {eps}, {budget['steps']} steps on the surrogate; transfer = share of target-correct "
            "test points the target misclassifies; size = mean ||grad_x loss_target||_1; alignment = mean "
            "cosine of the two input gradients. Paper (summary sec. 14): transfer grows with the target's "
            "gradient size (smaller with stronger regularisation) and with gradient alignment."
        ),
    )
    for source, x_adv in adversarial.items():
        for target, model in models.items():
            if source == target:
                continue
            with torch.no_grad():
                correct = model(x).argmax(1) == y
                fooled = (model(x_adv).argmax(1) != y) & correct
            cosine = nn.functional.cosine_similarity(gradients[source], gradients[target], dim=1, eps=1e-20)
            table.add(
                source=source,
                target=target,
                transfer_rate=float(fooled.sum() / correct.sum().clamp_min(1)),
                target_gradient_l1=float(gradients[target].abs().sum(1).mean()),
                alignment=float(cosine.mean()),
            )
    options.publish(table)
    rate = np.array([row["transfer_rate"] for row in table.rows])
    summary = ResultTable(
        "transfer_alignment_correlation",
        title="Demontis et al.: Spearman correlation of transfer rate with each factor over model pairs",
        data=data.describe(),
    )
    for factor in ("target_gradient_l1", "alignment"):
        rho, pvalue = spearmanr([row[factor] for row in table.rows], rate)
        summary.add(factor=factor, pairs=len(rate), spearman_rho=float(rho), p_value=float(pvalue))
    options.publish(summary)
    figure = new_figure(9, 3.6)
    for k, factor in enumerate(("target_gradient_l1", "alignment")):
        axis = figure.add_subplot(1, 2, k + 1)
        axis.scatter([row[factor] for row in table.rows], rate, s=10)
        axis.set(xlabel=factor, ylabel="transfer rate", xscale="log" if k == 0 else "linear")
    save_figure(figure, Path(options.out) / "transfer_alignment.png")
    return [table, summary]
