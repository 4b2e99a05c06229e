"""``reproduce robust --only universal``: universal perturbations of the clean CNN, on held-out images.

Table ``universal``: for each L-inf eps, the fooling rate (share of held-out test images whose
label changes; Moosavi-Dezfooli et al. 2017) of one perturbation fitted on training images with
Shafahi et al.'s SGD generator and one built by Moosavi-Dezfooli et al.'s DeepFool algorithm, beside a
random-sign perturbation of the same size. Paper finding:
a single image-agnostic perturbation fools most images, far more than random noise of the same norm.
Figure: ``universal_perturbations.png``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from robust.attacks.universal import fit_deepfool_universal, fit_universal_perturbation, fooling_rate
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "universal"]

BUDGET = {
    "smoke": {"n_fit": 1000, "epochs": 3, "eps": (0.1, 0.2, 0.3), "deepfool_fit": 500, "deepfool_passes": 2},
    "full": {
        "n_fit": 4000,
        "epochs": 10,
        "eps": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
        "deepfool_fit": 2000,
        "deepfool_passes": 5,
    },
}
"""Training images the perturbation is fitted on, passes over them, and the eps grid; images and
passes of Moosavi-Dezfooli et al.'s DeepFool construction (DeepFool batches of 50)."""


def universal(options: RunOptions) -> list[ResultTable]:
    """Fit and evaluate universal perturbations of the CNN; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("cnn",))
    model = models["cnn"]
    device = next(model.parameters()).device
    x_fit, y_fit = data.x_train[: budget["n_fit"]].to(device), data.y_train[: budget["n_fit"]].to(device)
    x_test = data.x_test.to(device)
    table = ResultTable(
        "universal",
        title=f"Universal perturbations of the clean CNN (fitted on {len(x_fit)} train images, fooling rate on {len(x_test)} test images)",
        data=data.describe(),
        notes=(
            "Paper (Moosavi-Dezfooli et al. 2017; Shafahi et al. 2020): one image-agnostic perturbation fools most "
            "images, far more than random noise of the same norm. Generator: signed SGD on the clipped "
            f"cross-entropy, {budget['epochs']} epochs, batch 100, alpha eps/10."
        ),
    )
    figure = new_figure(1.6 * len(budget["eps"]), 1.9)
    generator = torch.Generator().manual_seed(options.seed)
    for i, eps in enumerate(budget["eps"]):
        result = fit_universal_perturbation(
            model, x_fit, y_fit, eps, epochs=budget["epochs"], seed=options.seed
        )
        deepfool = fit_deepfool_universal(
            model,
            x_fit[: budget["deepfool_fit"]],
            eps,
            max_passes=budget["deepfool_passes"],
            batch_size=50,
            seed=options.seed,
        )
        noise = eps * torch.sign(torch.randn(result.perturbation.shape, generator=generator)).to(device)
        table.add(
            eps=eps,
            fooling_rate_train=result.history[-1]["fooling_rate"],
            fooling_rate_test=fooling_rate(model, x_test, result.perturbation),
            deepfool_fooling_rate_test=fooling_rate(model, x_test, deepfool.perturbation),
            random_sign_fooling_rate_test=fooling_rate(model, x_test, noise),
            gradient_calls=result.gradient_calls,
            deepfool_image_gradient_calls=deepfool.gradient_calls,
        )
        axis = figure.add_subplot(1, len(budget["eps"]), i + 1)
        image = result.perturbation[0].mean(0).cpu().numpy()
        axis.imshow(image, cmap="seismic", vmin=-eps, vmax=eps)
        axis.set_title(f"eps {eps}", fontsize=7)
        axis.set_xticks([])
        axis.set_yticks([])
    options.publish(table)
    save_figure(figure, Path(options.out) / "universal_perturbations.png")
    return [table]
